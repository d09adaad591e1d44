/* The deadline heap under both timer queues: deadlines come out earliest
 * first, re-arming moves an entry either way, removal from the middle keeps
 * the order, only what has expired is popped, every owner's slot always
 * says where its entry is, and a long random run agrees with a plain array
 * that is searched by brute force. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>

#include "core/deadline_heap.h"

/* Owners are numbered; slots[i] is owner i's slot. */
#define OWNERS 64

struct fixture {
    struct deadline_heap heap;
    uint32_t slots[OWNERS];
};

static struct fixture *fixture_new(uint32_t capacity)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    assert_int_equal(deadline_heap_reserve(&f->heap, capacity), 0);
    return f;
}

static void fixture_free(struct fixture *f)
{
    deadline_heap_free(&f->heap);
    free(f);
}

static int owner_of(struct fixture *f, uint32_t *slot)
{
    return slot ? (int)(slot - f->slots) : -1;
}

/* The heap order holds, and each entry's slot points back at it. */
static void assert_consistent(const struct deadline_heap *h)
{
    for (uint32_t i = 0; i < h->count; i++) {
        assert_int_equal(*h->entries[i].slot, i + 1);
        if (i > 0)
            assert_true(h->entries[(i - 1) / 2].deadline <= h->entries[i].deadline);
    }
}

static void test_deadlines_come_out_earliest_first(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(8);
    const int64_t deadlines[] = {50, 10, 40, 20, 30, 60};
    for (int i = 0; i < 6; i++)
        assert_int_equal(deadline_heap_set(&f->heap, &f->slots[i], deadlines[i]), 0);
    assert_consistent(&f->heap);
    assert_int_equal(deadline_heap_earliest(&f->heap), 10);
    const int order[] = {1, 3, 4, 2, 0, 5};
    for (int i = 0; i < 6; i++) {
        assert_int_equal(owner_of(f, deadline_heap_pop_expired(&f->heap, 100)), order[i]);
        assert_int_equal(f->slots[order[i]], 0);
        assert_consistent(&f->heap);
    }
    assert_int_equal(deadline_heap_earliest(&f->heap), 0);
    assert_null(deadline_heap_pop_expired(&f->heap, INT64_MAX));
    fixture_free(f);
}

static void test_rearming_moves_an_entry_either_way(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(8);
    for (int i = 0; i < 5; i++)
        deadline_heap_set(&f->heap, &f->slots[i], 10 * (i + 1));
    deadline_heap_set(&f->heap, &f->slots[0], 45); /* Later: 1 is first now. */
    assert_consistent(&f->heap);
    assert_int_equal(deadline_heap_earliest(&f->heap), 20);
    deadline_heap_set(&f->heap, &f->slots[4], 5); /* Earlier: 4 is first. */
    assert_consistent(&f->heap);
    assert_int_equal(deadline_heap_earliest(&f->heap), 5);
    deadline_heap_set(&f->heap, &f->slots[4], 5); /* The same: nothing moves. */
    assert_int_equal(f->heap.count, 5);
    const int order[] = {4, 1, 2, 3, 0};
    for (int i = 0; i < 5; i++)
        assert_int_equal(owner_of(f, deadline_heap_pop_expired(&f->heap, 100)), order[i]);
    fixture_free(f);
}

static void test_removal_from_the_middle_keeps_the_order(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(16);
    for (int i = 0; i < 15; i++)
        deadline_heap_set(&f->heap, &f->slots[i], 100 - i);
    /* Entries deep in the heap and near its top, and one twice. */
    const int removed[] = {7, 13, 2, 7};
    for (int i = 0; i < 4; i++) {
        deadline_heap_remove(&f->heap, &f->slots[removed[i]]);
        assert_int_equal(f->slots[removed[i]], 0);
        assert_consistent(&f->heap);
    }
    assert_int_equal(f->heap.count, 12);
    int64_t last = 0;
    for (uint32_t *slot; (slot = deadline_heap_pop_expired(&f->heap, INT64_MAX)) != NULL;) {
        int owner = owner_of(f, slot);
        assert_true(owner != 7 && owner != 13 && owner != 2);
        assert_true(100 - owner >= last);
        last = 100 - owner;
    }
    fixture_free(f);
}

static void test_only_expired_deadlines_are_popped(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(4);
    deadline_heap_set(&f->heap, &f->slots[0], 30);
    deadline_heap_set(&f->heap, &f->slots[1], 10);
    deadline_heap_set(&f->heap, &f->slots[2], 20);
    assert_null(deadline_heap_pop_expired(&f->heap, 9));
    assert_int_equal(owner_of(f, deadline_heap_pop_expired(&f->heap, 20)), 1);
    assert_int_equal(owner_of(f, deadline_heap_pop_expired(&f->heap, 20)), 2);
    assert_null(deadline_heap_pop_expired(&f->heap, 20));
    assert_int_equal(f->heap.count, 1);
    fixture_free(f);
}

static void test_a_full_heap_refuses_a_new_owner_only(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(2);
    assert_int_equal(deadline_heap_set(&f->heap, &f->slots[0], 10), 0);
    assert_int_equal(deadline_heap_set(&f->heap, &f->slots[1], 20), 0);
    assert_int_equal(deadline_heap_set(&f->heap, &f->slots[2], 5), -1);
    assert_int_equal(f->slots[2], 0);
    assert_int_equal(deadline_heap_set(&f->heap, &f->slots[1], 1), 0); /* Re-arming fits. */
    assert_int_equal(deadline_heap_reserve(&f->heap, 3), 0);
    assert_int_equal(deadline_heap_set(&f->heap, &f->slots[2], 5), 0);
    assert_int_equal(owner_of(f, deadline_heap_pop_expired(&f->heap, 100)), 1);
    assert_int_equal(owner_of(f, deadline_heap_pop_expired(&f->heap, 100)), 2);
    assert_int_equal(owner_of(f, deadline_heap_pop_expired(&f->heap, 100)), 0);
    fixture_free(f);
}

/* The earliest armed deadline in the model (-1: disarmed), or 0 if none. */
static int64_t model_earliest(const int64_t *model)
{
    int64_t earliest = 0;
    for (int i = 0; i < OWNERS; i++)
        if (model[i] >= 0 && (earliest == 0 || model[i] < earliest))
            earliest = model[i];
    return earliest;
}

/* Arming, re-arming, removing and popping at random, checked after every
 * step against the model. Deadlines start at 1, so 0 means "none" in both. */
static void test_random_operations_agree_with_a_plain_array(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(OWNERS);
    int64_t model[OWNERS];
    for (int i = 0; i < OWNERS; i++)
        model[i] = -1;
    srand(11);
    for (int step = 0; step < 50000; step++) {
        int owner = rand() % OWNERS;
        int op = rand() % 8;
        if (op < 4) {
            model[owner] = 1 + rand() % 1000;
            assert_int_equal(deadline_heap_set(&f->heap, &f->slots[owner], model[owner]), 0);
        } else if (op < 6) {
            deadline_heap_remove(&f->heap, &f->slots[owner]);
            model[owner] = -1;
        } else {
            int64_t now = rand() % 1000;
            int64_t earliest = model_earliest(model);
            int popped = owner_of(f, deadline_heap_pop_expired(&f->heap, now));
            if (earliest == 0 || earliest > now) {
                assert_int_equal(popped, -1);
            } else {
                /* Ties may come out in any order, but with the earliest. */
                assert_true(popped >= 0);
                assert_int_equal(model[popped], earliest);
                model[popped] = -1;
            }
        }
        assert_int_equal(deadline_heap_earliest(&f->heap), model_earliest(model));
        uint32_t armed = 0;
        for (int i = 0; i < OWNERS; i++) {
            armed += model[i] >= 0;
            assert_int_equal(f->slots[i] != 0, model[i] >= 0);
            if (model[i] >= 0)
                assert_int_equal(f->heap.entries[f->slots[i] - 1].deadline, model[i]);
        }
        assert_int_equal(f->heap.count, armed);
        assert_consistent(&f->heap);
    }
    fixture_free(f);
}

static void test_reserving_grows_by_doubling(void **state)
{
    (void)state;
    struct deadline_heap h = {0};
    assert_int_equal(deadline_heap_reserve(&h, 3), 0);
    assert_int_equal(h.capacity, 3);
    assert_int_equal(deadline_heap_reserve(&h, 2), 0); /* Enough already. */
    assert_int_equal(h.capacity, 3);
    assert_int_equal(deadline_heap_reserve(&h, 4), 0);
    assert_int_equal(h.capacity, 6);
    deadline_heap_free(&h);
    assert_int_equal(h.capacity, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deadlines_come_out_earliest_first),
        cmocka_unit_test(test_rearming_moves_an_entry_either_way),
        cmocka_unit_test(test_removal_from_the_middle_keeps_the_order),
        cmocka_unit_test(test_only_expired_deadlines_are_popped),
        cmocka_unit_test(test_a_full_heap_refuses_a_new_owner_only),
        cmocka_unit_test(test_random_operations_agree_with_a_plain_array),
        cmocka_unit_test(test_reserving_grows_by_doubling),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
