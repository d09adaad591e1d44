/*
 * Live counts for the operator (the metrics service): for each
 * listener spec, how many clients were accepted, refused and why, bytes in
 * and out, datagrams and their drops.
 *
 * Counting sits on every connection's path, so it takes no lock and no
 * atomic read-modify-write there: each thread that serves claims a slot of
 * its own and is the only writer of it; a reader sums every slot. The slots
 * live in one shared mapping made before any worker is forked, so under
 * --workers any process's sum covers them all. A thread that holds no slot
 * (more threads than slots, or one that never claimed) adds to slot 0 with
 * an atomic add instead: correct, only slower.
 *
 * A gauge (connections open, chat members) is two counters or one counter
 * moved both ways: values are signed and only their sums mean anything.
 */
#ifndef SOCKSERV_COUNTERS_H
#define SOCKSERV_COUNTERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum counter {
    COUNTER_ACCEPTED, /* TCP clients taken from the backlog and served. */
    COUNTER_CLOSED,   /* TCP connections ended, for whatever reason. */
    /* TCP clients closed at once, by reason. */
    COUNTER_REFUSED_DENIED,         /* --deny matched. */
    COUNTER_REFUSED_NOT_ALLOWED,    /* --allow given, and nothing matched. */
    COUNTER_REFUSED_PER_SOURCE,     /* --max-per-source reached. */
    COUNTER_REFUSED_CONNECT_RATE,   /* --connect-rate exceeded. */
    COUNTER_REFUSED_FULL,           /* --max-conns reached, with --overflow refuse. */
    COUNTER_REFUSED_NO_DESCRIPTORS, /* Shed while out of descriptors. */
    /* Connections the server cut, by reason. */
    COUNTER_CUT_IDLE,            /* --idle-timeout. */
    COUNTER_CUT_REQUEST_TIMEOUT, /* --request-timeout. */
    COUNTER_CUT_SLOW_READER,     /* --max-queue. */
    COUNTER_CUT_GRACE,           /* Still open when the grace period ran out. */
    /* Open when their process died (a worker or connection process killed
     * or crashed): counted by counters_release_process. */
    COUNTER_CUT_PROCESS_DIED,
    COUNTER_BYTES_IN,
    COUNTER_BYTES_OUT,
    COUNTER_DATAGRAMS_IN,  /* UDP requests received. */
    COUNTER_DATAGRAMS_OUT, /* UDP replies sent. */
    /* UDP datagrams dropped, by reason. */
    COUNTER_DATAGRAMS_DENIED,        /* --deny, or --allow without a match. */
    COUNTER_DATAGRAMS_RATE,          /* --udp-rate exceeded. */
    COUNTER_DATAGRAMS_OWN_PORT,      /* From a port the server refuses (udp_guard). */
    COUNTER_DATAGRAMS_BAD_SOURCE,    /* From an address no client has (udp_guard). */
    COUNTER_DATAGRAMS_BUSY,          /* --max-datagrams reached, or --datagram-time. */
    COUNTER_DATAGRAMS_AMPLIFICATION, /* A reply over the amplification bound. */
    COUNTER_CHAT_MEMBERS,            /* Gauge: chat members connected. */
    COUNTER_CHAT_ROOMS,              /* Gauge: chat rooms with a member. */
    COUNTER_COUNT
};

/*
 * Makes the shared slots for listeners listener specs; call once, before
 * any thread or worker starts. Until then (and in commands that never call
 * it) counters_add does nothing and every sum is 0. Returns 0, or -1 with
 * errno set.
 */
int counters_init(size_t listeners);

/* Frees the slots (tests; a server keeps them to the end). */
void counters_free(void);

/*
 * Gives the calling thread a slot of its own, labelled with the worker
 * (-1: no workers) and event loop (-1: not an event loop, e.g. the thread
 * model's thread per connection) it serves, so per-loop figures can be
 * told apart. What a slot counted stays in it after release and counts in
 * every sum. A thread that finds none free keeps to the shared slot.
 */
void counters_claim_slot(int worker, int loop);
void counters_release_slot(void);

/* Releases every slot a process held: the supervisor calls it for a worker
 * that died, whose threads never released theirs, and the fork model for
 * each connection process. The kernel closed whatever connections the
 * process still had open, so they are counted closed (COUNTER_CLOSED made
 * equal to COUNTER_ACCEPTED in its slots) and the open gauge goes back
 * down. Chat's gauges are left alone: chat never runs in a process that
 * can die on its own (--workers and fork refuse it). */
void counters_release_process(pid_t pid);

/* Names listener (its first socket's name, "tcp://127.0.0.1:7007/echo"),
 * for the metrics service. Call after counters_init
 * and before any worker forks, so every process has the names. */
void counters_set_name(size_t listener, const char *name);

/* The name given, or "" when none was. */
const char *counters_name(size_t listener);

/* ---- For reports (the metrics service) ------------------------------------ */

/* One reason of a kind of refusal, cut or drop, with its short name
 * ("denied", "slow_reader"); each table ends with a NULL name. */
struct counter_reason {
    enum counter counter;
    const char *name;
};
extern const struct counter_reason counters_refusals[], counters_cuts[], counters_drops[];

/* The sum of every counter of table for listener. */
int64_t counters_sum_reasons(size_t listener, const struct counter_reason *table);

/* TCP connections of listener open now: accepted less closed, read in the
 * order that never shows fewer than none. */
int64_t counters_open(size_t listener);

/* Connections open now, over every listener, per pair of slot labels. */
struct counters_loop {
    int worker, loop; /* As given to counters_claim_slot. */
    int64_t open;
};

/* Fills out with up to max pairs, in the order first seen; returns how
 * many. Slots that never served a connection are left out. A slot's whole
 * history counts under its latest labels, which is exact because a slot is
 * released with nothing open: a connection is counted open and closed on
 * one thread, and a dead process's are counted closed as it is released. */
size_t counters_open_by_loop(struct counters_loop *out, size_t max);

void counters_add(size_t listener, enum counter counter, int64_t n);

/* The sum over every slot of one listener's counter. */
int64_t counters_sum(size_t listener, enum counter counter);

/* Listener specs counted; 0 before counters_init. */
size_t counters_listeners(void);

/* Per-loop figures: slots are numbered 0..counters_slots()-1; a slot's
 * labels, whether it ever counted anything (false: skip it), and the sum
 * of one counter over every listener in it. */
size_t counters_slots(void);
bool counters_slot_used(size_t slot, int *worker, int *loop);
int64_t counters_slot_sum(size_t slot, enum counter counter);

#endif
