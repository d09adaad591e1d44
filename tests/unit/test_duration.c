/* Durations as users type them on the command line, and as logs print them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "core/duration.h"

/* Parses text that must be valid and returns its milliseconds. */
static int64_t parse_ok(const char *text)
{
    char err[128] = "";
    int64_t ms = -1;
    if (duration_parse(text, &ms, err, sizeof err) != 0)
        fail_msg("\"%s\" was rejected: %s", text, err);
    return ms;
}

/* Parses text that must be rejected and checks the reason mentions want. */
static void parse_fails(const char *text, const char *want)
{
    char err[128] = "";
    int64_t ms = 12345;
    if (duration_parse(text, &ms, err, sizeof err) == 0)
        fail_msg("\"%s\" was accepted as %lld ms", text ? text : "(null)", (long long)ms);
    assert_int_equal(ms, 12345);
    if (strstr(err, want) == NULL)
        fail_msg("\"%s\": reason \"%s\" does not mention \"%s\"", text ? text : "(null)", err,
                 want);
    assert_null(strchr(err, '\n'));
}

static void test_bare_number_means_seconds(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("5"), 5000);
    assert_int_equal(parse_ok("0"), 0);
}

static void test_every_unit_is_understood(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("3000us"), 3);
    assert_int_equal(parse_ok("250ms"), 250);
    assert_int_equal(parse_ok("5s"), 5000);
    assert_int_equal(parse_ok("2m"), 120000);
    assert_int_equal(parse_ok("1h"), 3600000);
}

static void test_decimals_are_exact(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("1.5s"), 1500);
    assert_int_equal(parse_ok("1.5"), 1500);
    assert_int_equal(parse_ok("1.5m"), 90000);
    /* Binary floating point would make these 99 and 299. */
    assert_int_equal(parse_ok("0.1s"), 100);
    assert_int_equal(parse_ok("0.3s"), 300);
    assert_int_equal(parse_ok("0.25h"), 900000);
}

static void test_small_values_round_up_to_a_millisecond(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("1us"), 1);
    assert_int_equal(parse_ok("1000us"), 1);
    assert_int_equal(parse_ok("1001us"), 2);
    assert_int_equal(parse_ok("0.0001s"), 1);
    assert_int_equal(parse_ok("0.5ms"), 1);
    assert_int_equal(parse_ok("0.0000000001s"), 1);
    assert_int_equal(parse_ok("0us"), 0);
}

static void test_one_week_is_the_limit(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("168h"), DURATION_MAX_MS);
    assert_int_equal(parse_ok("604800s"), DURATION_MAX_MS);
    parse_fails("169h", "too large");
    parse_fails("604800001ms", "too large");
    parse_fails("604800000001us", "too large");
    parse_fails("168.0001h", "too large");
}

static void test_huge_numbers_do_not_overflow(void **state)
{
    (void)state;
    parse_fails("99999999999999999999999999s", "too large");
    parse_fails("9223372036854775807us", "too large");
    parse_fails("9223372036854775808", "too large");
}

static void test_empty_text_is_rejected(void **state)
{
    (void)state;
    parse_fails("", "empty");
    parse_fails(NULL, "empty");
}

static void test_negative_durations_are_rejected(void **state)
{
    (void)state;
    parse_fails("-5s", "negative");
    parse_fails("-0", "negative");
}

static void test_unknown_unit_is_named(void **state)
{
    (void)state;
    char err[128] = "";
    int64_t ms = 0;
    assert_int_equal(duration_parse("5x", &ms, err, sizeof err), -1);
    assert_string_equal(err, "unknown unit 'x' (use us, ms, s, m or h)");
    parse_fails("5sec", "unknown unit 'sec'");
    parse_fails("5S", "unknown unit 'S'");
    parse_fails("5\x01", "unknown unit");
}

static void test_junk_is_rejected(void **state)
{
    (void)state;
    parse_fails("abc", "not a duration");
    parse_fails("+5s", "not a duration");
    parse_fails("s", "not a duration");
    parse_fails(".", "not a duration");
    parse_fails(".s", "not a duration");
    parse_fails("..5s", "not a duration");
    parse_fails("-.5s", "negative");
    parse_fails("1.2.3s", "not a duration");
    parse_fails(".5.5s", "not a duration");
    parse_fails("1.s", "digits after '.'");
    parse_fails("5 s", "space");
    parse_fails(" 5s", "not a duration");
    parse_fails(" .5s", "not a duration");
    parse_fails("5s ", "space");
    parse_fails("5s\n", "space");
}

/* A leading point is the same number with a 0 before it: what people type. */
static void test_leading_point_is_a_fraction(void **state)
{
    (void)state;
    assert_int_equal(parse_ok(".5s"), 500);
    assert_int_equal(parse_ok("0.5s"), 500);
    assert_int_equal(parse_ok(".5"), 500);
    assert_int_equal(parse_ok(".25m"), 15000);
    assert_int_equal(parse_ok(".5ms"), 1);
    assert_int_equal(parse_ok("1m.5s"), 60500);
}

static void test_combined_units_add_up(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("1m30s"), 90000);
    assert_int_equal(parse_ok("1h2m3s4ms"), 3723004);
    assert_int_equal(parse_ok("1s500ms"), 1500);
    parse_fails("1m30", "missing unit");
    parse_fails("167h61m", "too large");
}

static void test_format_writes_the_short_form(void **state)
{
    (void)state;
    char buf[32];
    duration_format(0, buf, sizeof buf);
    assert_string_equal(buf, "0ms");
    duration_format(250, buf, sizeof buf);
    assert_string_equal(buf, "250ms");
    duration_format(5000, buf, sizeof buf);
    assert_string_equal(buf, "5s");
    duration_format(90000, buf, sizeof buf);
    assert_string_equal(buf, "1m30s");
    duration_format(7200000, buf, sizeof buf);
    assert_string_equal(buf, "2h");
    duration_format(1500, buf, sizeof buf);
    assert_string_equal(buf, "1s500ms");
    duration_format(DURATION_MAX_MS, buf, sizeof buf);
    assert_string_equal(buf, "168h");
}

static void test_formatted_durations_read_back(void **state)
{
    (void)state;
    const int64_t values[] = {0,     1,     999,     1000,    1001,
                              59999, 60000, 3599999, 3723004, DURATION_MAX_MS};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        char buf[32];
        duration_format(values[i], buf, sizeof buf);
        assert_int_equal(parse_ok(buf), values[i]);
    }
}

static void test_format_truncates_to_the_buffer(void **state)
{
    (void)state;
    char buf[4];
    memset(buf, 'X', sizeof buf);
    duration_format(3723004, buf, sizeof buf);
    assert_string_equal(buf, "1h2");
    duration_format(250, buf, 0); /* Must not write at all. */
    assert_string_equal(buf, "1h2");
}

static void test_reason_fits_a_small_buffer(void **state)
{
    (void)state;
    char err[8];
    int64_t ms = 0;
    assert_int_equal(duration_parse("5x", &ms, err, sizeof err), -1);
    assert_int_equal(strlen(err), sizeof err - 1);
    assert_int_equal(duration_parse("5x", &ms, NULL, 0), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bare_number_means_seconds),
        cmocka_unit_test(test_every_unit_is_understood),
        cmocka_unit_test(test_decimals_are_exact),
        cmocka_unit_test(test_small_values_round_up_to_a_millisecond),
        cmocka_unit_test(test_one_week_is_the_limit),
        cmocka_unit_test(test_huge_numbers_do_not_overflow),
        cmocka_unit_test(test_empty_text_is_rejected),
        cmocka_unit_test(test_negative_durations_are_rejected),
        cmocka_unit_test(test_unknown_unit_is_named),
        cmocka_unit_test(test_junk_is_rejected),
        cmocka_unit_test(test_leading_point_is_a_fraction),
        cmocka_unit_test(test_combined_units_add_up),
        cmocka_unit_test(test_format_writes_the_short_form),
        cmocka_unit_test(test_formatted_durations_read_back),
        cmocka_unit_test(test_format_truncates_to_the_buffer),
        cmocka_unit_test(test_reason_fits_a_small_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
