/*
 * A connection as a model sees it: the struct itself and the calls that
 * drive it (create, hand it readiness or received bytes, ask what it wants
 * next, destroy). Only models and core/ include this header; a service that
 * tries is refused at compile time (the Makefile defines
 * SOCKSERV_SERVICE_SOURCE for src/services/), so no service can depend on a
 * model's view of a connection.
 */
#ifndef SOCKSERV_CONN_MODEL_H
#define SOCKSERV_CONN_MODEL_H

#ifdef SOCKSERV_SERVICE_SOURCE
#error "a service sees connections only through core/conn.h"
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/address.h"
#include "core/buffer.h"
#include "core/conn.h"
#include "core/listener.h"

struct mailbox;
struct held_input;

/*
 * What a model must hear when a connection changes outside that model's own
 * callbacks, for example when chat writes to every member of a room. NULL
 * means the model re-reads conn_status after every callback of its own and
 * needs nothing more.
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
    uint16_t flags; /* CONN_* bits, private to conn.c. */
    /* Each of these belongs to one module, which alone reads and writes it. */
    uint8_t watched_events;  /* models/event_loop.c: EVENT_* bits the backend watches. */
    uint8_t kernel_requests; /* models/uring.c: its requests the kernel holds. */
    uint32_t timer_slot;     /* models/timer_heap.c: the index of this timer. */
    /* The idle timeout's times, private to conn.c, in ms after opened_ms,
     * sized to fill padding so that an idle connection costs no more. */
    /* The last byte read or sent, modulo 2^32: only differences shorter
     * than the idle timeout (at most a week) are ever taken, so the wrap
     * after 49 days does no harm, and a read costs one store. */
    uint32_t last_active;
    /* When to look whether the connection has been idle for the timeout
     * (or held a partial line for --request-timeout), a 48-bit count split
     * in two (0: never). Moved only when it comes due, or earlier when a
     * partial line starts, so bytes moving never touch a model's timer
     * heap. */
    uint32_t idle_check_low;
    uint16_t idle_check_high;
    bool on_changed_list; /* models/changed_list.c: listed to reconcile. */
    /* --request-timeout, private to conn.c: when the partial line the
     * service holds got its first byte, in ms after opened_ms modulo 2^32
     * (meaningful while the CONN_LINE_PENDING flag is set). */
    uint32_t line_started;
    const struct listener *listener;
    struct conn_owner *owner;
    int64_t deadline_ms;     /* The service's timer expiry, 0 when none. */
    const char *drop_reason; /* Why it was aborted; static text, or NULL. */
    int64_t opened_ms;
    uint64_t bytes_in;
    uint64_t bytes_out;
    void *model_data;        /* The model's own, or NULL; conn.c never touches it. */
    struct mailbox *mailbox; /* Bytes posted from other threads (core/mailbox.h). */
    struct buffer output;
    /* Output a completion model took (conn_take_output) and has not yet
     * reported sent: it still counts against the output limit. */
    size_t output_in_flight;
    struct address peer;
    /* Input received while paused (conn_receive), or NULL: allocated only
     * while holding, so an idle connection costs nothing. */
    struct held_input *held;
    /* The service's per-connection state follows, state_size bytes. */
    max_align_t state[];
};

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

/*
 * The most input conn_receive holds for a paused connection before it
 * drops it. A completion model keeps at most one receive in flight per
 * connection, so what can arrive after the pause is one receive buffer.
 */
#define CONN_HELD_INPUT_MAX ((size_t)CONN_READ_CHUNK)

/*
 * Bytes the model received for c; len 0 is the end of the stream. Accepted
 * at any time: while input is paused (the service paused reading, or half
 * the output limit is queued or in flight) they are held, in order, and
 * handed on by conn_release_held_input once input resumes. The service is
 * handed no more than the output limit has room for, as a readiness model
 * reads no more; the rest is held.
 */
void conn_receive(struct conn *c, const uint8_t *data, size_t len);

/* Hands held input to the service while it takes input. A completion
 * model calls it whenever it looks at c again (reconcile), outside any of
 * c's callbacks. */
void conn_release_held_input(struct conn *c);

/*
 * Moves everything queued for sending into dst, which must be empty, so the
 * model can send it from memory that later writes will not move. Until the
 * model reports it with conn_sent it is in flight: no longer queued, but
 * still counted against the output limit, so a peer that does not read
 * pauses input however the bytes are split between queue and send.
 */
void conn_take_output(struct conn *c, struct buffer *dst);

/* n bytes taken were sent. When nothing is queued, a generator (chargen)
 * may queue its next batch: call with n = 0 to ask for one. */
void conn_sent(struct conn *c, size_t n);

/* Runs what is due at now_ms: the service's timer, and the check of the
 * timeouts, which aborts a stream connection that has moved no byte for the
 * idle timeout, or that of a line service whose partial line has waited
 * for its end for the request timeout. Re-read conn_deadline afterwards:
 * either may have moved it. */
void conn_handle_timer(struct conn *c, int64_t now_ms);

/*
 * The server is stopping. The connection goes on reading and answering, and
 * is finished once it owes the peer nothing (no output queued or in flight,
 * no timer) and nothing the peer sent waits to be read (its socket's receive
 * queue is empty, as SIOCINQ tells, and no input is held). Once the service
 * answers something the peer sent after the stop, the peer is mid-stream and
 * the connection is served until it half-closes, so a pause in the stream
 * cannot close it under the peer. So a client streaming into echo is
 * answered to the end and sees a FIN, not a reset; an idle one is finished
 * at once; one that sends forever is cut when the grace period ends.
 */
void conn_begin_stop(struct conn *c);

/* What connections cut at the end of the grace period left undone. */
struct conn_cut {
    size_t connections;
    uint64_t unread; /* Bytes the peer sent that were never answered. */
    uint64_t unsent; /* Answers that never left. */
};

/* The grace period is over: adds what c leaves undone to cut, then aborts
 * c. The model destroys it as after conn_abort. */
void conn_cut_at_grace(struct conn *c, struct conn_cut *cut);

/* Logs what the cut connections left undone, when there were any. */
void conn_cut_log(const struct conn_cut *cut);

/* Everything a model asks a connection after anything that may have
 * changed it, answered together. */
struct conn_status {
    bool finished;         /* Nothing left to do: destroy it. */
    bool dropped;          /* Aborted (conn_abort or a failure): nothing more is owed. */
    unsigned interest;     /* CONN_WANT_* bits to wait for now. */
    size_t output_pending; /* Bytes queued and not yet sent. */
    int64_t deadline_ms;   /* The next timer (service or idle), or 0 when none. */
};

struct conn_status conn_status(const struct conn *c);

/* The parts of conn_status one at a time, for the blocking models and the
 * timer heap, which each need one answer. */

/* CONN_WANT_* bits the model should wait for now. */
unsigned conn_interest(const struct conn *c);

/* When conn_handle_timer next has something to do: the earlier of the
 * service's timer and the check of the timeouts (idle, request), or 0 when
 * neither is armed. */
int64_t conn_deadline(const struct conn *c);

/* True once the connection has nothing left to do and must be destroyed. */
bool conn_is_finished(const struct conn *c);

/* Runs on_close, closes the socket, logs the close and frees. */
void conn_destroy(struct conn *c);

#endif
