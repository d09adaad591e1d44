/*
 * Handing bytes to a connection that another thread owns.
 *
 * Chat writes to every member of a room, and under the thread model or
 * several event loops those members belong to other threads. A poster never
 * touches another thread's socket or output queue: it appends to the
 * connection's inbox under the owner's hub lock, queues the connection on
 * the hub, and wakes the owner through an eventfd. The owning thread then
 * moves the bytes into the connection with conn_write. A poster never waits
 * for a slow reader; an inbox over the connection's output limit marks it to
 * be dropped instead.
 *
 * A hub belongs to one owning thread (an event loop, or one connection's
 * thread). Lifetimes: posters find connections through shared state that a
 * connection leaves in its on_close, under the same lock the posters hold,
 * so once mailbox_forget has run no poster can reach it.
 */
#ifndef SOCKSERV_MAILBOX_H
#define SOCKSERV_MAILBOX_H

#include <pthread.h>
#include <stddef.h>

#include "core/buffer.h"
#include "core/conn.h"

struct mailbox {
    struct buffer inbox;
    bool overflowed;
    bool queued; /* On its hub's pending list. */
};

struct mailbox_hub {
    pthread_mutex_t lock;
    struct conn **pending; /* Connections with mail, each once. */
    size_t count, capacity;
    int wake_fd; /* eventfd, readable while mail waits. */
};

int mailbox_hub_init(struct mailbox_hub *hub);
void mailbox_hub_free(struct mailbox_hub *hub);

/* From any thread: queues bytes for c, owned by hub's thread. Returns 0, or
 * -1 when c is already marked too slow or memory ran out. */
int mailbox_post(struct mailbox_hub *hub, struct conn *c, const void *data, size_t len);

/* On the owning thread, when wake_fd is readable: delivers every inbox. */
void mailbox_deliver(struct mailbox_hub *hub);

/* On the owning thread, before c is freed. */
void mailbox_forget(struct mailbox_hub *hub, struct conn *c);

#endif
