/*
 * The client's service table. Only what the client must treat differently
 * is listed; the server's table supplies the rest (names, default ports).
 */
#include "netclient/protocol.h"

#include <string.h>

#include "core/service.h"

static const struct client_protocol protocols[] = {
    {"echo", 7, true, 0, CLIENT_REPLY_STREAM, CLIENT_EXPECT_SAME},
    {"discard", 9, true, 0, CLIENT_REPLY_NONE, CLIENT_EXPECT_UNKNOWN},
    {"daytime", 13, false, 0, CLIENT_REPLY_DAYTIME, CLIENT_EXPECT_UNKNOWN},
    {"chargen", 19, false, 512, CLIENT_REPLY_STREAM, CLIENT_EXPECT_UNKNOWN},
    {"time", 37, false, 0, CLIENT_REPLY_TIME, CLIENT_EXPECT_UNKNOWN},
    {"upper", 0, true, 0, CLIENT_REPLY_STREAM, CLIENT_EXPECT_UPPER},
    /* Anything else: like echo, but nobody promised the bytes come back. */
    {"stream", 0, true, 0, CLIENT_REPLY_STREAM, CLIENT_EXPECT_SAME},
};

#define PROTOCOL_COUNT (sizeof protocols / sizeof protocols[0])
#define STREAM (&protocols[PROTOCOL_COUNT - 1])

static const struct client_protocol *find_own(const char *name)
{
    for (size_t i = 0; i < PROTOCOL_COUNT; i++)
        if (strcmp(protocols[i].name, name) == 0)
            return &protocols[i];
    return NULL;
}

const struct client_protocol *client_protocol_find(const char *name)
{
    const struct client_protocol *p = find_own(name);
    if (p == NULL && service_find(name) != NULL)
        p = STREAM;
    return p;
}

const struct client_protocol *client_protocol_for_port(uint16_t port)
{
    for (size_t i = 0; i < PROTOCOL_COUNT; i++)
        if (protocols[i].rfc_port == port)
            return &protocols[i];
    for (const struct service *const *s = service_all(); *s; s++)
        if ((*s)->default_port == port)
            return client_protocol_find((*s)->name);
    return STREAM;
}

const struct client_protocol *client_protocol_stream(void)
{
    return STREAM;
}

uint8_t client_protocol_expected_byte(const struct client_protocol *p, uint8_t byte)
{
    if (p->expect == CLIENT_EXPECT_UPPER && byte >= 'a' && byte <= 'z')
        return (uint8_t)(byte - 'a' + 'A');
    return byte;
}

bool client_protocol_can_verify(const struct client_protocol *p)
{
    return p->expect != CLIENT_EXPECT_UNKNOWN;
}

const struct client_protocol *client_protocol_at(size_t i)
{
    return i < PROTOCOL_COUNT ? &protocols[i] : NULL;
}
