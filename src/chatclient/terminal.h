/*
 * The terminal under sockserv chat's interactive mode: raw mode in, and
 * always back out.
 *
 * terminal_enter_raw saves the terminal's settings and switches off line
 * buffering, echo, signal keys and output processing, so the client sees
 * every key (Ctrl-C included) and draws every byte itself. The saved
 * settings come back on every way out: terminal_restore, exit (an atexit
 * handler), and SIGINT, SIGTERM, SIGHUP and SIGQUIT, whose handlers restore
 * the terminal and then let the signal end the process as it would have.
 *
 * A window size change (SIGWINCH) only sets a flag, which the owner reads
 * after ppoll with terminal_poll_mask returns, so a resize can interrupt a
 * wait but never a write.
 */
#ifndef SOCKSERV_CHATCLIENT_TERMINAL_H
#define SOCKSERV_CHATCLIENT_TERMINAL_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

/* Puts the terminal on fd into raw mode. Returns 0, or -1 with a one-line
 * reason in err. */
int terminal_enter_raw(int fd, char *err, size_t errlen);

/* Puts the saved settings back; harmless when not in raw mode. */
void terminal_restore(void);

/* Columns of the terminal on fd; 80 when it does not say. */
unsigned terminal_columns(int fd);

/*
 * Catches SIGWINCH and blocks it outside the wait: *wait_mask is the signal
 * mask to pass to ppoll, under which SIGWINCH is delivered. Returns 0 or -1
 * with errno.
 */
int terminal_watch_resize(sigset_t *wait_mask);

/* True once after each window size change. */
bool terminal_take_resize(void);

#endif
