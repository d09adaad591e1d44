/*
 * The fork model: a process per connection, as inetd and the early Unix
 * servers did it. The parent only accepts and reaps; each child serves one
 * client and exits. Children are reaped through a signalfd, so no zombie
 * outlives its client and the parent never polls on a timer. A stop is
 * passed on to every child with SIGTERM, and each child honours the grace
 * period itself; any child still alive after it is killed.
 *
 * Over UDP it is a process per datagram, as in the tutorials, under a
 * bound of its own (--max-datagrams), so slow datagrams never take TCP's
 * processes; the child answers through the listener's socket.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/children.h"
#include "core/counters.h"
#include "core/grace.h"
#include "core/log.h"
#include "core/stop.h"
#include "models/blocking.h"

/* A connection process that ended: one killed by anything but the stop
 * (SIGTERM, or SIGKILL past the grace) is worth a warning. */
struct forker;
static void count_out(struct forker *f, bool datagram);

static void process_ended(void *ctx, pid_t pid, int status, bool datagram)
{
    count_out(ctx, datagram);
    counters_release_process(pid);
    if (WIFSIGNALED(status) && WTERMSIG(status) != SIGTERM && WTERMSIG(status) != SIGKILL)
        log_warn("connection process %d died of signal %d", (int)pid, WTERMSIG(status));
}

static void connection_process_ended(void *ctx, pid_t pid, int status)
{
    process_ended(ctx, pid, status, false);
}

static void datagram_process_ended(void *ctx, pid_t pid, int status)
{
    process_ended(ctx, pid, status, true);
}

/* A connection process whose source holds a per-source slot. The parent
 * gives the slot back when it reaps the child, however the child ended
 * (its connection closed, a crash, SIGKILL past the grace, a failed start),
 * and the child never does: one owner, so a slot is given back exactly
 * once. */
struct limited_child {
    struct forker *forker;
    const struct listener *listener;
    struct address peer;
};

static void limited_process_ended(void *ctx, pid_t pid, int status)
{
    struct limited_child *child = ctx;
    admission_release(child->listener->admission, &child->peer);
    process_ended(child->forker, pid, status, false);
    free(child);
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

/* The child's copy of its listener admits no one and gives nothing back:
 * its client was admitted already, and the parent gives the slot back. */
static void leave_slot_to_parent(struct server *srv, const struct accepted *a)
{
    for (size_t i = 0; i < srv->listeners.count; i++)
        if (&srv->listeners.items[i] == a->listener)
            srv->listeners.items[i].admission = NULL;
}

static void __attribute__((noreturn))
serve_child(struct server *srv, const struct accepted *a, const struct children *kids)
{
    /* A stop latch of its own, so that stopping one child never stops the
     * parent; the parent passes its own stop on with SIGTERM. */
    close_other_listeners(srv, a);
    leave_slot_to_parent(srv, a);
    if (stop_install() != 0 || children_unblock(kids) != 0)
        _exit(1);
    /* A slot of its own: the parent goes on writing the one it inherited. */
    counters_claim_slot(srv->worker, -1);
    blocking_serve(a, srv->grace_ms, NULL);
    /* _exit: the parent's stdio buffers and atexit handlers are not ours. */
    _exit(0);
}

/* What the accept loop needs to fork and reap connection processes. */
struct forker {
    struct server *srv;
    struct children kids; /* At most max_conns + the datagram budget. */
    size_t streams;       /* Children serving a TCP client. */
    size_t datagrams;     /* Children serving a datagram. */
};

static void count_out(struct forker *f, bool datagram)
{
    if (datagram)
        f->datagrams--;
    else
        f->streams--;
}

static bool below_limit(void *ctx, enum transport transport)
{
    struct forker *f = ctx;
    if (children_full(&f->kids))
        return false;
    if (transport == TRANSPORT_UDP)
        return f->datagrams < server_max_datagrams(f->srv);
    return f->streams < f->srv->max_conns;
}

static void child_ended(void *ctx)
{
    struct forker *f = ctx;
    children_reap(&f->kids);
}

static void spawn(void *ctx, const struct accepted *a)
{
    struct forker *f = ctx;
    bool datagram = a->fd < 0;
    struct limited_child *limited = NULL;
    if (!datagram && a->listener->admission && a->listener->admission->sources) {
        limited = malloc(sizeof(*limited));
        if (!limited) {
            log_warn("out of memory: dropping a client of %s", a->listener->name);
            close(a->fd);
            admission_release(a->listener->admission, &a->peer);
            return;
        }
        *limited = (struct limited_child){.forker = f, .listener = a->listener, .peer = a->peer};
    }
    pid_t pid =
        limited ? children_fork(&f->kids, limited_process_ended, limited)
                : children_fork(&f->kids,
                                datagram ? datagram_process_ended : connection_process_ended, f);
    if (pid == 0)
        serve_child(f->srv, a, &f->kids);
    int saved = errno;
    if (pid < 0)
        free(limited);
    if (pid > 0 && datagram)
        f->datagrams++;
    else if (pid > 0)
        f->streams++;
    if (a->fd >= 0)
        close(a->fd);
    if (pid < 0) {
        log_warn("cannot fork for a client of %s: %s", a->listener->name, strerror(saved));
        /* No child to end the connection and give its slot back. */
        if (a->fd >= 0)
            admission_release(a->listener->admission, &a->peer);
    }
}

static int run_fork(struct server *srv, char *err, size_t errlen)
{
    struct forker forker = {.srv = srv};
    if (children_init(&forker.kids, srv->max_conns + server_max_datagrams(srv), err, errlen) != 0)
        return -1;
    struct accept_hooks hooks = {
        .ctx = &forker,
        .accepting = below_limit,
        .client = spawn,
        .extra_fd = forker.kids.signal_fd,
        .extra = child_ended,
    };
    int rc = blocking_accept_loop(srv, &hooks, err, errlen);
    /* Each child honours the grace itself; the margin covers its last
     * write as the grace ends. */
    children_stop(&forker.kids, srv->grace_ms + GRACE_MARGIN_MS, "connection processes");
    children_free(&forker.kids);
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
