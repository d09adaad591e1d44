/*
 * A connection: one client socket, the service that speaks on it, and the
 * bytes still to be sent to it.
 *
 * This module is the meeting point of the two halves of sockserv. Services
 * use the first group of functions below (conn_write, conn_close, timers) and
 * never look inside struct conn. Models use the second group: they wait for
 * readiness however they like (select, poll, epoll, a blocking wait on one
 * socket) and then call conn_handle_readable/writable/timer, and ask
 * conn_interest and conn_deadline what to wait for next. Everything a model
 * would otherwise repeat (reading, short writes, EINTR, backpressure, the
 * order of close, graceful stop) lives here, once.
 *
 * Backpressure: a connection stops reading while half its output limit is
 * queued, so a client that sends without reading (echo) can never make the
 * server buffer more than the limit.
 *
 * Datagrams: a UDP request is a datagram connection. It shares the
 * listener's socket, receives exactly one on_data (the datagram) followed by
 * on_eof, and each conn_write sends one reply datagram to the sender. It
 * lives for as long as its service keeps a timer armed (upper's delay), so
 * the same service code answers over TCP and UDP.
 */
#ifndef SOCKSERV_CONN_H
#define SOCKSERV_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/address.h"
#include "core/buffer.h"
#include "core/listener.h"
#include "services/service.h"

struct conn;
struct mailbox;

/*
 * What a model must hear when a connection changes outside that model's own
 * callbacks, for example when chat writes to every member of a room. NULL
 * means the model re-reads conn_interest and conn_deadline after every
 * callback of its own and needs nothing more.
 */
struct conn_owner {
    /* May be NULL. */
    void (*changed)(struct conn_owner *owner, struct conn *c);
    /* Delivers bytes posted to c from another thread (conn_post). NULL:
     * every poster runs on c's own thread, and conn_post is conn_write. */
    int (*post)(struct conn_owner *owner, struct conn *c, const void *data, size_t len);
    /* Completion models (io_uring) set this: conn_write only queues, and
     * the model sends what conn_take_output hands it. Otherwise conn_write
     * sends at once what the socket takes. */
    bool queue_writes;
    /* Called by conn_destroy after the service's on_close and before the
     * connection is freed, so the model can drop what refers to it (its
     * mailbox). May be NULL. */
    void (*release)(struct conn_owner *owner, struct conn *c);
    /* Sends one reply datagram of a datagram connection, so the model can
     * batch replies (sendmmsg). NULL: conn.c sends it at once. */
    void (*send_datagram)(struct conn_owner *owner, struct conn *c, const void *data, size_t len);
};

struct conn {
    int fd;
    uint16_t flags;           /* CONN_* bits, private to conn.c. */
    uint16_t registered_mask; /* The model's record of what it waits for. */
    uint32_t timer_slot;      /* The model's index for this timer. */
    const struct listener *listener;
    struct conn_owner *owner;
    int64_t deadline_ms;     /* Timer expiry, 0 when none. */
    const char *drop_reason; /* Why it was aborted; static text, or NULL. */
    int64_t opened_ms;
    uint64_t bytes_in;
    uint64_t bytes_out;
    void *model_data;        /* The model's own, or NULL; conn.c never touches it. */
    struct mailbox *mailbox; /* Bytes posted from other threads (core/mailbox.h). */
    struct buffer output;
    struct address peer;
    /* The service's per-connection state follows, state_size bytes. */
    max_align_t state[];
};

/* The most bytes one on_data call delivers; services that buffer input can
 * size their bounds from it. */
#define CONN_READ_CHUNK 65536

/* ---- For services ---------------------------------------------------- */

void *conn_state(struct conn *c);
const struct service_config *conn_config(const struct conn *c);

/*
 * Queues len bytes for the peer, sending at once what the socket takes.
 * Returns 0, or -1 when the connection is gone or its output limit would be
 * passed, in which case the connection is aborted and the service should
 * stop writing to it.
 */
int conn_write(struct conn *c, const void *data, size_t len);

/*
 * Queues bytes for c from the callback of any connection, not only c's own:
 * the way a service with shared state (chat) reaches other clients. Under
 * models that run connections on several threads it hands the bytes to c's
 * thread. It never blocks: a connection whose queue would pass its limit is
 * dropped as too slow. Returns 0, or -1 when c is gone or was just dropped.
 */
int conn_post(struct conn *c, const void *data, size_t len);

/* Why the connection was dropped, or NULL while it is healthy; for a
 * service's on_close to tell others. */
const char *conn_drop_reason(const struct conn *c);

/* True once the server has begun a graceful stop for this connection. */
bool conn_server_stopping(const struct conn *c);

/* Closes the connection once everything queued is sent. */
void conn_close(struct conn *c);

/* Closes at once, dropping queued output; reason goes to the debug log. */
void conn_abort(struct conn *c, const char *reason);

/* Asks for on_writable each time the output drains (generators). */
void conn_want_writable(struct conn *c, bool on);

/* Stops or resumes reading from the peer (input-side backpressure). */
void conn_pause_reading(struct conn *c, bool paused);

/* Arms the one timer of this connection, replacing any armed one. */
void conn_set_timer(struct conn *c, int64_t delay_ms);
void conn_clear_timer(struct conn *c);

size_t conn_output_pending(const struct conn *c);

/* True for a datagram (UDP) connection. */
bool conn_is_datagram(const struct conn *c);

/*
 * The most bytes the service may send in reply to this datagram without
 * making the server an amplifier: the request's own size, or SIZE_MAX with
 * --allow-amplification. SIZE_MAX for stream connections.
 */
size_t conn_reply_budget(const struct conn *c);

/* The peer's address ("127.0.0.1:51776"), for services that show it. */
const struct address *conn_peer(const struct conn *c);

/* ---- For models ------------------------------------------------------ */

/*
 * conn_write without the immediate send: the bytes wait for the model's
 * next flush. A model that delivers conn_post on its own thread uses it, so
 * that many lines posted to one client in one turn of the loop (a busy chat
 * room) leave in one send rather than one send each.
 */
int conn_queue_write(struct conn *c, const void *data, size_t len);

#define CONN_WANT_READ 0x1u
#define CONN_WANT_WRITE 0x2u

/*
 * Wraps an accepted, non-blocking socket. Returns NULL (and closes nothing)
 * when memory runs out. The service has not heard of it yet: the model first
 * records it, then calls conn_start.
 */
struct conn *conn_create(int fd, const struct address *peer, const struct listener *l,
                         struct conn_owner *owner);

/*
 * Wraps one received datagram from peer on a UDP listener; the connection
 * uses the listener's socket and never closes it. Returns NULL when memory
 * runs out. Then call conn_deliver_datagram.
 */
struct conn *conn_create_datagram(const struct address *peer, const struct listener *l,
                                  struct conn_owner *owner);

/* Runs the service's on_open. */
void conn_start(struct conn *c);

/* Runs on_open, on_data with the datagram, then on_eof. */
void conn_deliver_datagram(struct conn *c, const uint8_t *data, size_t len);

/* The socket is readable: read once and hand the bytes to the service. */
void conn_handle_readable(struct conn *c);

/* The socket is writable: send queued output, then let a generator refill. */
void conn_handle_writable(struct conn *c);

/* ---- For completion models, which do their own reads and sends ----------- */

/* Bytes the model received for c; len 0 is the end of the stream. */
void conn_receive(struct conn *c, const uint8_t *data, size_t len);

/* True while input must wait: the service paused reading, or half the
 * output limit is queued. Bytes that arrive meanwhile are the model's to
 * hold until it is false again. */
bool conn_input_paused(const struct conn *c);

/*
 * Moves everything queued for sending into dst, which must be empty, so the
 * model can send it from memory that later writes will not move. Until the
 * model reports it with conn_sent, the connection sees it as sent.
 */
void conn_take_output(struct conn *c, struct buffer *dst);

/* n bytes taken were sent. When nothing is queued, a generator (chargen)
 * may queue its next batch: call with n = 0 to ask for one. */
void conn_sent(struct conn *c, size_t n);

/* Runs the service's timer if its deadline has passed. */
void conn_handle_timer(struct conn *c, int64_t now_ms);

/*
 * The server is stopping: take no new input, and close as soon as nothing
 * the peer asked for is pending. Readiness models pass drain_socket to read
 * what the peer sent before the stop; a completion model receives that
 * through its completions already in flight.
 */
void conn_begin_stop(struct conn *c, bool drain_socket);

/* CONN_WANT_* bits the model should wait for now. */
unsigned conn_interest(const struct conn *c);

/* The timer deadline, or 0 when none is armed. */
int64_t conn_deadline(const struct conn *c);

/* True once the connection has nothing left to do and must be destroyed. */
bool conn_is_finished(const struct conn *c);

/* Runs on_close, closes the socket, logs the close and frees. */
void conn_destroy(struct conn *c);

#endif
