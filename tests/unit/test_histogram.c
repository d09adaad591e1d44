/* The latency histogram: its error bound, its percentiles and merging. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>

#include "loadgen/histogram.h"

#define NS_PER_US INT64_C(1000)
#define NS_PER_S INT64_C(1000000000)

/* Without libm: the Makefile links tests with the project's libraries only. */
static double relative_error(int64_t reported, int64_t actual)
{
    double diff = (double)reported - (double)actual;
    return (diff < 0 ? -diff : diff) / (double)actual;
}

static struct histogram *new_histogram(void)
{
    struct histogram *h = malloc(sizeof(*h));
    assert_non_null(h);
    histogram_init(h);
    return h;
}

/* Every value from 1 us to 100 s, stepped by 0.1% and with the values just
 * either side of each power of two, is reported within 1%. */
static void test_error_within_one_percent_from_1us_to_100s(void **state)
{
    (void)state;
    double worst = 0.0;
    for (double v = (double)NS_PER_US; v <= 100.0 * (double)NS_PER_S; v *= 1.001) {
        int64_t value = (int64_t)v;
        double e = relative_error(histogram_representative(value), value);
        if (e > worst)
            worst = e;
        if (e > 0.01)
            fail_msg("%lld ns is reported as %lld ns (%.3f%% off)", (long long)value,
                     (long long)histogram_representative(value), e * 100);
    }
    for (int bit = 10; bit <= 36; bit++) {
        for (int64_t delta = -2; delta <= 2; delta++) {
            int64_t value = (INT64_C(1) << bit) + delta;
            assert_true(relative_error(histogram_representative(value), value) <= 0.01);
        }
    }
    /* The design bound is half a bucket, 1/256; check the code meets it. */
    assert_true(worst <= 1.0 / 256 + 1e-9);
}

/* Below 256 ns every value has a bucket of its own. */
static void test_small_values_are_exact(void **state)
{
    (void)state;
    for (int64_t v = 0; v < 256; v++)
        assert_int_equal(histogram_representative(v), v);
}

static void test_random_values_within_one_percent(void **state)
{
    (void)state;
    srand(12345);
    for (int i = 0; i < 200000; i++) {
        /* Roughly log-uniform between 1 us and 100 s: a random power of
         * two in range, times a random factor in [1, 2). */
        int bit = 10 + rand() % 26;
        double factor = 1.0 + (double)rand() / ((double)RAND_MAX + 1.0);
        int64_t value = (int64_t)((double)(INT64_C(1) << bit) * factor);
        assert_true(relative_error(histogram_representative(value), value) <= 0.01);
    }
}

/* 1..100000 us, one each: every percentile is the value of that rank. */
static void test_percentiles_of_a_uniform_run(void **state)
{
    (void)state;
    struct histogram *h = new_histogram();
    for (int64_t us = 1; us <= 100000; us++)
        histogram_record(h, us * NS_PER_US);
    assert_int_equal(h->total, 100000);
    const double percents[] = {1, 10, 50, 90, 99, 99.9, 99.99};
    for (size_t i = 0; i < sizeof(percents) / sizeof(percents[0]); i++) {
        int64_t want = (int64_t)(percents[i] * 1000.0 + 0.5) * NS_PER_US;
        int64_t got = histogram_percentile(h, percents[i]);
        if (relative_error(got, want) > 0.01)
            fail_msg("p%g: %lld ns, wanted %lld ns within 1%%", percents[i], (long long)got,
                     (long long)want);
    }
    assert_int_equal(histogram_percentile(h, 0), 1 * NS_PER_US);
    assert_int_equal(histogram_percentile(h, 100), 100000 * NS_PER_US);
    assert_true(relative_error((int64_t)histogram_mean(h), 50000500) < 1e-6);
    free(h);
}

/* Percentiles never pass the exact extremes, so one value reports itself. */
static void test_single_value_reports_itself(void **state)
{
    (void)state;
    struct histogram *h = new_histogram();
    histogram_record(h, 123457);
    assert_int_equal(histogram_percentile(h, 50), 123457);
    assert_int_equal(histogram_percentile(h, 99.9), 123457);
    assert_int_equal(h->min, 123457);
    assert_int_equal(h->max, 123457);
    free(h);
}

/* p99 of 100 values is the 99th, not the 100th: one outlier stays out. */
static void test_p99_excludes_a_single_outlier_in_100(void **state)
{
    (void)state;
    struct histogram *h = new_histogram();
    for (int i = 0; i < 99; i++)
        histogram_record(h, 50 * NS_PER_US);
    histogram_record(h, 5 * NS_PER_S);
    assert_true(relative_error(histogram_percentile(h, 99), 50 * NS_PER_US) <= 0.01);
    assert_int_equal(histogram_percentile(h, 99.9), 5 * NS_PER_S);
    free(h);
}

static void test_empty_histogram_reports_zero(void **state)
{
    (void)state;
    struct histogram *h = new_histogram();
    assert_int_equal(histogram_percentile(h, 50), 0);
    assert_int_equal(histogram_percentile(h, 100), 0);
    assert_true(histogram_mean(h) == 0.0);
    free(h);
}

/* Values past the range land in the top bucket; max stays exact. */
static void test_values_past_the_range_are_counted(void **state)
{
    (void)state;
    struct histogram *h = new_histogram();
    histogram_record(h, 10 * NS_PER_US);
    histogram_record(h, 500 * NS_PER_S);
    histogram_record(h, -5);
    assert_int_equal(h->total, 3);
    assert_int_equal(h->min, 0);
    assert_int_equal(h->max, 500 * NS_PER_S);
    assert_int_equal(histogram_percentile(h, 100), 500 * NS_PER_S);
    assert_true(histogram_percentile(h, 99) >= HISTOGRAM_MAX_NS / 2);
    free(h);
}

static void test_merge_equals_recording_into_one(void **state)
{
    (void)state;
    struct histogram *a = new_histogram();
    struct histogram *b = new_histogram();
    struct histogram *both = new_histogram();
    for (int64_t i = 1; i <= 5000; i++) {
        struct histogram *half = i % 2 ? a : b;
        histogram_record(half, i * 997);
        histogram_record(both, i * 997);
    }
    histogram_merge(a, b);
    assert_int_equal(a->total, both->total);
    assert_int_equal(a->min, both->min);
    assert_int_equal(a->max, both->max);
    for (double p = 0; p <= 100; p += 0.5)
        assert_int_equal(histogram_percentile(a, p), histogram_percentile(both, p));
    free(a);
    free(b);
    free(both);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_within_one_percent_from_1us_to_100s),
        cmocka_unit_test(test_small_values_are_exact),
        cmocka_unit_test(test_random_values_within_one_percent),
        cmocka_unit_test(test_percentiles_of_a_uniform_run),
        cmocka_unit_test(test_single_value_reports_itself),
        cmocka_unit_test(test_p99_excludes_a_single_outlier_in_100),
        cmocka_unit_test(test_empty_histogram_reports_zero),
        cmocka_unit_test(test_values_past_the_range_are_counted),
        cmocka_unit_test(test_merge_equals_recording_into_one),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
