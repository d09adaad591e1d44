/* How the client shows time and daytime replies and bytes in messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "netclient/reply_format.h"

/* 2026-11-21 04:53:59 UTC, in both epochs. */
#define NOV_2026_UNIX 1795236839LL
#define NOV_2026_1900 (NOV_2026_UNIX + CLIENT_SECONDS_1900_TO_1970)

static void wire(uint32_t seconds, uint8_t out[4])
{
    out[0] = (uint8_t)(seconds >> 24);
    out[1] = (uint8_t)(seconds >> 16);
    out[2] = (uint8_t)(seconds >> 8);
    out[3] = (uint8_t)seconds;
}

static void test_time_reply_prints_date_and_count(void **state)
{
    (void)state;
    uint8_t reply[4];
    wire((uint32_t)NOV_2026_1900, reply);
    char line[128];
    assert_int_equal(client_format_time(reply, 4, NOV_2026_UNIX, line, sizeof line), 0);
    assert_string_equal(line, "2026-11-21 04:53:59 UTC (4004225639 seconds since 1900)\n");
}

static void test_time_reply_of_the_epoch(void **state)
{
    (void)state;
    uint8_t reply[4];
    wire((uint32_t)CLIENT_SECONDS_1900_TO_1970, reply);
    char line[128];
    assert_int_equal(client_format_time(reply, 4, 0, line, sizeof line), 0);
    assert_string_equal(line, "1970-01-01 00:00:00 UTC (2208988800 seconds since 1900)\n");
}

static void test_time_count_wraps_into_the_nearest_era(void **state)
{
    (void)state;
    /* 2036-02-07 06:28:16 UTC is 2^32 seconds after 1900: the count is 0
     * again, and a clock in 2036 or later reads it as the second era. */
    int64_t wrap_unix = (1LL << 32) - CLIENT_SECONDS_1900_TO_1970;
    assert_int_equal(client_time_to_unix(0, wrap_unix), wrap_unix);
    assert_int_equal(client_time_to_unix(5, wrap_unix + 3), wrap_unix + 5);
    /* A count just before the wrap, read just after it, stays in era 0. */
    assert_int_equal(client_time_to_unix(UINT32_MAX, wrap_unix + 10), wrap_unix - 1);
    /* Today's count, read today, is today. */
    assert_int_equal(client_time_to_unix((uint32_t)NOV_2026_1900, NOV_2026_UNIX + 7),
                     NOV_2026_UNIX);

    char line[128];
    uint8_t reply[4] = {0, 0, 0, 1};
    assert_int_equal(client_format_time(reply, 4, wrap_unix, line, sizeof line), 0);
    assert_string_equal(line, "2036-02-07 06:28:17 UTC (1 second since 1900)\n");
}

static void test_time_reply_of_the_wrong_size_is_refused(void **state)
{
    (void)state;
    uint8_t reply[5] = {1, 2, 3, 4, 5};
    char why[128];
    assert_int_equal(client_format_time(reply, 5, 0, why, sizeof why), -1);
    assert_string_equal(why, "time reply is 5 bytes; RFC 868 sends 4");
    assert_int_equal(client_format_time(reply, 1, 0, why, sizeof why), -1);
    assert_string_equal(why, "time reply is 1 byte; RFC 868 sends 4");
    assert_int_equal(client_format_time(reply, 0, 0, why, sizeof why), -1);
    assert_null(strchr(why, '\n'));
}

static void daytime(const char *reply, const char *want)
{
    char line[128];
    client_format_daytime((const uint8_t *)reply, strlen(reply), line, sizeof line);
    assert_string_equal(line, want);
}

static void test_daytime_loses_its_line_ending(void **state)
{
    (void)state;
    daytime("Sat Nov 21 04:53:59 2026\r\n", "Sat Nov 21 04:53:59 2026\n");
    daytime("Sat Nov 21 04:53:59 2026\n", "Sat Nov 21 04:53:59 2026\n");
    daytime("Sat Nov 21 04:53:59 2026", "Sat Nov 21 04:53:59 2026\n");
    daytime("Saturday  \t\r\n\r\n", "Saturday\n");
    daytime("", "\n");
}

static void test_daytime_escapes_control_bytes(void **state)
{
    (void)state;
    daytime("a\x1b[2Jb\r\n", "a\\x1b[2Jb\n");
    daytime("one\r\ntwo\r\n", "one\\x0d\\x0atwo\n");
    char line[32];
    const uint8_t high[] = {'x', 0xff, 'y'};
    client_format_daytime(high, sizeof high, line, sizeof line);
    assert_string_equal(line, "x\\xffy\n");
}

static void test_daytime_is_cut_to_fit(void **state)
{
    (void)state;
    char line[8];
    client_format_daytime((const uint8_t *)"abcdefghij", 10, line, sizeof line);
    assert_string_equal(line, "abcdef\n");
    /* An escape is never cut in half. */
    client_format_daytime((const uint8_t *)"abcd\x01", 5, line, sizeof line);
    assert_string_equal(line, "abcd\n");
    char tiny[1];
    client_format_daytime((const uint8_t *)"abc", 3, tiny, sizeof tiny);
    assert_string_equal(tiny, "");
}

static void test_bytes_for_messages(void **state)
{
    (void)state;
    char text[8];
    client_format_byte('a', text, sizeof text);
    assert_string_equal(text, "'a'");
    client_format_byte('\n', text, sizeof text);
    assert_string_equal(text, "0x0a");
    client_format_byte('\'', text, sizeof text);
    assert_string_equal(text, "0x27");
    client_format_byte(0xff, text, sizeof text);
    assert_string_equal(text, "0xff");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time_reply_prints_date_and_count),
        cmocka_unit_test(test_time_reply_of_the_epoch),
        cmocka_unit_test(test_time_count_wraps_into_the_nearest_era),
        cmocka_unit_test(test_time_reply_of_the_wrong_size_is_refused),
        cmocka_unit_test(test_daytime_loses_its_line_ending),
        cmocka_unit_test(test_daytime_escapes_control_bytes),
        cmocka_unit_test(test_daytime_is_cut_to_fit),
        cmocka_unit_test(test_bytes_for_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
