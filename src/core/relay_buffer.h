/*
 * A fixed buffer between a byte source and its sink, as the clients relay
 * them (input to socket, socket to output).
 *
 * Bytes are taken in at the tail and passed on from the head, in storage the
 * owner provides and never grows: a full buffer is the signal to stop reading
 * from its source, which is all the backpressure a relay needs. The bytes
 * always sit in one piece, so they go to write() or memchr() as they are;
 * they move to the front of the storage only when the tail lacks room that
 * the front has. (core/buffer.h is the other queue: it allocates on demand
 * and frees when empty, for a connection's pending output.)
 */
#ifndef SOCKSERV_RELAY_BUFFER_H
#define SOCKSERV_RELAY_BUFFER_H

#include <stddef.h>
#include <stdint.h>

struct relay_buffer {
    uint8_t *data;
    size_t capacity;
    size_t head; /* First byte not yet passed on. */
    size_t tail; /* One past the last byte taken in. */
};

/* An empty buffer over capacity bytes of storage, which the owner keeps. */
void relay_buffer_init(struct relay_buffer *b, uint8_t *storage, size_t capacity);

/* Bytes held, waiting to be passed on. */
size_t relay_buffer_length(const struct relay_buffer *b);

/* Bytes that could still be taken in: at the tail and before the head
 * together. 0 means full. */
size_t relay_buffer_space(const struct relay_buffer *b);

/* The first byte held (relay_buffer_length bytes follow it). */
const uint8_t *relay_buffer_peek(const struct relay_buffer *b);

/* Passes on n bytes (n <= length) from the head. */
void relay_buffer_consume(struct relay_buffer *b, size_t n);

/*
 * Where the next bytes go: returns the tail, with *room set to the bytes
 * free there. When fewer than want are free at the tail and the front has
 * some, the bytes held move to the front first; so want = 1 moves them only
 * when the tail is at the end, and SIZE_MAX whenever anything was consumed.
 * Bytes written there count once relay_buffer_commit is called.
 */
uint8_t *relay_buffer_reserve(struct relay_buffer *b, size_t want, size_t *room);

/* Takes in n bytes written at the tail that relay_buffer_reserve returned
 * (n <= the room it gave). */
void relay_buffer_commit(struct relay_buffer *b, size_t n);

/* Copies len bytes in at the tail; the caller has checked that
 * relay_buffer_space is at least len. */
void relay_buffer_append(struct relay_buffer *b, const void *data, size_t len);

/* Takes back bytes taken in last, so that length bytes remain (length <=
 * relay_buffer_length). */
void relay_buffer_truncate(struct relay_buffer *b, size_t length);

#endif
