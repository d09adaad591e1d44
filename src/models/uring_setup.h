/*
 * Getting an io_uring for the uring model: opening a ring with the best
 * flags this kernel takes, explaining in one line why io_uring cannot be had
 * here (a missing kernel feature, a sysctl, a seccomp filter), and the
 * provided-buffer ring that multishot receives pick their buffers from.
 */
#ifndef SOCKSERV_URING_SETUP_H
#define SOCKSERV_URING_SETUP_H

#include <liburing.h>
#include <stddef.h>
#include <stdint.h>

/* The provided-buffer ring: URING_BUFFER_COUNT buffers of URING_BUFFER_SIZE
 * bytes, shared by every connection. A power of two, as the kernel
 * requires. */
#define URING_BUFFER_COUNT 1024
#define URING_BUFFER_SIZE 8192
#define URING_BUFFER_BYTES ((size_t)URING_BUFFER_COUNT * URING_BUFFER_SIZE)
/* The buffer group receives name to pick from this ring. */
#define URING_BUFFER_GROUP 1

struct uring_buffers {
    struct io_uring_buf_ring *ring; /* Shared with the kernel. */
    uint8_t *memory;                /* The buffers themselves. */
};

/* Opens ring with entries entries, or returns -1 with the reason in err. */
int uring_open(struct io_uring *ring, unsigned entries, char *err, size_t errlen);

/* Whether io_uring can run here at all, asked before anything is
 * announced: 0, or -1 with the reason in err. */
int uring_probe(char *err, size_t errlen);

/* Maps the buffers and registers them with ring. On failure, -1 with the
 * reason in err; uring_buffers_free still cleans up. */
int uring_buffers_setup(struct uring_buffers *b, struct io_uring *ring, char *err, size_t errlen);

/* Buffer bid, as a receive completion names it. */
static inline uint8_t *uring_buffer(const struct uring_buffers *b, unsigned bid)
{
    return b->memory + (size_t)bid * URING_BUFFER_SIZE;
}

/* Gives buffer bid back to the kernel once its bytes are consumed. */
void uring_buffers_recycle(struct uring_buffers *b, unsigned bid);

void uring_buffers_free(struct uring_buffers *b);

#endif
