#include "loadgen/timers.h"

#include <stdlib.h>
#include <string.h>

int timers_init(struct timers *t, uint32_t count)
{
    memset(t, 0, sizeof(*t));
    /* Room for every item now, so that arming never allocates. */
    t->slot = calloc(count ? count : 1, sizeof(*t->slot));
    if (!t->slot || deadline_heap_reserve(&t->heap, count ? count : 1) != 0) {
        timers_free(t);
        return -1;
    }
    return 0;
}

void timers_free(struct timers *t)
{
    deadline_heap_free(&t->heap);
    free(t->slot);
    t->slot = NULL;
    t->len = 0;
}

void timers_set(struct timers *t, uint32_t item, int64_t deadline)
{
    /* Cannot fail: the heap has room for every item. */
    deadline_heap_set(&t->heap, &t->slot[item], deadline);
    t->len = t->heap.count;
}

void timers_clear(struct timers *t, uint32_t item)
{
    deadline_heap_remove(&t->heap, &t->slot[item]);
    t->len = t->heap.count;
}

bool timers_armed(const struct timers *t, uint32_t item)
{
    return t->slot[item] != 0;
}

int64_t timers_next(const struct timers *t)
{
    return deadline_heap_earliest(&t->heap);
}

uint32_t timers_pop_expired(struct timers *t, int64_t now)
{
    uint32_t *slot = deadline_heap_pop_expired(&t->heap, now);
    t->len = t->heap.count;
    return slot ? (uint32_t)(slot - t->slot) : TIMERS_NONE;
}
