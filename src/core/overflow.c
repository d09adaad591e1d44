/* Refusing clients beyond --max-conns (core/overflow.h). */
#include "core/overflow.h"

#include <stdatomic.h>
#include <sys/socket.h>

#include "core/counters.h"
#include "core/refusal_log.h"

void overflow_refuse(const struct listener *l, int client_fd)
{
    /* For the log line; a client gone already is named by family alone. */
    struct address peer = {.length = sizeof(peer.u)};
    if (getpeername(client_fd, &peer.u.sa, &peer.length) != 0)
        peer.length = 0;
    listener_refuse_client(client_fd);
    counters_add(l->spec_index, COUNTER_REFUSED_FULL, 1);
    refusal_log_note(REFUSAL_FULL, l->name, &peer);
}
