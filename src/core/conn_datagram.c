/* A UDP request as a connection, and the amplification bound every
 * service's replies keep. */
#include "core/conn_internal.h"

#include <errno.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/counters.h"
#include "core/log.h"

/* Without --allow-amplification a request gets at most one reply datagram,
 * no longer than the request, or than this many bytes: enough for daytime's
 * line (26 bytes) and time's 4, which RFC 867 and 868 send in answer to any
 * datagram, an empty one included. On the wire that is at most 54 bytes
 * for 28 (IPv4 headers included), under twice the request, where chargen's
 * RFC answer is 358 times it. */
#define DATAGRAM_SMALL_REPLY 32

bool conn_is_datagram(const struct conn *c)
{
    return c->flags & CONN_DATAGRAM;
}

size_t conn_reply_budget(const struct conn *c)
{
    if (!(c->flags & CONN_DATAGRAM) || c->listener->config->allow_amplification)
        return SIZE_MAX;
    return (size_t)c->bytes_in;
}

/* True when the reply may leave: the amplification budget, enforced here
 * whatever the service, bounds every request to one reply datagram of
 * conn_reply_budget bytes (or DATAGRAM_SMALL_REPLY), so one request can
 * never fan out into many datagrams. */
static bool datagram_reply_allowed(struct conn *c, size_t len)
{
    if (c->listener->config->allow_amplification)
        return true;
    size_t budget = conn_reply_budget(c);
    if (budget < DATAGRAM_SMALL_REPLY)
        budget = DATAGRAM_SMALL_REPLY;
    if ((c->flags & CONN_REPLIED) || len > budget) {
        counters_add(c->listener->spec_index, COUNTER_DATAGRAMS_AMPLIFICATION, 1);
        log_debug("%s: reply of %zu bytes not sent: over the amplification budget",
                  c->listener->service->name, len);
        return false;
    }
    c->flags |= CONN_REPLIED;
    return true;
}

static void count_reply(const struct conn *c, size_t len)
{
    counters_add(c->listener->spec_index, COUNTER_DATAGRAMS_OUT, 1);
    counters_add(c->listener->spec_index, COUNTER_BYTES_OUT, (int64_t)len);
}

int conn_send_datagram(struct conn *c, const void *data, size_t len)
{
    if (!datagram_reply_allowed(c, len))
        return 0;
    if (c->owner && c->owner->send_datagram) {
        c->owner->send_datagram(c->owner, c, data, len);
        c->bytes_out += len;
        count_reply(c, len);
        return 0;
    }
    ssize_t n;
    do {
        n = sendto(c->fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL, &c->peer.u.sa, c->peer.length);
    } while (n < 0 && errno == EINTR);
    /* A full socket buffer drops the reply, as the network itself may: UDP
     * promises nothing, and waiting would stall every other sender. */
    if (n >= 0) {
        c->bytes_out += (uint64_t)n;
        count_reply(c, (size_t)n);
    }
    return 0;
}

struct conn *conn_create_datagram(const struct address *peer, const struct listener *l,
                                  struct conn_owner *owner)
{
    struct conn *c = conn_create(l->fd, peer, l, owner);
    /* A datagram is one request, served at once: it cannot sit idle. */
    if (c) {
        c->flags |= CONN_DATAGRAM;
        conn_set_idle_check(c, 0);
    }
    return c;
}

void conn_deliver_datagram(struct conn *c, const uint8_t *data, size_t len)
{
    const struct service *s = c->listener->service;
    c->bytes_in = len;
    counters_add(c->listener->spec_index, COUNTER_DATAGRAMS_IN, 1);
    counters_add(c->listener->spec_index, COUNTER_BYTES_IN, (int64_t)len);
    conn_start(c);
    /* An empty datagram is still a request (echo answers it with an empty
     * one), so on_data runs even for len 0. */
    if (s->on_data && !(c->flags & CONN_DEAD))
        RUN_CALLBACK(c, s->on_data(c, data, len));
    if (!(c->flags & CONN_DEAD))
        conn_handle_eof(c);
}
