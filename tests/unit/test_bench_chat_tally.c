/* The chat tally of `sockserv bench --chat-receive`: lines cut from each
 * member's stream however it was split, and checked per phase and sender. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "loadgen/chat_tally.h"

#define SENT_NS INT64_C(1000000)

static bool take(struct chat_tally *t, uint32_t receiver, const char *text, int64_t now)
{
    return chat_tally_take(t, receiver, (const uint8_t *)text, strlen(text), now);
}

/* A line as the chat server delivers it. */
static const char *line(unsigned phase, unsigned sender, unsigned seq)
{
    static char buf[128];
    snprintf(buf, sizeof(buf), "guest7: M %u %u %u %lld xxxx\r\n", phase, sender, seq,
             (long long)SENT_NS);
    return buf;
}

static void test_the_welcome_makes_a_member_once(void **state)
{
    (void)state;
    struct chat_tally *t = chat_tally_create(2, NULL);
    assert_non_null(t);
    assert_true(take(t, 0, "*** welcome to sockserv chat, guest1; you are in lobby\r\n", 0));
    assert_false(take(t, 0, "*** welcome back?\r\n", 0));
    assert_false(take(t, 1, "*** guest2 joined\r\n", 0));
    assert_int_equal(t->welcomed, 1);
    chat_tally_free(t);
}

static void test_a_line_split_across_reads_counts_once_with_its_latency(void **state)
{
    (void)state;
    uint64_t published = 0;
    struct chat_tally *t = chat_tally_create(1, &published);
    assert_non_null(t);
    const char *text = line(0, 1, 0);
    for (size_t i = 0; text[i]; i++)
        chat_tally_take(t, 0, (const uint8_t *)&text[i], 1, SENT_NS + 5000);
    assert_int_equal(t->phases[0].deliveries, 1);
    assert_int_equal(t->phases[0].senders[1].lines_seen, 1);
    assert_int_equal(histogram_percentile(&t->phases[0].latency, 100), 5000);
    assert_int_equal(published, 1);
    chat_tally_free(t);
}

static void test_a_skipped_line_is_a_gap_and_a_repeated_one_a_duplicate(void **state)
{
    (void)state;
    struct chat_tally *t = chat_tally_create(1, NULL);
    assert_non_null(t);
    take(t, 0, line(3, 0, 0), SENT_NS);
    take(t, 0, line(3, 0, 3), SENT_NS); /* 1 and 2 skipped */
    take(t, 0, line(3, 0, 2), SENT_NS); /* late */
    assert_int_equal(t->phases[3].deliveries, 3);
    assert_int_equal(t->phases[3].gaps, 2);
    assert_int_equal(t->phases[3].duplicates, 1);
    assert_int_equal(t->phases[3].senders[0].lines_seen, 4);
    assert_int_equal(t->phases[3].senders[0].next_due_sum, 4);
    assert_non_null(strstr(t->first_anomaly, "seq 3 skipped ahead (next due 1)"));
    chat_tally_free(t);
}

static void test_senders_and_phases_are_checked_apart(void **state)
{
    (void)state;
    struct chat_tally *t = chat_tally_create(2, NULL);
    assert_non_null(t);
    char both[256];
    snprintf(both, sizeof(both), "%s", line(0, 0, 0));
    strcat(both, line(0, 1, 0));
    take(t, 0, both, SENT_NS);
    take(t, 0, line(1, 0, 0), SENT_NS);
    take(t, 1, line(0, 0, 0), SENT_NS);
    assert_int_equal(t->phases[0].gaps + t->phases[0].duplicates, 0);
    assert_int_equal(t->phases[0].deliveries, 3);
    assert_int_equal(t->phases[1].deliveries, 1);
    /* Receiver 1 lacks sender 1's line of phase 0. */
    assert_int_equal(chat_tally_receivers_complete(t, 0), 1);
    assert_int_equal(chat_tally_receivers_complete(t, 1), 1);
    chat_tally_free(t);
}

static void test_spans_give_each_line_its_first_and_last_receiver(void **state)
{
    (void)state;
    struct chat_tally *t = chat_tally_create(3, NULL);
    assert_non_null(t);
    take(t, 0, line(0, 0, 0), SENT_NS + 1000);
    take(t, 1, line(0, 0, 0), SENT_NS + 3000);
    take(t, 2, line(0, 0, 0), SENT_NS + 2000);
    struct histogram first, last;
    chat_tally_spans(t, 0, &first, &last);
    assert_int_equal(first.total, 1);
    assert_int_equal(histogram_percentile(&first, 100), 1000);
    assert_int_equal(histogram_percentile(&last, 100), 3000);
    chat_tally_free(t);
}

static void test_odd_lines_are_counted_not_checked(void **state)
{
    (void)state;
    struct chat_tally *t = chat_tally_create(1, NULL);
    assert_non_null(t);
    take(t, 0, "guest1: M 0 99 0 5 x\r\n", SENT_NS); /* sender out of range */
    take(t, 0, "guest1: M zero\r\n", SENT_NS);
    take(t, 0, "guest1: hello\r\n", SENT_NS);
    take(t, 0, "*** guest9 left (too slow: output queue full)\r\n", SENT_NS);
    assert_int_equal(t->unchecked_lines, 2);
    assert_int_equal(t->too_slow_notices, 1);
    assert_int_equal(t->delivered, 0);
    chat_tally_free(t);
}

static void test_a_long_line_keeps_its_head_and_skips_its_tail(void **state)
{
    (void)state;
    struct chat_tally *t = chat_tally_create(1, NULL);
    assert_non_null(t);
    take(t, 0, "guest1: M 0 0 0 1000000 ", SENT_NS);
    char tail[1000];
    memset(tail, 'x', sizeof(tail) - 1);
    tail[sizeof(tail) - 1] = '\0';
    take(t, 0, tail, SENT_NS);
    take(t, 0, "M 0 0 1 1 fake\r\n", SENT_NS); /* the same line's tail */
    take(t, 0, line(0, 0, 1), SENT_NS);
    assert_int_equal(t->phases[0].deliveries, 2);
    assert_int_equal(t->phases[0].gaps + t->phases[0].duplicates, 0);
    chat_tally_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_welcome_makes_a_member_once),
        cmocka_unit_test(test_a_line_split_across_reads_counts_once_with_its_latency),
        cmocka_unit_test(test_a_skipped_line_is_a_gap_and_a_repeated_one_a_duplicate),
        cmocka_unit_test(test_senders_and_phases_are_checked_apart),
        cmocka_unit_test(test_spans_give_each_line_its_first_and_last_receiver),
        cmocka_unit_test(test_odd_lines_are_counted_not_checked),
        cmocka_unit_test(test_a_long_line_keeps_its_head_and_skips_its_tail),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
