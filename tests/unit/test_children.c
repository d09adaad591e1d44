/* Child processes: each one's end reaches whoever started it with its exit
 * status, a stop is passed on with SIGTERM, and a child that ignores it is
 * killed once the wait is over. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/children.h"
#include "core/clock.h"

struct ended {
    int calls;
    pid_t pid;
    int status;
};

static void record_end(void *ctx, pid_t pid, int status)
{
    struct ended *e = ctx;
    e->calls++;
    e->pid = pid;
    e->status = status;
}

/* Waits (at most five seconds) until every child has been reaped. */
static void reap_all(struct children *kids)
{
    int64_t deadline = clock_now_ms() + 5000;
    while (kids->count > 0 && clock_now_ms() < deadline) {
        struct pollfd pfd = {.fd = kids->signal_fd, .events = POLLIN};
        poll(&pfd, 1, 100);
        children_reap(kids);
    }
}

static void test_exit_status_reaches_the_starter(void **state)
{
    (void)state;
    struct children kids;
    char err[128];
    assert_int_equal(children_init(&kids, 2, err, sizeof(err)), 0);
    struct ended first = {0}, second = {0};
    pid_t a = children_fork(&kids, record_end, &first);
    if (a == 0)
        _exit(3);
    pid_t b = children_fork(&kids, record_end, &second);
    if (b == 0) {
        children_unblock(&kids);
        raise(SIGUSR1);
        _exit(0);
    }
    assert_true(a > 0 && b > 0);
    assert_true(children_full(&kids));
    assert_int_equal(children_fork(&kids, NULL, NULL), -1);
    reap_all(&kids);
    assert_int_equal(kids.count, 0);
    assert_int_equal(first.calls, 1);
    assert_int_equal(first.pid, a);
    assert_true(WIFEXITED(first.status) && WEXITSTATUS(first.status) == 3);
    assert_int_equal(second.calls, 1);
    assert_int_equal(second.pid, b);
    assert_true(WIFSIGNALED(second.status) && WTERMSIG(second.status) == SIGUSR1);
    children_free(&kids);
}

static void test_stop_passes_sigterm_on(void **state)
{
    (void)state;
    struct children kids;
    char err[128];
    assert_int_equal(children_init(&kids, 1, err, sizeof(err)), 0);
    struct ended end = {0};
    pid_t pid = children_fork(&kids, record_end, &end);
    if (pid == 0) {
        /* The stop signals arrive blocked: the child takes them as they
         * come once unblocked, here with the default action. */
        signal(SIGTERM, SIG_DFL);
        children_unblock(&kids);
        pause();
        _exit(0);
    }
    assert_int_equal(children_stop(&kids, 5000, "children"), 0);
    assert_int_equal(end.calls, 1);
    assert_true(WIFSIGNALED(end.status) && WTERMSIG(end.status) == SIGTERM);
    children_free(&kids);
}

static void test_stop_kills_a_child_that_ignores_it(void **state)
{
    (void)state;
    struct children kids;
    char err[128];
    assert_int_equal(children_init(&kids, 1, err, sizeof(err)), 0);
    struct ended end = {0};
    pid_t pid = children_fork(&kids, record_end, &end);
    if (pid == 0) {
        signal(SIGTERM, SIG_IGN);
        children_unblock(&kids);
        for (int i = 0; i < 100; i++)
            sleep(1); /* Bounded: killed long before. */
        _exit(0);
    }
    int64_t started = clock_now_ms();
    assert_int_equal(children_stop(&kids, 200, "children"), 0);
    assert_true(clock_now_ms() - started < 3000);
    assert_int_equal(end.calls, 1);
    assert_true(WIFSIGNALED(end.status) && WTERMSIG(end.status) == SIGKILL);
    children_free(&kids);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exit_status_reaches_the_starter),
        cmocka_unit_test(test_stop_passes_sigterm_on),
        cmocka_unit_test(test_stop_kills_a_child_that_ignores_it),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
