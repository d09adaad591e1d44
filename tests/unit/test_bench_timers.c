/* The bench's timer heap: order, re-arming and clearing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>

#include "loadgen/timers.h"

static void test_items_expire_in_deadline_order(void **state)
{
    (void)state;
    struct timers t;
    assert_int_equal(timers_init(&t, 5), 0);
    const int64_t deadlines[] = {50, 10, 40, 20, 30};
    for (uint32_t i = 0; i < 5; i++)
        timers_set(&t, i, deadlines[i]);
    assert_int_equal(timers_next(&t), 10);
    assert_int_equal(timers_pop_expired(&t, 5), TIMERS_NONE);
    const uint32_t order[] = {1, 3, 4, 2, 0};
    for (int i = 0; i < 5; i++)
        assert_int_equal(timers_pop_expired(&t, 100), order[i]);
    assert_int_equal(t.len, 0);
    assert_int_equal(timers_pop_expired(&t, 100), TIMERS_NONE);
    timers_free(&t);
}

static void test_rearming_moves_and_clearing_removes(void **state)
{
    (void)state;
    struct timers t;
    assert_int_equal(timers_init(&t, 3), 0);
    timers_set(&t, 0, 10);
    timers_set(&t, 1, 20);
    timers_set(&t, 2, 30);
    timers_set(&t, 0, 40); /* Later now: 1 comes first. */
    assert_int_equal(timers_next(&t), 20);
    timers_clear(&t, 1);
    timers_clear(&t, 1); /* Twice is harmless. */
    assert_false(timers_armed(&t, 1));
    assert_true(timers_armed(&t, 0));
    assert_int_equal(timers_pop_expired(&t, 100), 2);
    assert_int_equal(timers_pop_expired(&t, 100), 0);
    assert_int_equal(t.len, 0);
    timers_free(&t);
}

/* Random arming, re-arming and clearing never breaks the order. */
static void test_heap_order_survives_random_use(void **state)
{
    (void)state;
    enum { N = 500 };
    struct timers t;
    assert_int_equal(timers_init(&t, N), 0);
    int64_t want[N]; /* Each item's deadline, or -1 while disarmed. */
    for (int i = 0; i < N; i++)
        want[i] = -1;
    srand(7);
    for (int step = 0; step < 20000; step++) {
        uint32_t item = (uint32_t)(rand() % N);
        if (rand() % 4 == 0) {
            timers_clear(&t, item);
            want[item] = -1;
        } else {
            want[item] = rand() % 100000;
            timers_set(&t, item, want[item]);
        }
    }
    int64_t last = -1;
    uint32_t popped = 0, armed = 0;
    for (int i = 0; i < N; i++)
        armed += want[i] >= 0;
    for (uint32_t item; (item = timers_pop_expired(&t, INT64_MAX)) != TIMERS_NONE; popped++) {
        assert_true(want[item] >= last);
        last = want[item];
    }
    assert_int_equal(popped, armed);
    timers_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_items_expire_in_deadline_order),
        cmocka_unit_test(test_rearming_moves_and_clearing_removes),
        cmocka_unit_test(test_heap_order_survives_random_use),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
