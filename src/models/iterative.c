/*
 * The iterative model: the baseline of every scaling tutorial. One client
 * is served from accept to close before the next is accepted; the others
 * wait in the listen backlog. Correct, simple, and as slow as its slowest
 * client.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "models/blocking.h"

static int run_iterative(struct server *srv, char *err, size_t errlen)
{
    for (;;) {
        struct accepted a;
        enum wait_result r = blocking_wait_client(srv, true, -1, &a);
        if (r == WAIT_STOP)
            break;
        if (r == WAIT_ERROR) {
            snprintf(err, errlen, "poll: %s", strerror(errno));
            return -1;
        }
        if (r != WAIT_CLIENT)
            continue;
        struct conn *c = conn_create(a.fd, &a.peer, a.listener, NULL);
        if (!c) {
            log_warn("out of memory: dropping a client of %s", a.listener->name);
            close(a.fd);
            continue;
        }
        blocking_serve(c, srv->grace_ms);
    }
    listener_set_close(&srv->listeners);
    return 0;
}

const struct model model_iterative = {
    .name = "iterative",
    .summary = "one connection at a time (the baseline)",
    .default_max_conns = 1,
    .run = run_iterative,
};
