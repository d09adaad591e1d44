/*
 * The log of refused clients and dropped datagrams, at most one line a
 * second per reason, with a running count, so a flood cannot flood the
 * log: "refused 37 clients from 10.1.2.3 and others: denied (total 412)".
 * The line is an event (core/log.h): "refused" or "dropped", with the
 * reason's short name, the peer, count and total as fields.
 *
 * Any thread may call refusal_log_note. It takes no lock: the counts are
 * atomics, and whoever finds the reason's second over wins a
 * compare-and-swap on its timestamp and writes the line. Refusals are not
 * the hot path, and the exact split of counts between two lines that race
 * does not matter; the total does, and it is exact. Counts are per
 * process (each worker logs its own).
 */
#ifndef SOCKSERV_REFUSAL_LOG_H
#define SOCKSERV_REFUSAL_LOG_H

#include <stdint.h>

#include "core/address.h"

enum refusal_reason {
    REFUSAL_DENIED,          /* A deny rule matched. */
    REFUSAL_NOT_ALLOWED,     /* Allow rules exist, and none matched. */
    REFUSAL_PER_SOURCE,      /* --max-per-source reached. */
    REFUSAL_CONNECT_RATE,    /* --connect-rate exceeded. */
    REFUSAL_SOURCES_FULL,    /* Too many sources to track their limits. */
    REFUSAL_FULL,            /* --max-conns reached, with --overflow refuse. */
    REFUSAL_DATAGRAM_DENIED, /* A UDP datagram from a denied source. */
    REFUSAL_REASON_COUNT
};

/* Counts one refusal of peer by listener (its name, for the event's
 * "listener" field: the latest one's when a line covers several) for
 * reason, and logs (as a warning) when the reason has not been logged for
 * a second. */
void refusal_log_note(enum refusal_reason reason, const char *listener, const struct address *peer);

/* Refusals counted for reason in this process since it started. */
uint64_t refusal_log_total(enum refusal_reason reason);

#endif
