/* Refusing clients beyond --max-conns (core/overflow.h). */
#include "core/overflow.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/counters.h"
#include "core/log.h"

/* Process-wide, as the log is: refusals so far, and when the last line
 * about them was written (0: never). Atomics only on the refusal path. */
static atomic_ullong refused_total;
static _Atomic int64_t last_log_ms;

/* True for the one caller that may write the next line now. */
static bool log_due(int64_t now_ms)
{
    int64_t last = atomic_load(&last_log_ms);
    if (last != 0 && now_ms - last < OVERFLOW_LOG_INTERVAL_MS)
        return false;
    return atomic_compare_exchange_strong(&last_log_ms, &last, now_ms);
}

void overflow_refuse(const struct listener *l, int client_fd)
{
    struct linger reset = {.l_onoff = 1, .l_linger = 0};
    /* Without it the close is a FIN: still a refusal, only a less clear
     * one, so a failure here is not worth a word. */
    (void)setsockopt(client_fd, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
    if (close(client_fd) != 0 && errno != EINTR)
        log_warn("close: %s", strerror(errno));
    counters_add(l->spec_index, COUNTER_REFUSED_FULL, 1);
    unsigned long long total = atomic_fetch_add(&refused_total, 1) + 1;
    if (log_due(clock_now_ms()))
        log_warn("%s: refused a client: --max-conns reached (--overflow refuse); %llu refused "
                 "so far",
                 l->name, total);
}
