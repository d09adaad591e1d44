/*
 * Defences that keep a UDP service from becoming a weapon.
 *
 * UDP sources are trivially spoofed, so a small service that answers a
 * forged datagram answers the victim: chargen is a 358x reflection amplifier
 * (US-CERT TA14-017A), and echo and chargen aimed at each other bounce
 * forever (CERT CA-1996-01). Before a datagram reaches its service the guard
 * drops it when:
 *   - its source port is 0, a small-service port (7, 9, 13, 19, 37), or
 *     one of this server's own UDP listening ports (on any address), so
 *     neither two such services nor two of sockserv's own listeners (nor a
 *     listener and itself, by a forged source) can talk to each other;
 *   - its source address is unspecified, broadcast or multicast, which no
 *     real client has;
 *   - its source address has used up its token bucket (a rate and a burst
 *     per address), which bounds what any one victim can be sent.
 * Drops are counted by reason and logged at most once per second per reason,
 * with a running total; drops not logged yet are flushed by a timer (the
 * owner waits until udp_guard_flush_due, then calls udp_guard_flush), so
 * the log shows them within a second even when the flood stops.
 *
 * A guard belongs to the one thread that receives on its listeners.
 */
#ifndef SOCKSERV_UDP_GUARD_H
#define SOCKSERV_UDP_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/address.h"
#include "core/listener.h"

#define UDP_RATE_DEFAULT 100  /* Datagrams per second per source address. */
#define UDP_BURST_DEFAULT 200 /* Datagrams a quiet source may send at once. */

/* --udp-rate: a rate of 0 (written "off") turns the token buckets off. */
struct udp_rate {
    uint32_t per_second;
    uint32_t burst;
};

/* Parses "RATE" or "RATE/BURST" (burst defaults to twice the rate), or
 * "off". A RATE of 0 is refused: "off" is the one way to say no limit.
 * Returns 0, or -1 with a reason in err. */
int udp_rate_parse(const char *text, struct udp_rate *out, char *err, size_t errlen);

enum udp_drop_reason {
    UDP_DROP_SOURCE_PORT,
    UDP_DROP_OWN_PORT,
    UDP_DROP_SOURCE_ADDRESS,
    UDP_DROP_RATE,
    UDP_DROP_REASON_COUNT
};

/* Sources tracked at once; when full, the least recently seen is forgotten. */
#define UDP_GUARD_SOURCES 4096

struct udp_bucket {
    struct address source; /* Port zeroed: the bucket is per address. */
    int64_t last_ms;       /* 0: the slot is free. */
    double tokens;
};

struct udp_guard {
    struct udp_rate rate;
    uint16_t *own_ports; /* This server's UDP listening ports. */
    size_t own_port_count;
    struct udp_bucket *buckets; /* UDP_GUARD_SOURCES slots, allocated on first use. */
    uint64_t dropped[UDP_DROP_REASON_COUNT];
    uint64_t unlogged[UDP_DROP_REASON_COUNT];
    int64_t last_log_ms[UDP_DROP_REASON_COUNT];
    struct address latest[UDP_DROP_REASON_COUNT]; /* The last source dropped. */
};

/* Drops of one reason are logged at most this often. */
#define UDP_GUARD_LOG_INTERVAL_MS 1000

void udp_guard_init(struct udp_guard *g, struct udp_rate rate);
void udp_guard_free(struct udp_guard *g);

/* Refuses datagrams from source port port, whatever their address. 0, or -1
 * when memory runs out. */
int udp_guard_refuse_port(struct udp_guard *g, uint16_t port);

/* Refuses datagrams from the bound port of every UDP listener of set: a
 * forged source naming one of them would start a loop between two of this
 * server's own services, or between a service and itself. 0, or -1 when
 * memory runs out. */
int udp_guard_refuse_own_ports(struct udp_guard *g, const struct listener_set *set);

/* True when a datagram from source, received on listener (its number in
 * core/counters.h), may be served now; otherwise the drop is counted, for
 * the listener by reason, and, at most once a second per reason, logged. */
bool udp_guard_admit(struct udp_guard *g, size_t listener, const struct address *source,
                     int64_t now_ms);

/* When drops not logged yet are due to be logged (clock_now_ms's clock), or
 * 0 when none are waiting: the owner's next wait ends by then. */
int64_t udp_guard_flush_due(const struct udp_guard *g);

/* Logs the drops whose time has come (see udp_guard_flush_due). */
void udp_guard_flush(struct udp_guard *g, int64_t now_ms);

/* Logs the totals, if anything was dropped; for shutdown. */
void udp_guard_log_totals(const struct udp_guard *g, const char *who);

#endif
