/*
 * Log-linear buckets. Below 2^8 a value is its own index. From 2^8 on, a
 * value v with highest set bit m falls in power-of-two group m - 8, and
 * within it in one of 128 equal slices, picked by the 7 bits after the top
 * bit: index = 256 + (m - 8) * 128 + ((v >> (m - 7)) - 128). The slice is
 * 2^(m-7) wide and starts at or above 128 * 2^(m-7), hence the 1/128 bound.
 */
#include "loadgen/histogram.h"

#include <string.h>

#define EXACT_LIMIT 256
#define SUB_BITS 7
#define SUB_COUNT (1 << SUB_BITS)
#define FIRST_GROUP_BIT 8

static int bucket_index(int64_t v)
{
    if (v < EXACT_LIMIT)
        return (int)v;
    int m = 63 - __builtin_clzll((unsigned long long)v);
    int shift = m - SUB_BITS;
    int sub = (int)(v >> shift) - SUB_COUNT;
    return EXACT_LIMIT + (m - FIRST_GROUP_BIT) * SUB_COUNT + sub;
}

/* The midpoint of bucket i: its lowest value plus half its width. */
static int64_t bucket_midpoint(int i)
{
    if (i < EXACT_LIMIT)
        return i;
    int group = (i - EXACT_LIMIT) / SUB_COUNT;
    int sub = (i - EXACT_LIMIT) % SUB_COUNT + SUB_COUNT;
    int shift = group + FIRST_GROUP_BIT - SUB_BITS;
    int64_t lowest = (int64_t)sub << shift;
    return lowest + ((INT64_C(1) << shift) >> 1);
}

static int64_t clamp_value(int64_t v)
{
    if (v < 0)
        return 0;
    return v > HISTOGRAM_MAX_NS ? HISTOGRAM_MAX_NS : v;
}

void histogram_init(struct histogram *h)
{
    memset(h, 0, sizeof(*h));
    h->min = INT64_MAX;
}

void histogram_record(struct histogram *h, int64_t value_ns)
{
    if (value_ns < 0)
        value_ns = 0;
    h->counts[bucket_index(clamp_value(value_ns))]++;
    h->total++;
    h->sum += (double)value_ns;
    if (value_ns < h->min)
        h->min = value_ns;
    if (value_ns > h->max)
        h->max = value_ns;
}

void histogram_merge(struct histogram *into, const struct histogram *from)
{
    for (int i = 0; i < HISTOGRAM_BUCKETS; i++)
        into->counts[i] += from->counts[i];
    into->total += from->total;
    into->sum += from->sum;
    if (from->min < into->min)
        into->min = from->min;
    if (from->max > into->max)
        into->max = from->max;
}

int64_t histogram_percentile(const struct histogram *h, double percent)
{
    if (h->total == 0)
        return 0;
    if (percent <= 0.0)
        return h->min;
    if (percent >= 100.0)
        return h->max;
    /* The rank of the value wanted, 1-based, rounded up so that p99 of 100
     * values is the 99th and never the 98th. */
    double exact_rank = percent / 100.0 * (double)h->total;
    uint64_t rank = (uint64_t)exact_rank;
    if ((double)rank < exact_rank)
        rank++;
    if (rank == 0)
        rank = 1;
    uint64_t seen = 0;
    for (int i = 0; i < HISTOGRAM_BUCKETS; i++) {
        seen += h->counts[i];
        if (seen >= rank) {
            int64_t v = bucket_midpoint(i);
            if (v < h->min)
                return h->min;
            return v > h->max ? h->max : v;
        }
    }
    return h->max;
}

double histogram_mean(const struct histogram *h)
{
    return h->total ? h->sum / (double)h->total : 0.0;
}

int64_t histogram_representative(int64_t value_ns)
{
    return bucket_midpoint(bucket_index(clamp_value(value_ns)));
}
