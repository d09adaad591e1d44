/* The request timeout, as core/conn.c keeps it for every model: a line
 * service's connection whose partial line got its first byte the timeout
 * ago is aborted (the service told first) and counted; whole lines, a line
 * that ends in time, a paused connection, the end of the stream and a
 * service that does not read lines arm nothing or cut nothing; the idle
 * cut is counted too. A real connection around one end of a socketpair;
 * times are handed to conn_handle_timer, so no test waits for a timeout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/conn_model.h"
#include "core/counters.h"
#include "core/service.h"

#define REQUEST_MS 1000

static int cut_calls;

static void count_cut(struct conn *c)
{
    (void)c;
    cut_calls++;
}

static void ignore_data(struct conn *c, const uint8_t *data, size_t len)
{
    (void)c, (void)data, (void)len;
}

static const struct service line_service = {
    .name = "lines",
    .flags = SERVICE_LINES,
    .on_data = ignore_data,
    .on_request_timeout = count_cut,
};
static const struct service byte_service = {.name = "bytes", .on_data = ignore_data};
static const struct service_config timed = {.max_output = 4096, .request_timeout_ms = REQUEST_MS};
static const struct service_config idle_only = {.max_output = 4096, .idle_timeout_ms = 1000};

struct fixture {
    struct listener listener;
    struct conn *c;
    int peer_fd;
};

static struct fixture fixture;

static int open_with(void **state, const struct service *s, const struct service_config *config)
{
    memset(&fixture, 0, sizeof(fixture));
    cut_calls = 0;
    fixture.listener.service = s;
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
    return open_with(state, &line_service, &timed);
}

static int setup_bytes(void **state)
{
    return open_with(state, &byte_service, &timed);
}

static int setup_idle(void **state)
{
    return open_with(state, &line_service, &idle_only);
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    conn_destroy(f->c);
    close(f->peer_fd);
    return 0;
}

/* The peer sends text, and the connection reads it. */
static void peer_sends(struct fixture *f, const char *text)
{
    assert_int_equal(write(f->peer_fd, text, strlen(text)), (ssize_t)strlen(text));
    conn_handle_readable(f->c);
}

/* When the pending line got its first byte, on the clock of the timers. */
static int64_t line_start(const struct fixture *f)
{
    return f->c->opened_ms + f->c->line_started;
}

static void test_whole_lines_arm_nothing(void **state)
{
    struct fixture *f = *state;
    peer_sends(f, "one\ntwo\n");
    assert_int_equal(conn_deadline(f->c), 0);
}

static void test_a_partial_line_is_cut_from_its_first_byte(void **state)
{
    struct fixture *f = *state;
    int64_t before = counters_sum(0, COUNTER_CUT_REQUEST_TIMEOUT);
    peer_sends(f, "ab");
    int64_t due = line_start(f) + REQUEST_MS;
    assert_int_equal(conn_deadline(f->c), due);
    usleep(2000);
    peer_sends(f, "cd"); /* More of the same line: its time does not start again. */
    assert_int_equal(conn_deadline(f->c), due);
    conn_handle_timer(f->c, due - 1);
    assert_false(conn_status(f->c).dropped);
    conn_handle_timer(f->c, due);
    struct conn_status st = conn_status(f->c);
    assert_true(st.finished && st.dropped);
    assert_string_equal(conn_drop_reason(f->c), "request timeout");
    assert_int_equal(cut_calls, 1);
    assert_int_equal(counters_sum(0, COUNTER_CUT_REQUEST_TIMEOUT), before + 1);
}

static void test_a_line_that_ends_in_time_is_not_cut(void **state)
{
    struct fixture *f = *state;
    peer_sends(f, "ab");
    int64_t due = conn_deadline(f->c);
    peer_sends(f, "c\r\n");
    conn_handle_timer(f->c, due);
    assert_false(conn_status(f->c).dropped);
    assert_int_equal(conn_deadline(f->c), 0);
    assert_int_equal(cut_calls, 0);
}

static void test_the_next_partial_line_has_its_own_time(void **state)
{
    struct fixture *f = *state;
    peer_sends(f, "ab");
    int64_t first_due = conn_deadline(f->c);
    usleep(3000);
    peer_sends(f, "\nxy");
    /* The check only moves earlier when a line starts; it looks again. */
    assert_int_equal(conn_deadline(f->c), first_due);
    conn_handle_timer(f->c, first_due);
    assert_false(conn_status(f->c).dropped);
    int64_t second_due = line_start(f) + REQUEST_MS;
    assert_true(second_due > first_due);
    assert_int_equal(conn_deadline(f->c), second_due);
    conn_handle_timer(f->c, second_due);
    assert_true(conn_status(f->c).dropped);
}

static void test_a_paused_connection_is_not_blamed(void **state)
{
    struct fixture *f = *state;
    peer_sends(f, "ab");
    int64_t due = conn_deadline(f->c);
    /* The server reads nothing now, so the peer cannot end its line. */
    conn_pause_reading(f->c, true);
    conn_handle_timer(f->c, due);
    assert_false(conn_status(f->c).dropped);
    assert_int_equal(conn_deadline(f->c), due + REQUEST_MS);
    conn_pause_reading(f->c, false);
    conn_handle_timer(f->c, due + REQUEST_MS);
    assert_true(conn_status(f->c).dropped);
}

static void test_the_end_of_the_stream_ends_the_line(void **state)
{
    struct fixture *f = *state;
    peer_sends(f, "last words");
    int64_t due = conn_deadline(f->c);
    assert_int_equal(shutdown(f->peer_fd, SHUT_WR), 0);
    conn_handle_readable(f->c);
    conn_handle_timer(f->c, due);
    assert_false(conn_status(f->c).dropped);
    assert_int_equal(cut_calls, 0);
}

static void test_a_service_without_lines_is_not_timed(void **state)
{
    struct fixture *f = *state;
    peer_sends(f, "no end of line");
    assert_int_equal(conn_deadline(f->c), 0);
}

static void test_the_idle_cut_is_counted(void **state)
{
    struct fixture *f = *state;
    int64_t before = counters_sum(0, COUNTER_CUT_IDLE);
    conn_handle_timer(f->c, f->c->opened_ms + 1000);
    assert_true(conn_status(f->c).dropped);
    assert_int_equal(counters_sum(0, COUNTER_CUT_IDLE), before + 1);
    assert_int_equal(cut_calls, 0);
}

int main(void)
{
    if (counters_init(1) != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_whole_lines_arm_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_partial_line_is_cut_from_its_first_byte, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_line_that_ends_in_time_is_not_cut, setup, teardown),
        cmocka_unit_test_setup_teardown(test_the_next_partial_line_has_its_own_time, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_paused_connection_is_not_blamed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_the_end_of_the_stream_ends_the_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_service_without_lines_is_not_timed, setup_bytes,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_the_idle_cut_is_counted, setup_idle, teardown),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    counters_free();
    return failed;
}
