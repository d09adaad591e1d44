/* Reading systemd's LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES, and taking
 * the sockets they pass. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/socket_activation.h"

#define SELF 4242

static struct inherited_socket got[8];
static char err[256];

static int parse(const char *pid, const char *fds, const char *names)
{
    memset(got, 0x55, sizeof(got));
    err[0] = '\0';
    return socket_activation_parse(pid, fds, names, SELF, got, 8, err, sizeof(err));
}

static void test_sockets_from_fd_3_each_with_its_name(void **state)
{
    (void)state;
    assert_int_equal(parse("4242", "3", "echo:daytime:upper?allow=10.0.0.0/8"), 3);
    assert_int_equal(got[0].fd, 3);
    assert_int_equal(got[2].fd, 5);
    assert_string_equal(got[0].name, "echo");
    assert_string_equal(got[1].name, "daytime");
    assert_string_equal(got[2].name, "upper?allow=10.0.0.0/8");
}

static void test_missing_names_leave_sockets_unnamed(void **state)
{
    (void)state;
    assert_int_equal(parse("4242", "2", NULL), 2);
    assert_string_equal(got[0].name, "");
    assert_string_equal(got[1].name, "");
    assert_int_equal(parse("4242", "2", "echo"), 2);
    assert_string_equal(got[0].name, "echo");
    assert_string_equal(got[1].name, "");
    assert_int_equal(parse("4242", "2", ":time"), 2);
    assert_string_equal(got[0].name, "");
    assert_string_equal(got[1].name, "time");
}

static void test_not_for_this_process_means_not_activated(void **state)
{
    (void)state;
    assert_int_equal(parse(NULL, NULL, NULL), 0);
    assert_int_equal(parse("4242", NULL, "echo"), 0);
    assert_int_equal(parse(NULL, "1", "echo"), 0);
    assert_int_equal(parse("1", "1", "echo"), 0);
    assert_int_equal(parse("4242", "0", ""), 0);
}

static void test_bad_values_are_errors(void **state)
{
    (void)state;
    const char *bad_pid[] = {"", "x", "-4242", "+4242", "4242 ", "0", "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad_pid / sizeof bad_pid[0]; i++) {
        if (parse(bad_pid[i], "1", "echo") != -1)
            fail_msg("LISTEN_PID \"%s\" was accepted", bad_pid[i]);
        assert_non_null(strstr(err, "LISTEN_PID"));
    }
    const char *bad_fds[] = {"", "x", "-1", "9", "1x", " 1"};
    for (size_t i = 0; i < sizeof bad_fds / sizeof bad_fds[0]; i++) {
        if (parse("4242", bad_fds[i], NULL) != -1)
            fail_msg("LISTEN_FDS \"%s\" was accepted (max 8)", bad_fds[i]);
        assert_non_null(strstr(err, "LISTEN_FDS"));
    }
    assert_int_equal(parse("4242", "1", "echo:daytime"), -1);
    assert_non_null(strstr(err, "LISTEN_FDNAMES"));
}

/* take() reads the real environment and descriptors: a listening TCP
 * socket and a bound UDP one placed at 3 and 4, and a pipe at 5. */
static void place(int fd, int at)
{
    if (fd != at) {
        assert_int_equal(dup2(fd, at), at);
        close(fd);
    }
}

static int listening_tcp(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(fd, 1), 0);
    return fd;
}

static int bound_udp(void)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    return fd;
}

static void set_env(const char *fds, const char *names)
{
    char pid[32];
    snprintf(pid, sizeof(pid), "%d", (int)getpid());
    setenv("LISTEN_PID", pid, 1);
    setenv("LISTEN_FDS", fds, 1);
    setenv("LISTEN_FDNAMES", names, 1);
}

static void test_take_checks_sockets_and_clears_the_environment(void **state)
{
    (void)state;
    int high_tcp = fcntl(listening_tcp(), F_DUPFD, 100);
    int high_udp = fcntl(bound_udp(), F_DUPFD, 100);
    place(high_tcp, 3);
    place(high_udp, 4);
    set_env("2", "echo:time");
    assert_int_equal(socket_activation_take(got, 8, err, sizeof(err)), 2);
    assert_int_equal(got[0].transport, TRANSPORT_TCP);
    assert_int_equal(got[1].transport, TRANSPORT_UDP);
    assert_string_equal(got[1].name, "time");
    for (int fd = 3; fd <= 4; fd++) {
        assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
        assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    }
    /* No process started from here may think the sockets are its own. */
    assert_null(getenv("LISTEN_PID"));
    assert_null(getenv("LISTEN_FDS"));
    assert_null(getenv("LISTEN_FDNAMES"));

    int pipe_fds[2];
    assert_int_equal(pipe(pipe_fds), 0);
    int high_pipe = fcntl(pipe_fds[0], F_DUPFD, 100);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    place(high_pipe, 5);
    set_env("3", "echo:time:upper");
    assert_int_equal(socket_activation_take(got, 8, err, sizeof(err)), -1);
    assert_string_equal(err, "inherited fd 5: not a socket");
    assert_null(getenv("LISTEN_FDS"));
    close(3);
    close(4);
    close(5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sockets_from_fd_3_each_with_its_name),
        cmocka_unit_test(test_missing_names_leave_sockets_unnamed),
        cmocka_unit_test(test_not_for_this_process_means_not_activated),
        cmocka_unit_test(test_bad_values_are_errors),
        cmocka_unit_test(test_take_checks_sockets_and_clears_the_environment),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
