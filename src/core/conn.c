#include "core/conn_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/counters.h"
#include "core/log.h"
#include "core/mailbox.h"

/* A generator refills at most this many times per writable event, so one
 * fast reader cannot starve the other connections of an event loop. */
#define CONN_REFILLS_PER_EVENT 16

static void notify_owner(struct conn *c)
{
    /* Inside its own callbacks the model re-reads the connection anyway. */
    if (c->owner && c->owner->changed && !(c->flags & CONN_IN_CALLBACK))
        c->owner->changed(c->owner, c);
}

void *conn_state(struct conn *c)
{
    return c->state;
}

const struct service_config *conn_config(const struct conn *c)
{
    return c->listener->config;
}

void *conn_service_instance(const struct conn *c)
{
    return c->listener->instance;
}

size_t conn_output_limit(const struct conn *c)
{
    return c->listener->config->max_output;
}

/* Output the connection still owes its peer: queued, or in a send in
 * flight. This, not the queue alone, is what the limit bounds. */
size_t conn_output_owed(const struct conn *c)
{
    return buffer_length(&c->output) + c->output_in_flight;
}

size_t conn_input_held(const struct conn *c)
{
    return c->held ? buffer_length(&c->held->bytes) : 0;
}

/* How much more output the limit allows. */
size_t conn_output_room(const struct conn *c)
{
    size_t owed = conn_output_owed(c);
    return owed < conn_output_limit(c) ? conn_output_limit(c) - owed : 0;
}

void conn_mark_dead(struct conn *c, const char *reason)
{
    if (c->flags & CONN_DEAD)
        return;
    c->flags |= CONN_DEAD;
    c->drop_reason = reason;
    buffer_free(&c->output);
    if (log_enabled(LOG_DEBUG)) {
        char peer[ADDRESS_TEXT_MAX];
        address_format(&c->peer, peer, sizeof(peer));
        struct log_field fields[] = {
            LOG_TEXT("event", "dropped"),
            LOG_TEXT("listener", c->listener->name),
            LOG_TEXT("service", c->listener->service->name),
            LOG_TEXT("peer", peer),
            LOG_TEXT("reason", reason),
        };
        log_event(LOG_DEBUG, fields, 5, "client dropped: %s -> %s: %s", peer,
                  c->listener->service->name, reason);
    }
    notify_owner(c);
}

/*
 * Sends what the socket takes now. Returns the bytes sent (possibly 0) or -1
 * after marking the connection dead.
 */
static ssize_t send_now(struct conn *c, const void *data, size_t len)
{
    for (;;) {
        /* MSG_NOSIGNAL: a vanished peer is an error to handle, not SIGPIPE. */
        ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n >= 0) {
            c->bytes_out += (uint64_t)n;
            counters_add(c->listener->spec_index, COUNTER_BYTES_OUT, n);
            if (n > 0)
                conn_mark_active(c);
            return n;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return 0;
        conn_mark_dead(c, "connection lost");
        return -1;
    }
}

static int write_bytes(struct conn *c, const void *data, size_t len, bool may_send_now)
{
    if (c->flags & CONN_DEAD)
        return -1;
    if (c->flags & CONN_DATAGRAM)
        return conn_send_datagram(c, data, len);
    if (len == 0)
        return 0;
    if (mailbox_waiting(c)) {
        mailbox_deliver_waiting(c);
        if (c->flags & CONN_DEAD)
            return -1;
    }
    const uint8_t *bytes = data;
    bool completion_model = c->owner && c->owner->queue_writes;
    if (buffer_is_empty(&c->output) && !completion_model && may_send_now) {
        /* Nothing queued, so order allows sending straight from the caller's
         * memory: the common case costs one send and no copy. */
        ssize_t sent = send_now(c, bytes, len);
        if (sent < 0)
            return -1;
        bytes += sent;
        len -= (size_t)sent;
        if (len == 0)
            return 0;
    }
    size_t queue_limit = buffer_length(&c->output) + conn_output_room(c);
    if (buffer_append(&c->output, bytes, len, queue_limit) != 0) {
        counters_add(c->listener->spec_index, COUNTER_CUT_SLOW_READER, 1);
        conn_mark_dead(c, "too slow: output queue full");
        return -1;
    }
    notify_owner(c);
    return 0;
}

int conn_write(struct conn *c, const void *data, size_t len)
{
    return write_bytes(c, data, len, true);
}

int conn_queue_write(struct conn *c, const void *data, size_t len)
{
    return write_bytes(c, data, len, false);
}

int conn_post(struct conn *c, const void *data, size_t len)
{
    if (c->owner && c->owner->post)
        return c->owner->post(c->owner, c, data, len);
    return conn_write(c, data, len);
}

const char *conn_drop_reason(const struct conn *c)
{
    return c->drop_reason;
}

bool conn_server_stopping(const struct conn *c)
{
    return c->flags & CONN_STOPPING;
}

void conn_close(struct conn *c)
{
    c->flags |= CONN_CLOSING;
    notify_owner(c);
}

void conn_abort(struct conn *c, const char *reason)
{
    conn_mark_dead(c, reason);
}

void conn_want_writable(struct conn *c, bool on)
{
    if (on)
        c->flags |= CONN_CALL_ON_WRITABLE;
    else
        c->flags &= (uint16_t)~CONN_CALL_ON_WRITABLE;
    notify_owner(c);
}

void conn_pause_reading(struct conn *c, bool paused)
{
    if (paused)
        c->flags |= CONN_READ_PAUSED;
    else
        c->flags &= (uint16_t)~CONN_READ_PAUSED;
    notify_owner(c);
}

void conn_set_timer(struct conn *c, int64_t delay_ms)
{
    if (delay_ms < 0)
        delay_ms = 0;
    c->deadline_ms = clock_now_ms() + delay_ms;
    notify_owner(c);
}

size_t conn_output_pending(const struct conn *c)
{
    return buffer_length(&c->output);
}

const struct address *conn_peer(const struct conn *c)
{
    return &c->peer;
}

size_t conn_listener_number(const struct conn *c)
{
    return c->listener->spec_index;
}

/* ---- Model side ------------------------------------------------------- */

struct conn *conn_create(int fd, const struct address *peer, const struct listener *l,
                         struct conn_owner *owner)
{
    struct conn *c = calloc(1, sizeof(*c) + l->service->state_size);
    if (!c)
        return NULL;
    c->fd = fd;
    c->listener = l;
    c->owner = owner;
    c->peer = *peer;
    c->opened_ms = clock_now_ms();
    if (l->config->idle_timeout_ms > 0)
        conn_set_idle_check(c, c->opened_ms + l->config->idle_timeout_ms);
    if (l->config->request_timeout_ms > 0 && (l->service->flags & SERVICE_LINES))
        c->flags |= CONN_LINE_TIMED;
    buffer_init(&c->output);
    return c;
}

void conn_start(struct conn *c)
{
    const struct service *s = c->listener->service;
    /* Counted here and in conn_destroy, on the thread that serves it, so
     * each loop's open figure is its own. */
    if (!(c->flags & CONN_DATAGRAM))
        counters_add(c->listener->spec_index, COUNTER_ACCEPTED, 1);
    if (s->on_open)
        RUN_CALLBACK(c, s->on_open(c));
}

void conn_handle_eof(struct conn *c)
{
    const struct service *s = c->listener->service;
    /* The peer is done: a partial line is its last, and waits for nothing. */
    c->flags = (uint16_t)((c->flags | CONN_EOF_SEEN) & ~CONN_LINE_PENDING);
    if (s->on_eof)
        RUN_CALLBACK(c, s->on_eof(c));
    else
        c->flags |= CONN_CLOSING;
}

/* Hands input to the service, in the order it arrived. */
void conn_deliver_input(struct conn *c, const uint8_t *data, size_t len)
{
    /* After conn_close the service wants nothing more, as a readiness
     * model would never have read it. */
    if (c->flags & (CONN_DEAD | CONN_EOF_SEEN | CONN_CLOSING))
        return;
    if (len == 0) {
        conn_handle_eof(c);
        return;
    }
    c->bytes_in += len;
    counters_add(c->listener->spec_index, COUNTER_BYTES_IN, (int64_t)len);
    conn_mark_active(c);
    if (c->flags & CONN_LINE_TIMED)
        conn_note_line_progress(c, data, len);
    const struct service *s = c->listener->service;
    if (!s->on_data)
        return;
    uint64_t answered = c->bytes_out + conn_output_owed(c);
    RUN_CALLBACK(c, s->on_data(c, data, len));
    /* A peer still sending after the stop, and being answered, is in the
     * middle of a stream: a pause in it must not end the connection, or
     * what it sends next would meet a closed socket and a reset. */
    if ((c->flags & CONN_STOPPING) && c->bytes_out + conn_output_owed(c) > answered)
        c->flags |= CONN_STOP_AT_EOF;
}

void conn_handle_readable(struct conn *c)
{
    /* Models may report readability the connection did not ask for (a
     * hang-up, a stale event); a paused connection must still not read. */
    if (!(conn_interest(c) & CONN_WANT_READ))
        return;
    /* Never read more than the output queue could absorb if the service
     * answered every byte, so echo cannot pass the limit. */
    size_t room = conn_output_room(c);
    uint8_t chunk[CONN_READ_CHUNK];
    size_t want = room < sizeof(chunk) ? room : sizeof(chunk);
    if (want == 0)
        return;
    ssize_t n;
    do {
        n = recv(c->fd, chunk, want, 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            conn_mark_dead(c, "connection lost");
        return;
    }
    conn_deliver_input(c, chunk, (size_t)n);
}

void conn_flush_output(struct conn *c)
{
    while (!buffer_is_empty(&c->output)) {
        ssize_t sent = send_now(c, buffer_peek(&c->output), buffer_length(&c->output));
        if (sent <= 0)
            return;
        buffer_consume(&c->output, (size_t)sent);
    }
}

/* Lets a generator (chargen) write its next batch once output has drained,
 * at most max_rounds times while the socket keeps taking everything. */
static void refill(struct conn *c, int max_rounds)
{
    const struct service *s = c->listener->service;
    for (int i = 0; i < max_rounds; i++) {
        if (c->flags & (CONN_DEAD | CONN_CLOSING | CONN_STOPPING))
            return;
        if (!(c->flags & CONN_CALL_ON_WRITABLE) || !s->on_writable)
            return;
        if (!buffer_is_empty(&c->output))
            return;
        uint64_t before = c->bytes_out;
        RUN_CALLBACK(c, s->on_writable(c));
        /* A generator that wrote nothing, or whose output the socket did not
         * take in full, waits for the next writable event. */
        if (c->bytes_out == before || !buffer_is_empty(&c->output))
            return;
    }
}

void conn_handle_writable(struct conn *c)
{
    conn_flush_output(c);
    refill(c, CONN_REFILLS_PER_EVENT);
}

void conn_take_output(struct conn *c, struct buffer *dst)
{
    c->output_in_flight += buffer_length(&c->output);
    *dst = c->output;
    buffer_init(&c->output);
}

void conn_sent(struct conn *c, size_t n)
{
    c->bytes_out += n;
    counters_add(c->listener->spec_index, COUNTER_BYTES_OUT, (int64_t)n);
    if (n > 0)
        conn_mark_active(c);
    c->output_in_flight -= n < c->output_in_flight ? n : c->output_in_flight;
    /* With writes queued, a generator's batch lands in the output buffer,
     * so one round is one batch to send. */
    if (!(c->flags & CONN_DEAD) && buffer_is_empty(&c->output))
        refill(c, 1);
}

void conn_handle_timer(struct conn *c, int64_t now_ms)
{
    if (c->flags & CONN_DEAD)
        return;
    int64_t idle_check = conn_idle_check_at(c);
    if (idle_check != 0 && idle_check <= now_ms) {
        conn_check_timeouts(c, now_ms);
        if (c->flags & CONN_DEAD)
            return;
    }
    if (c->deadline_ms == 0 || c->deadline_ms > now_ms)
        return;
    c->deadline_ms = 0;
    const struct service *s = c->listener->service;
    if (s->on_timer)
        RUN_CALLBACK(c, s->on_timer(c));
}

unsigned conn_interest(const struct conn *c)
{
    /* A datagram connection never waits on the socket it shares. */
    if (c->flags & (CONN_DEAD | CONN_DATAGRAM))
        return 0;
    unsigned mask = 0;
    /* A stopping connection still reads: what its peer sent is answered
     * (conn_begin_stop). */
    bool no_input = c->flags & (CONN_EOF_SEEN | CONN_CLOSING | CONN_READ_PAUSED);
    /* Held input goes to the service before anything new is read. */
    if (!no_input && conn_input_held(c) == 0 && conn_output_owed(c) < conn_output_limit(c) / 2)
        mask |= CONN_WANT_READ;
    if (!buffer_is_empty(&c->output))
        mask |= CONN_WANT_WRITE;
    else if ((c->flags & CONN_CALL_ON_WRITABLE) && !(c->flags & (CONN_CLOSING | CONN_STOPPING)))
        mask |= CONN_WANT_WRITE;
    return mask;
}

int64_t conn_deadline(const struct conn *c)
{
    if (c->flags & CONN_DEAD)
        return 0;
    int64_t idle_check = conn_idle_check_at(c);
    if (idle_check != 0 && (c->deadline_ms == 0 || idle_check < c->deadline_ms))
        return idle_check;
    return c->deadline_ms;
}

bool conn_is_finished(const struct conn *c)
{
    if (c->flags & CONN_DEAD)
        return true;
    if (c->flags & CONN_DATAGRAM)
        return (c->flags & CONN_CLOSING) || c->deadline_ms == 0;
    bool drained = buffer_is_empty(&c->output);
    if ((c->flags & CONN_CLOSING) && drained)
        return true;
    /* While stopping, a connection is done once it owes the peer nothing:
     * no queued bytes, no timer (a pending slow answer), and nothing the
     * peer sent is left to read and answer. */
    if ((c->flags & CONN_STOPPING) && conn_output_owed(c) == 0 && c->deadline_ms == 0 &&
        !conn_peer_still_sending(c) &&
        (!(c->flags & CONN_STOP_AT_EOF) || (c->flags & CONN_EOF_SEEN)))
        return true;
    /* The peer closed its side and the service neither closed nor has
     * anything more coming: nothing can ever happen again. */
    if ((c->flags & CONN_EOF_SEEN) && drained && c->deadline_ms == 0 &&
        !(c->flags & CONN_CALL_ON_WRITABLE))
        return true;
    return false;
}

struct conn_status conn_status(const struct conn *c)
{
    return (struct conn_status){
        .finished = conn_is_finished(c),
        .dropped = c->drop_reason != NULL,
        .interest = conn_interest(c),
        .output_pending = buffer_length(&c->output),
        .deadline_ms = conn_deadline(c),
    };
}

void conn_destroy(struct conn *c)
{
    const struct service *s = c->listener->service;
    if (s->on_close)
        s->on_close(c);
    bool datagram = c->flags & CONN_DATAGRAM;
    if (!datagram)
        counters_add(c->listener->spec_index, COUNTER_CLOSED, 1);
    if (!datagram && c->fd >= 0 && close(c->fd) != 0 && errno != EINTR)
        log_warn("close: %s", strerror(errno));
    /* Whichever thread or process ends the connection gives its source's
     * slot back (the fork model's connection process included). */
    if (!datagram)
        admission_release(c->listener->admission, &c->peer);
    if (log_enabled(LOG_DEBUG)) {
        char peer[ADDRESS_TEXT_MAX];
        address_format(&c->peer, peer, sizeof(peer));
        int64_t duration_ms = clock_now_ms() - c->opened_ms;
        struct log_field fields[] = {
            LOG_TEXT("event", datagram ? "datagram" : "closed"),
            LOG_TEXT("listener", c->listener->name),
            LOG_TEXT("service", s->name),
            LOG_TEXT("peer", peer),
            LOG_COUNT("bytes_in", c->bytes_in),
            LOG_COUNT("bytes_out", c->bytes_out),
            LOG_NUMBER("duration_ms", duration_ms),
            LOG_TEXT("reason", c->drop_reason ? c->drop_reason : "done"),
        };
        log_event(LOG_DEBUG, fields, 8, "%s: %s -> %s (in %llu B, out %llu B, %lld ms)",
                  datagram ? "datagram served" : "client closed", peer, s->name,
                  (unsigned long long)c->bytes_in, (unsigned long long)c->bytes_out,
                  (long long)duration_ms);
    }
    buffer_free(&c->output);
    conn_free_held_input(c);
    if (c->owner && c->owner->release)
        c->owner->release(c->owner, c);
    free(c);
}
