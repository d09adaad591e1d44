/* sockserv serve's access options (see serve_access_options.h). */
#include "cli/serve_access_options.h"

#include <stdio.h>

#include "cli/args.h"
#include "core/listener_query.h"

void print_access_help(void)
{
    printf("\naccess control and limits (TCP; --allow and --deny also UDP):\n"
           "      --allow CIDR[,CIDR...]\n"
           "                        serve only these clients (IPv4 or IPv6, repeatable);\n"
           "                        the most specific rule wins, and deny wins a tie\n"
           "      --deny CIDR[,CIDR...]\n"
           "                        refuse these clients at once (repeatable)\n"
           "      --allow-file FILE one CIDR or address to allow per line, '#' comments\n"
           "      --max-per-source N\n"
           "                        TCP connections one source may hold open at once, over\n"
           "                        every loop and worker (default off)\n"
           "      --source-prefix6 BITS\n"
           "                        IPv6 sources are grouped by this prefix (default %d)\n"
           "      --connect-rate R[/B]\n"
           "                        new TCP connections per second (and burst) per source\n"
           "                        (default off); over it the client is closed at once\n"
           "\n"
           "A listener may set these (and the timeouts) for itself, after its service:\n"
           "  'tcp://*:7007/echo?allow=10.0.0.0/8,::1&max-per-source=4&connect-rate=5/10'\n"
           "keys: allow, deny, allow-file, max-per-source, source-prefix6, connect-rate,\n"
           "idle-timeout, request-timeout; they override the options above for that\n"
           "listener alone.\n",
           SOURCE_PREFIX6_DEFAULT);
}

static int bad(const char *option, const char *arg, const char *why)
{
    return cli_usage_error("serve", "bad --%s '%s': %s", option, arg, why), -1;
}

int take_access_option(int ch, const char *arg, struct serve_options *opt)
{
    char why[256];
    switch (ch) {
    case SERVE_OPT_ALLOW:
    case SERVE_OPT_DENY:
        if (access_list_add(&opt->access, arg, ch == SERVE_OPT_DENY, why, sizeof why) != 0)
            return bad(ch == SERVE_OPT_DENY ? "deny" : "allow", arg, why);
        return 0;
    case SERVE_OPT_ALLOW_FILE:
        if (access_list_add_file(&opt->access, arg, why, sizeof why) != 0)
            return cli_usage_error("serve", "bad --allow-file: %s", why), -1;
        return 0;
    case SERVE_OPT_MAX_PER_SOURCE:
        if (limit_parse_max_per_source(arg, &opt->sources.max_per_source, why, sizeof why) != 0)
            return bad("max-per-source", arg, why);
        return 0;
    case SERVE_OPT_SOURCE_PREFIX6:
        if (limit_parse_prefix6(arg, &opt->sources.prefix6, why, sizeof why) != 0)
            return bad("source-prefix6", arg, why);
        return 0;
    case SERVE_OPT_CONNECT_RATE:
        if (limit_parse_connect_rate(arg, &opt->sources, why, sizeof why) != 0)
            return bad("connect-rate", arg, why);
        return 0;
    default:
        return SERVE_OPTION_NOT_MINE;
    }
}
