/*
 * A binary min-heap of deadlines, the one timer queue of the server's event
 * loops (models/timer_heap.h) and of the load generator (loadgen/timers.h).
 *
 * Each entry belongs to an owner with at most one deadline, and knows where
 * its owner keeps the entry's place: a uint32_t slot, index + 1, or 0 while
 * the owner has no entry. The heap keeps every slot up to date as entries
 * move, so re-arming or removing an owner's deadline takes O(log n) and no
 * search, and an owner finds itself from its slot (container_of). Entries
 * keep their own copy of the deadline, so an owner's deadline changing
 * elsewhere never breaks the order before deadline_heap_set is called.
 *
 * Memory is taken only by deadline_heap_reserve: a caller that reserves
 * room for all its owners up front never allocates again.
 */
#ifndef SOCKSERV_DEADLINE_HEAP_H
#define SOCKSERV_DEADLINE_HEAP_H

#include <stdbool.h>
#include <stdint.h>

struct deadline_entry {
    int64_t deadline;
    uint32_t *slot; /* The owner's record of this entry's place. */
};

/* All zero is an empty heap with no room. */
struct deadline_heap {
    struct deadline_entry *entries; /* Earliest deadline first. */
    uint32_t count;
    uint32_t capacity;
};

/* Makes room for at least capacity entries (growing by doubling, so that
 * adding one at a time stays cheap). Returns 0, or -1 out of memory. */
int deadline_heap_reserve(struct deadline_heap *h, uint32_t capacity);

void deadline_heap_free(struct deadline_heap *h);

/* Arms or re-arms the owner of slot for deadline. Returns 0, or -1 (and
 * changes nothing) when the owner has no entry yet and the heap is full. */
int deadline_heap_set(struct deadline_heap *h, uint32_t *slot, int64_t deadline);

/* Removes the owner's entry, if it has one; *slot becomes 0. */
void deadline_heap_remove(struct deadline_heap *h, uint32_t *slot);

/* The earliest deadline, or 0 when the heap is empty. */
int64_t deadline_heap_earliest(const struct deadline_heap *h);

/* Removes the entry whose deadline is earliest and not after now, and
 * returns its owner's slot (now 0), or NULL when there is none. */
uint32_t *deadline_heap_pop_expired(struct deadline_heap *h, int64_t now);

#endif
