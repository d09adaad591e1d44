/* The event loops' timer heap over real connections: it follows each
 * connection's deadline as the service arms and moves its timer and as the
 * timer fires, and hands back the connection whose timer is due first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/conn_model.h"
#include "models/timer_heap.h"

#define CONNS 3

static const struct service test_service = {.name = "test"};
static const struct service_config test_config = {.max_output = 4096};

struct fixture {
    struct listener listener;
    struct conn *c[CONNS];
    int peer_fd[CONNS];
    struct timer_heap heap;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    f->listener.service = &test_service;
    f->listener.config = &test_config;
    for (int i = 0; i < CONNS; i++) {
        int fds[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds) != 0)
            return -1;
        struct address peer = {0};
        f->c[i] = conn_create(fds[0], &peer, &f->listener, NULL);
        f->peer_fd[i] = fds[1];
        if (!f->c[i])
            return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    timer_heap_free(&f->heap);
    for (int i = 0; i < CONNS; i++) {
        conn_destroy(f->c[i]);
        close(f->peer_fd[i]);
    }
    free(f);
    return 0;
}

static void test_the_earliest_timer_comes_out_first(void **state)
{
    struct fixture *f = *state;
    const int64_t delays[CONNS] = {3000, 1000, 2000};
    for (int i = 0; i < CONNS; i++) {
        conn_set_timer(f->c[i], delays[i]);
        assert_int_equal(timer_heap_update(&f->heap, f->c[i]), 0);
    }
    assert_int_equal(timer_heap_next_deadline(&f->heap), conn_deadline(f->c[1]));
    assert_null(timer_heap_pop_expired(&f->heap, clock_now_ms()));
    assert_ptr_equal(timer_heap_pop_expired(&f->heap, INT64_MAX), f->c[1]);
    assert_ptr_equal(timer_heap_pop_expired(&f->heap, INT64_MAX), f->c[2]);
    assert_ptr_equal(timer_heap_pop_expired(&f->heap, INT64_MAX), f->c[0]);
    assert_null(timer_heap_pop_expired(&f->heap, INT64_MAX));
    assert_int_equal(timer_heap_next_deadline(&f->heap), 0);
}

static void test_the_heap_follows_a_moved_or_fired_timer(void **state)
{
    struct fixture *f = *state;
    for (int i = 0; i < CONNS; i++) {
        conn_set_timer(f->c[i], 1000 * (i + 1));
        assert_int_equal(timer_heap_update(&f->heap, f->c[i]), 0);
    }
    conn_set_timer(f->c[0], 5000); /* Moved later: 1 is first now. */
    assert_int_equal(timer_heap_update(&f->heap, f->c[0]), 0);
    conn_set_timer(f->c[1], 0); /* Fired, so no longer armed: its entry goes. */
    conn_handle_timer(f->c[1], clock_now_ms());
    assert_int_equal(conn_deadline(f->c[1]), 0);
    assert_int_equal(timer_heap_update(&f->heap, f->c[1]), 0);
    timer_heap_remove(&f->heap, f->c[1]); /* Harmless without an entry. */
    assert_int_equal(timer_heap_next_deadline(&f->heap), conn_deadline(f->c[2]));
    timer_heap_remove(&f->heap, f->c[2]);
    assert_ptr_equal(timer_heap_pop_expired(&f->heap, INT64_MAX), f->c[0]);
    assert_null(timer_heap_pop_expired(&f->heap, INT64_MAX));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_the_earliest_timer_comes_out_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_the_heap_follows_a_moved_or_fired_timer, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
