#include "core/json.h"

#include <stdint.h>

#include "core/text.h"

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
        size_t n = text_utf8_sequence(s, len, &cp);
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
