#include "core/mailbox.h"
#include "core/conn_model.h"
#include "core/counters.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

int mailbox_hub_init(struct mailbox_hub *hub)
{
    memset(hub, 0, sizeof(*hub));
    hub->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (hub->wake_fd < 0)
        return -1;
    pthread_mutex_init(&hub->lock, NULL);
    return 0;
}

void mailbox_hub_free(struct mailbox_hub *hub)
{
    if (hub->wake_fd < 0)
        return;
    pthread_mutex_destroy(&hub->lock);
    close(hub->wake_fd);
    hub->wake_fd = -1;
    free(hub->pending);
    hub->pending = NULL;
}

static int queue_conn(struct mailbox_hub *hub, struct conn *c)
{
    if (hub->count == hub->capacity) {
        size_t capacity = hub->capacity ? hub->capacity * 2 : 16;
        struct conn **grown = realloc(hub->pending, capacity * sizeof(*grown));
        if (!grown)
            return -1;
        hub->pending = grown;
        hub->capacity = capacity;
    }
    hub->pending[hub->count++] = c;
    c->mailbox->queued = true;
    return 0;
}

int mailbox_post(struct mailbox_hub *hub, struct conn *c, const void *data, size_t len)
{
    int rc = -1;
    pthread_mutex_lock(&hub->lock);
    struct mailbox *box = c->mailbox;
    if (!box && (box = calloc(1, sizeof(*box))) != NULL) {
        box->hub = hub;
        /* The owner reads the pointer without the lock (mailbox_waiting). */
        __atomic_store_n(&c->mailbox, box, __ATOMIC_RELEASE);
    }
    if (box && !box->overflowed) {
        /* The inbox is bounded like the output queue it feeds. */
        if (buffer_append(&box->inbox, data, len, conn_config(c)->max_output) != 0)
            box->overflowed = true;
        else
            rc = 0;
        if (!box->queued && queue_conn(hub, c) != 0) {
            box->overflowed = true; /* Undeliverable: treat as too slow. */
            rc = -1;
        }
        __atomic_store_n(&box->has_mail, true, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&hub->lock);
    uint64_t one = 1;
    ssize_t ignored = write(hub->wake_fd, &one, sizeof(one));
    (void)ignored; /* Fails only when the counter is huge: already awake. */
    return rc;
}

/* With the hub locked: moves c's inbox into c. Clears has_mail first, so
 * the conn_write below does not come back here. */
static void hand_over(struct conn *c)
{
    struct mailbox *box = c->mailbox;
    __atomic_store_n(&box->has_mail, false, __ATOMIC_RELAXED);
    if (box->overflowed) {
        if (!conn_drop_reason(c))
            counters_add(c->listener->spec_index, COUNTER_CUT_SLOW_READER, 1);
        conn_abort(c, "too slow: output queue full");
    } else if (!buffer_is_empty(&box->inbox))
        conn_write(c, buffer_peek(&box->inbox), buffer_length(&box->inbox));
    buffer_free(&box->inbox);
}

void mailbox_deliver(struct mailbox_hub *hub)
{
    uint64_t count;
    ssize_t ignored = read(hub->wake_fd, &count, sizeof(count));
    (void)ignored; /* Non-blocking: nothing to read is fine. */
    pthread_mutex_lock(&hub->lock);
    for (size_t i = 0; i < hub->count; i++) {
        struct conn *c = hub->pending[i];
        c->mailbox->queued = false;
        hand_over(c);
    }
    hub->count = 0;
    pthread_mutex_unlock(&hub->lock);
}

void mailbox_deliver_waiting(struct conn *c)
{
    struct mailbox_hub *hub = c->mailbox->hub;
    pthread_mutex_lock(&hub->lock);
    /* It stays on the pending list, if queued, with nothing left to hand
     * over: taking it off would cost a scan of the list. */
    hand_over(c);
    pthread_mutex_unlock(&hub->lock);
}

void mailbox_forget(struct mailbox_hub *hub, struct conn *c)
{
    if (!c->mailbox)
        return;
    pthread_mutex_lock(&hub->lock);
    if (c->mailbox->queued) {
        for (size_t i = 0; i < hub->count; i++) {
            if (hub->pending[i] == c) {
                hub->pending[i] = hub->pending[--hub->count];
                break;
            }
        }
    }
    buffer_free(&c->mailbox->inbox);
    free(c->mailbox);
    __atomic_store_n(&c->mailbox, NULL, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&hub->lock);
}
