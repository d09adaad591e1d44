/*
 * The request a bench connection sends over and over, and the reply it must
 * get back byte for byte.
 *
 * Every message is a line, so one message serves both echo and upper: -s N
 * makes N bytes of lowercase letters of which the last is "\n", and
 * -m TEXT is TEXT with "\n" added unless it already ends in one. "{n}" in
 * TEXT stands for the connection's number (1, 2, ...), so each client of a
 * slow-client experiment can say who it is. The expected reply is the
 * message itself (echo), the message with a-z uppercased (upper; a CRLF
 * ending survives, as upper keeps it), or nothing at all (none: discard).
 */
#ifndef SOCKSERV_LOADGEN_MESSAGE_H
#define SOCKSERV_LOADGEN_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest -s: a message is held whole, once per connection at most. */
#define BENCH_MESSAGE_MAX (16 * 1024 * 1024)
/* The largest UDP payload over IPv4. */
#define BENCH_DATAGRAM_MAX 65507

enum bench_expect { BENCH_EXPECT_ECHO, BENCH_EXPECT_UPPER, BENCH_EXPECT_NONE };

struct bench_message {
    uint8_t *request;
    size_t request_len;
    const uint8_t *reply; /* request itself for echo; NULL for none. */
    size_t reply_len;     /* 0 for none. */
    uint8_t *owned_reply; /* What bench_message_free must free besides request. */
};

/* Reads "echo", "upper" or "none"; false for anything else. */
bool bench_expect_parse(const char *name, enum bench_expect *out);
const char *bench_expect_name(enum bench_expect e);

/* True when text holds "{n}", so every connection needs its own message. */
bool bench_message_is_template(const char *text);

/*
 * Builds the message from text (or, when text is NULL, size generated
 * bytes) for connection number. Returns 0, or -1 when memory runs out.
 */
int bench_message_build(struct bench_message *m, const char *text, size_t size,
                        enum bench_expect expect, uint32_t number);

/* Length of the request text would build for the widest number, for
 * checking limits before anything is built. */
size_t bench_message_length(const char *text, size_t size);

void bench_message_free(struct bench_message *m);

#endif
