#include "models/datagram_intake.h"
#include "core/conn_model.h"

#include <errno.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"

int datagram_intake(struct datagram_in *in, int max, struct udp_guard *guard, struct listener *l,
                    struct conn_owner *owner, void (*started)(void *ctx, struct conn *c),
                    void (*delivered)(void *ctx, struct conn *c), void *ctx)
{
    int n = datagram_receive(in, l->fd, max);
    if (n < 0) {
        log_warn("receive on %s: %s", l->name, strerror(errno));
        return -1;
    }
    int64_t now = clock_now_ms();
    for (int i = 0; i < n; i++) {
        if (!admission_admit_datagram(l->admission, l->spec_index, &in->from[i]) ||
            !udp_guard_admit(guard, l->spec_index, &in->from[i], now))
            continue;
        struct conn *c = conn_create_datagram(&in->from[i], l, owner);
        if (!c) {
            log_warn("out of memory: dropping a datagram for %s", l->name);
            continue;
        }
        started(ctx, c);
        conn_deliver_datagram(c, datagram_in_data(in, i), in->msgs[i].msg_len);
        delivered(ctx, c);
    }
    return n;
}
