/*
 * sockserv bench's command line: its options, their defaults, --help, and
 * the checks of the command line as a whole. bench.c runs what they ask.
 */
#ifndef SOCKSERV_CLI_BENCH_OPTIONS_H
#define SOCKSERV_CLI_BENCH_OPTIONS_H

#include <stdbool.h>

#include "loadgen/loadgen.h"

#define DEFAULT_CONNECTIONS 50
#define DEFAULT_DURATION_MS 10000
#define DEFAULT_SIZE 128
#define DEFAULT_TIMEOUT_MS 5000
#define RATE_MAX 1e9

struct bench_options {
    struct bench_config cfg;
    bool json;
    bool expect_given;
    bool size_given;
    bool hold_requests_given;
    bool per_source_given;
    bool chat_receive;
    const char *progress_path;
};

/* Prints "sockserv bench: MESSAGE (see sockserv bench --help)"; returns -1. */
int bench_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Reads the options of argv into o. Returns the index of the URL argument,
 * -1 after a usage error (already printed), or -2 once --help or --version
 * has been answered.
 */
int bench_parse_options(int argc, char **argv, struct bench_options *o);

/* Reads the URL and runs every check on the command line as a whole.
 * Returns 0 or EXIT_USAGE. */
int bench_check_command_line(struct bench_options *o, const char *url);

#endif
