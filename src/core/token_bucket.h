/*
 * A token bucket: at most burst events at once, and per_second on average.
 *
 * A bucket starts full. Each event takes a token; tokens come back at
 * per_second a second, up to burst, so a quiet sender may send burst events
 * at once and a steady one no more than per_second. The caller owns the
 * bucket and serialises calls on it; the rate is passed in, so one setting
 * can govern many buckets.
 */
#ifndef SOCKSERV_TOKEN_BUCKET_H
#define SOCKSERV_TOKEN_BUCKET_H

#include <stdbool.h>
#include <stdint.h>

struct token_bucket {
    double tokens;
    int64_t last_ms; /* When tokens was last brought up to date. */
    bool started;    /* False in a zeroed bucket, which counts as full. */
};

/* True, taking a token, when the bucket holds one at now_ms (a monotonic
 * clock in milliseconds); false, taking nothing, when it is empty. */
bool token_bucket_take(struct token_bucket *bucket, uint32_t per_second, uint32_t burst,
                       int64_t now_ms);

/* Milliseconds from the bucket's last take until it holds a token again:
 * 0 when it holds one now. per_second must not be 0. */
int64_t token_bucket_wait_ms(const struct token_bucket *bucket, uint32_t per_second);

#endif
