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

#include "core/conn.h"
#include "core/udp_guard.h"
#include "models/model.h"

enum wait_result {
    WAIT_CLIENT, /* A TCP client was accepted or a datagram received. */
    WAIT_EXTRA,  /* The caller's extra descriptor is readable. */
    WAIT_STOP,   /* A stop was requested. */
    WAIT_ERROR   /* poll failed; errno says why. */
};

/* A client ready to be served: a TCP socket, or one datagram. */
struct accepted {
    struct listener *listener;
    struct address peer;
    int fd;                 /* The TCP client; -1 for a datagram. */
    const uint8_t *datagram; /* The request, valid until the next wait. */
    size_t datagram_len;
};

/* The accepting side of a blocking model, owned by its one accepting
 * thread: the UDP defences and the buffer a datagram is received into. */
struct acceptor {
    struct server *srv;
    struct udp_guard guard;
    uint8_t *datagram_buffer;
};

int acceptor_init(struct acceptor *a, struct server *srv);
void acceptor_free(struct acceptor *a);

/*
 * Blocks until a client is accepted or an admitted datagram arrives on any
 * listener (only while accepting is true), extra_fd (-1 for none) becomes
 * readable, or a stop is requested.
 */
enum wait_result acceptor_wait(struct acceptor *a, bool accepting, int extra_fd,
                               struct accepted *out);

/*
 * Serves what was accepted until it finishes, or until grace_ms after a
 * stop request, on the calling thread. The TCP socket is closed at the end.
 * A thread that also owns the listeners passes them, so that a stop seen
 * while serving stops them at once (listener_set_stop); others pass NULL.
 */
void blocking_serve(const struct accepted *a, int64_t grace_ms, struct listener_set *listeners);

#endif
