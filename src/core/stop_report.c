#include "core/stop_report.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/duration.h"
#include "core/log.h"
#include "core/stop.h"

struct slot {
    /* Each slot on a cache line of its own: workers count in parallel. */
    _Alignas(64) atomic_llong open; /* Opened less closed. */
    atomic_llong cut;               /* Cut at the end of the grace. */
};

static struct slot local_slot;
static struct slot *slots = &local_slot;
static size_t slot_count = 1;
static size_t my_slot;
static pid_t reporter; /* 0: nobody reports. */

/* In the reporter alone: the connections open as the stop began; -1
 * before. */
static atomic_llong open_at_stop = -1;

_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "the counts are read in a signal handler");

int stop_report_init(size_t count)
{
    if (count == 0)
        count = 1;
    void *mem = mmap(NULL, count * sizeof(struct slot), PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED)
        return -1;
    slots = mem; /* Zeroed by mmap: every count starts at 0. */
    slot_count = count;
    my_slot = 0;
    reporter = getpid();
    return 0;
}

void stop_report_use_slot(size_t slot)
{
    if (slot < slot_count)
        my_slot = slot;
}

void stop_report_forget_slot(size_t slot)
{
    if (slot < slot_count)
        atomic_store(&slots[slot].open, 0);
}

void stop_report_opened(void)
{
    atomic_fetch_add_explicit(&slots[my_slot].open, 1, memory_order_relaxed);
}

void stop_report_closed(void)
{
    atomic_fetch_sub_explicit(&slots[my_slot].open, 1, memory_order_relaxed);
}

void stop_report_cut(void)
{
    atomic_fetch_add_explicit(&slots[my_slot].cut, 1, memory_order_relaxed);
}

static long long sum(bool cut)
{
    long long total = 0;
    for (size_t i = 0; i < slot_count; i++)
        total += atomic_load(cut ? &slots[i].cut : &slots[i].open);
    return total;
}

static bool reporting(void)
{
    return reporter != 0 && getpid() == reporter;
}

void stop_report_begin(int64_t grace_ms)
{
    if (!reporting())
        return;
    long long open = sum(false);
    if (open < 0)
        open = 0;
    long long none = -1;
    if (!atomic_compare_exchange_strong(&open_at_stop, &none, open))
        return;
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

/* The end's figures: connections still open were cut with the server. */
static void end_figures(long long *finished, long long *cut)
{
    long long open = sum(false);
    *cut = sum(true) + (open > 0 ? open : 0);
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
    long long none = -1;
    long long open_now = sum(false);
    atomic_compare_exchange_strong(&open_at_stop, &none, open_now > 0 ? open_now : 0);
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
