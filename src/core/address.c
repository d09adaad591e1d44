/*
 * Socket addresses as text. The recorded length is checked as well as the
 * family, so that a short or unset address prints as "?" instead of as stale
 * bytes.
 */
#include "core/address.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* The host as text (unbracketed) and the port; false for other families. */
static bool address_parts(const struct address *addr, char *host, size_t hostlen, bool *is_ipv6,
                          uint16_t *port)
{
    if (addr == NULL)
        return false;
    if (addr->u.sa.sa_family == AF_INET && addr->length >= sizeof addr->u.in) {
        *is_ipv6 = false;
        *port = ntohs(addr->u.in.sin_port);
        return inet_ntop(AF_INET, &addr->u.in.sin_addr, host, (socklen_t)hostlen) != NULL;
    }
    if (addr->u.sa.sa_family == AF_INET6 && addr->length >= sizeof addr->u.in6) {
        const struct in6_addr *a6 = &addr->u.in6.sin6_addr;
        *port = ntohs(addr->u.in6.sin6_port);
        if (IN6_IS_ADDR_V4MAPPED(a6)) {
            /* A dual-stack socket reports IPv4 clients this way; show what they used. */
            struct in_addr v4;
            memcpy(&v4, &a6->s6_addr[12], sizeof v4);
            *is_ipv6 = false;
            return inet_ntop(AF_INET, &v4, host, (socklen_t)hostlen) != NULL;
        }
        *is_ipv6 = true;
        return inet_ntop(AF_INET6, a6, host, (socklen_t)hostlen) != NULL;
    }
    return false;
}

void address_format(const struct address *addr, char *buf, size_t buflen)
{
    if (buf == NULL || buflen == 0)
        return;
    char host[INET6_ADDRSTRLEN];
    bool is_ipv6 = false;
    uint16_t port = 0;
    if (!address_parts(addr, host, sizeof host, &is_ipv6, &port))
        snprintf(buf, buflen, "?");
    else if (is_ipv6)
        snprintf(buf, buflen, "[%s]:%u", host, (unsigned)port);
    else
        snprintf(buf, buflen, "%s:%u", host, (unsigned)port);
}

void address_format_host(const struct address *addr, char *buf, size_t buflen)
{
    if (buf == NULL || buflen == 0)
        return;
    char host[INET6_ADDRSTRLEN];
    bool is_ipv6 = false;
    uint16_t port = 0;
    if (!address_parts(addr, host, sizeof host, &is_ipv6, &port))
        snprintf(buf, buflen, "?");
    else
        snprintf(buf, buflen, "%s", host);
}

uint16_t address_port(const struct address *addr)
{
    char host[INET6_ADDRSTRLEN];
    bool is_ipv6 = false;
    uint16_t port = 0;
    if (!address_parts(addr, host, sizeof host, &is_ipv6, &port))
        return 0;
    return port;
}

static const uint8_t v4_mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool address_bytes_are_v4_mapped(const uint8_t bytes[16])
{
    return memcmp(bytes, v4_mapped_prefix, sizeof(v4_mapped_prefix)) == 0;
}

bool address_host_bytes(const struct address *addr, uint8_t bytes[16], bool *v6)
{
    memset(bytes, 0, 16);
    if (addr->u.sa.sa_family == AF_INET) {
        memcpy(bytes, &addr->u.in.sin_addr, 4);
        *v6 = false;
        return true;
    }
    if (addr->u.sa.sa_family != AF_INET6)
        return false;
    const uint8_t *a = addr->u.in6.sin6_addr.s6_addr;
    *v6 = !address_bytes_are_v4_mapped(a);
    if (*v6)
        memcpy(bytes, a, 16);
    else
        memcpy(bytes, a + 12, 4);
    return true;
}
