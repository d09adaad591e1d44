/*
 * Bound listening sockets and accepting clients from them.
 *
 * One listener spec may bind several sockets: "*" binds [::] (IPv6 only) and
 * 0.0.0.0, and a host name binds every address it resolves to. With port 0
 * the first socket gets a free port and the others reuse it, so a spec keeps
 * one port. Every socket is non-blocking, close-on-exec and SO_REUSEADDR.
 *
 * Each spec is one listener to its service, however many sockets it binds:
 * they share the one instance the service's create made for the spec, and
 * so do the copies listener_set_copy makes of them for other loops.
 */
#ifndef SOCKSERV_LISTENER_H
#define SOCKSERV_LISTENER_H

#include <stdbool.h>
#include <stddef.h>

#include "core/address.h"
#include "core/admission.h"
#include "core/endpoint.h"
#include "core/service.h"

/* "tcp://[" + address + "]:" + port + "/" + service. */
#define LISTENER_NAME_MAX (ADDRESS_TEXT_MAX + ENDPOINT_SERVICE_MAX + 16)

struct listener {
    int fd;
    enum transport transport;
    const struct service *service;
    const struct service_config *config;
    /* What service->create made for this listener's spec; NULL for a
     * stateless service. Shared by every socket of the spec and every
     * copy of them; destroyed by the set that made it. */
    void *instance;
    bool owns_instance;     /* This item's set destroys instance when freed. */
    struct address address; /* What the socket is bound to. */
    /* Which spec, counting from 0, bound this socket: the listener's number
     * in core/counters.h, shared by every socket of the spec. */
    size_t spec_index;
    /* Who the spec serves (core/admission.h); NULL: everyone. Shared by
     * every socket of the spec and every copy; the caller owns it. */
    const struct admission *admission;
    char name[LISTENER_NAME_MAX]; /* "tcp://127.0.0.1:41234/echo" */
};

struct listener_set {
    struct listener *items;
    size_t count;
    /* Bind with SO_REUSEPORT, so listener_set_copy can give each of several
     * event loops sockets of its own on the same ports. Set before opening. */
    bool reuseport;
};

/*
 * Resolves and binds every spec, in order, appending to set, and makes each
 * spec's service instance from settings. The service of each spec must
 * already be known to exist. Returns 0, or -1 with a one-line reason in err
 * ("cannot bind tcp://127.0.0.1:7007/echo: Address already in use"); on
 * failure what was opened so far stays in set for listener_set_free.
 */
int listener_set_open(struct listener_set *set, const struct endpoint *specs, size_t count,
                      const struct service *const *services, const struct service_config *config,
                      const struct service_settings *settings, char *err, size_t errlen);

/*
 * Takes sockets bound by someone else (systemd socket activation) instead
 * of binding: fds[i] becomes a listener of services[i], of specs[i]'s
 * transport (the rest of the spec is not read), named after the address it is bound to, and spec i
 * to core/counters.h. Each must already be non-blocking and close-on-exec, and listening if TCP.
 * Such a socket was not bound with SO_REUSEPORT, so copies of it can only be shared
 * (listener_set_copy with share). Returns 0, or -1 with a one-line reason in err; what was taken
 * stays in set.
 */
int listener_set_inherit(struct listener_set *set, const int *fds, const struct endpoint *specs,
                         size_t count, const struct service *const *services,
                         const struct service_config *config,
                         const struct service_settings *settings, char *err, size_t errlen);

/*
 * Stops taking clients for a graceful stop: TCP listeners are closed, so
 * new clients are refused at once rather than left in a backlog nobody will
 * accept from. UDP sockets stay open, because the replies still owed to
 * datagrams already received leave through them; callers just stop reading
 * them. Idempotent.
 */
void listener_set_stop(struct listener_set *set);

/*
 * Gives dst a listener of its own for every listener of src. Without share,
 * a second socket (src was opened with reuseport) on the same address and
 * port, and the kernel spreads clients between the sockets by a hash of the
 * peer. With share, a duplicate descriptor of the same socket: whoever
 * accepts first gets the client, and the socket closes with the last
 * descriptor. Either way the copy serves src's service instances, which
 * stay src's to destroy. Returns 0, or -1 with a reason in err.
 */
int listener_set_copy(struct listener_set *dst, const struct listener_set *src, bool share,
                      char *err, size_t errlen);

/* Closes every socket (fd becomes -1) but keeps the names. Idempotent. */
void listener_set_close(struct listener_set *set);

/* Closes and frees everything, the service instances this set made
 * included: call it once no connection of them is left. */
void listener_set_free(struct listener_set *set);

enum accept_result { ACCEPT_OK, ACCEPT_AGAIN, ACCEPT_DROPPED, ACCEPT_EXHAUSTED };

/*
 * Accepts one client as a non-blocking, close-on-exec socket and logs its
 * arrival. ACCEPT_AGAIN: nothing is waiting. ACCEPT_DROPPED: a client arrived
 * but was lost (it aborted, its admission refused it, or the process is out of descriptors, in
 * which case the waiting clients are accepted and closed at once so they learn of it and the
 * caller's loop never spins on a listener it cannot serve); the caller just calls again.
 * ACCEPT_EXHAUSTED: out of descriptors, and too short of them even to turn the waiting clients away
 * (listener_shed_waiting failed): the caller stops accepting until a descriptor is freed or a short
 * while has passed, or it would spin.
 */
enum accept_result listener_accept(struct listener *l, int *client_fd, struct address *peer);

/* listener_accept without the bookkeeping of listener_adopt (TCP_NODELAY,
 * the arrival line): for a client that is refused at once, whose refusal
 * the log reports in its own way. */
enum accept_result listener_accept_to_refuse(struct listener *l, int *client_fd,
                                             struct address *peer);

/* Closes a refused client with a reset rather than a FIN: it learns at
 * once, and the server keeps no TIME_WAIT for it. */
void listener_refuse_client(int fd);

/*
 * For models whose kernel interface accepts for them (io_uring): the
 * bookkeeping listener_accept does for a new client (admission by the
 * spec's access list and per-source limits, TCP_NODELAY, the arrival log
 * line), and its out-of-descriptors path. listener_adopt returns false
 * when the client was refused, and then has closed client_fd (with a
 * reset, so the client learns at once); true when it is to be served,
 * holding a slot the connection gives back with admission_release. The latter returns
 * true when every waiting client was accepted and closed and a spare
 * (listener_reserve_fd) is in hand again; false when no spare could be had
 * (something else took their numbers), and so some clients may still wait.
 */
bool listener_adopt(const struct listener *l, int client_fd, const struct address *peer);
bool listener_shed_waiting(struct listener *l);

/* Adds one descriptor to the spares kept for the out-of-descriptors path,
 * which any thread may use. Call once at start-up and once as each event
 * loop starts, before the process is short of descriptors, so every loop
 * can shed even when another's spare was lost. 0, or -1 with errno set. */
int listener_reserve_fd(void);

/* Gives back one spare, as a loop that called listener_reserve_fd ends. */
void listener_release_reserve(void);

#endif
