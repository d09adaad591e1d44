#include "models/blocking.h"
#include "core/conn_model.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/counters.h"
#include "core/datagram.h"
#include "core/error.h"
#include "core/grace.h"
#include "core/log.h"
#include "core/mailbox.h"
#include "core/overflow.h"
#include "core/stop.h"
#include "core/stop_report.h"
#include "core/udp_guard.h"

/* Listeners polled at once by one blocking model; more are served in turns
 * of this many, which no realistic command line reaches. */
#define MAX_WAIT_FDS 256

/* Clients one wake-up resets per listener while a connection is served. */
#define LISTENER_REFUSALS_PER_WAKEUP 64

enum wait_result {
    WAIT_CLIENT, /* A TCP client was accepted or a datagram received. */
    WAIT_EXTRA,  /* The extra descriptor is readable. */
    WAIT_STOP,   /* A stop was requested. */
    WAIT_ERROR   /* poll failed; errno says why. */
};

/* The accepting side's state: the UDP defences and the buffer a datagram is
 * received into, owned by the one accepting thread. */
struct acceptor {
    struct server *srv;
    size_t turn; /* The listener looked at first after the next wait. */
    struct udp_guard guard;
    uint8_t *datagram_buffer;
};

static int acceptor_init(struct acceptor *a, struct server *srv)
{
    memset(a, 0, sizeof(*a));
    a->srv = srv;
    udp_guard_init(&a->guard, srv->udp_rate);
    if (udp_guard_refuse_own_ports(&a->guard, &srv->listeners) != 0)
        return -1;
    for (size_t i = 0; i < srv->listeners.count; i++) {
        if (srv->listeners.items[i].transport == TRANSPORT_UDP) {
            a->datagram_buffer = malloc(DATAGRAM_MAX);
            return a->datagram_buffer ? 0 : -1;
        }
    }
    return 0;
}

static void acceptor_free(struct acceptor *a)
{
    udp_guard_log_totals(&a->guard, "udp");
    udp_guard_free(&a->guard);
    free(a->datagram_buffer);
    a->datagram_buffer = NULL;
}

/* Takes one datagram from l; true when it passed the defences. */
static bool receive_one(struct acceptor *a, struct listener *l, struct accepted *out)
{
    socklen_t len = sizeof(out->peer.u);
    ssize_t n;
    do {
        n = recvfrom(l->fd, a->datagram_buffer, DATAGRAM_MAX, MSG_DONTWAIT, &out->peer.u.sa, &len);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            log_warn("receive on %s: %s", l->name, strerror(errno));
        return false;
    }
    out->peer.length = len;
    if (!admission_admit_datagram(l->admission, l->spec_index, &out->peer) ||
        !udp_guard_admit(&a->guard, l->spec_index, &out->peer, clock_now_ms()))
        return false;
    out->listener = l;
    out->fd = -1;
    out->datagram = a->datagram_buffer;
    out->datagram_len = (size_t)n;
    out->serve_limit_ms = 0;
    out->refuse_arrivals = false;
    return true;
}

static bool take_client(struct acceptor *a, struct listener *l, struct accepted *out)
{
    if (l->transport == TRANSPORT_UDP)
        return receive_one(a, l, out);
    /* Another process or thread may have taken the client first; the
     * listener is non-blocking, so that costs one EAGAIN. */
    if (listener_accept(l, &out->fd, &out->peer) != ACCEPT_OK)
        return false;
    out->listener = l;
    out->datagram = NULL;
    out->datagram_len = 0;
    out->serve_limit_ms = 0;
    out->refuse_arrivals = false;
    return true;
}

/* Resets up to LISTENER_REFUSALS_PER_WAKEUP clients waiting on l, which
 * the server is too full to serve (--overflow refuse). */
static void refuse_waiting(struct listener *l)
{
    for (int k = 0; k < LISTENER_REFUSALS_PER_WAKEUP; k++) {
        int fd;
        struct address peer;
        enum accept_result r = listener_accept_to_refuse(l, &fd, &peer);
        if (r == ACCEPT_OK)
            overflow_refuse(l, fd);
        else if (r != ACCEPT_DROPPED)
            return;
    }
}

static bool accepting(const struct accept_hooks *hooks, enum transport transport)
{
    return !hooks->accepting || hooks->accepting(hooks->ctx, transport);
}

static enum wait_result acceptor_wait(struct acceptor *a, const struct accept_hooks *hooks,
                                      struct accepted *out)
{
    int extra_fd = hooks->extra_fd;
    bool tcp = accepting(hooks, TRANSPORT_TCP);
    bool udp = accepting(hooks, TRANSPORT_UDP);
    struct server *srv = a->srv;
    /* Full, but refusing: the TCP listeners are watched all the same. */
    bool refusing = !tcp && srv->overflow_refuse;
    struct pollfd fds[MAX_WAIT_FDS];
    struct listener *owners[MAX_WAIT_FDS];
    for (;;) {
        if (stop_requested())
            return WAIT_STOP;
        nfds_t n = 0;
        fds[n++] = (struct pollfd){.fd = stop_fd(), .events = POLLIN};
        if (extra_fd >= 0)
            fds[n++] = (struct pollfd){.fd = extra_fd, .events = POLLIN};
        nfds_t first_listener = n;
        for (size_t i = 0; i < srv->listeners.count && n < MAX_WAIT_FDS; i++) {
            if (!(srv->listeners.items[i].transport == TRANSPORT_UDP ? udp : tcp || refusing))
                continue;
            owners[n] = &srv->listeners.items[i];
            fds[n++] = (struct pollfd){.fd = srv->listeners.items[i].fd, .events = POLLIN};
        }
        int ready = poll(fds, n, clock_timeout_until(udp_guard_flush_due(&a->guard)));
        if (ready < 0) {
            if (errno == EINTR)
                continue;
            return WAIT_ERROR;
        }
        udp_guard_flush(&a->guard, clock_now_ms());
        if (ready == 0)
            continue;
        if (fds[0].revents)
            return WAIT_STOP;
        if (extra_fd >= 0 && fds[1].revents)
            return WAIT_EXTRA;
        /* Listeners take turns, so a stream of datagrams on one never
         * keeps the clients of another waiting. */
        nfds_t listeners = n - first_listener;
        for (nfds_t k = 0; k < listeners; k++) {
            nfds_t i = first_listener + (a->turn + k) % listeners;
            if (!fds[i].revents)
                continue;
            /* Still full (a slot may have freed since the wait began). */
            if (refusing && owners[i]->transport == TRANSPORT_TCP &&
                !accepting(hooks, TRANSPORT_TCP)) {
                refuse_waiting(owners[i]);
                continue;
            }
            if (take_client(a, owners[i], out)) {
                a->turn = (size_t)(i - first_listener) + 1;
                return WAIT_CLIENT;
            }
        }
    }
}

/* ---- Connections other threads write to ---------------------------------
 *
 * A connection whose service shares state (chat) is posted to by other
 * connections' threads; its own thread is the only owner of a mailbox hub,
 * and wakes on it beside its socket.
 */
struct thread_owner {
    struct conn_owner owner; /* First: the conn's owner leads back here. */
    struct mailbox_hub hub;
};

static int post_to_thread(struct conn_owner *owner, struct conn *c, const void *data, size_t len)
{
    return mailbox_post(&((struct thread_owner *)owner)->hub, c, data, len);
}

static void release_from_thread(struct conn_owner *owner, struct conn *c)
{
    mailbox_forget(&((struct thread_owner *)owner)->hub, c);
}

/* ---- Serving one connection ---------------------------------------------- */

int blocking_accept_loop(struct server *srv, const struct accept_hooks *hooks, char *err,
                         size_t errlen)
{
    struct acceptor acceptor;
    int rc = acceptor_init(&acceptor, srv);
    if (rc != 0)
        error_set(err, errlen, "out of memory");
    while (rc == 0) {
        struct accepted a;
        enum wait_result r = acceptor_wait(&acceptor, hooks, &a);
        if (r == WAIT_STOP) {
            stop_report_begin(srv->grace_ms);
            break;
        }
        if (r == WAIT_ERROR) {
            rc = error_set(err, errlen, "poll: %s", strerror(errno));
        } else if (r == WAIT_EXTRA) {
            hooks->extra(hooks->ctx);
        } else {
            hooks->client(hooks->ctx, &a);
        }
    }
    listener_set_stop(&srv->listeners);
    acceptor_free(&acceptor);
    return rc;
}

static short poll_events(unsigned interest)
{
    return (short)(((interest & CONN_WANT_READ) ? POLLIN : 0) |
                   ((interest & CONN_WANT_WRITE) ? POLLOUT : 0));
}

/* How often a connection past its time bound looks for a TCP client
 * waiting behind it: the most such a client waits beyond the bound. */
#define WAITING_CHECK_MS 100

/* True when a client waits in the backlog of one of listeners' TCP
 * sockets. */
static bool tcp_client_waiting(const struct listener_set *listeners)
{
    struct pollfd fds[MAX_WAIT_FDS];
    nfds_t n = 0;
    for (size_t i = 0; listeners && i < listeners->count && n < MAX_WAIT_FDS; i++) {
        const struct listener *l = &listeners->items[i];
        if (l->transport == TRANSPORT_TCP && l->fd >= 0)
            fds[n++] = (struct pollfd){.fd = l->fd, .events = POLLIN};
    }
    return n > 0 && poll(fds, n, 0) > 0;
}

/* The TCP listeners of listeners, from fds[first] on, for a connection
 * that refuses arrivals; returns the new count. */
static nfds_t watch_arrivals(const struct listener_set *listeners, struct pollfd *fds, nfds_t first,
                             struct listener **owners)
{
    nfds_t n = first;
    for (size_t i = 0; listeners && i < listeners->count && n - first < MAX_WAIT_FDS; i++) {
        struct listener *l = &listeners->items[i];
        if (l->transport == TRANSPORT_TCP && l->fd >= 0) {
            owners[n - first] = l;
            fds[n++] = (struct pollfd){.fd = l->fd, .events = POLLIN};
        }
    }
    return n;
}

/* Resets the clients waiting on the listeners that poll found readable, a
 * bounded number per listener, so a flood cannot starve the connection
 * being served. */
static void refuse_arrivals(const struct pollfd *fds, nfds_t count, struct listener **owners)
{
    for (nfds_t i = 0; i < count; i++)
        if (fds[i].revents)
            refuse_waiting(owners[i]);
}

static void drive(struct conn *c, struct mailbox_hub *hub, int64_t grace_ms, int64_t limit_ms,
                  struct listener_set *listeners, bool refusing)
{
    struct listener *owners[MAX_WAIT_FDS];
    struct grace grace = {0};
    int64_t give_up = limit_ms > 0 ? clock_now_ms() + limit_ms : 0;
    while (!conn_is_finished(c)) {
        /* Past its bound, a connection is cut only for a TCP client that
         * waits behind it; with nobody waiting it is served to its end. */
        if (give_up && clock_now_ms() >= give_up) {
            if (tcp_client_waiting(listeners)) {
                if (conn_is_datagram(c))
                    counters_add(c->listener->spec_index, COUNTER_DATAGRAMS_BUSY, 1);
                conn_abort(c, "served past its time bound while a client waited");
                break;
            }
            give_up = clock_now_ms() + WAITING_CHECK_MS;
        }
        if (!grace.stopping && stop_requested()) {
            grace_begin(&grace, grace_ms);
            stop_report_begin(grace_ms);
            if (listeners)
                listener_set_stop(listeners);
            conn_begin_stop(c);
            continue;
        }
        if (grace_over(&grace)) {
            struct conn_cut cut = {0};
            conn_cut_at_grace(c, &cut);
            conn_cut_log(&cut);
            break;
        }
        unsigned interest = conn_interest(c);
        int64_t deadline = grace_bound(&grace, conn_deadline(c));
        if (give_up && (deadline == 0 || give_up < deadline))
            deadline = give_up;
        /* A connection that wants nothing from its socket is left out of
         * the wait: poll would report a hang-up on it over and over. */
        /* Room for the listeners too, filled only when refusing, so the
         * common wait costs no more than three entries. */
        struct pollfd fds[3 + MAX_WAIT_FDS];
        fds[0] = (struct pollfd){.fd = interest ? c->fd : -1, .events = poll_events(interest)};
        fds[1] = (struct pollfd){.fd = grace.stopping ? -1 : stop_fd(), .events = POLLIN};
        fds[2] = (struct pollfd){.fd = hub ? hub->wake_fd : -1, .events = POLLIN};
        nfds_t watched =
            refusing && !grace.stopping ? watch_arrivals(listeners, fds, 3, owners) : 3;
        int n = poll(fds, watched, clock_timeout_until(deadline));
        if (n < 0 && errno != EINTR) {
            conn_abort(c, "poll failed");
            break;
        }
        short r = n > 0 ? fds[0].revents : 0;
        if (r & (POLLIN | POLLHUP | POLLERR))
            conn_handle_readable(c);
        if (r & (POLLOUT | POLLHUP | POLLERR))
            conn_handle_writable(c);
        if (n > 0 && fds[2].revents)
            mailbox_deliver(hub);
        if (n > 0)
            refuse_arrivals(fds + 3, watched - 3, owners);
        conn_handle_timer(c, clock_now_ms());
    }
}

void blocking_serve(const struct accepted *a, int64_t grace_ms, struct listener_set *listeners)
{
    struct thread_owner to = {
        .owner = {.post = post_to_thread, .release = release_from_thread},
    };
    bool shared = a->listener->service->flags & SERVICE_SHARED_STATE;
    bool boxed = shared && mailbox_hub_init(&to.hub) == 0;
    struct conn_owner *owner = boxed ? &to.owner : NULL;
    struct conn *c = NULL;
    if (!shared || boxed)
        c = a->fd >= 0 ? conn_create(a->fd, &a->peer, a->listener, owner)
                       : conn_create_datagram(&a->peer, a->listener, owner);
    if (!c) {
        log_warn("out of resources: dropping a client of %s", a->listener->name);
        if (a->fd >= 0) {
            close(a->fd);
            admission_release(a->listener->admission, &a->peer);
        }
        if (boxed)
            mailbox_hub_free(&to.hub);
        return;
    }
    if (a->fd >= 0)
        conn_start(c);
    else
        conn_deliver_datagram(c, a->datagram, a->datagram_len);
    drive(c, boxed ? &to.hub : NULL, grace_ms, a->serve_limit_ms, listeners,
          a->refuse_arrivals && a->fd >= 0);
    conn_destroy(c);
    if (boxed)
        mailbox_hub_free(&to.hub);
}
