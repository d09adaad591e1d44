/*
 * metrics: the server's own figures for Prometheus. It answers HTTP GET (or
 * HEAD) of /metrics with every count of core/counters.h in the text
 * exposition format 0.0.4 (services/prometheus_text.h), and anything else
 * with a 4xx (services/http_request.h). The counts live in memory shared by
 * every worker, loop and connection process, so whichever of them answers
 * reports the whole server.
 *
 * One request per connection: the answer says "Connection: close", and
 * the server closes once it is sent. When the client sent more than one
 * good request (a refused one, a body, a second request), the connection
 * lingers instead, reading and dropping what the client still sends, until
 * the client closes or METRICS_LINGER_MS pass: closing a socket with bytes
 * unread resets the connection, which could throw the answer away before
 * the client reads it. A long answer is sent in pieces as the output drains, as chargen
 * does, so it never needs more than one piece of the output queue.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buffer.h"
#include "core/conn.h"
#include "services/http_request.h"
#include "services/prometheus_text.h"

/* How long a connection that was answered waits for the client to close. */
#define METRICS_LINGER_MS 1000
/* Bytes of the answer queued at a time. */
#define METRICS_PIECE 16384

enum metrics_phase { READING, SENDING, ANSWERED };

struct metrics_state {
    enum metrics_phase phase;
    bool eof;    /* The client half-closed while the answer was being sent. */
    bool linger; /* The client sent more than the request answered. */
    struct buffer request;
    struct buffer answer; /* What is left to queue. */
};

static void finish(struct conn *c)
{
    struct metrics_state *st = conn_state(c);
    st->phase = ANSWERED;
    conn_want_writable(c, false);
    if (st->eof || !st->linger)
        conn_close(c);
    else
        conn_set_timer(c, METRICS_LINGER_MS);
}

static void send_piece(struct conn *c)
{
    struct metrics_state *st = conn_state(c);
    size_t limit = conn_config(c)->max_output;
    size_t len = buffer_length(&st->answer);
    if (len > METRICS_PIECE)
        len = METRICS_PIECE;
    if (len > limit)
        len = limit;
    if (len > 0 && conn_write(c, buffer_peek(&st->answer), len) != 0)
        return; /* Aborted: on_close frees the rest. */
    buffer_consume(&st->answer, len);
    if (buffer_is_empty(&st->answer))
        finish(c);
}

static void answer(struct conn *c, const struct http_request *req)
{
    struct metrics_state *st = conn_state(c);
    struct buffer body = {0};
    int status = req->status;
    if (status == 200 && prometheus_text(&body) != 0)
        status = 500;
    const char *type = "text/plain; version=0.0.4; charset=utf-8";
    if (status != 200) {
        buffer_free(&body);
        char text[64];
        int n = snprintf(text, sizeof(text), "%d %s\n", status, http_status_text(status));
        type = "text/plain; charset=utf-8";
        if (buffer_append(&body, text, (size_t)n, sizeof(text)) != 0)
            status = 500;
    }
    char head[256];
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
                     "Connection: close\r\n\r\n",
                     status, http_status_text(status), type, buffer_length(&body),
                     status == 405 ? "Allow: GET, HEAD\r\n" : "");
    bool head_only = status == 200 && req->head;
    if (buffer_append(&st->answer, head, (size_t)n, PROMETHEUS_TEXT_MAX + sizeof(head)) != 0 ||
        (!head_only && buffer_length(&body) > 0 &&
         buffer_append(&st->answer, buffer_peek(&body), buffer_length(&body),
                       PROMETHEUS_TEXT_MAX + sizeof(head)) != 0)) {
        buffer_free(&body);
        conn_abort(c, "out of memory");
        return;
    }
    buffer_free(&body);
    st->linger = status != 200 || buffer_length(&st->request) > req->length;
    buffer_free(&st->request);
    st->phase = SENDING;
    conn_want_writable(c, true);
    send_piece(c);
}

static void metrics_data(struct conn *c, const uint8_t *data, size_t len)
{
    struct metrics_state *st = conn_state(c);
    if (st->phase != READING) {
        st->linger = true; /* More than the request: dropped. */
        return;
    }
    size_t room = HTTP_REQUEST_MAX - buffer_length(&st->request);
    if (buffer_append(&st->request, data, len < room ? len : room, HTTP_REQUEST_MAX) != 0) {
        conn_abort(c, "out of memory");
        return;
    }
    struct http_request req;
    http_request_parse((const char *)buffer_peek(&st->request), buffer_length(&st->request), &req);
    if (req.status != 0)
        answer(c, &req);
}

static void metrics_eof(struct conn *c)
{
    struct metrics_state *st = conn_state(c);
    /* A request cut short gets no answer: nobody is left to read one. */
    if (st->phase == SENDING)
        st->eof = true;
    else
        conn_close(c);
}

static void metrics_linger_over(struct conn *c)
{
    conn_close(c);
}

static void metrics_close(struct conn *c)
{
    struct metrics_state *st = conn_state(c);
    buffer_free(&st->request);
    buffer_free(&st->answer);
}

const struct service service_metrics = {
    .name = "metrics",
    .summary = "the server's counts for Prometheus (GET /metrics; not by default)",
    .default_port = 9464,
    .flags = SERVICE_STREAM_ONLY | SERVICE_NOT_DEFAULT,
    .state_size = sizeof(struct metrics_state),
    .on_data = metrics_data,
    .on_eof = metrics_eof,
    .on_writable = send_piece,
    .on_timer = metrics_linger_over,
    .on_close = metrics_close,
};
