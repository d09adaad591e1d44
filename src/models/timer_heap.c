#include "models/timer_heap.h"
#include "core/conn_model.h"

#include <stdlib.h>

/* conn->timer_slot is the entry's index plus one; 0 means no entry. */

static void place(struct timer_heap *h, size_t i, struct timer_entry e)
{
    h->items[i] = e;
    e.conn->timer_slot = (uint32_t)(i + 1);
}

static void sift_up(struct timer_heap *h, size_t i)
{
    struct timer_entry e = h->items[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (h->items[parent].deadline_ms <= e.deadline_ms)
            break;
        place(h, i, h->items[parent]);
        i = parent;
    }
    place(h, i, e);
}

static void sift_down(struct timer_heap *h, size_t i)
{
    struct timer_entry e = h->items[i];
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= h->count)
            break;
        if (child + 1 < h->count && h->items[child + 1].deadline_ms < h->items[child].deadline_ms)
            child++;
        if (h->items[child].deadline_ms >= e.deadline_ms)
            break;
        place(h, i, h->items[child]);
        i = child;
    }
    place(h, i, e);
}

static void remove_at(struct timer_heap *h, size_t i)
{
    h->items[i].conn->timer_slot = 0;
    h->count--;
    if (i == h->count)
        return;
    place(h, i, h->items[h->count]);
    sift_down(h, i);
    sift_up(h, h->items[i].conn->timer_slot - 1);
}

void timer_heap_remove(struct timer_heap *h, struct conn *c)
{
    if (c->timer_slot != 0)
        remove_at(h, c->timer_slot - 1);
}

int timer_heap_update(struct timer_heap *h, struct conn *c)
{
    int64_t deadline = conn_deadline(c);
    if (deadline == 0) {
        timer_heap_remove(h, c);
        return 0;
    }
    if (c->timer_slot != 0) {
        size_t i = c->timer_slot - 1;
        if (h->items[i].deadline_ms == deadline)
            return 0;
        h->items[i].deadline_ms = deadline;
        sift_down(h, i);
        sift_up(h, c->timer_slot - 1);
        return 0;
    }
    if (h->count == h->capacity) {
        size_t capacity = h->capacity ? h->capacity * 2 : 64;
        struct timer_entry *grown = realloc(h->items, capacity * sizeof(*grown));
        if (!grown)
            return -1;
        h->items = grown;
        h->capacity = capacity;
    }
    place(h, h->count, (struct timer_entry){deadline, c});
    h->count++;
    sift_up(h, h->count - 1);
    return 0;
}

int64_t timer_heap_next_deadline(const struct timer_heap *h)
{
    return h->count ? h->items[0].deadline_ms : 0;
}

struct conn *timer_heap_pop_expired(struct timer_heap *h, int64_t now_ms)
{
    if (h->count == 0 || h->items[0].deadline_ms > now_ms)
        return NULL;
    struct conn *c = h->items[0].conn;
    remove_at(h, 0);
    return c;
}

void timer_heap_free(struct timer_heap *h)
{
    free(h->items);
    h->items = NULL;
    h->count = h->capacity = 0;
}
