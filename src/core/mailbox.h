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
 * Order: posts from other threads keep their order in the inbox, and a
 * write on the owner's thread first hands over whatever is waiting there
 * (mailbox_waiting). So bytes reach the connection in the order they were
 * written, whichever thread wrote them, wherever one write happens before
 * the next: a service that makes every write under one lock of its own
 * (chat) gives each connection that lock's order. Two writes racing
 * without such a lock may land either way round.
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
#include "core/conn_model.h"

struct mailbox_hub;

struct mailbox {
    struct buffer inbox;
    struct mailbox_hub *hub; /* Its owner's, whose lock guards the inbox. */
    bool overflowed;
    bool queued; /* On its hub's pending list. */
    /* Bytes wait in the inbox, or it overflowed. Set under the lock; the
     * owner reads it without, on every write (mailbox_waiting). */
    bool has_mail;
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

/*
 * On c's own thread, before anything is written to c: true when bytes posted
 * to it are still waiting. They must go first, or a line written now (a
 * command's reply, a post from c's own loop) would overtake one posted
 * earlier that caused it. Costs one load for a connection never posted to.
 */
static inline bool mailbox_waiting(const struct conn *c)
{
    struct mailbox *box = __atomic_load_n(&c->mailbox, __ATOMIC_ACQUIRE);
    return box && __atomic_load_n(&box->has_mail, __ATOMIC_ACQUIRE);
}

/* On c's own thread: delivers c's waiting bytes now, ahead of the rest of
 * its hub's mail. */
void mailbox_deliver_waiting(struct conn *c);

/* On the owning thread, before c is freed. */
void mailbox_forget(struct mailbox_hub *hub, struct conn *c);

#endif
