/*
 * A byte queue for pending output (and input that waits for a full line).
 *
 * Bytes are appended at the tail and consumed from the head. Storage is
 * allocated on the first append and released as soon as the queue is empty,
 * so an idle connection holds no buffer memory at all. Every buffer has a
 * hard limit fixed by its owner; an append that would pass it fails and
 * leaves the buffer unchanged, so a slow peer can never make it grow without
 * bound.
 */
#ifndef SOCKSERV_BUFFER_H
#define SOCKSERV_BUFFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buffer {
    uint8_t *data;   /* NULL while empty. */
    size_t head;     /* First unconsumed byte. */
    size_t tail;     /* One past the last byte. */
    size_t capacity; /* Bytes allocated at data. */
};

/* A zeroed struct buffer is a valid empty buffer; this is for clarity. */
void buffer_init(struct buffer *b);

/* Frees storage; the buffer is empty and reusable afterwards. */
void buffer_free(struct buffer *b);

size_t buffer_length(const struct buffer *b);
bool buffer_is_empty(const struct buffer *b);

/* Pointer to the first unconsumed byte (NULL when empty). */
const uint8_t *buffer_peek(const struct buffer *b);

/*
 * Appends len bytes. Fails (returns -1, buffer unchanged) when the result
 * would hold more than limit bytes or memory runs out. Returns 0 on success.
 */
int buffer_append(struct buffer *b, const void *data, size_t len, size_t limit);

/* Drops len bytes from the head (len <= length). Frees storage when empty. */
void buffer_consume(struct buffer *b, size_t len);

#endif
