/*
 * The fork model: a process per connection, as inetd and the early Unix
 * servers did it. The parent only accepts and reaps; each child serves one
 * client and exits. Children are reaped through a signalfd, so no zombie
 * outlives its client and the parent never polls on a timer. A stop is
 * passed on to every child with SIGTERM, and each child honours the grace
 * period itself; any child still alive after it is killed.
 *
 * Over UDP it is a process per datagram, as in the tutorials, under the
 * same --max-conns bound; the child answers through the listener's socket.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/stop.h"
#include "models/blocking.h"

struct children {
    pid_t *pids; /* Live children; at most max_conns. */
    size_t count;
    size_t capacity;
};

static void reap(struct children *kids)
{
    pid_t pid;
    int status;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (size_t i = 0; i < kids->count; i++) {
            if (kids->pids[i] == pid) {
                kids->pids[i] = kids->pids[--kids->count];
                break;
            }
        }
        if (WIFSIGNALED(status) && WTERMSIG(status) != SIGTERM && WTERMSIG(status) != SIGKILL)
            log_warn("connection process %d died of signal %d", (int)pid, WTERMSIG(status));
    }
}

static void drain_signalfd(int fd)
{
    struct signalfd_siginfo info[16];
    ssize_t ignored = read(fd, info, sizeof(info));
    (void)ignored; /* Non-blocking; the reap loop finds every exit anyway. */
}

/* The child keeps only the socket it serves: a datagram is answered
 * through its listener's socket, a TCP client through its own. */
static void close_other_listeners(struct server *srv, const struct accepted *a)
{
    for (size_t i = 0; i < srv->listeners.count; i++) {
        struct listener *l = &srv->listeners.items[i];
        if (l != a->listener || a->fd >= 0) {
            close(l->fd);
            l->fd = -1;
        }
    }
}

static void __attribute__((noreturn))
serve_child(struct server *srv, const struct accepted *a, const sigset_t *parent_mask)
{
    /* A stop latch of its own, so that stopping one child never stops the
     * parent; the parent passes its own stop on with SIGTERM. */
    close_other_listeners(srv, a);
    if (stop_install() != 0 || sigprocmask(SIG_SETMASK, parent_mask, NULL) != 0)
        _exit(1);
    blocking_serve(a, srv->grace_ms, NULL);
    /* _exit: the parent's stdio buffers and atexit handlers are not ours. */
    _exit(0);
}

/* What the accept loop needs to fork and reap connection processes. */
struct forker {
    struct server *srv;
    struct children *kids;
    const sigset_t *parent_mask;
    int sigfd;
};

static bool below_limit(void *ctx)
{
    struct forker *f = ctx;
    return f->kids->count < f->kids->capacity;
}

static void child_ended(void *ctx)
{
    struct forker *f = ctx;
    drain_signalfd(f->sigfd);
    reap(f->kids);
}

static void spawn(void *ctx, const struct accepted *a)
{
    struct forker *f = ctx;
    struct server *srv = f->srv;
    struct children *kids = f->kids;
    const sigset_t *parent_mask = f->parent_mask;
    pid_t pid = fork();
    if (pid == 0)
        serve_child(srv, a, parent_mask);
    if (a->fd >= 0)
        close(a->fd);
    if (pid < 0) {
        log_warn("cannot fork for a client of %s: %s", a->listener->name, strerror(errno));
        return;
    }
    kids->pids[kids->count++] = pid;
}

static void stop_children(struct children *kids, int sigfd, int64_t grace_ms)
{
    for (size_t i = 0; i < kids->count; i++)
        kill(kids->pids[i], SIGTERM);
    int64_t deadline = clock_now_ms() + grace_ms + 1000;
    while (kids->count > 0) {
        int timeout = clock_timeout_until(deadline);
        if (timeout == 0) {
            for (size_t i = 0; i < kids->count; i++)
                kill(kids->pids[i], SIGKILL);
            deadline = clock_now_ms() + 1000;
        }
        struct pollfd pfd = {.fd = sigfd, .events = POLLIN};
        if (poll(&pfd, 1, clock_timeout_until(deadline)) > 0)
            drain_signalfd(sigfd);
        reap(kids);
    }
}

static int run_fork(struct server *srv, char *err, size_t errlen)
{
    struct children kids = {.capacity = srv->max_conns};
    kids.pids = calloc(kids.capacity, sizeof(*kids.pids));
    sigset_t chld, parent_mask;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    /* SIGCHLD is blocked and read from a signalfd, so an exit wakes the
     * accept wait and is never lost between a check and the wait. */
    if (!kids.pids || sigprocmask(SIG_BLOCK, &chld, &parent_mask) != 0) {
        snprintf(err, errlen, "cannot set up child reaping: %s", strerror(errno));
        free(kids.pids);
        return -1;
    }
    int sigfd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
    if (sigfd < 0) {
        snprintf(err, errlen, "signalfd: %s", strerror(errno));
        free(kids.pids);
        return -1;
    }
    struct forker forker = {srv, &kids, &parent_mask, sigfd};
    struct accept_loop loop = {
        .ctx = &forker,
        .accepting = below_limit,
        .client = spawn,
        .extra_fd = sigfd,
        .extra = child_ended,
    };
    int rc = blocking_accept_loop(srv, &loop, err, errlen);
    stop_children(&kids, sigfd, srv->grace_ms);
    close(sigfd);
    free(kids.pids);
    return rc;
}

const struct model model_fork = {
    .name = "fork",
    .summary = "a process per connection, bounded by --max-conns",
    .no_shared_state = "it keeps each connection in a process of its own, and state shared"
                       " across processes needs a broker",
    .default_max_conns = 1024,
    .run = run_fork,
};
