/*
 * The stop request. SIGINT, SIGTERM and SIGHUP set a latch: a flag plus an
 * eventfd that becomes readable and stays readable. Because nobody ever
 * drains it, every waiter sees it: each event loop, each connection thread,
 * and each forked child (which inherits the descriptor), so one signal to the
 * parent stops them all without a broadcast of its own. The stop is
 * graceful: open connections get the grace period to finish.
 *
 * Once enabled (stop_enable_at_once, as the server does), a second SIGINT
 * or SIGTERM while stopping stops at once: every connection
 * is cut and the process exits with status 0. A process without children
 * does that in the signal handler itself (it logs its last line and calls
 * _exit; the kernel closes every socket). A process with children to end
 * first (the fork model's parent, the --workers supervisor) holds the
 * at-once stop off (stop_hold_at_once): the handler only raises a second
 * latch, at_once_fd, and the process kills its children and returns.
 *
 * SIGHUP never hurries a stop: a closing terminal or a reload habit must
 * not cut connections. stderr cannot be reopened (it is whatever the
 * server was started with), so there is nothing to reload.
 *
 * A child's stop passed on by its parent (SIGTERM from the fork model's
 * parent or the supervisor) is only ever a first request: under Ctrl-C the
 * terminal signals the child too, and the two together must not count as
 * a second signal.
 */
#ifndef SOCKSERV_STOP_H
#define SOCKSERV_STOP_H

#include <stdbool.h>

/* Installs the handlers and ignores SIGPIPE. Returns 0 or -1 with errno.
 * A forked child calls it again for a latch of its own. */
int stop_install(void);

/* Readable once a stop was requested. Waiters add it to their poll set and
 * must stop watching it once they have seen it, or they would spin. */
int stop_fd(void);

bool stop_requested(void);

/* Requests a stop from inside the program (as a signal would). */
void stop_request(void);

/* Makes a second SIGINT or SIGTERM stop at once, in this process and the
 * children it forks from now on. Without it (sockserv bench, whose
 * caller may signal twice to collect its report) a second signal is
 * only another request. */
void stop_enable_at_once(void);

/* True once a second stop signal asked to stop at once; at_once_fd is
 * then readable (and stays so). */
bool stop_at_once_requested(void);
int stop_at_once_fd(void);

/* Whether this process holds the at-once stop off to end its children
 * first (see above). */
void stop_hold_at_once(bool hold);

#endif
