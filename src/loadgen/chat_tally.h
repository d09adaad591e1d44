/*
 * What `sockserv bench --chat-receive` counts: every line each chat member
 * receives, cut from its stream and checked.
 *
 * The senders (bench/experiments/chat_fanout.py) send lines of the form
 * "M PHASE SENDER SEQ SENT_NS ..."; the chat server delivers each as
 * "NICK: M PHASE SENDER SEQ SENT_NS ...". For every receiver and every
 * (phase, sender) the tally knows the next sequence number due, so a line
 * that skips ahead is a gap (counted by how many lines it skipped) and one
 * that comes again or late is a duplicate or reordered. SENT_NS is
 * CLOCK_MONOTONIC at sending, the same clock on every process of the
 * machine, so the delivery latency is the time the read returned minus it.
 * Per line it also keeps the latency to the first and to the last receiver
 * that read it: the server's reaction and the whole room's.
 *
 * A tally belongs to one event loop's thread; only the delivered count is
 * published, through an atomic store another thread or process may read.
 */
#ifndef SOCKSERV_LOADGEN_CHAT_TALLY_H
#define SOCKSERV_LOADGEN_CHAT_TALLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loadgen/histogram.h"

/* PHASE is one digit. */
#define CHAT_PHASES 10
/* Lines from a sender numbered at or above this are counted, not checked. */
#define CHAT_SENDERS_MAX 16
/* The head of a line kept while its end has not arrived: enough for any
 * nick, the numbers, and the server's notices. */
#define CHAT_LINE_HEAD 192
/* Per (phase, sender): lines whose first and last delivery are kept. */
#define CHAT_SPAN_LINES_MAX (1u << 20)

/* The first and the last delivery latency of one line. */
struct chat_span {
    int64_t first_ns;
    int64_t last_ns;
};

struct chat_sender_tally {
    uint32_t lines_seen;     /* The highest SEQ any receiver got, plus one. */
    uint64_t next_due_sum;   /* Over every receiver: lines it got up to its next due. */
    struct chat_span *spans; /* Indexed by SEQ; span_len of them. */
    uint32_t span_len;
    uint32_t span_cap;
};

struct chat_phase_tally {
    uint64_t deliveries;
    uint64_t gaps;       /* Lines skipped over. */
    uint64_t duplicates; /* Lines that came again or after a later one. */
    int64_t last_ns;     /* When the last delivery was read (CLOCK_MONOTONIC). */
    struct histogram latency;
    struct chat_sender_tally senders[CHAT_SENDERS_MAX];
};

struct chat_tally {
    uint32_t receivers;
    uint64_t welcomed;
    uint64_t too_slow_notices; /* Lines of the server's telling of a member dropped. */
    uint64_t unchecked_lines;  /* Sender lines beyond CHAT_SENDERS_MAX, or malformed. */
    uint64_t delivered;        /* Every checked line, all phases. */
    uint64_t *published;       /* Where delivered is also stored; NULL: nowhere. */
    char first_anomaly[160];   /* Empty while there is none. */
    struct chat_phase_tally phases[CHAT_PHASES];
    /* Per receiver. */
    uint32_t *next_due; /* [receiver][phase][sender] */
    char *heads;        /* [receiver][CHAT_LINE_HEAD] */
    uint16_t *head_len;
    bool *skipping;    /* The line's head is full; the rest is skipped to its end. */
    bool *welcomed_by; /* Whether each receiver was welcomed. */
};

/* Returns NULL when memory runs out. published may be NULL. */
struct chat_tally *chat_tally_create(uint32_t receivers, uint64_t *published);
void chat_tally_free(struct chat_tally *t);

/*
 * Takes n bytes that receiver read at now. Returns true when they held its
 * welcome: the moment it became a member of the room.
 */
bool chat_tally_take(struct chat_tally *t, uint32_t receiver, const uint8_t *data, size_t n,
                     int64_t now);

/* Per phase: receivers whose next line due from every sender is that
 * sender's lines_seen, that is, who got every line any receiver got. */
uint32_t chat_tally_receivers_complete(const struct chat_tally *t, unsigned phase);

/* Fills first and last (initialised here) with, per line of the phase, the
 * latency to its first and to its last receiver. */
void chat_tally_spans(const struct chat_tally *t, unsigned phase, struct histogram *first,
                      struct histogram *last);

#endif
