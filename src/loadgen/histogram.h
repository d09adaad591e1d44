/*
 * A latency histogram with a bounded relative error, in the manner of
 * HdrHistogram: values are nanoseconds, kept exactly below 256 ns and above
 * that in log-linear buckets, 128 to each power of two. A bucket is never
 * wider than 1/128 of its lowest value, and a value is reported as its
 * bucket's midpoint, so every percentile is within 0.4% of a value that was
 * recorded (the contract is 1%) from 1 ns up to HISTOGRAM_MAX_NS (137 s).
 * Longer values are counted in the top bucket; the exact minimum and maximum
 * are kept beside the buckets.
 *
 * Recording is a few instructions and never allocates, so the load
 * generator can record every request. A histogram is about 32 KiB.
 */
#ifndef SOCKSERV_LOADGEN_HISTOGRAM_H
#define SOCKSERV_LOADGEN_HISTOGRAM_H

#include <stdint.h>

/* 2^37 - 1 ns, a little over 137 s: the top of the precise range. */
#define HISTOGRAM_MAX_NS ((INT64_C(1) << 37) - 1)
/* 256 exact slots, then 29 powers of two (2^8 .. 2^36) of 128 buckets. */
#define HISTOGRAM_BUCKETS (256 + 29 * 128)

struct histogram {
    uint64_t counts[HISTOGRAM_BUCKETS];
    uint64_t total;
    int64_t min; /* INT64_MAX while empty. */
    int64_t max; /* 0 while empty. */
    double sum;  /* For the mean; a double cannot overflow here. */
};

/* Empties h. A zeroed histogram is not valid until this is called. */
void histogram_init(struct histogram *h);

/* Records one value; negative values count as 0. */
void histogram_record(struct histogram *h, int64_t value_ns);

/* Adds every count of from into into. */
void histogram_merge(struct histogram *into, const struct histogram *from);

/*
 * The value below or at which percent (0..100) of the recorded values lie,
 * as the midpoint of its bucket, clamped to the exact minimum and maximum;
 * 100 gives the exact maximum and 0 the exact minimum. 0 when empty.
 */
int64_t histogram_percentile(const struct histogram *h, double percent);

/* The mean of the recorded values; 0 when empty. */
double histogram_mean(const struct histogram *h);

/* The value a recorded value_ns is reported as (its bucket's midpoint);
 * exposed so the error bound can be tested directly. */
int64_t histogram_representative(int64_t value_ns);

#endif
