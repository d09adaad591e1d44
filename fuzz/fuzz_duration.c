/*
 * The parsers of numeric options: durations (core/duration.h: --grace,
 * --delay, --idle-timeout), whole numbers (cli/args.h: counts and ports)
 * --udp-rate (core/udp_guard.h) and byte sizes (core/size.h: --max-line,
 * --max-queue). The first byte picks the parser; the rest is the text.
 *
 * Properties: accepted values are within their documented bounds, a
 * duration written by duration_format parses back to the same value, and a
 * rejection comes with a one-line printable reason.
 */
#include "fuzz.h"

#include "cli/args.h"
#include "core/duration.h"
#include "core/size.h"
#include "core/udp_guard.h"

static void check_reason(const char *err, size_t errlen)
{
    FUZZ_CHECK(memchr(err, '\0', errlen) != NULL);
    FUZZ_CHECK(err[0] != '\0');
    for (const char *p = err; *p; p++)
        FUZZ_CHECK(*p >= 0x20 && *p < 0x7F);
}

static void fuzz_duration(const char *text)
{
    int64_t ms = -1;
    char err[128];
    memset(err, 0, sizeof err);
    if (duration_parse(text, &ms, err, sizeof err) != 0) {
        check_reason(err, sizeof err);
        return;
    }
    FUZZ_CHECK(ms >= 0 && ms <= DURATION_MAX_MS);

    char written[64];
    duration_format(ms, written, sizeof written);
    FUZZ_CHECK(memchr(written, '\0', sizeof written) != NULL);
    int64_t again = -1;
    if (duration_parse(written, &again, err, sizeof err) != 0)
        fprintf(stderr, "%lld ms written as '%s', refused: %s\n", (long long)ms, written, err);
    FUZZ_CHECK(again == ms);
}

static void fuzz_number(const char *text, uint8_t bound)
{
    /* Bounds as the options use them, and the extremes. */
    static const unsigned long long max[] = {1, 65535, 1000000, ~0ULL};
    unsigned long long min = bound & 4 ? 1 : 0;
    unsigned long long top = max[bound & 3];
    unsigned long long v = 0;
    if (cli_parse_number(text, min, top, &v) != 0)
        return;
    FUZZ_CHECK(v >= min && v <= top);
    FUZZ_CHECK(text[0] >= '0' && text[0] <= '9');
    /* A whole decimal number: nothing but digits. */
    FUZZ_CHECK(strspn(text, "0123456789") == strlen(text));
}

static void fuzz_udp_rate(const char *text)
{
    struct udp_rate rate = {12345, 67890};
    char err[128];
    memset(err, 0, sizeof err);
    if (udp_rate_parse(text, &rate, err, sizeof err) != 0) {
        check_reason(err, sizeof err);
        return;
    }
    if (rate.per_second == 0) {
        /* Only "off" turns the buckets off; a rate of 0 is refused. */
        FUZZ_CHECK(strcmp(text, "off") == 0);
        return;
    }
    /* Digits and at most one slash, nothing else. */
    FUZZ_CHECK(strspn(text, "0123456789/") == strlen(text));
    FUZZ_CHECK(rate.per_second <= 10000000);
    FUZZ_CHECK(rate.burst >= 1 && rate.burst <= 100000000);
}

static void fuzz_size(const char *text)
{
    size_t bytes = 0;
    if (size_parse(text, &bytes) != 0)
        return;
    FUZZ_CHECK(bytes >= SIZE_MIN_BYTES && bytes <= (size_t)SIZE_MAX_BYTES);
    /* Digits, then at most one K or M. */
    size_t digits = strspn(text, "0123456789");
    FUZZ_CHECK(digits > 0 && strlen(text) - digits <= 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = {data, size};
    uint8_t which = fuzz_byte(&in);
    char *text = fuzz_string(in.data, in.len);
    switch (which % 4) {
    case 0:
        fuzz_duration(text);
        break;
    case 1:
        fuzz_number(text, which >> 2);
        break;
    case 2:
        fuzz_udp_rate(text);
        break;
    default:
        fuzz_size(text);
        break;
    }
    free(text);
    return 0;
}
