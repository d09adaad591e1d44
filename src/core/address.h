/*
 * Socket addresses as text, the one way sockserv writes them everywhere:
 * "127.0.0.1:41234" and "[::1]:41234". IPv4-mapped IPv6 addresses
 * (::ffff:127.0.0.1) are written as the IPv4 address they carry, because that
 * is what the user connected from.
 */
#ifndef SOCKSERV_ADDRESS_H
#define SOCKSERV_ADDRESS_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Large enough for "[" + INET6_ADDRSTRLEN + "]:" + 5 digits + NUL. */
#define ADDRESS_TEXT_MAX (INET6_ADDRSTRLEN + 10)

/* Sized for IPv6 rather than sockaddr_storage's 128 bytes, because one is
 * kept per connection and an idle connection must stay small. */
struct address {
    union {
        struct sockaddr sa;
        struct sockaddr_in in;
        struct sockaddr_in6 in6;
    } u;
    socklen_t length;
};

/* Writes "host:port" (IPv6 bracketed) into buf; "?" for unknown families. */
void address_format(const struct address *addr, char *buf, size_t buflen);

/* Writes just the host part, unbracketed ("::1", "127.0.0.1"). */
void address_format_host(const struct address *addr, char *buf, size_t buflen);

/* The port in host byte order, 0 for unknown families. */
uint16_t address_port(const struct address *addr);

/* The host part as bytes, an IPv4-mapped IPv6 address as the IPv4 address
 * it carries (what the user connected from): 4 bytes and *v6 false, or 16
 * and *v6 true, zero-padded to 16. False for a family with no host. */
bool address_host_bytes(const struct address *addr, uint8_t bytes[16], bool *v6);

/* Whether the 16 bytes of an IPv6 address are ::ffff:a.b.c.d. */
bool address_bytes_are_v4_mapped(const uint8_t bytes[16]);

#endif
