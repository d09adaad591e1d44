/*
 * What a graceful stop tells the operator: "stopping: N connections open,
 * grace 5s" as it begins, and "stopped: F finished, C cut at grace" at the
 * end, for the whole server, whatever the model.
 *
 * TCP connections are counted as they open and close into a small table
 * in shared memory, made before any worker or connection process is
 * forked, so one process (the one that called stop_report_init: the
 * supervisor under --workers, the parent under fork) sees every
 * connection of the server. Only that process logs the two lines. Each
 * worker counts into a slot of its own, so the supervisor can forget the
 * connections of a worker that died (they died with it). A connection
 * still counted as open when the stop ends was cut: its thread or process
 * ended with the server, or was killed past the grace. Datagrams are not
 * connections here; their cuts keep their own warning.
 *
 * Counting is two relaxed atomic adds per connection (open and close),
 * never per byte.
 */
#ifndef SOCKSERV_STOP_REPORT_H
#define SOCKSERV_STOP_REPORT_H

#include <stddef.h>
#include <stdint.h>

/* Makes the shared table with slots slots (1 + the number of workers) and
 * makes the calling process the one that reports. Without it, counts stay
 * in this process and nothing is logged. Returns 0, or -1 with errno. */
int stop_report_init(size_t slots);

/* In a worker: count into slot (1..slots-1) from now on. */
void stop_report_use_slot(size_t slot);

/* In the supervisor: a worker died, and the connections it counted as
 * open with it. */
void stop_report_forget_slot(size_t slot);

/* A TCP connection opened, closed, or was cut at the end of the grace
 * (cut before it closes). */
void stop_report_opened(void);
void stop_report_closed(void);
void stop_report_cut(void);

/* The stop began: logs the "stopping" line once, in the reporting process
 * only; any thread or process may call it. */
void stop_report_begin(int64_t grace_ms);

/* Every connection has ended or been cut: logs the "stopped" line, in the
 * reporting process, once a stop began (after a stop at once, the line
 * stop_report_end_at_once writes). */
void stop_report_end(void);

/* The same, async-signal-safe, for a stop that cuts everything at once:
 * "stopped at once: F finished, C cut". */
void stop_report_end_at_once(void);

#endif
