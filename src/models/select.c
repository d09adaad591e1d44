/*
 * The select model: the tutorials' first non-blocking server. Each wait
 * hands the kernel the whole watch list as bitmaps and scans every
 * descriptor up to the highest, so its cost grows with the number of
 * connections, and it cannot watch a descriptor of FD_SETSIZE (1024) or
 * more: such a connection is refused with a warning rather than corrupting
 * memory.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/select.h>

#include "core/error.h"
#include "models/event_loop.h"

struct select_state {
    fd_set read_set, write_set;
    int max_fd; /* Highest descriptor watched, or -1. */
};

static void *select_create_state(char *err, size_t errlen)
{
    struct select_state *st = malloc(sizeof(*st));
    if (!st) {
        error_set(err, errlen, "out of memory");
        return NULL;
    }
    FD_ZERO(&st->read_set);
    FD_ZERO(&st->write_set);
    st->max_fd = -1;
    return st;
}

static void select_destroy_state(void *state)
{
    free(state);
}

static int select_watch(void *state, int fd, unsigned old_mask, unsigned new_mask)
{
    struct select_state *st = state;
    (void)old_mask;
    if (fd < 0 || fd >= FD_SETSIZE) {
        errno = EMFILE;
        return -1;
    }
    if (new_mask & EVENT_READ)
        FD_SET(fd, &st->read_set);
    else
        FD_CLR(fd, &st->read_set);
    if (new_mask & EVENT_WRITE)
        FD_SET(fd, &st->write_set);
    else
        FD_CLR(fd, &st->write_set);
    if (new_mask && fd > st->max_fd)
        st->max_fd = fd;
    while (st->max_fd >= 0 && !FD_ISSET(st->max_fd, &st->read_set) &&
           !FD_ISSET(st->max_fd, &st->write_set))
        st->max_fd--;
    return 0;
}

static int select_wait(void *state, int timeout_ms, struct fired_event *fired, int max)
{
    struct select_state *st = state;
    /* select overwrites its sets, so it gets copies of ours. */
    fd_set readable = st->read_set, writable = st->write_set;
    struct timeval tv, *tvp = NULL;
    if (timeout_ms >= 0) {
        tv.tv_sec = timeout_ms / 1000;
        tv.tv_usec = (timeout_ms % 1000) * 1000;
        tvp = &tv;
    }
    int n = select(st->max_fd + 1, &readable, &writable, NULL, tvp);
    if (n < 0)
        return errno == EINTR ? 0 : -1;
    int count = 0;
    for (int fd = 0; fd <= st->max_fd && count < max && n > 0; fd++) {
        unsigned mask = (FD_ISSET(fd, &readable) ? EVENT_READ : 0) |
                        (FD_ISSET(fd, &writable) ? EVENT_WRITE : 0);
        if (mask)
            fired[count++] = (struct fired_event){fd, mask};
    }
    return count;
}

static const struct readiness_backend select_backend = {
    .name = "select",
    .create = select_create_state,
    .destroy = select_destroy_state,
    .watch = select_watch,
    .wait = select_wait,
};

static int run_select(struct server *srv, char *err, size_t errlen)
{
    return event_loop_run(&select_backend, srv, err, errlen);
}

const struct model model_select = {
    .name = "select",
    .summary = "one thread, non-blocking, select(2) (descriptors below 1024)",
    /* Leaves room below FD_SETSIZE for listeners and the stop latch. */
    .default_max_conns = FD_SETSIZE - 64,
    .event_loop = true,
    .run = run_select,
};
