/*
 * The JSON string escaper (core/json.h) and the JSON log line around it
 * (core/log_line.h). The first byte is the escaper's room; the rest is the
 * untrusted text.
 *
 * Properties: the escaped text is valid inside a JSON string (every
 * backslash starts one of JSON's escapes, no raw control, quote or
 * invalid UTF-8) and decodes back to the input itself when the input was
 * valid UTF-8; a short buffer gets a prefix of the full output, never a
 * cut escape or character, and what it covers is said; a JSON log line
 * with the text as its message and a field, at any length, ends its
 * strings and its object.
 */
#include "fuzz.h"

#include "core/json.h"
#include "core/log_line.h"

static int hex_value(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Writes cp as UTF-8; returns its length. */
static size_t put_utf8(uint32_t cp, uint8_t *out)
{
    if (cp < 0x80) {
        out[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (uint8_t)(0xC0 | cp >> 6);
        out[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    out[0] = (uint8_t)(0xE0 | cp >> 12);
    out[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
    out[2] = (uint8_t)(0x80 | (cp & 0x3F));
    return 3;
}

/* Checks that s is valid inside a JSON string and decodes it into out
 * (room for len bytes: no escape decodes to more than it is); returns the
 * decoded length. */
static size_t decode_json_string(const uint8_t *s, size_t len, uint8_t *out)
{
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        if (s[i] == '\\') {
            FUZZ_CHECK(i + 1 < len);
            uint8_t e = s[i + 1];
            const char *simple = strchr("\"\\/bfnrt", e);
            if (e != 'u') {
                FUZZ_CHECK(e != 0 && simple != NULL);
                static const char map[] = "\"\\/\b\f\n\r\t";
                out[o++] = (uint8_t)map[simple - "\"\\/bfnrt"];
                i += 2;
                continue;
            }
            FUZZ_CHECK(i + 6 <= len);
            uint32_t cp = 0;
            for (int k = 0; k < 4; k++) {
                int v = hex_value(s[i + 2 + k]);
                FUZZ_CHECK(v >= 0);
                cp = cp << 4 | (uint32_t)v;
            }
            FUZZ_CHECK(cp < 0xD800 || cp > 0xDFFF); /* No lone surrogate. */
            o += put_utf8(cp, out + o);
            i += 6;
            continue;
        }
        uint32_t cp;
        size_t n = fuzz_utf8_char(s + i, len - i, &cp);
        FUZZ_CHECK(n > 0);
        FUZZ_CHECK(cp >= 0x20 && cp != '"' && cp != 0x7F);
        FUZZ_CHECK(cp != 0x2028 && cp != 0x2029);
        memcpy(out + o, s + i, n);
        o += n;
        i += n;
    }
    return o;
}

static bool valid_utf8(const uint8_t *s, size_t len)
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

/* The log line's strings are closed and its object ended. */
static void check_log_line(const char *text)
{
    struct log_field fields[] = {LOG_TEXT("peer", text), LOG_COUNT("bytes_in", 1234567890)};
    char line[256];
    size_t len = log_line_format(line, sizeof(line), (struct log_style){.format = LOG_FORMAT_JSON},
                                 LOG_INFO, 0, 1, text, fields, 2);
    FUZZ_CHECK(len >= 3 && len <= sizeof(line));
    FUZZ_CHECK(memcmp(line + len - 2, "}\n", 2) == 0);
    FUZZ_CHECK(memchr(line, '\n', len) == line + len - 1);
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        if (in_string && line[i] == '\\')
            i++;
        else if (line[i] == '"')
            in_string = !in_string;
    }
    FUZZ_CHECK(!in_string);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = {data, size};
    size_t room = fuzz_byte(&in);
    const char *text = (const char *)in.data;
    size_t len = in.len;

    size_t full_cap = len * JSON_ESCAPE_GROWTH;
    char *full = malloc(full_cap + 1);
    uint8_t *decoded = malloc(full_cap + 1);
    if (!full || !decoded)
        abort();
    size_t consumed = 0;
    size_t n = json_escape(text, len, full, full_cap, &consumed);
    FUZZ_CHECK(consumed == len && n <= full_cap);
    size_t d = decode_json_string((const uint8_t *)full, n, decoded);
    if (valid_utf8(in.data, len))
        FUZZ_CHECK(d == len && memcmp(decoded, text, len) == 0);

    char *part = malloc(room + 1);
    if (!part)
        abort();
    size_t part_consumed = 0;
    size_t p = json_escape(text, len, part, room, &part_consumed);
    FUZZ_CHECK(p <= room && part_consumed <= len);
    FUZZ_CHECK(memcmp(part, full, p) == 0);
    /* The prefix is exactly the escape of the bytes it says it covers. */
    size_t again = json_escape(text, part_consumed, full, full_cap, NULL);
    FUZZ_CHECK(again == p);
    if (part_consumed < len)
        FUZZ_CHECK(room - p < JSON_ESCAPE_GROWTH);

    char *terminated = fuzz_string(in.data, len);
    check_log_line(terminated);
    free(terminated);
    free(part);
    free(decoded);
    free(full);
    return 0;
}
