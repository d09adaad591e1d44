/*
 * One bench event loop: a share of the connections, driven from one thread
 * with epoll. bench_run (run.c) makes one per --threads and merges their
 * counts; a loop shares nothing with the others but the start time and the
 * stop latch, so loops never lock.
 */
#ifndef SOCKSERV_LOADGEN_LOOP_H
#define SOCKSERV_LOADGEN_LOOP_H

#include <stddef.h>
#include <stdint.h>

#include "loadgen/loadgen.h"

struct bench_loop;

struct bench_loop_share {
    uint32_t first_number; /* Of its first connection, for "{n}". */
    uint32_t connections;
    uint64_t requests;   /* Its part of --requests; 0: no limit. */
    double rate;         /* Its part of --rate; 0: closed loop. */
    double connect_rate; /* Its part of --connect-rate; 0: no limit. */
    int64_t start_ns;    /* The common start, so every loop ends together. */
};

/* What the live progress line shows, as of the loop's last update. */
struct bench_progress {
    uint64_t ok;
    uint64_t errors;
    uint64_t connections_up;
    int64_t p99_ns;
};

/* Returns NULL with a reason in err when memory or epoll runs out. */
struct bench_loop *bench_loop_create(const struct bench_config *cfg,
                                     const struct bench_loop_share *share, char *err,
                                     size_t errlen);

/* Runs to the end of the run; returns 0, or -1 when epoll itself fails. */
int bench_loop_run(struct bench_loop *l);

/* The counts; complete once bench_loop_run has returned. */
const struct bench_stats *bench_loop_stats(const struct bench_loop *l);

/* A snapshot for the progress line; safe from any thread while running. */
void bench_loop_progress(const struct bench_loop *l, struct bench_progress *out);

/* Closes every socket and frees. */
void bench_loop_free(struct bench_loop *l);

#endif
