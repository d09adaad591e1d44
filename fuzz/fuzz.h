/*
 * What every fuzz target shares: libFuzzer's entry point, a check that
 * aborts with a message (so a broken property is a crash libFuzzer saves),
 * and a reader that lets the input's own bytes choose its settings and how
 * the rest is cut into reads, as hiredis's fuzzers do, so that one input
 * replays exactly the same reads every time.
 */
#ifndef SOCKSERV_FUZZ_H
#define SOCKSERV_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property the target promises; a failure is a finding, saved as a crash. */
#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #cond);            \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* The input, read from the front: settings first, then the payload. */
struct fuzz_input {
    const uint8_t *data;
    size_t len;
};

/* The next byte, or 0 once the input is used up. */
static inline uint8_t fuzz_byte(struct fuzz_input *in)
{
    if (in->len == 0)
        return 0;
    uint8_t b = in->data[0];
    in->data++;
    in->len--;
    return b;
}

/* A copy of the rest of the input with a terminator, in its own
 * allocation, so AddressSanitizer sees a read one byte past the end. */
static inline char *fuzz_string(const uint8_t *data, size_t len)
{
    char *s = malloc(len + 1);
    if (s == NULL)
        abort();
    memcpy(s, data, len);
    s[len] = '\0';
    return s;
}

/*
 * How a stream is cut into reads: one settings byte picks the largest read
 * (1 byte, a few bytes, or whole kilobytes) and seeds a small generator
 * that picks each read's size below it.
 */
struct fuzz_splitter {
    uint32_t state;
    size_t largest;
};

static inline void fuzz_splitter_init(struct fuzz_splitter *s, uint8_t setting)
{
    static const size_t largest[] = {1, 2, 3, 7, 16, 64, 512, 65536};
    s->largest = largest[setting & 7];
    s->state = 0x9E3779B9u ^ setting;
}

/* The size of the next read, 1..min(left, largest); 0 when nothing is left. */
static inline size_t fuzz_splitter_next(struct fuzz_splitter *s, size_t left)
{
    if (left == 0)
        return 0;
    /* xorshift32: cheap, and the same sizes for the same input every run. */
    s->state ^= s->state << 13;
    s->state ^= s->state >> 17;
    s->state ^= s->state << 5;
    size_t n = 1 + s->state % s->largest;
    return n < left ? n : left;
}

/* Length of the valid UTF-8 character at s (1 to 4 bytes), or 0, and its
 * code point: the targets' own decoder, written apart from core/text.c so
 * that a target checking that module (or json.c, which uses it) has a
 * second opinion to disagree with. */
static inline size_t fuzz_utf8_char(const uint8_t *s, size_t len, uint32_t *cp)
{
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    size_t n;
    uint32_t min;
    if ((s[0] & 0xE0) == 0xC0)
        n = 2, min = 0x80, *cp = s[0] & 0x1F;
    else if ((s[0] & 0xF0) == 0xE0)
        n = 3, min = 0x800, *cp = s[0] & 0x0F;
    else if ((s[0] & 0xF8) == 0xF0)
        n = 4, min = 0x10000, *cp = s[0] & 0x07;
    else
        return 0;
    if (len < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        *cp = *cp << 6 | (s[i] & 0x3F);
    }
    if (*cp < min || *cp > 0x10FFFF || (*cp >= 0xD800 && *cp <= 0xDFFF))
        return 0;
    return n;
}

#endif
