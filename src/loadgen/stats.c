/* Counting and merging what the loops measured. */
#include "loadgen/loadgen.h"

#include <string.h>

const char *bench_error_name(enum bench_error e)
{
    switch (e) {
    case BENCH_ERROR_TIMEOUT:
        return "timeout";
    case BENCH_ERROR_MISMATCH:
        return "mismatch";
    case BENCH_ERROR_RESET:
        return "reset";
    case BENCH_ERROR_REFUSED:
        return "refused";
    case BENCH_ERROR_OTHER:
    case BENCH_ERROR_COUNT:
        break;
    }
    return "other";
}

void bench_stats_init(struct bench_stats *s)
{
    memset(s, 0, sizeof(*s));
    histogram_init(&s->latency);
}

void bench_stats_merge(struct bench_stats *into, const struct bench_stats *from)
{
    histogram_merge(&into->latency, &from->latency);
    into->ok += from->ok;
    for (int k = 0; k < BENCH_ERROR_COUNT; k++)
        into->errors[k] += from->errors[k];
    if (into->first_other_errno == 0)
        into->first_other_errno = from->first_other_errno;
    into->bytes_sent += from->bytes_sent;
    into->bytes_received += from->bytes_received;
    into->connections_made += from->connections_made;
    into->connections_failed += from->connections_failed;
    into->behind_schedule += from->behind_schedule;
    into->late_replies += from->late_replies;
    if (from->elapsed_ns > into->elapsed_ns)
        into->elapsed_ns = from->elapsed_ns;
    into->held.open += from->held.open;
    into->held.failed += from->held.failed;
    if (from->held.after_ns > into->held.after_ns)
        into->held.after_ns = from->held.after_ns;
}

uint64_t bench_stats_errors(const struct bench_stats *s)
{
    uint64_t total = 0;
    for (int k = 0; k < BENCH_ERROR_COUNT; k++)
        total += s->errors[k];
    return total;
}
