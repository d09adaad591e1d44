#include "models/event_loop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/log.h"
#include "core/stop.h"
#include "models/loop_skeleton.h"

/* Datagram batches read from one UDP listener per wake-up, for the same
 * reason. */
#define DATAGRAM_BATCHES_PER_WAKEUP 4

struct event_loop {
    struct loop loop; /* First: the skeleton's hooks lead back here. */
    const struct readiness_backend *backend;
    void *backend_state;
    struct fired_event fired[EVENT_BATCH_MAX];
};

static struct event_loop *event_loop_of(struct loop *loop)
{
    return (struct event_loop *)loop;
}

static int watch(struct loop *loop, int fd, unsigned old_mask, unsigned new_mask)
{
    struct event_loop *ev = event_loop_of(loop);
    return ev->backend->watch(ev->backend_state, fd, old_mask, new_mask);
}

/* ---- Connections -------------------------------------------------------- */

static void forget(struct loop *loop, struct conn *c)
{
    if (c->watched_events)
        (void)watch(loop, c->fd, c->watched_events, 0);
}

static unsigned event_mask(unsigned interest)
{
    return ((interest & CONN_WANT_READ) ? EVENT_READ : 0) |
           ((interest & CONN_WANT_WRITE) ? EVENT_WRITE : 0);
}

/* Brings the backend and the timer heap in line with what c wants now, or
 * destroys c when it is finished. */
static void reconcile(struct loop *loop, struct conn *c)
{
    struct conn_status st = conn_status(c);
    /* Output queued since the last flush (conn_queue_write) is sent now,
     * once for everything this turn of the loop queued, before asking the
     * backend to watch for writability: usually the socket takes it all. */
    if (st.output_pending > 0 && !(c->watched_events & EVENT_WRITE)) {
        conn_handle_writable(c);
        st = conn_status(c);
    }
    if (st.finished) {
        loop_drop_conn(loop, c);
        return;
    }
    unsigned new_mask = event_mask(st.interest);
    if (new_mask != c->watched_events) {
        if (watch(loop, c->fd, c->watched_events, new_mask) != 0) {
            log_warn("%s cannot watch a connection: %s", loop->name, strerror(errno));
            loop_abort_conn(loop, c, "cannot be watched");
            return;
        }
        c->watched_events = (uint8_t)new_mask;
    }
    if (timer_heap_update(&loop->timers, c) != 0)
        loop_abort_conn(loop, c, "out of memory for its timer");
}

/* ---- Listeners ---------------------------------------------------------- */

static void listen_all(struct loop *loop, enum transport transport, bool on)
{
    struct listener_set *set = &loop->srv->listeners;
    /* With other loops on the same sockets, one wake-up per client. */
    unsigned mask = EVENT_READ | (loop->srv->shared_listeners ? EVENT_EXCLUSIVE : 0);
    for (size_t i = 0; i < set->count; i++) {
        if (set->items[i].fd < 0 || set->items[i].transport != transport)
            continue;
        if (watch(loop, set->items[i].fd, on ? 0 : mask, on ? mask : 0) != 0)
            log_warn("%s cannot watch %s: %s", loop->name, set->items[i].name, strerror(errno));
    }
}

static struct listener *listener_on(struct loop *loop, int fd)
{
    struct listener_set *set = &loop->srv->listeners;
    for (size_t i = 0; i < set->count; i++)
        if (set->items[i].fd == fd)
            return &set->items[i];
    return NULL;
}

static int watch_stop(struct loop *loop)
{
    return watch(loop, stop_fd(), 0, EVENT_READ);
}

static int watch_mail(struct loop *loop)
{
    return watch(loop, loop->hub.wake_fd, 0, EVENT_READ);
}

/* Closing the TCP listeners at once refuses new clients while the open
 * connections finish. */
static void stop_listeners(struct loop *loop)
{
    (void)watch(loop, stop_fd(), EVENT_READ, 0);
    listener_set_stop(&loop->srv->listeners);
}

/* ---- Waiting ------------------------------------------------------------ */

static void dispatch(struct loop *loop, const struct fired_event *ev)
{
    struct conn *c = loop_conn_at(loop, ev->fd);
    if (c) {
        if (ev->mask & EVENT_READ)
            conn_handle_readable(c);
        if (ev->mask & EVENT_WRITE)
            conn_handle_writable(c);
        reconcile(loop, c);
    } else if (ev->fd == stop_fd()) {
        loop_begin_stop(loop);
    } else if (loop->has_hub && ev->fd == loop->hub.wake_fd) {
        mailbox_deliver(&loop->hub);
    } else {
        /* A listener turned off earlier in this batch may still report. */
        struct listener *l = listener_on(loop, ev->fd);
        if (l && l->transport == TRANSPORT_UDP && loop->receiving)
            loop_receive_datagrams(loop, l, DATAGRAM_BATCHES_PER_WAKEUP);
        else if (l && l->transport == TRANSPORT_TCP && loop->listening)
            loop_accept_clients(loop, l);
    }
}

static int wait_and_dispatch(struct loop *loop, int timeout_ms, char *err, size_t errlen)
{
    struct event_loop *ev = event_loop_of(loop);
    int n = ev->backend->wait(ev->backend_state, timeout_ms, ev->fired, EVENT_BATCH_MAX);
    if (n < 0)
        return error_set(err, errlen, "%s failed: %s", loop->name, strerror(errno));
    for (int i = 0; i < n; i++)
        dispatch(loop, &ev->fired[i]);
    return 0;
}

static const struct loop_hooks event_loop_hooks = {
    .queue_writes = false,
    .watch_stop = watch_stop,
    .watch_mail = watch_mail,
    .wait = wait_and_dispatch,
    .reconcile = reconcile,
    .forget = forget,
    .listen = listen_all,
    .stop_listeners = stop_listeners,
};

int event_loop_run(const struct readiness_backend *backend, struct server *srv, char *err,
                   size_t errlen)
{
    struct event_loop *ev = calloc(1, sizeof(*ev));
    if (!ev)
        return error_set(err, errlen, "out of memory");
    ev->backend = backend;
    ev->loop.hooks = &event_loop_hooks;
    ev->loop.name = backend->name;
    ev->loop.srv = srv;
    ev->backend_state = backend->create(err, errlen);
    int rc = ev->backend_state ? loop_run(&ev->loop, err, errlen) : -1;
    if (ev->backend_state)
        backend->destroy(ev->backend_state);
    loop_free(&ev->loop);
    free(ev);
    return rc;
}
