/* The bounded byte queue behind every connection's output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "core/buffer.h"

static void test_new_buffer_is_empty_and_holds_no_memory(void **state)
{
    (void)state;
    struct buffer b;
    buffer_init(&b);
    assert_true(buffer_is_empty(&b));
    assert_int_equal(buffer_length(&b), 0);
    assert_null(buffer_peek(&b));
    assert_null(b.data);

    struct buffer zeroed = {0};
    assert_true(buffer_is_empty(&zeroed));
    assert_int_equal(buffer_append(&zeroed, "x", 1, 10), 0);
    buffer_free(&zeroed);
}

static void test_appended_bytes_come_out_in_order(void **state)
{
    (void)state;
    struct buffer b;
    buffer_init(&b);
    assert_int_equal(buffer_append(&b, "hello ", 6, 100), 0);
    assert_int_equal(buffer_append(&b, "world", 5, 100), 0);
    assert_int_equal(buffer_length(&b), 11);
    assert_false(buffer_is_empty(&b));
    assert_memory_equal(buffer_peek(&b), "hello world", 11);
    buffer_free(&b);
}

static void test_consumed_bytes_are_gone(void **state)
{
    (void)state;
    struct buffer b;
    buffer_init(&b);
    assert_int_equal(buffer_append(&b, "abcdef", 6, 100), 0);
    buffer_consume(&b, 2);
    assert_int_equal(buffer_length(&b), 4);
    assert_memory_equal(buffer_peek(&b), "cdef", 4);
    assert_int_equal(buffer_append(&b, "gh", 2, 100), 0);
    assert_memory_equal(buffer_peek(&b), "cdefgh", 6);
    buffer_free(&b);
}

static void test_emptied_buffer_releases_its_memory(void **state)
{
    (void)state;
    struct buffer b;
    buffer_init(&b);
    assert_int_equal(buffer_append(&b, "abc", 3, 100), 0);
    buffer_consume(&b, 1);
    assert_non_null(b.data);
    buffer_consume(&b, 2);
    assert_true(buffer_is_empty(&b));
    assert_null(b.data);
    assert_int_equal(b.capacity, 0);
    assert_null(buffer_peek(&b));
}

static void test_consuming_more_than_held_just_empties(void **state)
{
    (void)state;
    struct buffer b;
    buffer_init(&b);
    assert_int_equal(buffer_append(&b, "abc", 3, 100), 0);
    buffer_consume(&b, 50);
    assert_true(buffer_is_empty(&b));
    assert_null(b.data);
}

static void test_append_up_to_the_limit_succeeds(void **state)
{
    (void)state;
    struct buffer b;
    buffer_init(&b);
    assert_int_equal(buffer_append(&b, "12345", 5, 10), 0);
    assert_int_equal(buffer_append(&b, "67890", 5, 10), 0);
    assert_int_equal(buffer_length(&b), 10);
    buffer_free(&b);
}

static void test_append_past_the_limit_fails_and_changes_nothing(void **state)
{
    (void)state;
    struct buffer b;
    buffer_init(&b);
    assert_int_equal(buffer_append(&b, "12345678", 8, 10), 0);
    buffer_consume(&b, 1);
    struct buffer before = b;
    assert_int_equal(buffer_append(&b, "abcd", 4, 10), -1);
    assert_memory_equal(&b, &before, sizeof b);
    assert_memory_equal(buffer_peek(&b), "2345678", 7);
    /* A smaller append that fits still works afterwards. */
    assert_int_equal(buffer_append(&b, "abc", 3, 10), 0);
    assert_memory_equal(buffer_peek(&b), "2345678abc", 10);
    assert_int_equal(buffer_append(&b, "x", 1, 10), -1);
    assert_int_equal(buffer_length(&b), 10);
    buffer_free(&b);
}

static void test_oversized_first_append_allocates_nothing(void **state)
{
    (void)state;
    struct buffer b;
    buffer_init(&b);
    char big[64] = {0};
    assert_int_equal(buffer_append(&b, big, sizeof big, 63), -1);
    assert_null(b.data);
    assert_true(buffer_is_empty(&b));
    assert_int_equal(buffer_append(&b, big, SIZE_MAX, SIZE_MAX - 1), -1);
    assert_null(b.data);
}

static void test_empty_append_allocates_nothing(void **state)
{
    (void)state;
    struct buffer b;
    buffer_init(&b);
    assert_int_equal(buffer_append(&b, "", 0, 10), 0);
    assert_null(b.data);
    assert_true(buffer_is_empty(&b));
}

static void test_memory_never_exceeds_a_small_limit(void **state)
{
    (void)state;
    struct buffer b;
    buffer_init(&b);
    for (int i = 0; i < 100; i++)
        assert_int_equal(buffer_append(&b, "x", 1, 100), 0);
    assert_int_equal(buffer_append(&b, "x", 1, 100), -1);
    assert_int_equal(buffer_length(&b), 100);
    assert_true(b.capacity <= 100);
    buffer_free(&b);
}

static void test_growth_is_geometric(void **state)
{
    (void)state;
    struct buffer b;
    buffer_init(&b);
    size_t reallocations = 0;
    size_t last_capacity = 0;
    const size_t total = 1 << 20;
    for (size_t i = 0; i < total; i++) {
        uint8_t byte = (uint8_t)i;
        assert_int_equal(buffer_append(&b, &byte, 1, total), 0);
        if (b.capacity != last_capacity) {
            reallocations++;
            last_capacity = b.capacity;
        }
        /* Never more than twice what is held, beyond the first block. */
        assert_true(b.capacity <= 512 || b.capacity <= 2 * buffer_length(&b));
    }
    /* 512 doubling to 1 MiB is 12 sizes; one byte at a time must not mean a realloc each. */
    assert_true(reallocations <= 12);
    for (size_t i = 0; i < total; i += 4099)
        assert_int_equal(buffer_peek(&b)[i], (uint8_t)i);
    buffer_free(&b);
}

static void test_one_large_append_gets_room_for_all_of_it(void **state)
{
    (void)state;
    static char big[5000];
    memset(big, 'q', sizeof big);
    struct buffer b;
    buffer_init(&b);
    assert_int_equal(buffer_append(&b, big, sizeof big, 6000), 0);
    assert_true(b.capacity >= sizeof big && b.capacity <= 6000);
    assert_memory_equal(buffer_peek(&b), big, sizeof big);
    buffer_free(&b);
}

static void test_consumed_space_is_reused_before_growing(void **state)
{
    (void)state;
    char block[512];
    memset(block, 'a', sizeof block);
    struct buffer b;
    buffer_init(&b);
    assert_int_equal(buffer_append(&b, block, sizeof block, 1 << 20), 0);
    size_t capacity = b.capacity;
    buffer_consume(&b, 500);
    memset(block, 'b', sizeof block);
    assert_int_equal(buffer_append(&b, block, 400, 1 << 20), 0);
    assert_int_equal(b.capacity, capacity);
    assert_int_equal(buffer_length(&b), 412);
    assert_memory_equal(buffer_peek(&b), "aaaaaaaaaaaabbbb", 16);
    buffer_free(&b);
}

/* Random appends and consumes against a flat array that holds the truth. */
static void test_contents_survive_mixed_appends_and_consumes(void **state)
{
    (void)state;
    enum { LIMIT = 3000 };
    static uint8_t model[LIMIT];
    size_t model_len = 0;
    uint8_t next = 0;
    uint32_t seed = 12345;
    struct buffer b;
    buffer_init(&b);
    for (int step = 0; step < 20000; step++) {
        seed = seed * 1103515245u + 12345u;
        size_t n = (seed >> 8) % 700;
        if ((seed >> 20) & 1) {
            uint8_t chunk[700];
            for (size_t i = 0; i < n; i++)
                chunk[i] = (uint8_t)(next + i);
            int rc = buffer_append(&b, chunk, n, LIMIT);
            if (model_len + n > LIMIT) {
                assert_int_equal(rc, -1);
            } else {
                assert_int_equal(rc, 0);
                memcpy(model + model_len, chunk, n);
                model_len += n;
                next = (uint8_t)(next + n);
            }
        } else {
            if (n > model_len)
                n = model_len;
            buffer_consume(&b, n);
            memmove(model, model + n, model_len - n);
            model_len -= n;
        }
        assert_int_equal(buffer_length(&b), model_len);
        assert_true(b.capacity <= LIMIT);
        if (model_len > 0)
            assert_memory_equal(buffer_peek(&b), model, model_len);
        else
            assert_null(b.data);
    }
    buffer_free(&b);
}

static void test_freed_buffer_is_reusable(void **state)
{
    (void)state;
    struct buffer b;
    buffer_init(&b);
    assert_int_equal(buffer_append(&b, "abc", 3, 10), 0);
    buffer_free(&b);
    assert_true(buffer_is_empty(&b));
    assert_null(b.data);
    assert_int_equal(buffer_append(&b, "de", 2, 10), 0);
    assert_memory_equal(buffer_peek(&b), "de", 2);
    buffer_free(&b);
    buffer_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_buffer_is_empty_and_holds_no_memory),
        cmocka_unit_test(test_appended_bytes_come_out_in_order),
        cmocka_unit_test(test_consumed_bytes_are_gone),
        cmocka_unit_test(test_emptied_buffer_releases_its_memory),
        cmocka_unit_test(test_consuming_more_than_held_just_empties),
        cmocka_unit_test(test_append_up_to_the_limit_succeeds),
        cmocka_unit_test(test_append_past_the_limit_fails_and_changes_nothing),
        cmocka_unit_test(test_oversized_first_append_allocates_nothing),
        cmocka_unit_test(test_empty_append_allocates_nothing),
        cmocka_unit_test(test_memory_never_exceeds_a_small_limit),
        cmocka_unit_test(test_growth_is_geometric),
        cmocka_unit_test(test_one_large_append_gets_room_for_all_of_it),
        cmocka_unit_test(test_consumed_space_is_reused_before_growing),
        cmocka_unit_test(test_contents_survive_mixed_appends_and_consumes),
        cmocka_unit_test(test_freed_buffer_is_reusable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
