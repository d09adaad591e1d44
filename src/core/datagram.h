/*
 * Receiving and sending UDP datagrams in batches: one recvmmsg takes up to
 * DATAGRAM_BATCH requests, and the replies produced while serving them leave
 * in one sendmmsg. On a busy UDP listener that turns two system calls per
 * request into two per batch.
 */
#ifndef SOCKSERV_DATAGRAM_H
#define SOCKSERV_DATAGRAM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/address.h"

#define DATAGRAM_BATCH 16
/* Larger than any UDP payload over IPv4 or IPv6 (65,527 bytes without
 * jumbograms), so no datagram is ever truncated. */
#define DATAGRAM_MAX 65536
/* Reply bytes held before a batch must be sent. */
#define DATAGRAM_OUT_BYTES (256 * 1024)

struct datagram_in {
    struct mmsghdr msgs[DATAGRAM_BATCH];
    struct iovec iov[DATAGRAM_BATCH];
    struct address from[DATAGRAM_BATCH];
    uint8_t *storage; /* DATAGRAM_BATCH * DATAGRAM_MAX bytes. */
};

struct datagram_out {
    struct mmsghdr msgs[DATAGRAM_BATCH];
    struct iovec iov[DATAGRAM_BATCH];
    struct address to[DATAGRAM_BATCH];
    int fd;           /* Every queued reply leaves through this socket. */
    size_t count;     /* Replies queued. */
    size_t used;      /* Bytes of storage used. */
    uint8_t *storage; /* DATAGRAM_OUT_BYTES bytes. */
};

int datagram_in_init(struct datagram_in *in);
void datagram_in_free(struct datagram_in *in);

/*
 * Receives up to max (at most DATAGRAM_BATCH) datagrams from fd. Returns
 * their count (0 when none is waiting) or -1 with errno set. Datagram i is
 * at datagram_in_data(in, i), msgs[i].msg_len bytes, from from[i].
 */
int datagram_receive(struct datagram_in *in, int fd, int max);
const uint8_t *datagram_in_data(const struct datagram_in *in, int i);

int datagram_out_init(struct datagram_out *out);
void datagram_out_free(struct datagram_out *out);

/* Queues a reply, sending the queue first when it is full or bound for
 * another socket. */
void datagram_queue(struct datagram_out *out, int fd, const struct address *to, const void *data,
                    size_t len);

/* Sends every queued reply. A reply the socket cannot take now is dropped,
 * as the network may drop it: UDP promises nothing, and waiting would stall
 * every other client. */
void datagram_flush(struct datagram_out *out);

#endif
