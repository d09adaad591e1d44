#include "loadgen/udp_rate_hint.h"

#include <inttypes.h>
#include <stdio.h>

#include "core/udp_guard.h"
#include "loadgen/clock_ns.h"

/* The bucket is refilled by the clock, not by exact arithmetic, and a run's
 * elapsed time is measured after its last reply: allow a little over. */
#define SLACK 1.1
#define SLACK_REPLIES 10

bool bench_udp_rate_hint(const struct bench_config *cfg, const struct bench_stats *stats,
                         char *line, size_t len)
{
    if (cfg->target.spec.transport != TRANSPORT_UDP || cfg->hold)
        return false;
    uint64_t lost = stats->errors[BENCH_ERROR_TIMEOUT];
    if (stats->ok == 0 || lost == 0)
        return false;
    double elapsed_s = (double)stats->elapsed_ns / (double)NS_PER_S;
    double warmup_s = (double)cfg->warmup_ns / (double)NS_PER_S;
    /* The most the limit lets through: a full bucket, then its rate, over
     * the warmup too (its replies are not counted, but spend tokens). */
    double most = UDP_BURST_DEFAULT + UDP_RATE_DEFAULT * (elapsed_s + warmup_s);
    /* Clients stuck waiting out --timeout still get at least about a
     * burst's or a second's worth; far fewer replies is a slow or lossy
     * server, which the limit does not explain. */
    double fewest = UDP_RATE_DEFAULT * elapsed_s;
    if (fewest > UDP_BURST_DEFAULT)
        fewest = UDP_BURST_DEFAULT;
    fewest /= 2;
    double ok = (double)stats->ok;
    if (ok > most * SLACK + SLACK_REPLIES || ok < fewest)
        return false;
    snprintf(line, len,
             "hint: %" PRIu64 " replies in %.2fs with %" PRIu64
             " requests unanswered is what sockserv serve's default UDP limit per source "
             "address lets through (%d/s, burst %d, shared by every client here): serve with "
             "--udp-rate off to measure the server",
             stats->ok, elapsed_s, lost, UDP_RATE_DEFAULT, UDP_BURST_DEFAULT);
    return true;
}
