/*
 * What the files of the connection share and nothing else sees: the state
 * bits, the held input, and the helpers each part calls in another. One
 * connection, split by job: conn.c writes, reads, timers and the life
 * cycle; conn_timeout.c the idle and request timeouts; conn_input.c
 * holds input while it is paused; conn_stop.c the
 * graceful stop and the cut at grace; conn_datagram.c UDP requests and the
 * amplification bound.
 */
#ifndef SOCKSERV_CONN_INTERNAL_H
#define SOCKSERV_CONN_INTERNAL_H

#ifdef SOCKSERV_SERVICE_SOURCE
#error "a service sees connections only through core/conn.h"
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/conn_model.h"

/* The peer sent FIN; nothing more will be read. */
#define CONN_EOF_SEEN 0x01u
/* The service asked to close once output drains. */
#define CONN_CLOSING 0x02u
/* The socket failed or the connection was aborted: destroy it now. */
#define CONN_DEAD 0x04u
#define CONN_CALL_ON_WRITABLE 0x08u
#define CONN_READ_PAUSED 0x10u
/* The server is stopping: take no new input, close once idle. */
#define CONN_STOPPING 0x20u
/* A callback of this connection's service is running. */
#define CONN_IN_CALLBACK 0x40u
/* One UDP request on the listener's socket. */
#define CONN_DATAGRAM 0x80u
/* Stopping, and the service answered what the peer sent after the stop:
 * the peer is mid-stream, so serve it until it half-closes. */
#define CONN_STOP_AT_EOF 0x100u
/* A datagram connection has sent its one reply. */
#define CONN_REPLIED 0x200u
/* A stream connection of a line service under --request-timeout. */
#define CONN_LINE_TIMED 0x400u
/* Of those, one whose service holds a partial line (since line_started). */
#define CONN_LINE_PENDING 0x800u

/* Why a connection idle for --idle-timeout is aborted; the close log and
 * chat's departure notice show it. */
#define CONN_IDLE_REASON "idle timeout"
/* Why a connection whose partial line went unfinished for --request-timeout
 * is aborted. */
#define CONN_REQUEST_TIMEOUT_REASON "request timeout"

/* Input that reached a paused connection. Only completion models have any:
 * a readiness model simply stops reading. */
struct held_input {
    struct buffer bytes;
    bool eof; /* The end of the stream came after the bytes. */
};

/* Service callbacks run with CONN_IN_CALLBACK set so that the changes they
 * make are not reported back to the model that is calling them. */
#define RUN_CALLBACK(c, call)                                                                      \
    do {                                                                                           \
        (c)->flags |= CONN_IN_CALLBACK;                                                            \
        call;                                                                                      \
        (c)->flags &= (uint16_t)~CONN_IN_CALLBACK;                                                 \
    } while (0)

/* Marks c dead with reason (static text): it is destroyed at once. */
void conn_mark_dead(struct conn *c, const char *reason);
/* Output queued plus output in a send still in flight. */
size_t conn_output_owed(const struct conn *c);
/* --max-queue: what one connection may owe and hold. */
size_t conn_output_limit(const struct conn *c);
/* What the service may still be handed without passing the limit. */
size_t conn_output_room(const struct conn *c);
/* Bytes of input held while paused. */
size_t conn_input_held(const struct conn *c);
/* Hands input (len 0: the end of the stream) to the service, in order. */
void conn_deliver_input(struct conn *c, const uint8_t *data, size_t len);
/* The peer will send nothing more: on_eof, or close once drained. */
void conn_handle_eof(struct conn *c);
/* Sends what is queued, as far as the socket takes it now. */
void conn_flush_output(struct conn *c);

/* conn_timeout.c: when the check of the timeouts is due, and setting it
 * (0: never). */
int64_t conn_idle_check_at(const struct conn *c);
void conn_set_idle_check(struct conn *c, int64_t at_ms);
/* Bytes moved either way: the idle timeout starts again. */
void conn_mark_active(struct conn *c);
/* Input reached a line service: notes whether it leaves a partial line. */
void conn_note_line_progress(struct conn *c, const uint8_t *data, size_t len);
/* The check is due: cuts c for a timeout that ran out, or sets the next. */
void conn_check_timeouts(struct conn *c, int64_t now_ms);

/* conn_input.c: frees what is held, if anything. */
void conn_free_held_input(struct conn *c);

/* conn_stop.c: true while a stopping connection's peer is still sending. */
bool conn_peer_still_sending(const struct conn *c);

/* conn_datagram.c: sends one reply datagram within the amplification
 * bound; a reply over it, or a full socket buffer, drops it. Returns 0. */
int conn_send_datagram(struct conn *c, const void *data, size_t len);

#endif
