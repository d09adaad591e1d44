#include "core/counters_dump.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/counters.h"
#include "core/error.h"
#include "core/log.h"

/* The dump thread formats and logs; it needs little stack. */
#define DUMP_STACK_SIZE (128 * 1024)
/* Worker and loop pairs dumped; as many as the metrics service shows. */
#define DUMP_LOOPS_MAX 512

/* Small appends to one log line; a line too long is cut by the log. */
struct line {
    char text[1024];
    size_t used;
};

static void add(struct line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add(struct line *l, const char *fmt, ...)
{
    if (l->used >= sizeof(l->text))
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(l->text + l->used, sizeof(l->text) - l->used, fmt, ap);
    va_end(ap);
    if (n > 0)
        l->used += (size_t)n;
}

/* ", refused 3 (denied 2, full 1)": the total, and its reasons when any. */
static void add_reasons(struct line *l, size_t listener, const char *what,
                        const struct counter_reason *table)
{
    int64_t total = counters_sum_reasons(listener, table);
    add(l, ", %s %lld", what, (long long)total);
    if (total == 0)
        return;
    const char *sep = " (";
    for (size_t i = 0; table[i].name; i++) {
        int64_t n = counters_sum(listener, table[i].counter);
        if (n != 0) {
            add(l, "%s%s %lld", sep, table[i].name, (long long)n);
            sep = ", ";
        }
    }
    add(l, ")");
}

static void dump_listener(size_t i)
{
    const char *name = counters_name(i);
    const char *slash = strrchr(name, '/');
    struct line l = {.used = 0};
    add(&l, "metrics %s:", name);
    if (strncmp(name, "udp://", 6) == 0) {
        add(&l, " datagrams in %lld out %lld", (long long)counters_sum(i, COUNTER_DATAGRAMS_IN),
            (long long)counters_sum(i, COUNTER_DATAGRAMS_OUT));
        add_reasons(&l, i, "dropped", counters_drops);
    } else {
        add(&l, " open %lld, accepted %lld", (long long)counters_open(i),
            (long long)counters_sum(i, COUNTER_ACCEPTED));
        add_reasons(&l, i, "refused", counters_refusals);
        add_reasons(&l, i, "cut", counters_cuts);
    }
    add(&l, ", bytes in %lld out %lld", (long long)counters_sum(i, COUNTER_BYTES_IN),
        (long long)counters_sum(i, COUNTER_BYTES_OUT));
    if (slash && strcmp(slash + 1, "chat") == 0)
        add(&l, ", members %lld, rooms %lld", (long long)counters_sum(i, COUNTER_CHAT_MEMBERS),
            (long long)counters_sum(i, COUNTER_CHAT_ROOMS));
    log_info("%s", l.text);
}

void counters_dump(void)
{
    for (size_t i = 0; i < counters_listeners(); i++)
        dump_listener(i);
    struct counters_loop loops[DUMP_LOOPS_MAX];
    size_t n = counters_open_by_loop(loops, DUMP_LOOPS_MAX);
    for (size_t i = 0; i < n; i++) {
        struct line l = {.used = 0};
        add(&l, "metrics");
        if (loops[i].worker >= 0)
            add(&l, " worker %d", loops[i].worker);
        if (loops[i].loop >= 0)
            add(&l, " loop %d", loops[i].loop);
        else
            add(&l, "%s no loop", loops[i].worker >= 0 ? "," : "");
        add(&l, ": open %lld", (long long)loops[i].open);
        log_info("%s", l.text);
    }
}

static void *dump_on_signal(void *arg)
{
    const sigset_t *usr1 = arg;
    for (;;) {
        int signo = sigwaitinfo(usr1, NULL);
        if (signo == SIGUSR1)
            counters_dump();
        else if (signo < 0 && errno != EINTR)
            return NULL;
    }
}

static int start_thread(sigset_t *usr1)
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, DUMP_STACK_SIZE);
    pthread_t tid;
    int rc = pthread_create(&tid, &attr, dump_on_signal, usr1);
    pthread_attr_destroy(&attr);
    if (rc != 0)
        return rc;
    /* Named, so that whoever counts a server's threads can tell it from
     * the serving ones; a name is a nicety, so a failure is ignored. */
    (void)pthread_setname_np(tid, COUNTERS_DUMP_THREAD);
    return 0;
}

int counters_dump_start(char *err, size_t errlen)
{
    /* Static: the thread reads it for as long as the process lives. */
    static sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    /* The thread starts with every signal blocked, so no signal meant for
     * the others lands there: a SIGCHLD a model reads from a signalfd
     * would be discarded, a SIGTERM handled where nobody waits. */
    sigset_t all, before;
    sigfillset(&all);
    int rc = pthread_sigmask(SIG_BLOCK, &all, &before);
    if (rc != 0)
        return error_set(err, errlen, "cannot block signals: %s", strerror(rc));
    rc = start_thread(&usr1);
    /* This thread and everything it starts keep SIGUSR1 blocked. */
    sigaddset(&before, SIGUSR1);
    int restored = pthread_sigmask(SIG_SETMASK, &before, NULL);
    if (rc != 0)
        return error_set(err, errlen, "cannot start the SIGUSR1 thread: %s", strerror(rc));
    if (restored != 0)
        return error_set(err, errlen, "cannot block SIGUSR1: %s", strerror(restored));
    return 0;
}
