/* Admission of new clients: access list first, then per-source limits. */
#include "core/admission.h"

#include "core/clock.h"
#include "core/counters.h"
#include "core/refusal_log.h"

static void refuse(size_t spec_index, enum counter counter, enum refusal_reason reason,
                   const struct address *peer)
{
    counters_add(spec_index, counter, 1);
    refusal_log_note(reason, counters_name(spec_index), peer);
}

bool admission_admit_stream(const struct admission *a, size_t spec_index,
                            const struct address *peer)
{
    if (a == NULL)
        return true;
    switch (access_list_check(a->access, peer)) {
    case ACCESS_ALLOWED:
        break;
    case ACCESS_DENIED:
        refuse(spec_index, COUNTER_REFUSED_DENIED, REFUSAL_DENIED, peer);
        return false;
    case ACCESS_NOT_ALLOWED:
        refuse(spec_index, COUNTER_REFUSED_NOT_ALLOWED, REFUSAL_NOT_ALLOWED, peer);
        return false;
    }
    if (a->sources == NULL)
        return true;
    switch (source_table_admit(a->sources, peer, clock_now_ms())) {
    case SOURCE_OK:
        return true;
    case SOURCE_TOO_MANY:
        refuse(spec_index, COUNTER_REFUSED_PER_SOURCE, REFUSAL_PER_SOURCE, peer);
        return false;
    case SOURCE_TOO_FAST:
        refuse(spec_index, COUNTER_REFUSED_CONNECT_RATE, REFUSAL_CONNECT_RATE, peer);
        return false;
    case SOURCE_TABLE_FULL:
        /* Counted with the per-source refusals, logged with its own reason. */
        refuse(spec_index, COUNTER_REFUSED_PER_SOURCE, REFUSAL_SOURCES_FULL, peer);
        return false;
    }
    return false;
}

void admission_release(const struct admission *a, const struct address *peer)
{
    if (a != NULL && a->sources != NULL)
        source_table_release(a->sources, peer);
}

bool admission_admit_datagram(const struct admission *a, size_t spec_index,
                              const struct address *peer)
{
    if (a == NULL || access_list_check(a->access, peer) == ACCESS_ALLOWED)
        return true;
    refuse(spec_index, COUNTER_DATAGRAMS_DENIED, REFUSAL_DATAGRAM_DENIED, peer);
    return false;
}
