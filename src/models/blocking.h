/*
 * What the blocking models (iterative, fork, thread) share: waiting for the
 * next client on every listener at once, and serving one connection to its
 * end on the calling thread. The connection is driven through core/conn.h
 * exactly as the event loops drive theirs; the only difference is that the
 * thread waits on this one socket (and the stop latch) and on nothing else.
 */
#ifndef SOCKSERV_BLOCKING_H
#define SOCKSERV_BLOCKING_H

#include <stdbool.h>

#include "core/conn.h"
#include "models/model.h"

enum wait_result {
    WAIT_CLIENT, /* A client was accepted. */
    WAIT_EXTRA,  /* The caller's extra descriptor is readable. */
    WAIT_STOP,   /* A stop was requested. */
    WAIT_ERROR   /* poll failed; errno says why. */
};

struct accepted {
    int fd;
    struct address peer;
    struct listener *listener;
};

/*
 * Blocks until a client is accepted from any listener (only while accepting
 * is true), extra_fd (-1 for none) becomes readable, or a stop is requested.
 */
enum wait_result blocking_wait_client(struct server *srv, bool accepting, int extra_fd,
                                      struct accepted *out);

/* Serves c until it finishes, or until grace_ms after a stop request, then
 * destroys it. */
void blocking_serve(struct conn *c, int64_t grace_ms);

#endif
