/*
 * Endpoints: the text that names one end of a conversation. A listener is
 * "tcp://127.0.0.1:7007/echo", "udp://[::1]:0/time",
 * "tcp://localhost:7007/echo", or "tcp://HOST:7777/chat" with HOST "*" for
 * every address of both families. A client's target is the same text for
 * the other end: "tcp://127.0.0.1:7007/echo", or "udp://host:37" with the
 * service left for the caller to infer.
 *
 * This module only parses text; it does not resolve names or check that the
 * service exists. Resolution and binding live in core/listener.h, so that
 * the parser can be unit-tested without a network.
 */
#ifndef SOCKSERV_ENDPOINT_H
#define SOCKSERV_ENDPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum transport { TRANSPORT_TCP, TRANSPORT_UDP };

/* Longest host name DNS allows, plus room for the terminator. */
#define ENDPOINT_HOST_MAX 256
#define ENDPOINT_SERVICE_MAX 32
/* A listener's settings after '?', terminator included. */
#define ENDPOINT_QUERY_MAX 1024

struct endpoint {
    enum transport transport;
    /* The host without brackets: "127.0.0.1", "::1", "localhost". Empty when
     * wildcard is set. */
    char host[ENDPOINT_HOST_MAX];
    /* "*": every address of both families. */
    bool wildcard;
    uint16_t port; /* 0 asks the kernel for any free port. */
    char service[ENDPOINT_SERVICE_MAX];
    /* A listener's own settings, the text after '?' ("allow=10.0.0.0/8&
     * max-per-source=4"), unparsed (core/listener_query.h reads it); empty
     * when none were given, and always for ENDPOINT_CONNECT. */
    char query[ENDPOINT_QUERY_MAX];
};

/* What an endpoint is parsed for. The two differ only where binding and
 * connecting differ: a listener needs a service to run and may bind "*" and
 * port 0; a connection can leave the service out but needs a real host and
 * port to reach. */
enum endpoint_use { ENDPOINT_LISTEN, ENDPOINT_CONNECT };

/*
 * Parses an endpoint for use. ENDPOINT_LISTEN reads
 * "SCHEME://HOST:PORT/SERVICE": SCHEME is tcp or udp; HOST is an IPv4
 * literal, a bracketed IPv6 literal, a host name, or "*"; PORT is a decimal
 * number in 0..65535; SERVICE is 1..31 characters of [a-z0-9_-]; an
 * optional "?QUERY" after it, 1..1023 printable characters without
 * spaces, is kept in out->query for the listener's own settings.
 * ENDPOINT_CONNECT reads "SCHEME://HOST:PORT[/SERVICE]": without the
 * service, out->service is empty; "*" and port 0 are rejected. Returns 0, or
 * -1 with a one-line reason in err and *out untouched.
 */
int endpoint_parse(const char *text, enum endpoint_use use, struct endpoint *out, char *err,
                   size_t errlen);

/* "tcp" or "udp". */
const char *transport_name(enum transport t);

#endif
