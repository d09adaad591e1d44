/*
 * What every subcommand's command line shares: the one-line usage error and
 * strict parsers for counts, durations and timeouts, so that each subcommand
 * reads and reports its options alike; and the set-up the clients share.
 */
#ifndef SOCKSERV_ARGS_H
#define SOCKSERV_ARGS_H

#include <stdarg.h>
#include <stdint.h>

/* Prints "sockserv COMMAND: MESSAGE (see sockserv COMMAND --help)" and
 * returns EXIT_USAGE. */
int cli_usage_error(const char *command, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The same, for callers that hold a va_list. */
int cli_vusage_error(const char *command, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* The usage error for getopt_long's ':' (missing value) and '?' (unknown
 * option) results; returns EXIT_USAGE. */
int cli_option_error(const char *command, int getopt_result, char **argv);

/* A whole decimal number in min..max: no sign, no spaces, no junk. */
int cli_parse_number(const char *text, unsigned long long min, unsigned long long max,
                     unsigned long long *out);

/* A duration (core/duration.h); on failure prints the usage error naming
 * option and returns -1. */
int cli_parse_duration(const char *command, const char *option, const char *text, int64_t *out_ms);

/* A duration that bounds a wait, so 0 is refused too. */
int cli_parse_timeout(const char *command, const char *option, const char *text, int64_t *out_ms);

/* Ignores SIGPIPE, so that a peer that closes early is reported instead of
 * killing the process. Returns 0, or EXIT_RUNTIME after printing why not. */
int cli_ignore_sigpipe(const char *command);

#endif
