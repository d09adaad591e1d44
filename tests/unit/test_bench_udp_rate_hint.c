/* The hint that a UDP run measured sockserv serve's per-source limit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "core/udp_guard.h"
#include "loadgen/clock_ns.h"
#include "loadgen/udp_rate_hint.h"

static struct bench_config udp_run(void)
{
    struct bench_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.target.spec.transport = TRANSPORT_UDP;
    cfg.connections = 50;
    return cfg;
}

static struct bench_stats *result(uint64_t ok, uint64_t timeouts, double seconds)
{
    static struct bench_stats s;
    memset(&s, 0, sizeof s);
    s.ok = ok;
    s.errors[BENCH_ERROR_TIMEOUT] = timeouts;
    s.elapsed_ns = (int64_t)(seconds * (double)NS_PER_S);
    return &s;
}

static bool hinted(const struct bench_config *cfg, const struct bench_stats *s)
{
    char line[320] = "";
    bool yes = bench_udp_rate_hint(cfg, s, line, sizeof line);
    if (yes) {
        assert_non_null(strstr(line, "--udp-rate off"));
        assert_null(strchr(line, '\n'));
    }
    return yes;
}

/* What a default server gave 50 clients: the burst, then timeouts. */
static void test_the_burst_then_silence_is_explained(void **state)
{
    (void)state;
    struct bench_config cfg = udp_run();
    assert_true(hinted(&cfg, result(201, 50, 3.0)));
    assert_true(hinted(&cfg, result(223, 100, 6.0)));
    assert_true(hinted(&cfg, result(1200, 100, 10.0)));
    /* The limit's own rate, exactly, over a long run. */
    assert_true(hinted(&cfg, result(UDP_BURST_DEFAULT + 10 * UDP_RATE_DEFAULT, 40, 10.0)));
}

static void test_more_than_the_limit_allows_is_not_the_limit(void **state)
{
    (void)state;
    struct bench_config cfg = udp_run();
    assert_false(hinted(&cfg, result(50000, 100, 3.0)));
    assert_false(hinted(&cfg, result(UDP_BURST_DEFAULT + 3 * UDP_RATE_DEFAULT + 200, 5, 3.0)));
}

static void test_no_loss_or_no_reply_is_not_the_limit(void **state)
{
    (void)state;
    struct bench_config cfg = udp_run();
    assert_false(hinted(&cfg, result(250, 0, 3.0)));
    assert_false(hinted(&cfg, result(0, 500, 3.0)));
    /* A slow server (upper with its delay) answers far fewer. */
    assert_false(hinted(&cfg, result(20, 20, 10.0)));
}

static void test_tcp_is_never_hinted(void **state)
{
    (void)state;
    struct bench_config cfg = udp_run();
    cfg.target.spec.transport = TRANSPORT_TCP;
    assert_false(hinted(&cfg, result(201, 50, 3.0)));
}

/* Warmup spends tokens too, so the limit allows more over the whole run. */
static void test_warmup_counts_towards_what_the_limit_allows(void **state)
{
    (void)state;
    struct bench_config cfg = udp_run();
    assert_false(hinted(&cfg, result(UDP_BURST_DEFAULT + 2 * UDP_RATE_DEFAULT + 200, 50, 1.0)));
    cfg.warmup_ns = 3 * NS_PER_S;
    assert_true(hinted(&cfg, result(UDP_BURST_DEFAULT + 2 * UDP_RATE_DEFAULT + 200, 50, 1.0)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_burst_then_silence_is_explained),
        cmocka_unit_test(test_more_than_the_limit_allows_is_not_the_limit),
        cmocka_unit_test(test_no_loss_or_no_reply_is_not_the_limit),
        cmocka_unit_test(test_tcp_is_never_hinted),
        cmocka_unit_test(test_warmup_counts_towards_what_the_limit_allows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
