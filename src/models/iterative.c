/*
 * The iterative model: the baseline of every scaling tutorial. One client
 * is served from accept to close before the next is accepted; the others
 * wait in the listen backlog. Correct, simple, and as slow as its slowest
 * client. Over UDP it is one datagram at a time.
 */

#include "models/blocking.h"

static void serve_now(void *ctx, const struct accepted *a)
{
    struct server *srv = ctx;
    blocking_serve(a, srv->grace_ms, &srv->listeners);
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
