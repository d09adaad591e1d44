/*
 * Byte queue. Appends copy to the tail; consumes only move the head, so a
 * partial write costs nothing. Room at the front is reclaimed by one memmove
 * when the tail runs out of space, before any growth is considered.
 */
#include "core/buffer.h"

#include <stdlib.h>
#include <string.h>

/* Small enough to cost little per connection, large enough for most lines. */
#define BUFFER_MIN_CAPACITY 512

void buffer_init(struct buffer *b)
{
    memset(b, 0, sizeof *b);
}

void buffer_free(struct buffer *b)
{
    free(b->data);
    buffer_init(b);
}

size_t buffer_length(const struct buffer *b)
{
    return b->tail - b->head;
}

bool buffer_is_empty(const struct buffer *b)
{
    return b->tail == b->head;
}

const uint8_t *buffer_peek(const struct buffer *b)
{
    return buffer_is_empty(b) ? NULL : b->data + b->head;
}

/*
 * Doubles from the current size (at least BUFFER_MIN_CAPACITY) until needed
 * fits, so n appends cost O(n) copying in all, but never allocates past the
 * limit: a buffer that may hold 100 bytes never takes 512.
 */
static size_t grown_capacity(size_t capacity, size_t needed, size_t limit)
{
    size_t grown = capacity < BUFFER_MIN_CAPACITY ? BUFFER_MIN_CAPACITY : capacity;
    while (grown < needed) {
        if (grown > SIZE_MAX / 2) {
            grown = needed;
            break;
        }
        grown *= 2;
    }
    /* The caller checked needed <= limit, so this keeps needed in reach. */
    return grown > limit ? limit : grown;
}

int buffer_append(struct buffer *b, const void *data, size_t len, size_t limit)
{
    if (len == 0)
        return 0;
    size_t length = buffer_length(b);
    if (length > limit || len > limit - length)
        return -1;
    size_t needed = length + len;
    if (b->capacity - b->tail < len) {
        if (b->head > 0) {
            memmove(b->data, b->data + b->head, length);
            b->head = 0;
            b->tail = length;
        }
        if (b->capacity < needed) {
            size_t capacity = grown_capacity(b->capacity, needed, limit);
            uint8_t *grown = realloc(b->data, capacity);
            if (grown == NULL)
                return -1; /* The old block is intact and still ours. */
            b->data = grown;
            b->capacity = capacity;
        }
    }
    memcpy(b->data + b->tail, data, len);
    b->tail += len;
    return 0;
}

void buffer_consume(struct buffer *b, size_t len)
{
    /* Consuming more than is held is a caller bug; emptying is the safe reading. */
    if (len >= buffer_length(b)) {
        buffer_free(b);
        return;
    }
    b->head += len;
}
