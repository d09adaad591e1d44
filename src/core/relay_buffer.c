#include "core/relay_buffer.h"

#include <string.h>

void relay_buffer_init(struct relay_buffer *b, uint8_t *storage, size_t capacity)
{
    *b = (struct relay_buffer){.data = storage, .capacity = capacity};
}

size_t relay_buffer_length(const struct relay_buffer *b)
{
    return b->tail - b->head;
}

size_t relay_buffer_space(const struct relay_buffer *b)
{
    return b->capacity - relay_buffer_length(b);
}

const uint8_t *relay_buffer_peek(const struct relay_buffer *b)
{
    return b->data + b->head;
}

void relay_buffer_consume(struct relay_buffer *b, size_t n)
{
    b->head += n;
    /* Empty: the next bytes start at the front, so no move is ever needed
     * for a buffer that is drained as fast as it fills. */
    if (b->head == b->tail)
        b->head = b->tail = 0;
}

uint8_t *relay_buffer_reserve(struct relay_buffer *b, size_t want, size_t *room)
{
    if (b->capacity - b->tail < want && b->head > 0) {
        memmove(b->data, b->data + b->head, relay_buffer_length(b));
        b->tail -= b->head;
        b->head = 0;
    }
    *room = b->capacity - b->tail;
    return b->data + b->tail;
}

void relay_buffer_commit(struct relay_buffer *b, size_t n)
{
    b->tail += n;
}

void relay_buffer_append(struct relay_buffer *b, const void *data, size_t len)
{
    size_t room;
    uint8_t *into = relay_buffer_reserve(b, len, &room);
    memcpy(into, data, len);
    b->tail += len;
}

void relay_buffer_truncate(struct relay_buffer *b, size_t length)
{
    b->tail = b->head + length;
    if (b->head == b->tail)
        b->head = b->tail = 0;
}
