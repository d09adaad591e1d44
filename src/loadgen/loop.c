/*
 * The bench event loop: time, scheduling and life cycle. What happens on
 * one connection is in client.c.
 *
 * Timers are of two kinds. The few exact ones (the next dribbled byte, the
 * end of a back-off) sit in a heap of one timer per client (timers.h).
 * Request timeouts are found by a sweep over every client a few times a
 * second instead: keeping every request in a heap would cost a heap update
 * per request, where the sweep costs a few thousand comparisons per tenth
 * of a second.
 *
 * The loop never spins: level-triggered epoll, EPOLLOUT only while a write
 * would block, a bound on the work one wakeup may do, and a wait that ends
 * only when something is due.
 */
#include "loadgen/loop.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/error.h"
#include "core/stop.h"
#include "loadgen/clock_ns.h"
#include "loadgen/loop_internal.h"

#define MAX_EVENTS 256
#define PUBLISH_NS (250 * NS_PER_MS)
#define LATE_NS NS_PER_MS
#define SWEEP_MIN_NS NS_PER_MS
#define SWEEP_MAX_NS (100 * NS_PER_MS)
#define STOP_TAG UINT64_MAX

/* ---- For the clients ---------------------------------------------------- */

void loop_count_error(struct bench_loop *l, enum bench_error kind, int err, uint64_t n)
{
    l->stats.errors[kind] += n;
    if (kind == BENCH_ERROR_OTHER && l->stats.first_other_errno == 0)
        l->stats.first_other_errno = err ? err : EIO;
}

bool loop_can_issue(const struct bench_loop *l)
{
    return !l->stopped && (!l->budget_limited || l->budget > 0);
}

/* Requests in warmup are free; measured ones come out of --requests. */
void loop_take_budget(struct bench_loop *l, int64_t now)
{
    if (!l->budget_limited || !l->measuring || l->budget == 0)
        return;
    if (--l->budget == 0)
        l->budget_done_ns = now;
}

/* ---- --hold ------------------------------------------------------------- */

void loop_client_settled(struct bench_loop *l, struct client *c, bool failed)
{
    c->settled = true;
    l->settled_count++;
    if (failed)
        l->failed_count++;
    if (l->settled_count < l->count || l->held_announced)
        return;
    l->held_announced = true;
    l->stats.held = (struct bench_held){
        .open = l->open_count,
        .failed = l->failed_count,
        .after_ns = clock_now_ns() - l->share.start_ns,
    };
    if (l->cfg->on_held)
        l->cfg->on_held(&l->stats.held, l->cfg->on_held_arg);
}

/* Closes every held connection with a reset (SO_LINGER 0): no TIME_WAIT is
 * left on this side, so a rerun finds every source port free. */
static void reset_held(struct bench_loop *l)
{
    struct linger now = {.l_onoff = 1, .l_linger = 0};
    for (uint32_t i = 0; i < l->count; i++) {
        struct client *c = &l->clients[i];
        if (c->fd < 0)
            continue;
        /* Should it fail, a normal close is the next best thing. */
        (void)setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &now, sizeof(now));
        client_close(l, c);
        c->state = CLIENT_DONE;
    }
}

/* ---- Queues ------------------------------------------------------------- */

void loop_enqueue_connect(struct bench_loop *l, struct client *c)
{
    c->state = CLIENT_WAITING;
    l->connect_queue[(l->connect_head + l->connect_len) % l->count] = loop_client_index(l, c);
    l->connect_len++;
}

void loop_push_ready(struct bench_loop *l, struct client *c)
{
    if (c->in_ready)
        return;
    c->in_ready = true;
    l->ready_queue[(l->ready_head + l->ready_len) % l->count] = loop_client_index(l, c);
    l->ready_len++;
}

/* The next open client with a free pipeline slot; entries that went stale
 * while queued are dropped here rather than searched for when they do. */
static struct client *pop_ready(struct bench_loop *l)
{
    while (l->ready_len > 0) {
        struct client *c = &l->clients[l->ready_queue[l->ready_head]];
        l->ready_head = (l->ready_head + 1) % l->count;
        l->ready_len--;
        c->in_ready = false;
        if (client_has_room(l, c))
            return c;
    }
    return NULL;
}

static void start_connects(struct bench_loop *l, int64_t now)
{
    /* A client whose new connection fails at once is queued again; each
     * gets one attempt per call, so a server that resets every connection
     * cannot keep this loop from epoll. */
    for (uint32_t attempts = l->connect_len;
         attempts > 0 && l->connect_len > 0 && loop_can_issue(l); attempts--) {
        if (l->connect_interval_ns > 0) {
            if (now < l->next_connect_ns)
                return;
            /* Catch up by at most one interval, so a stall is no burst. */
            int64_t floor = now - l->connect_interval_ns;
            l->next_connect_ns =
                (l->next_connect_ns > floor ? l->next_connect_ns : floor) + l->connect_interval_ns;
        }
        struct client *c = &l->clients[l->connect_queue[l->connect_head]];
        l->connect_head = (l->connect_head + 1) % l->count;
        l->connect_len--;
        client_start_connect(l, c, now);
    }
}

/* ---- Time --------------------------------------------------------------- */

/* Finds requests (and attempts) older than --timeout. */
static void sweep(struct bench_loop *l, int64_t now)
{
    int64_t timeout = l->cfg->timeout_ns;
    for (uint32_t i = 0; i < l->count; i++) {
        struct client *c = &l->clients[i];
        if (c->state == CLIENT_CONNECTING) {
            if (now - c->since_ns >= timeout)
                client_fail(l, c, BENCH_ERROR_TIMEOUT, ETIMEDOUT, now);
            continue;
        }
        if (c->state != CLIENT_OPEN)
            continue;
        bool late = c->in_flight > 0 && now - c->sent_ns[c->ring_head] >= timeout;
        bool stuck = c->blocked_ns != 0 && now - c->blocked_ns >= timeout;
        /* A late TCP reply would still arrive and be taken for the next
         * one's, so the connection goes; a datagram lost is just lost. */
        if (stuck || (late && l->tcp)) {
            client_fail(l, c, BENCH_ERROR_TIMEOUT, ETIMEDOUT, now);
            continue;
        }
        if (!late)
            continue;
        while (c->in_flight > 0 && now - c->sent_ns[c->ring_head] >= timeout)
            client_finish_oldest(l, c, now, false, BENCH_ERROR_TIMEOUT);
        client_refill(l, c, now);
        client_send_more(l, c, now);
    }
}

static void run_timers(struct bench_loop *l, int64_t now)
{
    for (uint32_t i; (i = timers_pop_expired(&l->timers, now)) != TIMERS_NONE;) {
        struct client *c = &l->clients[i];
        if (c->state == CLIENT_BACKOFF)
            loop_enqueue_connect(l, c);
        else if (c->state == CLIENT_OPEN)
            client_send_more(l, c, now);
    }
}

/* --rate: starts every request whose time has come on a client with room. */
static void schedule(struct bench_loop *l, int64_t now)
{
    uint64_t due = (uint64_t)((double)(now - l->share.start_ns) / l->rate_interval_ns) + 1;
    while (l->rate_issued < due && loop_can_issue(l)) {
        struct client *c = pop_ready(l);
        if (!c)
            return;
        int64_t planned =
            l->share.start_ns + (int64_t)((double)l->rate_issued * l->rate_interval_ns);
        if (l->measuring && now - planned > LATE_NS)
            l->stats.behind_schedule++;
        l->rate_issued++;
        c->pending++;
        l->pending_total++;
        loop_take_budget(l, now);
        if (client_has_room(l, c))
            loop_push_ready(l, c);
        client_send_more(l, c, now);
    }
}

/* Time is up (or a stop was asked): requests not yet started are dropped,
 * clients not yet connected give up, and requests in flight get the rest of
 * their own timeout. */
static void stop_issuing(struct bench_loop *l, int64_t now)
{
    if (l->stopped)
        return;
    l->stopped = true;
    l->stopped_ns = now < l->end_ns ? now : l->end_ns;
    for (uint32_t i = 0; i < l->count; i++) {
        struct client *c = &l->clients[i];
        l->pending_total -= c->pending;
        c->pending = 0;
        if (c->state != CLIENT_OPEN) {
            client_close(l, c);
            c->state = CLIENT_DONE;
        }
    }
}

static bool finished(const struct bench_loop *l)
{
    bool issuing_over = l->stopped || (l->budget_limited && l->budget == 0);
    return issuing_over && l->in_flight_total == 0 && l->pending_total == 0;
}

/* Counts what is still in flight at the hard end as timed out. */
static void expire_all(struct bench_loop *l, int64_t now)
{
    for (uint32_t i = 0; i < l->count; i++) {
        struct client *c = &l->clients[i];
        while (c->state == CLIENT_OPEN && c->in_flight > 0)
            client_finish_oldest(l, c, now, false, BENCH_ERROR_TIMEOUT);
    }
}

static int64_t earliest(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

/* Nanoseconds until the loop next has something to do on its own. */
static int64_t idle_ns(const struct bench_loop *l, int64_t now)
{
    int64_t next = earliest(l->hard_end_ns, l->sweep_ns);
    if (!l->stopped)
        next = earliest(next, l->end_ns);
    if (!l->measuring)
        next = earliest(next, l->measure_ns);
    if (l->timers.len > 0)
        next = earliest(next, timers_next(&l->timers));
    if (l->cfg->progress)
        next = earliest(next, l->publish_ns);
    if (loop_can_issue(l)) {
        if (l->connect_len > 0 && l->connect_interval_ns > 0)
            next = earliest(next, l->next_connect_ns);
        if (l->cfg->rate > 0 && l->ready_len > 0)
            next = earliest(next, l->share.start_ns +
                                      (int64_t)((double)l->rate_issued * l->rate_interval_ns));
    }
    return next > now ? next - now : 0;
}

/*
 * epoll_pwait2 takes its timeout in nanoseconds, which --rate and
 * --dribble need: epoll_wait's milliseconds would start requests up to a
 * millisecond late. Kernels before 5.11 lack it; then milliseconds it is.
 */
static int wait_events(struct bench_loop *l, struct epoll_event *events, int64_t left_ns)
{
    if (left_ns > SWEEP_MAX_NS)
        left_ns = SWEEP_MAX_NS;
    if (l->precise_wait) {
        struct timespec ts = {.tv_sec = left_ns / NS_PER_S, .tv_nsec = left_ns % NS_PER_S};
        int n = epoll_pwait2(l->epfd, events, MAX_EVENTS, &ts, NULL);
        if (n >= 0 || errno != ENOSYS)
            return n;
        l->precise_wait = false;
    }
    return epoll_wait(l->epfd, events, MAX_EVENTS, (int)((left_ns + NS_PER_MS - 1) / NS_PER_MS));
}

static void publish(struct bench_loop *l)
{
    __atomic_store_n(&l->published.ok, l->stats.ok, __ATOMIC_RELAXED);
    __atomic_store_n(&l->published.errors, bench_stats_errors(&l->stats), __ATOMIC_RELAXED);
    __atomic_store_n(&l->published.connections_up, (uint64_t)l->open_count, __ATOMIC_RELAXED);
    __atomic_store_n(&l->published.p99_ns, histogram_percentile(&l->stats.latency, 99),
                     __ATOMIC_RELAXED);
}

/* ---- The loop ----------------------------------------------------------- */

/*
 * Warmup is over. What counts from here is decided by one rule: a request
 * is measured when it starts at or after this moment. Requests issued in the
 * warmup but not yet started will start after it, so they are charged to
 * --requests now, and the two counts always agree.
 */
static void begin_measuring(struct bench_loop *l, int64_t now)
{
    l->measuring = true;
    l->measure_ns = now;
    if (l->cfg->duration_ns > 0) {
        l->end_ns = now + l->cfg->duration_ns;
        l->hard_end_ns = l->end_ns + l->cfg->timeout_ns;
    }
    if (!l->budget_limited)
        return;
    for (uint32_t i = 0; i < l->count && l->pending_total > l->budget; i++) {
        struct client *c = &l->clients[i];
        uint64_t excess = l->pending_total - l->budget;
        uint32_t drop = c->pending < excess ? c->pending : (uint32_t)excess;
        c->pending -= drop;
        l->pending_total -= drop;
    }
    l->budget -= l->pending_total;
    if (l->budget == 0)
        l->budget_done_ns = now;
}

static void dispatch(struct bench_loop *l, const struct epoll_event *ev)
{
    int64_t now = clock_now_ns();
    if (ev->data.u64 == STOP_TAG) {
        stop_issuing(l, now);
        l->hard_end_ns = earliest(l->hard_end_ns, now + l->cfg->timeout_ns);
        /* The latch stays readable for every waiter; stop watching it. */
        if (epoll_ctl(l->epfd, EPOLL_CTL_DEL, stop_fd(), NULL) != 0)
            l->hard_end_ns = now;
        return;
    }
    struct client *c = &l->clients[(uint32_t)ev->data.u64];
    if ((uint32_t)(ev->data.u64 >> 32) != c->generation || c->fd < 0)
        return; /* For a socket closed earlier in this batch. */
    if (c->state == CLIENT_CONNECTING) {
        client_finish_connect(l, c, ev->events, now);
        return;
    }
    if (c->state != CLIENT_OPEN)
        return;
    if (ev->events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
        if (client_read(l, c) != 0 || c->state != CLIENT_OPEN)
            return;
        client_refill(l, c, now);
        if (client_send_more(l, c, now) != 0)
            return;
    } else if (ev->events & EPOLLOUT) {
        client_send_more(l, c, now);
    }
}

int bench_loop_run(struct bench_loop *l)
{
    struct epoll_event events[MAX_EVENTS];
    for (uint32_t i = 0; i < l->count; i++)
        loop_enqueue_connect(l, &l->clients[i]);
    int rc = 0;
    for (;;) {
        int64_t now = clock_now_ns();
        if (!l->measuring && now >= l->measure_ns)
            begin_measuring(l, now);
        if (!l->stopped && now >= l->end_ns)
            stop_issuing(l, now);
        if (finished(l))
            break;
        if (now >= l->hard_end_ns) {
            expire_all(l, now);
            break;
        }
        run_timers(l, now);
        if (now >= l->sweep_ns) {
            sweep(l, now);
            l->sweep_ns = now + l->sweep_interval_ns;
        }
        if (loop_can_issue(l)) {
            start_connects(l, now);
            if (l->cfg->rate > 0)
                schedule(l, now);
        }
        if (l->cfg->progress && now >= l->publish_ns) {
            publish(l);
            l->publish_ns = now + PUBLISH_NS;
        }
        int n = wait_events(l, events, idle_ns(l, now));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            rc = -1;
            break;
        }
        for (int i = 0; i < n; i++)
            dispatch(l, &events[i]);
    }
    int64_t end = l->stopped ? l->stopped_ns : l->budget_done_ns;
    if (end == 0)
        end = clock_now_ns();
    if (l->last_ok_ns > end)
        end = l->last_ok_ns;
    l->stats.elapsed_ns = end > l->measure_ns ? end - l->measure_ns : 0;
    if (l->cfg->hold)
        reset_held(l);
    publish(l);
    return rc;
}

/* ---- Life cycle --------------------------------------------------------- */

static int build_messages(struct bench_loop *l)
{
    const struct bench_config *cfg = l->cfg;
    if (!bench_message_is_template(cfg->message_text)) {
        if (bench_message_build(&l->shared_msg, cfg->message_text, cfg->message_size, cfg->expect,
                                l->share.first_number) != 0)
            return -1;
        for (uint32_t i = 0; i < l->count; i++)
            l->clients[i].msg = &l->shared_msg;
        return 0;
    }
    l->own_msgs = calloc(l->count, sizeof(*l->own_msgs));
    if (!l->own_msgs)
        return -1;
    for (uint32_t i = 0; i < l->count; i++) {
        if (bench_message_build(&l->own_msgs[i], cfg->message_text, cfg->message_size, cfg->expect,
                                l->clients[i].number) != 0)
            return -1;
        l->clients[i].msg = &l->own_msgs[i];
    }
    return 0;
}

static int64_t clamp_ns(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

struct bench_loop *bench_loop_create(const struct bench_config *cfg,
                                     const struct bench_loop_share *share, char *err, size_t errlen)
{
    struct bench_loop *l = calloc(1, sizeof(*l));
    if (!l) {
        error_set(err, errlen, "out of memory");
        return NULL;
    }
    l->cfg = cfg;
    l->share = *share;
    l->count = share->connections;
    l->tcp = cfg->target.spec.transport == TRANSPORT_TCP;
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    l->precise_wait = true;
    l->clients = calloc(l->count, sizeof(*l->clients));
    l->ring_store = calloc((size_t)l->count * cfg->pipeline, sizeof(*l->ring_store));
    l->scratch = malloc(BENCH_LOOP_SCRATCH);
    l->connect_queue = calloc(l->count, sizeof(*l->connect_queue));
    l->ready_queue = calloc(l->count, sizeof(*l->ready_queue));
    int timers_rc = timers_init(&l->timers, l->count);
    for (uint32_t i = 0; l->clients && i < l->count; i++) {
        l->clients[i].fd = -1;
    }
    if (l->epfd < 0) {
        error_set(err, errlen, "cannot create an epoll instance: %s", strerror(errno));
        bench_loop_free(l);
        return NULL;
    }
    if (!l->clients || !l->ring_store || !l->scratch || !l->connect_queue || !l->ready_queue ||
        timers_rc != 0) {
        error_set(err, errlen, "out of memory for %u connections", (unsigned)l->count);
        bench_loop_free(l);
        return NULL;
    }
    for (uint32_t i = 0; i < l->count; i++) {
        struct client *c = &l->clients[i];
        c->number = share->first_number + i;
        c->sent_ns = l->ring_store + (size_t)i * cfg->pipeline;
    }
    if (build_messages(l) != 0) {
        error_set(err, errlen, "out of memory for the messages");
        bench_loop_free(l);
        return NULL;
    }
    bench_stats_init(&l->stats);

    l->measure_ns = share->start_ns + cfg->warmup_ns;
    l->end_ns = cfg->duration_ns > 0 ? l->measure_ns + cfg->duration_ns : INT64_MAX;
    l->hard_end_ns = cfg->duration_ns > 0 ? l->end_ns + cfg->timeout_ns : INT64_MAX;
    l->sweep_interval_ns = clamp_ns(cfg->timeout_ns / 20, SWEEP_MIN_NS, SWEEP_MAX_NS);
    l->sweep_ns = share->start_ns + l->sweep_interval_ns;
    l->publish_ns = share->start_ns;
    l->next_connect_ns = share->start_ns;
    l->connect_interval_ns = share->connect_rate > 0 ? (int64_t)(1e9 / share->connect_rate) : 0;
    if (l->connect_interval_ns == 0 && share->connect_rate > 0)
        l->connect_interval_ns = 1;
    l->rate_interval_ns = share->rate > 0 ? 1e9 / share->rate : 0;
    l->budget_limited = cfg->requests > 0;
    l->budget = share->requests;

    if (stop_fd() >= 0) {
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = STOP_TAG};
        if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, stop_fd(), &ev) != 0) {
            error_set(err, errlen, "cannot watch the stop signal: %s", strerror(errno));
            bench_loop_free(l);
            return NULL;
        }
    }
    return l;
}

const struct bench_stats *bench_loop_stats(const struct bench_loop *l)
{
    return &l->stats;
}

void bench_loop_progress(const struct bench_loop *l, struct bench_progress *out)
{
    out->ok = __atomic_load_n(&l->published.ok, __ATOMIC_RELAXED);
    out->errors = __atomic_load_n(&l->published.errors, __ATOMIC_RELAXED);
    out->connections_up = __atomic_load_n(&l->published.connections_up, __ATOMIC_RELAXED);
    out->p99_ns = __atomic_load_n(&l->published.p99_ns, __ATOMIC_RELAXED);
}

void bench_loop_free(struct bench_loop *l)
{
    if (!l)
        return;
    if (l->clients) {
        for (uint32_t i = 0; i < l->count; i++) {
            if (l->clients[i].fd >= 0)
                close(l->clients[i].fd);
        }
    }
    if (l->epfd >= 0)
        close(l->epfd);
    if (l->own_msgs) {
        for (uint32_t i = 0; i < l->count; i++)
            bench_message_free(&l->own_msgs[i]);
        free(l->own_msgs);
    }
    bench_message_free(&l->shared_msg);
    free(l->clients);
    free(l->ring_store);
    free(l->scratch);
    free(l->connect_queue);
    free(l->ready_queue);
    timers_free(&l->timers);
    free(l);
}
