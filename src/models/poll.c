/*
 * The poll model: select without the FD_SETSIZE ceiling. The watch list is
 * a packed pollfd array with an index by descriptor, so adding and removing
 * are O(1) (the last entry moves into the hole), but every wait still hands
 * the kernel the whole array and scans it afterwards.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>

#include "core/error.h"
#include "models/event_loop.h"
#include "models/fd_table.h"

struct poll_state {
    struct pollfd *fds;
    size_t count, capacity;
    /* position[fd] is the fd's index in fds plus one; 0: not watched. */
    size_t *position;
    size_t position_count;
};

static void *poll_create_state(char *err, size_t errlen)
{
    struct poll_state *st = calloc(1, sizeof(*st));
    if (!st)
        error_set(err, errlen, "out of memory");
    return st;
}

static void poll_destroy_state(void *state)
{
    struct poll_state *st = state;
    free(st->fds);
    free(st->position);
    free(st);
}

static int grow(struct poll_state *st, int fd)
{
    size_t *position = fd_table_grow(st->position, &st->position_count, sizeof(*position), fd);
    if (!position)
        return -1;
    st->position = position;
    if (st->count == st->capacity) {
        size_t capacity = st->capacity ? st->capacity * 2 : 64;
        struct pollfd *grown = realloc(st->fds, capacity * sizeof(*grown));
        if (!grown)
            return -1;
        st->fds = grown;
        st->capacity = capacity;
    }
    return 0;
}

static int poll_watch(void *state, int fd, unsigned old_mask, unsigned new_mask)
{
    struct poll_state *st = state;
    (void)old_mask;
    if (fd < 0) {
        errno = EBADF;
        return -1;
    }
    short events =
        (short)(((new_mask & EVENT_READ) ? POLLIN : 0) | ((new_mask & EVENT_WRITE) ? POLLOUT : 0));
    size_t pos = (size_t)fd < st->position_count ? st->position[fd] : 0;
    if (new_mask == 0) {
        /* Removed rather than left with no events, because poll reports
         * hang-ups regardless and the loop would spin on them. */
        if (pos) {
            st->fds[pos - 1] = st->fds[--st->count];
            if (pos - 1 < st->count)
                st->position[st->fds[pos - 1].fd] = pos;
            st->position[fd] = 0;
        }
        return 0;
    }
    if (pos) {
        st->fds[pos - 1].events = events;
        return 0;
    }
    if (grow(st, fd) != 0) {
        errno = ENOMEM;
        return -1;
    }
    st->fds[st->count] = (struct pollfd){.fd = fd, .events = events};
    st->position[fd] = ++st->count;
    return 0;
}

static int poll_wait(void *state, int timeout_ms, struct fired_event *fired, int max)
{
    struct poll_state *st = state;
    int n = poll(st->fds, st->count, timeout_ms);
    if (n < 0)
        return errno == EINTR ? 0 : -1;
    int count = 0;
    for (size_t i = 0; i < st->count && count < max && count < n; i++) {
        short r = st->fds[i].revents;
        if (!r)
            continue;
        unsigned mask = 0;
        if (r & (POLLIN | POLLERR | POLLHUP | POLLNVAL))
            mask |= EVENT_READ;
        if (r & (POLLOUT | POLLERR | POLLHUP | POLLNVAL))
            mask |= EVENT_WRITE;
        fired[count++] = (struct fired_event){st->fds[i].fd, mask};
    }
    return count;
}

static const struct readiness_backend poll_backend = {
    .name = "poll",
    .create = poll_create_state,
    .destroy = poll_destroy_state,
    .watch = poll_watch,
    .wait = poll_wait,
};

static int run_poll(struct server *srv, char *err, size_t errlen)
{
    return event_loop_run(&poll_backend, srv, err, errlen);
}

const struct model model_poll = {
    .name = "poll",
    .summary = "one thread, non-blocking, poll(2)",
    .default_max_conns = 0,
    .event_loop = true,
    .run = run_poll,
};
