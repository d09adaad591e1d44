/*
 * upper: each line comes back uppercased after --delay. It stands in for
 * the "lengthy action" of the scaling tutorials (a database query, say), so
 * the delay is real time during which the model must go on serving others.
 *
 * Lines on one connection are answered in order, one at a time: the next
 * line's delay starts when the previous answer is sent, as a client with one
 * database session would see it. Waiting is a timer, never a sleep. Lines
 * that arrive meanwhile wait in a bounded queue; once it is full the
 * connection stops reading, which pushes back on the client. An overlong
 * line is answered in its place with "error: line too long (max N bytes)",
 * sent as written: only answers are uppercased. At end of stream the
 * queued lines (and an unterminated last line) are still answered, then the
 * connection closes. A line left unfinished for --request-timeout is
 * answered "error: line not finished within D (request timeout)" and the
 * connection is cut. Over UDP, a datagram's lines come back together in
 * one reply datagram after one delay.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buffer.h"
#include "core/conn.h"
#include "core/duration.h"
#include "core/error.h"
#include "core/line_reader.h"

/* Queued answers above which reading pauses. */
#define UPPER_QUEUE_SOFT (64 * 1024)

/* One listener's settings: upper shares nothing else between connections. */
struct upper {
    int64_t delay_ms; /* --delay */
};

struct upper_state {
    struct line_reader reader;
    /* Answers not yet sent, each ending with its own LF. */
    struct buffer answers;
    bool ready; /* The reader is initialised. */
    bool eof;
};

static void *upper_create(const struct service_settings *settings, char *err, size_t errlen)
{
    struct upper *upper = malloc(sizeof(*upper));
    if (!upper) {
        error_set(err, errlen, "out of memory");
        return NULL;
    }
    upper->delay_ms = settings->upper_delay_ms;
    return upper;
}

static void upper_destroy(void *instance)
{
    free(instance);
}

static int64_t answer_delay_ms(const struct conn *c)
{
    const struct upper *upper = conn_service_instance(c);
    return upper->delay_ms;
}

static void upper_open(struct conn *c)
{
    struct upper_state *st = conn_state(c);
    line_reader_init(&st->reader, conn_config(c)->max_line);
    st->ready = true;
}

/* Reading pauses at the soft bound, but the read in progress still lands:
 * up to one read's worth of lines, plus the partial line the previous reads
 * left, plus line endings. The hard bound is that sum, so it is never hit
 * by a client that merely sends faster than the delay allows. */
static size_t queue_hard_limit(const struct conn *c)
{
    return UPPER_QUEUE_SOFT + CONN_READ_CHUNK + conn_config(c)->max_line + 64;
}

/* Queues text, uppercased when it is an answer (an error line is sent as
 * written), then ending. */
static void queue_answer(struct conn *c, const char *text, size_t len, const char *ending,
                         bool uppercase)
{
    struct upper_state *st = conn_state(c);
    size_t hard = queue_hard_limit(c);
    char upper[256];
    bool was_idle = buffer_is_empty(&st->answers);
    /* Uppercased in slices so the line needs no copy of its own size. */
    for (size_t done = 0; done < len;) {
        size_t n = len - done < sizeof(upper) ? len - done : sizeof(upper);
        for (size_t i = 0; i < n; i++) {
            char ch = text[done + i];
            upper[i] = (uppercase && ch >= 'a' && ch <= 'z') ? (char)(ch - 'a' + 'A') : ch;
        }
        if (buffer_append(&st->answers, upper, n, hard) != 0) {
            conn_abort(c, "upper: answer queue over its limit");
            return;
        }
        done += n;
    }
    if (buffer_append(&st->answers, ending, strlen(ending), hard) != 0) {
        conn_abort(c, "upper: answer queue over its limit");
        return;
    }
    if (was_idle)
        conn_set_timer(c, answer_delay_ms(c));
    if (buffer_length(&st->answers) >= UPPER_QUEUE_SOFT)
        conn_pause_reading(c, true);
}

static void upper_data(struct conn *c, const uint8_t *data, size_t len)
{
    struct upper_state *st = conn_state(c);
    const char *in = (const char *)data;
    const char *line;
    size_t line_len;
    enum line_event ev;
    while ((ev = line_reader_next(&st->reader, &in, &len, &line, &line_len)) != LINE_NEED_MORE) {
        if (ev == LINE_COMPLETE) {
            queue_answer(c, line, line_len, st->reader.last_crlf ? "\r\n" : "\n", true);
        } else {
            char msg[80];
            int n = snprintf(msg, sizeof(msg), "error: line too long (max %zu bytes)",
                             st->reader.max_line);
            queue_answer(c, msg, (size_t)n, "\n", false);
        }
    }
}

static void upper_timer(struct conn *c)
{
    struct upper_state *st = conn_state(c);
    const uint8_t *head = buffer_peek(&st->answers);
    size_t total = buffer_length(&st->answers);
    /* A datagram gets one reply (core/conn.h), so its lines are answered
     * together after one delay: no longer than the request, and holding
     * its connection for one delay rather than one per line. */
    const uint8_t *lf = head && !conn_is_datagram(c) ? memchr(head, '\n', total) : NULL;
    size_t len = lf ? (size_t)(lf - head) + 1 : total;
    if (len > 0 && conn_write(c, head, len) != 0)
        return;
    buffer_consume(&st->answers, len);
    if (!buffer_is_empty(&st->answers))
        conn_set_timer(c, answer_delay_ms(c));
    else if (st->eof)
        conn_close(c);
    if (buffer_length(&st->answers) < UPPER_QUEUE_SOFT)
        conn_pause_reading(c, false);
}

static void upper_eof(struct conn *c)
{
    struct upper_state *st = conn_state(c);
    const char *line;
    size_t line_len;
    st->eof = true;
    if (line_reader_finish(&st->reader, &line, &line_len))
        queue_answer(c, line, line_len, "", true);
    if (buffer_is_empty(&st->answers))
        conn_close(c);
}

/* A partial line went unfinished for --request-timeout: the client hears
 * why, in upper's error form, just before the cut. */
static void upper_request_timeout(struct conn *c)
{
    char limit[32];
    char msg[96];
    duration_format(conn_config(c)->request_timeout_ms, limit, sizeof(limit));
    int n =
        snprintf(msg, sizeof(msg), "error: line not finished within %s (request timeout)\n", limit);
    conn_write(c, msg, (size_t)n);
}

static void upper_close(struct conn *c)
{
    struct upper_state *st = conn_state(c);
    if (st->ready)
        line_reader_free(&st->reader);
    buffer_free(&st->answers);
}

const struct service service_upper = {
    .name = "upper",
    .summary = "each line back uppercased after --delay (the slow request)",
    .default_port = 7100,
    .flags = SERVICE_LINES,
    .state_size = sizeof(struct upper_state),
    .create = upper_create,
    .destroy = upper_destroy,
    .on_open = upper_open,
    .on_data = upper_data,
    .on_eof = upper_eof,
    .on_timer = upper_timer,
    .on_request_timeout = upper_request_timeout,
    .on_close = upper_close,
};
