/*
 * A model run in this process: once on the calling thread (every model),
 * or as several event loops, --threads N for the select, poll, epoll and
 * uring models.
 *
 * Each loop is the single-threaded model, unchanged, on a thread of its
 * own with listening sockets of its own. By default (--balance reuseport)
 * those are separate sockets bound to the same ports with SO_REUSEPORT:
 * the kernel spreads new clients (and UDP sources) across them by a hash
 * of the peer, so the loops share no accept queue, and a UDP source always
 * lands on the same loop, which keeps its token bucket exact. The cost is
 * that a client hashed to a busy loop waits for that loop. With --balance
 * shared each loop has a duplicate descriptor of one socket, and whichever
 * loop is free takes the client; bench/balance.py measures both.
 * Either way each loop closes only its own descriptors at a stop. Each
 * loop serves a share of --max-conns; with --overflow refuse on a shared
 * socket they also count together (struct overflow_pool), so a full loop
 * leaves a client to one with room instead of refusing it.
 * Connections of different loops meet only through shared service state
 * (chat), which crosses loops with conn_post.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/counters.h"
#include "core/error.h"
#include "core/stop.h"
#include "models/model.h"

struct loop_thread {
    unsigned index; /* The loop's number, for its counts' labels. */
    pthread_t tid;
    bool started;
    const struct model *model;
    struct server srv;
    int rc;
    char err[256];
};

static void *run_loop_thread(void *arg)
{
    struct loop_thread *t = arg;
    counters_claim_slot(t->srv.worker, (int)t->index);
    t->rc = t->model->run(&t->srv, t->err, sizeof(t->err));
    counters_release_slot();
    /* A loop that cannot run takes the others down with it. */
    if (t->rc != 0)
        stop_request();
    return NULL;
}

static int announce(struct server *srv, char *err, size_t errlen)
{
    int rc = srv->announce ? srv->announce(srv, err, errlen) : 0;
    srv->announce = NULL;
    return rc;
}

int model_run_in_process(const struct model *model, struct server *srv, unsigned threads, char *err,
                         size_t errlen)
{
    if (threads <= 1) {
        if (announce(srv, err, errlen) != 0)
            return -1;
        /* One event loop is loop 0; a blocking model's accepting thread
         * (and the iterative model's serving) is no loop. */
        counters_claim_slot(srv->worker, model->event_loop ? 0 : -1);
        int rc = model->run(srv, err, errlen);
        counters_release_slot();
        return rc;
    }
    struct loop_thread *loops = calloc(threads, sizeof(*loops));
    if (!loops)
        return error_set(err, errlen, "out of memory");
    size_t share = (srv->max_conns + threads - 1) / threads;
    /* Outlives every loop: they are all joined before this returns. */
    struct overflow_pool pool = {.max = srv->max_conns};
    atomic_init(&pool.open, 0);
    bool pooled = srv->overflow_refuse && srv->shared_listeners;
    int rc = 0;
    for (unsigned i = 0; i < threads; i++) {
        loops[i].index = i;
        loops[i].model = model;
        loops[i].srv = *srv;
        loops[i].srv.max_conns = share;
        loops[i].srv.overflow_pool = pooled ? &pool : NULL;
        loops[i].srv.max_datagrams = (srv->max_datagrams + threads - 1) / threads;
        loops[i].srv.announce = NULL;
        if (i == 0)
            continue;
        if (srv->loop_listeners) {
            loops[i].srv.listeners = srv->loop_listeners[i - 1];
            continue;
        }
        memset(&loops[i].srv.listeners, 0, sizeof(loops[i].srv.listeners));
        if (listener_set_copy(&loops[i].srv.listeners, &srv->listeners, srv->shared_listeners, err,
                              errlen) != 0) {
            rc = -1;
            break;
        }
    }
    /* Every loop's sockets are bound now, so clients that connect as soon
     * as they read the announcement are spread over all the loops. */
    if (rc == 0)
        rc = announce(srv, err, errlen);
    for (unsigned i = 1; rc == 0 && i < threads; i++) {
        int e = pthread_create(&loops[i].tid, NULL, run_loop_thread, &loops[i]);
        if (e != 0) {
            rc = error_set(err, errlen, "cannot start event loop thread: %s", strerror(e));
            stop_request();
            break;
        }
        loops[i].started = true;
    }
    if (rc == 0) {
        /* Loop 0 runs here, on the listeners the command line opened. */
        run_loop_thread(&loops[0]);
    }
    for (unsigned i = 1; i < threads; i++) {
        if (loops[i].started)
            pthread_join(loops[i].tid, NULL);
        if (srv->loop_listeners)
            listener_set_close(&loops[i].srv.listeners);
        else
            listener_set_free(&loops[i].srv.listeners);
    }
    for (unsigned i = 0; rc == 0 && i < threads; i++) {
        if (loops[i].rc != 0) {
            rc = error_set(err, errlen, "%s", loops[i].err);
        }
    }
    free(loops);
    return rc;
}
