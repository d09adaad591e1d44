/*
 * The uring model's own parts, shared by its files only: uring.c (the
 * connections, completions and the loop) and uring_listeners.c (accepting
 * and receiving datagrams, with their standing requests).
 */
#ifndef SOCKSERV_URING_LOOP_H
#define SOCKSERV_URING_LOOP_H

#include <liburing.h>
#include <stdbool.h>
#include <stdint.h>

#include "models/loop_skeleton.h"
#include "models/uring_setup.h"

/* What a request (and so its completion) is for: the low bits of its
 * user_data, above which sits the connection or listener it is for. Both
 * are at least 8-byte aligned, so the bits are free. */
enum request_kind {
    REQUEST_IGNORED = 0,
    REQUEST_ACCEPT,
    REQUEST_RECV,
    REQUEST_SEND,
    REQUEST_UDP_POLL,
    REQUEST_STOP,
    REQUEST_MAIL,
    REQUEST_ACCEPT_READY
};
#define REQUEST_KIND_BITS 7u

/* Where a listener's standing request stands: none, one single-shot
 * accept, a multishot accept or (UDP) a multishot poll, a single-shot poll
 * for a TCP listener accepted from by hand at the descriptor limit, or a
 * cancel on its way (uring_listeners.c says when each is used). */
enum listener_request {
    LISTENER_IDLE,
    LISTENER_SINGLE,
    LISTENER_MULTISHOT,
    LISTENER_POLL,
    LISTENER_CANCELLING
};

struct uring_loop {
    struct loop loop; /* First: the skeleton's hooks lead back here. */
    struct io_uring ring;
    bool ring_open;
    struct uring_buffers buffers;
    /* Per listener: the state of its standing request, an accept or (UDP) a
     * poll, as enum listener_request values. */
    uint8_t *listener_requests;
    bool listeners_stopped;
};

static inline struct uring_loop *uring_loop_of(struct loop *loop)
{
    return (struct uring_loop *)loop;
}

static inline uint64_t uring_user_data(const void *p, enum request_kind kind)
{
    return (uint64_t)(uintptr_t)p | kind;
}

/* Never NULL: a full submission queue is submitted to make room. */
static inline struct io_uring_sqe *uring_next_sqe(struct uring_loop *u)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
    while (!sqe) {
        io_uring_submit(&u->ring);
        sqe = io_uring_get_sqe(&u->ring);
    }
    return sqe;
}

/* Completions of a listener's accept, of its poll at the descriptor limit,
 * or of its UDP poll. */
void uring_on_accept(struct uring_loop *u, struct listener *l, const struct io_uring_cqe *cqe);
void uring_on_accept_ready(struct uring_loop *u, struct listener *l,
                           const struct io_uring_cqe *cqe);
void uring_on_udp_readable(struct uring_loop *u, struct listener *l,
                           const struct io_uring_cqe *cqe);

/* The skeleton's hooks for listening (struct loop_hooks). */
void uring_listen(struct loop *loop, enum transport transport, bool on);
bool uring_may_finish(struct loop *loop);
void uring_end_turn(struct loop *loop);

#endif
