/*
 * The client's handling of what a server sends back (netclient/): the
 * time reply's 4 bytes made a date, the daytime line made one clean line,
 * a byte made safe for an error message, and the protocol table looked up
 * by the name and port a user gives. The first byte picks the function and
 * the second the size of the output buffer; the rest is the reply.
 *
 * Properties: output always fits and is terminated; what reaches the
 * terminal is printable ASCII (a daytime server cannot send escapes); the
 * time's era is the one nearest the caller's clock.
 */
#include "fuzz.h"

#include "core/service.h"
#include "netclient/protocol.h"
#include "netclient/reply_format.h"

/* A buffer of exactly buflen bytes, so a write past it is caught. */
static char *output_buffer(size_t buflen)
{
    char *buf = malloc(buflen);
    if (buf == NULL)
        abort();
    memset(buf, 'X', buflen);
    return buf;
}

static void check_printable_line(const char *buf, size_t buflen, bool may_end_in_lf)
{
    const char *end = memchr(buf, '\0', buflen);
    FUZZ_CHECK(end != NULL);
    for (const char *p = buf; p < end; p++) {
        if (*p == '\n' && may_end_in_lf && p + 1 == end)
            continue;
        FUZZ_CHECK(*p >= 0x20 && *p < 0x7F);
    }
}

static int64_t read_int64(const uint8_t *data, size_t len)
{
    uint64_t v = 0;
    for (size_t i = 0; i < 8 && i < len; i++)
        v = v << 8 | data[i];
    return (int64_t)v;
}

static void fuzz_time(const uint8_t *reply, size_t len, size_t buflen)
{
    /* The clock: the 8 bytes after the reply when present, kept within
     * a few billion years of now so the era arithmetic cannot overflow. */
    int64_t now = len > 4 ? read_int64(reply + 4, len - 4) % (1LL << 52) : 1796000000;
    char *buf = output_buffer(buflen);
    int rc = client_format_time(reply, len > 4 && (len & 1) ? 4 : len, now, buf, buflen);
    if ((len > 4 && (len & 1)) || len == 4) {
        uint32_t seconds = (uint32_t)reply[0] << 24 | (uint32_t)reply[1] << 16 |
                           (uint32_t)reply[2] << 8 | (uint32_t)reply[3];
        int64_t unix_time = client_time_to_unix(seconds, now);
        int64_t distance = unix_time > now ? unix_time - now : now - unix_time;
        FUZZ_CHECK(distance <= (1LL << 31));
        FUZZ_CHECK(((unix_time + CLIENT_SECONDS_1900_TO_1970) & 0xFFFFFFFFLL) == seconds);
    } else {
        FUZZ_CHECK(rc == -1);
    }
    check_printable_line(buf, buflen, true);
    free(buf);
}

static void fuzz_daytime(const uint8_t *reply, size_t len, size_t buflen)
{
    char *buf = output_buffer(buflen);
    client_format_daytime(reply, len, buf, buflen);
    check_printable_line(buf, buflen, true);
    size_t out = strlen(buf);
    if (buflen >= 2)
        FUZZ_CHECK(out >= 1 && buf[out - 1] == '\n');
    free(buf);
}

static void fuzz_byte_and_protocol(const uint8_t *data, size_t len, size_t buflen)
{
    char *buf = output_buffer(buflen);
    client_format_byte(len > 0 ? data[0] : 0, buf, buflen);
    check_printable_line(buf, buflen, false);
    free(buf);

    char *name = fuzz_string(data, len);
    const struct client_protocol *p = client_protocol_find(name);
    if (p != NULL && strcmp(p->name, "stream") != 0)
        FUZZ_CHECK(strcmp(p->name, name) == 0);
    free(name);

    /* Port 0 is left out: no client can dial it (endpoint_parse refuses
     * it), and the table's services without an RFC port have 0 there. */
    uint16_t port = len >= 2 ? (uint16_t)(data[0] << 8 | data[1]) : 7;
    if (port != 0) {
        const struct client_protocol *q = client_protocol_for_port(port);
        FUZZ_CHECK(q != NULL);
        /* The RFC port's service, a service served at that port by
         * default (7013 is daytime), or the plain stream. */
        bool by_default = false;
        for (const struct service *const *svc = service_all(); *svc; svc++)
            by_default =
                by_default || ((*svc)->default_port == port && strcmp((*svc)->name, q->name) == 0);
        FUZZ_CHECK(q->rfc_port == port || by_default || q == client_protocol_stream());
        for (unsigned b = 0; b < 256; b++) {
            uint8_t want = client_protocol_expected_byte(q, (uint8_t)b);
            if (q->expect == CLIENT_EXPECT_UPPER && b >= 'a' && b <= 'z')
                FUZZ_CHECK(want == b - 'a' + 'A');
            else
                FUZZ_CHECK(want == b);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = {data, size};
    uint8_t which = fuzz_byte(&in);
    size_t buflen = 1 + fuzz_byte(&in) % 160;
    switch (which % 3) {
    case 0:
        fuzz_time(in.data, in.len, buflen);
        break;
    case 1:
        fuzz_daytime(in.data, in.len, buflen);
        break;
    default:
        fuzz_byte_and_protocol(in.data, in.len, buflen);
        break;
    }
    return 0;
}
