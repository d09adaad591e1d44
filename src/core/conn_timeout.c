/*
 * The timeouts of a stream connection (core/conn_internal.h):
 * --idle-timeout, no byte either way for so long, and --request-timeout, a
 * line service's partial line held for so long. Both share one check time
 * in the model's timer heap, so bytes that move only store a time and a
 * stream of whole lines never touches the heap.
 */
#include <string.h>

#include "core/buffer.h"
#include "core/clock.h"
#include "core/conn_internal.h"
#include "core/counters.h"

/* When the check of the timeouts (idle, and request for a line service) is
 * due, on the clock of clock_now_ms; 0: never. */
int64_t conn_idle_check_at(const struct conn *c)
{
    int64_t after_open = ((int64_t)c->idle_check_high << 32) | c->idle_check_low;
    return after_open == 0 ? 0 : c->opened_ms + after_open;
}

void conn_set_idle_check(struct conn *c, int64_t at_ms)
{
    int64_t after_open = at_ms == 0 ? 0 : at_ms - c->opened_ms;
    c->idle_check_low = (uint32_t)after_open;
    c->idle_check_high = (uint16_t)(after_open >> 32);
}

/* Bytes moved: the idle timeout starts again. One store; the idle check
 * reads it only when it comes due. */
void conn_mark_active(struct conn *c)
{
    if (c->idle_check_low != 0 || c->idle_check_high != 0)
        c->last_active = (uint32_t)(clock_now_ms() - c->opened_ms);
}

/* --request-timeout: notes whether the bytes leave the service a partial
 * line, and when its first byte came. Only the start of a new partial line
 * moves the check, and only earlier, so a stream of whole lines never
 * touches a model's timer heap. */
void conn_note_line_progress(struct conn *c, const uint8_t *data, size_t len)
{
    const uint8_t *last_end = memrchr(data, '\n', len);
    if (last_end == data + len - 1) {
        c->flags &= (uint16_t)~CONN_LINE_PENDING;
        return;
    }
    if (!last_end && (c->flags & CONN_LINE_PENDING))
        return; /* The same line goes on: its time runs from its first byte. */
    int64_t now = clock_now_ms();
    c->flags |= CONN_LINE_PENDING;
    c->line_started = (uint32_t)(now - c->opened_ms);
    int64_t due = now + c->listener->config->request_timeout_ms;
    int64_t check = conn_idle_check_at(c);
    if (check == 0 || due < check)
        conn_set_idle_check(c, due);
}

/* Sends what is queued now, from here, so a last word reaches the peer
 * before an abort frees it: a completion model only queues writes, but
 * with none of its sends in flight, sending here keeps the order. */
static void flush_before_abort(struct conn *c)
{
    if (c->output_in_flight == 0)
        conn_flush_output(c);
}

/* Aborts c for a timeout, counted under counter, after its service's last
 * word (last_word, may be NULL), which is sent if the socket takes it. */
static void cut_for_timeout(struct conn *c, void (*last_word)(struct conn *), enum counter counter,
                            const char *reason)
{
    conn_set_idle_check(c, 0);
    if (last_word)
        RUN_CALLBACK(c, last_word(c));
    flush_before_abort(c);
    /* A last word that overflowed the queue cut it as a slow reader
     * already, and counted it so: one cut, one reason. */
    if (!(c->flags & CONN_DEAD))
        counters_add(c->listener->spec_index, counter, 1);
    conn_mark_dead(c, reason);
}

/* The check of the timeouts is due: aborts c if no byte moved either way
 * for the idle timeout, or if the partial line its line service holds got
 * its first byte the request timeout ago; otherwise looks again when the
 * first of them could end. */
void conn_check_timeouts(struct conn *c, int64_t now_ms)
{
    const struct service_config *config = c->listener->config;
    const struct service *s = c->listener->service;
    uint32_t now_after_open = (uint32_t)(now_ms - c->opened_ms);
    int64_t next = 0;
    if (config->idle_timeout_ms > 0) {
        uint32_t idle_for = now_after_open - c->last_active;
        if ((int64_t)idle_for >= config->idle_timeout_ms) {
            cut_for_timeout(c, s->on_idle, COUNTER_CUT_IDLE, CONN_IDLE_REASON);
            return;
        }
        next = now_ms + (config->idle_timeout_ms - (int64_t)idle_for);
    }
    if (c->flags & CONN_LINE_PENDING) {
        /* While the server reads nothing from it (the service paused, or
         * its answers back up), the peer cannot end its line: the line's
         * time starts again. */
        if (!(conn_interest(c) & CONN_WANT_READ))
            c->line_started = now_after_open;
        uint32_t held_for = now_after_open - c->line_started;
        if ((int64_t)held_for >= config->request_timeout_ms) {
            cut_for_timeout(c, s->on_request_timeout, COUNTER_CUT_REQUEST_TIMEOUT,
                            CONN_REQUEST_TIMEOUT_REASON);
            return;
        }
        int64_t due = now_ms + (config->request_timeout_ms - (int64_t)held_for);
        if (next == 0 || due < next)
            next = due;
    }
    conn_set_idle_check(c, next);
}
