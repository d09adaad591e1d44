/*
 * sockserv client [OPTIONS] URL [MESSAGE...]: parse, decide, run, report.
 *
 * Every choice that depends only on the command line (which service, what
 * to send, which options make sense together) is made here, before a socket
 * is opened, so a usage error never leaves a half-sent request behind.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "core/service.h"
#include "netclient/netclient.h"

#define COMMAND "client"
/* Long enough for upper's default 5 s delay, short enough that a silent
 * server is reported while the user still waits for it. */
#define DEFAULT_TIMEOUT_MS 10000
/* UDP resends nothing by default: on loopback nothing is lost, and a lost
 * reply is reported after one timeout rather than several. */
#define DEFAULT_RETRIES 0
#define RETRIES_MAX 100
/* --bytes for TCP: large enough for any stream, small enough to add to. */
#define BYTES_MAX (1ULL << 62)

struct client_options {
    const char *service; /* --service, or NULL. */
    bool verify;
    bool no_newline;
    int64_t timeout_ms;
    unsigned retries;
    uint64_t bytes;
};

static void print_help(void)
{
    printf("usage: sockserv client [OPTIONS] URL [MESSAGE...]\n"
           "\n"
           "URL is tcp://HOST:PORT[/SERVICE] or udp://HOST:PORT[/SERVICE]. HOST is an IPv4\n"
           "address, a bracketed IPv6 address or a host name (each of its addresses is\n"
           "tried in turn). SERVICE says how to read replies; without it, --service says,\n"
           "or else the port does (the ports listed below), or else the service is a\n"
           "plain stream.\n"
           "\n"
           "The MESSAGE words are sent joined by spaces and ended by a newline, as echo(1)\n"
           "writes them; without MESSAGE, standard input is sent (over UDP, one datagram\n"
           "per line). Replies are printed on standard output: time as a date, daytime as\n"
           "one line, the rest as they come. discard is sent to without waiting.\n"
           "\n"
           "services:  ports      what the client does\n");
    const struct client_protocol *p;
    for (size_t i = 0; (p = client_protocol_at(i)) != NULL; i++) {
        const char *what = "";
        switch (p->reply) {
        case CLIENT_REPLY_STREAM:
            what = p->takes_input ? "sends input, prints the reply as it comes"
                                  : "prints the stream (over UDP, one datagram)";
            if (p == client_protocol_stream())
                what = "sends input, prints the reply (any other port)";
            break;
        case CLIENT_REPLY_NONE:
            what = "sends input, waits for nothing";
            break;
        case CLIENT_REPLY_DAYTIME:
            what = "prints the date line";
            break;
        case CLIENT_REPLY_TIME:
            what = "prints the 4-byte answer as a date";
            break;
        }
        /* The RFC port, then sockserv serve's default, as the port inference reads them. */
        char ports[24] = "";
        const struct service *served = service_find(p->name);
        if (p->rfc_port != 0 && served != NULL)
            snprintf(ports, sizeof ports, "%u, %u", (unsigned)p->rfc_port,
                     (unsigned)served->default_port);
        else if (served != NULL)
            snprintf(ports, sizeof ports, "%u", (unsigned)served->default_port);
        printf("  %-8s %-10s %s\n", p->name, ports, what);
    }
    printf("\noptions:\n"
           "  -s, --service NAME      how to read replies, when the URL does not say\n"
           "      --verify            exit 1 unless the reply is what was sent (for upper,\n"
           "                          its uppercase): the whole stream over TCP, each\n"
           "                          datagram's reply over UDP\n"
           "      --timeout DURATION  bound on connecting and on waiting for the server\n"
           "                          (default 10s; e.g. 500ms, 5s, 1m)\n"
           "  -r, --retries N         UDP: send an unanswered datagram again, N times\n"
           "                          (default 0)\n"
           "  -b, --bytes N           TCP: print exactly N bytes of the reply, then stop\n"
           "                          (chargen); UDP chargen: the request's size (default\n"
           "                          512), which bounds the reply\n"
           "  -n, --no-newline        send MESSAGE without the newline\n"
           "  -h, --help              show this help\n"
           "  -V, --version           show the version\n"
           "\n"
           "Exit status: 0 success, 1 no connection, no reply, or a reply that failed\n"
           "--verify, 2 a usage error.\n");
}

/* Returns the index of the URL argument, -1 after a usage error was
 * reported, or -2 when --help or --version was answered. */
static int parse_options(int argc, char **argv, struct client_options *opt)
{
    static const struct option longopts[] = {
        {"service", required_argument, NULL, 's'},
        {"verify", no_argument, NULL, 'c'},
        /* No -t: that is --threads in serve and bench. */
        {"timeout", required_argument, NULL, 'T'},
        {"retries", required_argument, NULL, 'r'},
        {"bytes", required_argument, NULL, 'b'},
        {"no-newline", no_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    opterr = 0; /* Our own one-line messages instead of getopt's. */
    optind = 1;
    int ch;
    unsigned long long number;
    while ((ch = getopt_long(argc, argv, ":s:r:b:nhV", longopts, NULL)) != -1) {
        switch (ch) {
        case 's':
            opt->service = optarg;
            break;
        case 'c':
            opt->verify = true;
            break;
        case 'T':
            if (cli_parse_timeout(COMMAND, "--timeout", optarg, &opt->timeout_ms) != 0)
                return -1;
            break;
        case 'r':
            if (cli_parse_number(optarg, 0, RETRIES_MAX, &number) != 0)
                return cli_usage_error(COMMAND,
                                       "bad --retries '%s': expected a whole number from 0 to %d",
                                       optarg, RETRIES_MAX),
                       -1;
            opt->retries = (unsigned)number;
            break;
        case 'b':
            if (cli_parse_number(optarg, 0, BYTES_MAX, &number) != 0 || number == 0)
                return cli_usage_error(COMMAND, "bad --bytes '%s': expected a whole number from 1",
                                       optarg),
                       -1;
            opt->bytes = number;
            break;
        case 'n':
            opt->no_newline = true;
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
    return optind;
}

static const struct client_protocol *find_protocol(const char *name)
{
    const struct client_protocol *p = client_protocol_find(name);
    if (p == NULL)
        cli_usage_error(COMMAND, "unknown service '%s'", name);
    return p;
}

/* The URL's service, else --service, else the port's. NULL after a usage error. */
static const struct client_protocol *choose_protocol(const struct client_job *job,
                                                     const struct client_options *opt)
{
    const char *named = job->target.service;
    if (named[0] != '\0' && opt->service != NULL && strcmp(named, opt->service) != 0) {
        cli_usage_error(COMMAND, "the URL names service '%s' but --service says '%s'", named,
                        opt->service);
        return NULL;
    }
    if (named[0] != '\0')
        return find_protocol(named);
    if (opt->service != NULL)
        return find_protocol(opt->service);
    return client_protocol_for_port(job->target.port);
}

/* Checks that the options fit the service and transport. */
static int check_combination(const struct client_job *job, const struct client_options *opt,
                             int words)
{
    const struct client_protocol *p = job->protocol;
    bool udp = job->target.transport == TRANSPORT_UDP;
    if (words > 0 && !p->takes_input)
        return cli_usage_error(COMMAND, "%s takes no MESSAGE: it answers without reading", p->name);
    if (opt->verify && !client_protocol_can_verify(p))
        return cli_usage_error(
            COMMAND,
            "--verify needs a reply that repeats the input (echo, upper, stream);"
            " %s's does not",
            p->name);
    if (opt->bytes > 0 && !udp && p->reply != CLIENT_REPLY_STREAM)
        return cli_usage_error(COMMAND, "--bytes counts a streamed reply; %s's is not one",
                               p->name);
    if (opt->bytes > 0 && udp && (p->takes_input || p->udp_request == 0))
        return cli_usage_error(COMMAND, "--bytes over UDP sizes chargen's request; %s has none",
                               p->name);
    if (opt->bytes > CLIENT_DATAGRAM_MAX && udp)
        return cli_usage_error(COMMAND, "--bytes over UDP is at most %d, the largest datagram",
                               CLIENT_DATAGRAM_MAX);
    return 0;
}

/* Joins the words with spaces and ends them with a newline, as echo(1) does. */
static uint8_t *join_message(int words, char **argv, bool newline, size_t *len)
{
    size_t total = newline ? 1 : 0;
    for (int i = 0; i < words; i++)
        total += strlen(argv[i]) + (i > 0);
    uint8_t *message = malloc(total + 1);
    if (message == NULL)
        return NULL;
    size_t used = 0;
    for (int i = 0; i < words; i++) {
        if (i > 0)
            message[used++] = ' ';
        size_t n = strlen(argv[i]);
        memcpy(message + used, argv[i], n);
        used += n;
    }
    if (newline)
        message[used++] = '\n';
    *len = used;
    return message;
}

int command_client(int argc, char **argv)
{
    struct client_options opt = {.timeout_ms = DEFAULT_TIMEOUT_MS, .retries = DEFAULT_RETRIES};
    int first = parse_options(argc, argv, &opt);
    if (first == -2)
        return 0;
    if (first < 0)
        return EXIT_USAGE;

    struct client_job job = {
        .url = argv[first],
        .in_fd = STDIN_FILENO,
        .out_fd = STDOUT_FILENO,
        .verify = opt.verify,
        .timeout_ms = opt.timeout_ms,
        .retries = opt.retries,
        .bytes = opt.bytes,
    };
    char why[160];
    if (endpoint_parse(job.url, ENDPOINT_CONNECT, &job.target, why, sizeof why) != 0)
        return cli_usage_error(COMMAND, "bad URL '%s': %s", job.url, why);
    job.protocol = choose_protocol(&job, &opt);
    if (job.protocol == NULL)
        return EXIT_USAGE;
    int words = argc - first - 1;
    if (check_combination(&job, &opt, words) != 0)
        return EXIT_USAGE;

    uint8_t *message = NULL;
    if (words > 0) {
        message = join_message(words, argv + first + 1, !opt.no_newline, &job.message_len);
        if (message == NULL) {
            fputs("sockserv client: out of memory\n", stderr);
            return EXIT_RUNTIME;
        }
        job.message = message;
        if (job.target.transport == TRANSPORT_UDP && job.message_len > CLIENT_DATAGRAM_MAX) {
            free(message);
            return cli_usage_error(COMMAND, "MESSAGE is %zu bytes; a UDP datagram holds at most %d",
                                   job.message_len, CLIENT_DATAGRAM_MAX);
        }
    }

    if (cli_ignore_sigpipe(COMMAND) != 0) {
        free(message);
        return EXIT_RUNTIME;
    }

    char err[512];
    int rc = job.target.transport == TRANSPORT_UDP ? client_run_udp(&job, err, sizeof err)
                                                   : client_run_tcp(&job, err, sizeof err);
    free(message);
    if (rc != 0) {
        fprintf(stderr, "sockserv client: %s\n", err);
        return EXIT_RUNTIME;
    }
    return 0;
}
