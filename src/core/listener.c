#include "core/listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/counters.h"
#include "core/error.h"
#include "core/log.h"

/* A name rarely resolves to more; the rest would be ignored. */
#define MAX_ADDRESSES_PER_SPEC 16

/* ---- Resolving ---------------------------------------------------------- */

static void set_port(struct address *a, uint16_t port)
{
    if (a->u.sa.sa_family == AF_INET6)
        a->u.in6.sin6_port = htons(port);
    else
        a->u.in.sin_port = htons(port);
}

static void make_any(struct address *a, int family)
{
    memset(a, 0, sizeof(*a));
    if (family == AF_INET6) {
        a->u.in6.sin6_family = AF_INET6;
        a->u.in6.sin6_addr = in6addr_any;
        a->length = sizeof(a->u.in6);
    } else {
        a->u.in.sin_family = AF_INET;
        a->u.in.sin_addr.s_addr = htonl(INADDR_ANY);
        a->length = sizeof(a->u.in);
    }
}

static bool same_address(const struct address *a, const struct address *b)
{
    return a->length == b->length && memcmp(&a->u, &b->u, a->length) == 0;
}

/* Fills out[] with the addresses spec names; returns their count or -1. */
static int resolve(const struct endpoint *spec, struct address *out, char *err, size_t errlen)
{
    if (spec->wildcard) {
        /* IPv6 first: with port 0 it picks the port, and IPv4 follows. */
        make_any(&out[0], AF_INET6);
        make_any(&out[1], AF_INET);
        return 2;
    }
    memset(&out[0], 0, sizeof(out[0]));
    if (inet_pton(AF_INET, spec->host, &out[0].u.in.sin_addr) == 1) {
        out[0].u.in.sin_family = AF_INET;
        out[0].length = sizeof(out[0].u.in);
        return 1;
    }
    if (inet_pton(AF_INET6, spec->host, &out[0].u.in6.sin6_addr) == 1) {
        out[0].u.in6.sin6_family = AF_INET6;
        out[0].length = sizeof(out[0].u.in6);
        return 1;
    }
    struct addrinfo hints;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = spec->transport == TRANSPORT_TCP ? SOCK_STREAM : SOCK_DGRAM;
    struct addrinfo *found = NULL;
    int rc = getaddrinfo(spec->host, NULL, &hints, &found);
    if (rc != 0)
        return error_set(err, errlen, "cannot resolve '%s': %s", spec->host,
                         rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
    int count = 0;
    for (struct addrinfo *ai = found; ai && count < MAX_ADDRESSES_PER_SPEC; ai = ai->ai_next) {
        if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
            continue;
        if (ai->ai_addrlen > sizeof(out[count].u))
            continue;
        memset(&out[count], 0, sizeof(out[count]));
        memcpy(&out[count].u, ai->ai_addr, ai->ai_addrlen);
        out[count].length = ai->ai_addrlen;
        bool seen = false;
        for (int i = 0; i < count; i++)
            seen = seen || same_address(&out[i], &out[count]);
        if (!seen)
            count++;
    }
    freeaddrinfo(found);
    if (count == 0)
        return error_set(err, errlen, "cannot resolve '%s': no IPv4 or IPv6 address", spec->host);
    return count;
}

/* ---- Binding ------------------------------------------------------------ */

static void format_name(const struct listener *l, char *buf, size_t buflen)
{
    char addr[ADDRESS_TEXT_MAX];
    address_format(&l->address, addr, sizeof(addr));
    snprintf(buf, buflen, "%s://%s/%s", transport_name(l->transport), addr, l->service->name);
}

static int set_flag(int fd, int level, int name)
{
    int one = 1;
    return setsockopt(fd, level, name, &one, sizeof(one));
}

/* A socket bound to addr, not yet listening; -1 with errno set. */
static int bound_socket(enum transport transport, const struct address *addr, bool reuseport)
{
    int type = transport == TRANSPORT_TCP ? SOCK_STREAM : SOCK_DGRAM;
    int fd = socket(addr->u.sa.sa_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    /* SO_REUSEADDR lets a restarted TCP server bind while old connections
     * sit in TIME_WAIT; on UDP it would let a second server share the
     * port, so UDP goes without. IPV6_V6ONLY keeps [::] from claiming IPv4
     * too, so "*" can bind 0.0.0.0 beside it on every system setting. */
    if ((transport == TRANSPORT_TCP && set_flag(fd, SOL_SOCKET, SO_REUSEADDR) != 0) ||
        (reuseport && set_flag(fd, SOL_SOCKET, SO_REUSEPORT) != 0) ||
        (addr->u.sa.sa_family == AF_INET6 && set_flag(fd, IPPROTO_IPV6, IPV6_V6ONLY) != 0) ||
        bind(fd, &addr->u.sa, addr->length) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

/* Whether a server already holds addr's port. SO_REUSEPORT would let this
 * one bind beside any socket of the same user that has it too (another
 * sockserv with --threads or --workers) and quietly take a share of its
 * clients; a trial bind without it fails as an ordinary bind would. */
static bool port_taken(enum transport transport, const struct address *addr)
{
    int fd = bound_socket(transport, addr, false);
    if (fd < 0)
        return errno == EADDRINUSE;
    close(fd);
    return false;
}

/* Binds one socket (listening, for TCP); returns its descriptor or -1 with
 * errno set. */
static int bind_one(enum transport transport, struct address *addr, bool reuseport)
{
    int fd = bound_socket(transport, addr, reuseport);
    if (fd < 0)
        return -1;
    if (transport == TRANSPORT_TCP && listen(fd, SOMAXCONN) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    socklen_t len = sizeof(addr->u);
    if (getsockname(fd, &addr->u.sa, &len) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    addr->length = len;
    return fd;
}

static int append(struct listener_set *set, const struct listener *l)
{
    struct listener *grown = realloc(set->items, (set->count + 1) * sizeof(*grown));
    if (!grown)
        return -1;
    set->items = grown;
    set->items[set->count++] = *l;
    return 0;
}

/* Binds every socket spec names, appending them to set. */
static int bind_spec(struct listener_set *set, const struct endpoint *spec,
                     const struct service *service, const struct service_config *config, char *err,
                     size_t errlen)
{
    struct address addrs[MAX_ADDRESSES_PER_SPEC];
    int count = resolve(spec, addrs, err, errlen);
    if (count < 0)
        return -1;
    uint16_t port = spec->port;
    for (int i = 0; i < count; i++) {
        struct listener l = {.transport = spec->transport, .service = service, .config = config};
        l.address = addrs[i];
        set_port(&l.address, port);
        format_name(&l, l.name, sizeof(l.name));
        if (set->reuseport && port != 0 && port_taken(spec->transport, &l.address))
            return error_set(err, errlen, "cannot bind %s: %s", l.name, strerror(EADDRINUSE));
        l.fd = bind_one(spec->transport, &l.address, set->reuseport);
        if (l.fd < 0) {
            /* A machine without IPv6 still serves "*" over IPv4. */
            if (spec->wildcard && errno == EAFNOSUPPORT)
                continue;
            return error_set(err, errlen, "cannot bind %s: %s", l.name, strerror(errno));
        }
        port = address_port(&l.address);
        format_name(&l, l.name, sizeof(l.name));
        if (append(set, &l) != 0) {
            close(l.fd);
            return error_set(err, errlen, "out of memory");
        }
    }
    return 0;
}

/* Makes the service instance that the sockets one spec bound (set's items
 * from first on) share. The first of them owns it. Made after binding, so
 * a failure names the listener as it would have been announced. */
static int attach_instance(struct listener_set *set, size_t first,
                           const struct service_settings *settings, char *err, size_t errlen)
{
    if (first == set->count || !set->items[first].service->create)
        return 0;
    struct listener *owner = &set->items[first];
    char why[200] = "";
    void *instance = owner->service->create(settings, why, sizeof(why));
    if (!instance)
        return error_set(err, errlen, "cannot start %s: %s", owner->name, why);
    owner->owns_instance = true;
    for (size_t i = first; i < set->count; i++)
        set->items[i].instance = instance;
    return 0;
}

int listener_set_open(struct listener_set *set, const struct endpoint *specs, size_t count,
                      const struct service *const *services, const struct service_config *config,
                      const struct service_settings *settings, char *err, size_t errlen)
{
    for (size_t i = 0; i < count; i++) {
        size_t first = set->count;
        if (bind_spec(set, &specs[i], services[i], config, err, errlen) != 0 ||
            attach_instance(set, first, settings, err, errlen) != 0)
            return -1;
        for (size_t j = first; j < set->count; j++)
            set->items[j].spec_index = i;
    }
    return 0;
}

int listener_set_inherit(struct listener_set *set, const int *fds, const struct endpoint *specs,
                         size_t count, const struct service *const *services,
                         const struct service_config *config,
                         const struct service_settings *settings, char *err, size_t errlen)
{
    for (size_t i = 0; i < count; i++) {
        struct listener l = {.fd = fds[i],
                             .transport = specs[i].transport,
                             .service = services[i],
                             .config = config,
                             .spec_index = i};
        socklen_t len = sizeof(l.address.u);
        if (getsockname(l.fd, &l.address.u.sa, &len) != 0)
            return error_set(err, errlen, "inherited fd %d: %s", l.fd, strerror(errno));
        l.address.length = len;
        format_name(&l, l.name, sizeof(l.name));
        size_t first = set->count;
        if (append(set, &l) != 0)
            return error_set(err, errlen, "out of memory");
        if (attach_instance(set, first, settings, err, errlen) != 0)
            return -1;
    }
    return 0;
}

int listener_set_copy(struct listener_set *dst, const struct listener_set *src, bool share,
                      char *err, size_t errlen)
{
    dst->reuseport = !share;
    for (size_t i = 0; i < src->count; i++) {
        struct listener l = src->items[i];
        l.owns_instance = false;
        l.fd = share ? fcntl(l.fd, F_DUPFD_CLOEXEC, 0) : bind_one(l.transport, &l.address, true);
        if (l.fd < 0)
            return error_set(err, errlen, "cannot %s %s: %s",
                             share ? "share" : "bind another socket to", l.name, strerror(errno));
        if (append(dst, &l) != 0) {
            close(l.fd);
            return error_set(err, errlen, "out of memory");
        }
    }
    return 0;
}

void listener_set_stop(struct listener_set *set)
{
    for (size_t i = 0; i < set->count; i++) {
        if (set->items[i].fd >= 0 && set->items[i].transport == TRANSPORT_TCP) {
            close(set->items[i].fd);
            set->items[i].fd = -1;
        }
    }
}

void listener_set_close(struct listener_set *set)
{
    for (size_t i = 0; i < set->count; i++) {
        if (set->items[i].fd >= 0) {
            close(set->items[i].fd);
            set->items[i].fd = -1;
        }
    }
}

void listener_set_free(struct listener_set *set)
{
    listener_set_close(set);
    for (size_t i = 0; i < set->count; i++) {
        struct listener *l = &set->items[i];
        if (l->owns_instance && l->service->destroy)
            l->service->destroy(l->instance);
        l->instance = NULL;
        l->owns_instance = false;
    }
    free(set->items);
    set->items = NULL;
    set->count = 0;
}

/* ---- Accepting ---------------------------------------------------------- */

/*
 * Spare descriptors, closed to make room for turning clients away: one for
 * the process and one for each event loop, in one pool that any loop may
 * use, all under descriptor_lock. While a spare is closed, another thread's
 * accept could take its number, and the spare could not be taken back; so
 * every accept here holds the lock for reading and a shed holds it for
 * writing. The lock cannot cover io_uring's accepts, which run in the
 * kernel, nor every other descriptor the process opens; so a spare lost
 * that way leaves the others to shed with, and the pool is topped up again
 * at each shed rather than given up on.
 */
#define SPARES_MAX 64

static pthread_rwlock_t descriptor_lock = PTHREAD_RWLOCK_INITIALIZER;
static int spares[SPARES_MAX];
static int spare_count;  /* Open now. */
static int spare_target; /* Wanted: one per listener_reserve_fd call. */
static int64_t last_shed_log_ms;

/* Opens spares until the pool is full or the process is out of
 * descriptors. Called with descriptor_lock held for writing. */
static void top_up_spares(void)
{
    while (spare_count < spare_target) {
        int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return;
        spares[spare_count++] = fd;
    }
}

int listener_reserve_fd(void)
{
    pthread_rwlock_wrlock(&descriptor_lock);
    if (spare_target < SPARES_MAX)
        spare_target++;
    top_up_spares();
    bool full = spare_count == spare_target;
    pthread_rwlock_unlock(&descriptor_lock);
    return full ? 0 : -1;
}

void listener_release_reserve(void)
{
    pthread_rwlock_wrlock(&descriptor_lock);
    if (spare_target > 0)
        spare_target--;
    while (spare_count > spare_target)
        close(spares[--spare_count]);
    pthread_rwlock_unlock(&descriptor_lock);
}

/* Out of descriptors: the waiting clients cannot be served, and leaving
 * them queued would make a level-triggered loop spin on the listener. Free
 * a spare, accept and close each waiting client so it learns at once,
 * then take the spare back. This is what libuv does. */
bool listener_shed_waiting(struct listener *l)
{
    pthread_rwlock_wrlock(&descriptor_lock);
    int64_t now = clock_now_ms();
    if (now - last_shed_log_ms >= 1000) {
        last_shed_log_ms = now;
        struct log_field fields[] = {
            LOG_TEXT("event", "refused"),
            LOG_TEXT("listener", l->name),
            LOG_TEXT("reason", "out of file descriptors"),
        };
        log_event(LOG_WARN, fields, 3, "out of file descriptors: refusing new clients on %s",
                  l->name);
    }
    top_up_spares();
    if (spare_count == 0) {
        pthread_rwlock_unlock(&descriptor_lock);
        return false;
    }
    close(spares[--spare_count]);
    /* Bounded: clients arriving faster than this wait for the next turn. */
    bool short_of_descriptors = false;
    for (int i = 0; i < 256; i++) {
        int fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd >= 0) {
            close(fd);
            counters_add(l->spec_index, COUNTER_REFUSED_NO_DESCRIPTORS, 1);
        } else if (errno != EINTR && errno != ECONNABORTED) {
            /* EMFILE here: something else took the spare's number. */
            short_of_descriptors = errno == EMFILE || errno == ENFILE;
            break;
        }
    }
    top_up_spares();
    bool have_spare = spare_count > 0;
    pthread_rwlock_unlock(&descriptor_lock);
    return have_spare && !short_of_descriptors;
}

void listener_refuse_client(int fd)
{
    struct linger reset = {.l_onoff = 1, .l_linger = 0};
    /* Without it the close is a FIN: still a refusal, only a less clear
     * one, so a failure here is not worth a word. */
    (void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
    if (close(fd) != 0 && errno != EINTR)
        log_warn("close: %s", strerror(errno));
}

bool listener_adopt(const struct listener *l, int client_fd, const struct address *peer)
{
    if (!admission_admit_stream(l->admission, l->spec_index, peer)) {
        listener_refuse_client(client_fd);
        return false;
    }
    /* Replies are written whole; Nagle would only delay them. */
    if (peer->u.sa.sa_family == AF_INET || peer->u.sa.sa_family == AF_INET6)
        (void)set_flag(client_fd, IPPROTO_TCP, TCP_NODELAY);
    if (log_enabled(LOG_INFO)) {
        char text[ADDRESS_TEXT_MAX];
        address_format(peer, text, sizeof(text));
        struct log_field fields[] = {
            LOG_TEXT("event", "connected"),
            LOG_TEXT("listener", l->name),
            LOG_TEXT("service", l->service->name),
            LOG_TEXT("peer", text),
        };
        log_event(LOG_INFO, fields, 4, "client connected: %s -> %s", text, l->service->name);
    }
    return true;
}

static enum accept_result accept_one(struct listener *l, int *client_fd, struct address *peer,
                                     bool adopt)
{
    socklen_t len = sizeof(peer->u);
    pthread_rwlock_rdlock(&descriptor_lock);
    int fd = accept4(l->fd, &peer->u.sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    int accept_errno = errno;
    pthread_rwlock_unlock(&descriptor_lock);
    errno = accept_errno;
    if (fd >= 0) {
        peer->length = len;
        if (adopt && !listener_adopt(l, fd, peer))
            return ACCEPT_DROPPED;
        *client_fd = fd;
        return ACCEPT_OK;
    }
    switch (errno) {
    case EAGAIN:
#if EAGAIN != EWOULDBLOCK
    case EWOULDBLOCK:
#endif
        return ACCEPT_AGAIN;
    case EMFILE:
    case ENFILE:
        return listener_shed_waiting(l) ? ACCEPT_AGAIN : ACCEPT_EXHAUSTED;
    case EINTR:
    case ECONNABORTED:
    case EPROTO:
    case EPERM: /* A firewall rule refused this one client. */
    /* Linux passes pending network errors of the new socket to accept. */
    case ENETDOWN:
    case ENOPROTOOPT:
    case EHOSTDOWN:
    case ENONET:
    case EHOSTUNREACH:
    case EOPNOTSUPP:
    case ENETUNREACH:
        return ACCEPT_DROPPED;
    default:
        /* ENOBUFS, ENOMEM: the kernel is short of memory. Report and let the
         * caller come back on its next wake-up rather than retry hot. */
        log_warn("accept on %s: %s", l->name, strerror(errno));
        return ACCEPT_AGAIN;
    }
}

enum accept_result listener_accept(struct listener *l, int *client_fd, struct address *peer)
{
    return accept_one(l, client_fd, peer, true);
}

enum accept_result listener_accept_to_refuse(struct listener *l, int *client_fd,
                                             struct address *peer)
{
    return accept_one(l, client_fd, peer, false);
}
