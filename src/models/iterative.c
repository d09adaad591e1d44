/*
 * The iterative model: the baseline of every scaling tutorial. One client
 * is served from accept to close before the next is accepted; the others
 * wait in the listen backlog. Correct, simple, and as slow as its slowest
 * client. Over UDP it is one datagram at a time.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "models/blocking.h"

static int run_iterative(struct server *srv, char *err, size_t errlen)
{
    struct acceptor acceptor;
    if (acceptor_init(&acceptor, srv) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int rc = 0;
    for (;;) {
        struct accepted a;
        enum wait_result r = acceptor_wait(&acceptor, true, -1, &a);
        if (r == WAIT_STOP)
            break;
        if (r == WAIT_ERROR) {
            snprintf(err, errlen, "poll: %s", strerror(errno));
            rc = -1;
            break;
        }
        if (r == WAIT_CLIENT)
            blocking_serve(&a, srv->grace_ms, &srv->listeners);
    }
    listener_set_stop(&srv->listeners);
    acceptor_free(&acceptor);
    return rc;
}

const struct model model_iterative = {
    .name = "iterative",
    .summary = "one connection at a time (the baseline)",
    .default_max_conns = 1,
    .no_shared_state = "it serves one client at a time, so no two clients could ever meet",
    .run = run_iterative,
};
