/* --request-timeout and --overflow (cli/serve_timeout_options.h). */
#include "cli/serve_timeout_options.h"

#include <string.h>

#include "cli/args.h"
#include "core/listener_query.h"

/* --request-timeout: a duration above 0, or off. */
static int parse_request_timeout(const char *arg, struct serve_options *opt)
{
    char why[128];
    if (limit_parse_timeout(arg, &opt->config.request_timeout_ms, why, sizeof(why)) != 0)
        return cli_usage_error("serve", "bad --request-timeout '%s': %s", arg, why), -1;
    return 0;
}

int take_timeout_option(int ch, const char *arg, struct serve_options *opt)
{
    switch (ch) {
    case SERVE_OPT_REQUEST_TIMEOUT:
        return parse_request_timeout(arg, opt);
    case SERVE_OPT_OVERFLOW:
        if (strcmp(arg, "wait") != 0 && strcmp(arg, "refuse") != 0)
            return cli_usage_error("serve", "bad --overflow '%s': expected wait or refuse", arg),
                   -1;
        opt->overflow_refuse = strcmp(arg, "refuse") == 0;
        return 0;
    default:
        return SERVE_OPTION_NOT_MINE;
    }
}
