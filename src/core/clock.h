/* Monotonic time in milliseconds: the one clock for timers and deadlines. */
#ifndef SOCKSERV_CLOCK_H
#define SOCKSERV_CLOCK_H

#include <stdint.h>

int64_t clock_now_ms(void);

/* Milliseconds from now until deadline_ms, clamped to 0..INT_MAX, or -1
 * ("wait forever", as poll and epoll_wait read it) when deadline_ms is 0. */
int clock_timeout_until(int64_t deadline_ms);

#endif
