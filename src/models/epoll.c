/*
 * The epoll model: one thread, non-blocking sockets, and the kernel keeping
 * the watch list, so each wait costs in proportion to the ready descriptors
 * rather than to all of them. Level-triggered, so a connection that is not
 * fully served in one turn (a read cut short for fairness) is reported
 * again without any bookkeeping of ours.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "core/error.h"
#include "models/event_loop.h"

struct epoll_state {
    int epfd;
    struct epoll_event events[EVENT_BATCH_MAX];
};

static void *epoll_create_state(char *err, size_t errlen)
{
    struct epoll_state *st = malloc(sizeof(*st));
    if (!st) {
        error_set(err, errlen, "out of memory");
        return NULL;
    }
    st->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (st->epfd < 0) {
        error_set(err, errlen, "epoll_create1: %s", strerror(errno));
        free(st);
        return NULL;
    }
    return st;
}

static void epoll_destroy_state(void *state)
{
    struct epoll_state *st = state;
    close(st->epfd);
    free(st);
}

static int epoll_watch(void *state, int fd, unsigned old_mask, unsigned new_mask)
{
    struct epoll_state *st = state;
    struct epoll_event ev = {0};
    ev.events = ((new_mask & EVENT_READ) ? EPOLLIN : 0) |
                ((new_mask & EVENT_WRITE) ? EPOLLOUT : 0) |
                ((new_mask & EVENT_EXCLUSIVE) ? EPOLLEXCLUSIVE : 0);
    ev.data.fd = fd;
    /* A descriptor watched for nothing is removed, because epoll reports
     * hang-ups even on an empty mask and the loop would spin on them. */
    int op = new_mask == 0 ? EPOLL_CTL_DEL : old_mask == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
    return epoll_ctl(st->epfd, op, fd, &ev);
}

static int epoll_wait_events(void *state, int timeout_ms, struct fired_event *fired, int max)
{
    struct epoll_state *st = state;
    int room = max < EVENT_BATCH_MAX ? max : EVENT_BATCH_MAX;
    int n = epoll_wait(st->epfd, st->events, room, timeout_ms);
    if (n < 0)
        return errno == EINTR ? 0 : -1;
    for (int i = 0; i < n; i++) {
        uint32_t e = st->events[i].events;
        unsigned mask = 0;
        if (e & (EPOLLIN | EPOLLERR | EPOLLHUP))
            mask |= EVENT_READ;
        if (e & (EPOLLOUT | EPOLLERR | EPOLLHUP))
            mask |= EVENT_WRITE;
        fired[i] = (struct fired_event){st->events[i].data.fd, mask};
    }
    return n;
}

static const struct readiness_backend epoll_backend = {
    .name = "epoll",
    .create = epoll_create_state,
    .destroy = epoll_destroy_state,
    .watch = epoll_watch,
    .wait = epoll_wait_events,
};

static int run_epoll(struct server *srv, char *err, size_t errlen)
{
    return event_loop_run(&epoll_backend, srv, err, errlen);
}

const struct model model_epoll = {
    .name = "epoll",
    .summary = "one thread, non-blocking, epoll(7) (the default)",
    .default_max_conns = 0,
    .event_loop = true,
    .run = run_epoll,
};
