#include "core/socket_activation.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/error.h"

/* A whole decimal number from 1 to max; false for anything else. */
static bool parse_positive(const char *text, unsigned long max, unsigned long *out)
{
    if (!text || *text < '0' || *text > '9')
        return false;
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(text, &end, 10);
    if (errno != 0 || *end != '\0' || v == 0 || v > max)
        return false;
    *out = v;
    return true;
}

/* Copies the colon-separated names into out[0..count). Fewer names than
 * sockets leave the rest unnamed; more are an error, as systemd never
 * passes them. */
static int split_names(const char *names, struct inherited_socket *out, size_t count, char *err,
                       size_t errlen)
{
    for (size_t i = 0; i < count; i++)
        out[i].name[0] = '\0';
    if (!names)
        return 0;
    const char *p = names;
    for (size_t i = 0; *p != '\0' || i == 0; i++) {
        const char *colon = strchr(p, ':');
        size_t len = colon ? (size_t)(colon - p) : strlen(p);
        if (i >= count)
            return error_set(err, errlen, "LISTEN_FDNAMES names more sockets than LISTEN_FDS=%zu",
                             count);
        if (len >= sizeof(out[i].name))
            return error_set(err, errlen, "LISTEN_FDNAMES: name %zu is too long", i + 1);
        memcpy(out[i].name, p, len);
        out[i].name[len] = '\0';
        if (!colon)
            break;
        p = colon + 1;
    }
    return 0;
}

int socket_activation_parse(const char *listen_pid, const char *listen_fds,
                            const char *listen_fdnames, pid_t self, struct inherited_socket *out,
                            size_t max, char *err, size_t errlen)
{
    if (!listen_pid || !listen_fds)
        return 0;
    unsigned long pid;
    if (!parse_positive(listen_pid, (unsigned long)INT32_MAX, &pid))
        return error_set(err, errlen, "bad LISTEN_PID '%s': expected a process id", listen_pid);
    /* Meant for another process: the one that was started with them
     * passed the variables on without taking the sockets. */
    if ((pid_t)pid != self)
        return 0;
    unsigned long count;
    if (strcmp(listen_fds, "0") == 0)
        return 0;
    if (!parse_positive(listen_fds, max, &count))
        return error_set(err, errlen, "bad LISTEN_FDS '%s': expected 1 to %zu sockets", listen_fds,
                         max);
    for (size_t i = 0; i < count; i++)
        out[i].fd = SOCKET_ACTIVATION_FIRST_FD + (int)i;
    if (split_names(listen_fdnames, out, count, err, errlen) != 0)
        return -1;
    return (int)count;
}

static int get_int_option(int fd, int name, int *value)
{
    socklen_t len = sizeof(*value);
    return getsockopt(fd, SOL_SOCKET, name, value, &len);
}

/* Checks one inherited descriptor and learns its transport. */
static int check_socket(struct inherited_socket *s, char *err, size_t errlen)
{
    int type, domain, listening = 0;
    if (get_int_option(s->fd, SO_TYPE, &type) != 0)
        return error_set(err, errlen, "inherited fd %d: %s", s->fd,
                         errno == ENOTSOCK ? "not a socket" : strerror(errno));
    if (get_int_option(s->fd, SO_DOMAIN, &domain) != 0)
        return error_set(err, errlen, "inherited fd %d: %s", s->fd, strerror(errno));
    if (domain != AF_INET && domain != AF_INET6)
        return error_set(err, errlen, "inherited fd %d: not an IPv4 or IPv6 socket", s->fd);
    if (type == SOCK_STREAM) {
        if (get_int_option(s->fd, SO_ACCEPTCONN, &listening) != 0)
            return error_set(err, errlen, "inherited fd %d: %s", s->fd, strerror(errno));
        if (!listening)
            return error_set(err, errlen,
                             "inherited fd %d: a connected stream, not a listening socket (an "
                             "Accept=yes unit: use --inetd)",
                             s->fd);
        s->transport = TRANSPORT_TCP;
    } else if (type == SOCK_DGRAM) {
        s->transport = TRANSPORT_UDP;
    } else {
        return error_set(err, errlen, "inherited fd %d: neither a stream nor a datagram socket",
                         s->fd);
    }
    /* The server's own sockets are non-blocking and close-on-exec; an
     * inherited one must be too, whatever the manager handed over. */
    int flags = fcntl(s->fd, F_GETFL);
    if (flags < 0 || fcntl(s->fd, F_SETFL, flags | O_NONBLOCK) != 0 ||
        fcntl(s->fd, F_SETFD, FD_CLOEXEC) != 0)
        return error_set(err, errlen, "inherited fd %d: %s", s->fd, strerror(errno));
    return 0;
}

int socket_activation_take(struct inherited_socket *out, size_t max, char *err, size_t errlen)
{
    int count = socket_activation_parse(getenv("LISTEN_PID"), getenv("LISTEN_FDS"),
                                        getenv("LISTEN_FDNAMES"), getpid(), out, max, err, errlen);
    /* Unset whatever was read: a fork-model child or a worker must never
     * believe the sockets were passed to it. */
    unsetenv("LISTEN_PID");
    unsetenv("LISTEN_FDS");
    unsetenv("LISTEN_FDNAMES");
    for (int i = 0; i < count; i++)
        if (check_socket(&out[i], err, errlen) != 0)
            return -1;
    return count;
}
