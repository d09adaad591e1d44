/* Line framing for the line-based services (upper, chat). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/line_reader.h"

#define MAX_EVENTS 16
#define EVENT_TEXT 80

/* What the reader reported, as "[line]" or "TOO_LONG", in order. */
struct events {
    size_t count;
    char text[MAX_EVENTS][EVENT_TEXT];
};

/* Feeds one read's worth of bytes and records every event until NEED_MORE. */
static void feed_bytes(struct line_reader *r, const char *bytes, size_t n, struct events *ev)
{
    const char *data = bytes;
    size_t len = n;
    for (;;) {
        const char *line = NULL;
        size_t line_len = 0;
        enum line_event e = line_reader_next(r, &data, &len, &line, &line_len);
        if (e == LINE_NEED_MORE) {
            assert_int_equal(len, 0);
            assert_ptr_equal(data, bytes + n);
            return;
        }
        assert_true(ev->count < MAX_EVENTS);
        if (e == LINE_TOO_LONG) {
            snprintf(ev->text[ev->count++], EVENT_TEXT, "TOO_LONG");
        } else {
            assert_int_equal(e, LINE_COMPLETE);
            assert_true(line_len < EVENT_TEXT - 2);
            snprintf(ev->text[ev->count++], EVENT_TEXT, "[%.*s]", (int)line_len, line);
        }
    }
}

static void feed(struct line_reader *r, const char *chunk, struct events *ev)
{
    feed_bytes(r, chunk, strlen(chunk), ev);
}

static void expect(const struct events *ev, size_t count, const char *const *want)
{
    for (size_t i = 0; i < ev->count && i < count; i++)
        assert_string_equal(ev->text[i], want[i]);
    assert_int_equal(ev->count, count);
}

#define EXPECT(ev, ...)                                                                            \
    do {                                                                                           \
        const char *const want_[] = {__VA_ARGS__};                                                 \
        expect((ev), sizeof want_ / sizeof want_[0], want_);                                       \
    } while (0)

static void test_line_in_one_read_is_handed_out_in_place(void **state)
{
    (void)state;
    struct line_reader r;
    line_reader_init(&r, 100);
    const char input[] = "hello\nrest";
    const char *data = input;
    size_t len = strlen(input);
    const char *line = NULL;
    size_t line_len = 0;
    assert_int_equal(line_reader_next(&r, &data, &len, &line, &line_len), LINE_COMPLETE);
    assert_ptr_equal(line, input);
    assert_int_equal(line_len, 5);
    assert_ptr_equal(data, input + 6);
    assert_int_equal(len, 4);
    assert_null(r.partial.data);
    line_reader_free(&r);
}

static void test_several_lines_in_one_read(void **state)
{
    (void)state;
    struct line_reader r;
    line_reader_init(&r, 100);
    struct events ev = {0};
    feed(&r, "one\ntwo\nthree\n", &ev);
    EXPECT(&ev, "[one]", "[two]", "[three]");
    line_reader_free(&r);
}

static void test_line_split_across_three_reads(void **state)
{
    (void)state;
    struct line_reader r;
    line_reader_init(&r, 100);
    struct events ev = {0};
    feed(&r, "hel", &ev);
    feed(&r, "lo wo", &ev);
    assert_int_equal(ev.count, 0);
    feed(&r, "rld\nnext\n", &ev);
    EXPECT(&ev, "[hello world]", "[next]");
    line_reader_free(&r);
}

static void test_crlf_and_lf_both_end_lines(void **state)
{
    (void)state;
    struct line_reader r;
    line_reader_init(&r, 100);
    struct events ev = {0};
    feed(&r, "dos\r\nunix\n", &ev);
    EXPECT(&ev, "[dos]", "[unix]");
    line_reader_free(&r);
}

static void test_crlf_split_between_reads(void **state)
{
    (void)state;
    struct line_reader r;
    line_reader_init(&r, 100);
    struct events ev = {0};
    feed(&r, "abc\r", &ev);
    feed(&r, "\n", &ev);
    feed(&r, "\r", &ev);
    feed(&r, "\n", &ev);
    EXPECT(&ev, "[abc]", "[]");
    line_reader_free(&r);
}

static void test_cr_not_before_lf_is_kept(void **state)
{
    (void)state;
    struct line_reader r;
    line_reader_init(&r, 100);
    struct events ev = {0};
    feed(&r, "a\rb\n\r\r\n", &ev);
    EXPECT(&ev, "[a\rb]", "[\r]");
    line_reader_free(&r);
}

/* Lets a service answer in the line ending its client uses. */
static void test_line_ending_style_is_reported(void **state)
{
    (void)state;
    struct line_reader r;
    line_reader_init(&r, 100);
    assert_false(r.last_crlf);
    const char input[] = "dos\r\nunix\nsplit\r";
    const char *data = input;
    size_t len = strlen(input);
    const char *line = NULL;
    size_t line_len = 0;
    assert_int_equal(line_reader_next(&r, &data, &len, &line, &line_len), LINE_COMPLETE);
    assert_true(r.last_crlf);
    assert_int_equal(line_reader_next(&r, &data, &len, &line, &line_len), LINE_COMPLETE);
    assert_false(r.last_crlf);
    assert_int_equal(line_reader_next(&r, &data, &len, &line, &line_len), LINE_NEED_MORE);
    data = "\n";
    len = 1;
    assert_int_equal(line_reader_next(&r, &data, &len, &line, &line_len), LINE_COMPLETE);
    assert_memory_equal(line, "split", 5);
    assert_true(r.last_crlf);
    line_reader_free(&r);
}

static void test_empty_lines_are_lines(void **state)
{
    (void)state;
    struct line_reader r;
    line_reader_init(&r, 100);
    struct events ev = {0};
    feed(&r, "\n\r\n\n", &ev);
    EXPECT(&ev, "[]", "[]", "[]");
    line_reader_free(&r);
}

static void test_line_exactly_max_line_long_is_accepted(void **state)
{
    (void)state;
    struct line_reader r;
    line_reader_init(&r, 5);
    struct events ev = {0};
    feed(&r, "12345\n", &ev);
    feed(&r, "12345\r\n", &ev);
    feed(&r, "123", &ev);
    feed(&r, "45\n", &ev);
    feed(&r, "12345", &ev);
    feed(&r, "\r", &ev);
    feed(&r, "\n", &ev);
    EXPECT(&ev, "[12345]", "[12345]", "[12345]", "[12345]");
    line_reader_free(&r);
}

static void test_overlong_line_is_reported_then_next_line_works(void **state)
{
    (void)state;
    struct line_reader r;
    line_reader_init(&r, 5);
    struct events ev = {0};
    feed(&r, "123456\nok\n", &ev);
    EXPECT(&ev, "TOO_LONG", "[ok]");
    line_reader_free(&r);
}

static void test_overlong_line_across_reads_is_reported_once(void **state)
{
    (void)state;
    struct line_reader r;
    line_reader_init(&r, 5);
    struct events ev = {0};
    feed(&r, "123", &ev);
    assert_int_equal(ev.count, 0);
    /* The sixth byte passes the limit: reported now, not at the LF. */
    feed(&r, "456", &ev);
    EXPECT(&ev, "TOO_LONG");
    feed(&r, "789", &ev);
    feed(&r, "xxxxxxxxxxxxxxxxxxxxxxxx", &ev);
    feed(&r, "0\r\nok\r\n", &ev);
    EXPECT(&ev, "TOO_LONG", "[ok]");
    /* The partial copy is bounded, and gone once the line is dropped. */
    assert_null(r.partial.data);
    line_reader_free(&r);
}

static void test_overlong_line_ending_in_cr_is_judged_at_the_next_byte(void **state)
{
    (void)state;
    struct line_reader r;
    line_reader_init(&r, 5);
    struct events ev = {0};
    /* Six bytes, but the CR may yet be half of a CRLF. */
    feed(&r, "12345\r", &ev);
    assert_int_equal(ev.count, 0);
    feed(&r, "x", &ev);
    EXPECT(&ev, "TOO_LONG");
    feed(&r, "\nfine\n", &ev);
    EXPECT(&ev, "TOO_LONG", "[fine]");
    line_reader_free(&r);
}

static void test_zero_max_line_accepts_only_empty_lines(void **state)
{
    (void)state;
    struct line_reader r;
    line_reader_init(&r, 0);
    struct events ev = {0};
    feed(&r, "\n\r\nx\n\n", &ev);
    EXPECT(&ev, "[]", "[]", "TOO_LONG", "[]");
    line_reader_free(&r);
}

static void test_nul_bytes_are_part_of_a_line(void **state)
{
    (void)state;
    struct line_reader r;
    line_reader_init(&r, 10);
    const char input[] = {'a', '\0', 'b', '\n'};
    const char *data = input;
    size_t len = sizeof input;
    const char *line = NULL;
    size_t line_len = 0;
    assert_int_equal(line_reader_next(&r, &data, &len, &line, &line_len), LINE_COMPLETE);
    assert_int_equal(line_len, 3);
    assert_memory_equal(line, "a\0b", 3);
    line_reader_free(&r);
}

static void test_finish_returns_the_unterminated_last_line(void **state)
{
    (void)state;
    struct line_reader r;
    line_reader_init(&r, 100);
    struct events ev = {0};
    feed(&r, "first\nla", &ev);
    feed(&r, "st", &ev);
    EXPECT(&ev, "[first]");
    const char *line = NULL;
    size_t line_len = 0;
    assert_true(line_reader_finish(&r, &line, &line_len));
    assert_int_equal(line_len, 4);
    assert_memory_equal(line, "last", 4);
    /* The reader is empty afterwards: the line is not handed out twice. */
    assert_false(line_reader_finish(&r, &line, &line_len));
    line_reader_free(&r);
}

static void test_finish_with_nothing_pending_returns_false(void **state)
{
    (void)state;
    struct line_reader r;
    line_reader_init(&r, 100);
    const char *line = NULL;
    size_t line_len = 0;
    assert_false(line_reader_finish(&r, &line, &line_len));
    struct events ev = {0};
    feed(&r, "done\n", &ev);
    EXPECT(&ev, "[done]");
    assert_false(line_reader_finish(&r, &line, &line_len));
    line_reader_free(&r);
}

static void test_finish_drops_a_line_already_too_long(void **state)
{
    (void)state;
    struct line_reader r;
    line_reader_init(&r, 3);
    struct events ev = {0};
    feed(&r, "abcdef", &ev);
    EXPECT(&ev, "TOO_LONG");
    const char *line = NULL;
    size_t line_len = 0;
    assert_false(line_reader_finish(&r, &line, &line_len));
    /* Finishing also ends the skipping: a new stream starts clean. */
    feed(&r, "new\n", &ev);
    EXPECT(&ev, "TOO_LONG", "[new]");
    line_reader_free(&r);
}

static void test_finish_keeps_a_final_cr(void **state)
{
    (void)state;
    struct line_reader r;
    line_reader_init(&r, 100);
    struct events ev = {0};
    feed(&r, "end\r", &ev);
    const char *line = NULL;
    size_t line_len = 0;
    assert_true(line_reader_finish(&r, &line, &line_len));
    assert_int_equal(line_len, 4);
    assert_memory_equal(line, "end\r", 4);
    line_reader_free(&r);
}

static void test_copied_line_stays_valid_until_the_next_call(void **state)
{
    (void)state;
    struct line_reader r;
    line_reader_init(&r, 100);
    char first[] = "par";
    char second[] = "tial\nmore";
    const char *data = first;
    size_t len = 3;
    const char *line = NULL;
    size_t line_len = 0;
    assert_int_equal(line_reader_next(&r, &data, &len, &line, &line_len), LINE_NEED_MORE);
    data = second;
    len = strlen(second);
    assert_int_equal(line_reader_next(&r, &data, &len, &line, &line_len), LINE_COMPLETE);
    /* The caller may reuse its read buffer at once; the line must not change. */
    memset(first, 'X', sizeof first - 1);
    memset(second, 'X', 5);
    assert_int_equal(line_len, 7);
    assert_memory_equal(line, "partial", 7);
    assert_int_equal(line_reader_next(&r, &data, &len, &line, &line_len), LINE_NEED_MORE);
    assert_int_equal(len, 0);
    line_reader_free(&r);
}

static void test_every_split_point_gives_the_same_lines(void **state)
{
    (void)state;
    const char input[] = "alpha\r\nbeta\n\ntoolongline\ngamma\r\r\n";
    const size_t n = strlen(input);
    for (size_t a = 0; a <= n; a++) {
        for (size_t b = a; b <= n; b++) {
            struct line_reader r;
            line_reader_init(&r, 6);
            struct events ev = {0};
            feed_bytes(&r, input, a, &ev);
            feed_bytes(&r, input + a, b - a, &ev);
            feed_bytes(&r, input + b, n - b, &ev);
            EXPECT(&ev, "[alpha]", "[beta]", "[]", "TOO_LONG", "[gamma\r]");
            line_reader_free(&r);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line_in_one_read_is_handed_out_in_place),
        cmocka_unit_test(test_several_lines_in_one_read),
        cmocka_unit_test(test_line_split_across_three_reads),
        cmocka_unit_test(test_crlf_and_lf_both_end_lines),
        cmocka_unit_test(test_crlf_split_between_reads),
        cmocka_unit_test(test_cr_not_before_lf_is_kept),
        cmocka_unit_test(test_line_ending_style_is_reported),
        cmocka_unit_test(test_empty_lines_are_lines),
        cmocka_unit_test(test_line_exactly_max_line_long_is_accepted),
        cmocka_unit_test(test_overlong_line_is_reported_then_next_line_works),
        cmocka_unit_test(test_overlong_line_across_reads_is_reported_once),
        cmocka_unit_test(test_overlong_line_ending_in_cr_is_judged_at_the_next_byte),
        cmocka_unit_test(test_zero_max_line_accepts_only_empty_lines),
        cmocka_unit_test(test_nul_bytes_are_part_of_a_line),
        cmocka_unit_test(test_finish_returns_the_unterminated_last_line),
        cmocka_unit_test(test_finish_with_nothing_pending_returns_false),
        cmocka_unit_test(test_finish_drops_a_line_already_too_long),
        cmocka_unit_test(test_finish_keeps_a_final_cr),
        cmocka_unit_test(test_copied_line_stays_valid_until_the_next_call),
        cmocka_unit_test(test_every_split_point_gives_the_same_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
