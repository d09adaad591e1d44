/* Bench targets: the shared endpoint parser, then one getaddrinfo. */
#include "loadgen/target.h"
#include "core/error.h"

#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

int bench_target_parse(const char *url, struct bench_target *out, char *err, size_t errlen)
{
    struct bench_target t;
    memset(&t, 0, sizeof(t));
    if (endpoint_parse(url, ENDPOINT_CONNECT, &t.spec, err, errlen) != 0)
        return -1;
    bool bracket = strchr(t.spec.host, ':') != NULL;
    snprintf(t.text, sizeof(t.text), "%s://%s%s%s:%u", transport_name(t.spec.transport),
             bracket ? "[" : "", t.spec.host, bracket ? "]" : "", (unsigned)t.spec.port);
    *out = t;
    return 0;
}

int bench_target_resolve(struct bench_target *t, char *err, size_t errlen)
{
    struct addrinfo hints;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = t->spec.transport == TRANSPORT_TCP ? SOCK_STREAM : SOCK_DGRAM;
    hints.ai_flags = AI_NUMERICSERV;
    char port[8];
    snprintf(port, sizeof(port), "%u", (unsigned)t->spec.port);
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(t->spec.host, port, &hints, &res);
    if (rc != 0) {
        return error_set(err, errlen, "cannot resolve %s: %s", t->spec.host, gai_strerror(rc));
    }
    int result = -1;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        if ((ai->ai_family == AF_INET || ai->ai_family == AF_INET6) &&
            ai->ai_addrlen <= sizeof(t->address.u)) {
            memcpy(&t->address.u, ai->ai_addr, ai->ai_addrlen);
            t->address.length = ai->ai_addrlen;
            result = 0;
            break;
        }
    }
    freeaddrinfo(res);
    if (result != 0)
        error_set(err, errlen, "cannot resolve %s: no IPv4 or IPv6 address", t->spec.host);
    return result;
}
