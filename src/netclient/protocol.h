/*
 * What the client knows about each service: whether it sends the user's
 * input, what comes back and how to show it, and what a correct reply to
 * given bytes is (for --verify). A service the client does not special-case
 * is a plain byte stream: input goes out, whatever comes back is printed.
 *
 * When the URL names no service, the port decides: the RFC ports (7, 9, 13,
 * 19, 37) and the default ports of sockserv serve, read from the server's
 * own service table so the two can never disagree.
 */
#ifndef SOCKSERV_NETCLIENT_PROTOCOL_H
#define SOCKSERV_NETCLIENT_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How the reply is read and shown. */
enum client_reply {
    CLIENT_REPLY_STREAM,  /* Bytes, printed as they arrive. */
    CLIENT_REPLY_NONE,    /* Nothing comes back (discard), so nothing is awaited. */
    CLIENT_REPLY_DAYTIME, /* One line of text, printed as one clean line. */
    CLIENT_REPLY_TIME,    /* 4 bytes of seconds since 1900, printed as a date. */
};

/* What a correct reply to the bytes sent is. */
enum client_expect {
    CLIENT_EXPECT_UNKNOWN, /* The reply does not depend on the input. */
    CLIENT_EXPECT_SAME,    /* The same bytes (echo). */
    CLIENT_EXPECT_UPPER,   /* The same bytes, ASCII a-z made A-Z (upper). */
};

struct client_protocol {
    const char *name;
    uint16_t rfc_port; /* 0 when the service has none. */
    /* Sends MESSAGE or standard input. The others ignore input, so the
     * client sends only what their RFC asks for: nothing over TCP, one
     * request datagram over UDP. */
    bool takes_input;
    /* Over UDP, the size of the request datagram for a service that takes
     * no input: 0 (RFC 867, 868), or chargen's 512, its largest answer,
     * since a server that refuses to amplify answers with no more bytes
     * than it was sent. */
    uint16_t udp_request;
    enum client_reply reply;
    enum client_expect expect;
};

/* The protocol for a service name: the client's own entries first, then
 * any service sockserv serves (as a plain stream). NULL when unknown. */
const struct client_protocol *client_protocol_find(const char *name);

/* The protocol inferred from a well-known port, or the plain stream. */
const struct client_protocol *client_protocol_for_port(uint16_t port);

/* The plain byte stream ("stream"), which expects its input back. */
const struct client_protocol *client_protocol_stream(void);

/* The byte a correct reply has where byte was sent. */
uint8_t client_protocol_expected_byte(const struct client_protocol *p, uint8_t byte);

/* Whether --verify means something here: the reply must follow the input. */
bool client_protocol_can_verify(const struct client_protocol *p);

/* The i-th protocol the client knows, for --help; NULL past the last. */
const struct client_protocol *client_protocol_at(size_t i);

#endif
