/*
 * What a bench run shows: a live line while it runs, then either a summary
 * for people or one JSON object for programs (schema in docs/bench-json.md).
 * Latencies are printed in microseconds, rates per second of elapsed time,
 * and megabytes are 10^6 bytes, sent and received together.
 */
#ifndef SOCKSERV_LOADGEN_REPORT_H
#define SOCKSERV_LOADGEN_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "loadgen/loadgen.h"

/* The schema's name; bumped when a field changes meaning or goes away. */
#define BENCH_JSON_SCHEMA "sockserv-bench/1"

void bench_report_text(FILE *out, const struct bench_config *cfg, const struct bench_stats *s);
void bench_report_json(FILE *out, const struct bench_config *cfg, const struct bench_stats *s);

/* --hold's announcement, one line (a JSON object when json): what is held
 * now. The final report repeats it. */
void bench_report_held(FILE *out, const struct bench_held *held, bool json);

/* --chat-receive's announcement: every member is in the room (or failed). */
void bench_report_joined(FILE *out, const struct bench_held *held, bool json);

struct bench_live {
    double elapsed_s;
    double requests_per_s; /* Over the last interval. */
    int64_t p99_ns;        /* Of the whole run so far. */
    uint64_t connections_up;
    uint32_t connections;
    uint64_t errors;
};

/* Rewrites the live line in place (a terminal is assumed). */
void bench_report_live(FILE *out, const struct bench_live *live);

/* Erases the live line, so the summary starts on a clean line. */
void bench_report_live_clear(FILE *out);

#endif
