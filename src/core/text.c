#include "core/text.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

static const char replacement[] = "\xEF\xBF\xBD";

size_t text_utf8_sequence(const uint8_t *s, size_t len, uint32_t *code_point)
{
    uint8_t b = s[0];
    size_t need;
    uint32_t min, cp;
    *code_point = b;
    if (b < 0x80)
        return 1;
    if (b >= 0xC2 && b <= 0xDF) {
        need = 2, min = 0x80, cp = b & 0x1F;
    } else if (b >= 0xE0 && b <= 0xEF) {
        need = 3, min = 0x800, cp = b & 0x0F;
    } else if (b >= 0xF0 && b <= 0xF4) {
        need = 4, min = 0x10000, cp = b & 0x07;
    } else {
        return 0;
    }
    if (len < need)
        return 0;
    for (size_t i = 1; i < need; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    /* Overlong forms, UTF-16 surrogates and values past U+10FFFF. */
    if (cp < min || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
        return 0;
    *code_point = cp;
    return need;
}

/* The characters text_sanitize removes (see text.h for why). */
static bool is_removed(uint32_t cp)
{
    /* C0 controls but TAB, DEL, and the C1 controls. */
    if ((cp < 0x20 && cp != '\t') || (cp >= 0x7F && cp <= 0x9F))
        return true;
    /* Every character with the Bidi_Control property (Unicode PropList.txt):
     * ALM, LRM and RLM, the embeddings and overrides U+202A..U+202E, the
     * isolates U+2066..U+2069. */
    if (cp == 0x061C || cp == 0x200E || cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) ||
        (cp >= 0x2066 && cp <= 0x2069))
        return true;
    /* LINE SEPARATOR and PARAGRAPH SEPARATOR: line breaks to some readers. */
    return cp == 0x2028 || cp == 0x2029;
}

static bool is_continuation(uint8_t b)
{
    return (b & 0xC0) == 0x80;
}

size_t text_cut(const char *text, size_t len, size_t max)
{
    const uint8_t *s = (const uint8_t *)text;
    size_t end = len < max ? len : max;
    /* Find the lead byte of the last character: at most three continuation
     * bytes back, since no character is longer than four bytes. */
    size_t lead = end;
    while (lead > 0 && end - lead < 3 && is_continuation(s[lead - 1]))
        lead--;
    if (lead == 0 || s[lead - 1] < 0xC0)
        return end;
    lead--;
    size_t need = s[lead] >= 0xF0 ? 4 : s[lead] >= 0xE0 ? 3 : 2;
    return lead + need > end ? lead : end;
}

size_t text_sanitize(const char *in, size_t len, char *out)
{
    const uint8_t *s = (const uint8_t *)in;
    size_t used = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = text_utf8_sequence(s + i, len - i, &cp);
        if (n == 0) {
            memcpy(out + used, replacement, 3);
            used += 3;
            i++;
            continue;
        }
        if (!is_removed(cp)) {
            memcpy(out + used, s + i, n);
            used += n;
        }
        i += n;
    }
    return used;
}
