/*
 * --overflow refuse: what becomes of a client accepted while --max-conns
 * connections are already served. It is reset at once (never served a
 * byte), counted for the operator (COUNTER_REFUSED_FULL of its listener)
 * and reported in at most one log line a second per process, which carries
 * the running count, so a flood of refusals cannot flood the log. Any
 * thread of any model may call it.
 *
 * A reset rather than a FIN: the client cannot mistake an empty answer
 * (daytime's, say) for a served one, and the server keeps no TIME_WAIT
 * socket per refused client.
 */
#ifndef SOCKSERV_OVERFLOW_H
#define SOCKSERV_OVERFLOW_H

#include "core/listener.h"

/* At most one log line per this many ms. */
#define OVERFLOW_LOG_INTERVAL_MS 1000

/* Resets and closes client_fd, a client of l beyond the limit, and counts
 * and reports it as above. */
void overflow_refuse(const struct listener *l, int client_fd);

#endif
