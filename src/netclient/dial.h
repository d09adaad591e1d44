/*
 * Reaching a server: resolve the URL's host once, then connect to its
 * addresses one at a time, so that a name with several addresses (localhost
 * is ::1 and 127.0.0.1) reaches whichever of them answers.
 *
 * Sockets are returned non-blocking and close-on-exec. A TCP connect is
 * bounded by a timeout; a UDP "connect" only fixes the peer, which is what
 * makes an ICMP port unreachable come back as ECONNREFUSED on the next send
 * or receive instead of being lost.
 */
#ifndef SOCKSERV_NETCLIENT_DIAL_H
#define SOCKSERV_NETCLIENT_DIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/endpoint.h"

struct addrinfo;

struct client_dialer {
    struct addrinfo *addresses; /* From getaddrinfo; freed by client_dialer_free. */
    struct addrinfo *next;      /* The next address to try; NULL when all were tried. */
};

/* Resolves target's host and port for its transport. Returns 0, or -1 with
 * a one-line reason in err. */
int client_dialer_resolve(struct client_dialer *d, const struct endpoint *target, char *err,
                          size_t errlen);

bool client_dialer_has_next(const struct client_dialer *d);

/*
 * Connects a socket to the next address, waiting at most timeout_ms for a
 * TCP handshake. Returns the socket, or -1 with errno set (ECONNREFUSED,
 * ETIMEDOUT, ...) and a short reason in err ("Connection refused", "no
 * answer within 5s"); the caller may then try the next address.
 */
int client_dialer_connect_next(struct client_dialer *d, int64_t timeout_ms, char *err,
                               size_t errlen);

void client_dialer_free(struct client_dialer *d);

#endif
