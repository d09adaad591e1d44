/*
 * What the blocking models (iterative, fork, thread) share: waiting for the
 * next client on every listener at once, and serving one connection (or one
 * datagram) to its end on the calling thread. The connection is driven
 * through core/conn.h exactly as the event loops drive theirs; the only
 * difference is that the thread waits on this one socket (and the stop
 * latch) and on nothing else.
 */
#ifndef SOCKSERV_BLOCKING_H
#define SOCKSERV_BLOCKING_H

#include <stdbool.h>

#include "core/conn_model.h"
#include "models/model.h"

/* A client ready to be served: a TCP socket, or one datagram. */
struct accepted {
    struct listener *listener;
    struct address peer;
    int fd;                  /* The TCP client; -1 for a datagram. */
    const uint8_t *datagram; /* The request, valid until the next wait. */
    size_t datagram_len;
    /* Longest it may keep a waiting TCP client waiting, in ms (0: no
     * bound); past it the connection is aborted once a client waits. */
    int64_t serve_limit_ms;
    /* --overflow refuse under iterative: while this TCP client is served,
     * clients arriving on the listeners passed to blocking_serve are reset
     * at once (core/overflow.h) instead of waiting in the backlog. */
    bool refuse_arrivals;
};

/* The hooks through which blocking_accept_loop calls its model: what to do
 * with a client, when to stop taking them, and what to do when an extra
 * descriptor of the model's becomes readable. */
struct accept_hooks {
    void *ctx;
    /* Whether to take more clients of transport now (the model's bound
     * for that transport: --max-conns, or --max-datagrams for UDP). */
    bool (*accepting)(void *ctx, enum transport transport);
    /* A client was accepted or an admitted datagram received. */
    void (*client)(void *ctx, const struct accepted *a);
    /* extra_fd (-1 for none) became readable: a thread or child ended. */
    int extra_fd;
    void (*extra)(void *ctx);
};

/*
 * The accepting thread of a blocking model: waits on every listener (while
 * accepting says so), the extra descriptor and the stop latch, applying the
 * UDP defences, until a stop is requested; then stops the listeners. With
 * --overflow refuse it waits on the TCP listeners even when accepting says
 * no, and resets the clients it takes there (core/overflow.h).
 * Returns 0, or -1 with a reason in err.
 */
int blocking_accept_loop(struct server *srv, const struct accept_hooks *hooks, char *err,
                         size_t errlen);

/*
 * Serves what was accepted until it finishes, or until grace_ms after a
 * stop request, on the calling thread. The TCP socket is closed at the end.
 * A thread that also owns the listeners passes them, so that a stop seen
 * while serving stops them at once (listener_set_stop); others pass NULL.
 */
void blocking_serve(const struct accepted *a, int64_t grace_ms, struct listener_set *listeners);

#endif
