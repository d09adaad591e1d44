/* The idle timeout, as core/conn.c keeps it for every model: the deadline a
 * model waits for is the earlier of the service's timer and the idle check;
 * a check that comes due on a connection that moved no byte aborts it (the
 * service told first), while one that moved bytes since only moves the
 * check on; datagrams and a timeout of 0 arm nothing. A real connection
 * around one end of a socketpair; times are handed to conn_handle_timer, so
 * no test waits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/conn_model.h"
#include "core/service.h"

#define IDLE_MS 1000
#define DAY_MS (24LL * 3600 * 1000)

static int idle_calls;
static int timer_calls;

static void count_idle(struct conn *c)
{
    (void)c;
    idle_calls++;
}

static void count_timer(struct conn *c)
{
    (void)c;
    timer_calls++;
}

static void ignore_data(struct conn *c, const uint8_t *data, size_t len)
{
    (void)c, (void)data, (void)len;
}

static const struct service test_service = {
    .name = "test",
    .on_data = ignore_data,
    .on_timer = count_timer,
    .on_idle = count_idle,
};
static const struct service_config idle_config = {.max_output = 4096, .idle_timeout_ms = IDLE_MS};
static const struct service_config no_idle_config = {.max_output = 4096};

struct fixture {
    struct listener listener;
    struct conn *c;
    int peer_fd;
};

static struct fixture fixture;

static int open_with(void **state, const struct service_config *config)
{
    memset(&fixture, 0, sizeof(fixture));
    idle_calls = 0;
    timer_calls = 0;
    fixture.listener.service = &test_service;
    fixture.listener.config = config;
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds) != 0)
        return -1;
    struct address peer = {0};
    fixture.c = conn_create(fds[0], &peer, &fixture.listener, NULL);
    fixture.peer_fd = fds[1];
    if (!fixture.c)
        return -1;
    conn_start(fixture.c);
    *state = &fixture;
    return 0;
}

static int setup(void **state)
{
    return open_with(state, &idle_config);
}

static int setup_without_timeout(void **state)
{
    return open_with(state, &no_idle_config);
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    conn_destroy(f->c);
    close(f->peer_fd);
    return 0;
}

static void test_a_new_connection_waits_for_its_idle_check(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(conn_deadline(f->c), f->c->opened_ms + IDLE_MS);
}

static void test_a_silent_connection_is_aborted_when_the_check_comes_due(void **state)
{
    struct fixture *f = *state;
    conn_handle_timer(f->c, f->c->opened_ms + IDLE_MS - 1);
    assert_false(conn_status(f->c).dropped);
    conn_handle_timer(f->c, f->c->opened_ms + IDLE_MS);
    struct conn_status st = conn_status(f->c);
    assert_true(st.finished && st.dropped);
    assert_string_equal(conn_drop_reason(f->c), "idle timeout");
    assert_int_equal(idle_calls, 1);
    assert_int_equal(timer_calls, 0);
}

static void test_bytes_received_move_the_check_on_instead(void **state)
{
    struct fixture *f = *state;
    /* Make sure the read lands at least a millisecond after the open. */
    usleep(2000);
    assert_int_equal(write(f->peer_fd, "x", 1), 1);
    conn_handle_readable(f->c);
    conn_handle_timer(f->c, f->c->opened_ms + IDLE_MS);
    assert_false(conn_status(f->c).dropped);
    assert_int_equal(idle_calls, 0);
    int64_t next = conn_deadline(f->c);
    assert_true(next > f->c->opened_ms + IDLE_MS);
    /* Silent from then on: cut when the moved check comes due. */
    conn_handle_timer(f->c, next);
    assert_true(conn_status(f->c).dropped);
}

static void test_bytes_sent_count_as_activity_too(void **state)
{
    struct fixture *f = *state;
    usleep(2000);
    assert_int_equal(conn_write(f->c, "y", 1), 0);
    conn_handle_timer(f->c, f->c->opened_ms + IDLE_MS);
    assert_false(conn_status(f->c).dropped);
}

static void test_the_service_timer_comes_first_when_it_is_earlier(void **state)
{
    struct fixture *f = *state;
    conn_set_timer(f->c, 10);
    int64_t service_deadline = f->c->deadline_ms;
    assert_int_equal(conn_deadline(f->c), service_deadline);
    conn_handle_timer(f->c, service_deadline);
    assert_int_equal(timer_calls, 1);
    assert_false(conn_status(f->c).dropped);
    assert_int_equal(conn_deadline(f->c), f->c->opened_ms + IDLE_MS);
}

static void test_a_check_past_49_days_is_kept_whole(void **state)
{
    struct fixture *f = *state;
    /* Active 100 ms before a check 50 days on: the 32-bit activity time
     * has wrapped, and the moved check lies past 2^32 ms after the open. */
    int64_t now = f->c->opened_ms + 50 * DAY_MS;
    f->c->last_active = (uint32_t)(50 * DAY_MS - 100);
    f->c->idle_check_low = (uint32_t)(50 * DAY_MS);
    f->c->idle_check_high = (uint16_t)((50 * DAY_MS) >> 32);
    assert_int_equal(conn_deadline(f->c), now);
    conn_handle_timer(f->c, now);
    assert_false(conn_status(f->c).dropped);
    assert_int_equal(conn_deadline(f->c), now + IDLE_MS - 100);
}

static void test_without_a_timeout_nothing_is_armed(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(conn_deadline(f->c), 0);
    conn_handle_timer(f->c, f->c->opened_ms + DAY_MS);
    assert_false(conn_status(f->c).dropped);
}

static void test_a_datagram_has_no_idle_check(void **state)
{
    (void)state;
    struct listener l = {.service = &test_service, .config = &idle_config, .fd = -1};
    struct address peer = {0};
    struct conn *c = conn_create_datagram(&peer, &l, NULL);
    assert_non_null(c);
    assert_int_equal(conn_deadline(c), 0);
    conn_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_a_new_connection_waits_for_its_idle_check, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_a_silent_connection_is_aborted_when_the_check_comes_due, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bytes_received_move_the_check_on_instead, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bytes_sent_count_as_activity_too, setup, teardown),
        cmocka_unit_test_setup_teardown(test_the_service_timer_comes_first_when_it_is_earlier,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_check_past_49_days_is_kept_whole, setup, teardown),
        cmocka_unit_test_setup_teardown(test_without_a_timeout_nothing_is_armed,
                                        setup_without_timeout, teardown),
        cmocka_unit_test(test_a_datagram_has_no_idle_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
