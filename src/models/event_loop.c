#include "models/event_loop.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
#include "models/timer_heap.h"

/* Events taken from the backend per wait. */
#define MAX_FIRED 1024
/* Clients accepted from one listener per wake-up, so a connection storm
 * cannot starve the connections already open. */
#define ACCEPTS_PER_WAKEUP 64
/* Datagram batches read from one UDP listener per wake-up, for the same
 * reason. */
#define DATAGRAM_BATCHES_PER_WAKEUP 4

enum slot_kind { SLOT_EMPTY, SLOT_LISTENER, SLOT_CONN, SLOT_STOP, SLOT_MAIL };

struct slot {
    enum slot_kind kind;
    void *item;
};

struct loop {
    struct conn_owner owner; /* First, so a conn's owner leads back here. */
    const struct poll_backend *backend;
    void *backend_state;
    struct server *srv;
    /* Indexed by descriptor and grown on demand: no fixed fd table. */
    struct slot *slots;
    size_t slot_count;
    struct timer_heap timers;
    /* Connections changed from outside their own callbacks. */
    struct changed_list changed;
    size_t conn_count;
    bool listening;
    bool stopping;
    int64_t grace_deadline_ms;
    /* Set up only when some service shares state: bytes other loops'
     * threads post to this loop's connections. */
    struct mailbox_hub hub;
    bool has_hub;
    /* Set up only when some listener is UDP. */
    struct udp_guard guard;
    struct datagram_in *datagrams_in;
    struct datagram_out *datagrams_out;
};

/* The loop running on this thread, so a post can tell whether it comes
 * from the owning loop or from another loop's thread. */
static __thread struct loop *current_loop;

/* ---- Descriptor table --------------------------------------------------- */

static int set_slot(struct loop *loop, int fd, enum slot_kind kind, void *item)
{
    if ((size_t)fd >= loop->slot_count) {
        size_t count = loop->slot_count ? loop->slot_count : 256;
        while (count <= (size_t)fd)
            count *= 2;
        struct slot *grown = realloc(loop->slots, count * sizeof(*grown));
        if (!grown)
            return -1;
        memset(grown + loop->slot_count, 0, (count - loop->slot_count) * sizeof(*grown));
        loop->slots = grown;
        loop->slot_count = count;
    }
    loop->slots[fd] = (struct slot){kind, item};
    return 0;
}

static struct slot *slot_of(struct loop *loop, int fd)
{
    return (size_t)fd < loop->slot_count ? &loop->slots[fd] : NULL;
}

/* ---- Connections -------------------------------------------------------- */

static void drop_conn(struct loop *loop, struct conn *c)
{
    changed_list_forget(&loop->changed, c);
    unsigned mask = c->registered_mask & (EVENT_READ | EVENT_WRITE);
    if (mask)
        (void)loop->backend->watch(loop->backend_state, c->fd, mask, 0);
    timer_heap_remove(&loop->timers, c);
    /* A datagram connection shares its listener's slot. */
    if (!conn_is_datagram(c))
        loop->slots[c->fd] = (struct slot){SLOT_EMPTY, NULL};
    loop->conn_count--;
    conn_destroy(c);
}

static unsigned event_mask(unsigned interest)
{
    return ((interest & CONN_WANT_READ) ? EVENT_READ : 0) |
           ((interest & CONN_WANT_WRITE) ? EVENT_WRITE : 0);
}

/* Brings the backend and the timer heap in line with what c wants now, or
 * destroys c when it is finished. Called after anything that may change c. */
static void reconcile(struct loop *loop, struct conn *c)
{
    /* Output queued since the last flush (conn_queue_write) is sent now,
     * once for everything this turn of the loop queued, before asking the
     * backend to watch for writability: usually the socket takes it all. */
    if (conn_output_pending(c) > 0 && !(c->registered_mask & EVENT_WRITE))
        conn_handle_writable(c);
    if (conn_is_finished(c)) {
        drop_conn(loop, c);
        return;
    }
    unsigned old_mask = c->registered_mask & (EVENT_READ | EVENT_WRITE);
    unsigned new_mask = event_mask(conn_interest(c));
    if (new_mask != old_mask) {
        if (loop->backend->watch(loop->backend_state, c->fd, old_mask, new_mask) != 0) {
            log_warn("%s cannot watch a connection: %s", loop->backend->name, strerror(errno));
            conn_abort(c, "cannot be watched");
            drop_conn(loop, c);
            return;
        }
        c->registered_mask =
            (uint16_t)((c->registered_mask & ~(EVENT_READ | EVENT_WRITE)) | new_mask);
    }
    if (timer_heap_update(&loop->timers, c) != 0) {
        conn_abort(c, "out of memory for its timer");
        drop_conn(loop, c);
    }
}

static void on_conn_changed(struct conn_owner *owner, struct conn *c)
{
    changed_list_add(&((struct loop *)owner)->changed, c);
}

static int on_post(struct conn_owner *owner, struct conn *c, const void *data, size_t len)
{
    struct loop *loop = (struct loop *)owner;
    if (current_loop == loop || !loop->has_hub)
        return conn_queue_write(c, data, len);
    return mailbox_post(&loop->hub, c, data, len);
}

static void on_release(struct conn_owner *owner, struct conn *c)
{
    struct loop *loop = (struct loop *)owner;
    if (loop->has_hub)
        mailbox_forget(&loop->hub, c);
}

static void on_send_datagram(struct conn_owner *owner, struct conn *c, const void *data, size_t len)
{
    struct loop *loop = (struct loop *)owner;
    datagram_queue(loop->datagrams_out, c->fd, conn_peer(c), data, len);
}

static void reconcile_changed(struct loop *loop)
{
    struct conn *c;
    while ((c = changed_list_pop(&loop->changed)) != NULL)
        reconcile(loop, c);
}

/* ---- Listeners ---------------------------------------------------------- */

static void set_listening(struct loop *loop, bool on)
{
    if (loop->listening == on)
        return;
    struct listener_set *set = &loop->srv->listeners;
    /* With other loops on the same sockets, one wake-up per client. */
    unsigned mask = EVENT_READ | (loop->srv->shared_listeners ? EVENT_EXCLUSIVE : 0);
    for (size_t i = 0; i < set->count; i++) {
        if (set->items[i].fd < 0)
            continue;
        if (loop->backend->watch(loop->backend_state, set->items[i].fd, on ? 0 : mask,
                                 on ? mask : 0) != 0)
            log_warn("%s cannot watch %s: %s", loop->backend->name, set->items[i].name,
                     strerror(errno));
    }
    loop->listening = on;
}

static void datagram_started(void *ctx, struct conn *c)
{
    (void)c;
    ((struct loop *)ctx)->conn_count++;
}

static void datagram_delivered(void *ctx, struct conn *c)
{
    reconcile(ctx, c);
}

static void receive_datagrams(struct loop *loop, struct listener *l)
{
    for (int batch = 0; batch < DATAGRAM_BATCHES_PER_WAKEUP; batch++) {
        size_t room = loop->srv->max_conns - loop->conn_count;
        int max = room < DATAGRAM_BATCH ? (int)room : DATAGRAM_BATCH;
        int n = datagram_intake(loop->datagrams_in, max, &loop->guard, l, &loop->owner,
                                datagram_started, datagram_delivered, loop);
        if (n < max || loop->conn_count >= loop->srv->max_conns)
            break;
    }
    if (loop->conn_count >= loop->srv->max_conns)
        set_listening(loop, false);
}

static void accept_clients(struct loop *loop, struct listener *l)
{
    for (int i = 0; i < ACCEPTS_PER_WAKEUP && loop->conn_count < loop->srv->max_conns; i++) {
        int fd;
        struct address peer;
        enum accept_result r = listener_accept(l, &fd, &peer);
        if (r == ACCEPT_AGAIN)
            break;
        if (r == ACCEPT_DROPPED)
            continue;
        struct conn *c = conn_create(fd, &peer, l, &loop->owner);
        if (!c || set_slot(loop, fd, SLOT_CONN, c) != 0) {
            log_warn("out of memory: dropping a client of %s", l->name);
            free(c);
            close(fd);
            continue;
        }
        loop->conn_count++;
        conn_start(c);
        reconcile(loop, c);
    }
    if (loop->conn_count >= loop->srv->max_conns)
        set_listening(loop, false);
}

/* ---- Stopping ----------------------------------------------------------- */

static void begin_stop(struct loop *loop)
{
    loop->stopping = true;
    loop->grace_deadline_ms = clock_now_ms() + loop->srv->grace_ms;
    set_listening(loop, false);
    (void)loop->backend->watch(loop->backend_state, stop_fd(), EVENT_READ, 0);
    listener_set_stop(&loop->srv->listeners);
    for (size_t fd = 0; fd < loop->slot_count; fd++) {
        struct slot *s = &loop->slots[fd];
        if (s->kind == SLOT_LISTENER || s->kind == SLOT_STOP) {
            *s = (struct slot){SLOT_EMPTY, NULL};
        } else if (s->kind == SLOT_CONN) {
            struct conn *c = s->item;
            conn_begin_stop(c, true);
            reconcile(loop, c);
        }
    }
}

static void abort_all(struct loop *loop)
{
    for (size_t fd = 0; fd < loop->slot_count; fd++) {
        if (loop->slots[fd].kind == SLOT_CONN) {
            struct conn *c = loop->slots[fd].item;
            conn_abort(c, "grace period over");
            drop_conn(loop, c);
        }
    }
    /* Datagram connections have no slot, but every one still alive waits on
     * a timer, so the heap holds them all. */
    struct conn *c;
    while ((c = timer_heap_pop_expired(&loop->timers, INT64_MAX)) != NULL) {
        conn_abort(c, "grace period over");
        drop_conn(loop, c);
    }
}

/* ---- The loop ----------------------------------------------------------- */

static void dispatch(struct loop *loop, const struct fired_event *ev)
{
    struct slot *s = slot_of(loop, ev->fd);
    if (!s)
        return;
    switch (s->kind) {
    case SLOT_LISTENER: {
        struct listener *l = s->item;
        if (!loop->listening)
            break;
        if (l->transport == TRANSPORT_UDP)
            receive_datagrams(loop, l);
        else
            accept_clients(loop, l);
        break;
    }
    case SLOT_STOP:
        if (!loop->stopping)
            begin_stop(loop);
        break;
    case SLOT_MAIL:
        mailbox_deliver(&loop->hub);
        break;
    case SLOT_CONN: {
        struct conn *c = s->item;
        if (ev->mask & EVENT_READ)
            conn_handle_readable(c);
        if (ev->mask & EVENT_WRITE)
            conn_handle_writable(c);
        reconcile(loop, c);
        break;
    }
    case SLOT_EMPTY:
        break;
    }
}

static void run_timers(struct loop *loop)
{
    int64_t now = clock_now_ms();
    struct conn *c;
    while ((c = timer_heap_pop_expired(&loop->timers, now)) != NULL) {
        conn_handle_timer(c, now);
        reconcile(loop, c);
    }
}

static int next_timeout(const struct loop *loop)
{
    int64_t deadline = timer_heap_next_deadline(&loop->timers);
    if (loop->stopping && (deadline == 0 || loop->grace_deadline_ms < deadline))
        deadline = loop->grace_deadline_ms;
    return clock_timeout_until(deadline);
}

static int setup_datagrams(struct loop *loop)
{
    udp_guard_init(&loop->guard, loop->srv->udp_rate);
    loop->datagrams_in = malloc(sizeof(*loop->datagrams_in));
    loop->datagrams_out = malloc(sizeof(*loop->datagrams_out));
    if (!loop->datagrams_in || !loop->datagrams_out || datagram_in_init(loop->datagrams_in) != 0 ||
        datagram_out_init(loop->datagrams_out) != 0)
        return -1;
    loop->owner.send_datagram = on_send_datagram;
    return 0;
}

static void free_datagrams(struct loop *loop)
{
    if (loop->datagrams_out) {
        datagram_flush(loop->datagrams_out);
        datagram_out_free(loop->datagrams_out);
    }
    if (loop->datagrams_in)
        datagram_in_free(loop->datagrams_in);
    free(loop->datagrams_in);
    free(loop->datagrams_out);
    udp_guard_log_totals(&loop->guard, "udp");
    udp_guard_free(&loop->guard);
}

static int setup_hub(struct loop *loop)
{
    if (mailbox_hub_init(&loop->hub) != 0)
        return -1;
    loop->has_hub = true;
    if (set_slot(loop, loop->hub.wake_fd, SLOT_MAIL, NULL) != 0 ||
        loop->backend->watch(loop->backend_state, loop->hub.wake_fd, 0, EVENT_READ) != 0)
        return -1;
    return 0;
}

static int setup(struct loop *loop, char *err, size_t errlen)
{
    current_loop = loop;
    loop->owner.changed = on_conn_changed;
    loop->owner.post = on_post;
    loop->owner.release = on_release;
    loop->backend_state = loop->backend->create(err, errlen);
    if (!loop->backend_state)
        return -1;
    struct listener_set *set = &loop->srv->listeners;
    for (size_t i = 0; i < set->count; i++) {
        if (set->items[i].transport == TRANSPORT_UDP && !loop->datagrams_in &&
            setup_datagrams(loop) != 0) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        if ((set->items[i].service->flags & SERVICE_SHARED_STATE) && !loop->has_hub &&
            setup_hub(loop) != 0) {
            snprintf(err, errlen, "cannot set up cross-thread delivery: %s", strerror(errno));
            return -1;
        }
        if (set_slot(loop, set->items[i].fd, SLOT_LISTENER, &set->items[i]) != 0) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    if (set_slot(loop, stop_fd(), SLOT_STOP, NULL) != 0 ||
        loop->backend->watch(loop->backend_state, stop_fd(), 0, EVENT_READ) != 0) {
        snprintf(err, errlen, "%s cannot watch the stop signal: %s", loop->backend->name,
                 strerror(errno));
        return -1;
    }
    set_listening(loop, true);
    return 0;
}

int event_loop_run(const struct poll_backend *backend, struct server *srv, char *err, size_t errlen)
{
    struct loop loop = {.backend = backend, .srv = srv};
    struct fired_event *fired = calloc(MAX_FIRED, sizeof(*fired));
    int rc = fired ? setup(&loop, err, errlen) : -1;
    if (!fired)
        snprintf(err, errlen, "out of memory");
    if (rc == 0 && stop_requested())
        begin_stop(&loop);
    while (rc == 0) {
        if (loop.stopping && loop.conn_count == 0)
            break;
        if (loop.stopping && clock_now_ms() >= loop.grace_deadline_ms) {
            abort_all(&loop);
            break;
        }
        int n = backend->wait(loop.backend_state, next_timeout(&loop), fired, MAX_FIRED);
        if (n < 0) {
            snprintf(err, errlen, "%s failed: %s", backend->name, strerror(errno));
            rc = -1;
            break;
        }
        for (int i = 0; i < n; i++)
            dispatch(&loop, &fired[i]);
        run_timers(&loop);
        reconcile_changed(&loop);
        if (loop.datagrams_out)
            datagram_flush(loop.datagrams_out);
        if (!loop.stopping && !loop.listening && loop.conn_count < srv->max_conns)
            set_listening(&loop, true);
    }
    if (rc != 0)
        abort_all(&loop);
    free_datagrams(&loop);
    if (loop.has_hub)
        mailbox_hub_free(&loop.hub);
    if (loop.backend_state)
        backend->destroy(loop.backend_state);
    timer_heap_free(&loop.timers);
    changed_list_free(&loop.changed);
    free(loop.slots);
    free(fired);
    return rc;
}
