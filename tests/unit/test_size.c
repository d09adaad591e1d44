/* Byte sizes as users type them for --max-line and --max-queue. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/size.h"

static size_t parse_ok(const char *text)
{
    size_t bytes = 0;
    if (size_parse(text, &bytes) != 0)
        fail_msg("\"%s\" was rejected", text);
    return bytes;
}

static void test_plain_numbers_and_suffixes(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("4096"), 4096);
    assert_int_equal(parse_ok("64"), 64);
    assert_int_equal(parse_ok("64K"), 64 * 1024);
    assert_int_equal(parse_ok("64k"), 64 * 1024);
    assert_int_equal(parse_ok("1M"), 1024 * 1024);
    assert_int_equal(parse_ok("1024M"), SIZE_MAX_BYTES);
}

static void test_anything_else_is_refused_and_leaves_the_value(void **state)
{
    (void)state;
    const char *bad[] = {"",    "K",   "63",  "0",   "1025M", "1G",   "64KB",
                         "+64", " 64", "64 ", "-64", "0x40",  "6.4K", "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t bytes = 7;
        if (size_parse(bad[i], &bytes) == 0)
            fail_msg("\"%s\" was accepted as %zu", bad[i], bytes);
        assert_int_equal(bytes, 7);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_numbers_and_suffixes),
        cmocka_unit_test(test_anything_else_is_refused_and_leaves_the_value),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
