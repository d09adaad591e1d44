/* core/source_limits: concurrent connections and new ones a second per
 * source, IPv6 grouped by prefix, a dead worker's counts forgotten, and a
 * full table refusing new sources while known ones carry on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/source_limits.h"

static struct address addr(const char *text)
{
    struct address a;
    memset(&a, 0, sizeof a);
    if (inet_pton(AF_INET, text, &a.u.in.sin_addr) == 1) {
        a.u.in.sin_family = AF_INET;
        a.length = sizeof a.u.in;
    } else {
        assert_int_equal(inet_pton(AF_INET6, text, &a.u.in6.sin6_addr), 1);
        a.u.in6.sin6_family = AF_INET6;
        a.length = sizeof a.u.in6;
    }
    return a;
}

static int teardown(void **state)
{
    (void)state;
    source_limits_free_all();
    return 0;
}

static void test_max_per_source_counts_each_source_apart(void **state)
{
    (void)state;
    struct source_settings s = {.max_per_source = 2, .prefix6 = 64};
    struct source_table *t = source_table_create(&s, 1);
    assert_non_null(t);
    struct address a = addr("127.0.0.1"), b = addr("127.0.0.2");
    assert_int_equal(source_table_admit(t, &a, 1000), SOURCE_OK);
    assert_int_equal(source_table_admit(t, &a, 1000), SOURCE_OK);
    assert_int_equal(source_table_admit(t, &a, 1000), SOURCE_TOO_MANY);
    assert_int_equal(source_table_admit(t, &b, 1000), SOURCE_OK);
    assert_int_equal(source_table_open(t, &a), 2);
    source_table_release(t, &a);
    assert_int_equal(source_table_admit(t, &a, 1000), SOURCE_OK);
    assert_int_equal(source_table_admit(t, &a, 1000), SOURCE_TOO_MANY);
}

static void test_ipv6_sources_are_grouped_by_prefix(void **state)
{
    (void)state;
    struct source_settings s = {.max_per_source = 1, .prefix6 = 64};
    struct source_table *t = source_table_create(&s, 1);
    struct address a = addr("2001:db8:0:1::1"), same = addr("2001:db8:0:1:ffff::2"),
                   other = addr("2001:db8:0:2::1");
    assert_int_equal(source_table_admit(t, &a, 1000), SOURCE_OK);
    assert_int_equal(source_table_admit(t, &same, 1000), SOURCE_TOO_MANY);
    assert_int_equal(source_table_admit(t, &other, 1000), SOURCE_OK);
    s.prefix6 = 128;
    struct source_table *exact = source_table_create(&s, 1);
    assert_int_equal(source_table_admit(exact, &a, 1000), SOURCE_OK);
    assert_int_equal(source_table_admit(exact, &same, 1000), SOURCE_OK);
}

static void test_mapped_ipv4_is_the_same_source(void **state)
{
    (void)state;
    struct source_settings s = {.max_per_source = 1, .prefix6 = 64};
    struct source_table *t = source_table_create(&s, 1);
    struct address a = addr("10.0.0.1"), mapped = addr("::ffff:10.0.0.1");
    assert_int_equal(source_table_admit(t, &a, 1000), SOURCE_OK);
    assert_int_equal(source_table_admit(t, &mapped, 1000), SOURCE_TOO_MANY);
}

static void test_connect_rate_limits_only_the_fast_source(void **state)
{
    (void)state;
    struct source_settings s = {.rate_per_second = 2, .burst = 3, .prefix6 = 64};
    struct source_table *t = source_table_create(&s, 1);
    struct address a = addr("127.0.0.1"), b = addr("127.0.0.2");
    for (int i = 0; i < 3; i++) {
        assert_int_equal(source_table_admit(t, &a, 1000), SOURCE_OK);
        source_table_release(t, &a);
    }
    assert_int_equal(source_table_admit(t, &a, 1000), SOURCE_TOO_FAST);
    assert_int_equal(source_table_admit(t, &b, 1000), SOURCE_OK);
    assert_int_equal(source_table_admit(t, &a, 1500), SOURCE_OK); /* One token in 500 ms. */
}

static void test_a_dead_workers_column_is_forgotten(void **state)
{
    (void)state;
    struct source_settings s = {.max_per_source = 2, .prefix6 = 64};
    struct source_table *t = source_table_create(&s, 2);
    struct address a = addr("127.0.0.1");
    /* Worker 1, in a process of its own, takes both slots and dies. */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        source_limits_set_column(1);
        int ok = source_table_admit(t, &a, 1000) == SOURCE_OK &&
                 source_table_admit(t, &a, 1000) == SOURCE_OK;
        _exit(ok ? 0 : 1);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(source_table_admit(t, &a, 1000), SOURCE_TOO_MANY);
    source_limits_forget_column(1);
    assert_int_equal(source_table_open(t, &a), 0);
    assert_int_equal(source_table_admit(t, &a, 1000), SOURCE_OK);
}

static void test_a_full_table_refuses_new_sources_only(void **state)
{
    (void)state;
    struct source_settings s = {.max_per_source = 1, .prefix6 = 64};
    struct source_table *t = source_table_create(&s, 1);
    struct address first = addr("10.0.0.1");
    assert_int_equal(source_table_admit(t, &first, 1000), SOURCE_OK);
    /* Every source keeps a connection open, so none can be forgotten. */
    int full = 0;
    for (uint32_t i = 0; i < 2 * SOURCE_TABLE_CAPACITY; i++) {
        struct address a = addr("11.0.0.0");
        a.u.in.sin_addr.s_addr = htonl(0x0b000000u + i);
        full += source_table_admit(t, &a, 1000) == SOURCE_TABLE_FULL;
    }
    assert_true(full >= SOURCE_TABLE_CAPACITY);
    assert_int_equal(source_table_open(t, &first), 1);
    assert_int_equal(source_table_admit(t, &first, 1000), SOURCE_TOO_MANY);
    source_table_release(t, &first);
    assert_int_equal(source_table_admit(t, &first, 1000), SOURCE_OK);
}

static void test_idle_sources_make_room(void **state)
{
    (void)state;
    struct source_settings s = {.max_per_source = 1, .prefix6 = 64};
    struct source_table *t = source_table_create(&s, 1);
    for (uint32_t i = 0; i < 4 * SOURCE_TABLE_CAPACITY; i++) {
        struct address a = addr("11.0.0.0");
        a.u.in.sin_addr.s_addr = htonl(0x0b000000u + i);
        assert_int_equal(source_table_admit(t, &a, 1000), SOURCE_OK);
        source_table_release(t, &a);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_max_per_source_counts_each_source_apart, teardown),
        cmocka_unit_test_teardown(test_ipv6_sources_are_grouped_by_prefix, teardown),
        cmocka_unit_test_teardown(test_mapped_ipv4_is_the_same_source, teardown),
        cmocka_unit_test_teardown(test_connect_rate_limits_only_the_fast_source, teardown),
        cmocka_unit_test_teardown(test_a_dead_workers_column_is_forgotten, teardown),
        cmocka_unit_test_teardown(test_a_full_table_refuses_new_sources_only, teardown),
        cmocka_unit_test_teardown(test_idle_sources_make_room, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
