#include "chatclient/terminal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "core/error.h"

/* What the signal handlers read: set before they are installed. */
static struct termios saved_settings;
static int raw_fd = -1;
static volatile sig_atomic_t raw_active;
static volatile sig_atomic_t resized;

static const int fatal_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

void terminal_restore(void)
{
    if (!raw_active)
        return;
    raw_active = 0;
    /* TCSADRAIN: what was drawn reaches the screen first. */
    while (tcsetattr(raw_fd, TCSADRAIN, &saved_settings) != 0 && errno == EINTR)
        ;
}

/* tcsetattr, write and raise are async-signal-safe. SA_RESETHAND has already put
 * the default action back, and SA_NODEFER lets the raised signal through,
 * so the process ends exactly as the signal would have ended it. */
static void on_fatal_signal(int sig)
{
    int saved_errno = errno;
    if (raw_active) {
        raw_active = 0;
        tcsetattr(raw_fd, TCSANOW, &saved_settings);
        /* The shell's next words start on a line of their own. */
        ssize_t ignored = write(raw_fd, "\r\n", 2);
        (void)ignored;
    }
    raise(sig);
    errno = saved_errno;
}

static void on_resize(int sig)
{
    (void)sig;
    resized = 1;
}

int terminal_enter_raw(int fd, char *err, size_t errlen)
{
    static bool exit_hook_installed;
    struct termios raw;
    if (tcgetattr(fd, &saved_settings) != 0)
        return error_set(err, errlen, "cannot read the terminal's settings: %s", strerror(errno));
    raw_fd = fd;
    if (!exit_hook_installed) {
        if (atexit(terminal_restore) != 0)
            return error_set(err, errlen, "cannot register the terminal's restore at exit");
        exit_hook_installed = true;
    }
    struct sigaction sa = {.sa_handler = on_fatal_signal, .sa_flags = SA_RESETHAND | SA_NODEFER};
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof(fatal_signals) / sizeof(fatal_signals[0]); i++) {
        if (sigaction(fatal_signals[i], &sa, NULL) != 0)
            return error_set(err, errlen, "cannot catch signal %d: %s", fatal_signals[i],
                             strerror(errno));
    }
    raw = saved_settings;
    cfmakeraw(&raw);
    /* Reads return as soon as one byte is there. */
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    raw_active = 1;
    int rc;
    while ((rc = tcsetattr(fd, TCSADRAIN, &raw)) != 0 && errno == EINTR)
        ;
    if (rc != 0) {
        raw_active = 0;
        return error_set(err, errlen, "cannot put the terminal into raw mode: %s", strerror(errno));
    }
    return 0;
}

unsigned terminal_columns(int fd)
{
    struct winsize ws;
    if (ioctl(fd, TIOCGWINSZ, &ws) != 0 || ws.ws_col == 0)
        return 80;
    return ws.ws_col;
}

int terminal_watch_resize(sigset_t *wait_mask)
{
    struct sigaction sa = {.sa_handler = on_resize};
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGWINCH, &sa, NULL) != 0)
        return -1;
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGWINCH);
    if (sigprocmask(SIG_BLOCK, &block, wait_mask) != 0)
        return -1;
    sigdelset(wait_mask, SIGWINCH);
    return 0;
}

bool terminal_take_resize(void)
{
    if (!resized)
        return false;
    resized = 0;
    return true;
}
