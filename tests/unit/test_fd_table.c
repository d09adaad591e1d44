/* Descriptor-indexed arrays: grown by doubling until a descriptor fits,
 * with new entries zeroed and old ones kept. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>

#include "models/fd_table.h"

static void test_an_empty_table_grows_to_fit_the_descriptor(void **state)
{
    (void)state;
    size_t capacity = 0;
    int *items = fd_table_grow(NULL, &capacity, sizeof(*items), 5);
    assert_non_null(items);
    assert_true(capacity > 5);
    for (size_t i = 0; i < capacity; i++)
        assert_int_equal(items[i], 0);
    free(items);
}

static void test_a_table_that_fits_is_returned_unchanged(void **state)
{
    (void)state;
    size_t capacity = 0;
    int *items = fd_table_grow(NULL, &capacity, sizeof(*items), 0);
    size_t before = capacity;
    assert_ptr_equal(fd_table_grow(items, &capacity, sizeof(*items), (int)before - 1), items);
    assert_int_equal(capacity, before);
    free(items);
}

static void test_growing_keeps_entries_and_zeroes_new_ones(void **state)
{
    (void)state;
    size_t capacity = 0;
    long *items = fd_table_grow(NULL, &capacity, sizeof(*items), 0);
    size_t first = capacity;
    for (size_t i = 0; i < first; i++)
        items[i] = (long)i + 1;
    int far = (int)first * 3;
    items = fd_table_grow(items, &capacity, sizeof(*items), far);
    assert_non_null(items);
    assert_true(capacity > (size_t)far);
    /* Doubling: a power-of-two multiple of the first size. */
    assert_int_equal(capacity % first, 0);
    for (size_t i = 0; i < first; i++)
        assert_int_equal(items[i], (long)i + 1);
    for (size_t i = first; i < capacity; i++)
        assert_int_equal(items[i], 0);
    free(items);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_an_empty_table_grows_to_fit_the_descriptor),
        cmocka_unit_test(test_a_table_that_fits_is_returned_unchanged),
        cmocka_unit_test(test_growing_keeps_entries_and_zeroes_new_ones),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
