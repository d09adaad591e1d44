/*
 * bench_run: splits the connections (and the request, rate and connect
 * budgets, in proportion) over --threads event loops, runs each loop on a
 * thread of its own, draws the live line from the main thread, and merges
 * what the loops counted. The main thread only sleeps between live lines,
 * so it takes nothing from the loops.
 */
#include "loadgen/loadgen.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/error.h"
#include "core/stop.h"
#include "loadgen/clock_ns.h"
#include "loadgen/loop.h"
#include "loadgen/report.h"

/* Descriptors beyond one per connection: epoll, eventfds, stdio. */
#define RESERVED_FDS 64
#define LIVE_INTERVAL_MS 1000

struct worker {
    struct bench_loop *loop;
    pthread_t thread;
    bool started;
    int rc;
    int loop_errno; /* errno when the loop failed; errno is per thread. */
    int done_fd;    /* Counts finished workers. */
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    w->rc = bench_loop_run(w->loop);
    w->loop_errno = errno;
    uint64_t one = 1;
    /* An eventfd write of 8 bytes only fails on counter overflow, which
     * 256 workers cannot reach. */
    ssize_t ignored = write(w->done_fd, &one, sizeof(one));
    (void)ignored;
    return NULL;
}

/* Raises the soft descriptor limit when the connections need it. */
static int ensure_descriptors(uint32_t connections, char *err, size_t errlen)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        return error_set(err, errlen, "cannot read the descriptor limit: %s", strerror(errno));
    }
    rlim_t need = (rlim_t)connections + RESERVED_FDS;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
        rlim_t want = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > need ? need : rl.rlim_max;
        struct rlimit raised = {.rlim_cur = want, .rlim_max = rl.rlim_max};
        if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
            rl.rlim_cur = want;
    }
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
        return error_set(
            err, errlen,
            "%u connections need %llu descriptors, but the limit is %llu (see ulimit -n)",
            (unsigned)connections, (unsigned long long)need, (unsigned long long)rl.rlim_cur);
    }
    return 0;
}

/* Worker t's part of total split over n, the remainder to the first ones. */
static uint64_t part_of(uint64_t total, uint32_t n, uint32_t t)
{
    return total / n + (t < total % n ? 1 : 0);
}

static void show_live(const struct bench_config *cfg, struct worker *workers, int64_t start_ns,
                      uint64_t *last_ok, int64_t *last_ns)
{
    struct bench_live live = {.connections = cfg->connections};
    uint64_t ok = 0;
    for (uint32_t t = 0; t < cfg->threads; t++) {
        struct bench_progress p;
        bench_loop_progress(workers[t].loop, &p);
        ok += p.ok;
        live.errors += p.errors;
        live.connections_up += p.connections_up;
        if (p.p99_ns > live.p99_ns)
            live.p99_ns = p.p99_ns;
    }
    int64_t now = clock_now_ns();
    double interval = (double)(now - *last_ns) / (double)NS_PER_S;
    live.elapsed_s = (double)(now - start_ns) / (double)NS_PER_S;
    live.requests_per_s = interval > 0 ? (double)(ok - *last_ok) / interval : 0;
    *last_ok = ok;
    *last_ns = now;
    bench_report_live(cfg->progress, &live);
}

/* Waits for every started worker, drawing the live line meanwhile. */
static void wait_workers(const struct bench_config *cfg, struct worker *workers, uint32_t started,
                         int done_fd, int64_t start_ns)
{
    uint64_t finished = 0, last_ok = 0;
    int64_t last_ns = start_ns;
    while (cfg->progress && finished < started) {
        struct pollfd pfd = {.fd = done_fd, .events = POLLIN};
        int n = poll(&pfd, 1, LIVE_INTERVAL_MS);
        if (n < 0 && errno != EINTR)
            break; /* Then just join, without the live line. */
        if (n > 0) {
            uint64_t count;
            if (read(done_fd, &count, sizeof(count)) == (ssize_t)sizeof(count))
                finished += count;
            continue;
        }
        if (n == 0)
            show_live(cfg, workers, start_ns, &last_ok, &last_ns);
    }
    if (cfg->progress)
        bench_report_live_clear(cfg->progress);
    for (uint32_t t = 0; t < started; t++)
        pthread_join(workers[t].thread, NULL);
}

int bench_run(const struct bench_config *cfg, struct bench_stats *out, char *err, size_t errlen)
{
    bench_stats_init(out);
    /* The chat tally is indexed by a loop's own connection numbers and
     * written without locks: it can belong to one loop only. */
    if (cfg->chat && cfg->threads != 1)
        return error_set(err, errlen, "a chat tally needs exactly one event loop");
    if (ensure_descriptors(cfg->connections, err, errlen) != 0)
        return -1;
    struct worker *workers = calloc(cfg->threads, sizeof(*workers));
    int done_fd = eventfd(0, EFD_CLOEXEC);
    if (!workers || done_fd < 0) {
        error_set(err, errlen, "cannot set up the workers: %s", strerror(errno));
        free(workers);
        if (done_fd >= 0)
            close(done_fd);
        return -1;
    }
    int rc = 0;
    int64_t start_ns = clock_now_ns();
    uint32_t first = 1;
    for (uint32_t t = 0; t < cfg->threads && rc == 0; t++) {
        uint32_t n = (uint32_t)part_of(cfg->connections, cfg->threads, t);
        double share = (double)n / (double)cfg->connections;
        struct bench_loop_share s = {
            .first_number = first,
            .connections = n,
            .requests = part_of(cfg->requests, cfg->threads, t),
            .rate = cfg->rate * share,
            .connect_rate = cfg->connect_rate * share,
            .start_ns = start_ns,
        };
        first += n;
        workers[t].done_fd = done_fd;
        workers[t].loop = bench_loop_create(cfg, &s, err, errlen);
        if (!workers[t].loop)
            rc = -1;
    }
    uint32_t started = 0;
    for (uint32_t t = 0; t < cfg->threads && rc == 0; t++) {
        int e = pthread_create(&workers[t].thread, NULL, worker_main, &workers[t]);
        if (e != 0) {
            rc = error_set(err, errlen, "cannot start thread %u: %s", (unsigned)t + 1, strerror(e));
            /* The loops already running end as at Ctrl-C. */
            stop_request();
            break;
        }
        workers[t].started = true;
        started++;
    }
    wait_workers(cfg, workers, started, done_fd, start_ns);
    for (uint32_t t = 0; t < cfg->threads; t++) {
        if (rc == 0 && workers[t].rc != 0) {
            rc =
                error_set(err, errlen, "an event loop failed: %s", strerror(workers[t].loop_errno));
        }
        if (workers[t].loop && workers[t].started)
            bench_stats_merge(out, bench_loop_stats(workers[t].loop));
        bench_loop_free(workers[t].loop);
    }
    close(done_fd);
    free(workers);
    return rc;
}
