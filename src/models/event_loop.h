/*
 * The single-threaded, non-blocking event loop that the select, poll and
 * epoll models share. Each of those models is a backend: a small table of
 * functions that watches descriptors, as in Redis's ae_*.c. The event loop
 * turns readiness into calls on connections and accepts clients; what every
 * single-threaded loop shares (the connection table, timers, the connection
 * limit, the graceful stop) is in models/loop_skeleton.h.
 */
#ifndef SOCKSERV_EVENT_LOOP_H
#define SOCKSERV_EVENT_LOOP_H

#include <stddef.h>

#include "models/model.h"

/* Bits of a watch mask and of a fired event. */
#define EVENT_READ 0x1u
#define EVENT_WRITE 0x2u
/* Watch mask only: of several loops watching this descriptor, wake one
 * (EPOLLEXCLUSIVE). Backends without such a notion ignore it. */
#define EVENT_EXCLUSIVE 0x4u

/* The most events a backend reports per wait. */
#define EVENT_BATCH_MAX 1024

struct fired_event {
    int fd;
    unsigned mask; /* EVENT_* bits; errors and hang-ups fire both. */
};

/* How one system call (select, poll, epoll) watches descriptors for
 * readiness: one per model file. */
struct readiness_backend {
    const char *name;
    /* Returns the backend's state, or NULL with a reason in err. */
    void *(*create)(char *err, size_t errlen);
    void (*destroy)(void *state);
    /* Changes what fd is watched for from old_mask to new_mask. A mask of 0
     * means not watched at all. Returns 0, or -1 with errno set. */
    int (*watch)(void *state, int fd, unsigned old_mask, unsigned new_mask);
    /* Waits up to timeout_ms (-1: forever) and fills at most max events.
     * Returns their count, 0 on timeout or EINTR, or -1 with errno set. */
    int (*wait)(void *state, int timeout_ms, struct fired_event *fired, int max);
};

/* Serves srv with backend until stopped; the struct model run function of
 * each event-loop model. */
int event_loop_run(const struct readiness_backend *backend, struct server *srv, char *err,
                   size_t errlen);

#endif
