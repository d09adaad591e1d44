/*
 * Child processes a parent starts, tracks, reaps and stops: the one place
 * that knows how (the fork model's connection processes, the --workers
 * supervisor's workers, and any later service that runs a program).
 *
 * SIGCHLD is blocked and read through a signalfd, so an exit wakes the
 * parent's wait and is never lost between a check and the wait; the parent
 * adds signal_fd to its poll set and calls children_reap when it is
 * readable. Each child is tracked with a callback of its own, told the
 * child's exit status once it is reaped, so whoever started a child hears
 * of its end (a worker to replace, an exit status to log).
 *
 * waitpid(-1) reaps every child of the process, so a process has one
 * struct children, and every child it forks is started through it.
 */
#ifndef SOCKSERV_CHILDREN_H
#define SOCKSERV_CHILDREN_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Called once the child pid has ended, with its waitpid status. */
typedef void children_exit_fn(void *ctx, pid_t pid, int status);

struct child {
    pid_t pid;
    children_exit_fn *on_exit;
    void *ctx;
};

struct children {
    struct child *items; /* Children running or not yet reaped. */
    size_t count;
    size_t capacity;
    int signal_fd; /* Readable once a child has ended. */
    /* The signal mask from before SIGCHLD was blocked: what a child
     * restores once it has its own stop latch. */
    sigset_t child_mask;
};

/* Blocks SIGCHLD and opens signal_fd, for at most capacity children at
 * once. Returns 0, or -1 with a reason in err. */
int children_init(struct children *kids, size_t capacity, char *err, size_t errlen);

/* Closes signal_fd and forgets the children (it neither stops nor reaps
 * them; children_stop does). SIGCHLD stays blocked. */
void children_free(struct children *kids);

/* True when capacity children are running: fork no more until one ends. */
bool children_full(const struct children *kids);

/*
 * Forks a child with the stop signals (SIGINT, SIGTERM, SIGHUP) blocked across the
 * fork: a stop that reached the child before its own latch existed would
 * otherwise run the parent's handler, or be lost. In the child returns 0,
 * with those signals still blocked: the child installs its own stop latch
 * (core/stop.h), then calls children_unblock. In the parent returns the
 * child's pid, tracked until it is reaped (on_exit, which may be NULL, is
 * then told how it ended), or -1 with errno (EAGAIN when full).
 */
pid_t children_fork(struct children *kids, children_exit_fn *on_exit, void *ctx);

/* In a child: restores the signal mask its parent had before
 * children_init. Returns 0 or -1 with errno. */
int children_unblock(const struct children *kids);

/* Reaps every child that has ended, without waiting, and tells each one's
 * on_exit. Call it when signal_fd is readable (it drains it). */
void children_reap(struct children *kids);

/* Sends signo to every child still running. */
void children_signal(const struct children *kids, int signo);

/*
 * Passes a stop on: SIGTERM to every child, then waits up to wait_ms for
 * them to end (each honours the grace period itself, so a caller passes
 * the grace plus a margin). Any still running then is killed (SIGKILL),
 * with a warning that calls them what (e.g. "workers"), and waited for up
 * to GRACE_MARGIN_MS more. A stop at once (core/stop.h) kills them at
 * once. Returns how many are still not reaped: 0 unless the kernel could
 * not end one.
 *
 * While a struct children is set up, the process holds the at-once stop
 * off (stop_hold_at_once), so that a second signal ends its children
 * through children_stop rather than orphaning them.
 */
size_t children_stop(struct children *kids, int64_t wait_ms, const char *what);

#endif
