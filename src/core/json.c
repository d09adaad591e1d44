#include "core/json.h"

#include <stdint.h>

/* Length of the valid UTF-8 sequence at s (2 to 4 bytes), or 0 when the
 * bytes there are not one: RFC 3629's shortest forms, no surrogates, no
 * code point past U+10FFFF. Sets *cp to the code point. */
static size_t utf8_sequence(const uint8_t *s, size_t len, uint32_t *cp)
{
    size_t n;
    uint32_t min;
    if ((s[0] & 0xE0) == 0xC0)
        n = 2, min = 0x80, *cp = s[0] & 0x1Fu;
    else if ((s[0] & 0xF0) == 0xE0)
        n = 3, min = 0x800, *cp = s[0] & 0x0Fu;
    else if ((s[0] & 0xF8) == 0xF0)
        n = 4, min = 0x10000, *cp = s[0] & 0x07u;
    else
        return 0;
    if (len < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        *cp = *cp << 6 | (s[i] & 0x3Fu);
    }
    if (*cp < min || *cp > 0x10FFFF || (*cp >= 0xD800 && *cp <= 0xDFFF))
        return 0;
    return n;
}

/* Writes \u followed by four hex digits of code (at most 0xFFFF). */
static size_t unicode_escape(char *out, uint32_t code)
{
    static const char hex[] = "0123456789abcdef";
    out[0] = '\\';
    out[1] = 'u';
    for (int i = 0; i < 4; i++)
        out[2 + i] = hex[(code >> (12 - 4 * i)) & 0xF];
    return 6;
}

/* The escaped form of the character at s into piece; returns its length,
 * and sets *used to the input bytes it stands for. */
static size_t escape_one(const uint8_t *s, size_t len, char piece[8], size_t *used)
{
    uint8_t b = s[0];
    *used = 1;
    if (b >= 0x80) {
        uint32_t cp;
        size_t n = utf8_sequence(s, len, &cp);
        if (n == 0)
            return unicode_escape(piece, 0xFFFD);
        *used = n;
        if (cp == 0x2028 || cp == 0x2029)
            return unicode_escape(piece, cp);
        for (size_t i = 0; i < n; i++)
            piece[i] = (char)s[i];
        return n;
    }
    const char *named = NULL;
    switch (b) {
    case '"':
        named = "\\\"";
        break;
    case '\\':
        named = "\\\\";
        break;
    case '\n':
        named = "\\n";
        break;
    case '\r':
        named = "\\r";
        break;
    case '\t':
        named = "\\t";
        break;
    case '\b':
        named = "\\b";
        break;
    case '\f':
        named = "\\f";
        break;
    default:
        break;
    }
    if (named) {
        piece[0] = named[0];
        piece[1] = named[1];
        return 2;
    }
    if (b < 0x20 || b == 0x7F)
        return unicode_escape(piece, b);
    piece[0] = (char)b;
    return 1;
}

size_t json_escape(const char *in, size_t len, char *out, size_t cap, size_t *consumed)
{
    const uint8_t *s = (const uint8_t *)in;
    size_t i = 0, written = 0;
    while (i < len) {
        char piece[8];
        size_t used;
        size_t n = escape_one(s + i, len - i, piece, &used);
        if (n > cap - written)
            break;
        for (size_t k = 0; k < n; k++)
            out[written + k] = piece[k];
        written += n;
        i += used;
    }
    if (consumed)
        *consumed = i;
    return written;
}
