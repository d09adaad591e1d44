/*
 * access_list_add and access_list_check, the parser of --allow, --deny and
 * a listener's allow=/deny= and the judge of every client. The first byte
 * says deny or allow, the next 17 are a peer (a family byte and 16 address
 * bytes), the rest is the list's text.
 *
 * Properties: a rejection adds nothing and gives a printable one-line
 * reason; accepted rules keep their prefix in range with no bit set past
 * it; and the verdict for the peer is what a bit-by-bit model of "longest
 * prefix wins, deny on a tie, any allow denies the unmatched" says.
 */
#include "fuzz.h"

#include <arpa/inet.h>

#include "core/access_list.h"

static bool bit(const uint8_t *bytes, unsigned i)
{
    return (bytes[i / 8] >> (7 - i % 8)) & 1;
}

static enum access_verdict model(const struct access_list *l, const uint8_t *peer, bool v6)
{
    int best = -1;
    bool deny = false;
    for (size_t i = 0; i < l->count; i++) {
        const struct access_rule *r = &l->rules[i];
        if (r->v6 != v6)
            continue;
        bool match = true;
        for (unsigned b = 0; b < r->prefix && match; b++)
            match = bit(r->bytes, b) == bit(peer, b);
        if (match && ((int)r->prefix > best || ((int)r->prefix == best && r->deny))) {
            best = r->prefix;
            deny = r->deny;
        }
    }
    if (best < 0)
        return l->has_allow ? ACCESS_NOT_ALLOWED : ACCESS_ALLOWED;
    return deny ? ACCESS_DENIED : ACCESS_ALLOWED;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = {data, size};
    bool deny = fuzz_byte(&in) & 1;
    uint8_t family = fuzz_byte(&in);
    uint8_t bytes[16];
    for (int i = 0; i < 16; i++)
        bytes[i] = fuzz_byte(&in);
    char *text = fuzz_string(in.data, in.len);

    struct access_list l = {0};
    char err[256];
    memset(err, 0, sizeof err);
    if (access_list_add(&l, text, deny, err, sizeof err) != 0) {
        FUZZ_CHECK(l.count == 0);
        FUZZ_CHECK(err[0] != '\0');
        for (const char *p = err; *p; p++)
            FUZZ_CHECK(*p >= 0x20 && *p < 0x7F);
        access_list_free(&l);
        free(text);
        return 0;
    }
    FUZZ_CHECK(l.count > 0);
    for (size_t i = 0; i < l.count; i++) {
        const struct access_rule *r = &l.rules[i];
        unsigned total = r->v6 ? 128 : 32;
        FUZZ_CHECK(r->prefix <= total);
        FUZZ_CHECK(r->deny == deny);
        for (unsigned b = r->prefix; b < 128; b++)
            FUZZ_CHECK(!bit(r->bytes, b));
    }

    struct address peer;
    memset(&peer, 0, sizeof peer);
    uint8_t judged[16] = {0};
    bool v6 = family & 1;
    if (v6) {
        peer.u.in6.sin6_family = AF_INET6;
        /* Half the IPv6 peers are IPv4-mapped: judged as IPv4. */
        if (family & 2) {
            memset(bytes, 0, 10);
            bytes[10] = bytes[11] = 0xff;
        }
        memcpy(peer.u.in6.sin6_addr.s6_addr, bytes, 16);
        peer.length = sizeof peer.u.in6;
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(bytes, mapped, sizeof mapped) == 0) {
            memcpy(judged, bytes + 12, 4);
            v6 = false;
        } else {
            memcpy(judged, bytes, 16);
        }
    } else {
        peer.u.in.sin_family = AF_INET;
        memcpy(&peer.u.in.sin_addr, bytes, 4);
        peer.length = sizeof peer.u.in;
        memcpy(judged, bytes, 4);
    }
    FUZZ_CHECK(access_list_check(&l, &peer) == model(&l, judged, v6));
    access_list_free(&l);
    free(text);
    return 0;
}
