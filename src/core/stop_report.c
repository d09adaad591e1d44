#include "core/stop_report.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <unistd.h>

#include "core/counters.h"
#include "core/duration.h"
#include "core/log.h"
#include "core/stop.h"

static pid_t reporter; /* 0: nobody reports. */

/* In the reporter alone: the connections open as the stop began (-1
 * before), and the cuts counted before it, which the stop's figures leave
 * out. */
static atomic_llong open_at_stop = -1;
static atomic_llong cut_before_stop;

_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "the figures are read in a signal handler");

void stop_report_init(void)
{
    reporter = getpid();
}

/* The server's TCP connections open now, or cut at grace so far: sums of
 * core/counters.h, which every worker and connection process counts into
 * and which read without a lock, so a signal handler may call this. */
static long long sum(bool cut)
{
    long long total = 0;
    for (size_t l = 0; l < counters_listeners(); l++)
        total +=
            cut ? counters_sum(l, COUNTER_CUT_GRACE) + counters_sum(l, COUNTER_CUT_PROCESS_DIED)
                : counters_open(l);
    return total;
}

/* Takes the figures the stop starts from, once; false when it was taken
 * already. */
static bool mark_stop_start(void)
{
    long long open = sum(false), cut = sum(true);
    long long none = -1;
    if (!atomic_compare_exchange_strong(&open_at_stop, &none, open > 0 ? open : 0))
        return false;
    atomic_store(&cut_before_stop, cut);
    return true;
}

static bool reporting(void)
{
    return reporter != 0 && getpid() == reporter;
}

void stop_report_begin(int64_t grace_ms)
{
    if (!reporting())
        return;
    if (!mark_stop_start())
        return;
    long long open = atomic_load(&open_at_stop);
    char grace[32];
    duration_format(grace_ms, grace, sizeof(grace));
    struct log_field fields[] = {
        LOG_TEXT("event", "stopping"),
        LOG_COUNT("open", open),
        LOG_NUMBER("grace_ms", grace_ms),
    };
    log_event(LOG_INFO, fields, 3, "stopping: %lld connection%s open, grace %s", open,
              open == 1 ? "" : "s", grace);
}

/* The end's figures: connections cut since the stop began, at the grace or
 * with a process that died, and those still open, cut with the server. */
static void end_figures(long long *finished, long long *cut)
{
    long long open = sum(false);
    *cut = sum(true) - atomic_load(&cut_before_stop) + (open > 0 ? open : 0);
    *finished = atomic_load(&open_at_stop) - *cut;
    if (*finished < 0)
        *finished = 0;
}

void stop_report_end(void)
{
    if (stop_at_once_requested()) {
        stop_report_end_at_once();
        return;
    }
    if (!reporting() || atomic_load(&open_at_stop) < 0)
        return;
    long long finished, cut;
    end_figures(&finished, &cut);
    struct log_field fields[] = {
        LOG_TEXT("event", "stopped"),
        LOG_COUNT("finished", finished),
        LOG_COUNT("cut", cut),
    };
    log_event(LOG_INFO, fields, 3, "stopped: %lld finished, %lld cut at grace", finished, cut);
}

void stop_report_end_at_once(void)
{
    if (!reporting())
        return;
    /* A second signal may come before the first was seen by anyone. */
    mark_stop_start();
    long long finished, cut;
    end_figures(&finished, &cut);
    struct log_field fields[] = {
        LOG_TEXT("event", "stopped"),
        LOG_COUNT("finished", finished),
        LOG_COUNT("cut", cut),
        LOG_TEXT("how", "at once"),
    };
    /* No printf here: the message is fixed and the figures are fields in
     * JSON; text lines spell them out by hand. */
    char msg[96] = "stopped at once: ";
    size_t len = 17;
    struct {
        long long v;
        const char *after;
    } parts[] = {{finished, " finished, "}, {cut, " cut"}};
    for (size_t p = 0; p < 2; p++) {
        char digits[24];
        size_t n = 0;
        unsigned long long v = (unsigned long long)parts[p].v;
        do {
            digits[n++] = (char)('0' + v % 10);
            v /= 10;
        } while (v);
        while (n > 0)
            msg[len++] = digits[--n];
        for (const char *a = parts[p].after; *a; a++)
            msg[len++] = *a;
    }
    msg[len] = '\0';
    log_signal_safe(LOG_INFO, msg, fields, 4);
}
