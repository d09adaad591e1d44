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
#include "core/udp_guard.h"

/* Everything a model needs to serve: what sockserv serve parsed and bound. */
struct server {
    struct listener_set listeners;
    size_t max_conns; /* Connections served at once; beyond, clients wait in the backlog. */
    int64_t grace_ms; /* How long a stop waits for open connections. */
    struct udp_rate udp_rate; /* Each receiving thread keeps its own buckets. */
};

struct model {
    const char *name;
    const char *summary; /* One line for --help. */
    /* Why this model cannot run services whose connections share state
     * (SERVICE_SHARED_STATE), or NULL when it can. */
    const char *no_shared_state;
    size_t default_max_conns;
    /*
     * Serves until a stop is requested (core/stop.h) and the open
     * connections have finished or the grace period ran out. Returns 0, or
     * -1 with a one-line reason in err when the model cannot run at all.
     */
    int (*run)(struct server *srv, char *err, size_t errlen);
};

/* The model named name, or NULL. */
const struct model *model_find(const char *name);

/* Every model, NULL-terminated, in the order --help lists them. */
const struct model *const *model_all(void);

#endif
