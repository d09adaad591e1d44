/*
 * sockserv serve's --request-timeout and --overflow: how long a line
 * service waits for the end of a line, and what becomes of clients beyond
 * --max-conns. One option group of serve_options.c (getopt codes from
 * SERVE_OPT_TIMEOUTS).
 */
#ifndef SOCKSERV_CLI_SERVE_TIMEOUT_OPTIONS_H
#define SOCKSERV_CLI_SERVE_TIMEOUT_OPTIONS_H

#include "cli/serve_options.h"

#define SERVE_OPT_REQUEST_TIMEOUT (SERVE_OPT_TIMEOUTS + 1)
#define SERVE_OPT_OVERFLOW (SERVE_OPT_TIMEOUTS + 2)

/* Longer than anyone takes to type one line, even a key at a time. */
#define DEFAULT_REQUEST_TIMEOUT_MS (60 * 1000)

/* Takes --request-timeout or --overflow into opt: 0, -1 after a one-line
 * usage error, or SERVE_OPTION_NOT_MINE for any other option. */
int take_timeout_option(int ch, const char *arg, struct serve_options *opt);

#endif
