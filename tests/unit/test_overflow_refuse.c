/* core/overflow: a client refused beyond --max-conns is closed with a reset
 * (its peer reads ECONNRESET, not an orderly end) and counted as refused
 * for a full server on its own listener. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/counters.h"
#include "core/overflow.h"

/* A connected TCP pair over loopback: *client and the accepted *server. */
static void tcp_pair(int *client, int *server)
{
    int l = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(l >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    assert_int_equal(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(l, 1), 0);
    assert_int_equal(getsockname(l, (struct sockaddr *)&a, &len), 0);
    *client = socket(AF_INET, SOCK_STREAM, 0);
    assert_int_equal(connect(*client, (struct sockaddr *)&a, sizeof(a)), 0);
    *server = accept(l, NULL, NULL);
    assert_true(*server >= 0);
    close(l);
}

static void test_a_refused_client_is_reset_and_counted(void **state)
{
    (void)state;
    struct listener l = {.spec_index = 1, .name = "tcp://127.0.0.1:1/echo"};
    int client, server;
    tcp_pair(&client, &server);
    overflow_refuse(&l, server);
    assert_int_equal(fcntl(server, F_GETFD), -1); /* Closed. */
    char byte;
    errno = 0;
    assert_int_equal(recv(client, &byte, 1, 0), -1);
    assert_int_equal(errno, ECONNRESET);
    close(client);
    assert_int_equal(counters_sum(1, COUNTER_REFUSED_FULL), 1);
    assert_int_equal(counters_sum(0, COUNTER_REFUSED_FULL), 0);
}

int main(void)
{
    if (counters_init(2) != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_refused_client_is_reset_and_counted),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    counters_free();
    return failed;
}
