/*
 * The graceful stop as one small state machine, shared by every model.
 *
 * Serving, then (once a stop is requested) stopping with a deadline: until
 * it, open connections finish what their clients asked for; at it, what is
 * left is cut. Waits are bounded by the deadline, so a stopping server wakes
 * to cut the rest even when no socket does.
 *
 * Supervisors of threads and processes wait for the same grace plus a
 * margin (GRACE_MARGIN_MS) before they kill: each thread or child honours
 * the grace itself, and the margin covers its last write as grace ends.
 */
#ifndef SOCKSERV_GRACE_H
#define SOCKSERV_GRACE_H

#include <stdbool.h>
#include <stdint.h>

/* How long past the grace a supervisor waits before it kills. */
#define GRACE_MARGIN_MS 1000

struct grace {
    bool stopping;
    int64_t deadline_ms; /* Meaningful once stopping. */
};

/* Starts the stop: the deadline is grace_ms from now. Later calls keep the
 * first deadline. */
void grace_begin(struct grace *g, int64_t grace_ms);

/* True once stopping and the deadline has passed. */
bool grace_over(const struct grace *g);

/* The earlier of deadline_ms (0: none) and the grace deadline while
 * stopping: the deadline a stopping loop's next wait must not pass. */
int64_t grace_bound(const struct grace *g, int64_t deadline_ms);

#endif
