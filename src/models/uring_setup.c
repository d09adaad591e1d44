#include "models/uring_setup.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>

#include "core/error.h"

/* The sysctl that may switch io_uring off (Linux 6.6 and later). */
#define IO_URING_DISABLED_SYSCTL "/proc/sys/kernel/io_uring_disabled"

static void read_disabled_sysctl(char *value, size_t size)
{
    value[0] = '\0';
    FILE *f = fopen(IO_URING_DISABLED_SYSCTL, "r");
    if (!f)
        return;
    if (!fgets(value, (int)size, f))
        value[0] = '\0';
    fclose(f);
    value[strcspn(value, "\n")] = '\0';
}

static int explain_setup_failure(int cause, char *err, size_t errlen)
{
    char sysctl[16];
    read_disabled_sysctl(sysctl, sizeof(sysctl));
    if (strcmp(sysctl, "2") == 0)
        return error_set(err, errlen,
                         "io_uring is disabled on this system (sysctl "
                         "kernel.io_uring_disabled=2); use another --model");
    if (strcmp(sysctl, "1") == 0 && cause == EPERM)
        return error_set(err, errlen,
                         "io_uring is limited to the group in kernel.io_uring_group "
                         "(sysctl kernel.io_uring_disabled=1) and this process is not in it");
    if (cause == ENOSYS)
        return error_set(err, errlen,
                         "io_uring is not available: the kernel lacks it or a seccomp filter "
                         "hides it (io_uring_setup: %s)",
                         strerror(cause));
    if (cause == EPERM || cause == EACCES)
        return error_set(err, errlen,
                         "io_uring is refused by a security policy, such as a container's "
                         "seccomp filter (io_uring_setup: %s)",
                         strerror(cause));
    return error_set(err, errlen, "cannot set up io_uring: %s", strerror(cause));
}

/* Multishot receive arrived in Linux 6.0; older kernels fail each request
 * with EINVAL, which would look like every client failing. */
static bool kernel_has_multishot_recv(void)
{
    struct utsname u;
    int major = 0, minor = 0;
    if (uname(&u) != 0 || sscanf(u.release, "%d.%d", &major, &minor) != 2)
        return true; /* Unknown: let the kernel decide. */
    return major >= 6;
}

int uring_open(struct io_uring *ring, unsigned entries, char *err, size_t errlen)
{
    if (!kernel_has_multishot_recv())
        return error_set(err, errlen,
                         "the uring model needs Linux 6.0 or later (multishot receive)");
    /* Only this thread submits and reaps, so the kernel may run completion
     * work when we wait rather than interrupt us (6.1 and later); older
     * kernels refuse the flags with EINVAL and get the plain ring. */
    static const unsigned flag_choices[] = {
        IORING_SETUP_SUBMIT_ALL | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
        IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN,
        0,
    };
    struct io_uring_params params;
    int rc = -EINVAL;
    for (size_t i = 0; i < sizeof(flag_choices) / sizeof(flag_choices[0]) && rc == -EINVAL; i++) {
        memset(&params, 0, sizeof(params));
        params.flags = flag_choices[i];
        rc = io_uring_queue_init_params(entries, ring, &params);
    }
    if (rc < 0)
        return explain_setup_failure(-rc, err, errlen);
    if (!(params.features & IORING_FEAT_EXT_ARG)) {
        io_uring_queue_exit(ring);
        return error_set(err, errlen,
                         "this kernel's io_uring lacks timed waits (needs Linux 5.11)");
    }
    /* Each wait then skips looking the ring's descriptor up; a kernel
     * without registered rings (before 5.18) just does the lookup. */
    io_uring_register_ring_fd(ring);
    return 0;
}

int uring_probe(char *err, size_t errlen)
{
    struct io_uring ring;
    if (uring_open(&ring, 8, err, errlen) != 0)
        return -1;
    io_uring_queue_exit(&ring);
    return 0;
}

int uring_buffers_setup(struct uring_buffers *b, struct io_uring *ring, char *err, size_t errlen)
{
    size_t ring_bytes = URING_BUFFER_COUNT * sizeof(struct io_uring_buf);
    void *ring_memory =
        mmap(NULL, ring_bytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    if (ring_memory == MAP_FAILED)
        return error_set(err, errlen, "cannot map the buffer ring: %s", strerror(errno));
    b->ring = ring_memory;
    b->memory = malloc((size_t)URING_BUFFER_COUNT * URING_BUFFER_SIZE);
    if (!b->memory)
        return error_set(err, errlen, "out of memory for receive buffers");
    struct io_uring_buf_reg reg = {
        .ring_addr = (unsigned long)(uintptr_t)ring_memory,
        .ring_entries = URING_BUFFER_COUNT,
        .bgid = URING_BUFFER_GROUP,
    };
    int rc = io_uring_register_buf_ring(ring, &reg, 0);
    if (rc == -EINVAL)
        return error_set(err, errlen,
                         "this kernel has no provided buffer rings (io_uring needs Linux 5.19 "
                         "or later here)");
    if (rc < 0)
        return error_set(err, errlen, "cannot register the buffer ring: %s", strerror(-rc));
    io_uring_buf_ring_init(b->ring);
    for (unsigned i = 0; i < URING_BUFFER_COUNT; i++)
        io_uring_buf_ring_add(b->ring, uring_buffer(b, i), URING_BUFFER_SIZE, (unsigned short)i,
                              io_uring_buf_ring_mask(URING_BUFFER_COUNT), (int)i);
    io_uring_buf_ring_advance(b->ring, URING_BUFFER_COUNT);
    return 0;
}

void uring_buffers_recycle(struct uring_buffers *b, unsigned bid)
{
    io_uring_buf_ring_add(b->ring, uring_buffer(b, bid), URING_BUFFER_SIZE, (unsigned short)bid,
                          io_uring_buf_ring_mask(URING_BUFFER_COUNT), 0);
    io_uring_buf_ring_advance(b->ring, 1);
}

void uring_buffers_free(struct uring_buffers *b)
{
    if (b->ring)
        munmap(b->ring, URING_BUFFER_COUNT * sizeof(struct io_uring_buf));
    free(b->memory);
    *b = (struct uring_buffers){0};
}
