/*
 * Admission: whether a listener serves a new client, by its access list
 * (core/access_list.h) and its per-source limits (core/source_limits.h).
 * Each listener spec has at most one admission, shared by every socket the
 * spec bound and every copy of them; NULL admits everyone.
 *
 * A refusal is counted for the operator (core/counters.h, by reason) and
 * logged at most once a second per reason (core/refusal_log.h). A stream
 * client admitted here holds a slot of its source until
 * admission_release: whoever ends the connection calls it once.
 */
#ifndef SOCKSERV_ADMISSION_H
#define SOCKSERV_ADMISSION_H

#include <stdbool.h>
#include <stddef.h>

#include "core/access_list.h"
#include "core/address.h"
#include "core/source_limits.h"

struct admission {
    const struct access_list *access; /* NULL or empty: everyone. */
    struct source_table *sources;     /* NULL: no per-source limit. */
};

/* Judges a new TCP client of spec spec_index; true to serve it. */
bool admission_admit_stream(const struct admission *a, size_t spec_index,
                            const struct address *peer);

/* The connection admission_admit_stream admitted has ended. */
void admission_release(const struct admission *a, const struct address *peer);

/* Judges a UDP datagram by the access list alone (UDP has --udp-rate). */
bool admission_admit_datagram(const struct admission *a, size_t spec_index,
                              const struct address *peer);

#endif
