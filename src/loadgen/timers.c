/* The timer heap: children of i are 2i+1 and 2i+2. */
#include "loadgen/timers.h"

#include <stdlib.h>

int timers_init(struct timers *t, uint32_t count)
{
    t->heap = calloc(count ? count : 1, sizeof(*t->heap));
    t->slot = malloc((count ? count : 1) * sizeof(*t->slot));
    t->deadline = calloc(count ? count : 1, sizeof(*t->deadline));
    t->len = 0;
    if (!t->heap || !t->slot || !t->deadline) {
        timers_free(t);
        return -1;
    }
    for (uint32_t i = 0; i < count; i++)
        t->slot[i] = TIMERS_NONE;
    return 0;
}

void timers_free(struct timers *t)
{
    free(t->heap);
    free(t->slot);
    free(t->deadline);
    t->heap = t->slot = NULL;
    t->deadline = NULL;
    t->len = 0;
}

static int64_t at(const struct timers *t, uint32_t i)
{
    return t->deadline[t->heap[i]];
}

static void swap(struct timers *t, uint32_t a, uint32_t b)
{
    uint32_t item = t->heap[a];
    t->heap[a] = t->heap[b];
    t->heap[b] = item;
    t->slot[t->heap[a]] = a;
    t->slot[t->heap[b]] = b;
}

static void sift_up(struct timers *t, uint32_t i)
{
    while (i > 0 && at(t, (i - 1) / 2) > at(t, i)) {
        swap(t, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static void sift_down(struct timers *t, uint32_t i)
{
    for (;;) {
        uint32_t least = i;
        uint32_t left = 2 * i + 1, right = 2 * i + 2;
        if (left < t->len && at(t, left) < at(t, least))
            least = left;
        if (right < t->len && at(t, right) < at(t, least))
            least = right;
        if (least == i)
            return;
        swap(t, i, least);
        i = least;
    }
}

void timers_set(struct timers *t, uint32_t item, int64_t deadline)
{
    t->deadline[item] = deadline;
    if (t->slot[item] == TIMERS_NONE) {
        t->slot[item] = t->len;
        t->heap[t->len++] = item;
    }
    sift_up(t, t->slot[item]);
    sift_down(t, t->slot[item]);
}

void timers_clear(struct timers *t, uint32_t item)
{
    uint32_t i = t->slot[item];
    if (i == TIMERS_NONE)
        return;
    t->slot[item] = TIMERS_NONE;
    uint32_t last = --t->len;
    if (i == last)
        return;
    uint32_t moved = t->heap[last];
    t->heap[i] = moved;
    t->slot[moved] = i;
    sift_up(t, i);
    sift_down(t, t->slot[moved]);
}

bool timers_armed(const struct timers *t, uint32_t item)
{
    return t->slot[item] != TIMERS_NONE;
}

int64_t timers_next(const struct timers *t)
{
    return at(t, 0);
}

uint32_t timers_pop_expired(struct timers *t, int64_t now)
{
    if (t->len == 0 || at(t, 0) > now)
        return TIMERS_NONE;
    uint32_t item = t->heap[0];
    timers_clear(t, item);
    return item;
}
