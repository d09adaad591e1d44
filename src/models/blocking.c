#include "models/blocking.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>

#include "core/clock.h"
#include "core/stop.h"

/* Listeners polled at once by one blocking model; more are served in turns
 * of this many, which no realistic command line reaches. */
#define MAX_WAIT_FDS 256

enum wait_result blocking_wait_client(struct server *srv, bool accepting, int extra_fd,
                                      struct accepted *out)
{
    struct pollfd fds[MAX_WAIT_FDS];
    struct listener *owners[MAX_WAIT_FDS];
    for (;;) {
        if (stop_requested())
            return WAIT_STOP;
        nfds_t n = 0;
        fds[n++] = (struct pollfd){.fd = stop_fd(), .events = POLLIN};
        if (extra_fd >= 0)
            fds[n++] = (struct pollfd){.fd = extra_fd, .events = POLLIN};
        nfds_t first_listener = n;
        for (size_t i = 0; accepting && i < srv->listeners.count && n < MAX_WAIT_FDS; i++) {
            owners[n] = &srv->listeners.items[i];
            fds[n++] = (struct pollfd){.fd = srv->listeners.items[i].fd, .events = POLLIN};
        }
        if (poll(fds, n, -1) < 0) {
            if (errno == EINTR)
                continue;
            return WAIT_ERROR;
        }
        if (fds[0].revents)
            return WAIT_STOP;
        if (extra_fd >= 0 && fds[1].revents)
            return WAIT_EXTRA;
        for (nfds_t i = first_listener; i < n; i++) {
            if (!fds[i].revents)
                continue;
            /* Another process or thread may have taken the client first;
             * the listener is non-blocking, so that costs one EAGAIN. */
            if (listener_accept(owners[i], &out->fd, &out->peer) == ACCEPT_OK) {
                out->listener = owners[i];
                return WAIT_CLIENT;
            }
        }
    }
}

static short poll_events(unsigned interest)
{
    return (short)(((interest & CONN_WANT_READ) ? POLLIN : 0) |
                   ((interest & CONN_WANT_WRITE) ? POLLOUT : 0));
}

void blocking_serve(struct conn *c, int64_t grace_ms)
{
    bool stopping = false;
    int64_t grace_deadline = 0;
    conn_start(c);
    while (!conn_is_finished(c)) {
        if (!stopping && stop_requested()) {
            stopping = true;
            grace_deadline = clock_now_ms() + grace_ms;
            conn_begin_stop(c);
            continue;
        }
        if (stopping && clock_now_ms() >= grace_deadline) {
            conn_abort(c, "grace period over");
            break;
        }
        unsigned interest = conn_interest(c);
        int64_t deadline = conn_deadline(c);
        if (stopping && (deadline == 0 || grace_deadline < deadline))
            deadline = grace_deadline;
        /* A connection that wants nothing from its socket is left out of
         * the wait: poll would report a hang-up on it over and over. */
        struct pollfd fds[2] = {
            {.fd = interest ? c->fd : -1, .events = poll_events(interest)},
            {.fd = stopping ? -1 : stop_fd(), .events = POLLIN},
        };
        int n = poll(fds, 2, clock_timeout_until(deadline));
        if (n < 0 && errno != EINTR) {
            conn_abort(c, "poll failed");
            break;
        }
        short r = n > 0 ? fds[0].revents : 0;
        if (r & (POLLIN | POLLHUP | POLLERR))
            conn_handle_readable(c);
        if (r & (POLLOUT | POLLHUP | POLLERR))
            conn_handle_writable(c);
        conn_handle_timer(c, clock_now_ms());
    }
    conn_destroy(c);
}
