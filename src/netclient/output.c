/*
 * Blocking writes to the client's output. Standard output is shared with
 * the shell, so its blocking mode is never changed; should someone have set
 * it non-blocking, EAGAIN waits in poll() instead of failing.
 */
#include <errno.h>
#include <poll.h>
#include <unistd.h>

#include "netclient/netclient.h"

int client_write_all(int fd, const void *data, size_t len)
{
    const uint8_t *bytes = data;
    while (len > 0) {
        ssize_t n = write(fd, bytes, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd pfd = {.fd = fd, .events = POLLOUT};
            if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
                return -1;
            continue;
        }
        if (n < 0)
            return -1;
        bytes += n;
        len -= (size_t)n;
    }
    return 0;
}
