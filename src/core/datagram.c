#include "core/datagram.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int datagram_in_init(struct datagram_in *in)
{
    memset(in, 0, sizeof(*in));
    in->storage = malloc((size_t)DATAGRAM_BATCH * DATAGRAM_MAX);
    return in->storage ? 0 : -1;
}

void datagram_in_free(struct datagram_in *in)
{
    free(in->storage);
    in->storage = NULL;
}

const uint8_t *datagram_in_data(const struct datagram_in *in, int i)
{
    return in->storage + (size_t)i * DATAGRAM_MAX;
}

int datagram_receive(struct datagram_in *in, int fd, int max)
{
    if (max > DATAGRAM_BATCH)
        max = DATAGRAM_BATCH;
    for (int i = 0; i < max; i++) {
        in->iov[i] = (struct iovec){in->storage + (size_t)i * DATAGRAM_MAX, DATAGRAM_MAX};
        memset(&in->msgs[i], 0, sizeof(in->msgs[i]));
        in->msgs[i].msg_hdr.msg_name = &in->from[i].u;
        in->msgs[i].msg_hdr.msg_namelen = sizeof(in->from[i].u);
        in->msgs[i].msg_hdr.msg_iov = &in->iov[i];
        in->msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int n;
    do {
        n = recvmmsg(fd, in->msgs, (unsigned)max, MSG_DONTWAIT, NULL);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
    for (int i = 0; i < n; i++)
        in->from[i].length = in->msgs[i].msg_hdr.msg_namelen;
    return n;
}

int datagram_out_init(struct datagram_out *out)
{
    memset(out, 0, sizeof(*out));
    out->fd = -1;
    out->storage = malloc(DATAGRAM_OUT_BYTES);
    return out->storage ? 0 : -1;
}

void datagram_out_free(struct datagram_out *out)
{
    free(out->storage);
    out->storage = NULL;
}

void datagram_flush(struct datagram_out *out)
{
    size_t sent = 0;
    while (sent < out->count) {
        int n = sendmmsg(out->fd, out->msgs + sent, (unsigned)(out->count - sent),
                         MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        /* An error belongs to the first unsent reply: drop it, go on. */
        sent += n > 0 ? (size_t)n : 1;
    }
    out->count = 0;
    out->used = 0;
}

void datagram_queue(struct datagram_out *out, int fd, const struct address *to, const void *data,
                    size_t len)
{
    if (len > DATAGRAM_OUT_BYTES)
        len = DATAGRAM_OUT_BYTES; /* Longer than UDP can carry anyway. */
    if (out->count == DATAGRAM_BATCH || out->used + len > DATAGRAM_OUT_BYTES ||
        (out->count > 0 && out->fd != fd))
        datagram_flush(out);
    size_t i = out->count++;
    out->fd = fd;
    uint8_t *copy = out->storage + out->used;
    memcpy(copy, data, len);
    out->used += len;
    out->to[i] = *to;
    out->iov[i] = (struct iovec){copy, len};
    memset(&out->msgs[i], 0, sizeof(out->msgs[i]));
    out->msgs[i].msg_hdr.msg_name = &out->to[i].u;
    out->msgs[i].msg_hdr.msg_namelen = to->length;
    out->msgs[i].msg_hdr.msg_iov = &out->iov[i];
    out->msgs[i].msg_hdr.msg_iovlen = 1;
}
