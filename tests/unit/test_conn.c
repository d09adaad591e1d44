/* A connection's state machine, as a model sees it through conn_status:
 * what it wants to wait for after a pause and a resume, when it is finished
 * (after a close, the peer's end of stream, an abort, a stop), and that
 * input received while paused is held and handed on in order once input
 * resumes. A real connection around one end of a socketpair. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/conn_model.h"
#include "core/service.h"

#define MAX_OUTPUT 4096

/* What the test service was handed, in order. */
static char received[256];
static size_t received_length;
static size_t delivered_total; /* Every byte handed over, kept or not. */
static bool eof_received;

static void record_data(struct conn *c, const uint8_t *data, size_t len)
{
    (void)c;
    delivered_total += len;
    size_t room = sizeof(received) - 1 - received_length;
    if (len > room)
        len = room;
    memcpy(received + received_length, data, len);
    received_length += len;
    received[received_length] = '\0';
}

static void record_eof(struct conn *c)
{
    (void)c;
    eof_received = true;
}

static const struct service test_service = {
    .name = "test",
    .on_data = record_data,
    .on_eof = record_eof,
};
static const struct service_config test_config = {.max_output = MAX_OUTPUT};

struct fixture {
    struct listener listener;
    struct conn *c;
    int peer_fd;
};

static int setup(void **state)
{
    static struct fixture f;
    memset(&f, 0, sizeof(f));
    received_length = 0;
    delivered_total = 0;
    received[0] = '\0';
    eof_received = false;
    f.listener.service = &test_service;
    f.listener.config = &test_config;
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds) != 0)
        return -1;
    struct address peer = {0};
    f.c = conn_create(fds[0], &peer, &f.listener, NULL);
    f.peer_fd = fds[1];
    if (!f.c)
        return -1;
    conn_start(f.c);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    conn_destroy(f->c);
    close(f->peer_fd);
    return 0;
}

/* What the peer can read now, as a string. */
static const char *peer_reads(struct fixture *f)
{
    static char got[256];
    ssize_t n = read(f->peer_fd, got, sizeof(got) - 1);
    got[n > 0 ? n : 0] = '\0';
    return got;
}

static void test_a_new_connection_wants_only_to_read(void **state)
{
    struct fixture *f = *state;
    struct conn_status st = conn_status(f->c);
    assert_int_equal(st.interest, CONN_WANT_READ);
    assert_false(st.finished);
    assert_false(st.dropped);
    assert_int_equal(st.output_pending, 0);
    assert_int_equal(st.deadline_ms, 0);
}

static void test_a_paused_connection_stops_reading_until_resumed(void **state)
{
    struct fixture *f = *state;
    conn_pause_reading(f->c, true);
    assert_int_equal(conn_status(f->c).interest & CONN_WANT_READ, 0);
    assert_false(conn_status(f->c).finished);
    conn_pause_reading(f->c, false);
    assert_int_equal(conn_status(f->c).interest, CONN_WANT_READ);
}

static void test_queued_output_asks_for_writability_until_sent(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(conn_queue_write(f->c, "hello\n", 6), 0);
    struct conn_status st = conn_status(f->c);
    assert_int_equal(st.output_pending, 6);
    assert_true(st.interest & CONN_WANT_WRITE);
    conn_handle_writable(f->c);
    assert_string_equal(peer_reads(f), "hello\n");
    st = conn_status(f->c);
    assert_int_equal(st.output_pending, 0);
    assert_int_equal(st.interest, CONN_WANT_READ);
}

static void test_a_closed_connection_finishes_once_its_output_is_sent(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(conn_queue_write(f->c, "bye\n", 4), 0);
    conn_close(f->c);
    assert_false(conn_status(f->c).finished);
    assert_int_equal(conn_status(f->c).interest, CONN_WANT_WRITE);
    conn_handle_writable(f->c);
    assert_true(conn_status(f->c).finished);
    assert_false(conn_status(f->c).dropped);
    assert_string_equal(peer_reads(f), "bye\n");
}

static void test_the_peers_end_of_stream_finishes_a_connection_owing_nothing(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(write(f->peer_fd, "last", 4), 4);
    assert_int_equal(shutdown(f->peer_fd, SHUT_WR), 0);
    conn_handle_readable(f->c);
    assert_string_equal(received, "last");
    assert_false(conn_status(f->c).finished);
    conn_handle_readable(f->c);
    assert_true(eof_received);
    assert_true(conn_status(f->c).finished);
}

static void test_an_aborted_connection_is_finished_at_once(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(conn_queue_write(f->c, "never sent\n", 11), 0);
    conn_abort(f->c, "test abort");
    struct conn_status st = conn_status(f->c);
    assert_true(st.finished);
    assert_true(st.dropped);
    assert_int_equal(st.interest, 0);
    assert_int_equal(st.output_pending, 0);
    assert_string_equal(conn_drop_reason(f->c), "test abort");
}

static void test_a_stopping_connection_ends_when_nothing_is_owed(void **state)
{
    struct fixture *f = *state;
    conn_set_timer(f->c, 60000);
    conn_begin_stop(f->c);
    assert_true(conn_server_stopping(f->c));
    struct conn_status st = conn_status(f->c);
    /* It still reads: what the peer sends before it is done is answered. */
    assert_true(st.interest & CONN_WANT_READ);
    /* A timer is a slow answer still owed to the peer. */
    assert_false(st.finished);
    assert_true(st.deadline_ms > 0);
    conn_handle_timer(f->c, st.deadline_ms);
    assert_true(conn_status(f->c).finished);
}

static void test_a_stopping_connection_reads_what_the_peer_sent_then_finishes(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(write(f->peer_fd, "raced\n", 6), 6);
    conn_begin_stop(f->c);
    /* Unread bytes: closing now would lose them and reset the peer. */
    assert_false(conn_status(f->c).finished);
    assert_true(conn_status(f->c).interest & CONN_WANT_READ);
    conn_handle_readable(f->c);
    assert_string_equal(received, "raced\n");
    assert_true(conn_status(f->c).finished);
}

static void test_a_stopping_connection_owing_output_reads_on_until_the_peer_is_done(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(conn_queue_write(f->c, "owed", 4), 0);
    conn_begin_stop(f->c);
    assert_false(conn_status(f->c).finished);
    assert_int_equal(conn_status(f->c).interest, CONN_WANT_READ | CONN_WANT_WRITE);
    /* What the peer goes on sending meanwhile is read too. */
    assert_int_equal(write(f->peer_fd, "more\n", 5), 5);
    conn_handle_readable(f->c);
    assert_string_equal(received, "more\n");
    conn_handle_writable(f->c);
    assert_true(conn_status(f->c).finished);
    assert_int_equal(shutdown(f->peer_fd, SHUT_WR), 0);
}

static void test_a_connection_cut_at_grace_reports_what_it_left_undone(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(write(f->peer_fd, "unread", 6), 6);
    assert_int_equal(conn_queue_write(f->c, "unsent!", 7), 0);
    conn_begin_stop(f->c);
    struct conn_cut cut = {0};
    conn_cut_at_grace(f->c, &cut);
    assert_int_equal(cut.connections, 1);
    assert_int_equal(cut.unread, 6);
    assert_int_equal(cut.unsent, 7);
    assert_true(conn_status(f->c).finished);
    assert_string_equal(conn_drop_reason(f->c), "grace period over");
}

static void test_output_in_flight_counts_against_the_limit(void **state)
{
    struct fixture *f = *state;
    static uint8_t half[MAX_OUTPUT / 2];
    struct buffer in_flight;
    buffer_init(&in_flight);
    assert_int_equal(conn_queue_write(f->c, half, sizeof(half)), 0);
    conn_take_output(f->c, &in_flight);
    /* Nothing is queued, but half the limit is still owed: input pauses. */
    assert_int_equal(conn_status(f->c).output_pending, 0);
    assert_int_equal(conn_status(f->c).interest & CONN_WANT_READ, 0);
    conn_receive(f->c, (const uint8_t *)"held", 4);
    assert_int_equal(delivered_total, 0);
    /* The queue may take only what the send in flight leaves of the limit. */
    assert_int_equal(conn_queue_write(f->c, half, sizeof(half) + 1), -1);
    assert_string_equal(conn_drop_reason(f->c), "too slow: output queue full");
    buffer_free(&in_flight);
}

static void test_a_send_reported_done_frees_its_share_of_the_limit(void **state)
{
    struct fixture *f = *state;
    static uint8_t half[MAX_OUTPUT / 2];
    struct buffer in_flight;
    buffer_init(&in_flight);
    assert_int_equal(conn_queue_write(f->c, half, sizeof(half)), 0);
    conn_take_output(f->c, &in_flight);
    conn_receive(f->c, (const uint8_t *)"held", 4);
    conn_sent(f->c, sizeof(half));
    conn_release_held_input(f->c);
    assert_string_equal(received, "held");
    assert_true(conn_status(f->c).interest & CONN_WANT_READ);
    buffer_free(&in_flight);
}

static void test_received_bytes_past_the_room_left_are_held(void **state)
{
    struct fixture *f = *state;
    static uint8_t bytes[MAX_OUTPUT];
    struct buffer in_flight;
    buffer_init(&in_flight);
    assert_int_equal(conn_queue_write(f->c, bytes, 1000), 0);
    conn_take_output(f->c, &in_flight);
    /* The service could answer every byte: it gets what the limit has room
     * for, as a readiness model would read no more. */
    conn_receive(f->c, bytes, sizeof(bytes));
    assert_int_equal(delivered_total, MAX_OUTPUT - 1000);
    assert_non_null(f->c->held);
    conn_sent(f->c, 1000);
    conn_release_held_input(f->c);
    assert_int_equal(delivered_total, MAX_OUTPUT);
    assert_null(f->c->held);
    buffer_free(&in_flight);
}

static void test_input_received_while_paused_is_released_in_order_on_resume(void **state)
{
    struct fixture *f = *state;
    conn_pause_reading(f->c, true);
    conn_receive(f->c, (const uint8_t *)"one ", 4);
    conn_receive(f->c, (const uint8_t *)"two", 3);
    assert_int_equal(received_length, 0);
    assert_non_null(f->c->held);
    /* Still paused: nothing moves. */
    conn_release_held_input(f->c);
    assert_int_equal(received_length, 0);
    conn_pause_reading(f->c, false);
    /* Bytes arriving after the resume wait behind those already held. */
    conn_receive(f->c, (const uint8_t *)"!", 1);
    conn_receive(f->c, NULL, 0);
    assert_int_equal(received_length, 0);
    assert_false(eof_received);
    conn_release_held_input(f->c);
    assert_string_equal(received, "one two!");
    assert_true(eof_received);
    assert_null(f->c->held);
}

static void test_a_connection_never_paused_holds_nothing(void **state)
{
    struct fixture *f = *state;
    conn_receive(f->c, (const uint8_t *)"direct", 6);
    assert_string_equal(received, "direct");
    assert_null(f->c->held);
}

static void test_held_input_past_its_limit_drops_the_connection(void **state)
{
    struct fixture *f = *state;
    static uint8_t chunk[64 * 1024];
    conn_pause_reading(f->c, true);
    for (size_t held = 0; held < CONN_HELD_INPUT_MAX; held += sizeof(chunk))
        conn_receive(f->c, chunk, sizeof(chunk));
    assert_false(conn_status(f->c).dropped);
    conn_receive(f->c, chunk, 1);
    assert_true(conn_status(f->c).finished);
    assert_string_equal(conn_drop_reason(f->c), "too much input while paused");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_a_new_connection_wants_only_to_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_paused_connection_stops_reading_until_resumed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_queued_output_asks_for_writability_until_sent, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_closed_connection_finishes_once_its_output_is_sent,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_the_peers_end_of_stream_finishes_a_connection_owing_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_an_aborted_connection_is_finished_at_once, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_stopping_connection_ends_when_nothing_is_owed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_a_stopping_connection_reads_what_the_peer_sent_then_finishes, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_a_stopping_connection_owing_output_reads_on_until_the_peer_is_done, setup,
            teardown),
        cmocka_unit_test_setup_teardown(test_a_connection_cut_at_grace_reports_what_it_left_undone,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_output_in_flight_counts_against_the_limit, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_send_reported_done_frees_its_share_of_the_limit,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_received_bytes_past_the_room_left_are_held, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_input_received_while_paused_is_released_in_order_on_resume, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_connection_never_paused_holds_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_held_input_past_its_limit_drops_the_connection, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
