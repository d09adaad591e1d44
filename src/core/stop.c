#include "core/stop.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/stop_report.h"

static int latch_fd = -1;
static int at_once_fd = -1;
/* Atomic, not just volatile sig_atomic_t: the handler runs on whichever
 * thread the signal lands, and every loop thread reads the flag. A
 * lock-free atomic is safe in a signal handler too. */
static atomic_int requested;
/* SIGINT and SIGTERM from outside (not a parent passing its stop on, not
 * stop_request): the second of them stops at once. */
static atomic_int outside_signals;
static atomic_int at_once;
static atomic_int hold_at_once;
/* Kept across stop_install, so forked children inherit it. */
static atomic_int at_once_enabled;
/* Set in a forked child: its parent passes stops on, never hurries one. */
static bool parent_passes_stops;
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "the stop flag must be lock-free to set it in a handler");

/* Makes fd readable for good; eventfd writes of 8 bytes are atomic and
 * async-signal-safe. */
static void raise_latch(int fd)
{
    uint64_t one = 1;
    ssize_t ignored = write(fd, &one, sizeof(one));
    (void)ignored;
}

void stop_request(void)
{
    int saved = errno;
    atomic_store(&requested, 1);
    raise_latch(latch_fd);
    errno = saved;
}

static void stop_at_once(void)
{
    atomic_store(&at_once, 1);
    raise_latch(at_once_fd);
    if (atomic_load(&hold_at_once))
        return;
    stop_report_end_at_once();
    /* The one exit outside src/cli/: the operator asked twice, nothing may
     * wait any longer, and a handler can do no more than _exit. Status 0,
     * as after any stop the operator asked for. */
    _exit(0);
}

static void on_stop_signal(int signo, siginfo_t *info, void *context)
{
    (void)context;
    int saved = errno;
    bool from_parent =
        parent_passes_stops && info && info->si_code == SI_USER && info->si_pid == getppid();
    if (signo != SIGHUP && !from_parent && atomic_fetch_add(&outside_signals, 1) >= 1 &&
        atomic_load(&at_once_enabled))
        stop_at_once();
    stop_request();
    errno = saved;
}

/* One handler per signal; SA_RESTART keeps unrelated blocking calls
 * going, while waits return EINTR or see the latch. */
static int install_handler(int signo, void (*handler)(int, siginfo_t *, void *))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART | SA_SIGINFO;
    return sigaction(signo, &sa, NULL);
}

static int open_latch(int *fd)
{
    /* A forked child opens its own in place of the inherited one. */
    if (*fd >= 0)
        close(*fd);
    *fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    return *fd < 0 ? -1 : 0;
}

int stop_install(void)
{
    parent_passes_stops = latch_fd >= 0;
    atomic_store(&requested, 0);
    atomic_store(&outside_signals, 0);
    atomic_store(&at_once, 0);
    atomic_store(&hold_at_once, 0);
    if (open_latch(&latch_fd) != 0 || open_latch(&at_once_fd) != 0)
        return -1;
    if (install_handler(SIGINT, on_stop_signal) != 0 ||
        install_handler(SIGTERM, on_stop_signal) != 0 ||
        install_handler(SIGHUP, on_stop_signal) != 0)
        return -1;
    struct sigaction ignore;
    memset(&ignore, 0, sizeof(ignore));
    ignore.sa_handler = SIG_IGN;
    return sigaction(SIGPIPE, &ignore, NULL);
}

int stop_fd(void)
{
    return latch_fd;
}

bool stop_requested(void)
{
    return atomic_load(&requested) != 0;
}

bool stop_at_once_requested(void)
{
    return atomic_load(&at_once) != 0;
}

int stop_at_once_fd(void)
{
    return at_once_fd;
}

void stop_enable_at_once(void)
{
    atomic_store(&at_once_enabled, 1);
}

void stop_hold_at_once(bool hold)
{
    atomic_store(&hold_at_once, hold ? 1 : 0);
}
