/*
 * Resolving and connecting. A TCP connect is started non-blocking and
 * finished with poll(), which is the one way to bound it by a timeout
 * without signals.
 */
#include "netclient/dial.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/duration.h"
#include "core/error.h"

int client_dialer_resolve(struct client_dialer *d, const struct endpoint *target, char *err,
                          size_t errlen)
{
    memset(d, 0, sizeof *d);
    char port[8];
    snprintf(port, sizeof port, "%u", (unsigned)target->port);
    /* No AI_ADDRCONFIG: it hides ::1 on hosts whose only IPv6 address is
     * loopback, and loopback is where these services are mostly tried. */
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC,
        .ai_socktype = target->transport == TRANSPORT_UDP ? SOCK_DGRAM : SOCK_STREAM,
        .ai_flags = AI_NUMERICSERV,
    };
    int rc;
    do {
        rc = getaddrinfo(target->host, port, &hints, &d->addresses);
    } while (rc == EAI_SYSTEM && errno == EINTR);
    if (rc != 0) {
        d->addresses = NULL;
        return error_set(err, errlen, "cannot resolve '%s': %s", target->host,
                         rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
    }
    d->next = d->addresses;
    return 0;
}

bool client_dialer_has_next(const struct client_dialer *d)
{
    return d->next != NULL;
}

/* Waits for a non-blocking connect to finish; returns 0 or -1 with errno. */
static int finish_connect(int fd, int64_t timeout_ms)
{
    int64_t deadline = clock_now_ms() + timeout_ms;
    for (;;) {
        struct pollfd pfd = {.fd = fd, .events = POLLOUT};
        int wait = clock_timeout_until(deadline);
        int n = poll(&pfd, 1, wait);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0) {
            errno = ETIMEDOUT;
            return -1;
        }
        int so_error = 0;
        socklen_t len = sizeof so_error;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len) != 0)
            return -1;
        if (so_error != 0) {
            errno = so_error;
            return -1;
        }
        return 0;
    }
}

int client_dialer_connect_next(struct client_dialer *d, int64_t timeout_ms, char *err,
                               size_t errlen)
{
    if (d->next == NULL) {
        error_set(err, errlen, "no address left to try");
        errno = EHOSTUNREACH;
        return -1;
    }
    const struct addrinfo *ai = d->next;
    d->next = ai->ai_next;

    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
        int saved = errno;
        error_set(err, errlen, "cannot create a socket: %s", strerror(saved));
        errno = saved;
        return -1;
    }
    int rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
    /* A signal does not cancel a non-blocking connect: it goes on in the
     * background, exactly as EINPROGRESS says. */
    if (rc != 0 && (errno == EINPROGRESS || errno == EINTR))
        rc = finish_connect(fd, timeout_ms);
    if (rc != 0) {
        int saved = errno;
        if (saved == ETIMEDOUT) {
            char limit[32];
            duration_format(timeout_ms, limit, sizeof limit);
            error_set(err, errlen, "no answer within %s", limit);
        } else {
            error_set(err, errlen, "%s", strerror(saved));
        }
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

void client_dialer_free(struct client_dialer *d)
{
    if (d->addresses != NULL)
        freeaddrinfo(d->addresses);
    memset(d, 0, sizeof *d);
}
