/* core/token_bucket: a burst at once, then the rate, and never more than
 * the burst saved up. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/token_bucket.h"

/* Takes until the bucket refuses; returns how many it gave. */
static int take_all(struct token_bucket *b, uint32_t rate, uint32_t burst, int64_t now_ms)
{
    int taken = 0;
    while (token_bucket_take(b, rate, burst, now_ms) && taken < 1000000)
        taken++;
    return taken;
}

static void test_a_new_bucket_gives_its_burst_at_once(void **state)
{
    (void)state;
    struct token_bucket b = {0};
    assert_int_equal(take_all(&b, 20, 40, 1000), 40);
    assert_false(token_bucket_take(&b, 20, 40, 1000));
}

static void test_tokens_come_back_at_the_rate(void **state)
{
    (void)state;
    struct token_bucket b = {0};
    take_all(&b, 20, 40, 1000);
    /* One token every 50 ms at 20 a second. */
    assert_false(token_bucket_take(&b, 20, 40, 1049));
    assert_true(token_bucket_take(&b, 20, 40, 1050));
    assert_false(token_bucket_take(&b, 20, 40, 1050));
    assert_int_equal(take_all(&b, 20, 40, 1550), 10);
}

static void test_a_long_rest_saves_no_more_than_the_burst(void **state)
{
    (void)state;
    struct token_bucket b = {0};
    take_all(&b, 20, 40, 1000);
    assert_int_equal(take_all(&b, 20, 40, 1000 + 3600 * 1000), 40);
}

static void test_a_clock_that_stands_still_or_steps_back_gives_nothing_extra(void **state)
{
    (void)state;
    struct token_bucket b = {0};
    take_all(&b, 5, 1, 5000);
    assert_false(token_bucket_take(&b, 5, 1, 5000));
    assert_false(token_bucket_take(&b, 5, 1, 4000));
    assert_false(token_bucket_take(&b, 5, 1, 4200));
    assert_false(token_bucket_take(&b, 5, 1, 5199));
    assert_true(token_bucket_take(&b, 5, 1, 5200));
}

static void test_a_steady_sender_at_the_rate_is_never_refused(void **state)
{
    (void)state;
    struct token_bucket b = {0};
    for (int64_t t = 0; t < 10000; t += 50)
        assert_true(token_bucket_take(&b, 20, 1, t));
}

static void test_the_wait_is_the_time_to_the_next_token(void **state)
{
    (void)state;
    struct token_bucket b = {0};
    assert_int_equal(token_bucket_wait_ms(&b, 20), 0);
    take_all(&b, 20, 40, 1000);
    assert_int_equal(token_bucket_wait_ms(&b, 20), 50);
    assert_false(token_bucket_take(&b, 20, 40, 1030));
    assert_int_equal(token_bucket_wait_ms(&b, 20), 20);
    assert_true(token_bucket_take(&b, 20, 40, 1030 + 21));
    /* A slow rate: one token in 3 s, and a wait rounded up, never down. */
    struct token_bucket slow = {0};
    take_all(&slow, 3, 1, 0);
    assert_int_equal(token_bucket_wait_ms(&slow, 3), 334);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_new_bucket_gives_its_burst_at_once),
        cmocka_unit_test(test_tokens_come_back_at_the_rate),
        cmocka_unit_test(test_a_long_rest_saves_no_more_than_the_burst),
        cmocka_unit_test(test_a_clock_that_stands_still_or_steps_back_gives_nothing_extra),
        cmocka_unit_test(test_a_steady_sender_at_the_rate_is_never_refused),
        cmocka_unit_test(test_the_wait_is_the_time_to_the_next_token),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
