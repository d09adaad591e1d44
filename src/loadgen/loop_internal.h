/*
 * Inside one bench event loop: the state that loop.c (the loop: time,
 * scheduling, life cycle) and client.c (one connection: connecting,
 * writing, reading, failing) share. Nothing outside those two files
 * includes this; the rest of the bench sees loop.h.
 */
#ifndef SOCKSERV_LOADGEN_LOOP_INTERNAL_H
#define SOCKSERV_LOADGEN_LOOP_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "loadgen/clock_ns.h"
#include "loadgen/loop.h"
#include "loadgen/timers.h"

enum client_state {
    CLIENT_WAITING,    /* In the connect queue. */
    CLIENT_CONNECTING, /* connect() in progress. */
    CLIENT_OPEN,
    CLIENT_BACKOFF, /* Waiting on its timer before the next attempt. */
    CLIENT_DONE,    /* The run no longer needs it. */
};

/* One bench connection and the requests on it. */
struct client {
    int fd;
    uint8_t state;
    bool in_ready;       /* Queued for --rate's scheduler. */
    uint32_t events;     /* What epoll watches; 0 when not registered. */
    uint32_t number;     /* For "{n}" and nothing else. */
    uint32_t generation; /* Bumped per socket, so stale events are told apart. */
    int64_t since_ns;    /* When the connect started. */
    int64_t blocked_ns;  /* When writing last stalled; 0 while it flows. */
    const struct bench_message *msg;
    uint32_t pending;   /* Issued, not started. */
    uint32_t in_flight; /* Started and not yet answered. */
    uint32_t ring_head;
    size_t write_off; /* Bytes written of the newest request; 0 when it is whole. */
    size_t read_off;  /* Bytes of the oldest request's reply received. */
    int64_t *sent_ns; /* Ring of start times, pipeline long, oldest at ring_head. */
    uint32_t issued;  /* --hold: requests issued on this connection so far. */
    bool settled;     /* --hold: open and done with its requests, or failed. */
};

struct bench_loop {
    const struct bench_config *cfg;
    struct bench_loop_share share;
    bool tcp;
    bool precise_wait; /* epoll_pwait2 works here. */
    int epfd;
    struct client *clients;
    uint32_t count;
    struct bench_message shared_msg;
    struct bench_message *own_msgs; /* One per client when the text has "{n}". */
    int64_t *ring_store;
    uint8_t *scratch;
    uint32_t *connect_queue;
    uint32_t connect_head, connect_len;
    uint32_t *ready_queue;
    uint32_t ready_head, ready_len;
    /* Per client: the next dribbled byte, or the end of a back-off. */
    struct timers timers;

    int64_t measure_ns;  /* Start plus warmup; then when measuring really began. */
    int64_t end_ns;      /* No request starts after this; INT64_MAX: none. */
    int64_t hard_end_ns; /* Nothing is waited for after this. */
    int64_t sweep_ns, sweep_interval_ns;
    int64_t publish_ns;
    int64_t next_connect_ns, connect_interval_ns;
    double rate_interval_ns;
    uint64_t rate_issued;

    bool measuring;
    bool stopped; /* Time is up or a stop was asked: nothing new starts. */
    int64_t stopped_ns;
    bool budget_limited;
    uint64_t budget;
    int64_t budget_done_ns;
    int64_t last_ok_ns;
    uint64_t in_flight_total;
    uint64_t pending_total;
    uint32_t open_count;
    struct bench_stats stats;
    struct bench_progress published; /* Read by other threads: __atomic only. */
    uint32_t settled_count;          /* --hold: clients settled so far. */
    uint32_t failed_count;           /* --hold: clients that failed. */
    bool held_announced;
};

/* One read's worth of scratch space; also more than any UDP payload. */
#define BENCH_LOOP_SCRATCH (64 * 1024)

/* After a refused or failed connection attempt, so an absent server costs
 * ten attempts a second per connection rather than a spin. */
#define CLIENT_BACKOFF_NS (100 * NS_PER_MS)

static inline uint32_t loop_client_index(const struct bench_loop *l, const struct client *c)
{
    return (uint32_t)(c - l->clients);
}

static inline bool client_has_room(const struct bench_loop *l, const struct client *c)
{
    return c->state == CLIENT_OPEN && c->pending + c->in_flight < l->cfg->pipeline;
}

/* ---- loop.c: what a client asks of its loop ----------------------------- */

void loop_count_error(struct bench_loop *l, enum bench_error kind, int err, uint64_t n);

/* New requests may be issued: time is not up and --requests not used up. */
bool loop_can_issue(const struct bench_loop *l);

/* Charges one request to --requests (measured requests only). */
void loop_take_budget(struct bench_loop *l, int64_t now);

void loop_enqueue_connect(struct bench_loop *l, struct client *c);
void loop_push_ready(struct bench_loop *l, struct client *c);

/* --hold: c is open and done with its requests, or failed for good. */
void loop_client_settled(struct bench_loop *l, struct client *c, bool failed);

/* ---- client.c: one connection ------------------------------------------- */

void client_start_connect(struct bench_loop *l, struct client *c, int64_t now);
void client_finish_connect(struct bench_loop *l, struct client *c, uint32_t events, int64_t now);

/* Issues requests up to the pipeline (closed loop) or offers the client to
 * the --rate scheduler. */
void client_refill(struct bench_loop *l, struct client *c, int64_t now);

/* Writes what is issued, as far as the socket takes it. Returns 0, or -1
 * when the client failed (and was closed) meanwhile. */
int client_send_more(struct bench_loop *l, struct client *c, int64_t now);

/* Reads what arrived and ends the requests it answers; -1 as above. */
int client_read(struct bench_loop *l, struct client *c);

/* Ends the oldest request in flight: ok, or as the error kind. */
void client_finish_oldest(struct bench_loop *l, struct client *c, int64_t now, bool ok,
                          enum bench_error kind);

/* Counts the failure, closes, and schedules the next attempt. */
void client_fail(struct bench_loop *l, struct client *c, enum bench_error kind, int err,
                 int64_t now);

/* Closes the socket and forgets its requests; counts nothing. */
void client_close(struct bench_loop *l, struct client *c);

#endif
