/*
 * sockserv chat [OPTIONS] URL: parse, pick the mode, run, report.
 *
 * The mode follows the descriptors: with a terminal on both standard input
 * and standard output the client is interactive; otherwise it streams, so
 * that `printf 'hi\n/quit\n' | sockserv chat URL` works in a script.
 */
#include <getopt.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "chatclient/chat_client.h"
#include "cli/args.h"
#include "cli/commands.h"

#define COMMAND "chat"
#define DEFAULT_TIMEOUT_MS 10000
/* Long enough for the server's last lines after the input ends, short
 * enough that a script never waits noticeably. */
#define DEFAULT_LINGER_MS 1000

static void print_help(void)
{
    printf("usage: sockserv chat [OPTIONS] URL\n"
           "\n"
           "Joins the sockserv chat at URL, tcp://HOST:PORT (as `sockserv serve` prints\n"
           "it; a trailing /chat is allowed). HOST is an IPv4 address, a bracketed IPv6\n"
           "address or a host name.\n"
           "\n"
           "On a terminal, type a line and press Enter to send it; what others say appears\n"
           "above the line being typed, which stays as it was. Lines starting with / are\n"
           "commands (/help lists them; /quit [REASON] leaves).\n"
           "  Backspace  delete a character        Ctrl-U  clear the line\n"
           "  Ctrl-W     delete a word             Ctrl-L  redraw the line\n"
           "  Ctrl-C     clear the line; on an empty line, leave\n"
           "  Ctrl-D     on an empty line, leave\n"
           "\n"
           "Otherwise (standard input or output is not a terminal) each input line is\n"
           "sent and each server line is printed, ending in a newline. At the end of the\n"
           "input the client stops sending, prints what the server still sends until it\n"
           "closes or stays silent for --linger, and exits.\n"
           "\n"
           "options:\n"
           "      --timeout DURATION  bound on connecting (default 10s; e.g. 500ms, 5s)\n"
           "  -l, --linger DURATION   after the input ends or /quit, how long the server\n"
           "                          may stay silent before the client leaves without\n"
           "                          waiting for it to close (default 1s)\n"
           "  -h, --help              show this help\n"
           "  -V, --version           show the version\n"
           "\n"
           "Exit status: 0 when the user or the server ended the chat, 1 when the\n"
           "connection failed or was reset, 2 for a usage error.\n");
}

/* Returns the index of the URL argument, -1 after a usage error was
 * reported, or -2 when --help or --version was answered. */
static int parse_options(int argc, char **argv, struct chat_client_config *cfg)
{
    static const struct option longopts[] = {
        /* No -t: that is --threads in serve and bench. */
        {"timeout", required_argument, NULL, 'T'},
        {"linger", required_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    opterr = 0; /* Our own one-line messages instead of getopt's. */
    optind = 1;
    int ch;
    while ((ch = getopt_long(argc, argv, ":l:hV", longopts, NULL)) != -1) {
        switch (ch) {
        case 'T':
            if (cli_parse_timeout(COMMAND, "--timeout", optarg, &cfg->connect_timeout_ms) != 0)
                return -1;
            break;
        case 'l':
            if (cli_parse_duration(COMMAND, "--linger", optarg, &cfg->linger_ms) != 0)
                return -1;
            break;
        case 'h':
            print_help();
            return -2;
        case 'V':
            printf("sockserv %s\n", SOCKSERV_VERSION);
            return -2;
        default:
            /* -t was --timeout here once; say where it went. */
            if (ch == '?' && optopt == 't')
                return cli_usage_error(COMMAND, "unknown option '-t': write --timeout (-t is"
                                                " --threads, in serve and bench)"),
                       -1;
            return cli_option_error(COMMAND, ch, argv), -1;
        }
    }
    if (optind >= argc)
        return cli_usage_error(COMMAND, "missing URL"), -1;
    if (optind + 1 < argc)
        return cli_usage_error(COMMAND, "unexpected argument '%s' after the URL", argv[optind + 1]),
               -1;
    return optind;
}

static int check_target(const struct chat_client_config *cfg)
{
    if (cfg->target.transport != TRANSPORT_TCP)
        return cli_usage_error(COMMAND, "bad URL '%s': chat runs over tcp://, not %s://", cfg->url,
                               transport_name(cfg->target.transport));
    if (cfg->target.service[0] != '\0' && strcmp(cfg->target.service, "chat") != 0)
        return cli_usage_error(COMMAND,
                               "bad URL '%s': it names service '%s'; sockserv chat speaks chat",
                               cfg->url, cfg->target.service);
    return 0;
}

int command_chat(int argc, char **argv)
{
    struct chat_client_config cfg = {
        .in_fd = STDIN_FILENO,
        .out_fd = STDOUT_FILENO,
        .connect_timeout_ms = DEFAULT_TIMEOUT_MS,
        .linger_ms = DEFAULT_LINGER_MS,
    };
    int first = parse_options(argc, argv, &cfg);
    if (first == -2)
        return 0;
    if (first < 0)
        return EXIT_USAGE;
    cfg.url = argv[first];
    char why[160];
    if (endpoint_parse(cfg.url, ENDPOINT_CONNECT, &cfg.target, why, sizeof(why)) != 0)
        return cli_usage_error(COMMAND, "bad URL '%s': %s", cfg.url, why);
    if (check_target(&cfg) != 0)
        return EXIT_USAGE;
    cfg.interactive = isatty(cfg.in_fd) && isatty(cfg.out_fd);
    if (cfg.interactive) {
        /* The line editor measures characters in terminal columns, which
         * needs a UTF-8 character set; chat text is UTF-8 whatever the
         * user's locale says. */
        if (!setlocale(LC_CTYPE, "C.UTF-8"))
            setlocale(LC_CTYPE, "");
    }

    if (cli_ignore_sigpipe(COMMAND) != 0)
        return EXIT_RUNTIME;

    enum chat_client_end end;
    char err[512];
    if (chat_client_run(&cfg, &end, err, sizeof(err)) != 0) {
        fprintf(stderr, "sockserv chat: %s\n", err);
        return EXIT_RUNTIME;
    }
    switch (end) {
    case CHAT_END_LEFT:
        return 0;
    case CHAT_END_SERVER_CLOSED:
        fprintf(stderr, "sockserv chat: %s closed the connection\n", cfg.url);
        return 0;
    case CHAT_END_RESET:
        fprintf(stderr, "sockserv chat: connection reset by %s\n", cfg.url);
        return EXIT_RUNTIME;
    }
    return EXIT_RUNTIME;
}
