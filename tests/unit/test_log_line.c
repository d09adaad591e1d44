/* core/log_line: how one log line looks, as text and as JSON, with a
 * timestamp or the journal's priority prefix, and cut when too long. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "core/log_line.h"

/* 2026-12-02T11:15:03.123Z */
#define SOME_MS 1796210103123LL

static const struct log_style TEXT = {.format = LOG_FORMAT_TEXT, .journal = false};
static const struct log_style JSON = {.format = LOG_FORMAT_JSON, .journal = false};
static const struct log_style TEXT_JOURNAL = {.format = LOG_FORMAT_TEXT, .journal = true};
static const struct log_style JSON_JOURNAL = {.format = LOG_FORMAT_JSON, .journal = true};

static char line[4096];

static const char *format(struct log_style style, enum log_level level, const char *msg,
                          const struct log_field *fields, size_t n)
{
    size_t len = log_line_format(line, sizeof(line) - 1, style, level, SOME_MS, 42, msg, fields, n);
    line[len] = '\0';
    return line;
}

static const char *time_text(int64_t ms)
{
    static char out[LOG_TIME_MAX];
    size_t n = log_time_format(ms, out);
    out[n] = '\0';
    return out;
}

static void test_time_is_rfc3339_utc_with_milliseconds(void **state)
{
    (void)state;
    assert_string_equal(time_text(0), "1970-01-01T00:00:00.000Z");
    assert_string_equal(time_text(SOME_MS), "2026-12-02T11:15:03.123Z");
    assert_string_equal(time_text(951782400999LL), "2000-02-29T00:00:00.999Z");
    assert_string_equal(time_text(4107542399000LL), "2100-02-28T23:59:59.000Z");
    assert_string_equal(time_text(-1), "1969-12-31T23:59:59.999Z");
    assert_string_equal(time_text(INT64_MAX), "9999-12-31T23:59:59.999Z");
}

static void test_text_lines_carry_a_timestamp_and_the_level(void **state)
{
    (void)state;
    assert_string_equal(format(TEXT, LOG_INFO, "client connected: 1.2.3.4:5 -> echo", NULL, 0),
                        "2026-12-02T11:15:03.123Z sockserv: client connected: 1.2.3.4:5 -> echo\n");
    assert_string_equal(format(TEXT, LOG_ERROR, "boom", NULL, 0),
                        "2026-12-02T11:15:03.123Z sockserv: error: boom\n");
    assert_string_equal(format(TEXT, LOG_WARN, "hm", NULL, 0),
                        "2026-12-02T11:15:03.123Z sockserv: warning: hm\n");
}

static void test_the_journal_gets_a_priority_and_no_timestamp(void **state)
{
    (void)state;
    assert_string_equal(format(TEXT_JOURNAL, LOG_ERROR, "x", NULL, 0), "<3>sockserv: error: x\n");
    assert_string_equal(format(TEXT_JOURNAL, LOG_WARN, "x", NULL, 0), "<4>sockserv: warning: x\n");
    assert_string_equal(format(TEXT_JOURNAL, LOG_INFO, "x", NULL, 0), "<6>sockserv: x\n");
    assert_string_equal(format(TEXT_JOURNAL, LOG_DEBUG, "x", NULL, 0), "<7>sockserv: x\n");
    assert_string_equal(format(JSON_JOURNAL, LOG_INFO, "x", NULL, 0),
                        "<6>{\"level\":\"info\",\"pid\":42,\"msg\":\"x\"}\n");
}

static void test_text_lines_leave_the_fields_to_json(void **state)
{
    (void)state;
    struct log_field f[] = {LOG_TEXT("event", "closed"), LOG_COUNT("bytes_in", 5)};
    assert_string_equal(format(TEXT, LOG_DEBUG, "client closed", f, 2),
                        "2026-12-02T11:15:03.123Z sockserv: client closed\n");
}

static void test_json_lines_carry_every_field_in_order(void **state)
{
    (void)state;
    struct log_field f[] = {
        LOG_TEXT("event", "closed"),   LOG_TEXT("peer", "[::1]:7"),
        LOG_COUNT("bytes_in", 5),      LOG_COUNT("bytes_out", UINT64_MAX),
        LOG_NUMBER("duration_ms", -3), LOG_TEXT("skipped", NULL),
    };
    assert_string_equal(format(JSON, LOG_DEBUG, "client closed", f, 6),
                        "{\"time\":\"2026-12-02T11:15:03.123Z\",\"level\":\"debug\",\"pid\":42,"
                        "\"msg\":\"client closed\",\"event\":\"closed\",\"peer\":\"[::1]:7\","
                        "\"bytes_in\":5,\"bytes_out\":18446744073709551615,"
                        "\"duration_ms\":-3}\n");
}

static void test_json_strings_are_escaped(void **state)
{
    (void)state;
    struct log_field f[] = {LOG_TEXT("reason", "bad \"nick\"\n\xff")};
    assert_string_equal(format(JSON, LOG_WARN, "tab\there", f, 1),
                        "{\"time\":\"2026-12-02T11:15:03.123Z\",\"level\":\"warning\",\"pid\":42,"
                        "\"msg\":\"tab\\there\",\"reason\":\"bad \\\"nick\\\"\\n\\ufffd\"}\n");
}

/* True when s closes every string it opens and ends its object: what a cut
 * line must still do to parse. */
static bool closes_its_strings(const char *s)
{
    bool in_string = false;
    for (; *s; s++) {
        if (in_string && *s == '\\')
            s++;
        else if (*s == '"')
            in_string = !in_string;
    }
    return !in_string;
}

static void test_a_long_line_is_cut_and_still_whole(void **state)
{
    (void)state;
    char msg[600];
    memset(msg, '"', sizeof(msg) - 1);
    msg[sizeof(msg) - 1] = '\0';
    struct log_field f[] = {LOG_TEXT("event", "closed"), LOG_COUNT("bytes_in", 123456789)};
    char small[256];
    for (size_t cap = 128; cap < sizeof(small); cap += 7) {
        size_t len = log_line_format(small, cap, JSON, LOG_INFO, SOME_MS, 42, msg, f, 2);
        assert_true(len <= cap);
        assert_memory_equal(small + len - 3, "\"}\n", 3);
        small[len] = '\0'; /* len <= cap < sizeof(small) */
        assert_true(closes_its_strings(small));
        /* A member is left out rather than a number cut short. */
        assert_null(strstr(small, "\"bytes_in\":1234567}"));
    }
    size_t len = log_line_format(small, 128, TEXT, LOG_INFO, SOME_MS, 42, msg, NULL, 0);
    assert_true(len <= 128);
    assert_int_equal(small[len - 1], '\n');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time_is_rfc3339_utc_with_milliseconds),
        cmocka_unit_test(test_text_lines_carry_a_timestamp_and_the_level),
        cmocka_unit_test(test_the_journal_gets_a_priority_and_no_timestamp),
        cmocka_unit_test(test_text_lines_leave_the_fields_to_json),
        cmocka_unit_test(test_json_lines_carry_every_field_in_order),
        cmocka_unit_test(test_json_strings_are_escaped),
        cmocka_unit_test(test_a_long_line_is_cut_and_still_whole),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
