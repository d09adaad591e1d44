/* core/counters: every slot's counts add up, whoever wrote them, a forked
 * child's included; slots are labelled and reused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/counters.h"

static int set_up(void **state)
{
    (void)state;
    return counters_init(3);
}

static int tear_down(void **state)
{
    (void)state;
    counters_free();
    return 0;
}

static void test_without_a_slot_counts_go_to_the_shared_one(void **state)
{
    (void)state;
    counters_add(1, COUNTER_ACCEPTED, 2);
    counters_add(1, COUNTER_ACCEPTED, 3);
    assert_int_equal(counters_sum(1, COUNTER_ACCEPTED), 5);
    assert_int_equal(counters_sum(0, COUNTER_ACCEPTED), 0);
    assert_int_equal(counters_sum(1, COUNTER_CLOSED), 0);
}

static void test_a_claimed_slot_counts_and_keeps_its_counts_after_release(void **state)
{
    (void)state;
    counters_add(2, COUNTER_BYTES_IN, 10);
    counters_claim_slot(-1, 4);
    counters_add(2, COUNTER_BYTES_IN, 100);
    counters_release_slot();
    assert_int_equal(counters_sum(2, COUNTER_BYTES_IN), 110);
    int worker = 0, loop = 0;
    assert_true(counters_slot_used(1, &worker, &loop));
    assert_int_equal(worker, -1);
    assert_int_equal(loop, 4);
    assert_int_equal(counters_slot_sum(1, COUNTER_BYTES_IN), 100);
    assert_false(counters_slot_used(2, &worker, &loop));
}

static void test_gauges_move_both_ways(void **state)
{
    (void)state;
    counters_claim_slot(-1, 0);
    counters_add(0, COUNTER_CHAT_MEMBERS, 1);
    counters_add(0, COUNTER_CHAT_MEMBERS, 1);
    counters_release_slot();
    counters_add(0, COUNTER_CHAT_MEMBERS, -1);
    assert_int_equal(counters_sum(0, COUNTER_CHAT_MEMBERS), 1);
}

static void test_a_forked_workers_counts_are_seen_by_its_parent(void **state)
{
    (void)state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        counters_claim_slot(3, 0);
        counters_add(0, COUNTER_DATAGRAMS_IN, 7);
        _exit(0); /* Dies without releasing, as a killed worker would. */
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_int_equal(counters_sum(0, COUNTER_DATAGRAMS_IN), 7);
    counters_release_process(pid);
    /* The dead worker's slot is free again, and its counts still count. */
    counters_claim_slot(4, 0);
    int worker = 0, loop = 0;
    assert_true(counters_slot_used(1, &worker, &loop));
    assert_int_equal(worker, 4);
    counters_release_slot();
    assert_int_equal(counters_sum(0, COUNTER_DATAGRAMS_IN), 7);
}

static void test_a_dead_workers_open_connections_count_as_closed(void **state)
{
    (void)state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        counters_claim_slot(0, 0);
        counters_add(1, COUNTER_ACCEPTED, 5);
        counters_add(1, COUNTER_CLOSED, 2);
        _exit(0); /* Three still open as it dies. */
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_int_equal(counters_open(1), 3);
    counters_release_process(pid);
    assert_int_equal(counters_open(1), 0);
    assert_int_equal(counters_sum(1, COUNTER_ACCEPTED), 5);
    assert_int_equal(counters_sum(1, COUNTER_CLOSED), 5);
}

static void test_a_forked_child_never_writes_its_parents_slot(void **state)
{
    (void)state;
    counters_claim_slot(-1, 0);
    counters_add(0, COUNTER_ACCEPTED, 1);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        counters_claim_slot(-1, -1);
        counters_add(0, COUNTER_ACCEPTED, 10);
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_int_equal(counters_slot_sum(1, COUNTER_ACCEPTED), 1);
    assert_int_equal(counters_sum(0, COUNTER_ACCEPTED), 11);
    counters_release_slot();
}

static void test_open_connections_are_grouped_by_worker_and_loop(void **state)
{
    (void)state;
    counters_claim_slot(1, 0);
    counters_add(0, COUNTER_ACCEPTED, 4);
    counters_add(2, COUNTER_ACCEPTED, 1);
    counters_add(0, COUNTER_CLOSED, 1);
    /* Another process with the same labels adds to the same group; one
     * that never accepted is left out. */
    for (int i = 0; i < 2; i++) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            counters_claim_slot(i == 0 ? 1 : 9, i == 0 ? 0 : 9);
            if (i == 0)
                counters_add(1, COUNTER_ACCEPTED, 2);
            _exit(0);
        }
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
    }
    struct counters_loop loops[4];
    size_t n = counters_open_by_loop(loops, 4);
    assert_int_equal(n, 1);
    assert_int_equal(loops[0].worker, 1);
    assert_int_equal(loops[0].loop, 0);
    assert_int_equal(loops[0].open, 6);
    counters_release_slot();
}

static void test_names_and_reason_totals(void **state)
{
    (void)state;
    assert_string_equal(counters_name(0), "");
    counters_set_name(0, "tcp://127.0.0.1:7007/echo");
    counters_set_name(7, "out of range");
    assert_string_equal(counters_name(0), "tcp://127.0.0.1:7007/echo");
    assert_string_equal(counters_name(7), "");
    counters_add(2, COUNTER_REFUSED_DENIED, 2);
    counters_add(2, COUNTER_REFUSED_FULL, 3);
    counters_add(2, COUNTER_CUT_GRACE, 1);
    assert_int_equal(counters_sum_reasons(2, counters_refusals), 5);
    assert_int_equal(counters_sum_reasons(2, counters_cuts), 1);
    assert_int_equal(counters_sum_reasons(2, counters_drops), 0);
}

static void test_counters_before_init_do_nothing(void **state)
{
    (void)state;
    counters_free();
    counters_add(0, COUNTER_ACCEPTED, 1);
    assert_int_equal(counters_sum(0, COUNTER_ACCEPTED), 0);
    assert_int_equal(counters_listeners(), 0);
    assert_int_equal(counters_init(3), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_without_a_slot_counts_go_to_the_shared_one, set_up,
                                        tear_down),
        cmocka_unit_test_setup_teardown(
            test_a_claimed_slot_counts_and_keeps_its_counts_after_release, set_up, tear_down),
        cmocka_unit_test_setup_teardown(test_gauges_move_both_ways, set_up, tear_down),
        cmocka_unit_test_setup_teardown(test_a_forked_workers_counts_are_seen_by_its_parent, set_up,
                                        tear_down),
        cmocka_unit_test_setup_teardown(test_a_dead_workers_open_connections_count_as_closed,
                                        set_up, tear_down),
        cmocka_unit_test_setup_teardown(test_a_forked_child_never_writes_its_parents_slot, set_up,
                                        tear_down),
        cmocka_unit_test_setup_teardown(test_open_connections_are_grouped_by_worker_and_loop,
                                        set_up, tear_down),
        cmocka_unit_test_setup_teardown(test_names_and_reason_totals, set_up, tear_down),
        cmocka_unit_test_setup_teardown(test_counters_before_init_do_nothing, set_up, tear_down),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
