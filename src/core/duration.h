/*
 * Durations as users write them on the command line: "250ms", "5s", "1.5m".
 *
 * A duration is a non-negative count of milliseconds. The accepted units are
 * us, ms, s, m and h; a bare number means seconds, as sleep(1) reads it. A
 * number may start with its point (".5s" is "0.5s"), but needs a digit after
 * it.
 * Parsing is strict: no trailing junk, no negative values, no overflow, and
 * nothing above DURATION_MAX_MS, so every caller can add two durations to a
 * monotonic clock reading without overflow.
 */
#ifndef SOCKSERV_DURATION_H
#define SOCKSERV_DURATION_H

#include <stddef.h>
#include <stdint.h>

/* One week: long enough for any timeout, short enough to never overflow. */
#define DURATION_MAX_MS (7LL * 24 * 3600 * 1000)

/*
 * Parses text into *out_ms. Microsecond values round up to whole
 * milliseconds, so "1us" is 1 ms, never 0. Returns 0 on success, or -1 with
 * a one-line reason (without the input echoed) written into err.
 */
int duration_parse(const char *text, int64_t *out_ms, char *err, size_t errlen);

/* Writes a short human form ("250ms", "5s", "1m30s") into buf. */
void duration_format(int64_t ms, char *buf, size_t buflen);

#endif
