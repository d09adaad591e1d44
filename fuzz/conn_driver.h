/*
 * A tiny model for fuzzing a service over real connections: each client is
 * a socketpair, the server's end wrapped in a conn (core/conn_model.h), the
 * client's end written and read by the fuzzer. The input is a list of
 * commands, so its bytes choose what each client sends, how it is cut into
 * reads, when the server reads, writes and fires timers, and when clients
 * read, half-close or vanish. At the end the server stops gracefully and
 * every connection is destroyed, so LeakSanitizer sees what was not freed.
 *
 * It calls only the model side of core/conn_model.h: conn_create,
 * conn_start, conn_interest, conn_handle_readable, conn_handle_writable,
 * conn_deadline, conn_handle_timer, conn_begin_stop, conn_is_finished and
 * conn_destroy, with a conn_owner whose hooks are all NULL (conn_post is
 * then conn_write, as for a single-threaded readiness model).
 */
#ifndef SOCKSERV_FUZZ_CONN_DRIVER_H
#define SOCKSERV_FUZZ_CONN_DRIVER_H

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz.h"

#include "core/conn_model.h"
#include "core/listener.h"
#include "core/log.h"
#include "core/service.h"

#define DRIVER_CLIENTS 4
/* What a client keeps of a line it is still receiving; longer lines are
 * checked in pieces of this size. */
#define DRIVER_LINE_MAX 8192
/* Rounds of the graceful stop before whatever is left is destroyed. */
#define DRIVER_STOP_ROUNDS 64

struct driven_client {
    struct conn *conn; /* NULL once destroyed. */
    int peer;          /* The client's end, -1 once closed. */
    uint8_t line[DRIVER_LINE_MAX];
    size_t line_len;
};

/* Called with each line a client receives, without its LF. */
typedef void (*driver_line_check)(const uint8_t *line, size_t len);

struct driver {
    struct service_config config;
    struct listener listener;
    struct conn_owner owner;
    struct driven_client clients[DRIVER_CLIENTS];
    size_t count;
    driver_line_check check;
};

static inline void driver_setup_once(void)
{
    static bool done;
    if (done)
        return;
    /* A server writing to a client that closed must get EPIPE, not a signal. */
    signal(SIGPIPE, SIG_IGN);
    /* Connection logs at every input are noise. */
    log_set_level(LOG_ERROR);
    done = true;
}

/* Sets up one listener of service, with its instance made from settings
 * as the server makes it (core/service.h), so state never leaks between
 * inputs: each input is a new world. */
static inline void driver_init(struct driver *d, const char *service, struct service_config config,
                               const struct service_settings *settings, driver_line_check check)
{
    driver_setup_once();
    memset(d, 0, sizeof *d);
    d->config = config;
    d->listener.fd = -1;
    d->listener.transport = TRANSPORT_TCP;
    d->listener.service = service_find(service);
    FUZZ_CHECK(d->listener.service != NULL);
    d->listener.config = &d->config;
    if (d->listener.service->create) {
        char why[256];
        d->listener.instance = d->listener.service->create(settings, why, sizeof why);
        if (d->listener.instance == NULL)
            fprintf(stderr, "cannot create %s: %s\n", service, why);
        FUZZ_CHECK(d->listener.instance != NULL);
        d->listener.owns_instance = true;
    }
    snprintf(d->listener.name, sizeof d->listener.name, "tcp://127.0.0.1:1/%s", service);
    d->check = check;
}

static inline bool driver_open(struct driver *d)
{
    if (d->count == DRIVER_CLIENTS)
        return false;
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0)
        return false;
    struct address peer;
    memset(&peer, 0, sizeof peer);
    peer.u.in.sin_family = AF_INET;
    peer.u.in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    peer.u.in.sin_port = htons((uint16_t)(40000 + d->count));
    peer.length = sizeof peer.u.in;
    struct conn *c = conn_create(fds[0], &peer, &d->listener, &d->owner);
    if (c == NULL) {
        close(fds[0]);
        close(fds[1]);
        return false;
    }
    struct driven_client *client = &d->clients[d->count++];
    client->conn = c;
    client->peer = fds[1];
    client->line_len = 0;
    conn_start(c);
    return true;
}

static inline short driver_ready(int fd, short events)
{
    struct pollfd p = {fd, events, 0};
    if (poll(&p, 1, 0) < 0)
        return 0;
    return p.revents;
}

/* Destroys the connection when it has nothing left to do. */
static inline void driver_reap(struct driven_client *client)
{
    if (client->conn && conn_is_finished(client->conn)) {
        conn_destroy(client->conn);
        client->conn = NULL;
    }
}

/* What a readiness model does for one connection: read and write when the
 * socket is ready and the connection wants it. */
static inline void driver_serve(struct driven_client *client, bool read, bool write)
{
    struct conn *c = client->conn;
    if (c == NULL)
        return;
    unsigned want = conn_interest(c);
    if (read && (want & CONN_WANT_READ) && (driver_ready(c->fd, POLLIN) & (POLLIN | POLLHUP)))
        conn_handle_readable(c);
    else if (write && (want & CONN_WANT_WRITE) && (driver_ready(c->fd, POLLOUT) & POLLOUT))
        conn_handle_writable(c);
    driver_reap(client);
}

static inline void driver_fire_timer(struct driven_client *client)
{
    if (client->conn && conn_deadline(client->conn) != 0)
        conn_handle_timer(client->conn, conn_deadline(client->conn));
    driver_reap(client);
}

/* The client reads what arrived and hands each whole line to the check. */
static inline void driver_client_read(struct driver *d, struct driven_client *client)
{
    if (client->peer < 0)
        return;
    uint8_t buf[4096];
    ssize_t n;
    while ((n = read(client->peer, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] == '\n' || client->line_len == DRIVER_LINE_MAX) {
                d->check(client->line, client->line_len);
                client->line_len = 0;
                if (buf[i] == '\n')
                    continue;
            }
            client->line[client->line_len++] = buf[i];
        }
    }
}

static inline void driver_client_write(struct driven_client *client, const uint8_t *data,
                                       size_t len)
{
    if (client->peer < 0 || len == 0)
        return;
    /* A full socket drops the rest, as a client that gave up would. */
    if (write(client->peer, data, len) < 0 && errno != EAGAIN && errno != EPIPE)
        FUZZ_CHECK(!"the client's write failed");
}

static inline void driver_client_close(struct driven_client *client, bool half)
{
    if (client->peer < 0)
        return;
    if (half) {
        shutdown(client->peer, SHUT_WR);
        return;
    }
    close(client->peer);
    client->peer = -1;
}

/*
 * Runs the commands of the input. Each command byte picks a client (its low
 * two bits) and an action; a write takes a length byte and that many bytes
 * of payload from the input.
 */
static inline void driver_run(struct driver *d, struct fuzz_input *in)
{
    while (in->len > 0) {
        uint8_t command = fuzz_byte(in);
        if (d->count == 0 && !driver_open(d))
            return;
        struct driven_client *client = &d->clients[(command & 3) % d->count];
        switch ((command >> 2) % 10) {
        case 0:
        case 1: {
            size_t len = fuzz_byte(in);
            len = len < in->len ? len : in->len;
            driver_client_write(client, in->data, len);
            in->data += len;
            in->len -= len;
            break;
        }
        case 2:
        case 3:
            driver_serve(client, true, false);
            break;
        case 4:
            driver_serve(client, false, true);
            break;
        case 5:
            driver_client_read(d, client);
            break;
        case 6:
            driver_fire_timer(client);
            break;
        case 7:
            driver_client_close(client, true);
            break;
        case 8:
            driver_client_close(client, false);
            break;
        default:
            driver_open(d);
            break;
        }
    }
}

/* A graceful stop, bounded, then everything is destroyed and closed. */
static inline void driver_finish(struct driver *d)
{
    for (size_t i = 0; i < d->count; i++)
        if (d->clients[i].conn)
            conn_begin_stop(d->clients[i].conn);
    for (int round = 0; round < DRIVER_STOP_ROUNDS; round++) {
        bool live = false;
        for (size_t i = 0; i < d->count; i++) {
            struct driven_client *client = &d->clients[i];
            driver_client_read(d, client);
            driver_reap(client);
            driver_serve(client, true, false);
            driver_serve(client, false, true);
            driver_fire_timer(client);
            live = live || client->conn != NULL;
        }
        if (!live)
            break;
    }
    for (size_t i = 0; i < d->count; i++) {
        struct driven_client *client = &d->clients[i];
        if (client->conn)
            conn_destroy(client->conn);
        client->conn = NULL;
        /* An unterminated rest is not checked: a client dropped as too
         * slow may have been sent part of a line, cut anywhere. */
        driver_client_read(d, client);
        driver_client_close(client, false);
    }
    if (d->listener.owns_instance)
        d->listener.service->destroy(d->listener.instance);
}

#endif
