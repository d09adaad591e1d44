/* core/stop_report: the figures of a graceful stop, read from the counts
 * every process keeps in core/counters.h, and logged by the reporting
 * process only. stderr is captured in a file to read the lines back. */
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

#include "core/counters.h"
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

/* A child that counts one listener's figures in a slot of its own, as a
 * worker does, then dies. */
#define AS_CHILD(body)                                                                             \
    do {                                                                                           \
        pid_t pid_ = fork();                                                                       \
        assert_true(pid_ >= 0);                                                                    \
        if (pid_ == 0) {                                                                           \
            counters_claim_slot(1, 0);                                                             \
            body;                                                                                  \
            _exit(0);                                                                              \
        }                                                                                          \
        int status_;                                                                               \
        assert_int_equal(waitpid(pid_, &status_, 0), pid_);                                        \
        last_child = pid_;                                                                         \
    } while (0)

static pid_t last_child;

static void test_figures_cover_children_and_only_the_reporter_logs(void **state)
{
    (void)state;
    assert_int_equal(counters_init(1), 0);
    stop_report_init();
    counters_add(0, COUNTER_ACCEPTED, 1); /* Served by this process, finishes. */
    /* A worker with two connections that dies while serving: the
     * supervisor forgets them, as they died with it. */
    AS_CHILD({
        counters_add(0, COUNTER_ACCEPTED, 2);
        stop_report_begin(5000); /* Not the reporter: says nothing. */
    });
    counters_release_process(last_child);
    /* Another worker: two connections open as the stop begins. */
    AS_CHILD(counters_add(0, COUNTER_ACCEPTED, 2));
    assert_string_equal(stderr_since(), "");

    stop_report_begin(5000);
    stop_report_begin(1000); /* Once only. */
    const char *text = stderr_since();
    assert_non_null(strstr(text, "sockserv: stopping: 3 connections open, grace 5s\n"));
    assert_null(strstr(text, "grace 1s"));

    /* That worker cuts one at the grace; the other is never closed:
     * killed past the grace, say. */
    AS_CHILD({
        counters_add(0, COUNTER_CUT_GRACE, 1);
        counters_add(0, COUNTER_CLOSED, 1);
    });
    counters_add(0, COUNTER_CLOSED, 1); /* This process's own connection finished. */
    stop_report_end();
    text = stderr_since();
    assert_non_null(strstr(text, "sockserv: stopped: 1 finished, 2 cut at grace\n"));
    counters_free();
}

int main(void)
{
    log_set_level(LOG_INFO);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_figures_cover_children_and_only_the_reporter_logs),
    };
    return cmocka_run_group_tests(tests, capture_stderr, NULL);
}
