/*
 * What a bench run aims at: "tcp://HOST:PORT" or "udp://HOST:PORT", as
 * sockserv client reads it (core/endpoint.h, ENDPOINT_CONNECT). A
 * trailing "/SERVICE", as `sockserv serve` prints its listeners, is allowed
 * and names what the replies should look like.
 *
 * Parsing and resolving are separate steps because their failures differ: a
 * malformed URL is a usage error, a name that does not resolve is a runtime
 * one.
 */
#ifndef SOCKSERV_LOADGEN_TARGET_H
#define SOCKSERV_LOADGEN_TARGET_H

#include <stddef.h>

#include "core/address.h"
#include "core/endpoint.h"

/* "udp://[" + address + "]:" + port. */
#define BENCH_TARGET_TEXT_MAX (ENDPOINT_HOST_MAX + 16)

struct bench_target {
    struct endpoint spec;             /* spec.service is empty when none was named. */
    struct address address;           /* Set by bench_target_resolve. */
    char text[BENCH_TARGET_TEXT_MAX]; /* The URL without its service. */
};

/* Parses url. Returns 0, or -1 with a one-line reason in err. */
int bench_target_parse(const char *url, struct bench_target *out, char *err, size_t errlen);

/*
 * Resolves the host to its first address (getaddrinfo's preferred order).
 * Returns 0, or -1 with a one-line reason in err.
 */
int bench_target_resolve(struct bench_target *t, char *err, size_t errlen);

#endif
