/* The heap is an array: the children of entry i are 2i + 1 and 2i + 2. An
 * entry being moved is held aside while the entries in its way shift into
 * the hole it left, and is written once where it belongs. */
#include "core/deadline_heap.h"

#include <stdlib.h>

static void place(struct deadline_heap *h, uint32_t i, struct deadline_entry e)
{
    h->entries[i] = e;
    *e.slot = i + 1;
}

static void sift_up(struct deadline_heap *h, uint32_t i, struct deadline_entry e)
{
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (h->entries[parent].deadline <= e.deadline)
            break;
        place(h, i, h->entries[parent]);
        i = parent;
    }
    place(h, i, e);
}

static void sift_down(struct deadline_heap *h, uint32_t i, struct deadline_entry e)
{
    for (;;) {
        uint32_t child = 2 * i + 1;
        if (child >= h->count)
            break;
        if (child + 1 < h->count && h->entries[child + 1].deadline < h->entries[child].deadline)
            child++;
        if (h->entries[child].deadline >= e.deadline)
            break;
        place(h, i, h->entries[child]);
        i = child;
    }
    place(h, i, e);
}

/* Puts e at index i, or as far up or down from it as the order needs. */
static void settle(struct deadline_heap *h, uint32_t i, struct deadline_entry e)
{
    if (i > 0 && h->entries[(i - 1) / 2].deadline > e.deadline)
        sift_up(h, i, e);
    else
        sift_down(h, i, e);
}

int deadline_heap_reserve(struct deadline_heap *h, uint32_t capacity)
{
    if (capacity <= h->capacity)
        return 0;
    uint32_t doubled = h->capacity > UINT32_MAX / 2 ? UINT32_MAX : h->capacity * 2;
    if (capacity < doubled)
        capacity = doubled;
    struct deadline_entry *grown = realloc(h->entries, (size_t)capacity * sizeof(*grown));
    if (!grown)
        return -1;
    h->entries = grown;
    h->capacity = capacity;
    return 0;
}

void deadline_heap_free(struct deadline_heap *h)
{
    free(h->entries);
    h->entries = NULL;
    h->count = h->capacity = 0;
}

int deadline_heap_set(struct deadline_heap *h, uint32_t *slot, int64_t deadline)
{
    struct deadline_entry e = {deadline, slot};
    if (*slot != 0) {
        uint32_t i = *slot - 1;
        if (h->entries[i].deadline != deadline)
            settle(h, i, e);
        return 0;
    }
    if (h->count == h->capacity)
        return -1;
    sift_up(h, h->count++, e);
    return 0;
}

void deadline_heap_remove(struct deadline_heap *h, uint32_t *slot)
{
    if (*slot == 0)
        return;
    uint32_t i = *slot - 1;
    *slot = 0;
    uint32_t last = --h->count;
    /* The last entry fills the hole, then finds its place from there. */
    if (i != last)
        settle(h, i, h->entries[last]);
}

int64_t deadline_heap_earliest(const struct deadline_heap *h)
{
    return h->count ? h->entries[0].deadline : 0;
}

uint32_t *deadline_heap_pop_expired(struct deadline_heap *h, int64_t now)
{
    if (h->count == 0 || h->entries[0].deadline > now)
        return NULL;
    uint32_t *slot = h->entries[0].slot;
    deadline_heap_remove(h, slot);
    return slot;
}
