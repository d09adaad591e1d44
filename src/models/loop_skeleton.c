#include "models/loop_skeleton.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"
#include "core/overflow.h"
#include "core/stop.h"
#include "core/stop_report.h"
#include "models/datagram_intake.h"
#include "models/fd_table.h"

/* The loop running on this thread, so a post can tell whether it comes
 * from the owning loop or from another loop's thread. */
static __thread struct loop *current_loop;

/* ---- Connections -------------------------------------------------------- */

static int remember(struct loop *loop, struct conn *c)
{
    if (!conn_is_datagram(c)) {
        struct conn **grown =
            fd_table_grow(loop->conns, &loop->conns_capacity, sizeof(*grown), c->fd);
        if (!grown)
            return -1;
        loop->conns = grown;
        loop->conns[c->fd] = c;
        loop->conn_count++;
        if (loop->srv->overflow_pool)
            atomic_fetch_add(&loop->srv->overflow_pool->open, 1);
    } else {
        loop->datagram_count++;
    }
    return 0;
}

void loop_drop_conn(struct loop *loop, struct conn *c)
{
    changed_list_forget(&loop->changed, c);
    if (loop->hooks->forget)
        loop->hooks->forget(loop, c);
    timer_heap_remove(&loop->timers, c);
    if (conn_is_datagram(c)) {
        loop->datagram_count--;
    } else {
        loop->conns[c->fd] = NULL;
        loop->conn_count--;
        if (loop->srv->overflow_pool)
            atomic_fetch_sub(&loop->srv->overflow_pool->open, 1);
        loop->accept_paused_until_ms = 0; /* Its descriptor is free now. */
    }
    conn_destroy(c);
}

void loop_abort_conn(struct loop *loop, struct conn *c, const char *reason)
{
    conn_abort(c, reason);
    loop_drop_conn(loop, c);
}

void loop_adopt_client(struct loop *loop, struct listener *l, int fd, const struct address *peer)
{
    struct conn *c = conn_create(fd, peer, l, &loop->owner);
    if (!c || remember(loop, c) != 0) {
        log_warn("out of memory: dropping a client of %s", l->name);
        free(c);
        close(fd);
        admission_release(l->admission, peer);
    } else {
        conn_start(c);
        loop->hooks->reconcile(loop, c);
    }
    if (loop->conn_count >= loop->srv->max_conns && !loop_refuses_when_full(loop))
        loop_set_listening(loop, false);
}

bool loop_refuses_when_full(const struct loop *loop)
{
    const struct overflow_pool *pool = loop->srv->overflow_pool;
    return loop->srv->overflow_refuse && (!pool || atomic_load(&pool->open) >= pool->max);
}

static void on_changed(struct conn_owner *owner, struct conn *c)
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
        loop->hooks->reconcile(loop, c);
}

static void run_timers(struct loop *loop)
{
    int64_t now = clock_now_ms();
    struct conn *c;
    while ((c = timer_heap_pop_expired(&loop->timers, now)) != NULL) {
        conn_handle_timer(c, now);
        loop->hooks->reconcile(loop, c);
    }
}

/* ---- Listening ---------------------------------------------------------- */

void loop_set_listening(struct loop *loop, bool on)
{
    if (loop->listening == on)
        return;
    loop->hooks->listen(loop, TRANSPORT_TCP, on);
    loop->listening = on;
}

void loop_set_receiving(struct loop *loop, bool on)
{
    if (loop->receiving == on || !loop->datagrams_in)
        return;
    loop->hooks->listen(loop, TRANSPORT_UDP, on);
    loop->receiving = on;
}

void loop_pause_accepting(struct loop *loop)
{
    loop->accept_paused_until_ms = clock_now_ms() + LOOP_ACCEPT_BACKOFF_MS;
    loop_set_listening(loop, false);
}

/* Whether the loop takes clients from the backlog: while below --max-conns,
 * and at it too when it refuses them (--overflow refuse). */
static bool takes_clients(const struct loop *loop)
{
    return loop->conn_count < loop->srv->max_conns || loop_refuses_when_full(loop);
}

/* Whether listening, off for the connection limit or a pause, may resume. */
static bool may_listen_again(const struct loop *loop)
{
    return !loop->grace.stopping && takes_clients(loop) &&
           (loop->accept_paused_until_ms == 0 || clock_now_ms() >= loop->accept_paused_until_ms);
}

/* The deadline of the loop's next wait: its timers', and the pause's end. */
static int64_t next_deadline(const struct loop *loop)
{
    int64_t deadline = timer_heap_next_deadline(&loop->timers);
    int64_t pause = loop->listening ? 0 : loop->accept_paused_until_ms;
    if (pause != 0 && (deadline == 0 || pause < deadline))
        deadline = pause;
    int64_t flush = loop->datagrams_in ? udp_guard_flush_due(&loop->guard) : 0;
    if (flush != 0 && (deadline == 0 || flush < deadline))
        deadline = flush;
    return grace_bound(&loop->grace, deadline);
}

/* Bounded per wake-up, so a connection storm cannot starve the
 * connections already open. */
void loop_accept_clients(struct loop *loop, struct listener *l)
{
    for (int i = 0; i < LOOP_ACCEPTS_PER_WAKEUP && loop->listening && takes_clients(loop); i++) {
        int fd;
        struct address peer;
        bool full = loop->conn_count >= loop->srv->max_conns;
        enum accept_result r =
            full ? listener_accept_to_refuse(l, &fd, &peer) : listener_accept(l, &fd, &peer);
        if (r == ACCEPT_AGAIN)
            break;
        if (r == ACCEPT_EXHAUSTED) {
            loop_pause_accepting(loop);
            break;
        }
        if (r == ACCEPT_OK && full)
            overflow_refuse(l, fd);
        else if (r == ACCEPT_OK)
            loop_adopt_client(loop, l, fd, &peer);
    }
    /* Full, and a loop sharing the socket has room again: it takes them. */
    if (!takes_clients(loop))
        loop_set_listening(loop, false);
}

static void datagram_started(void *ctx, struct conn *c)
{
    /* A datagram connection has no descriptor entry, so this cannot fail. */
    (void)remember(ctx, c);
}

static void datagram_delivered(void *ctx, struct conn *c)
{
    struct loop *loop = ctx;
    loop->hooks->reconcile(loop, c);
}

void loop_receive_datagrams(struct loop *loop, struct listener *l, int max_batches)
{
    size_t limit = server_max_datagrams(loop->srv);
    for (int batch = 0; batch < max_batches && loop->datagram_count < limit; batch++) {
        size_t room = limit - loop->datagram_count;
        int max = room < DATAGRAM_BATCH ? (int)room : DATAGRAM_BATCH;
        if (datagram_intake(loop->datagrams_in, max, &loop->guard, l, &loop->owner,
                            datagram_started, datagram_delivered, loop) < max)
            break;
    }
    if (loop->datagram_count >= limit)
        loop_set_receiving(loop, false);
}

/* ---- Stopping ----------------------------------------------------------- */

void loop_begin_stop(struct loop *loop)
{
    if (loop->grace.stopping)
        return;
    grace_begin(&loop->grace, loop->srv->grace_ms);
    stop_report_begin(loop->srv->grace_ms);
    loop_set_listening(loop, false);
    loop_set_receiving(loop, false);
    if (loop->hooks->stop_listeners)
        loop->hooks->stop_listeners(loop);
    for (size_t fd = 0; fd < loop->conns_capacity; fd++) {
        struct conn *c = loop->conns[fd];
        if (c) {
            conn_begin_stop(c);
            loop->hooks->reconcile(loop, c);
        }
    }
}

/* Cuts every connection left when the grace period ends (or the loop
 * failed), and logs what they left undone. */
static void cut_all(struct loop *loop)
{
    struct conn_cut cut = {0};
    for (size_t fd = 0; fd < loop->conns_capacity; fd++) {
        if (loop->conns[fd]) {
            conn_cut_at_grace(loop->conns[fd], &cut);
            loop_drop_conn(loop, loop->conns[fd]);
        }
    }
    /* Datagram connections have no entry, but every one still alive waits
     * on a timer, so the heap holds them all. */
    struct conn *c;
    while ((c = timer_heap_pop_expired(&loop->timers, INT64_MAX)) != NULL) {
        conn_cut_at_grace(c, &cut);
        loop_drop_conn(loop, c);
    }
    conn_cut_log(&cut);
}

/* ---- Setup -------------------------------------------------------------- */

static int setup_datagrams(struct loop *loop)
{
    udp_guard_init(&loop->guard, loop->srv->udp_rate);
    if (udp_guard_refuse_own_ports(&loop->guard, &loop->srv->listeners) != 0)
        return -1;
    loop->datagrams_in = malloc(sizeof(*loop->datagrams_in));
    loop->datagrams_out = malloc(sizeof(*loop->datagrams_out));
    if (!loop->datagrams_in || !loop->datagrams_out || datagram_in_init(loop->datagrams_in) != 0 ||
        datagram_out_init(loop->datagrams_out) != 0)
        return -1;
    loop->owner.send_datagram = on_send_datagram;
    return 0;
}

static int setup_hub(struct loop *loop)
{
    if (mailbox_hub_init(&loop->hub) != 0)
        return -1;
    loop->has_hub = true;
    return loop->hooks->watch_mail(loop);
}

static int setup(struct loop *loop, char *err, size_t errlen)
{
    current_loop = loop;
    loop->owner.changed = on_changed;
    loop->owner.queue_writes = loop->hooks->queue_writes;
    loop->owner.post = on_post;
    loop->owner.release = on_release;
    struct listener_set *set = &loop->srv->listeners;
    for (size_t i = 0; i < set->count; i++) {
        if (set->items[i].transport == TRANSPORT_UDP && !loop->datagrams_in &&
            setup_datagrams(loop) != 0)
            return error_set(err, errlen, "out of memory");
        if ((set->items[i].service->flags & SERVICE_SHARED_STATE) && !loop->has_hub &&
            setup_hub(loop) != 0)
            return error_set(err, errlen, "cannot set up cross-thread delivery: %s",
                             strerror(errno));
    }
    if (listener_reserve_fd() != 0)
        return error_set(err, errlen, "%s cannot keep a descriptor in reserve: %s", loop->name,
                         strerror(errno));
    if (loop->hooks->watch_stop(loop) != 0)
        return error_set(err, errlen, "%s cannot watch the stop signal: %s", loop->name,
                         strerror(errno));
    loop_set_listening(loop, true);
    loop_set_receiving(loop, true);
    return 0;
}

/* ---- The loop ----------------------------------------------------------- */

/* True when the loop is over: stopping, and either nothing is left or the
 * grace period ran out (loop_run then aborts the rest). */
static bool finished(struct loop *loop)
{
    if (!loop->grace.stopping)
        return false;
    if (loop->conn_count == 0 && loop->datagram_count == 0 &&
        (!loop->hooks->may_finish || loop->hooks->may_finish(loop)))
        return true;
    return grace_over(&loop->grace);
}

int loop_run(struct loop *loop, char *err, size_t errlen)
{
    int rc = setup(loop, err, errlen);
    if (rc == 0 && stop_requested())
        loop_begin_stop(loop);
    while (rc == 0 && !finished(loop)) {
        rc = loop->hooks->wait(loop, clock_timeout_until(next_deadline(loop)), err, errlen);
        if (rc != 0)
            break;
        run_timers(loop);
        reconcile_changed(loop);
        if (loop->datagrams_out)
            datagram_flush(loop->datagrams_out);
        if (loop->datagrams_in)
            udp_guard_flush(&loop->guard, clock_now_ms());
        if (!loop->listening && may_listen_again(loop))
            loop_set_listening(loop, true);
        if (!loop->grace.stopping && !loop->receiving &&
            loop->datagram_count < server_max_datagrams(loop->srv))
            loop_set_receiving(loop, true);
        if (loop->hooks->end_turn)
            loop->hooks->end_turn(loop);
    }
    if (loop->hooks->quiesce)
        loop->hooks->quiesce(loop);
    cut_all(loop);
    listener_release_reserve();
    return rc;
}

void loop_free(struct loop *loop)
{
    if (loop->datagrams_out) {
        datagram_flush(loop->datagrams_out);
        datagram_out_free(loop->datagrams_out);
    }
    if (loop->datagrams_in) {
        datagram_in_free(loop->datagrams_in);
        udp_guard_log_totals(&loop->guard, "udp");
    }
    udp_guard_free(&loop->guard);
    free(loop->datagrams_in);
    free(loop->datagrams_out);
    if (loop->has_hub)
        mailbox_hub_free(&loop->hub);
    timer_heap_free(&loop->timers);
    changed_list_free(&loop->changed);
    free(loop->conns);
    *loop = (struct loop){0};
}
