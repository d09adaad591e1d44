/* Bench messages: every message is a line, and its expected reply. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "loadgen/message.h"

static void assert_bytes(const uint8_t *got, size_t got_len, const char *want)
{
    if (got_len != strlen(want) || memcmp(got, want, got_len) != 0)
        fail_msg("got %zu bytes \"%.*s\", wanted \"%s\"", got_len, (int)got_len, (const char *)got,
                 want);
}

static void test_generated_message_is_a_line_of_the_given_size(void **state)
{
    (void)state;
    struct bench_message m;
    assert_int_equal(bench_message_build(&m, NULL, 128, BENCH_EXPECT_ECHO, 1), 0);
    assert_int_equal(m.request_len, 128);
    assert_int_equal(m.request[127], '\n');
    assert_null(memchr(m.request, '\n', 127));
    assert_int_equal(m.reply_len, 128);
    assert_memory_equal(m.reply, m.request, 128);
    bench_message_free(&m);

    assert_int_equal(bench_message_build(&m, NULL, 1, BENCH_EXPECT_ECHO, 1), 0);
    assert_bytes(m.request, m.request_len, "\n");
    bench_message_free(&m);
}

static void test_upper_expects_the_uppercase_line(void **state)
{
    (void)state;
    struct bench_message m;
    assert_int_equal(bench_message_build(&m, "Hello, world 42", 0, BENCH_EXPECT_UPPER, 1), 0);
    assert_bytes(m.request, m.request_len, "Hello, world 42\n");
    assert_bytes(m.reply, m.reply_len, "HELLO, WORLD 42\n");
    bench_message_free(&m);

    assert_int_equal(bench_message_build(&m, NULL, 30, BENCH_EXPECT_UPPER, 1), 0);
    assert_bytes(m.reply, m.reply_len, "ABCDEFGHIJKLMNOPQRSTUVWXYZABC\n");
    bench_message_free(&m);
}

static void test_text_keeps_its_own_line_ending(void **state)
{
    (void)state;
    struct bench_message m;
    assert_int_equal(bench_message_build(&m, "ping\r\n", 0, BENCH_EXPECT_UPPER, 1), 0);
    assert_bytes(m.request, m.request_len, "ping\r\n");
    assert_bytes(m.reply, m.reply_len, "PING\r\n");
    bench_message_free(&m);
    assert_int_equal(bench_message_build(&m, "", 0, BENCH_EXPECT_ECHO, 1), 0);
    assert_bytes(m.request, m.request_len, "\n");
    bench_message_free(&m);
}

static void test_placeholder_becomes_the_connection_number(void **state)
{
    (void)state;
    assert_true(bench_message_is_template("Hello world {n}"));
    assert_false(bench_message_is_template("Hello world {x}"));
    assert_false(bench_message_is_template(NULL));
    struct bench_message m;
    assert_int_equal(bench_message_build(&m, "Hello world {n}", 0, BENCH_EXPECT_ECHO, 17), 0);
    assert_bytes(m.request, m.request_len, "Hello world 17\n");
    bench_message_free(&m);
    assert_int_equal(bench_message_build(&m, "{n}:{n}", 0, BENCH_EXPECT_ECHO, 4294967295u), 0);
    assert_bytes(m.request, m.request_len, "4294967295:4294967295\n");
    assert_true(bench_message_length("{n}:{n}", 0) >= m.request_len);
    bench_message_free(&m);
}

static void test_expect_none_wants_no_reply(void **state)
{
    (void)state;
    struct bench_message m;
    assert_int_equal(bench_message_build(&m, NULL, 64, BENCH_EXPECT_NONE, 1), 0);
    assert_int_equal(m.request_len, 64);
    assert_int_equal(m.reply_len, 0);
    bench_message_free(&m);
}

static void test_expect_names(void **state)
{
    (void)state;
    enum bench_expect e = BENCH_EXPECT_ECHO;
    assert_true(bench_expect_parse("upper", &e));
    assert_int_equal(e, BENCH_EXPECT_UPPER);
    assert_true(bench_expect_parse("none", &e));
    assert_int_equal(e, BENCH_EXPECT_NONE);
    assert_false(bench_expect_parse("Echo", &e));
    assert_false(bench_expect_parse("", &e));
    assert_int_equal(e, BENCH_EXPECT_NONE);
    assert_string_equal(bench_expect_name(BENCH_EXPECT_ECHO), "echo");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generated_message_is_a_line_of_the_given_size),
        cmocka_unit_test(test_upper_expects_the_uppercase_line),
        cmocka_unit_test(test_text_keeps_its_own_line_ending),
        cmocka_unit_test(test_placeholder_becomes_the_connection_number),
        cmocka_unit_test(test_expect_none_wants_no_reply),
        cmocka_unit_test(test_expect_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
