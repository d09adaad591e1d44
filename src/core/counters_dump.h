/*
 * SIGUSR1: the figures of core/counters.h written to the log, one line per
 * listener and one per worker and event loop with connections, as xinetd
 * dumps its state on the same signal:
 *
 *   metrics tcp://127.0.0.1:7007/echo: open 3, accepted 120, refused 0,
 *       cut 0, bytes in 4096 out 4096
 *
 * (one line; refusals, cuts and drops list their reasons when any).
 *
 * The signal is taken by a thread of its own with sigwaitinfo, so no model
 * has to watch for it: counters_dump_start blocks SIGUSR1 in the calling
 * thread, which every thread and process started after it inherits, and
 * starts the thread. Under --workers only the supervisor has the thread:
 * a worker (or a fork model's connection process) sent SIGUSR1 itself
 * keeps it blocked and pending, and ignores it, so one signal to the whole
 * process group is one dump, of the sum of every worker.
 */
#ifndef SOCKSERV_COUNTERS_DUMP_H
#define SOCKSERV_COUNTERS_DUMP_H

#include <stddef.h>

/* The dump thread's name, as /proc/PID/task/TID/comm shows it. */
#define COUNTERS_DUMP_THREAD "sockserv-dump"

/* Call once, before any other thread or process starts. Returns 0, or -1
 * with a one-line reason in err. */
int counters_dump_start(char *err, size_t errlen);

/* Writes the figures to the log now (at info level, as each signal does). */
void counters_dump(void);

#endif
