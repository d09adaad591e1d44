/* sockserv serve's options, a small function per group of them. */
#include "cli/serve_options.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/serve_access_options.h"
#include "cli/serve_timeout_options.h"
#include "core/duration.h"
#include "core/listener_query.h"
#include "core/size.h"

struct serve_options serve_default_options(void)
{
    return (struct serve_options){
        .model = model_find(DEFAULT_MODEL),
        .config = {.max_line = DEFAULT_MAX_LINE,
                   .max_output = DEFAULT_MAX_OUTPUT,
                   .idle_timeout_ms = IDLE_TIMEOUT_UNSET,
                   .request_timeout_ms = DEFAULT_REQUEST_TIMEOUT_MS},
        .settings = {.upper_delay_ms = DEFAULT_DELAY_MS,
                     .chat_notices_max = DEFAULT_CHAT_NOTICES_MAX,
                     .chat_rate_per_second = DEFAULT_CHAT_RATE,
                     .chat_rate_burst = DEFAULT_CHAT_BURST},
        .grace_ms = DEFAULT_GRACE_MS,
        .datagram_time_ms = DEFAULT_DATAGRAM_TIME_MS,
        .level = LOG_INFO,
        .udp_rate = {UDP_RATE_DEFAULT, UDP_BURST_DEFAULT},
        .threads = 1,
        .sources = {.prefix6 = SOURCE_PREFIX6_DEFAULT},
    };
}

static void print_help(void)
{
    printf("usage: sockserv serve [OPTIONS] [LISTENER...]\n"
           "\n"
           "LISTENER is tcp://HOST:PORT/SERVICE or udp://HOST:PORT/SERVICE. HOST is an\n"
           "IPv4 address, a bracketed IPv6 address, a host name, or * for every address\n"
           "of both families, IPv4 and IPv6 ('tcp://*:7007/echo'). A bracketed IPv6\n"
           "address is IPv6 only (IPV6_V6ONLY): [::] takes no IPv4 client; use * for both.\n"
           "PORT 0 picks a free port. With no LISTENER, every service is served over TCP\n"
           "and UDP on 127.0.0.1 at its default port.\n"
           "\n"
           "services:\n");
    for (const struct service *const *s = service_all(); *s; s++)
        printf("  %-10s %5u  %s\n", (*s)->name, (unsigned)(*s)->default_port, (*s)->summary);
    printf("\noptions:\n"
           "  -m, --model NAME      concurrency model (default " DEFAULT_MODEL "):\n");
    for (const struct model *const *m = model_all(); *m; m++)
        printf("                          %-10s %s\n", (*m)->name, (*m)->summary);
    printf("      --delay DURATION  upper's answer delay (default 5s; e.g. 250ms, .5s, 1m)\n"
           "      --max-conns N     connections served at once; more wait in the backlog\n"
           "                        (default: 1024 for thread and fork, 1 for iterative,\n"
           "                        the descriptor limit for the event loops)\n"
           "      --overflow MODE   clients beyond --max-conns: wait (default: they wait in\n"
           "                        the kernel's backlog until a slot frees) or refuse\n"
           "                        (accepted and reset at once, counted, logged)\n"
           "      --max-datagrams N UDP requests served at once, apart from --max-conns;\n"
           "                        more wait in the socket buffer (default: --max-conns)\n"
           "      --datagram-time DURATION\n"
           "                        iterative with TCP listeners: longest one datagram\n"
           "                        keeps a waiting TCP client waiting (default 1s)\n"
           "      --grace DURATION  how long a stop (SIGINT, SIGTERM, SIGHUP) waits for open\n"
           "                        connections (default 5s); a second SIGINT or SIGTERM\n"
           "                        stops at once\n"
           "      --idle-timeout DURATION\n"
           "                        close a TCP connection that moved no byte either way\n"
           "                        for this long (default 10m; 30s for iterative, where\n"
           "                        one idle client keeps everyone waiting; 'off' disables)\n"
           "      --request-timeout DURATION\n"
           "                        upper and chat: cut a client whose unfinished line got\n"
           "                        its first byte this long ago (default 1m; 'off'\n"
           "                        disables), so a slow dribble cannot hold a slot\n"
           "  -t, --threads N       run N event loops in the process (select, poll, epoll,\n"
           "                        uring)\n"
           "  -w, --workers N       run N worker processes under a supervisor that replaces\n"
           "                        any that die\n"
           "      --balance MODE    how loops and workers split clients: reuseport (default:\n"
           "                        sockets of their own, the kernel hashes each client to\n"
           "                        one) or shared (one socket, the first free loop takes it)\n"
           "      --udp-rate R[/B]  datagrams per second (and burst) served per source\n"
           "                        address (default %d/%d; 'off' disables); use off\n"
           "                        when benchmarking UDP from one host\n"
           "      --max-line BYTES  longest line upper and chat accept (default 4K;\n"
           "                        64 to 1G bytes, e.g. 4096, 64K, 1M)\n"
           "      --max-queue BYTES unsent bytes one client may queue before it is\n"
           "                        dropped as too slow (default 256K; 64 to 1G bytes)\n"
           "      --allow-amplification\n"
           "                        let a UDP request get more than one reply, or one\n"
           "                        longer than itself (chargen's random 0-512)\n"
           "      --chat-notices-max N\n"
           "                        chat rooms of up to N members announce arrivals,\n"
           "                        departures and renames (default %d; 0: none)\n"
           "      --chat-rate R[/B] lines per second (and burst) one chat member may send\n"
           "                        (default %d/%d; 'off' disables)\n"
           "      --user NAME[:GROUP]\n"
           "                        once every socket is bound, drop root for this user\n"
           "                        (and its primary group, or GROUP) before serving\n"
           "      --inetd SERVICE   serve the one connection on stdin (a socket, as inetd,\n"
           "                        xinetd or a systemd Accept=yes unit pass it), then exit\n"
           "  -q, --quiet           log only warnings and errors\n"
           "  -v, --verbose         also log each close, with bytes in and out\n"
           "      --log-format FMT  text (default) or json: one JSON object per line\n"
           "                        with time, level, msg and the event's fields;\n"
           "                        under the journal (JOURNAL_STREAM) lines carry a\n"
           "                        <N> priority instead of a timestamp\n"
           "  -h, --help            show this help\n"
           "  -V, --version         show the version\n",
           UDP_RATE_DEFAULT, UDP_BURST_DEFAULT, DEFAULT_CHAT_NOTICES_MAX, DEFAULT_CHAT_RATE,
           DEFAULT_CHAT_BURST);
    print_access_help();
}

/* A count option: a whole number from 1 to max. */
static int parse_count(const char *text, long max, long *out)
{
    unsigned long long v;
    if (cli_parse_number(text, 1, (unsigned long long)max, &v) != 0)
        return -1;
    *out = (long)v;
    return 0;
}

/* What an option function returns for an option of another group. */
#define OPTION_NOT_MINE SERVE_OPTION_NOT_MINE

/* -m, -t, -w and --balance: which model runs, and in how many copies. */
static int take_scaling_option(int ch, const char *arg, struct serve_options *opt)
{
    long n;
    switch (ch) {
    case 'm':
        opt->model = model_find(arg);
        if (!opt->model)
            return cli_usage_error("serve", "unknown model '%s'", arg), -1;
        return 0;
    case 't':
    case 'w':
        if (parse_count(arg, MAX_THREADS_OR_WORKERS, &n) != 0)
            return cli_usage_error("serve",
                                   ch == 't' ? "bad --threads '%s': expected 1 to 256"
                                             : "bad --workers '%s': expected 1 to 256",
                                   arg),
                   -1;
        if (ch == 't')
            opt->threads = n;
        else
            opt->workers = n;
        return 0;
    case 'b':
        if (strcmp(arg, "reuseport") != 0 && strcmp(arg, "shared") != 0)
            return cli_usage_error("serve", "bad --balance '%s': expected reuseport or shared",
                                   arg),
                   -1;
        opt->balance_shared = strcmp(arg, "shared") == 0;
        opt->balance_given = true;
        return 0;
    default:
        return OPTION_NOT_MINE;
    }
}

/* The bounds on connections and the waits: how many at once, how long.
 * cli_parse_duration returns 0, or -1 after its own usage error. */
/* --idle-timeout: a duration above 0, or off. */
static int parse_idle_timeout(const char *arg, struct serve_options *opt)
{
    char why[128];
    if (limit_parse_timeout(arg, &opt->config.idle_timeout_ms, why, sizeof(why)) != 0)
        return cli_usage_error("serve", "bad --idle-timeout '%s': %s", arg, why), -1;
    return 0;
}

static int take_limit_option(int ch, const char *arg, struct serve_options *opt)
{
    switch (ch) {
    case 'I':
        return parse_idle_timeout(arg, opt);
    case 'd':
        return cli_parse_duration("serve", "--delay", arg, &opt->settings.upper_delay_ms);
    case 'g':
        return cli_parse_duration("serve", "--grace", arg, &opt->grace_ms);
    case 'c':
        if (parse_count(arg, MAX_CONNS_CEILING, &opt->max_conns) != 0)
            return cli_usage_error("serve",
                                   "bad --max-conns '%s': expected a whole number from 1 to %d",
                                   arg, MAX_CONNS_CEILING),
                   -1;
        return 0;
    case 'D':
        if (parse_count(arg, MAX_CONNS_CEILING, &opt->max_datagrams) != 0)
            return cli_usage_error("serve",
                                   "bad --max-datagrams '%s': expected a whole number from 1 to %d",
                                   arg, MAX_CONNS_CEILING),
                   -1;
        return 0;
    case 'T':
        return cli_parse_duration("serve", "--datagram-time", arg, &opt->datagram_time_ms);
    default:
        return OPTION_NOT_MINE;
    }
}

/* --max-line and --max-queue: the bytes one client may make the server hold. */
static int take_size_option(int ch, const char *arg, struct serve_options *opt)
{
    if (ch != 'L' && ch != 'Q')
        return OPTION_NOT_MINE;
    size_t bytes;
    if (size_parse(arg, &bytes) != 0)
        return cli_usage_error("serve",
                               "bad %s '%s': expected %d bytes to 1G, as bytes or with K or M "
                               "(e.g. 4096, 64K, 1M)",
                               ch == 'L' ? "--max-line" : "--max-queue", arg, SIZE_MIN_BYTES),
               -1;
    if (ch == 'L')
        opt->config.max_line = bytes;
    else
        opt->config.max_output = bytes;
    return 0;
}

/* --udp-rate and --allow-amplification: what a UDP source may get. */
static int take_udp_option(int ch, const char *arg, struct serve_options *opt)
{
    char why[128];
    switch (ch) {
    case 'u':
        if (udp_rate_parse(arg, &opt->udp_rate, why, sizeof(why)) != 0)
            return cli_usage_error("serve", "bad --udp-rate '%s': %s", arg, why), -1;
        return 0;
    case 'a':
        opt->config.allow_amplification = true;
        return 0;
    default:
        return OPTION_NOT_MINE;
    }
}

/* --chat-notices-max and --chat-rate: what a chat room announces and allows. */
static int take_chat_option(int ch, const char *arg, struct serve_options *opt)
{
    unsigned long long n;
    struct udp_rate rate;
    char why[128];
    switch (ch) {
    case 'N':
        if (cli_parse_number(arg, 0, CHAT_NOTICES_MAX_CEILING, &n) != 0)
            return cli_usage_error(
                       "serve", "bad --chat-notices-max '%s': expected a whole number from 0 to %d",
                       arg, CHAT_NOTICES_MAX_CEILING),
                   -1;
        opt->settings.chat_notices_max = (size_t)n;
        return 0;
    case 'r':
        /* The same RATE[/BURST] or off as --udp-rate, counting lines. */
        if (udp_rate_parse(arg, &rate, why, sizeof(why)) != 0)
            return cli_usage_error("serve", "bad --chat-rate '%s': %s", arg, why), -1;
        opt->settings.chat_rate_per_second = rate.per_second;
        opt->settings.chat_rate_burst = rate.burst;
        return 0;
    default:
        return OPTION_NOT_MINE;
    }
}

/* --user and --inetd: who serves, and whether from inherited stdin. */
static int take_privilege_option(int ch, const char *arg, struct serve_options *opt)
{
    switch (ch) {
    case SERVE_OPT_PRIVILEGE + 1:
        opt->user = arg;
        return 0;
    case SERVE_OPT_PRIVILEGE + 2:
        opt->inetd = arg;
        return 0;
    default:
        return OPTION_NOT_MINE;
    }
}

/* -q, -v, -h and -V: how much to log, or an answer instead of a server.
 * Returns -2 when --help or --version was answered. */
static int take_output_option(int ch, const char *arg, struct serve_options *opt)
{
    (void)arg;
    switch (ch) {
    case 'q':
        opt->level = LOG_WARN;
        return 0;
    case 'v':
        opt->level = LOG_DEBUG;
        return 0;
    case 'h':
        print_help();
        return -2;
    case 'V':
        printf("sockserv %s\n", SOCKSERV_VERSION);
        return -2;
    default:
        return OPTION_NOT_MINE;
    }
}

/* --log-format: how each log line looks. */
static int take_log_option(int ch, const char *arg, struct serve_options *opt)
{
    if (ch != SERVE_OPT_LOG_FORMAT)
        return OPTION_NOT_MINE;
    if (strcmp(arg, "text") == 0) {
        opt->log_format = LOG_FORMAT_TEXT;
        return 0;
    }
    if (strcmp(arg, "json") == 0) {
        opt->log_format = LOG_FORMAT_JSON;
        return 0;
    }
    cli_usage_error("serve", "bad --log-format '%s': text or json", arg);
    return -1;
}

/* Hands one option to the group that knows it. Returns 0, -1 after a usage
 * error, or -2 when --help or --version was answered. */
static int take_option(int ch, const char *arg, char **argv, struct serve_options *opt)
{
    static int (*const groups[])(int, const char *, struct serve_options *) = {
        take_scaling_option, take_limit_option,  take_size_option,      take_udp_option,
        take_chat_option,    take_output_option, take_privilege_option, take_access_option,
        take_timeout_option, take_log_option,
    };
    for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
        int rc = groups[i](ch, arg, opt);
        if (rc != OPTION_NOT_MINE)
            return rc;
    }
    return cli_option_error("serve", ch, argv), -1;
}

/* Returns the index of the first listener argument, or -1 after reporting a
 * usage error, or -2 when --help or --version was answered. */
int serve_parse_options(int argc, char **argv, struct serve_options *opt)
{
    static const struct option longopts[] = {
        {"model", required_argument, NULL, 'm'},
        {"delay", required_argument, NULL, 'd'},
        {"max-conns", required_argument, NULL, 'c'},
        {"max-datagrams", required_argument, NULL, 'D'},
        {"datagram-time", required_argument, NULL, 'T'},
        {"grace", required_argument, NULL, 'g'},
        {"idle-timeout", required_argument, NULL, 'I'},
        {"request-timeout", required_argument, NULL, SERVE_OPT_REQUEST_TIMEOUT},
        {"overflow", required_argument, NULL, SERVE_OPT_OVERFLOW},
        {"udp-rate", required_argument, NULL, 'u'},
        {"chat-notices-max", required_argument, NULL, 'N'},
        {"chat-rate", required_argument, NULL, 'r'},
        {"max-line", required_argument, NULL, 'L'},
        {"max-queue", required_argument, NULL, 'Q'},
        {"threads", required_argument, NULL, 't'},
        {"workers", required_argument, NULL, 'w'},
        {"balance", required_argument, NULL, 'b'},
        {"allow-amplification", no_argument, NULL, 'a'},
        {"user", required_argument, NULL, SERVE_OPT_PRIVILEGE + 1},
        {"inetd", required_argument, NULL, SERVE_OPT_PRIVILEGE + 2},
        {"quiet", no_argument, NULL, 'q'},
        {"verbose", no_argument, NULL, 'v'},
        {"log-format", required_argument, NULL, SERVE_OPT_LOG_FORMAT},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {"allow", required_argument, NULL, SERVE_OPT_ALLOW},
        {"deny", required_argument, NULL, SERVE_OPT_DENY},
        {"allow-file", required_argument, NULL, SERVE_OPT_ALLOW_FILE},
        {"max-per-source", required_argument, NULL, SERVE_OPT_MAX_PER_SOURCE},
        {"source-prefix6", required_argument, NULL, SERVE_OPT_SOURCE_PREFIX6},
        {"connect-rate", required_argument, NULL, SERVE_OPT_CONNECT_RATE},
        {NULL, 0, NULL, 0},
    };
    opterr = 0; /* Our own one-line messages instead of getopt's. */
    optind = 1;
    int ch;
    while ((ch = getopt_long(argc, argv, ":m:t:w:qvhV", longopts, NULL)) != -1) {
        int rc = take_option(ch, optarg, argv, opt);
        if (rc != 0)
            return rc;
    }
    return optind;
}
