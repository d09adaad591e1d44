/* Input that reaches a connection while it is paused: held, in order, and
 * handed on when input resumes (completion models; a readiness model
 * simply stops reading). */
#include "core/conn_internal.h"

#include <stdlib.h>

static bool input_paused(const struct conn *c)
{
    return (c->flags & CONN_READ_PAUSED) || conn_output_owed(c) >= conn_output_limit(c) / 2;
}

static void hold_input(struct conn *c, const uint8_t *data, size_t len)
{
    if (!c->held)
        c->held = calloc(1, sizeof(*c->held));
    if (!c->held)
        conn_mark_dead(c, "out of memory");
    else if (len == 0)
        c->held->eof = true;
    else if (buffer_append(&c->held->bytes, data, len, CONN_HELD_INPUT_MAX) != 0)
        conn_mark_dead(c, "too much input while paused");
}

void conn_free_held_input(struct conn *c)
{
    if (c->held) {
        buffer_free(&c->held->bytes);
        free(c->held);
        c->held = NULL;
    }
}

void conn_receive(struct conn *c, const uint8_t *data, size_t len)
{
    /* Bytes held earlier go first, so new ones wait behind them. */
    if (c->held || input_paused(c)) {
        hold_input(c, data, len);
        return;
    }
    if (len == 0) {
        conn_deliver_input(c, NULL, 0);
        return;
    }
    size_t room = conn_output_room(c);
    size_t now = len < room ? len : room;
    if (now > 0)
        conn_deliver_input(c, data, now);
    if (now < len)
        hold_input(c, data + now, len - now);
}

void conn_release_held_input(struct conn *c)
{
    struct held_input *h = c->held;
    if (!h)
        return;
    while (!buffer_is_empty(&h->bytes) && !input_paused(c) && !conn_is_finished(c)) {
        size_t len = buffer_length(&h->bytes);
        if (len > CONN_READ_CHUNK)
            len = CONN_READ_CHUNK;
        if (len > conn_output_room(c))
            len = conn_output_room(c);
        if (len == 0)
            break;
        /* The service may queue output but never touches held input. */
        conn_deliver_input(c, buffer_peek(&h->bytes), len);
        buffer_consume(&h->bytes, len);
    }
    if (h->eof && buffer_is_empty(&h->bytes) && !input_paused(c)) {
        h->eof = false;
        conn_deliver_input(c, NULL, 0);
    }
    if (buffer_is_empty(&h->bytes) && !h->eof)
        conn_free_held_input(c);
}
