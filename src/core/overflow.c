/* Refusing clients beyond --max-conns (core/overflow.h). */
#include "core/overflow.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/counters.h"
#include "core/log.h"
#include "core/refusal_log.h"

void overflow_refuse(const struct listener *l, int client_fd)
{
    /* For the log line; a client gone already is named by family alone. */
    struct address peer = {.length = sizeof(peer.u)};
    if (getpeername(client_fd, &peer.u.sa, &peer.length) != 0)
        peer.length = 0;
    struct linger reset = {.l_onoff = 1, .l_linger = 0};
    /* Without it the close is a FIN: still a refusal, only a less clear
     * one, so a failure here is not worth a word. */
    (void)setsockopt(client_fd, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
    if (close(client_fd) != 0 && errno != EINTR)
        log_warn("close: %s", strerror(errno));
    counters_add(l->spec_index, COUNTER_REFUSED_FULL, 1);
    refusal_log_note(REFUSAL_FULL, &peer);
}
