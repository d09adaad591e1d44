/*
 * The skeleton every single-threaded loop shares: the readiness event loop
 * (select, poll, epoll) and io_uring. It owns what does not depend on how a
 * loop waits: the connections (a table by descriptor, the count against
 * --max-conns), their timers, the connections changed from outside their
 * callbacks, the graceful stop, datagram intake and the mailbox hub that
 * other threads post through, and the turn of the loop itself.
 *
 * A model fills in a short table of hooks (struct loop_hooks), as each of
 * Redis's ae_*.c backends does: how it waits and hands the results on, how
 * it brings its waiting in line with a connection, and how it starts and
 * stops listening. The model's own state follows struct loop in a struct of
 * its own that begins with it.
 *
 * Streams and datagrams have budgets of their own: TCP connections count
 * against --max-conns and datagram connections against --max-datagrams, and
 * each kind of listener is turned off only when its own budget is full, so
 * slow UDP requests can never take TCP's capacity, nor TCP clients UDP's.
 */
#ifndef SOCKSERV_LOOP_SKELETON_H
#define SOCKSERV_LOOP_SKELETON_H

#include <stdbool.h>
#include <stddef.h>

#include "core/conn_model.h"
#include "core/datagram.h"
#include "core/grace.h"
#include "core/mailbox.h"
#include "core/udp_guard.h"
#include "models/changed_list.h"
#include "models/model.h"
#include "models/timer_heap.h"

struct loop;

struct loop_hooks {
    /* True for completion models: conn_write only queues, and the model
     * sends what conn_take_output hands it (struct conn_owner). */
    bool queue_writes;
    /* Starts watching the stop signal's descriptor (core/stop.h) and, when
     * mail is set up, the hub's wake descriptor. 0, or -1 with errno set. */
    int (*watch_stop)(struct loop *loop);
    int (*watch_mail)(struct loop *loop);
    /* Waits at most timeout_ms (-1: without limit) and handles what
     * happened. Returns 0, or -1 with the reason in err. */
    int (*wait)(struct loop *loop, int timeout_ms, char *err, size_t errlen);
    /* Brings what the model waits for in line with c, or ends c with
     * loop_drop_conn once it is finished. Called after anything that may
     * have changed c. */
    void (*reconcile)(struct loop *loop, struct conn *c);
    /* Lets go of what the model holds for c, just before it is destroyed.
     * May be NULL. */
    void (*forget)(struct loop *loop, struct conn *c);
    /* Starts or stops taking clients from every listener of transport. */
    void (*listen)(struct loop *loop, enum transport transport, bool on);
    /* The stop began and listening ended: what the model does next with
     * the listeners. May be NULL. */
    void (*stop_listeners)(struct loop *loop);
    /* While stopping with no connection left: true once the model holds
     * nothing more that the loop must wait for. May be NULL: always. */
    bool (*may_finish)(struct loop *loop);
    /* At the end of each turn, after timers and changed connections. May
     * be NULL. */
    void (*end_turn)(struct loop *loop);
    /* The loop is over: the model stops anything that may still point at a
     * connection, before the remaining connections are destroyed. May be
     * NULL. */
    void (*quiesce)(struct loop *loop);
};

struct loop {
    struct conn_owner owner; /* First, so a conn's owner leads back here. */
    const struct loop_hooks *hooks;
    const char *name; /* For messages: the backend's name, or "io_uring". */
    struct server *srv;
    /* Indexed by descriptor and grown on demand: no fixed fd table. A
     * datagram connection shares its listener's socket and has no entry. */
    struct conn **conns;
    size_t conns_capacity;
    size_t conn_count;     /* Stream connections, against --max-conns. */
    size_t datagram_count; /* Datagram connections, against --max-datagrams. */
    struct timer_heap timers;
    /* Connections changed from outside their own callbacks. */
    struct changed_list changed;
    struct grace grace;
    bool listening; /* The TCP listeners are watched. */
    bool receiving; /* The UDP listeners are watched. */
    /* Set when the loop runs out of descriptors, cleared (0) when a
     * connection of it closes and so frees one: no accepting before this
     * time, and while it is set, a model may accept more carefully. */
    int64_t accept_paused_until_ms;
    /* Set up only when some service shares state: bytes other loops'
     * threads post to this loop's connections. */
    struct mailbox_hub hub;
    bool has_hub;
    /* Set up only when some listener is UDP. */
    struct udp_guard guard;
    struct datagram_in *datagrams_in;
    struct datagram_out *datagrams_out;
};

/*
 * Sets up the parts every loop shares (datagrams and mail as the services
 * need them, the stop signal's watch), starts listening and serves until
 * stopped. The model has set up its own state and loop->hooks, name and
 * srv; it frees its own state after this returns. Returns 0, or -1 with the
 * reason in err.
 */
int loop_run(struct loop *loop, char *err, size_t errlen);

/* Frees what loop_run set up; safe on a loop that never ran. */
void loop_free(struct loop *loop);

/* The connection on descriptor fd, or NULL. */
static inline struct conn *loop_conn_at(const struct loop *loop, int fd)
{
    return (size_t)fd < loop->conns_capacity ? loop->conns[fd] : NULL;
}

/* Wraps a client the model accepted, counts it and starts it; logs and
 * closes fd when memory runs out. Stops listening at the limit. */
void loop_adopt_client(struct loop *loop, struct listener *l, int fd, const struct address *peer);

/* Accepts the clients waiting on l through listener_accept, at most
 * LOOP_ACCEPTS_PER_WAKEUP, while the loop listens and has room; pauses
 * accepting when the process is out of descriptors. */
#define LOOP_ACCEPTS_PER_WAKEUP 64
void loop_accept_clients(struct loop *loop, struct listener *l);

/* Receives datagrams from l while the datagram budget leaves room, at
 * most max_batches batches. Stops receiving on every UDP listener when the
 * budget is full: what arrives meanwhile waits in the sockets' bounded
 * receive buffers, and the kernel drops (and counts) what overflows. */
void loop_receive_datagrams(struct loop *loop, struct listener *l, int max_batches);

/* At --max-conns, whether the loop takes clients and refuses them
 * (--overflow refuse, and no loop it shares its sockets with has room)
 * rather than leave them in the backlog. */
bool loop_refuses_when_full(const struct loop *loop);

/* Destroys c and forgets it everywhere. */
void loop_drop_conn(struct loop *loop, struct conn *c);

/* Aborts and destroys c (conn_abort, then loop_drop_conn). */
void loop_abort_conn(struct loop *loop, struct conn *c, const char *reason);

/* Starts or stops taking TCP clients (no-op when already so). */
void loop_set_listening(struct loop *loop, bool on);

/* Starts or stops receiving datagrams (no-op when already so). */
void loop_set_receiving(struct loop *loop, bool on);

/* The process is out of descriptors and accepting now would fail at once
 * (io_uring's accept takes a descriptor before it looks for a client) or
 * find waiting clients it cannot even turn away: stops listening until a
 * connection of this loop closes or LOOP_ACCEPT_BACKOFF_MS pass, so the
 * loop never spins at the limit. */
#define LOOP_ACCEPT_BACKOFF_MS 100
void loop_pause_accepting(struct loop *loop);

/* The stop signal fired: begin the graceful stop (once). */
void loop_begin_stop(struct loop *loop);

#endif
