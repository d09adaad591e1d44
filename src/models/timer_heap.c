#include "models/timer_heap.h"
#include "core/conn_model.h"

#include <stddef.h>

/* The heap grows as connections arm timers, by doubling from this many. */
#define TIMER_HEAP_MIN_CAPACITY 64

int timer_heap_update(struct timer_heap *h, struct conn *c)
{
    int64_t deadline = conn_deadline(c);
    if (deadline == 0) {
        timer_heap_remove(h, c);
        return 0;
    }
    if (c->timer_slot == 0 && h->heap.count == h->heap.capacity) {
        uint32_t wanted =
            h->heap.count < TIMER_HEAP_MIN_CAPACITY ? TIMER_HEAP_MIN_CAPACITY : h->heap.count + 1;
        if (deadline_heap_reserve(&h->heap, wanted) != 0)
            return -1;
    }
    return deadline_heap_set(&h->heap, &c->timer_slot, deadline);
}

void timer_heap_remove(struct timer_heap *h, struct conn *c)
{
    deadline_heap_remove(&h->heap, &c->timer_slot);
}

int64_t timer_heap_next_deadline(const struct timer_heap *h)
{
    return deadline_heap_earliest(&h->heap);
}

struct conn *timer_heap_pop_expired(struct timer_heap *h, int64_t now_ms)
{
    uint32_t *slot = deadline_heap_pop_expired(&h->heap, now_ms);
    return slot ? (struct conn *)((char *)slot - offsetof(struct conn, timer_slot)) : NULL;
}

void timer_heap_free(struct timer_heap *h)
{
    deadline_heap_free(&h->heap);
}
