/* The fixed buffer both clients relay bytes through. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "core/relay_buffer.h"

static void test_new_buffer_is_empty_with_all_its_space_free(void **state)
{
    (void)state;
    uint8_t storage[8];
    struct relay_buffer b;
    relay_buffer_init(&b, storage, sizeof storage);
    assert_int_equal(relay_buffer_length(&b), 0);
    assert_int_equal(relay_buffer_space(&b), 8);
    size_t room;
    assert_ptr_equal(relay_buffer_reserve(&b, 1, &room), storage);
    assert_int_equal(room, 8);
}

static void test_bytes_pass_through_in_order(void **state)
{
    (void)state;
    uint8_t storage[16];
    struct relay_buffer b;
    relay_buffer_init(&b, storage, sizeof storage);
    relay_buffer_append(&b, "hello ", 6);
    relay_buffer_append(&b, "world", 5);
    assert_int_equal(relay_buffer_length(&b), 11);
    assert_int_equal(relay_buffer_space(&b), 5);
    assert_memory_equal(relay_buffer_peek(&b), "hello world", 11);
    relay_buffer_consume(&b, 6);
    assert_memory_equal(relay_buffer_peek(&b), "world", 5);
    assert_int_equal(relay_buffer_space(&b), 11);
}

static void test_full_buffer_has_no_space_and_no_room(void **state)
{
    (void)state;
    uint8_t storage[4];
    struct relay_buffer b;
    relay_buffer_init(&b, storage, sizeof storage);
    relay_buffer_append(&b, "abcd", 4);
    assert_int_equal(relay_buffer_space(&b), 0);
    size_t room = 99;
    relay_buffer_reserve(&b, 1, &room);
    assert_int_equal(room, 0);
    assert_memory_equal(relay_buffer_peek(&b), "abcd", 4);
}

static void test_draining_starts_the_next_bytes_at_the_front(void **state)
{
    (void)state;
    uint8_t storage[8];
    struct relay_buffer b;
    relay_buffer_init(&b, storage, sizeof storage);
    relay_buffer_append(&b, "abcdef", 6);
    relay_buffer_consume(&b, 4);
    relay_buffer_consume(&b, 2);
    assert_int_equal(relay_buffer_length(&b), 0);
    assert_ptr_equal(relay_buffer_peek(&b), storage);
    size_t room;
    assert_ptr_equal(relay_buffer_reserve(&b, 1, &room), storage);
    assert_int_equal(room, 8);
}

/* Not a ring: the bytes stay in one piece, so when the tail reaches the end
 * they move to the front to reuse what was consumed. */
static void test_a_tail_at_the_end_moves_the_bytes_to_the_front(void **state)
{
    (void)state;
    uint8_t storage[8];
    struct relay_buffer b;
    relay_buffer_init(&b, storage, sizeof storage);
    relay_buffer_append(&b, "abcdefgh", 8);
    relay_buffer_consume(&b, 5);
    assert_int_equal(relay_buffer_space(&b), 5);
    size_t room;
    uint8_t *into = relay_buffer_reserve(&b, 1, &room);
    assert_int_equal(room, 5);
    assert_ptr_equal(into, storage + 3);
    assert_memory_equal(relay_buffer_peek(&b), "fgh", 3);
    memcpy(into, "12345", 5);
    relay_buffer_commit(&b, 5);
    assert_int_equal(relay_buffer_space(&b), 0);
    assert_memory_equal(relay_buffer_peek(&b), "fgh12345", 8);
}

static void test_want_one_leaves_bytes_in_place_while_the_tail_has_room(void **state)
{
    (void)state;
    uint8_t storage[8];
    struct relay_buffer b;
    relay_buffer_init(&b, storage, sizeof storage);
    relay_buffer_append(&b, "abcdef", 6);
    relay_buffer_consume(&b, 4);
    size_t room;
    uint8_t *into = relay_buffer_reserve(&b, 1, &room);
    assert_ptr_equal(into, storage + 6);
    assert_int_equal(room, 2);
    assert_ptr_equal(relay_buffer_peek(&b), storage + 4);
}

static void test_want_everything_moves_bytes_once_any_were_consumed(void **state)
{
    (void)state;
    uint8_t storage[8];
    struct relay_buffer b;
    relay_buffer_init(&b, storage, sizeof storage);
    relay_buffer_append(&b, "abcdef", 6);
    relay_buffer_consume(&b, 1);
    size_t room;
    uint8_t *into = relay_buffer_reserve(&b, SIZE_MAX, &room);
    assert_ptr_equal(into, storage + 5);
    assert_int_equal(room, 3);
    assert_memory_equal(relay_buffer_peek(&b), "bcdef", 5);
}

static void test_append_uses_space_before_the_head(void **state)
{
    (void)state;
    uint8_t storage[8];
    struct relay_buffer b;
    relay_buffer_init(&b, storage, sizeof storage);
    relay_buffer_append(&b, "abcdef", 6);
    relay_buffer_consume(&b, 4);
    relay_buffer_append(&b, "123456", 6);
    assert_int_equal(relay_buffer_length(&b), 8);
    assert_memory_equal(relay_buffer_peek(&b), "ef123456", 8);
}

static void test_partial_writes_and_reads_keep_order(void **state)
{
    (void)state;
    /* A source and a sink of uneven steps through a small buffer: what
     * comes out is what went in, and the buffer never holds more than fits. */
    uint8_t storage[7];
    struct relay_buffer b;
    relay_buffer_init(&b, storage, sizeof storage);
    uint8_t in[1000], out[1000];
    for (size_t i = 0; i < sizeof in; i++)
        in[i] = (uint8_t)(i * 31 + 7);
    size_t put = 0, got = 0;
    for (unsigned step = 0; got < sizeof in && step < 10000; step++) {
        size_t room;
        uint8_t *into = relay_buffer_reserve(&b, step % 2 ? SIZE_MAX : 1, &room);
        size_t n = room < 1 + step % 5 ? room : 1 + step % 5;
        if (n > sizeof in - put)
            n = sizeof in - put;
        memcpy(into, in + put, n);
        relay_buffer_commit(&b, n);
        put += n;
        assert_true(relay_buffer_length(&b) <= sizeof storage);
        size_t take =
            relay_buffer_length(&b) < 1 + step % 3 ? relay_buffer_length(&b) : 1 + step % 3;
        memcpy(out + got, relay_buffer_peek(&b), take);
        relay_buffer_consume(&b, take);
        got += take;
    }
    assert_int_equal(got, sizeof in);
    assert_memory_equal(out, in, sizeof in);
}

static void test_truncate_takes_back_the_last_bytes(void **state)
{
    (void)state;
    uint8_t storage[8];
    struct relay_buffer b;
    relay_buffer_init(&b, storage, sizeof storage);
    relay_buffer_append(&b, "abc", 3);
    relay_buffer_consume(&b, 1);
    relay_buffer_append(&b, "XYZ", 3);
    relay_buffer_truncate(&b, 2);
    assert_int_equal(relay_buffer_length(&b), 2);
    assert_memory_equal(relay_buffer_peek(&b), "bc", 2);
    relay_buffer_truncate(&b, 0);
    assert_int_equal(relay_buffer_length(&b), 0);
    assert_int_equal(relay_buffer_space(&b), 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_buffer_is_empty_with_all_its_space_free),
        cmocka_unit_test(test_bytes_pass_through_in_order),
        cmocka_unit_test(test_full_buffer_has_no_space_and_no_room),
        cmocka_unit_test(test_draining_starts_the_next_bytes_at_the_front),
        cmocka_unit_test(test_a_tail_at_the_end_moves_the_bytes_to_the_front),
        cmocka_unit_test(test_want_one_leaves_bytes_in_place_while_the_tail_has_room),
        cmocka_unit_test(test_want_everything_moves_bytes_once_any_were_consumed),
        cmocka_unit_test(test_append_uses_space_before_the_head),
        cmocka_unit_test(test_partial_writes_and_reads_keep_order),
        cmocka_unit_test(test_truncate_takes_back_the_last_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
