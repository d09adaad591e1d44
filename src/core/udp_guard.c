#include "core/udp_guard.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/counters.h"
#include "core/error.h"
#include "core/log.h"

/* Slots probed for a source before the least recently seen is replaced. */
#define PROBES 8

/* A whole decimal number of at most max at *p, digits only (no sign, no
 * spaces); moves *p past it. Returns 0, or -1. */
static int take_number(const char **p, unsigned long max, unsigned long *out)
{
    size_t digits = strspn(*p, "0123456789");
    if (digits == 0 || digits > 9)
        return -1;
    unsigned long value = 0;
    for (size_t i = 0; i < digits; i++)
        value = value * 10 + (unsigned long)((*p)[i] - '0');
    if (value > max)
        return -1;
    *p += digits;
    *out = value;
    return 0;
}

int udp_rate_parse(const char *text, struct udp_rate *out, char *err, size_t errlen)
{
    if (strcmp(text, "off") == 0) {
        *out = (struct udp_rate){0, 0};
        return 0;
    }
    const char *p = text;
    unsigned long rate = 0, burst = 0;
    bool ok = take_number(&p, 10000000, &rate) == 0;
    if (ok && *p == '/') {
        p++;
        ok = take_number(&p, 100000000, &burst) == 0 && burst >= 1;
    } else if (ok) {
        burst = 2 * rate;
    }
    if (!ok || *p != '\0')
        return error_set(err, errlen,
                         "expected RATE or RATE/BURST (RATE from 1 to 10000000 a second) or off");
    /* A rate of 0 would read as "serve nothing", yet meant "no limit": the
     * one spelling of no limit is "off". */
    if (rate == 0)
        return error_set(err, errlen, "a rate of 0 is refused: write off for no limit");
    *out = (struct udp_rate){(uint32_t)rate, (uint32_t)(burst ? burst : 1)};
    return 0;
}

void udp_guard_init(struct udp_guard *g, struct udp_rate rate)
{
    memset(g, 0, sizeof(*g));
    g->rate = rate;
}

void udp_guard_free(struct udp_guard *g)
{
    free(g->buckets);
    g->buckets = NULL;
    free(g->own_ports);
    g->own_ports = NULL;
    g->own_port_count = 0;
}

static bool is_own_port(const struct udp_guard *g, uint16_t port)
{
    for (size_t i = 0; i < g->own_port_count; i++)
        if (g->own_ports[i] == port)
            return true;
    return false;
}

int udp_guard_refuse_port(struct udp_guard *g, uint16_t port)
{
    if (is_own_port(g, port))
        return 0;
    uint16_t *grown = realloc(g->own_ports, (g->own_port_count + 1) * sizeof(*grown));
    if (!grown)
        return -1;
    g->own_ports = grown;
    g->own_ports[g->own_port_count++] = port;
    return 0;
}

int udp_guard_refuse_own_ports(struct udp_guard *g, const struct listener_set *set)
{
    for (size_t i = 0; i < set->count; i++) {
        const struct listener *l = &set->items[i];
        if (l->transport == TRANSPORT_UDP &&
            udp_guard_refuse_port(g, address_port(&l->address)) != 0)
            return -1;
    }
    return 0;
}

static const char *udp_drop_reason_text(enum udp_drop_reason reason)
{
    switch (reason) {
    case UDP_DROP_SOURCE_PORT:
        return "source port 0 or a small-service port (loop defence)";
    case UDP_DROP_OWN_PORT:
        return "source port is one of this server's UDP ports (loop defence)";
    case UDP_DROP_SOURCE_ADDRESS:
        return "unspecified, broadcast or multicast source address";
    case UDP_DROP_RATE:
        return "source over its rate (--udp-rate)";
    case UDP_DROP_REASON_COUNT:
        break;
    }
    return "unknown";
}

static bool is_small_service_port(uint16_t port)
{
    return port == 0 || port == 7 || port == 9 || port == 13 || port == 19 || port == 37;
}

static bool bad_ipv4_source(uint32_t host_order)
{
    return host_order == INADDR_ANY || host_order == INADDR_BROADCAST ||
           (host_order >> 28) == 0xe; /* 224.0.0.0/4: multicast */
}

static bool bad_source_address(const struct address *a)
{
    if (a->u.sa.sa_family == AF_INET)
        return bad_ipv4_source(ntohl(a->u.in.sin_addr.s_addr));
    if (a->u.sa.sa_family != AF_INET6)
        return true;
    const struct in6_addr *in6 = &a->u.in6.sin6_addr;
    if (IN6_IS_ADDR_UNSPECIFIED(in6) || IN6_IS_ADDR_MULTICAST(in6))
        return true;
    if (IN6_IS_ADDR_V4MAPPED(in6)) {
        uint32_t v4;
        memcpy(&v4, &in6->s6_addr[12], sizeof(v4));
        return bad_ipv4_source(ntohl(v4));
    }
    return false;
}

/* Logs the drops of reason not logged yet, with the running total. */
static void log_drops(struct udp_guard *g, enum udp_drop_reason reason, int64_t now_ms)
{
    char text[ADDRESS_TEXT_MAX];
    address_format(&g->latest[reason], text, sizeof(text));
    struct log_field fields[] = {
        LOG_TEXT("event", "udp_dropped"),
        LOG_TEXT("reason", udp_drop_reason_text(reason)),
        LOG_COUNT("count", g->unlogged[reason]),
        LOG_COUNT("total", g->dropped[reason]),
        LOG_TEXT("peer", text),
    };
    log_event(LOG_WARN, fields, 5, "udp: dropped %llu datagram%s (%s), latest from %s; %llu in all",
              (unsigned long long)g->unlogged[reason], g->unlogged[reason] == 1 ? "" : "s",
              udp_drop_reason_text(reason), text, (unsigned long long)g->dropped[reason]);
    g->unlogged[reason] = 0;
    g->last_log_ms[reason] = now_ms;
}

static void record_drop(struct udp_guard *g, enum udp_drop_reason reason,
                        const struct address *source, int64_t now_ms)
{
    g->dropped[reason]++;
    g->unlogged[reason]++;
    g->latest[reason] = *source;
    if (g->last_log_ms[reason] != 0 && now_ms - g->last_log_ms[reason] < UDP_GUARD_LOG_INTERVAL_MS)
        return;
    log_drops(g, reason, now_ms);
}

int64_t udp_guard_flush_due(const struct udp_guard *g)
{
    int64_t due = 0;
    for (int r = 0; r < UDP_DROP_REASON_COUNT; r++) {
        if (g->unlogged[r] == 0)
            continue;
        int64_t at = g->last_log_ms[r] + UDP_GUARD_LOG_INTERVAL_MS;
        if (due == 0 || at < due)
            due = at;
    }
    return due;
}

void udp_guard_flush(struct udp_guard *g, int64_t now_ms)
{
    for (int r = 0; r < UDP_DROP_REASON_COUNT; r++)
        if (g->unlogged[r] && now_ms - g->last_log_ms[r] >= UDP_GUARD_LOG_INTERVAL_MS)
            log_drops(g, (enum udp_drop_reason)r, now_ms);
}

static uint64_t hash_source(const struct address *a)
{
    /* FNV-1a over the address bytes: cheap and spreads nearby addresses. */
    const uint8_t *p;
    size_t n;
    if (a->u.sa.sa_family == AF_INET) {
        p = (const uint8_t *)&a->u.in.sin_addr;
        n = sizeof(a->u.in.sin_addr);
    } else {
        p = (const uint8_t *)&a->u.in6.sin6_addr;
        n = sizeof(a->u.in6.sin6_addr);
    }
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}

static bool same_host(const struct address *a, const struct address *b)
{
    if (a->u.sa.sa_family != b->u.sa.sa_family)
        return false;
    if (a->u.sa.sa_family == AF_INET)
        return a->u.in.sin_addr.s_addr == b->u.in.sin_addr.s_addr;
    return memcmp(&a->u.in6.sin6_addr, &b->u.in6.sin6_addr, sizeof(struct in6_addr)) == 0;
}

/* Finds the source's bucket, or takes over the least recently seen slot. */
static struct udp_bucket *bucket_for(struct udp_guard *g, const struct address *source)
{
    size_t start = (size_t)(hash_source(source) % UDP_GUARD_SOURCES);
    struct udp_bucket *oldest = NULL;
    for (size_t i = 0; i < PROBES; i++) {
        struct udp_bucket *b = &g->buckets[(start + i) % UDP_GUARD_SOURCES];
        if (b->last_ms != 0 && same_host(&b->source, source))
            return b;
        if (!oldest || b->last_ms < oldest->last_ms)
            oldest = b;
    }
    memset(oldest, 0, sizeof(*oldest));
    oldest->source = *source;
    oldest->tokens = g->rate.burst;
    return oldest;
}

static bool take_token(struct udp_guard *g, const struct address *source, int64_t now_ms)
{
    if (g->rate.per_second == 0)
        return true;
    if (!g->buckets) {
        g->buckets = calloc(UDP_GUARD_SOURCES, sizeof(*g->buckets));
        if (!g->buckets)
            return false; /* Without memory, refusing is the safe side. */
    }
    struct udp_bucket *b = bucket_for(g, source);
    if (b->last_ms != 0) {
        b->tokens += (double)(now_ms - b->last_ms) * g->rate.per_second / 1000.0;
        if (b->tokens > g->rate.burst)
            b->tokens = g->rate.burst;
    }
    /* A stored time of 0 marks a free slot, so never store 0. */
    b->last_ms = now_ms ? now_ms : 1;
    if (b->tokens < 1.0)
        return false;
    b->tokens -= 1.0;
    return true;
}

/* The counter of core/counters.h each reason is counted under. */
static const enum counter drop_counter[UDP_DROP_REASON_COUNT] = {
    [UDP_DROP_SOURCE_PORT] = COUNTER_DATAGRAMS_OWN_PORT,
    [UDP_DROP_OWN_PORT] = COUNTER_DATAGRAMS_OWN_PORT,
    [UDP_DROP_SOURCE_ADDRESS] = COUNTER_DATAGRAMS_BAD_SOURCE,
    [UDP_DROP_RATE] = COUNTER_DATAGRAMS_RATE,
};

bool udp_guard_admit(struct udp_guard *g, size_t listener, const struct address *source,
                     int64_t now_ms)
{
    enum udp_drop_reason reason;
    if (is_small_service_port(address_port(source)))
        reason = UDP_DROP_SOURCE_PORT;
    else if (is_own_port(g, address_port(source)))
        reason = UDP_DROP_OWN_PORT;
    else if (bad_source_address(source))
        reason = UDP_DROP_SOURCE_ADDRESS;
    else if (!take_token(g, source, now_ms))
        reason = UDP_DROP_RATE;
    else
        return true;
    counters_add(listener, drop_counter[reason], 1);
    record_drop(g, reason, source, now_ms);
    return false;
}

void udp_guard_log_totals(const struct udp_guard *g, const char *who)
{
    for (int r = 0; r < UDP_DROP_REASON_COUNT; r++)
        if (g->dropped[r])
            log_info("%s: dropped %llu datagrams in all (%s)", who,
                     (unsigned long long)g->dropped[r], udp_drop_reason_text(r));
}
