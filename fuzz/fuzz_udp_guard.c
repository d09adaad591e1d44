/*
 * udp_guard (core/udp_guard.h), which judges every datagram's forgeable
 * source before a UDP service answers it. The first bytes pick the rate
 * and burst; then each record of 4 bytes is one datagram: which of eight
 * sources (address and family chosen by the input too), its source port,
 * and how many milliseconds passed since the last one.
 *
 * Properties: a datagram from port 0 or a small-service port, or from an
 * unspecified, broadcast or multicast address, is never admitted; with the
 * buckets on, no source is admitted more than its burst plus its rate over
 * the time since it was first seen; with them off, every good source is.
 * Eight sources fit in the guard's probe window, so none is forgotten.
 */
#include "fuzz.h"

#include <arpa/inet.h>

#include "core/log.h"
#include "core/udp_guard.h"

#define SOURCES 8

struct source {
    struct address address;
    bool seen;
    int64_t first_ms;
    uint64_t admitted;
};

static uint32_t read_u32(struct fuzz_input *in)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v = v << 8 | fuzz_byte(in);
    return v;
}

/* One source address, made from the input: IPv4 (often special ones),
 * IPv6, or IPv4-mapped IPv6. */
static void make_source(struct fuzz_input *in, struct address *a)
{
    static const uint32_t special[] = {INADDR_ANY,  INADDR_BROADCAST, 0xE0000001u,
                                       0xEFFFFFFFu, 0x7F000001u,      0x0A000001u};
    memset(a, 0, sizeof *a);
    uint8_t kind = fuzz_byte(in);
    uint32_t v4 = kind & 0x10 ? special[kind % 6] : read_u32(in);
    switch (kind % 3) {
    case 0:
        a->u.in.sin_family = AF_INET;
        a->u.in.sin_addr.s_addr = htonl(v4);
        a->length = sizeof a->u.in;
        break;
    case 1:
        a->u.in6.sin6_family = AF_INET6;
        for (int i = 0; i < 16; i++)
            a->u.in6.sin6_addr.s6_addr[i] = fuzz_byte(in);
        a->length = sizeof a->u.in6;
        break;
    default:
        a->u.in6.sin6_family = AF_INET6;
        a->u.in6.sin6_addr.s6_addr[10] = 0xFF;
        a->u.in6.sin6_addr.s6_addr[11] = 0xFF;
        uint32_t net = htonl(v4);
        memcpy(&a->u.in6.sin6_addr.s6_addr[12], &net, 4);
        a->length = sizeof a->u.in6;
        break;
    }
}

static bool bad_ipv4(uint32_t host_order)
{
    return host_order == INADDR_ANY || host_order == INADDR_BROADCAST || (host_order >> 28) == 0xE;
}

/* The header's list of sources no real client has, written apart from
 * udp_guard.c so that the two can disagree. */
static bool must_refuse(const struct address *a, uint16_t port)
{
    if (port == 0 || port == 7 || port == 9 || port == 13 || port == 19 || port == 37)
        return true;
    if (a->u.sa.sa_family == AF_INET)
        return bad_ipv4(ntohl(a->u.in.sin_addr.s_addr));
    const uint8_t *b = a->u.in6.sin6_addr.s6_addr;
    static const uint8_t zero[16];
    if (memcmp(b, zero, 16) == 0 || b[0] == 0xFF)
        return true;
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
    if (memcmp(b, mapped, 12) == 0) {
        uint32_t v4 = (uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 | (uint32_t)b[14] << 8 | b[15];
        return bad_ipv4(v4);
    }
    return false;
}

static void set_port(struct address *a, uint16_t port)
{
    if (a->u.sa.sa_family == AF_INET)
        a->u.in.sin_port = htons(port);
    else
        a->u.in6.sin6_port = htons(port);
}

/* Whether two sources share a bucket: the guard keys buckets by host. */
static bool same_host(const struct address *a, const struct address *b)
{
    if (a->u.sa.sa_family != b->u.sa.sa_family)
        return false;
    if (a->u.sa.sa_family == AF_INET)
        return a->u.in.sin_addr.s_addr == b->u.in.sin_addr.s_addr;
    return memcmp(&a->u.in6.sin6_addr, &b->u.in6.sin6_addr, 16) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool quiet;
    if (!quiet) {
        /* The guard logs its drops; a fuzzer's thousands of them are noise. */
        log_set_level(LOG_ERROR);
        quiet = true;
    }
    struct fuzz_input in = {data, size};
    uint8_t rate_byte = fuzz_byte(&in);
    struct udp_rate rate = {rate_byte % 4 == 0 ? 0 : 1 + rate_byte / 4, 1 + fuzz_byte(&in) % 16};

    struct source sources[SOURCES];
    memset(sources, 0, sizeof sources);
    for (int i = 0; i < SOURCES; i++)
        make_source(&in, &sources[i].address);

    struct udp_guard guard;
    udp_guard_init(&guard, rate);
    int64_t now = 1000 + fuzz_byte(&in);
    while (in.len >= 4) {
        uint8_t pick = fuzz_byte(&in);
        uint16_t port = (uint16_t)(fuzz_byte(&in) << 8 | fuzz_byte(&in));
        if (pick & 0x80)
            port = (uint16_t)(port % 40); /* The small-service ports, often. */
        now += fuzz_byte(&in) % 64;
        struct source *s = &sources[pick % SOURCES];
        set_port(&s->address, port);
        bool admitted = udp_guard_admit(&guard, 0, &s->address, now);
        bool refuse = must_refuse(&s->address, port);
        if (refuse)
            FUZZ_CHECK(!admitted);
        else if (rate.per_second == 0)
            FUZZ_CHECK(admitted);
        if (!admitted || rate.per_second == 0)
            continue;

        /* Sources with the same host share one bucket: count them together. */
        struct source *first = s;
        for (int i = 0; i < SOURCES; i++)
            if (same_host(&sources[i].address, &s->address)) {
                first = &sources[i];
                break;
            }
        if (!first->seen) {
            first->seen = true;
            first->first_ms = now;
        }
        first->admitted++;
        double allowed = rate.burst + (double)(now - first->first_ms) * rate.per_second / 1000.0;
        FUZZ_CHECK((double)first->admitted <= allowed + 1e-6);
    }
    udp_guard_free(&guard);
    return 0;
}
