/*
 * One-shot timers for a fixed set of items (the bench's connections), at
 * most one timer per item, earliest first: core/deadline_heap.h (the
 * server's timer heap too), with each item's place in it kept beside the
 * item so that re-arming or clearing a timer is O(log n) and needs no
 * search. Everything is allocated once, up front: the bench's hot path
 * never allocates for a timer.
 */
#ifndef SOCKSERV_LOADGEN_TIMERS_H
#define SOCKSERV_LOADGEN_TIMERS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/deadline_heap.h"

#define TIMERS_NONE UINT32_MAX

struct timers {
    struct deadline_heap heap;
    uint32_t *slot; /* Per item: its heap slot (index + 1, 0 when disarmed). */
    uint32_t len;   /* Armed timers (heap.count, kept for readers). */
};

/* For count items, numbered 0..count-1. Returns 0, or -1 out of memory. */
int timers_init(struct timers *t, uint32_t count);
void timers_free(struct timers *t);

/* Arms (or re-arms) item's timer for deadline. */
void timers_set(struct timers *t, uint32_t item, int64_t deadline);

/* Disarms item's timer, if armed. */
void timers_clear(struct timers *t, uint32_t item);

bool timers_armed(const struct timers *t, uint32_t item);

/* The earliest deadline; only meaningful while t->len > 0. */
int64_t timers_next(const struct timers *t);

/* Disarms and returns the item whose deadline is earliest and not after
 * now, or TIMERS_NONE. */
uint32_t timers_pop_expired(struct timers *t, int64_t now);

#endif
