/*
 * The bench's clock: monotonic nanoseconds. core/clock.h counts whole
 * milliseconds, which is right for server timers but far too coarse for a
 * request that takes 20 us on loopback.
 */
#ifndef SOCKSERV_LOADGEN_CLOCK_NS_H
#define SOCKSERV_LOADGEN_CLOCK_NS_H

#include <stdint.h>
#include <time.h>

#define NS_PER_US INT64_C(1000)
#define NS_PER_MS INT64_C(1000000)
#define NS_PER_S INT64_C(1000000000)

static inline int64_t clock_now_ns(void)
{
    struct timespec ts;
    /* CLOCK_MONOTONIC cannot fail with a valid clock id and pointer. */
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

#endif
