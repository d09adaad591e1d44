/*
 * The iterative model: the baseline of every scaling tutorial. One client
 * is served from accept to close before the next is accepted; the others
 * wait in the listen backlog. Correct, simple, and as slow as its slowest
 * client. Over UDP it is one datagram at a time.
 *
 * When the server has TCP listeners too, a datagram keeps a waiting TCP
 * client waiting for at most --datagram-time: past that bound, once a
 * client waits in a TCP backlog, the datagram (nobody is connected to wait
 * for its answer) is dropped unanswered rather than let a stream of slow
 * ones (upper with a long --delay) keep TCP waiting; while nobody waits it
 * is served to its end. The listeners take turns, so a TCP client waits for
 * one datagram at most. With --overflow refuse, a TCP client that arrives
 * while another is served is reset at once instead.
 */

#include "models/blocking.h"

static bool has_tcp_listener(const struct server *srv)
{
    for (size_t i = 0; i < srv->listeners.count; i++)
        if (srv->listeners.items[i].transport == TRANSPORT_TCP)
            return true;
    return false;
}

static void serve_now(void *ctx, const struct accepted *a)
{
    struct server *srv = ctx;
    struct accepted bounded = *a;
    if (a->fd < 0 && has_tcp_listener(srv))
        bounded.serve_limit_ms = srv->datagram_time_ms;
    bounded.refuse_arrivals = srv->overflow_refuse;
    blocking_serve(&bounded, srv->grace_ms, &srv->listeners);
}

static int run_iterative(struct server *srv, char *err, size_t errlen)
{
    struct accept_hooks hooks = {.ctx = srv, .client = serve_now, .extra_fd = -1};
    return blocking_accept_loop(srv, &hooks, err, errlen);
}

const struct model model_iterative = {
    .name = "iterative",
    .summary = "one connection at a time (the baseline)",
    .default_max_conns = 1,
    .no_shared_state = "it serves one client at a time, so no two clients could ever meet",
    .run = run_iterative,
};
