/*
 * The timers of the connections of one event loop: at most one per
 * connection, earliest first. A connection's entry is found through
 * conn->timer_slot, so the model brings it in line with conn_deadline
 * after each callback without a search. The heap itself is
 * core/deadline_heap.h, which the load generator's timers share; entries
 * keep their own copy of the deadline, so a service changing a timer never
 * breaks the heap before the model calls timer_heap_update.
 */
#ifndef SOCKSERV_TIMER_HEAP_H
#define SOCKSERV_TIMER_HEAP_H

#include <stddef.h>
#include <stdint.h>

#include "core/conn_model.h"
#include "core/deadline_heap.h"

/* All zero is an empty heap. */
struct timer_heap {
    struct deadline_heap heap; /* Slots are conn->timer_slot. */
};

/* Brings c's entry in line with conn_deadline(c): adds, moves or removes
 * it. Returns -1 only when memory runs out. */
int timer_heap_update(struct timer_heap *h, struct conn *c);

/* Removes c's entry if it has one. */
void timer_heap_remove(struct timer_heap *h, struct conn *c);

/* The earliest deadline, or 0 when the heap is empty. */
int64_t timer_heap_next_deadline(const struct timer_heap *h);

/* Removes and returns the connection whose deadline is earliest and not
 * after now_ms, or NULL. */
struct conn *timer_heap_pop_expired(struct timer_heap *h, int64_t now_ms);

void timer_heap_free(struct timer_heap *h);

#endif
