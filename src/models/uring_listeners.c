#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"
#include "core/overflow.h"
#include "models/uring_loop.h"

/* Multishot accept takes every client the kernel completes until it is
 * cancelled, which can overshoot --max-conns by whatever arrives before
 * the cancel lands; so with less room than this left, a listener takes one
 * client per single-shot accept. */
#define MULTISHOT_MIN_ROOM 256

static void disarm_listener(struct uring_loop *u, size_t i);

void uring_on_accept(struct uring_loop *u, struct listener *l, const struct io_uring_cqe *cqe)
{
    struct loop *loop = &u->loop;
    size_t index = (size_t)(l - loop->srv->listeners.items);
    if (!(cqe->flags & IORING_CQE_F_MORE))
        u->listener_requests[index] = LISTENER_IDLE;
    if (cqe->res == -EMFILE || cqe->res == -ENFILE) {
        /* io_uring's accept takes a descriptor before it looks for a
         * client, so at the limit a new accept fails at once whether or not
         * anyone waits: tell those waiting, then wait for a descriptor to
         * free up rather than re-arm. */
        (void)listener_shed_waiting(l);
        loop_pause_accepting(loop);
        return;
    }
    if (cqe->res < 0) {
        if (cqe->res != -ECANCELED && cqe->res != -ECONNABORTED && cqe->res != -EAGAIN)
            log_warn("accept on %s: %s", l->name, strerror(-cqe->res));
    } else if (loop->conn_count >= loop->srv->max_conns && loop_refuses_when_full(loop)) {
        overflow_refuse(l, cqe->res);
    } else {
        /* Past the limit without --overflow refuse (accepts armed on two
         * listeners with room for one, or a multishot accept's completions
         * that beat its cancel), or at this loop's share while the process
         * has room: the kernel has accepted the client, and serving it
         * overshoots the limit by a few where refusing would turn away a
         * client that --overflow wait promised to take. */
        int fd = cqe->res;
        struct address peer = {.length = sizeof(peer.u)};
        if (getpeername(fd, &peer.u.sa, &peer.length) != 0) {
            close(fd); /* Gone before we looked: nothing to serve. */
        } else if (listener_adopt(l, fd, &peer)) {
            loop_adopt_client(loop, l, fd, &peer);
        }
    }
    /* With --overflow refuse the listener stays armed at the limit, and
     * overshooting it only refuses more. */
    bool refuse = loop_refuses_when_full(loop);
    if (loop->conn_count >= loop->srv->max_conns && !refuse)
        loop_set_listening(loop, false);
    else if (u->listener_requests[index] == LISTENER_MULTISHOT && !refuse &&
             loop->srv->max_conns - loop->conn_count <= MULTISHOT_MIN_ROOM)
        disarm_listener(u, index); /* Re-armed single-shot at the end of the turn. */
}

/*
 * Once the loop has run out of descriptors, and until a connection of it
 * closes, a TCP listener is watched with a poll and accepted from with
 * listener_accept instead. A poll takes no descriptor, so it waits quietly
 * at the limit where an accept would fail at once; and listener_accept's
 * accepts hold the lock that keeps them from taking the number of a spare
 * that another loop has closed to turn its clients away, where the
 * kernel's would not.
 */
void uring_on_accept_ready(struct uring_loop *u, struct listener *l, const struct io_uring_cqe *cqe)
{
    struct loop *loop = &u->loop;
    u->listener_requests[l - loop->srv->listeners.items] = LISTENER_IDLE;
    if (cqe->res >= 0)
        loop_accept_clients(loop, l);
}

void uring_on_udp_readable(struct uring_loop *u, struct listener *l, const struct io_uring_cqe *cqe)
{
    size_t index = (size_t)(l - u->loop.srv->listeners.items);
    if (!(cqe->flags & IORING_CQE_F_MORE))
        u->listener_requests[index] = LISTENER_IDLE;
    /* A multishot poll fires again only for new datagrams, so everything
     * waiting is read now. */
    if (cqe->res >= 0 && u->loop.receiving)
        loop_receive_datagrams(&u->loop, l, INT_MAX);
}

static void arm_listener(struct uring_loop *u, size_t i)
{
    struct loop *loop = &u->loop;
    struct listener *l = &loop->srv->listeners.items[i];
    bool udp = l->transport == TRANSPORT_UDP;
    size_t max = udp ? server_max_datagrams(loop->srv) : loop->srv->max_conns;
    size_t count = udp ? loop->datagram_count : loop->conn_count;
    size_t room = max > count ? max - count : 0;
    bool refuse = !udp && loop_refuses_when_full(loop); /* Takes clients even when full. */
    if (u->listener_requests[i] != LISTENER_IDLE || l->fd < 0 || (room == 0 && !refuse))
        return;
    struct io_uring_sqe *sqe = uring_next_sqe(u);
    if (udp) {
        io_uring_prep_poll_multishot(sqe, l->fd, POLLIN);
        io_uring_sqe_set_data64(sqe, uring_user_data(l, REQUEST_UDP_POLL));
        u->listener_requests[i] = LISTENER_MULTISHOT;
    } else if (loop->accept_paused_until_ms != 0) {
        io_uring_prep_poll_add(sqe, l->fd, POLLIN);
        io_uring_sqe_set_data64(sqe, uring_user_data(l, REQUEST_ACCEPT_READY));
        u->listener_requests[i] = LISTENER_POLL;
    } else if (room > MULTISHOT_MIN_ROOM) {
        io_uring_prep_multishot_accept(sqe, l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        io_uring_sqe_set_data64(sqe, uring_user_data(l, REQUEST_ACCEPT));
        u->listener_requests[i] = LISTENER_MULTISHOT;
    } else {
        io_uring_prep_accept(sqe, l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        io_uring_sqe_set_data64(sqe, uring_user_data(l, REQUEST_ACCEPT));
        u->listener_requests[i] = LISTENER_SINGLE;
    }
}

static void disarm_listener(struct uring_loop *u, size_t i)
{
    struct listener *l = &u->loop.srv->listeners.items[i];
    if (u->listener_requests[i] == LISTENER_IDLE || u->listener_requests[i] == LISTENER_CANCELLING)
        return;
    enum request_kind kind = l->transport == TRANSPORT_UDP              ? REQUEST_UDP_POLL
                             : u->listener_requests[i] == LISTENER_POLL ? REQUEST_ACCEPT_READY
                                                                        : REQUEST_ACCEPT;
    u->listener_requests[i] = LISTENER_CANCELLING;
    struct io_uring_sqe *sqe = uring_next_sqe(u);
    io_uring_prep_cancel64(sqe, uring_user_data(l, kind), 0);
    io_uring_sqe_set_data64(sqe, REQUEST_IGNORED);
}

void uring_listen(struct loop *loop, enum transport transport, bool on)
{
    struct uring_loop *u = uring_loop_of(loop);
    for (size_t i = 0; i < loop->srv->listeners.count; i++) {
        if (loop->srv->listeners.items[i].transport != transport)
            continue;
        if (on)
            arm_listener(u, i);
        else
            disarm_listener(u, i);
    }
}

/*
 * A pending accept holds its own reference to the listening socket, so
 * closing our descriptor would not refuse new clients while the request
 * lives, not even after exit, since the kernel tears a ring down in the
 * background. So the listeners close once their requests are cancelled.
 */
static void stop_listeners_when_idle(struct uring_loop *u)
{
    if (u->listeners_stopped)
        return;
    for (size_t i = 0; i < u->loop.srv->listeners.count; i++)
        if (u->listener_requests[i] != LISTENER_IDLE)
            return;
    listener_set_stop(&u->loop.srv->listeners);
    u->listeners_stopped = true;
}

bool uring_may_finish(struct loop *loop)
{
    struct uring_loop *u = uring_loop_of(loop);
    stop_listeners_when_idle(u);
    return u->listeners_stopped;
}

void uring_end_turn(struct loop *loop)
{
    struct uring_loop *u = uring_loop_of(loop);
    if (loop->grace.stopping) {
        stop_listeners_when_idle(u);
        return;
    }
    /* A listener whose multishot request ended (EMFILE, say) is re-armed. */
    for (size_t i = 0; i < loop->srv->listeners.count; i++) {
        bool udp = loop->srv->listeners.items[i].transport == TRANSPORT_UDP;
        if (udp ? loop->receiving : loop->listening)
            arm_listener(u, i);
    }
}
