/* The list of connections the single-threaded models look at again. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>

#include "core/conn_model.h"
#include "models/changed_list.h"

#define CONNS 200

static struct conn *conns(void)
{
    struct conn *c = calloc(CONNS, sizeof(*c));
    assert_non_null(c);
    return c;
}

static void test_each_connection_is_listed_once(void **state)
{
    (void)state;
    struct conn *c = conns();
    struct changed_list l = {0};
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < CONNS; i++)
            changed_list_add(&l, &c[i]);
    assert_int_equal(l.count, CONNS);
    int seen[CONNS] = {0};
    struct conn *popped;
    while ((popped = changed_list_pop(&l)) != NULL) {
        seen[popped - c]++;
        assert_false(popped->on_changed_list);
    }
    for (int i = 0; i < CONNS; i++)
        assert_int_equal(seen[i], 1);
    changed_list_free(&l);
    free(c);
}

static void test_a_popped_connection_can_be_listed_again(void **state)
{
    (void)state;
    struct conn *c = conns();
    struct changed_list l = {0};
    changed_list_add(&l, &c[0]);
    assert_ptr_equal(changed_list_pop(&l), &c[0]);
    assert_null(changed_list_pop(&l));
    changed_list_add(&l, &c[0]);
    assert_ptr_equal(changed_list_pop(&l), &c[0]);
    changed_list_free(&l);
    free(c);
}

static void test_a_forgotten_connection_is_never_popped(void **state)
{
    (void)state;
    struct conn *c = conns();
    struct changed_list l = {0};
    for (int i = 0; i < 5; i++)
        changed_list_add(&l, &c[i]);
    changed_list_forget(&l, &c[2]);
    changed_list_forget(&l, &c[2]);   /* Twice: no effect the second time. */
    changed_list_forget(&l, &c[100]); /* Never listed. */
    assert_false(c[2].on_changed_list);
    int popped = 0;
    struct conn *p;
    while ((p = changed_list_pop(&l)) != NULL) {
        assert_ptr_not_equal(p, &c[2]);
        popped++;
    }
    assert_int_equal(popped, 4);
    changed_list_free(&l);
    free(c);
}

static void test_the_models_own_bits_are_kept(void **state)
{
    (void)state;
    struct conn *c = conns();
    struct changed_list l = {0};
    c[0].watched_events = 0x3;
    c[0].kernel_requests = 0x5;
    changed_list_add(&l, &c[0]);
    assert_true(c[0].on_changed_list);
    assert_int_equal(c[0].watched_events, 0x3);
    assert_int_equal(c[0].kernel_requests, 0x5);
    changed_list_pop(&l);
    assert_false(c[0].on_changed_list);
    assert_int_equal(c[0].watched_events, 0x3);
    assert_int_equal(c[0].kernel_requests, 0x5);
    changed_list_free(&l);
    free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_connection_is_listed_once),
        cmocka_unit_test(test_a_popped_connection_can_be_listed_again),
        cmocka_unit_test(test_a_forgotten_connection_is_never_popped),
        cmocka_unit_test(test_the_models_own_bits_are_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
