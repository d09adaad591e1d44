#include "core/stop.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

static int latch_fd = -1;
/* Atomic, not just volatile sig_atomic_t: the handler runs on whichever
 * thread the signal lands, and every loop thread reads the flag. A
 * lock-free atomic is safe in a signal handler too. */
static atomic_int requested;
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "the stop flag must be lock-free to set it in a handler");

void stop_request(void)
{
    int saved = errno;
    atomic_store(&requested, 1);
    uint64_t one = 1;
    /* eventfd writes of 8 bytes are atomic and async-signal-safe. */
    ssize_t ignored = write(latch_fd, &one, sizeof(one));
    (void)ignored;
    errno = saved;
}

static void on_stop_signal(int signo)
{
    (void)signo;
    stop_request();
}

int stop_install(void)
{
    /* A forked child installs its own latch in place of the inherited one. */
    if (latch_fd >= 0)
        close(latch_fd);
    atomic_store(&requested, 0);
    latch_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (latch_fd < 0)
        return -1;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    /* SA_RESTART keeps unrelated blocking calls going; waits return EINTR
     * or see the latch. */
    sa.sa_flags = SA_RESTART;
    if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0)
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
