/*
 * A connection as a service sees it: an opaque handle, and the calls that
 * write to it, close it and arm its timer.
 *
 * This module is the meeting point of the two halves of sockserv. Services
 * include this header only, so struct conn stays opaque to them and the
 * compiler refuses a service that reaches into it. Models include
 * core/conn_model.h as well, which defines the struct and the calls that
 * drive a connection: they wait for readiness however they like (select,
 * poll, epoll, a blocking wait on one socket, io_uring completions) and hand
 * it to conn.c. Everything a model would otherwise repeat (reading, short
 * writes, EINTR, backpressure, the order of close, graceful stop) lives in
 * conn.c, once.
 *
 * Backpressure: a connection stops reading while half its output limit is
 * queued, so a client that sends without reading (echo) can never make the
 * server buffer more than the limit.
 *
 * Datagrams: a UDP request is a datagram connection. It shares the
 * listener's socket, receives exactly one on_data (the datagram) followed by
 * on_eof, and each conn_write sends one reply datagram to the sender. It
 * lives for as long as its service keeps a timer armed (upper's delay), so
 * the same service code answers over TCP and UDP. Unless
 * --allow-amplification, only the first conn_write of a request is sent,
 * and only when it fits conn_reply_budget (or is at most 32 bytes, for
 * daytime and time): later or longer replies are dropped, so a service
 * that may answer in parts answers a datagram in one write.
 */
#ifndef SOCKSERV_CONN_H
#define SOCKSERV_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/address.h"
#include "core/service.h"

/* Opaque to services; defined for models in core/conn_model.h. */
struct conn;

/* The most bytes one on_data call delivers; services that buffer input can
 * size their bounds from it. */
#define CONN_READ_CHUNK 65536

void *conn_state(struct conn *c);
const struct service_config *conn_config(const struct conn *c);
/* The instance its service's create made for c's listener; NULL for a
 * service without one. */
void *conn_service_instance(const struct conn *c);

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

size_t conn_output_pending(const struct conn *c);

/* True for a datagram (UDP) connection. */
bool conn_is_datagram(const struct conn *c);

/*
 * The most bytes the service may send in reply to this datagram without
 * making the server an amplifier: the request's own size, or SIZE_MAX with
 * --allow-amplification. SIZE_MAX for stream connections. A datagram gets
 * one reply in all (see above).
 */
size_t conn_reply_budget(const struct conn *c);

/* The peer's address ("127.0.0.1:51776"), for services that show it. */
const struct address *conn_peer(const struct conn *c);

/* The number of c's listener in core/counters.h, so a service can count
 * figures of its own there (chat's members and rooms). */
size_t conn_listener_number(const struct conn *c);

#endif
