/*
 * The io_uring model: one thread, and the kernel doing the I/O.
 *
 * Where the readiness models ask "can I read?" and then read, this model
 * keeps standing requests in the kernel and is handed results:
 *   - one multishot accept per TCP listener yields every new client;
 *   - one multishot receive per connection yields its bytes in buffers the
 *     kernel picks from a shared provided-buffer ring, so an idle
 *     connection holds no receive buffer of its own;
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/conn_model.h"
#include "core/datagram.h"
#include "core/log.h"
#include "core/mailbox.h"
#include "core/stop.h"
#include "core/udp_guard.h"
#include "models/changed_list.h"
#include "models/datagram_intake.h"
#include "models/model.h"
#include "models/timer_heap.h"

#define RING_ENTRIES 4096
#define BUFFER_GROUP 1
/* The provided-buffer ring: BUFFER_COUNT buffers of BUFFER_SIZE bytes,
 * shared by every connection. A power of two, as the kernel requires. */
#define BUFFER_COUNT 1024
#define BUFFER_SIZE 8192
/* Input held for a paused connection never exceeds what the ring holds. */
#define HELD_INPUT_MAX ((size_t)BUFFER_COUNT * BUFFER_SIZE)

/* What a completion is for: the low bits of its user_data. Connections
 * and listeners are at least 8-byte aligned, so the bits are free. */
enum op { OP_IGNORE = 0, OP_ACCEPT, OP_RECV, OP_SEND, OP_UDP_POLL, OP_STOP, OP_MAIL };
#define OP_BITS 7u

/* A listener's standing request. Multishot accept takes every client the
 * kernel completes until it is cancelled, which can overshoot --max-conns
 * by whatever arrives before the cancel lands; so near the limit the model
 * switches to one single-shot accept at a time. */
enum { ARMED_NONE, ARMED_SINGLE, ARMED_MULTI, ARMED_CANCELLING };
#define MULTISHOT_MIN_ROOM 256

/* conn->registered_mask bits, private to this model. */
#define RECV_ARMED 0x1u
#define RECV_CANCELLING 0x2u
#define SEND_BUSY 0x4u
#define SEND_CANCELLING 0x8u

/* A connection's model data, allocated only while it has bytes in one of
 * these, so an idle connection costs nothing here. */
struct uring_conn {
    struct buffer held; /* Received while the connection was paused. */
    bool held_eof;
    struct buffer inflight; /* Being sent: the kernel reads from it. */
};

struct uring_loop {
    struct conn_owner owner; /* First, so a conn's owner leads back here. */
    struct io_uring ring;
    bool ring_ready;
    struct io_uring_buf_ring *buf_ring;
    uint8_t *buffers;
    struct server *srv;
    struct conn **conns; /* Indexed by descriptor, grown on demand. */
    size_t conns_capacity;
    size_t conn_count;
    struct timer_heap timers;
    struct changed_list changed;
    uint8_t *armed; /* Per listener: ARMED_* state of its accept or poll request. */
    bool listening;
    bool stopping;
    bool listeners_stopped;
    int64_t grace_deadline_ms;
    struct udp_guard guard;
    struct datagram_in *datagrams_in;
    struct datagram_out *datagrams_out;
    /* Set up only when some service shares state: bytes that other loops'
     * threads post to this loop's connections (--threads with chat). */
    struct mailbox_hub hub;
    bool has_hub;
};

/* The loop running on this thread: a post from it needs no mailbox. */
static __thread struct uring_loop *current_loop;

static uint64_t tag(const void *p, enum op op)
{
    return (uint64_t)(uintptr_t)p | op;
}

/* Never NULL: a full submission queue is submitted to make room. */
static struct io_uring_sqe *next_sqe(struct uring_loop *u)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
    while (!sqe) {
        io_uring_submit(&u->ring);
        sqe = io_uring_get_sqe(&u->ring);
    }
    return sqe;
}

/* ==== Setup and the reasons io_uring may be missing ====================== */

static void explain_setup_failure(int err, char *out, size_t outlen)
{
    char sysctl[16] = "";
    FILE *f = fopen("/proc/sys/kernel/io_uring_disabled", "r");
    if (f) {
        if (!fgets(sysctl, sizeof(sysctl), f))
            sysctl[0] = '\0';
        fclose(f);
        sysctl[strcspn(sysctl, "\n")] = '\0';
    }
    if (strcmp(sysctl, "2") == 0)
        snprintf(out, outlen,
                 "io_uring is disabled on this system (sysctl kernel.io_uring_disabled=2); "
                 "use another --model");
    else if (strcmp(sysctl, "1") == 0 && err == EPERM)
        snprintf(out, outlen,
                 "io_uring is limited to the group in kernel.io_uring_group "
                 "(sysctl kernel.io_uring_disabled=1) and this process is not in it");
    else if (err == ENOSYS)
        snprintf(out, outlen,
                 "io_uring is not available: the kernel lacks it or a seccomp filter hides it "
                 "(io_uring_setup: %s)",
                 strerror(err));
    else if (err == EPERM || err == EACCES)
        snprintf(out, outlen,
                 "io_uring is refused by a security policy, such as a container's seccomp "
                 "filter (io_uring_setup: %s)",
                 strerror(err));
    else
        snprintf(out, outlen, "cannot set up io_uring: %s", strerror(err));
}

/* Multishot receive arrived in Linux 6.0; older kernels fail each request
 * with EINVAL, which would look like every client failing. */
static bool kernel_has_multishot_recv(void)
{
    struct utsname u;
    int major = 0, minor = 0;
    if (uname(&u) != 0 || sscanf(u.release, "%d.%d", &major, &minor) != 2)
        return true; /* Unknown: let the kernel decide. */
    return major > 6 || major == 6;
}

/* Opens a ring with the best flags this kernel takes, or explains why
 * io_uring cannot be had here. */
static int open_ring(struct io_uring *ring, unsigned entries, char *err, size_t errlen)
{
    if (!kernel_has_multishot_recv()) {
        snprintf(err, errlen, "the uring model needs Linux 6.0 or later (multishot receive)");
        return -1;
    }
    /* Only this thread submits and reaps, so the kernel may run completion
     * work when we wait rather than interrupt us (6.1 and later); older
     * kernels refuse the flags with EINVAL and get the plain ring. */
    static const unsigned flag_choices[] = {
        IORING_SETUP_SUBMIT_ALL | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
        IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN,
        0,
    };
    struct io_uring_params params;
    int rc = -EINVAL;
    for (size_t i = 0; i < sizeof(flag_choices) / sizeof(flag_choices[0]) && rc == -EINVAL; i++) {
        memset(&params, 0, sizeof(params));
        params.flags = flag_choices[i];
        rc = io_uring_queue_init_params(entries, ring, &params);
    }
    if (rc < 0) {
        explain_setup_failure(-rc, err, errlen);
        return -1;
    }
    if (!(params.features & IORING_FEAT_EXT_ARG)) {
        io_uring_queue_exit(ring);
        snprintf(err, errlen, "this kernel's io_uring lacks timed waits (needs Linux 5.11)");
        return -1;
    }
    /* Each wait then skips looking the ring's descriptor up; a kernel
     * without registered rings (before 5.18) just does the lookup. */
    io_uring_register_ring_fd(ring);
    return 0;
}

/* Whether io_uring can run here at all, asked before anything is announced. */
static int probe_uring(char *err, size_t errlen)
{
    struct io_uring ring;
    if (open_ring(&ring, 8, err, errlen) != 0)
        return -1;
    io_uring_queue_exit(&ring);
    return 0;
}

static int setup_buffers(struct uring_loop *u, char *err, size_t errlen)
{
    size_t ring_bytes = BUFFER_COUNT * sizeof(struct io_uring_buf);
    void *ring_mem =
        mmap(NULL, ring_bytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    if (ring_mem == MAP_FAILED) {
        snprintf(err, errlen, "cannot map the buffer ring: %s", strerror(errno));
        return -1;
    }
    u->buf_ring = ring_mem;
    u->buffers = malloc((size_t)BUFFER_COUNT * BUFFER_SIZE);
    if (!u->buffers) {
        snprintf(err, errlen, "out of memory for receive buffers");
        return -1;
    }
    struct io_uring_buf_reg reg = {
        .ring_addr = (unsigned long)(uintptr_t)ring_mem,
        .ring_entries = BUFFER_COUNT,
        .bgid = BUFFER_GROUP,
    };
    int rc = io_uring_register_buf_ring(&u->ring, &reg, 0);
    if (rc < 0) {
        snprintf(err, errlen,
                 rc == -EINVAL ? "this kernel has no provided buffer rings (io_uring needs "
                                 "Linux 5.19 or later here)"
                               : "cannot register the buffer ring: %s",
                 strerror(-rc));
        return -1;
    }
    io_uring_buf_ring_init(u->buf_ring);
    for (unsigned i = 0; i < BUFFER_COUNT; i++)
        io_uring_buf_ring_add(u->buf_ring, u->buffers + (size_t)i * BUFFER_SIZE, BUFFER_SIZE,
                              (unsigned short)i, io_uring_buf_ring_mask(BUFFER_COUNT), (int)i);
    io_uring_buf_ring_advance(u->buf_ring, BUFFER_COUNT);
    return 0;
}

static void recycle_buffer(struct uring_loop *u, unsigned bid)
{
    io_uring_buf_ring_add(u->buf_ring, u->buffers + (size_t)bid * BUFFER_SIZE, BUFFER_SIZE,
                          (unsigned short)bid, io_uring_buf_ring_mask(BUFFER_COUNT), 0);
    io_uring_buf_ring_advance(u->buf_ring, 1);
}

/* ==== Connections ======================================================== */

static struct uring_conn *model_data(struct conn *c)
{
    if (!c->model_data)
        c->model_data = calloc(1, sizeof(struct uring_conn));
    return c->model_data;
}

/* Frees the model data once it holds nothing. */
static void trim_model_data(struct conn *c)
{
    struct uring_conn *uc = c->model_data;
    if (uc && buffer_is_empty(&uc->held) && !uc->held_eof && buffer_is_empty(&uc->inflight)) {
        free(uc);
        c->model_data = NULL;
    }
}

static int remember(struct uring_loop *u, struct conn *c)
{
    if ((size_t)c->fd >= u->conns_capacity) {
        size_t capacity = u->conns_capacity ? u->conns_capacity : 256;
        while (capacity <= (size_t)c->fd)
            capacity *= 2;
        struct conn **grown = realloc(u->conns, capacity * sizeof(*grown));
        if (!grown)
            return -1;
        memset(grown + u->conns_capacity, 0, (capacity - u->conns_capacity) * sizeof(*grown));
        u->conns = grown;
        u->conns_capacity = capacity;
    }
    if (!conn_is_datagram(c))
        u->conns[c->fd] = c;
    u->conn_count++;
    return 0;
}

static void destroy(struct uring_loop *u, struct conn *c)
{
    changed_list_forget(&u->changed, c);
    timer_heap_remove(&u->timers, c);
    if (!conn_is_datagram(c))
        u->conns[c->fd] = NULL;
    u->conn_count--;
    struct uring_conn *uc = c->model_data;
    if (uc) {
        buffer_free(&uc->held);
        buffer_free(&uc->inflight);
        free(uc);
        c->model_data = NULL;
    }
    conn_destroy(c);
}

static void arm_recv(struct uring_loop *u, struct conn *c)
{
    struct io_uring_sqe *sqe = next_sqe(u);
    io_uring_prep_recv_multishot(sqe, c->fd, NULL, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = BUFFER_GROUP;
    io_uring_sqe_set_data64(sqe, tag(c, OP_RECV));
    c->registered_mask |= RECV_ARMED;
}

static void cancel_recv(struct uring_loop *u, struct conn *c)
{
    struct io_uring_sqe *sqe = next_sqe(u);
    io_uring_prep_cancel64(sqe, tag(c, OP_RECV), 0);
    io_uring_sqe_set_data64(sqe, OP_IGNORE);
    c->registered_mask |= RECV_CANCELLING;
}

static void cancel_send(struct uring_loop *u, struct conn *c)
{
    struct io_uring_sqe *sqe = next_sqe(u);
    io_uring_prep_cancel64(sqe, tag(c, OP_SEND), 0);
    io_uring_sqe_set_data64(sqe, OP_IGNORE);
    c->registered_mask |= SEND_CANCELLING;
}

static void start_send(struct uring_loop *u, struct conn *c)
{
    struct uring_conn *uc = c->model_data;
    struct io_uring_sqe *sqe = next_sqe(u);
    io_uring_prep_send(sqe, c->fd, buffer_peek(&uc->inflight), buffer_length(&uc->inflight),
                       MSG_NOSIGNAL);
    io_uring_sqe_set_data64(sqe, tag(c, OP_SEND));
    c->registered_mask |= SEND_BUSY;
}

/* Hands held input to the service while it takes input. */
static void release_held(struct conn *c)
{
    struct uring_conn *uc = c->model_data;
    while (uc && !buffer_is_empty(&uc->held) && !conn_input_paused(c) && !conn_is_finished(c)) {
        size_t len = buffer_length(&uc->held);
        if (len > CONN_READ_CHUNK)
            len = CONN_READ_CHUNK;
        /* conn_receive may queue output but never touches held. */
        conn_receive(c, buffer_peek(&uc->held), len);
        buffer_consume(&uc->held, len);
    }
    if (uc && uc->held_eof && buffer_is_empty(&uc->held) && !conn_input_paused(c)) {
        uc->held_eof = false;
        conn_receive(c, NULL, 0);
    }
    trim_model_data(c);
}

/* Brings the kernel's requests in line with what c wants now, or frees c
 * once it is finished and no request of the kernel points at it. */
static void reconcile(struct uring_loop *u, struct conn *c)
{
    if (conn_is_datagram(c)) {
        if (conn_is_finished(c))
            destroy(u, c);
        else if (timer_heap_update(&u->timers, c) != 0)
            conn_abort(c, "out of memory for its timer");
        return;
    }
    release_held(c);
    if (conn_is_finished(c)) {
        if ((c->registered_mask & RECV_ARMED) && !(c->registered_mask & RECV_CANCELLING))
            cancel_recv(u, c);
        /* A dropped client's send may wait forever on a peer that stopped
         * reading; nothing more is owed to it. */
        if ((c->registered_mask & SEND_BUSY) && !(c->registered_mask & SEND_CANCELLING) &&
            conn_drop_reason(c))
            cancel_send(u, c);
        if (!(c->registered_mask & (RECV_ARMED | SEND_BUSY)))
            destroy(u, c);
        return;
    }
    unsigned interest = conn_interest(c);
    bool armed = c->registered_mask & RECV_ARMED;
    if ((interest & CONN_WANT_READ) && !armed)
        arm_recv(u, c);
    else if (!(interest & CONN_WANT_READ) && armed && !(c->registered_mask & RECV_CANCELLING))
        cancel_recv(u, c);
    if (!(c->registered_mask & SEND_BUSY)) {
        if (conn_output_pending(c) == 0 && (interest & CONN_WANT_WRITE))
            conn_sent(c, 0); /* A generator with room to fill. */
        if (conn_output_pending(c) > 0) {
            struct uring_conn *uc = model_data(c);
            if (!uc) {
                conn_abort(c, "out of memory");
                reconcile(u, c);
                return;
            }
            conn_take_output(c, &uc->inflight);
            start_send(u, c);
        }
    }
    if (timer_heap_update(&u->timers, c) != 0)
        conn_abort(c, "out of memory for its timer");
}

static void on_changed(struct conn_owner *owner, struct conn *c)
{
    changed_list_add(&((struct uring_loop *)owner)->changed, c);
}

static void reconcile_changed(struct uring_loop *u)
{
    struct conn *c;
    while ((c = changed_list_pop(&u->changed)) != NULL)
        reconcile(u, c);
}

static int on_post(struct conn_owner *owner, struct conn *c, const void *data, size_t len)
{
    struct uring_loop *u = (struct uring_loop *)owner;
    if (current_loop == u || !u->has_hub)
        return conn_write(c, data, len);
    return mailbox_post(&u->hub, c, data, len);
}

static void on_release(struct conn_owner *owner, struct conn *c)
{
    struct uring_loop *u = (struct uring_loop *)owner;
    if (u->has_hub)
        mailbox_forget(&u->hub, c);
}

static void arm_mail(struct uring_loop *u)
{
    struct io_uring_sqe *sqe = next_sqe(u);
    io_uring_prep_poll_multishot(sqe, u->hub.wake_fd, POLLIN);
    io_uring_sqe_set_data64(sqe, tag(NULL, OP_MAIL));
}

static void on_send_datagram(struct conn_owner *owner, struct conn *c, const void *data, size_t len)
{
    struct uring_loop *u = (struct uring_loop *)owner;
    datagram_queue(u->datagrams_out, c->fd, conn_peer(c), data, len);
}

/* ==== Completions ======================================================== */

static void take_input(struct conn *c, const uint8_t *data, size_t len)
{
    struct uring_conn *uc = c->model_data;
    bool holding = uc && (!buffer_is_empty(&uc->held) || uc->held_eof);
    if (!holding && !conn_input_paused(c)) {
        conn_receive(c, data, len);
        return;
    }
    /* Bytes that were in flight when the connection paused: kept, in order,
     * for when it resumes. */
    uc = model_data(c);
    if (!uc)
        conn_abort(c, "out of memory");
    else if (len == 0)
        uc->held_eof = true;
    else if (buffer_append(&uc->held, data, len, HELD_INPUT_MAX) != 0)
        conn_abort(c, "too much input while paused");
}

static void on_recv(struct uring_loop *u, struct conn *c, const struct io_uring_cqe *cqe)
{
    if (!(cqe->flags & IORING_CQE_F_MORE))
        c->registered_mask &= (uint16_t) ~(RECV_ARMED | RECV_CANCELLING);
    if (cqe->res > 0 && (cqe->flags & IORING_CQE_F_BUFFER)) {
        unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
        take_input(c, u->buffers + (size_t)bid * BUFFER_SIZE, (size_t)cqe->res);
        recycle_buffer(u, bid);
    } else if (cqe->res == 0) {
        take_input(c, NULL, 0);
    } else if (cqe->res != -ENOBUFS && cqe->res != -ECANCELED) {
        /* ENOBUFS: the ring ran dry; reconcile re-arms once it refills. */
        conn_abort(c, "connection lost");
    }
    reconcile(u, c);
}

static void on_send(struct uring_loop *u, struct conn *c, const struct io_uring_cqe *cqe)
{
    struct uring_conn *uc = c->model_data;
    c->registered_mask &= (uint16_t) ~(SEND_BUSY | SEND_CANCELLING);
    if (cqe->res < 0) {
        buffer_free(&uc->inflight);
        conn_abort(c, "connection lost");
    } else {
        buffer_consume(&uc->inflight, (size_t)cqe->res);
        conn_sent(c, (size_t)cqe->res);
        /* A short send: the rest goes from where it stopped, even when the
         * connection is closing, since the peer is owed every byte. */
        if (!buffer_is_empty(&uc->inflight) && !conn_drop_reason(c))
            start_send(u, c);
        else
            buffer_free(&uc->inflight);
    }
    trim_model_data(c);
    reconcile(u, c);
}

static void set_listening(struct uring_loop *u, bool on);
static void disarm_listener(struct uring_loop *u, size_t i);

static void on_accept(struct uring_loop *u, struct listener *l, const struct io_uring_cqe *cqe)
{
    size_t index = (size_t)(l - u->srv->listeners.items);
    if (!(cqe->flags & IORING_CQE_F_MORE))
        u->armed[index] = ARMED_NONE;
    if (cqe->res < 0) {
        if (cqe->res == -EMFILE || cqe->res == -ENFILE)
            listener_shed_waiting(l);
        else if (cqe->res != -ECANCELED && cqe->res != -ECONNABORTED && cqe->res != -EAGAIN)
            log_warn("accept on %s: %s", l->name, strerror(-cqe->res));
    } else {
        int fd = cqe->res;
        struct address peer = {.length = sizeof(peer.u)};
        if (getpeername(fd, &peer.u.sa, &peer.length) != 0) {
            close(fd); /* Gone before we looked: nothing to serve. */
        } else {
            listener_adopt(l, fd, &peer);
            struct conn *c = conn_create(fd, &peer, l, &u->owner);
            if (!c || remember(u, c) != 0) {
                log_warn("out of memory: dropping a client of %s", l->name);
                free(c);
                close(fd);
            } else {
                conn_start(c);
                reconcile(u, c);
            }
        }
    }
    if (u->conn_count >= u->srv->max_conns)
        set_listening(u, false);
    else if (u->armed[index] == ARMED_MULTI &&
             u->srv->max_conns - u->conn_count <= MULTISHOT_MIN_ROOM)
        disarm_listener(u, index); /* Re-armed single-shot by the loop. */
}

static void datagram_started(void *ctx, struct conn *c)
{
    /* A datagram connection has no descriptor slot, so this cannot fail. */
    (void)remember(ctx, c);
}

static void datagram_delivered(void *ctx, struct conn *c)
{
    reconcile(ctx, c);
}

static void on_udp_readable(struct uring_loop *u, struct listener *l,
                            const struct io_uring_cqe *cqe)
{
    size_t index = (size_t)(l - u->srv->listeners.items);
    if (!(cqe->flags & IORING_CQE_F_MORE))
        u->armed[index] = ARMED_NONE;
    if (cqe->res < 0 || !u->listening)
        return;
    while (u->conn_count < u->srv->max_conns) {
        size_t room = u->srv->max_conns - u->conn_count;
        int max = room < DATAGRAM_BATCH ? (int)room : DATAGRAM_BATCH;
        if (datagram_intake(u->datagrams_in, max, &u->guard, l, &u->owner, datagram_started,
                            datagram_delivered, u) < max)
            break;
    }
    if (u->conn_count >= u->srv->max_conns)
        set_listening(u, false);
}

/* ==== Listening and stopping ============================================= */

static void arm_listener(struct uring_loop *u, size_t i)
{
    struct listener *l = &u->srv->listeners.items[i];
    size_t room = u->srv->max_conns > u->conn_count ? u->srv->max_conns - u->conn_count : 0;
    if (u->armed[i] != ARMED_NONE || l->fd < 0 || room == 0)
        return;
    struct io_uring_sqe *sqe = next_sqe(u);
    if (l->transport == TRANSPORT_UDP) {
        io_uring_prep_poll_multishot(sqe, l->fd, POLLIN);
        io_uring_sqe_set_data64(sqe, tag(l, OP_UDP_POLL));
        u->armed[i] = ARMED_MULTI;
    } else if (room > MULTISHOT_MIN_ROOM) {
        io_uring_prep_multishot_accept(sqe, l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        io_uring_sqe_set_data64(sqe, tag(l, OP_ACCEPT));
        u->armed[i] = ARMED_MULTI;
    } else {
        io_uring_prep_accept(sqe, l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        io_uring_sqe_set_data64(sqe, tag(l, OP_ACCEPT));
        u->armed[i] = ARMED_SINGLE;
    }
}

static void disarm_listener(struct uring_loop *u, size_t i)
{
    struct listener *l = &u->srv->listeners.items[i];
    if (u->armed[i] == ARMED_NONE || u->armed[i] == ARMED_CANCELLING)
        return;
    u->armed[i] = ARMED_CANCELLING;
    struct io_uring_sqe *sqe = next_sqe(u);
    io_uring_prep_cancel64(sqe, tag(l, l->transport == TRANSPORT_UDP ? OP_UDP_POLL : OP_ACCEPT), 0);
    io_uring_sqe_set_data64(sqe, OP_IGNORE);
}

static void set_listening(struct uring_loop *u, bool on)
{
    if (u->listening == on)
        return;
    u->listening = on;
    for (size_t i = 0; i < u->srv->listeners.count; i++) {
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
    for (size_t i = 0; i < u->srv->listeners.count; i++)
        if (u->armed[i] != ARMED_NONE)
            return;
    listener_set_stop(&u->srv->listeners);
    u->listeners_stopped = true;
}

static void begin_stop(struct uring_loop *u)
{
    u->stopping = true;
    u->grace_deadline_ms = clock_now_ms() + u->srv->grace_ms;
    set_listening(u, false);
    for (size_t fd = 0; fd < u->conns_capacity; fd++) {
        struct conn *c = u->conns[fd];
        if (c) {
            conn_begin_stop(c, false);
            reconcile(u, c);
        }
    }
}

/* After the ring is gone, no request points at any connection. */
static void free_all(struct uring_loop *u)
{
    for (size_t fd = 0; fd < u->conns_capacity; fd++)
        if (u->conns[fd])
            destroy(u, u->conns[fd]);
    struct conn *c;
    while ((c = timer_heap_pop_expired(&u->timers, INT64_MAX)) != NULL)
        destroy(u, c);
}

/* ==== The loop =========================================================== */

static void handle(struct uring_loop *u, const struct io_uring_cqe *cqe)
{
    uint64_t data = io_uring_cqe_get_data64(cqe);
    void *p = (void *)(uintptr_t)(data & ~(uint64_t)OP_BITS);
    switch ((enum op)(data & OP_BITS)) {
    case OP_ACCEPT:
        on_accept(u, p, cqe);
        break;
    case OP_RECV:
        on_recv(u, p, cqe);
        break;
    case OP_SEND:
        on_send(u, p, cqe);
        break;
    case OP_UDP_POLL:
        on_udp_readable(u, p, cqe);
        break;
    case OP_STOP:
        if (!u->stopping)
            begin_stop(u);
        break;
    case OP_MAIL:
        mailbox_deliver(&u->hub);
        if (!(cqe->flags & IORING_CQE_F_MORE))
            arm_mail(u);
        break;
    case OP_IGNORE:
        break;
    }
}

static void run_timers(struct uring_loop *u)
{
    int64_t now = clock_now_ms();
    struct conn *c;
    while ((c = timer_heap_pop_expired(&u->timers, now)) != NULL) {
        conn_handle_timer(c, now);
        reconcile(u, c);
    }
}

static int wait_and_handle(struct uring_loop *u)
{
    int64_t deadline = timer_heap_next_deadline(&u->timers);
    if (u->stopping && (deadline == 0 || u->grace_deadline_ms < deadline))
        deadline = u->grace_deadline_ms;
    int timeout = clock_timeout_until(deadline);
    struct __kernel_timespec ts = {.tv_sec = timeout / 1000,
                                   .tv_nsec = (long long)(timeout % 1000) * 1000000};
    struct io_uring_cqe *cqe;
    int rc = io_uring_submit_and_wait_timeout(&u->ring, &cqe, 1, timeout >= 0 ? &ts : NULL, NULL);
    if (rc < 0 && rc != -ETIME && rc != -EINTR)
        return rc;
    unsigned head, seen = 0;
    io_uring_for_each_cqe(&u->ring, head, cqe)
    {
        handle(u, cqe);
        seen++;
    }
    io_uring_cq_advance(&u->ring, seen);
    return 0;
}

static int setup(struct uring_loop *u, char *err, size_t errlen)
{
    current_loop = u;
    u->owner.changed = on_changed;
    u->owner.queue_writes = true;
    u->owner.post = on_post;
    u->owner.release = on_release;
    if (open_ring(&u->ring, RING_ENTRIES, err, errlen) != 0)
        return -1;
    u->ring_ready = true;
    if (setup_buffers(u, err, errlen) != 0)
        return -1;
    size_t count = u->srv->listeners.count;
    u->armed = calloc(count ? count : 1, sizeof(*u->armed));
    if (!u->armed) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < count; i++) {
        if (u->srv->listeners.items[i].transport == TRANSPORT_UDP && !u->datagrams_in) {
            udp_guard_init(&u->guard, u->srv->udp_rate);
            u->datagrams_in = malloc(sizeof(*u->datagrams_in));
            u->datagrams_out = malloc(sizeof(*u->datagrams_out));
            if (!u->datagrams_in || !u->datagrams_out || datagram_in_init(u->datagrams_in) != 0 ||
                datagram_out_init(u->datagrams_out) != 0) {
                snprintf(err, errlen, "out of memory");
                return -1;
            }
            u->owner.send_datagram = on_send_datagram;
        }
        if ((u->srv->listeners.items[i].service->flags & SERVICE_SHARED_STATE) && !u->has_hub) {
            if (mailbox_hub_init(&u->hub) != 0) {
                snprintf(err, errlen, "cannot set up cross-thread delivery: %s", strerror(errno));
                return -1;
            }
            u->has_hub = true;
            arm_mail(u);
        }
    }
    struct io_uring_sqe *sqe = next_sqe(u);
    io_uring_prep_poll_add(sqe, stop_fd(), POLLIN);
    io_uring_sqe_set_data64(sqe, tag(NULL, OP_STOP));
    set_listening(u, true);
    return 0;
}

static void teardown(struct uring_loop *u)
{
    /* Exiting the ring cancels and reaps every request first. */
    if (u->ring_ready)
        io_uring_queue_exit(&u->ring);
    free_all(u);
    if (u->datagrams_out) {
        datagram_flush(u->datagrams_out);
        datagram_out_free(u->datagrams_out);
    }
    if (u->datagrams_in) {
        datagram_in_free(u->datagrams_in);
        udp_guard_log_totals(&u->guard, "udp");
    }
    udp_guard_free(&u->guard);
    free(u->datagrams_in);
    free(u->datagrams_out);
    if (u->has_hub)
        mailbox_hub_free(&u->hub);
    if (u->buf_ring)
        munmap(u->buf_ring, BUFFER_COUNT * sizeof(struct io_uring_buf));
    free(u->buffers);
    free(u->armed);
    free(u->conns);
    changed_list_free(&u->changed);
    timer_heap_free(&u->timers);
}

static int run_uring(struct server *srv, char *err, size_t errlen)
{
    struct uring_loop u = {.srv = srv};
    int rc = setup(&u, err, errlen);
    if (rc == 0 && stop_requested())
        begin_stop(&u);
    while (rc == 0) {
        if (u.stopping)
            stop_listeners_when_idle(&u);
        if (u.stopping && u.conn_count == 0 && u.listeners_stopped)
            break;
        if (u.stopping && clock_now_ms() >= u.grace_deadline_ms)
            break; /* teardown aborts the rest. */
        int wait_rc = wait_and_handle(&u);
        if (wait_rc < 0) {
            snprintf(err, errlen, "io_uring wait failed: %s", strerror(-wait_rc));
            rc = -1;
            break;
        }
        run_timers(&u);
        reconcile_changed(&u);
        if (u.datagrams_out)
            datagram_flush(u.datagrams_out);
        if (!u.stopping && !u.listening && u.conn_count < srv->max_conns)
            set_listening(&u, true);
        /* A listener whose multishot request ended (EMFILE, say) is re-armed. */
        for (size_t i = 0; !u.stopping && u.listening && i < srv->listeners.count; i++)
            arm_listener(&u, i);
    }
    teardown(&u);
    return rc;
}

const struct model model_uring = {
    .name = "uring",
    .summary = "one thread, io_uring: multishot accept and receive, provided buffers",
    .default_max_conns = 0,
    .event_loop = true,
    .probe = probe_uring,
    .run = run_uring,
};
