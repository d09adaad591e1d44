/*
 * systemd socket activation (sd_listen_fds(3)), without libsystemd.
 *
 * A service manager that binds the sockets itself starts the server with
 * them open from descriptor 3 on, LISTEN_FDS saying how many, LISTEN_PID
 * saying for which process (a child that inherited the variables must not
 * take the sockets), and LISTEN_FDNAMES naming each one, colon-separated
 * (FileDescriptorName= in a .socket unit). sockserv reads each name as the
 * service that socket serves; anything after a '?' in a name is left for
 * the caller (a per-listener query).
 *
 * socket_activation_take reads and then unsets the three variables, so no
 * process the server starts ever sees them, and checks each descriptor: an
 * IPv4 or IPv6 socket, a listening one if it is a stream.
 */
#ifndef SOCKSERV_SOCKET_ACTIVATION_H
#define SOCKSERV_SOCKET_ACTIVATION_H

#include <stddef.h>
#include <sys/types.h>

#include "core/endpoint.h"

/* The first inherited descriptor, as sd_listen_fds(3) defines it. */
#define SOCKET_ACTIVATION_FIRST_FD 3
/* More sockets than any unit would pass; the rest are refused. */
#define SOCKET_ACTIVATION_MAX 256
/* A name as systemd allows it (FDNAME_MAX is 255). */
#define SOCKET_ACTIVATION_NAME_MAX 256

struct inherited_socket {
    int fd;
    enum transport transport;              /* Filled in by socket_activation_take. */
    char name[SOCKET_ACTIVATION_NAME_MAX]; /* "echo", "" when unnamed. */
};

/*
 * Reads the values of LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES (each may be
 * NULL) for the process self. Returns how many sockets were passed, 0 when
 * none were passed to self (variables absent, or meant for another
 * process), or -1 with a one-line reason in err. Fills out[i].fd and
 * out[i].name only: it looks at no descriptor, so it can be tested alone.
 */
int socket_activation_parse(const char *listen_pid, const char *listen_fds,
                            const char *listen_fdnames, pid_t self, struct inherited_socket *out,
                            size_t max, char *err, size_t errlen);

/*
 * The sockets this process was started with, from the environment, which it
 * then clears. Returns their count (0: not socket-activated), or -1 with a
 * one-line reason in err ("fd 4 is not a socket"). Each returned socket is
 * left non-blocking and close-on-exec.
 */
int socket_activation_take(struct inherited_socket *out, size_t max, char *err, size_t errlen);

#endif
