/*
 * sockserv bench [OPTIONS] URL: parse, check, run, report.
 *
 * Every option is checked before the first connection is made, so a bad
 * command line costs the server nothing. The run itself never fails on what
 * the server does: refusals, resets and silence are counted and reported,
 * and the exit status says only whether any request succeeded.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/args.h"
#include "cli/bench_options.h"
#include "cli/commands.h"
#include "core/duration.h"
#include "core/stop.h"
#include "loadgen/clock_ns.h"
#include "loadgen/loadgen.h"
#include "loadgen/progress_file.h"
#include "loadgen/report.h"
#include "loadgen/udp_rate_hint.h"

/* The length of connection 1's message, for the reports. */
static int measure_message(struct bench_config *cfg)
{
    struct bench_message m;
    if (bench_message_build(&m, cfg->message_text, cfg->message_size, cfg->expect, 1) != 0)
        return -1;
    cfg->message_bytes = m.request_len;
    bench_message_free(&m);
    return 0;
}

/* --hold's announcement, from the loop's thread while the main one waits. */
static void announce_held(const struct bench_held *held, void *arg)
{
    const struct bench_options *o = arg;
    if (o->cfg.chat)
        bench_report_joined(stdout, held, o->json);
    else
        bench_report_held(stdout, held, o->json);
    fflush(stdout);
}

/* Whether the run did what it was for; says why not on stderr. */
static bool run_succeeded(const struct bench_config *cfg, const struct bench_stats *stats)
{
    if (cfg->hold) {
        if (stats->held.open == cfg->connections && stats->held.failed == 0)
            return true;
        fprintf(stderr, "sockserv bench: %s %llu of %u connections (%llu failed)\n",
                cfg->chat ? "joined" : "held", (unsigned long long)stats->held.open,
                cfg->connections, (unsigned long long)stats->held.failed);
        return false;
    }
    if (stats->ok > 0)
        return true;
    fprintf(stderr, "sockserv bench: no request succeeded (%llu failed)\n",
            (unsigned long long)bench_stats_errors(stats));
    return false;
}

static void init_options(struct bench_options *o)
{
    *o = (struct bench_options){
        .cfg = {.expect = BENCH_EXPECT_ECHO,
                .message_size = DEFAULT_SIZE,
                .connections = DEFAULT_CONNECTIONS,
                .threads = 1,
                .pipeline = 1,
                .per_source = BENCH_PER_SOURCE_DEFAULT,
                .timeout_ns = DEFAULT_TIMEOUT_MS * NS_PER_MS},
    };
    o->cfg.on_held = announce_held;
    o->cfg.on_held_arg = o;
}

/* Resolves the target and readies what the run needs before it starts. */
static int prepare_run(struct bench_options *o)
{
    char err[256];
    if (bench_target_resolve(&o->cfg.target, err, sizeof(err)) != 0) {
        fprintf(stderr, "sockserv bench: %s\n", err);
        return EXIT_RUNTIME;
    }
    if (o->cfg.source_given && o->cfg.target.address.u.sa.sa_family != AF_INET) {
        bench_usage_error("--source-from is an IPv4 address, but %s is not IPv4",
                          o->cfg.target.text);
        return EXIT_USAGE;
    }
    /* A chat member sends nothing: its message_bytes stays 0. */
    if (!o->chat_receive && measure_message(&o->cfg) != 0) {
        fputs("sockserv bench: out of memory\n", stderr);
        return EXIT_RUNTIME;
    }
    if (stop_install() != 0) {
        fprintf(stderr, "sockserv bench: cannot set up signals: %s\n", strerror(errno));
        return EXIT_RUNTIME;
    }
    if (isatty(STDERR_FILENO))
        o->cfg.progress = stderr;
    return 0;
}

/* With --chat-receive: the tally of lines received, and the progress file
 * that shows its count. The caller frees both whatever this returns. */
static int open_tally(struct bench_options *o, uint64_t **progress)
{
    char err[256];
    if (o->progress_path) {
        *progress = progress_file_open(o->progress_path, err, sizeof(err));
        if (!*progress) {
            fprintf(stderr, "sockserv bench: %s\n", err);
            return EXIT_RUNTIME;
        }
    }
    if (o->chat_receive) {
        o->cfg.chat = chat_tally_create(o->cfg.connections, *progress);
        if (!o->cfg.chat) {
            fputs("sockserv bench: out of memory for the chat tally\n", stderr);
            return EXIT_RUNTIME;
        }
    }
    return 0;
}

/* Prints the report, then says whether the run did what it was for. */
static int report(const struct bench_options *o, const struct bench_stats *stats)
{
    if (o->json)
        bench_report_json(stdout, &o->cfg, stats);
    else
        bench_report_text(stdout, &o->cfg, stats);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "sockserv bench: cannot write the report: %s\n", strerror(errno));
        return EXIT_RUNTIME;
    }
    /* On stderr, so that --json's stdout stays one object. */
    char hint[320];
    if (bench_udp_rate_hint(&o->cfg, stats, hint, sizeof(hint)))
        fprintf(stderr, "sockserv bench: %s\n", hint);
    return run_succeeded(&o->cfg, stats) ? 0 : EXIT_RUNTIME;
}

static int run_and_report(struct bench_options *o)
{
    struct bench_stats *stats = malloc(sizeof(*stats));
    if (!stats) {
        fputs("sockserv bench: out of memory\n", stderr);
        return EXIT_RUNTIME;
    }
    char err[256];
    int rc;
    if (bench_run(&o->cfg, stats, err, sizeof(err)) != 0) {
        fprintf(stderr, "sockserv bench: %s\n", err);
        rc = EXIT_RUNTIME;
    } else {
        rc = report(o, stats);
    }
    free(stats);
    return rc;
}

int command_bench(int argc, char **argv)
{
    struct bench_options o;
    init_options(&o);
    int first = bench_parse_options(argc, argv, &o);
    if (first == -2)
        return 0;
    if (first < 0)
        return EXIT_USAGE;
    int rc = bench_check_command_line(&o, argv[first]);
    if (rc == 0)
        rc = prepare_run(&o);
    if (rc != 0)
        return rc;
    uint64_t *progress = NULL;
    rc = open_tally(&o, &progress);
    if (rc == 0)
        rc = run_and_report(&o);
    chat_tally_free(o.cfg.chat);
    progress_file_close(progress);
    return rc;
}
