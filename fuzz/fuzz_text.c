/*
 * The text sanitiser (core/text.h), which stands between one chat user and
 * every other user's terminal, and text_cut, which shortens such text. The
 * first byte is the cut's limit; the rest is the text.
 *
 * Properties: the output is valid UTF-8 with no control character (C0 but
 * TAB, DEL, C1), no bidirectional control and no line or paragraph
 * separator (U+2028, U+2029); sanitising it again changes nothing, text
 * that is already valid and printable passes byte for byte, and the output
 * fits TEXT_SANITIZED_MAX. A cut of valid text never ends inside a
 * character.
 */
#include "fuzz.h"

#include "core/text.h"

static bool is_forbidden(uint32_t cp)
{
    return (cp < 0x20 && cp != '\t') || (cp >= 0x7F && cp <= 0x9F) || cp == 0x061C ||
           cp == 0x200E || cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) ||
           (cp >= 0x2066 && cp <= 0x2069) || cp == 0x2028 || cp == 0x2029;
}

/* True when s is valid UTF-8 with nothing forbidden in it. */
static bool is_clean(const uint8_t *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = fuzz_utf8_char(s + i, len - i, &cp);
        if (n == 0 || is_forbidden(cp))
            return false;
        i += n;
    }
    return true;
}

static bool is_valid(const uint8_t *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = fuzz_utf8_char(s + i, len - i, &cp);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

static size_t sanitize(const uint8_t *in, size_t len, char **out)
{
    /* Exactly the room the header promises is enough, so ASan sees more. */
    *out = malloc(TEXT_SANITIZED_MAX(len) + 1);
    if (*out == NULL)
        abort();
    size_t n = text_sanitize((const char *)in, len, *out);
    FUZZ_CHECK(n <= TEXT_SANITIZED_MAX(len));
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = {data, size};
    size_t max = fuzz_byte(&in);
    char *text = fuzz_string(in.data, in.len);
    const uint8_t *s = (const uint8_t *)text;

    char *once;
    size_t once_len = sanitize(s, in.len, &once);
    FUZZ_CHECK(is_clean((const uint8_t *)once, once_len));
    if (is_clean(s, in.len))
        FUZZ_CHECK(once_len == in.len && memcmp(once, s, in.len) == 0);

    char *twice;
    size_t twice_len = sanitize((const uint8_t *)once, once_len, &twice);
    FUZZ_CHECK(twice_len == once_len && memcmp(once, twice, once_len) == 0);

    size_t cut = text_cut(text, in.len, max);
    FUZZ_CHECK(cut <= in.len && cut <= max);
    if (is_valid(s, in.len)) {
        /* Whole valid text that fits is kept whole; invalid text may lose
         * a trailing byte that reads as the start of a longer sequence. */
        if (in.len <= max)
            FUZZ_CHECK(cut == in.len);
        FUZZ_CHECK(is_valid(s, cut));
        /* It keeps as much as fits: no more than one character is lost. */
        FUZZ_CHECK(in.len <= max || cut + 4 > max);
    }
    size_t clean_cut = text_cut(once, once_len, max);
    FUZZ_CHECK(is_clean((const uint8_t *)once, clean_cut));

    free(twice);
    free(once);
    free(text);
    return 0;
}
