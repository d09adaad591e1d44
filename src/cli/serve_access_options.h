/*
 * sockserv serve's access options: --allow, --deny, --allow-file,
 * --max-per-source, --source-prefix6 and --connect-rate, server-wide. A
 * listener's query (core/listener_query.h) overrides them for itself.
 */
#ifndef SOCKSERV_CLI_SERVE_ACCESS_OPTIONS_H
#define SOCKSERV_CLI_SERVE_ACCESS_OPTIONS_H

#include "cli/serve_options.h"

/* Their getopt codes, from the access range. */
enum serve_access_option {
    SERVE_OPT_ALLOW = SERVE_OPT_ACCESS + 1,
    SERVE_OPT_DENY,
    SERVE_OPT_ALLOW_FILE,
    SERVE_OPT_MAX_PER_SOURCE,
    SERVE_OPT_SOURCE_PREFIX6,
    SERVE_OPT_CONNECT_RATE,
};

/* Takes one of them: 0, -1 after a usage error (printed), or 1 when ch is
 * another group's. */
int take_access_option(int ch, const char *arg, struct serve_options *opt);

/* Their lines of --help. */
void print_access_help(void);

#endif
