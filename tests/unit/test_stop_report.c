/* core/stop_report: the figures of a graceful stop, counted across
 * processes through shared memory and logged by the reporting process
 * only. stderr is captured in a file to read the lines back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/log.h"
#include "core/stop_report.h"

static FILE *captured;

/* Everything written to stderr since the last call. */
static const char *stderr_since(void)
{
    static char text[4096];
    size_t n = fread(text, 1, sizeof(text) - 1, captured);
    text[n] = '\0';
    clearerr(captured); /* At its end now; later writes are read next time. */
    return text;
}

/* stderr goes to a file, read back through a description of its own (a
 * shared one would share the offset that the writes move). */
static int capture_stderr(void **state)
{
    (void)state;
    char path[] = "/tmp/test_stop_report.XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0 || dup2(fd, STDERR_FILENO) < 0)
        return -1;
    close(fd);
    captured = fopen(path, "r");
    unlink(path);
    return captured ? 0 : -1;
}

static void test_figures_cover_children_and_only_the_reporter_logs(void **state)
{
    (void)state;
    assert_int_equal(stop_report_init(3), 0);
    stop_report_opened(); /* Served by this process, finishes. */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* A worker with two connections that dies while serving. */
        stop_report_use_slot(1);
        stop_report_opened();
        stop_report_opened();
        stop_report_begin(5000); /* Not the reporter: says nothing. */
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* Another worker: two connections open as the stop begins. */
        stop_report_use_slot(2);
        stop_report_opened();
        stop_report_opened();
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_string_equal(stderr_since(), "");
    /* Worker 1 died while serving: its connections went with it. */
    stop_report_forget_slot(1);

    stop_report_begin(5000);
    stop_report_begin(1000); /* Once only. */
    const char *text = stderr_since();
    assert_non_null(strstr(text, "sockserv: stopping: 3 connections open, grace 5s\n"));
    assert_null(strstr(text, "grace 1s"));

    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* That worker cuts one at the grace; the other is never closed:
         * killed past the grace, say. */
        stop_report_use_slot(2);
        stop_report_cut();
        stop_report_closed();
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    stop_report_closed(); /* This process's own connection finished. */
    stop_report_end();
    text = stderr_since();
    assert_non_null(strstr(text, "sockserv: stopped: 1 finished, 2 cut at grace\n"));
}

int main(void)
{
    log_set_level(LOG_INFO);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_figures_cover_children_and_only_the_reporter_logs),
    };
    return cmocka_run_group_tests(tests, capture_stderr, NULL);
}
