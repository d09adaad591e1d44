/*
 * The io_uring model: one thread, and the kernel doing the I/O.
 *
 * Where the readiness models ask "can I read?" and then read, this model
 * keeps standing requests in the kernel and is handed results:
 *   - one multishot accept per TCP listener yields every new client;
 *   - one receive at a time per connection yields its bytes in a buffer
 *     the kernel picks from a shared provided-buffer ring, so an idle
 *     connection holds no receive buffer of its own. It is single-shot, and
 *     re-armed while the connection wants input: a multishot receive would
 *     go on emptying the socket into the ring after the connection paused,
 *     and a client that sends without reading would make the server hold
 *     its whole socket buffer rather than --max-queue;
 *   - a send is submitted whenever a connection has output queued.
 * Requests are queued as they arise and submitted together with the wait
 * for completions, so a busy loop makes one system call per batch of
 * completions rather than several per request.
 *
 * UDP listeners are watched with a multishot poll and served through the
 * same recvmmsg/sendmmsg batches as the event loops.
 *
 * A connection is freed only once the kernel holds no request that points
 * at it: a finished connection first has its receive cancelled and waits
 * for the last completion.
 */
#include <errno.h>
#include <liburing.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "core/conn_model.h"
#include "core/error.h"
#include "core/stop.h"
#include "models/loop_skeleton.h"
#include "models/model.h"
#include "models/uring_loop.h"
#include "models/uring_setup.h"

#define RING_ENTRIES 4096
/* Input that was in flight when a connection paused is held by conn.c, up
 * to a limit that must cover the one receive a connection has in flight. */
_Static_assert(URING_BUFFER_SIZE <= CONN_HELD_INPUT_MAX,
               "conn.c must be able to hold what one receive can deliver");

/* Bits of conn->kernel_requests: which of its requests the kernel holds. */
#define RECV_ARMED 0x1u
#define RECV_CANCELLING 0x2u
#define SEND_BUSY 0x4u
#define SEND_CANCELLING 0x8u

/* A connection's model data (conn->model_data): the output being sent,
 * which the kernel reads from, allocated only while a send is in flight, so
 * an idle connection costs nothing here. */
struct uring_send {
    struct buffer inflight;
};

/* ==== Connections ======================================================== */

static struct uring_send *send_of(struct conn *c)
{
    if (!c->model_data)
        c->model_data = calloc(1, sizeof(struct uring_send));
    return c->model_data;
}

/* Frees the model data once its send is over. */
static void free_send_when_done(struct conn *c)
{
    struct uring_send *send = c->model_data;
    if (send && buffer_is_empty(&send->inflight)) {
        free(send);
        c->model_data = NULL;
    }
}

/* The skeleton's forget hook: c is about to be destroyed. */
static void forget(struct loop *loop, struct conn *c)
{
    (void)loop;
    struct uring_send *send = c->model_data;
    if (send) {
        buffer_free(&send->inflight);
        free(send);
        c->model_data = NULL;
    }
}

static void arm_recv(struct uring_loop *u, struct conn *c)
{
    struct io_uring_sqe *sqe = uring_next_sqe(u);
    io_uring_prep_recv(sqe, c->fd, NULL, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = URING_BUFFER_GROUP;
    io_uring_sqe_set_data64(sqe, uring_user_data(c, REQUEST_RECV));
    c->kernel_requests |= RECV_ARMED;
}

static void cancel_recv(struct uring_loop *u, struct conn *c)
{
    struct io_uring_sqe *sqe = uring_next_sqe(u);
    io_uring_prep_cancel64(sqe, uring_user_data(c, REQUEST_RECV), 0);
    io_uring_sqe_set_data64(sqe, REQUEST_IGNORED);
    c->kernel_requests |= RECV_CANCELLING;
}

static void cancel_send(struct uring_loop *u, struct conn *c)
{
    struct io_uring_sqe *sqe = uring_next_sqe(u);
    io_uring_prep_cancel64(sqe, uring_user_data(c, REQUEST_SEND), 0);
    io_uring_sqe_set_data64(sqe, REQUEST_IGNORED);
    c->kernel_requests |= SEND_CANCELLING;
}

static void start_send(struct uring_loop *u, struct conn *c)
{
    struct uring_send *send = c->model_data;
    struct io_uring_sqe *sqe = uring_next_sqe(u);
    io_uring_prep_send(sqe, c->fd, buffer_peek(&send->inflight), buffer_length(&send->inflight),
                       MSG_NOSIGNAL);
    io_uring_sqe_set_data64(sqe, uring_user_data(c, REQUEST_SEND));
    c->kernel_requests |= SEND_BUSY;
}

/* c is finished: cancels what the kernel still holds for it, and frees it
 * once no request points at it. */
static void finish(struct uring_loop *u, struct conn *c, bool dropped)
{
    if ((c->kernel_requests & RECV_ARMED) && !(c->kernel_requests & RECV_CANCELLING))
        cancel_recv(u, c);
    /* A dropped client's send may wait forever on a peer that stopped
     * reading; nothing more is owed to it. */
    if ((c->kernel_requests & SEND_BUSY) && !(c->kernel_requests & SEND_CANCELLING) && dropped)
        cancel_send(u, c);
    if (!(c->kernel_requests & (RECV_ARMED | SEND_BUSY)))
        loop_drop_conn(&u->loop, c);
}

/* Keeps a receive armed exactly while c wants input. */
static void match_recv(struct uring_loop *u, struct conn *c, unsigned interest)
{
    bool armed = c->kernel_requests & RECV_ARMED;
    if ((interest & CONN_WANT_READ) && !armed)
        arm_recv(u, c);
    else if (!(interest & CONN_WANT_READ) && armed && !(c->kernel_requests & RECV_CANCELLING))
        cancel_recv(u, c);
}

/* Starts a send of everything queued, unless one is in flight. Returns -1
 * when memory runs out. */
static int send_pending(struct uring_loop *u, struct conn *c, const struct conn_status *st)
{
    if (c->kernel_requests & SEND_BUSY)
        return 0;
    size_t pending = st->output_pending;
    if (pending == 0 && (st->interest & CONN_WANT_WRITE)) {
        conn_sent(c, 0); /* A generator with room to fill. */
        pending = conn_status(c).output_pending;
    }
    if (pending == 0)
        return 0;
    struct uring_send *send = send_of(c);
    if (!send)
        return -1;
    conn_take_output(c, &send->inflight);
    start_send(u, c);
    return 0;
}

/* Brings the kernel's requests in line with what c wants now, or frees c
 * once it is finished and no request of the kernel points at it. */
static void reconcile(struct loop *loop, struct conn *c)
{
    struct uring_loop *u = uring_loop_of(loop);
    if (conn_is_datagram(c)) {
        if (conn_status(c).finished)
            loop_drop_conn(loop, c);
        else if (timer_heap_update(&loop->timers, c) != 0)
            conn_abort(c, "out of memory for its timer");
        return;
    }
    conn_release_held_input(c);
    struct conn_status st = conn_status(c);
    if (st.finished) {
        finish(u, c, st.dropped);
        return;
    }
    match_recv(u, c, st.interest);
    if (send_pending(u, c, &st) != 0) {
        conn_abort(c, "out of memory");
        reconcile(loop, c);
        return;
    }
    if (timer_heap_update(&loop->timers, c) != 0)
        conn_abort(c, "out of memory for its timer");
}

static void arm_mail(struct uring_loop *u)
{
    struct io_uring_sqe *sqe = uring_next_sqe(u);
    io_uring_prep_poll_multishot(sqe, u->loop.hub.wake_fd, POLLIN);
    io_uring_sqe_set_data64(sqe, uring_user_data(NULL, REQUEST_MAIL));
}

static int watch_mail(struct loop *loop)
{
    arm_mail(uring_loop_of(loop));
    return 0;
}

static int watch_stop(struct loop *loop)
{
    struct uring_loop *u = uring_loop_of(loop);
    struct io_uring_sqe *sqe = uring_next_sqe(u);
    io_uring_prep_poll_add(sqe, stop_fd(), POLLIN);
    io_uring_sqe_set_data64(sqe, uring_user_data(NULL, REQUEST_STOP));
    return 0;
}

/* ==== Completions ======================================================== */

static void on_recv(struct uring_loop *u, struct conn *c, const struct io_uring_cqe *cqe)
{
    if (!(cqe->flags & IORING_CQE_F_MORE))
        c->kernel_requests &= (uint8_t) ~(RECV_ARMED | RECV_CANCELLING);
    if (cqe->res > 0 && (cqe->flags & IORING_CQE_F_BUFFER)) {
        unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
        conn_receive(c, uring_buffer(&u->buffers, bid), (size_t)cqe->res);
        uring_buffers_recycle(&u->buffers, bid);
    } else if (cqe->res == 0) {
        conn_receive(c, NULL, 0);
    } else if (cqe->res != -ENOBUFS && cqe->res != -ECANCELED) {
        /* ENOBUFS: the ring ran dry; reconcile re-arms once it refills. */
        conn_abort(c, "connection lost");
    }
    reconcile(&u->loop, c);
}

static void on_send(struct uring_loop *u, struct conn *c, const struct io_uring_cqe *cqe)
{
    struct uring_send *send = c->model_data;
    c->kernel_requests &= (uint8_t) ~(SEND_BUSY | SEND_CANCELLING);
    if (cqe->res < 0) {
        buffer_free(&send->inflight);
        conn_abort(c, "connection lost");
    } else {
        buffer_consume(&send->inflight, (size_t)cqe->res);
        conn_sent(c, (size_t)cqe->res);
        /* A short send: the rest goes from where it stopped, even when the
         * connection is closing, since the peer is owed every byte. */
        if (!buffer_is_empty(&send->inflight) && !conn_drop_reason(c))
            start_send(u, c);
        else
            buffer_free(&send->inflight);
    }
    free_send_when_done(c);
    reconcile(&u->loop, c);
}

/* The ring is gone with every request in it, so no request points at any
 * connection any more: the skeleton may destroy the rest. */
static void quiesce(struct loop *loop)
{
    struct uring_loop *u = uring_loop_of(loop);
    if (u->ring_open)
        io_uring_queue_exit(&u->ring);
    u->ring_open = false;
}

/* ==== Waiting ============================================================ */

static void handle_completion(struct uring_loop *u, const struct io_uring_cqe *cqe)
{
    uint64_t data = io_uring_cqe_get_data64(cqe);
    void *p = (void *)(uintptr_t)(data & ~(uint64_t)REQUEST_KIND_BITS);
    switch ((enum request_kind)(data & REQUEST_KIND_BITS)) {
    case REQUEST_ACCEPT:
        uring_on_accept(u, p, cqe);
        break;
    case REQUEST_ACCEPT_READY:
        uring_on_accept_ready(u, p, cqe);
        break;
    case REQUEST_RECV:
        on_recv(u, p, cqe);
        break;
    case REQUEST_SEND:
        on_send(u, p, cqe);
        break;
    case REQUEST_UDP_POLL:
        uring_on_udp_readable(u, p, cqe);
        break;
    case REQUEST_STOP:
        loop_begin_stop(&u->loop);
        break;
    case REQUEST_MAIL:
        mailbox_deliver(&u->loop.hub);
        if (!(cqe->flags & IORING_CQE_F_MORE))
            arm_mail(u);
        break;
    case REQUEST_IGNORED:
        break;
    }
}

/* Submits what was queued and waits for completions in one system call. */
static int wait_and_handle(struct loop *loop, int timeout_ms, char *err, size_t errlen)
{
    struct uring_loop *u = uring_loop_of(loop);
    struct __kernel_timespec ts = {.tv_sec = timeout_ms / 1000,
                                   .tv_nsec = (long long)(timeout_ms % 1000) * 1000000};
    struct io_uring_cqe *cqe;
    int rc =
        io_uring_submit_and_wait_timeout(&u->ring, &cqe, 1, timeout_ms >= 0 ? &ts : NULL, NULL);
    if (rc < 0 && rc != -ETIME && rc != -EINTR)
        return error_set(err, errlen, "io_uring wait failed: %s", strerror(-rc));
    unsigned head, seen = 0;
    io_uring_for_each_cqe(&u->ring, head, cqe)
    {
        handle_completion(u, cqe);
        seen++;
    }
    io_uring_cq_advance(&u->ring, seen);
    return 0;
}

static const struct loop_hooks uring_hooks = {
    .queue_writes = true,
    .watch_stop = watch_stop,
    .watch_mail = watch_mail,
    .wait = wait_and_handle,
    .reconcile = reconcile,
    .forget = forget,
    .listen = uring_listen,
    .may_finish = uring_may_finish,
    .end_turn = uring_end_turn,
    .quiesce = quiesce,
};

static int setup(struct uring_loop *u, char *err, size_t errlen)
{
    if (uring_open(&u->ring, RING_ENTRIES, err, errlen) != 0)
        return -1;
    u->ring_open = true;
    if (uring_buffers_setup(&u->buffers, &u->ring, err, errlen) != 0)
        return -1;
    size_t count = u->loop.srv->listeners.count;
    u->listener_requests = calloc(count ? count : 1, sizeof(*u->listener_requests));
    if (!u->listener_requests)
        return error_set(err, errlen, "out of memory");
    return 0;
}

static int run_uring(struct server *srv, char *err, size_t errlen)
{
    struct uring_loop *u = calloc(1, sizeof(*u));
    if (!u)
        return error_set(err, errlen, "out of memory");
    u->loop.hooks = &uring_hooks;
    u->loop.name = "io_uring";
    u->loop.srv = srv;
    int rc = setup(u, err, errlen);
    if (rc == 0)
        rc = loop_run(&u->loop, err, errlen);
    quiesce(&u->loop);
    uring_buffers_free(&u->buffers);
    free(u->listener_requests);
    loop_free(&u->loop);
    free(u);
    return rc;
}

const struct model model_uring = {
    .name = "uring",
    .summary = "one thread, io_uring: multishot accept and receive, provided buffers",
    .default_max_conns = 0,
    .event_loop = true,
    .probe = uring_probe,
    .run = run_uring,
};
