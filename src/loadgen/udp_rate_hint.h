/*
 * Why a UDP run may have measured a door, not a server.
 *
 * sockserv serve answers each UDP source address at most UDP_RATE_DEFAULT
 * datagrams a second, after a burst of UDP_BURST_DEFAULT, unless it runs
 * with --udp-rate off (core/udp_guard.h), and every client of one bench
 * sends from the same address. A run against a default server therefore
 * gets its burst, then requests vanish and time out: the replies never
 * pass what the limit lets through, whatever the server could do. When a
 * run looks like that, the hint says so in one line, naming the option, so
 * nobody publishes the limit as the server's speed.
 */
#ifndef SOCKSERV_LOADGEN_UDP_RATE_HINT_H
#define SOCKSERV_LOADGEN_UDP_RATE_HINT_H

#include <stdbool.h>
#include <stddef.h>

#include "loadgen/loadgen.h"

/*
 * True when cfg's run was over UDP, some requests went unanswered, and the
 * replies stayed within what sockserv serve's default per-source limit
 * lets through (and were not far below it); then line holds the hint,
 * without a newline.
 */
bool bench_udp_rate_hint(const struct bench_config *cfg, const struct bench_stats *stats,
                         char *line, size_t len);

#endif
