/* core/io: the clients' one "try again" test and one write-everything loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/io.h"

static void test_only_interruptions_and_would_block_are_transient(void **state)
{
    (void)state;
    assert_true(io_is_transient(EINTR));
    assert_true(io_is_transient(EAGAIN));
    assert_true(io_is_transient(EWOULDBLOCK));
    assert_false(io_is_transient(0));
    assert_false(io_is_transient(EPIPE));
    assert_false(io_is_transient(ECONNRESET));
    assert_false(io_is_transient(EBADF));
}

static void test_a_short_buffer_is_written_whole(void **state)
{
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    assert_int_equal(io_write_all(p[1], "hello", 5), 0);
    char got[8];
    assert_int_equal(read(p[0], got, sizeof got), 5);
    assert_memory_equal(got, "hello", 5);
    close(p[0]);
    close(p[1]);
}

struct drain {
    int fd;
    size_t total;
    uint8_t sum;
};

static void *drain_slowly(void *arg)
{
    struct drain *d = arg;
    uint8_t buf[1000];
    ssize_t n;
    /* Small reads, so the writer finds the pipe full again and again. */
    while ((n = read(d->fd, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n; i++)
            d->sum = (uint8_t)(d->sum + buf[i]);
        d->total += (size_t)n;
    }
    return NULL;
}

static void test_a_non_blocking_descriptor_is_waited_for_not_failed(void **state)
{
    (void)state;
    int p[2];
    assert_int_equal(pipe2(p, O_NONBLOCK), 0);
    /* The reader blocks; only the writer's end is non-blocking. */
    int flags = fcntl(p[0], F_GETFL);
    assert_int_equal(fcntl(p[0], F_SETFL, flags & ~O_NONBLOCK), 0);
    struct drain d = {.fd = p[0]};
    pthread_t reader;
    assert_int_equal(pthread_create(&reader, NULL, drain_slowly, &d), 0);

    size_t len = 4 * 1024 * 1024;
    uint8_t *data = malloc(len);
    assert_non_null(data);
    uint8_t sum = 0;
    for (size_t i = 0; i < len; i++) {
        data[i] = (uint8_t)(i * 7);
        sum = (uint8_t)(sum + data[i]);
    }
    assert_int_equal(io_write_all(p[1], data, len), 0);
    close(p[1]);
    pthread_join(reader, NULL);
    assert_int_equal(d.total, len);
    assert_int_equal(d.sum, sum);
    close(p[0]);
    free(data);
}

static void test_a_vanished_reader_is_reported_as_epipe(void **state)
{
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    close(p[0]);
    errno = 0;
    assert_int_equal(io_write_all(p[1], "x", 1), -1);
    assert_int_equal(errno, EPIPE);
    close(p[1]);
}

static void test_a_bad_descriptor_fails(void **state)
{
    (void)state;
    errno = 0;
    assert_int_equal(io_write_all(-1, "x", 1), -1);
    assert_int_equal(errno, EBADF);
    assert_int_equal(io_write_all(-1, "", 0), 0);
}

int main(void)
{
    /* The clients ignore SIGPIPE too, so a write to a closed pipe fails
     * with EPIPE instead of ending the process. */
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_only_interruptions_and_would_block_are_transient),
        cmocka_unit_test(test_a_short_buffer_is_written_whole),
        cmocka_unit_test(test_a_non_blocking_descriptor_is_waited_for_not_failed),
        cmocka_unit_test(test_a_vanished_reader_is_reported_as_epipe),
        cmocka_unit_test(test_a_bad_descriptor_fails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
