/*
 * The model API: a concurrency architecture is one module that implements
 * struct model, and sockserv picks one at run time with --model.
 *
 * A model owns the waiting: it decides which sockets to watch, on which
 * thread or process, and when. It never speaks a protocol; it hands
 * readiness to core/conn.h, which calls the service. Adding a model is one
 * new file and one line in registry.c.
 */
#ifndef SOCKSERV_MODEL_H
#define SOCKSERV_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/listener.h"
#include "core/overflow.h"
#include "core/udp_guard.h"

/* Everything a model needs to serve: what sockserv serve parsed and bound. */
struct server {
    struct listener_set listeners;
    size_t max_conns; /* Connections served at once; beyond, clients wait in the backlog, */
    /* or, with --overflow refuse, are reset at once (core/overflow.h). */
    bool overflow_refuse;
    /* With --overflow refuse, event loops sharing their sockets: the count
     * they keep together (core/overflow.h); NULL otherwise. */
    struct overflow_pool *overflow_pool;
    /* UDP requests served at once, apart from max_conns so that slow
     * datagrams never take TCP's capacity; 0: as many as max_conns. */
    size_t max_datagrams;
    /* iterative: the longest one datagram is served while TCP clients may
     * be waiting (--datagram-time). */
    int64_t datagram_time_ms;
    int64_t grace_ms;         /* How long a stop waits for open connections. */
    struct udp_rate udp_rate; /* Each receiving thread keeps its own buckets. */
    /* --balance shared: every loop and worker takes clients from the same
     * sockets, and event loops ask the kernel to wake one of them per
     * client; otherwise each has SO_REUSEPORT sockets of its own. */
    bool shared_listeners;
    /* With --workers and --threads: bind the sockets of every loop of every
     * worker in the supervisor before any worker starts, as a worker that
     * runs after --user dropped root could not bind a privileged port. The
     * supervisor then holds workers x threads sockets per listener. */
    bool bind_loops_first;
    /* Listeners of loops 1 to threads - 1, bound already (by the supervisor,
     * for bind_loops_first); NULL: model_run_in_process binds them, and
     * only what it bound it frees. */
    struct listener_set *loop_listeners;
    /* Which worker of --workers serves this, from 0; -1 without workers.
     * Labels the per-loop counts (core/counters.h). */
    int worker;
    /* Called once every socket of every loop is bound, before any client
     * is served, so "listening" is never announced early. A failure (with
     * a reason in err) ends the run. May be NULL. */
    int (*announce)(const struct server *srv, char *err, size_t errlen);
};

/* The datagram budget: --max-datagrams, or as many as --max-conns. */
static inline size_t server_max_datagrams(const struct server *srv)
{
    return srv->max_datagrams ? srv->max_datagrams : srv->max_conns;
}

struct model {
    const char *name;
    const char *summary; /* One line for --help. */
    /* Why this model cannot run services whose connections share state
     * (SERVICE_SHARED_STATE), or NULL when it can. */
    const char *no_shared_state;
    size_t default_max_conns;
    /* Runs as an event loop, so --threads may run several in one process. */
    bool event_loop;
    /* Checks that the model can run on this system at all, before anything
     * is announced; -1 with the cause in err. May be NULL. */
    int (*probe)(char *err, size_t errlen);
    /*
     * Serves until a stop is requested (core/stop.h) and the open
     * connections have finished or the grace period ran out. Returns 0, or
     * -1 with a one-line reason in err when the model cannot run at all.
     */
    int (*run)(struct server *srv, char *err, size_t errlen);
};

/*
 * Runs any model in this process: once on the calling thread, or, with
 * threads > 1 (an event-loop model only), as that many event loops, each on
 * a thread with listening sockets of its own on the same ports
 * (SO_REUSEPORT) and a share of max_conns. Returns as run does.
 */
int model_run_in_process(const struct model *model, struct server *srv, unsigned threads, char *err,
                         size_t errlen);

/*
 * Runs workers processes that each serve srv with model_run_in_process, from a
 * supervising parent that replaces a worker that dies and passes a stop on
 * to all. Returns once every worker has stopped.
 */
int model_run_workers(const struct model *model, struct server *srv, unsigned workers,
                      unsigned threads, char *err, size_t errlen);

/* The model named name, or NULL. */
const struct model *model_find(const char *name);

/* Every model, NULL-terminated, in the order --help lists them. */
const struct model *const *model_all(void);

#endif
