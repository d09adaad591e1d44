#include "core/grace.h"

#include "core/clock.h"

void grace_begin(struct grace *g, int64_t grace_ms)
{
    if (g->stopping)
        return;
    g->stopping = true;
    g->deadline_ms = clock_now_ms() + grace_ms;
}

bool grace_over(const struct grace *g)
{
    return g->stopping && clock_now_ms() >= g->deadline_ms;
}

int64_t grace_bound(const struct grace *g, int64_t deadline_ms)
{
    if (g->stopping && (deadline_ms == 0 || g->deadline_ms < deadline_ms))
        return g->deadline_ms;
    return deadline_ms;
}
