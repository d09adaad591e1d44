/* core/text: the UTF-8 sanitiser that stands between one user's bytes and
 * another's terminal, and the cutter that keeps a cut text valid. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/text.h"

/* Sanitizes in and returns it NUL-terminated in a static buffer. */
static const char *sanitized(const char *in, size_t len, size_t *out_len)
{
    static char out[TEXT_SANITIZED_MAX(512) + 1];
    assert_true(len <= 512);
    size_t n = text_sanitize(in, len, out);
    assert_true(n <= TEXT_SANITIZED_MAX(len));
    out[n] = '\0';
    if (out_len)
        *out_len = n;
    return out;
}

#define SANITIZED(literal) sanitized(literal, sizeof(literal) - 1, NULL)
#define FFFD "\xEF\xBF\xBD"

/* An independent check, strict as RFC 3629: shortest forms only, no
 * surrogates, nothing past U+10FFFF. */
static bool is_valid_utf8(const uint8_t *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        uint8_t b = s[i];
        size_t n;
        uint32_t cp;
        if (b < 0x80) {
            i++;
            continue;
        } else if ((b & 0xE0) == 0xC0) {
            n = 2, cp = b & 0x1F;
        } else if ((b & 0xF0) == 0xE0) {
            n = 3, cp = b & 0x0F;
        } else if ((b & 0xF8) == 0xF0) {
            n = 4, cp = b & 0x07;
        } else {
            return false;
        }
        if (i + n > len)
            return false;
        for (size_t k = 1; k < n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + k] & 0x3F);
        }
        uint32_t min = n == 2 ? 0x80 : n == 3 ? 0x800 : 0x10000;
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += n;
    }
    return true;
}

static bool has_control(const uint8_t *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if ((s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7F)
            return true;
        if (s[i] == 0xC2 && i + 1 < len && s[i + 1] >= 0x80 && s[i + 1] <= 0x9F)
            return true;
        /* U+061C, and U+200E..U+200F, U+2028..U+202E, U+2066..U+2069. */
        if (s[i] == 0xD8 && i + 1 < len && s[i + 1] == 0x9C)
            return true;
        if (s[i] == 0xE2 && i + 2 < len && s[i + 1] == 0x80 &&
            (s[i + 2] == 0x8E || s[i + 2] == 0x8F || (s[i + 2] >= 0xA8 && s[i + 2] <= 0xAE)))
            return true;
        if (s[i] == 0xE2 && i + 2 < len && s[i + 1] == 0x81 && s[i + 2] >= 0xA6 && s[i + 2] <= 0xA9)
            return true;
    }
    return false;
}

/* ---- The sanitiser ------------------------------------------------------- */

static void test_ascii_text_passes_intact(void **state)
{
    (void)state;
    assert_string_equal(SANITIZED("hello, world ~!"), "hello, world ~!");
    assert_string_equal(SANITIZED(""), "");
}

static void test_every_script_and_emoji_passes_byte_for_byte(void **state)
{
    (void)state;
    const char *texts[] = {
        "caf\xC3\xA9",                                      /* café: 2-byte */
        "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82", /* Привет */
        "\xE4\xBD\xA0\xE5\xA5\xBD",                         /* 你好: 3-byte */
        "\xF0\x9F\x98\x80 \xF0\x9F\x91\x8D",                /* emoji: 4-byte */
        "\xEF\xBB\xBF",                                     /* U+FEFF: not a control */
        "\xC2\xA0\xC2\xBF",                                 /* U+00A0, U+00BF: past C1 */
        "\xF4\x8F\xBF\xBF",                                 /* U+10FFFF, the last one */
        "\xEE\x80\x80",                                     /* U+E000, just past the surrogates */
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        assert_string_equal(sanitized(texts[i], strlen(texts[i]), NULL), texts[i]);
}

static void test_tab_is_kept(void **state)
{
    (void)state;
    assert_string_equal(SANITIZED("a\tb"), "a\tb");
}

static void test_c0_controls_and_del_are_removed(void **state)
{
    (void)state;
    assert_string_equal(SANITIZED("a\x1b[31mred\x1b[0m"), "a[31mred[0m");
    assert_string_equal(SANITIZED("bell\a\b\r\n\x7f!"), "bell!");
    char all[32];
    for (int i = 0; i < 32; i++)
        all[i] = (char)i;
    assert_string_equal(sanitized(all, sizeof all, NULL), "\t");
}

static void test_nul_bytes_are_removed(void **state)
{
    (void)state;
    size_t n;
    const char *out = sanitized("a\0b", 3, &n);
    assert_int_equal(n, 2);
    assert_memory_equal(out, "ab", 2);
}

static void test_c1_controls_are_removed(void **state)
{
    (void)state;
    /* U+009B is CSI: a one-character escape for some terminals. */
    assert_string_equal(SANITIZED("x\xC2\x9B"
                                  "31my\xC2\x80\xC2\x9F"),
                        "x31my");
}

/* Every character with the Unicode Bidi_Control property (PropList.txt):
 * ALM, LRM, RLM, the embeddings and overrides LRE RLE PDF LRO RLO, and the
 * isolates LRI RLI FSI PDI. Any of them lets one line reorder what the
 * reader sees around it. */
static const char *const bidi_controls[] = {
    "\xD8\x9C",     /* U+061C ARABIC LETTER MARK */
    "\xE2\x80\x8E", /* U+200E LEFT-TO-RIGHT MARK */
    "\xE2\x80\x8F", /* U+200F RIGHT-TO-LEFT MARK */
    "\xE2\x80\xAA", /* U+202A LEFT-TO-RIGHT EMBEDDING */
    "\xE2\x80\xAB", /* U+202B RIGHT-TO-LEFT EMBEDDING */
    "\xE2\x80\xAC", /* U+202C POP DIRECTIONAL FORMATTING */
    "\xE2\x80\xAD", /* U+202D LEFT-TO-RIGHT OVERRIDE */
    "\xE2\x80\xAE", /* U+202E RIGHT-TO-LEFT OVERRIDE */
    "\xE2\x81\xA6", /* U+2066 LEFT-TO-RIGHT ISOLATE */
    "\xE2\x81\xA7", /* U+2067 RIGHT-TO-LEFT ISOLATE */
    "\xE2\x81\xA8", /* U+2068 FIRST STRONG ISOLATE */
    "\xE2\x81\xA9", /* U+2069 POP DIRECTIONAL ISOLATE */
};

static void test_bidirectional_controls_are_removed(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bidi_controls) / sizeof(bidi_controls[0]); i++) {
        char in[32];
        int len = snprintf(in, sizeof(in), "ab%scd%s", bidi_controls[i], bidi_controls[i]);
        assert_string_equal(sanitized(in, (size_t)len, NULL), "abcd");
    }
    /* The classic reordering attack: "evil" shown reversed after RLO. */
    assert_string_equal(SANITIZED("x \xE2\x80\xAE"
                                  "live"
                                  "\xE2\x80\xAC y"),
                        "x live y");
}

static void test_line_and_paragraph_separators_are_removed(void **state)
{
    (void)state;
    assert_string_equal(SANITIZED("one\xE2\x80\xA8two\xE2\x80\xA9three"), "onetwothree");
}

static void test_neighbours_of_removed_format_characters_pass(void **state)
{
    (void)state;
    /* Same lead bytes, other characters: en dash U+2013, ZWJ U+200D (emoji
     * sequences need it), narrow no-break space U+202F, word joiner U+2060,
     * U+206A, and Arabic comma U+060C. */
    const char *kept[] = {"\xE2\x80\x93", "\xE2\x80\x8D", "\xE2\x80\xAF", "\xE2\x81\xA0",
                          "\xE2\x81\xAA", "\xD8\x8C",     "\xD8\x9D"};
    for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
        assert_string_equal(sanitized(kept[i], strlen(kept[i]), NULL), kept[i]);
}

static void test_each_invalid_byte_becomes_one_replacement(void **state)
{
    (void)state;
    /* A stray Latin-1 byte. */
    assert_string_equal(SANITIZED("caf\xE9!"), "caf" FFFD "!");
    /* Lone continuation bytes. */
    assert_string_equal(SANITIZED("\x80\xBF"), FFFD FFFD);
    /* Bytes that never appear in UTF-8. */
    assert_string_equal(SANITIZED("\xC0\xC1\xF5\xFF"), FFFD FFFD FFFD FFFD);
}

static void test_truncated_sequences_are_replaced_and_the_rest_kept(void **state)
{
    (void)state;
    /* A 3-byte lead with one continuation, then ASCII: two bytes, two
     * replacements (the continuation alone is invalid too). */
    assert_string_equal(SANITIZED("\xE4\xBD"
                                  "a"),
                        FFFD FFFD "a");
    /* Cut at the end of the input. */
    assert_string_equal(SANITIZED("ok\xF0\x9F\x98"), "ok" FFFD FFFD FFFD);
    assert_string_equal(SANITIZED("\xC3"), FFFD);
}

static void test_overlong_forms_are_replaced(void **state)
{
    (void)state;
    /* "/" as C0 AF and E0 80 AF: classic path-traversal disguises. */
    assert_string_equal(SANITIZED("\xC0\xAF"), FFFD FFFD);
    assert_string_equal(SANITIZED("\xE0\x80\xAF"), FFFD FFFD FFFD);
    assert_string_equal(SANITIZED("\xF0\x80\x80\xAF"), FFFD FFFD FFFD FFFD);
}

static void test_surrogates_and_values_past_unicode_are_replaced(void **state)
{
    (void)state;
    assert_string_equal(SANITIZED("\xED\xA0\x80"), FFFD FFFD FFFD); /* U+D800 */
    assert_string_equal(SANITIZED("\xED\xBF\xBF"), FFFD FFFD FFFD); /* U+DFFF */
    assert_string_equal(SANITIZED("\xF4\x90\x80\x80"), FFFD FFFD FFFD FFFD);
}

static void test_output_never_exceeds_three_bytes_per_input_byte(void **state)
{
    (void)state;
    char in[100];
    memset(in, 0xFF, sizeof in);
    size_t n;
    sanitized(in, sizeof in, &n);
    assert_int_equal(n, TEXT_SANITIZED_MAX(sizeof in));
}

/* Random bytes, biased toward the bytes that make UTF-8 interesting. */
static size_t random_text(unsigned *seed, uint8_t *buf, size_t max)
{
    static const uint8_t interesting[] = {0x00, 0x09, 0x0A, 0x1B, 0x7F, 0x80, 0x9B, 0xBF, 0xC0,
                                          0xC2, 0xDF, 0xE0, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF, 'a',
                                          ' ',
                                          /* Pieces of the bidi controls. */
                                          0xE2, 0xE2, 0x80, 0x81, 0xAE, 0xA8, 0xD8, 0x9C};
    size_t len = (size_t)rand_r(seed) % (max + 1);
    for (size_t i = 0; i < len; i++) {
        int r = rand_r(seed);
        buf[i] =
            r % 3 == 0 ? interesting[(size_t)(r >> 2) % sizeof interesting] : (uint8_t)(r >> 4);
    }
    return len;
}

static void test_output_is_always_valid_utf8_without_controls(void **state)
{
    (void)state;
    unsigned seed = 12345;
    for (int round = 0; round < 20000; round++) {
        uint8_t in[64];
        size_t len = random_text(&seed, in, sizeof in);
        size_t n;
        const char *out = sanitized((const char *)in, len, &n);
        assert_true(is_valid_utf8((const uint8_t *)out, n));
        assert_false(has_control((const uint8_t *)out, n));
    }
}

static void test_sanitizing_twice_changes_nothing(void **state)
{
    (void)state;
    unsigned seed = 777;
    for (int round = 0; round < 20000; round++) {
        uint8_t in[64];
        size_t len = random_text(&seed, in, sizeof in);
        char once[TEXT_SANITIZED_MAX(64)];
        size_t n = text_sanitize((const char *)in, len, once);
        size_t n2;
        const char *twice = sanitized(once, n, &n2);
        assert_int_equal(n2, n);
        assert_memory_equal(twice, once, n);
    }
}

static void test_valid_text_without_controls_is_untouched(void **state)
{
    (void)state;
    unsigned seed = 4242;
    int checked = 0;
    for (int round = 0; round < 20000; round++) {
        uint8_t in[64];
        size_t len = random_text(&seed, in, sizeof in);
        if (!is_valid_utf8(in, len) || has_control(in, len))
            continue;
        size_t n;
        const char *out = sanitized((const char *)in, len, &n);
        assert_int_equal(n, len);
        assert_memory_equal(out, in, len);
        checked++;
    }
    assert_true(checked > 100);
}

/* ---- The cutter ---------------------------------------------------------- */

static void test_cut_keeps_text_that_fits(void **state)
{
    (void)state;
    assert_int_equal(text_cut("hello", 5, 5), 5);
    assert_int_equal(text_cut("hello", 5, 10), 5);
    assert_int_equal(text_cut("caf\xC3\xA9", 5, 5), 5);
    assert_int_equal(text_cut("", 0, 3), 0);
}

static void test_cut_at_a_character_boundary_is_exact(void **state)
{
    (void)state;
    assert_int_equal(text_cut("hello", 5, 3), 3);
    /* é ends at byte 5. */
    assert_int_equal(text_cut("caf\xC3\xA9!", 6, 5), 5);
    assert_int_equal(text_cut("\xF0\x9F\x98\x80"
                              "ab",
                              6, 4),
                     4);
}

static void test_cut_never_splits_a_character(void **state)
{
    (void)state;
    /* é is bytes 3..4: a cut at 4 backs up to 3. */
    assert_int_equal(text_cut("caf\xC3\xA9", 5, 4), 3);
    const char *emoji = "a\xF0\x9F\x98\x80";
    assert_int_equal(text_cut(emoji, 5, 2), 1);
    assert_int_equal(text_cut(emoji, 5, 3), 1);
    assert_int_equal(text_cut(emoji, 5, 4), 1);
    assert_int_equal(text_cut(emoji, 5, 5), 5);
    /* A character longer than max leaves nothing. */
    assert_int_equal(text_cut("\xE4\xBD\xA0", 3, 2), 0);
    assert_int_equal(text_cut("abc", 3, 0), 0);
}

static void test_cut_of_text_still_arriving_leaves_an_incomplete_character(void **state)
{
    (void)state;
    /* max = len: the last character has not all arrived. */
    assert_int_equal(text_cut("ab\xE4\xBD", 4, 4), 2);
    assert_int_equal(text_cut("ab\xF0", 3, 3), 2);
    assert_int_equal(text_cut("ab\xF0\x9F\x98", 5, 5), 2);
    /* Complete: nothing is left behind. */
    assert_int_equal(text_cut("ab\xE4\xBD\xA0", 5, 5), 5);
}

static void test_cut_of_invalid_text_keeps_what_no_character_continues(void **state)
{
    (void)state;
    /* Stray continuation bytes belong to no character: kept. */
    assert_int_equal(text_cut("ab\x80\x80\x80\x80", 6, 6), 6);
    /* A lead byte whose continuation bytes are too many for it. */
    assert_int_equal(text_cut("a\xC3\xA9\xA9", 4, 4), 4);
}

static void test_cut_of_valid_text_is_the_longest_valid_prefix(void **state)
{
    (void)state;
    unsigned seed = 99;
    int checked = 0;
    for (int round = 0; round < 20000; round++) {
        uint8_t in[64];
        size_t len = random_text(&seed, in, sizeof in);
        if (!is_valid_utf8(in, len))
            continue;
        size_t max = (size_t)rand_r(&seed) % (len + 1);
        size_t cut = text_cut((const char *)in, len, max);
        assert_true(cut <= max);
        /* Whole characters only: the prefix and the rest are both valid. */
        assert_true(is_valid_utf8(in, cut));
        assert_true(is_valid_utf8(in + cut, len - cut));
        /* The longest: the character at the cut would not have fit. */
        if (cut < max) {
            size_t n = in[cut] >= 0xF0 ? 4 : in[cut] >= 0xE0 ? 3 : in[cut] >= 0xC0 ? 2 : 1;
            assert_true(cut + n > max);
        }
        checked++;
    }
    assert_true(checked > 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ascii_text_passes_intact),
        cmocka_unit_test(test_every_script_and_emoji_passes_byte_for_byte),
        cmocka_unit_test(test_tab_is_kept),
        cmocka_unit_test(test_c0_controls_and_del_are_removed),
        cmocka_unit_test(test_nul_bytes_are_removed),
        cmocka_unit_test(test_c1_controls_are_removed),
        cmocka_unit_test(test_bidirectional_controls_are_removed),
        cmocka_unit_test(test_line_and_paragraph_separators_are_removed),
        cmocka_unit_test(test_neighbours_of_removed_format_characters_pass),
        cmocka_unit_test(test_each_invalid_byte_becomes_one_replacement),
        cmocka_unit_test(test_truncated_sequences_are_replaced_and_the_rest_kept),
        cmocka_unit_test(test_overlong_forms_are_replaced),
        cmocka_unit_test(test_surrogates_and_values_past_unicode_are_replaced),
        cmocka_unit_test(test_output_never_exceeds_three_bytes_per_input_byte),
        cmocka_unit_test(test_output_is_always_valid_utf8_without_controls),
        cmocka_unit_test(test_sanitizing_twice_changes_nothing),
        cmocka_unit_test(test_valid_text_without_controls_is_untouched),
        cmocka_unit_test(test_cut_keeps_text_that_fits),
        cmocka_unit_test(test_cut_at_a_character_boundary_is_exact),
        cmocka_unit_test(test_cut_never_splits_a_character),
        cmocka_unit_test(test_cut_of_text_still_arriving_leaves_an_incomplete_character),
        cmocka_unit_test(test_cut_of_invalid_text_keeps_what_no_character_continues),
        cmocka_unit_test(test_cut_of_valid_text_is_the_longest_valid_prefix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
