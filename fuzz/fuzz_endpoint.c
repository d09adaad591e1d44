/*
 * endpoint_parse, the parser of every listener given to sockserv serve and
 * every URL given to sockserv client. The first byte picks the use (listen
 * or connect); the rest is the text.
 *
 * Properties: a rejection leaves *out untouched and gives a reason; an
 * accepted endpoint keeps the header's promises (terminated fields, a
 * service of [a-z0-9_-], no "*" or port 0 to connect to, a query only on
 * a listener), and writing it back as text parses to the same endpoint.
 * A listener's query is then applied (core/listener_query.h): it succeeds
 * or gives a printable one-line reason, and leaks nothing. Queries naming
 * allow-file are not applied, so no input opens a file.
 */
#include "fuzz.h"

#include "core/endpoint.h"
#include "core/listener_query.h"

static void check_service(const struct endpoint *e, enum endpoint_use use)
{
    size_t len = strnlen(e->service, sizeof e->service);
    FUZZ_CHECK(len < sizeof e->service);
    FUZZ_CHECK(strspn(e->service, "abcdefghijklmnopqrstuvwxyz0123456789_-") == len);
    if (use == ENDPOINT_LISTEN)
        FUZZ_CHECK(len > 0);
}

static void check_query(const struct endpoint *e, enum endpoint_use use)
{
    size_t len = strnlen(e->query, sizeof e->query);
    FUZZ_CHECK(len < sizeof e->query);
    if (use == ENDPOINT_CONNECT)
        FUZZ_CHECK(len == 0);
    if (len == 0 || strstr(e->query, "allow-file") != NULL)
        return;
    struct listener_policy policy = {.sources = {.prefix6 = 64}};
    char err[256];
    memset(err, 0, sizeof err);
    if (listener_query_apply(e->query, &policy, err, sizeof err) != 0) {
        FUZZ_CHECK(err[0] != '\0');
        for (const char *p = err; *p; p++)
            FUZZ_CHECK(*p >= 0x20 && *p < 0x7F);
    } else {
        FUZZ_CHECK(policy.sources.prefix6 >= 1 && policy.sources.prefix6 <= 128);
        FUZZ_CHECK(policy.sources.max_per_source <= SOURCE_MAX_PER_SOURCE_CEILING);
    }
    listener_policy_free(&policy);
}

static void check_round_trip(const struct endpoint *e, enum endpoint_use use)
{
    char text[ENDPOINT_HOST_MAX + ENDPOINT_SERVICE_MAX + ENDPOINT_QUERY_MAX + 32];
    const char *host = e->wildcard ? "*" : e->host;
    bool bracket = strchr(host, ':') != NULL;
    snprintf(text, sizeof text, "%s://%s%s%s:%u%s%s%s%s", transport_name(e->transport),
             bracket ? "[" : "", host, bracket ? "]" : "", (unsigned)e->port,
             e->service[0] ? "/" : "", e->service, e->query[0] ? "?" : "", e->query);
    struct endpoint again;
    char err[256];
    memset(&again, 0, sizeof again);
    int rc = endpoint_parse(text, use, &again, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "written back as '%s', refused: %s\n", text, err);
    FUZZ_CHECK(rc == 0);
    FUZZ_CHECK(again.transport == e->transport);
    FUZZ_CHECK(again.wildcard == e->wildcard);
    FUZZ_CHECK(again.port == e->port);
    FUZZ_CHECK(strcmp(again.host, e->host) == 0);
    FUZZ_CHECK(strcmp(again.service, e->service) == 0);
    FUZZ_CHECK(strcmp(again.query, e->query) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = {data, size};
    enum endpoint_use use = (fuzz_byte(&in) & 1) ? ENDPOINT_CONNECT : ENDPOINT_LISTEN;
    char *text = fuzz_string(in.data, in.len);

    struct endpoint out, untouched;
    memset(&out, 0xA5, sizeof out);
    memcpy(&untouched, &out, sizeof out);
    char err[256];
    memset(err, 0, sizeof err);
    if (endpoint_parse(text, use, &out, err, sizeof err) != 0) {
        FUZZ_CHECK(memcmp(&out, &untouched, sizeof out) == 0);
        FUZZ_CHECK(err[0] != '\0');
        FUZZ_CHECK(memchr(err, '\0', sizeof err) != NULL);
        /* The reason is one printable line, whatever bytes came in. */
        for (const char *p = err; *p; p++)
            FUZZ_CHECK(*p >= 0x20 && *p < 0x7F);
        free(text);
        return 0;
    }

    FUZZ_CHECK(out.transport == TRANSPORT_TCP || out.transport == TRANSPORT_UDP);
    FUZZ_CHECK(strnlen(out.host, sizeof out.host) < sizeof out.host);
    if (out.wildcard)
        FUZZ_CHECK(out.host[0] == '\0');
    else
        FUZZ_CHECK(out.host[0] != '\0');
    if (use == ENDPOINT_CONNECT) {
        FUZZ_CHECK(!out.wildcard);
        FUZZ_CHECK(out.port != 0);
    }
    check_service(&out, use);
    check_query(&out, use);
    check_round_trip(&out, use);
    free(text);
    return 0;
}
