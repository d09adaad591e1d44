/*
 * --overflow refuse: what becomes of a client accepted while --max-conns
 * connections are already served. It is reset at once (never served a
 * byte), counted for the operator (COUNTER_REFUSED_FULL of its listener)
 * and logged as every refusal is (core/refusal_log.h: at most one line a
 * second, with the running count). Any thread of any model may call it.
 *
 * A reset rather than a FIN: the client cannot mistake an empty answer
 * (daytime's, say) for a served one, and the server keeps no TIME_WAIT
 * socket per refused client.
 */
#ifndef SOCKSERV_OVERFLOW_H
#define SOCKSERV_OVERFLOW_H

#include <stdatomic.h>
#include <stddef.h>

#include "core/listener.h"

/*
 * The event loops of one process that take clients from one shared socket
 * (--threads with --balance shared) each serve a share of --max-conns. A
 * loop at its share must not refuse a client another loop has room for, so
 * they count their connections here together, and a loop refuses only
 * once the whole process is full; before that it leaves the socket to the
 * others. The count is read before the accept, so a client may still be
 * refused just as another loop frees a slot: a refusal near the limit,
 * never a client served past it.
 */
struct overflow_pool {
    atomic_size_t open; /* Stream connections open in every loop. */
    size_t max;         /* --max-conns for the whole process. */
};

/* Resets and closes client_fd, a client of l beyond the limit, and counts
 * and reports it as above. */
void overflow_refuse(const struct listener *l, int client_fd);

#endif
