/* Rate-limited refusal lines (see refusal_log.h). */
#include "core/refusal_log.h"

#include <stdatomic.h>
#include <stdbool.h>

#include "core/clock.h"
#include "core/log.h"

#define LOG_INTERVAL_MS 1000

struct reason_log {
    const char *what;   /* "refused" or "dropped": the line's verb and event. */
    const char *code;   /* The reason for a program: the event's "reason". */
    const char *reason; /* Why, as the text line ends. */
    _Atomic int64_t last_ms;
    _Atomic uint64_t pending; /* Since the last line. */
    _Atomic uint64_t total;
};

static struct reason_log logs[REFUSAL_REASON_COUNT] = {
    [REFUSAL_DENIED] = {.what = "refused", .code = "denied", .reason = "denied"},
    [REFUSAL_NOT_ALLOWED] = {.what = "refused",
                             .code = "not_allowed",
                             .reason = "not in the allow list"},
    [REFUSAL_PER_SOURCE] = {.what = "refused",
                            .code = "per_source",
                            .reason = "--max-per-source reached"},
    [REFUSAL_CONNECT_RATE] = {.what = "refused",
                              .code = "connect_rate",
                              .reason = "--connect-rate exceeded"},
    [REFUSAL_SOURCES_FULL] = {.what = "refused",
                              .code = "sources_full",
                              .reason = "too many sources to track their limits"},
    [REFUSAL_FULL] = {.what = "refused",
                      .code = "full",
                      .reason = "--max-conns reached (--overflow refuse)"},
    [REFUSAL_DATAGRAM_DENIED] = {.what = "dropped", .code = "denied", .reason = "denied"},
};

void refusal_log_note(enum refusal_reason reason, const char *listener, const struct address *peer)
{
    if ((unsigned)reason >= REFUSAL_REASON_COUNT)
        return;
    struct reason_log *r = &logs[reason];
    atomic_fetch_add(&r->pending, 1);
    uint64_t total = atomic_fetch_add(&r->total, 1) + 1;
    if (!log_enabled(LOG_WARN))
        return;
    int64_t now = clock_now_ms();
    int64_t last = atomic_load(&r->last_ms);
    if (last != 0 && now - last < LOG_INTERVAL_MS)
        return;
    if (!atomic_compare_exchange_strong(&r->last_ms, &last, now ? now : 1))
        return; /* Another thread writes this second's line. */
    uint64_t n = atomic_exchange(&r->pending, 0);
    char from[ADDRESS_TEXT_MAX];
    address_format_host(peer, from, sizeof from);
    bool datagram = reason == REFUSAL_DATAGRAM_DENIED;
    struct log_field fields[] = {
        LOG_TEXT("event", r->what), LOG_TEXT("reason", r->code), LOG_TEXT("listener", listener),
        LOG_TEXT("peer", from),     LOG_COUNT("count", n),       LOG_COUNT("total", total),
    };
    log_event(LOG_WARN, fields, sizeof(fields) / sizeof(fields[0]),
              "%s %llu %s%s from %s%s: %s (total %llu)", r->what, (unsigned long long)n,
              datagram ? "datagram" : "client", n == 1 ? "" : "s", from, n > 1 ? " and others" : "",
              r->reason, (unsigned long long)total);
}

uint64_t refusal_log_total(enum refusal_reason reason)
{
    return (unsigned)reason < REFUSAL_REASON_COUNT ? atomic_load(&logs[reason].total) : 0;
}
