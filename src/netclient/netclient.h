/*
 * sockserv client: one conversation with one TCP or UDP service.
 *
 * The caller (src/cli/client.c) turns the command line into a client_job;
 * client_run_tcp or client_run_udp carries it out and prints the replies on
 * job->out_fd. Nothing here prints errors or exits: a run returns 0, or -1
 * with a one-line reason in err, and the caller reports it.
 *
 * TCP runs a netcat-style relay: input (the message, or job->in_fd) goes to
 * the socket while the socket goes to the output, through fixed buffers
 * under one poll() loop. A full buffer stops reading its source, so a 64 MiB
 * stream through echo never deadlocks and never takes more memory. End of
 * input becomes shutdown(SHUT_WR), and the run ends when the server closes.
 *
 * UDP is request and reply: each datagram is sent, and its reply awaited for
 * job->timeout_ms, resending up to job->retries times.
 */
#ifndef SOCKSERV_NETCLIENT_NETCLIENT_H
#define SOCKSERV_NETCLIENT_NETCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/endpoint.h"
#include "netclient/protocol.h"

/* The largest UDP payload over IPv4, and so the largest datagram sent. */
#define CLIENT_DATAGRAM_MAX 65507

struct client_job {
    struct endpoint target;
    const char *url; /* As the user wrote it, for messages. */
    const struct client_protocol *protocol;
    /* What to send when message is non-NULL; otherwise in_fd is read (when
     * the protocol takes input). */
    const uint8_t *message;
    size_t message_len;
    int in_fd;
    int out_fd;
    /* Fail unless the reply is what protocol->expect says it must be. */
    bool verify;
    /* TCP: the connect, and every wait in which only the server can make
     * progress. UDP: the wait for each reply, per try. */
    int64_t timeout_ms;
    unsigned retries; /* UDP: resends of an unanswered datagram. */
    /* TCP: stop after exactly this many reply bytes. UDP chargen: the size
     * of the request, which bounds the reply. 0: not given. */
    uint64_t bytes;
};

int client_run_tcp(const struct client_job *job, char *err, size_t errlen);
int client_run_udp(const struct client_job *job, char *err, size_t errlen);

#endif
