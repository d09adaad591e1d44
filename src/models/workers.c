/*
 * Worker processes (--workers N), as nginx runs them: a supervising parent
 * binds the listeners, then forks N workers that each run the chosen model
 * on their share of them. The parent serves no client; it only keeps the
 * workers alive: a worker that dies is replaced, and a stop is passed on
 * to every worker, each of which honours the grace period itself.
 *
 * Each worker has listening sockets of its own, bound by the parent to the
 * same ports with SO_REUSEPORT, so the kernel spreads clients (and UDP
 * sources) evenly by a hash of the peer. One socket shared by every worker
 * (--balance shared, where each worker's set is a duplicate of the same
 * sockets) goes to whichever worker wakes first instead, and piles clients
 * onto a few workers. The parent keeps every worker's sockets open, so
 * clients waiting in a dead worker's accept queue are not lost: its
 * replacement inherits the same sockets and serves them (with --threads,
 * the sockets of a worker's other loops are its own and die with it, and
 * so do the clients queued on them, unless bind_loops_first has the parent
 * bind and keep those too, as it must once --user has dropped root).
 * Workers are also
 * how one server goes past a single process's descriptor limit.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/children.h"
#include "core/clock.h"
#include "core/counters.h"
#include "core/error.h"
#include "core/grace.h"
#include "core/log.h"
#include "core/source_limits.h"
#include "core/stop.h"
#include "core/stop_report.h"
#include "models/model.h"

/* A worker that dies this soon after starting, twice in a row, is
 * restarted only after the same delay, so a worker that cannot start never
 * becomes a fork loop, while a single crash is replaced at once. */
#define RESTART_BACKOFF_MS 1000

/* How long past the grace the supervisor waits before it kills a worker.
 * A worker running the thread or fork model waits the grace plus
 * GRACE_MARGIN_MS for its own threads or children before it exits, so its
 * supervisor waits one margin more. */
#define WORKER_STOP_MARGIN_MS (2 * GRACE_MARGIN_MS)

struct worker {
    pid_t pid; /* 0: not running. */
    int64_t started_ms;
    int64_t restart_at_ms; /* 0: no restart pending. */
    unsigned quick_deaths; /* Deaths in a row soon after starting. */
};

struct supervisor {
    const struct model *model;
    struct server *srv;
    unsigned threads;
    struct worker *workers;
    /* Worker i's listeners: sets[i * loops_bound] for its first loop, and,
     * when the parent binds them (bind_loops_first), its other loops' at
     * the loops_bound - 1 after it. [0] is srv->listeners, the others
     * copies. */
    struct listener_set *sets;
    unsigned count;
    unsigned loops_bound; /* Sets per worker: 1, or threads. */
    struct children kids; /* The running workers. */
    pid_t supervisor_pid; /* Workers check it is still their parent. */
    bool serving;         /* False once stopping: a worker that ends is not replaced. */
    bool failed;          /* A worker could not start: the run ends in failure. */
};

static void __attribute__((noreturn)) run_worker(struct supervisor *sv, unsigned index)
{
    /* A latch of its own: a signal to one worker stops only that worker,
     * and the parent passes its own stop on with SIGTERM. */
    if (stop_install() != 0 || children_unblock(&sv->kids) != 0)
        _exit(1);
    /* A supervisor killed outright (SIGKILL, a crash) cannot pass its stop
     * on: the kernel does, so no worker outlives it, serving a port that
     * nothing supervises. Checked again after, in case it died already. */
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != sv->supervisor_pid)
        _exit(0);
    /* Only the parent may keep other workers' sockets open: a worker that
     * held them would keep them listening after their own worker stopped. */
    unsigned first = index * sv->loops_bound;
    for (unsigned i = 0; i < sv->count * sv->loops_bound; i++)
        if (i < first || i >= first + sv->loops_bound)
            listener_set_close(&sv->sets[i]);
    /* Its connections count in a column of its own of the per-source
     * tables, which the supervisor clears if it dies. */
    source_limits_set_column(index);
    struct server srv = *sv->srv;
    srv.listeners = sv->sets[first];
    srv.loop_listeners = sv->loops_bound > 1 ? &sv->sets[first + 1] : NULL;
    srv.worker = (int)index;
    char err[256];
    int rc = model_run_in_process(sv->model, &srv, sv->threads, err, sizeof(err));
    if (rc != 0)
        log_error("worker %d: %s", (int)getpid(), err);
    _exit(rc == 0 ? 0 : 1);
}

static void worker_ended(void *ctx, pid_t pid, int status);

static void start_worker(struct supervisor *sv, unsigned i)
{
    struct worker *w = &sv->workers[i];
    pid_t pid = children_fork(&sv->kids, worker_ended, sv);
    if (pid == 0)
        run_worker(sv, i);
    if (pid < 0) {
        log_warn("cannot start worker %u: %s; retrying", i, strerror(errno));
        w->restart_at_ms = clock_now_ms() + RESTART_BACKOFF_MS;
        return;
    }
    w->pid = pid;
    w->started_ms = clock_now_ms();
    w->restart_at_ms = 0;
}

static void describe_exit(int status, char *buf, size_t buflen)
{
    if (WIFSIGNALED(status))
        snprintf(buf, buflen, "killed by signal %d", WTERMSIG(status));
    else
        snprintf(buf, buflen, "exited with status %d", WEXITSTATUS(status));
}

/* While serving, a worker that ended is replaced (after a pause if it
 * keeps dying as it starts). */
static void replace_worker(struct supervisor *sv, unsigned i, pid_t pid, int status)
{
    struct worker *w = &sv->workers[i];
    char how[64];
    describe_exit(status, how, sizeof(how));
    int64_t now = clock_now_ms();
    /* A worker that exits with a failure status as it starts could not
     * run its model; starting more would fail the same way. */
    if (WIFEXITED(status) && WEXITSTATUS(status) != 0 && now - w->started_ms < RESTART_BACKOFF_MS) {
        log_error("worker %u (pid %d) %s as it started; stopping", i, (int)pid, how);
        sv->failed = true;
        stop_request();
        return;
    }
    w->quick_deaths = now - w->started_ms < RESTART_BACKOFF_MS ? w->quick_deaths + 1 : 0;
    bool back_off = w->quick_deaths >= 2;
    log_warn("worker %u (pid %d) %s; starting a new one%s", i, (int)pid, how,
             back_off ? " in a second" : "");
    w->restart_at_ms = back_off ? now + RESTART_BACKOFF_MS : now;
}

static void worker_ended(void *ctx, pid_t pid, int status)
{
    struct supervisor *sv = ctx;
    /* Its slots are free for the next worker; the connections it left
     * open were closed by the kernel as it died. */
    counters_release_process(pid);
    for (unsigned i = 0; i < sv->count; i++) {
        if (sv->workers[i].pid == pid) {
            sv->workers[i].pid = 0;
            /* The connections it held died with it. */
            source_limits_forget_column(i);
            if (sv->serving)
                replace_worker(sv, i, pid, status);
            return;
        }
    }
}

static int64_t next_restart(const struct supervisor *sv)
{
    int64_t next = 0;
    for (unsigned i = 0; i < sv->count; i++) {
        int64_t at = sv->workers[i].restart_at_ms;
        if (at && (next == 0 || at < next))
            next = at;
    }
    return next;
}

/* Binds every worker but the first its own copy of the listeners (and
 * every loop of every worker its own, with bind_loops_first). */
static int open_worker_sets(struct supervisor *sv, char *err, size_t errlen)
{
    sv->sets = calloc((size_t)sv->count * sv->loops_bound, sizeof(*sv->sets));
    if (!sv->sets)
        return error_set(err, errlen, "out of memory");
    sv->sets[0] = sv->srv->listeners;
    for (unsigned i = 1; i < sv->count * sv->loops_bound; i++)
        if (listener_set_copy(&sv->sets[i], &sv->srv->listeners, sv->srv->shared_listeners, err,
                              errlen) != 0)
            return -1;
    return 0;
}

static void free_worker_sets(struct supervisor *sv)
{
    /* Set 0 belongs to the caller's server. */
    for (unsigned i = 1; sv->sets && i < sv->count * sv->loops_bound; i++)
        listener_set_free(&sv->sets[i]);
    free(sv->sets);
}

/* Keeps the workers running until a stop is requested. */
static void supervise(struct supervisor *sv)
{
    while (!stop_requested()) {
        int64_t now = clock_now_ms();
        for (unsigned i = 0; i < sv->count; i++)
            if (sv->workers[i].restart_at_ms && sv->workers[i].restart_at_ms <= now)
                start_worker(sv, i);
        struct pollfd fds[2] = {
            {.fd = stop_fd(), .events = POLLIN},
            {.fd = sv->kids.signal_fd, .events = POLLIN},
        };
        if (poll(fds, 2, clock_timeout_until(next_restart(sv))) < 0 && errno != EINTR)
            break;
        children_reap(&sv->kids);
    }
}

int model_run_workers(const struct model *model, struct server *srv, unsigned workers,
                      unsigned threads, char *err, size_t errlen)
{
    struct supervisor sv = {.model = model,
                            .srv = srv,
                            .threads = threads,
                            .count = workers,
                            .loops_bound = srv->bind_loops_first && threads > 1 ? threads : 1,
                            .supervisor_pid = getpid(),
                            .serving = true};
    sv.workers = calloc(workers, sizeof(*sv.workers));
    if (!sv.workers)
        return error_set(err, errlen, "cannot set up workers: out of memory");
    if (children_init(&sv.kids, workers, err, errlen) != 0) {
        free(sv.workers);
        return -1;
    }
    /* Every worker's sockets are bound before the announcement, so clients
     * that connect as soon as they read it are spread over all of them. */
    if (open_worker_sets(&sv, err, errlen) != 0 ||
        (srv->announce && srv->announce(srv, err, errlen) != 0)) {
        free_worker_sets(&sv);
        children_free(&sv.kids);
        free(sv.workers);
        return -1;
    }
    srv->announce = NULL;
    for (unsigned i = 0; i < workers; i++)
        start_worker(&sv, i);
    supervise(&sv);
    sv.serving = false;
    stop_report_begin(srv->grace_ms);
    /* The parent's copies of the listeners close now; each worker closes
     * its own as it stops, so new clients are refused from here on. */
    for (unsigned i = 0; i < workers * sv.loops_bound; i++)
        listener_set_stop(&sv.sets[i]);
    children_stop(&sv.kids, srv->grace_ms + WORKER_STOP_MARGIN_MS, "workers");
    free_worker_sets(&sv);
    children_free(&sv.kids);
    free(sv.workers);
    if (sv.failed)
        return error_set(err, errlen, "workers could not start (see the worker's error above)");
    return 0;
}
