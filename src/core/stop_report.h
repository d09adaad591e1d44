/*
 * What a graceful stop tells the operator: "stopping: N connections open,
 * grace 5s" as it begins, and "stopped: F finished, C cut at grace" at the
 * end, for the whole server, whatever the model.
 *
 * The figures are core/counters.h's (accepted less closed, and cut at
 * grace, summed over every listener), which every worker and connection
 * process counts into through shared memory and which forget what a dead
 * worker held open (counters_release_process), so the one process that
 * called stop_report_init (the supervisor under --workers, the parent
 * under fork) sees every connection of the server. Only that process logs
 * the two lines. A connection still counted as open when the stop ends was
 * cut: its thread or process ended with the server, or was killed past the
 * grace. Datagrams are not connections here; their cuts keep their own
 * warning.
 */
#ifndef SOCKSERV_STOP_REPORT_H
#define SOCKSERV_STOP_REPORT_H

#include <stdint.h>

/* Makes the calling process the one that reports; call it after
 * counters_init. Without it nothing is logged. */
void stop_report_init(void);

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
