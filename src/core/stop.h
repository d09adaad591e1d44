/*
 * The graceful-stop request. SIGINT and SIGTERM set a latch: a flag plus an
 * eventfd that becomes readable and stays readable. Because nobody ever
 * drains it, every waiter sees it: each event loop, each connection thread,
 * and each forked child (which inherits the descriptor), so one signal to the
 * parent stops them all without a broadcast of its own.
 */
#ifndef SOCKSERV_STOP_H
#define SOCKSERV_STOP_H

#include <stdbool.h>

/* Installs the handlers and ignores SIGPIPE. Returns 0 or -1 with errno. */
int stop_install(void);

/* Readable once a stop was requested. Waiters add it to their poll set and
 * must stop watching it once they have seen it, or they would spin. */
int stop_fd(void);

bool stop_requested(void);

/* Requests a stop from inside the program (as a signal would). */
void stop_request(void);

#endif
