#include "core/children.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/error.h"
#include "core/grace.h"
#include "core/log.h"
#include "core/stop.h"

int children_init(struct children *kids, size_t capacity, char *err, size_t errlen)
{
    memset(kids, 0, sizeof(*kids));
    kids->signal_fd = -1;
    kids->capacity = capacity;
    kids->items = calloc(capacity ? capacity : 1, sizeof(*kids->items));
    if (!kids->items)
        return error_set(err, errlen, "cannot track child processes: out of memory");
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    if (sigprocmask(SIG_BLOCK, &chld, &kids->child_mask) != 0) {
        int saved = errno;
        children_free(kids);
        return error_set(err, errlen, "cannot block SIGCHLD: %s", strerror(saved));
    }
    kids->signal_fd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
    if (kids->signal_fd < 0) {
        int saved = errno;
        children_free(kids);
        return error_set(err, errlen, "signalfd: %s", strerror(saved));
    }
    /* A second stop signal must end the children too, not orphan them. */
    stop_hold_at_once(true);
    return 0;
}

void children_free(struct children *kids)
{
    if (kids->signal_fd >= 0) {
        close(kids->signal_fd);
        stop_hold_at_once(false);
    }
    kids->signal_fd = -1;
    free(kids->items);
    kids->items = NULL;
    kids->count = kids->capacity = 0;
}

bool children_full(const struct children *kids)
{
    return kids->count >= kids->capacity;
}

pid_t children_fork(struct children *kids, children_exit_fn *on_exit, void *ctx)
{
    if (children_full(kids)) {
        errno = EAGAIN;
        return -1;
    }
    sigset_t stops, before;
    sigemptyset(&stops);
    sigaddset(&stops, SIGINT);
    sigaddset(&stops, SIGTERM);
    sigaddset(&stops, SIGHUP);
    if (sigprocmask(SIG_BLOCK, &stops, &before) != 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0)
        return 0;
    int saved = errno;
    /* Cannot fail: the mask is one this process had a moment ago. */
    sigprocmask(SIG_SETMASK, &before, NULL);
    if (pid < 0) {
        errno = saved;
        return -1;
    }
    kids->items[kids->count++] = (struct child){pid, on_exit, ctx};
    return pid;
}

int children_unblock(const struct children *kids)
{
    return sigprocmask(SIG_SETMASK, &kids->child_mask, NULL);
}

static void drain_signal_fd(int fd)
{
    struct signalfd_siginfo info[16];
    ssize_t ignored = read(fd, info, sizeof(info));
    (void)ignored; /* Non-blocking, and waitpid finds every exit anyway:
                    * signals of one kind merge, so the count means nothing. */
}

/* Removes pid's entry, if it is one of ours, and returns it. */
static bool forget(struct children *kids, pid_t pid, struct child *out)
{
    for (size_t i = 0; i < kids->count; i++) {
        if (kids->items[i].pid == pid) {
            *out = kids->items[i];
            kids->items[i] = kids->items[--kids->count];
            return true;
        }
    }
    return false;
}

void children_reap(struct children *kids)
{
    drain_signal_fd(kids->signal_fd);
    pid_t pid;
    int status;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        struct child child;
        /* Forgotten before the callback, which may start a replacement. */
        if (forget(kids, pid, &child) && child.on_exit)
            child.on_exit(child.ctx, pid, status);
    }
}

void children_signal(const struct children *kids, int signo)
{
    for (size_t i = 0; i < kids->count; i++)
        kill(kids->items[i].pid, signo);
}

/* Reaps until every child has ended or deadline_ms passes, or, when
 * watch_at_once, a stop at once is asked for. */
static void reap_until(struct children *kids, int64_t deadline_ms, bool watch_at_once)
{
    while (kids->count > 0) {
        if (watch_at_once && stop_at_once_requested())
            return;
        int timeout = clock_timeout_until(deadline_ms);
        if (timeout == 0)
            return;
        struct pollfd fds[2] = {
            {.fd = kids->signal_fd, .events = POLLIN},
            {.fd = watch_at_once ? stop_at_once_fd() : -1, .events = POLLIN},
        };
        if (poll(fds, 2, timeout) < 0 && errno != EINTR)
            return;
        children_reap(kids);
    }
}

size_t children_stop(struct children *kids, int64_t wait_ms, const char *what)
{
    children_signal(kids, SIGTERM);
    reap_until(kids, clock_now_ms() + wait_ms, true);
    if (kids->count == 0)
        return 0;
    if (!stop_at_once_requested())
        log_warn("%zu %s still running after the grace period; killing them", kids->count, what);
    children_signal(kids, SIGKILL);
    reap_until(kids, clock_now_ms() + GRACE_MARGIN_MS, false);
    return kids->count;
}
