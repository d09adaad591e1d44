/*
 * The service API: how a service (echo, upper, chat, ...) is written once and
 * runs unchanged under every model.
 *
 * A service never touches a socket. It is a set of callbacks that a model
 * invokes on one connection at a time, and it answers through the conn_*
 * functions of core/conn.h. Input is pushed to the service as bytes
 * (on_data), output is queued (conn_write), and waiting is a timer
 * (conn_set_timer), never a sleep. That shape fits readiness models (select,
 * poll, epoll), blocking ones (a thread or process per connection, which wait
 * on one socket), completion models (io_uring delivers received bytes the
 * same way) and datagrams (each datagram is a short connection that receives
 * one message and then end of stream).
 *
 * Callbacks run on the thread that owns the connection. A callback never
 * frees its connection: conn_close and conn_abort only mark it, and the model
 * releases it after the callback returns.
 */
#ifndef SOCKSERV_CORE_SERVICE_H
#define SOCKSERV_CORE_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/endpoint.h"

struct conn;

/* Limits every connection of every service obeys, from sockserv serve; a
 * connection reads them with conn_config. max_output, allow_amplification,
 * idle_timeout_ms and request_timeout_ms are enforced by core/conn.c
 * whatever the service; max_line is the one bound every line service
 * (upper, chat) applies, from one option, so it lives here rather than in
 * a copy per service. */
struct service_config {
    size_t max_line;          /* Longest line a line service accepts. */
    size_t max_output;        /* Unsent bytes one connection may queue. */
    bool allow_amplification; /* UDP replies may exceed their request. */
    /* --idle-timeout: a stream connection with no bytes either way for this
     * long is closed by core/conn.c; 0: never. */
    int64_t idle_timeout_ms;
    /* --request-timeout: a connection of a SERVICE_LINES service whose
     * partial line got its first byte this long ago, with no end of line
     * since, is cut by core/conn.c; 0: never. */
    int64_t request_timeout_ms;
};

/* What the command line says to one service alone, handed to its create
 * when a listener of it is set up. Each field is read by the service its
 * name begins with, and by no other. */
struct service_settings {
    int64_t upper_delay_ms; /* --delay: the lengthy action of upper. */
    /* --chat-notices-max: rooms of at most this many members announce
     * arrivals, departures and renames; 0: none does. */
    size_t chat_notices_max;
    /* --chat-rate: lines a second, and at once, that one chat member may
     * send; a rate of 0 is no limit. */
    uint32_t chat_rate_per_second, chat_rate_burst;
};

/* The connections of one listener share its instance's state, so a model
 * that splits connections across processes cannot run the service. */
#define SERVICE_SHARED_STATE 0x1u
/* The service needs a byte stream (TCP); it has no datagram form. */
#define SERVICE_STREAM_ONLY 0x2u
/* The service reads requests as lines (upper, chat): --request-timeout
 * applies to its stream connections. */
#define SERVICE_LINES 0x4u
/* Served only when a listener names it, never in the default set: the
 * metrics service, whose counts are the operator's to expose. */
#define SERVICE_NOT_DEFAULT 0x8u

struct service {
    const char *name;
    const char *summary;   /* One line for --help. */
    uint16_t default_port; /* Port in the default listener set. */
    unsigned flags;        /* SERVICE_* bits. */
    size_t state_size;     /* Per-connection state, zeroed, at conn_state(). */

    /* The state of one listener (chat's rooms, upper's delay): made once per
     * listener when the server sets its listeners up, and shared by every
     * connection that listener accepts, on every loop of --threads
     * (conn_service_instance). Two listeners of one service are two
     * instances that know nothing of each other. Returns NULL with a
     * one-line reason in err when it cannot be made. NULL for a service
     * that keeps nothing between connections. */
    void *(*create)(const struct service_settings *settings, char *err, size_t errlen);
    /* Frees what create made, once no connection can reach it any more. */
    void (*destroy)(void *instance);

    /* A connection is open. May write, close or arm a timer. */
    void (*on_open)(struct conn *c);
    /* Bytes arrived, in order. len is 0 only for an empty datagram. */
    void (*on_data)(struct conn *c, const uint8_t *data, size_t len);
    /* The peer will send nothing more. NULL means: close once output is sent. */
    void (*on_eof)(struct conn *c);
    /* Output is drained and the service asked (conn_want_writable) to hear
     * it: the place for a generator such as chargen to write its next chunk. */
    void (*on_writable)(struct conn *c);
    /* The timer set with conn_set_timer expired. */
    void (*on_timer)(struct conn *c);
    /* No byte moved either way for --idle-timeout: the connection is
     * aborted as soon as this returns, so it is the last chance to tell the
     * peer why (what it writes is sent if the socket takes it at once).
     * NULL for most services. */
    void (*on_idle)(struct conn *c);
    /* The same for --request-timeout (SERVICE_LINES only): a partial line
     * went unfinished for that long, and the connection is aborted as soon
     * as this returns. NULL: cut without a word. */
    void (*on_request_timeout)(struct conn *c);
    /* Last call before the connection is freed: release what state holds. */
    void (*on_close)(struct conn *c);
};

/* The service named name, or NULL. */
const struct service *service_find(const char *name);

/* Every service, NULL-terminated, in the order of the default listener set
 * (which serves each over TCP, and over UDP unless SERVICE_STREAM_ONLY,
 * unless SERVICE_NOT_DEFAULT). */
const struct service *const *service_all(void);

#endif
