/*
 * Per-source limits for one listener spec: how many TCP connections one
 * source may hold open at once (--max-per-source) and how many it may open
 * a second (--connect-rate, a token bucket per source). A source is an
 * IPv4 address, or an IPv6 address cut to a prefix (/64 by default, since
 * one host is usually given a whole /64); IPv4-mapped IPv6 is IPv4.
 *
 * The limits hold for the whole server: one table per spec lives in a
 * MAP_SHARED anonymous mapping made before any worker forks, so every
 * loop, thread, worker and connection process consults the same counts,
 * under one process-shared robust mutex (a worker that dies holding it
 * leaves it usable: EOWNERDEAD is taken as "consistent again").
 *
 * The table is bounded (SOURCE_TABLE_CAPACITY sources). A source is looked
 * for in a window of SOURCE_TABLE_PROBE slots from its hash; a new source
 * takes a free slot there, or the slot of a source with no connection open
 * whose bucket has refilled (it has nothing left to remember). When the
 * window holds only sources that still matter, the new source is refused
 * (SOURCE_TABLE_FULL): failing closed keeps the limits a limit when a
 * flood of addresses fills the table; the sources already known carry on.
 *
 * Counts are kept per column, one column per worker process (column 0
 * without workers), and summed for the check: the supervisor calls
 * source_limits_forget_column when it reaps a dead worker, so the
 * connections that died with it stop counting.
 */
#ifndef SOCKSERV_SOURCE_LIMITS_H
#define SOCKSERV_SOURCE_LIMITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/address.h"

#define SOURCE_TABLE_CAPACITY 8192
#define SOURCE_TABLE_PROBE 32
#define SOURCE_PREFIX6_DEFAULT 64
/* Per worker and source: the table keeps 16-bit counts per column. */
#define SOURCE_MAX_PER_SOURCE_CEILING 65535

struct source_settings {
    uint32_t max_per_source;         /* 0: no limit. */
    uint32_t rate_per_second, burst; /* rate 0: no limit. */
    unsigned prefix6;                /* 1..128 bits that name an IPv6 source. */
};

enum source_verdict {
    SOURCE_OK,
    SOURCE_TOO_MANY,  /* max_per_source connections already open. */
    SOURCE_TOO_FAST,  /* The source's bucket is empty. */
    SOURCE_TABLE_FULL /* A new source, and no room to track it. */
};

struct source_table;

/* True when settings limit anything, so a table is worth making. */
bool source_settings_active(const struct source_settings *settings);

/* Maps a table with columns count columns (workers, or 1). Call before
 * any worker forks. NULL with errno set on failure. Tables are remembered
 * so source_limits_forget_column reaches every one. */
struct source_table *source_table_create(const struct source_settings *settings, unsigned columns);

/* Unmaps every table (tests; a server keeps them to the end). */
void source_limits_free_all(void);

/* The column this process counts in: its worker index (0 by default).
 * Set by a worker as it starts, inherited by what it forks. */
void source_limits_set_column(unsigned column);

/* Admits one new connection from peer at now_ms (monotonic), counting it
 * open on success: every SOURCE_OK must be matched by one release. */
enum source_verdict source_table_admit(struct source_table *t, const struct address *peer,
                                       int64_t now_ms);

/* The connection admitted from peer has ended. */
void source_table_release(struct source_table *t, const struct address *peer);

/* Open connections counted for peer's source (tests, logs). */
uint32_t source_table_open(struct source_table *t, const struct address *peer);

/* Forgets column's counts in every table: a worker died with them. */
void source_limits_forget_column(unsigned column);

#endif
