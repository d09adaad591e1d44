#include "core/token_bucket.h"

bool token_bucket_take(struct token_bucket *bucket, uint32_t per_second, uint32_t burst,
                       int64_t now_ms)
{
    if (!bucket->started) {
        bucket->started = true;
        bucket->tokens = burst;
        bucket->last_ms = now_ms;
    } else if (now_ms > bucket->last_ms) {
        bucket->tokens += (double)(now_ms - bucket->last_ms) * per_second / 1000.0;
        if (bucket->tokens > burst)
            bucket->tokens = burst;
        bucket->last_ms = now_ms;
    }
    if (bucket->tokens < 1.0)
        return false;
    bucket->tokens -= 1.0;
    return true;
}

int64_t token_bucket_wait_ms(const struct token_bucket *bucket, uint32_t per_second)
{
    if (!bucket->started || bucket->tokens >= 1.0)
        return 0;
    double ms = (1.0 - bucket->tokens) * 1000.0 / per_second;
    /* Rounded up, but not for the last bits of a float's error. */
    int64_t whole = (int64_t)ms;
    return ms - (double)whole > 1e-6 ? whole + 1 : whole;
}
