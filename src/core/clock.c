#include "core/clock.h"

#include <limits.h>
#include <time.h>

int64_t clock_now_ms(void)
{
    struct timespec ts;
    /* CLOCK_MONOTONIC cannot fail with a valid clock id and pointer. */
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int clock_timeout_until(int64_t deadline_ms)
{
    if (deadline_ms == 0)
        return -1;
    int64_t left = deadline_ms - clock_now_ms();
    if (left <= 0)
        return 0;
    return left > INT_MAX ? INT_MAX : (int)left;
}
