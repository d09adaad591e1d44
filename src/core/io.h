/*
 * Small helpers for reading and writing descriptors, shared by the clients:
 * the one test for "try again later" and the one loop that writes a whole
 * buffer.
 */
#ifndef SOCKSERV_IO_H
#define SOCKSERV_IO_H

#include <stdbool.h>
#include <stddef.h>

/* True for the errno values after which a read or write on a non-blocking
 * descriptor is simply tried again later: EINTR, EAGAIN, EWOULDBLOCK. */
bool io_is_transient(int error);

/*
 * Writes all of data to fd, retrying after EINTR and short writes. A
 * descriptor someone else made non-blocking (standard output is shared with
 * the shell, so its mode is never changed here) is waited for in poll()
 * instead of failing with EAGAIN. Returns 0, or -1 with errno set; EPIPE
 * means the reader went away.
 */
int io_write_all(int fd, const void *data, size_t len);

#endif
