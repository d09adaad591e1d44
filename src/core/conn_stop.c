/* The graceful stop of one connection: served until it owes its peer
 * nothing, and what is cut at the end of grace, counted for the log. */
#include "core/conn_internal.h"

#include <linux/sockios.h>
#include <sys/ioctl.h>

#include "core/counters.h"
#include "core/log.h"

/* Bytes waiting in the socket's receive queue, not yet read; 0 when the
 * kernel cannot say. */
static size_t unread_in_socket(const struct conn *c)
{
    int n = 0;
    if ((c->flags & CONN_DATAGRAM) || ioctl(c->fd, SIOCINQ, &n) != 0 || n < 0)
        return 0;
    return (size_t)n;
}

void conn_begin_stop(struct conn *c)
{
    c->flags |= CONN_STOPPING;
}

/* True while a stopping connection is still in a conversation: its peer has
 * sent bytes not yet read (and not half-closed), or input is held. Closing
 * then would lose those bytes and, with bytes unread, reset the peer. */
bool conn_peer_still_sending(const struct conn *c)
{
    if (conn_input_held(c) > 0)
        return true;
    /* A paused connection cannot read them; its service decided. */
    if (c->flags & (CONN_EOF_SEEN | CONN_CLOSING | CONN_READ_PAUSED))
        return false;
    return unread_in_socket(c) > 0;
}

void conn_cut_at_grace(struct conn *c, struct conn_cut *cut)
{
    if (!(c->flags & CONN_DEAD)) {
        if (!(c->flags & CONN_DATAGRAM))
            counters_add(c->listener->spec_index, COUNTER_CUT_GRACE, 1);
        cut->connections++;
        cut->unread += unread_in_socket(c) + conn_input_held(c);
        cut->unsent += conn_output_owed(c);
    }
    conn_mark_dead(c, "grace period over");
}

void conn_cut_log(const struct conn_cut *cut)
{
    if (cut->connections > 0)
        log_warn("grace period over: %zu connection%s cut, %llu bytes unread, %llu unsent",
                 cut->connections, cut->connections == 1 ? "" : "s",
                 (unsigned long long)cut->unread, (unsigned long long)cut->unsent);
}
