/* core/json: the escaper that writes untrusted bytes into the log's JSON
 * strings: quotes and backslashes, controls, invalid UTF-8, bounded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "core/json.h"

/* Escapes in (len bytes) with room to spare; NUL-terminated. */
static const char *escaped(const char *in, size_t len)
{
    static char out[1024];
    size_t consumed = 0;
    size_t n = json_escape(in, len, out, sizeof(out) - 1, &consumed);
    assert_int_equal(consumed, len);
    out[n] = '\0';
    return out;
}

#define ESCAPED(literal) escaped(literal, sizeof(literal) - 1)

static void test_plain_text_passes_unchanged(void **state)
{
    (void)state;
    assert_string_equal(ESCAPED("client connected: 127.0.0.1:5 -> echo"),
                        "client connected: 127.0.0.1:5 -> echo");
    assert_string_equal(ESCAPED(""), "");
}

static void test_quote_and_backslash_are_escaped(void **state)
{
    (void)state;
    assert_string_equal(ESCAPED("say \"hi\" \\o/"), "say \\\"hi\\\" \\\\o/");
}

static void test_controls_are_escaped(void **state)
{
    (void)state;
    assert_string_equal(ESCAPED("a\nb\rc\td\be\ff"), "a\\nb\\rc\\td\\be\\ff");
    assert_string_equal(ESCAPED("\x1b[31m"), "\\u001b[31m");
    assert_string_equal(ESCAPED("\x7f"), "\\u007f");
    assert_string_equal(escaped("a\0b", 3), "a\\u0000b");
}

static void test_valid_utf8_passes_byte_for_byte(void **state)
{
    (void)state;
    assert_string_equal(ESCAPED("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
                        "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
}

static void test_invalid_utf8_becomes_replacement_escapes(void **state)
{
    (void)state;
    /* A stray Latin-1 byte, a truncated sequence, an overlong '/', a
     * surrogate and a code point past U+10FFFF: one \ufffd per byte. */
    assert_string_equal(ESCAPED("\xe9t\xe9"), "\\ufffdt\\ufffd");
    assert_string_equal(ESCAPED("\xe2\x82"), "\\ufffd\\ufffd");
    assert_string_equal(ESCAPED("\xc0\xaf"), "\\ufffd\\ufffd");
    assert_string_equal(ESCAPED("\xed\xa0\x80"), "\\ufffd\\ufffd\\ufffd");
    assert_string_equal(ESCAPED("\xf4\x90\x80\x80"), "\\ufffd\\ufffd\\ufffd\\ufffd");
}

static void test_line_separators_are_escaped(void **state)
{
    (void)state;
    assert_string_equal(ESCAPED("a\xe2\x80\xa8"
                                "b\xe2\x80\xa9"),
                        "a\\u2028b\\u2029");
}

static void test_a_short_buffer_never_cuts_an_escape_or_a_character(void **state)
{
    (void)state;
    char out[8];
    size_t consumed;
    /* "ab" fits, the 6-byte escape of \x01 does not: stop before it. */
    size_t n = json_escape("ab\x01"
                           "cd",
                           5, out, 7, &consumed);
    assert_int_equal(n, 2);
    assert_int_equal(consumed, 2);
    /* A 4-byte character with 3 bytes of room is left out whole. */
    n = json_escape("\xf0\x9f\x98\x80", 4, out, 3, &consumed);
    assert_int_equal(n, 0);
    assert_int_equal(consumed, 0);
    n = json_escape("x\"", 2, out, 2, &consumed);
    assert_int_equal(n, 1);
    assert_memory_equal(out, "x", 1);
}

static void test_growth_is_bounded(void **state)
{
    (void)state;
    char in[64], out[64 * JSON_ESCAPE_GROWTH];
    for (size_t i = 0; i < sizeof(in); i++)
        in[i] = (char)(i % 2 ? 0x01 : 0xff);
    size_t consumed;
    size_t n = json_escape(in, sizeof(in), out, sizeof(out), &consumed);
    assert_int_equal(consumed, sizeof(in));
    assert_int_equal(n, sizeof(in) * JSON_ESCAPE_GROWTH);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_text_passes_unchanged),
        cmocka_unit_test(test_quote_and_backslash_are_escaped),
        cmocka_unit_test(test_controls_are_escaped),
        cmocka_unit_test(test_valid_utf8_passes_byte_for_byte),
        cmocka_unit_test(test_invalid_utf8_becomes_replacement_escapes),
        cmocka_unit_test(test_line_separators_are_escaped),
        cmocka_unit_test(test_a_short_buffer_never_cuts_an_escape_or_a_character),
        cmocka_unit_test(test_growth_is_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
