/* core/udp_guard: the defences that keep a UDP service from being used
 * against someone else (see the threat model in udp_guard.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/udp_guard.h"

#define PARSE_ERROR "expected RATE or RATE/BURST (RATE from 1 to 10000000 a second) or off"

static struct address ipv4(const char *host, uint16_t port)
{
    struct address a;
    memset(&a, 0, sizeof a);
    a.u.in.sin_family = AF_INET;
    a.u.in.sin_port = htons(port);
    assert_int_equal(inet_pton(AF_INET, host, &a.u.in.sin_addr), 1);
    a.length = sizeof a.u.in;
    return a;
}

static struct address ipv6(const char *host, uint16_t port)
{
    struct address a;
    memset(&a, 0, sizeof a);
    a.u.in6.sin6_family = AF_INET6;
    a.u.in6.sin6_port = htons(port);
    assert_int_equal(inet_pton(AF_INET6, host, &a.u.in6.sin6_addr), 1);
    a.length = sizeof a.u.in6;
    return a;
}

/* The guard logs its drops to stderr. Most tests keep them quiet; the one
 * that counts them reads stderr through a pipe, and puts it back before it
 * asserts, so cmocka's reports still reach the screen. */
static int saved_stderr = -1;
static int log_pipe[2] = {-1, -1};

static void capture_stderr(void)
{
    assert_int_equal(pipe2(log_pipe, O_NONBLOCK), 0);
    saved_stderr = dup(STDERR_FILENO);
    assert_true(saved_stderr >= 0);
    assert_true(dup2(log_pipe[1], STDERR_FILENO) >= 0);
}

static void restore_stderr(void)
{
    dup2(saved_stderr, STDERR_FILENO);
    close(saved_stderr);
    close(log_pipe[0]);
    close(log_pipe[1]);
}

/* Lines logged since the last call. */
static int logged_lines(void)
{
    char buf[4096];
    int lines = 0;
    ssize_t n;
    while ((n = read(log_pipe[0], buf, sizeof buf)) > 0)
        for (ssize_t i = 0; i < n; i++)
            lines += buf[i] == '\n';
    return lines;
}

static int quiet_logs(void **state)
{
    (void)state;
    log_set_level(LOG_ERROR);
    return 0;
}

/* ---- --udp-rate -------------------------------------------------------- */

static void test_rate_alone_gets_a_burst_of_twice_the_rate(void **state)
{
    (void)state;
    struct udp_rate r;
    char err[128] = "";
    assert_int_equal(udp_rate_parse("100", &r, err, sizeof err), 0);
    assert_int_equal(r.per_second, 100);
    assert_int_equal(r.burst, 200);
}

static void test_rate_and_burst_are_both_taken(void **state)
{
    (void)state;
    struct udp_rate r;
    char err[128];
    assert_int_equal(udp_rate_parse("5/7", &r, err, sizeof err), 0);
    assert_int_equal(r.per_second, 5);
    assert_int_equal(r.burst, 7);
}

static void test_off_turns_the_buckets_off(void **state)
{
    (void)state;
    struct udp_rate r = {9, 9};
    char err[128];
    assert_int_equal(udp_rate_parse("off", &r, err, sizeof err), 0);
    assert_int_equal(r.per_second, 0);
}

/* 0 once meant off without a word; a user reading "0" expects nothing to be
 * served, so it is refused with the spelling that means no limit. */
static void test_zero_is_refused_pointing_at_off(void **state)
{
    (void)state;
    const char *zero[] = {"0", "00", "0/5"};
    for (size_t i = 0; i < sizeof zero / sizeof zero[0]; i++) {
        struct udp_rate r = {1, 2};
        char err[128] = "";
        assert_int_equal(udp_rate_parse(zero[i], &r, err, sizeof err), -1);
        assert_non_null(strstr(err, "write off for no limit"));
        assert_int_equal(r.per_second, 1);
    }
}

static void test_malformed_rates_are_refused_with_one_reason(void **state)
{
    (void)state;
    const char *bad[] = {"", "abc", "-1", "5/", "5/0", "5/x", "5x", "1 ", "5/-3", "10000001",
                         "5/100000001", "OFF", "99999999999999999999999",
                         /* Digits only, as every other number option. */
                         "+5", " 5", "5/+7", "5/ 7", "0x10"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct udp_rate r = {1, 2};
        char err[128] = "";
        assert_int_equal(udp_rate_parse(bad[i], &r, err, sizeof err), -1);
        assert_string_equal(err, PARSE_ERROR);
        assert_int_equal(r.per_second, 1);
    }
}

static void test_the_largest_rate_and_burst_are_taken(void **state)
{
    (void)state;
    struct udp_rate r;
    char err[128];
    assert_int_equal(udp_rate_parse("10000000/100000000", &r, err, sizeof err), 0);
    assert_int_equal(r.per_second, 10000000);
    assert_int_equal(r.burst, 100000000);
}

/* ---- Source ports ------------------------------------------------------ */

static void test_small_service_source_ports_are_refused(void **state)
{
    (void)state;
    struct udp_guard g;
    udp_guard_init(&g, (struct udp_rate){0, 0});
    const uint16_t refused[] = {0, 7, 9, 13, 19, 37};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        struct address a = ipv4("192.0.2.1", refused[i]);
        assert_false(udp_guard_admit(&g, 0, &a, 1000));
        struct address b = ipv6("2001:db8::1", refused[i]);
        assert_false(udp_guard_admit(&g, 0, &b, 1000));
    }
    assert_int_equal(g.dropped[UDP_DROP_SOURCE_PORT], 12);
    udp_guard_free(&g);
}

static void test_other_source_ports_are_admitted(void **state)
{
    (void)state;
    struct udp_guard g;
    udp_guard_init(&g, (struct udp_rate){0, 0});
    const uint16_t admitted[] = {1, 8, 17, 53, 123, 1024, 40000, 65535};
    for (size_t i = 0; i < sizeof admitted / sizeof admitted[0]; i++) {
        struct address a = ipv4("192.0.2.1", admitted[i]);
        assert_true(udp_guard_admit(&g, 0, &a, 1000));
    }
    assert_int_equal(g.dropped[UDP_DROP_SOURCE_PORT], 0);
    udp_guard_free(&g);
}

static void test_own_ports_are_refused_from_any_address(void **state)
{
    (void)state;
    struct udp_guard g;
    udp_guard_init(&g, (struct udp_rate){0, 0});
    struct address a = ipv4("127.0.0.2", 7007);
    assert_true(udp_guard_admit(&g, 0, &a, 1000));
    assert_int_equal(udp_guard_refuse_port(&g, 7007), 0);
    assert_int_equal(udp_guard_refuse_port(&g, 7007), 0); /* Twice is once. */
    assert_int_equal(g.own_port_count, 1);
    assert_false(udp_guard_admit(&g, 0, &a, 1000));
    struct address b = ipv6("2001:db8::1", 7007);
    assert_false(udp_guard_admit(&g, 0, &b, 1000));
    struct address other = ipv4("127.0.0.2", 7008);
    assert_true(udp_guard_admit(&g, 0, &other, 1000));
    assert_int_equal(g.dropped[UDP_DROP_OWN_PORT], 2);
    udp_guard_free(&g);
}

static void test_every_udp_listener_port_is_refused_but_no_tcp_one(void **state)
{
    (void)state;
    struct listener items[3];
    memset(items, 0, sizeof items);
    items[0].transport = TRANSPORT_UDP;
    items[0].address = ipv4("127.0.0.1", 41000); /* The listener itself. */
    items[1].transport = TRANSPORT_UDP;
    items[1].address = ipv6("::1", 41001);
    items[2].transport = TRANSPORT_TCP;
    items[2].address = ipv4("127.0.0.1", 41002);
    struct listener_set set = {.items = items, .count = 3};
    struct udp_guard g;
    udp_guard_init(&g, (struct udp_rate){100, 200});
    assert_int_equal(udp_guard_refuse_own_ports(&g, &set), 0);
    struct address self = ipv4("127.0.0.1", 41000);
    assert_false(udp_guard_admit(&g, 0, &self, 1000));
    struct address sibling = ipv4("127.0.0.1", 41001);
    assert_false(udp_guard_admit(&g, 0, &sibling, 1000));
    struct address tcp_port = ipv4("127.0.0.1", 41002);
    assert_true(udp_guard_admit(&g, 0, &tcp_port, 1000));
    assert_int_equal(g.dropped[UDP_DROP_OWN_PORT], 2);
    udp_guard_free(&g);
}

/* ---- Source addresses -------------------------------------------------- */

static void test_sources_no_real_client_has_are_refused(void **state)
{
    (void)state;
    struct udp_guard g;
    udp_guard_init(&g, (struct udp_rate){0, 0});
    struct address bad[] = {
        ipv4("0.0.0.0", 5000),
        ipv4("255.255.255.255", 5000),
        ipv4("224.0.0.1", 5000),
        ipv4("239.255.255.250", 5000),
        ipv6("::", 5000),
        ipv6("ff02::1", 5000),
        ipv6("::ffff:255.255.255.255", 5000),
        ipv6("::ffff:224.0.0.251", 5000),
        ipv6("::ffff:0.0.0.0", 5000),
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(udp_guard_admit(&g, 0, &bad[i], 1000));
    assert_int_equal(g.dropped[UDP_DROP_SOURCE_ADDRESS], sizeof bad / sizeof bad[0]);
    udp_guard_free(&g);
}

static void test_ordinary_sources_are_admitted(void **state)
{
    (void)state;
    struct udp_guard g;
    udp_guard_init(&g, (struct udp_rate){0, 0});
    struct address good[] = {
        ipv4("127.0.0.1", 5000),
        ipv4("10.1.2.3", 5000),
        ipv4("223.255.255.255", 5000),
        ipv4("240.0.0.1", 5000),
        ipv6("::1", 5000),
        ipv6("2001:db8::7", 5000),
        ipv6("fe80::1", 5000),
        ipv6("::ffff:127.0.0.1", 5000),
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_true(udp_guard_admit(&g, 0, &good[i], 1000));
    udp_guard_free(&g);
}

static void test_a_port_check_comes_before_the_address_check(void **state)
{
    (void)state;
    struct udp_guard g;
    udp_guard_init(&g, (struct udp_rate){0, 0});
    struct address a = ipv4("0.0.0.0", 7);
    assert_false(udp_guard_admit(&g, 0, &a, 1000));
    assert_int_equal(g.dropped[UDP_DROP_SOURCE_PORT], 1);
    assert_int_equal(g.dropped[UDP_DROP_SOURCE_ADDRESS], 0);
    udp_guard_free(&g);
}

/* ---- Rate buckets ------------------------------------------------------ */

static void test_a_source_gets_its_burst_then_is_refused(void **state)
{
    (void)state;
    struct udp_guard g;
    udp_guard_init(&g, (struct udp_rate){10, 3});
    struct address a = ipv4("192.0.2.1", 5000);
    for (int i = 0; i < 3; i++)
        assert_true(udp_guard_admit(&g, 0, &a, 1000));
    assert_false(udp_guard_admit(&g, 0, &a, 1000));
    assert_false(udp_guard_admit(&g, 0, &a, 1000));
    assert_int_equal(g.dropped[UDP_DROP_RATE], 2);
    udp_guard_free(&g);
}

static void test_tokens_come_back_at_the_rate(void **state)
{
    (void)state;
    struct udp_guard g;
    udp_guard_init(&g, (struct udp_rate){10, 1});
    struct address a = ipv4("192.0.2.1", 5000);
    assert_true(udp_guard_admit(&g, 0, &a, 1000));
    assert_false(udp_guard_admit(&g, 0, &a, 1050)); /* Half a token. */
    assert_true(udp_guard_admit(&g, 0, &a, 1100));  /* 10 per second: one per 100 ms. */
    assert_false(udp_guard_admit(&g, 0, &a, 1100));
    udp_guard_free(&g);
}

static void test_a_quiet_source_saves_up_no_more_than_its_burst(void **state)
{
    (void)state;
    struct udp_guard g;
    udp_guard_init(&g, (struct udp_rate){100, 4});
    struct address a = ipv4("192.0.2.1", 5000);
    assert_true(udp_guard_admit(&g, 0, &a, 1000));
    int admitted = 0;
    for (int i = 0; i < 10; i++)
        admitted += udp_guard_admit(&g, 0, &a, 3600 * 1000);
    assert_int_equal(admitted, 4);
    udp_guard_free(&g);
}

static void test_each_source_address_has_its_own_bucket(void **state)
{
    (void)state;
    struct udp_guard g;
    udp_guard_init(&g, (struct udp_rate){1, 2});
    struct address a = ipv4("192.0.2.1", 5000);
    struct address b = ipv4("192.0.2.2", 5000);
    struct address c = ipv6("2001:db8::1", 5000);
    for (int i = 0; i < 2; i++) {
        assert_true(udp_guard_admit(&g, 0, &a, 1000));
        assert_true(udp_guard_admit(&g, 0, &b, 1000));
        assert_true(udp_guard_admit(&g, 0, &c, 1000));
    }
    assert_false(udp_guard_admit(&g, 0, &a, 1000));
    assert_false(udp_guard_admit(&g, 0, &b, 1000));
    assert_false(udp_guard_admit(&g, 0, &c, 1000));
    udp_guard_free(&g);
}

static void test_changing_source_port_does_not_buy_a_new_bucket(void **state)
{
    (void)state;
    struct udp_guard g;
    udp_guard_init(&g, (struct udp_rate){1, 2});
    struct address a = ipv4("192.0.2.1", 5000);
    struct address same_host = ipv4("192.0.2.1", 6000);
    assert_true(udp_guard_admit(&g, 0, &a, 1000));
    assert_true(udp_guard_admit(&g, 0, &same_host, 1000));
    assert_false(udp_guard_admit(&g, 0, &a, 1000));
    assert_false(udp_guard_admit(&g, 0, &same_host, 1000));
    udp_guard_free(&g);
}

static void test_refused_sources_spend_no_tokens(void **state)
{
    (void)state;
    struct udp_guard g;
    udp_guard_init(&g, (struct udp_rate){1, 1});
    struct address bad_port = ipv4("192.0.2.1", 19);
    struct address good = ipv4("192.0.2.1", 5000);
    for (int i = 0; i < 5; i++)
        assert_false(udp_guard_admit(&g, 0, &bad_port, 1000));
    assert_true(udp_guard_admit(&g, 0, &good, 1000));
    assert_int_equal(g.dropped[UDP_DROP_RATE], 0);
    udp_guard_free(&g);
}

static void test_rate_off_admits_every_datagram_and_allocates_nothing(void **state)
{
    (void)state;
    struct udp_guard g;
    udp_guard_init(&g, (struct udp_rate){0, 0});
    struct address a = ipv4("192.0.2.1", 5000);
    for (int i = 0; i < 10000; i++)
        assert_true(udp_guard_admit(&g, 0, &a, 1000));
    assert_null(g.buckets);
    udp_guard_free(&g);
}

static void test_a_clock_at_zero_still_keeps_the_bucket(void **state)
{
    (void)state;
    struct udp_guard g;
    udp_guard_init(&g, (struct udp_rate){1, 1});
    struct address a = ipv4("192.0.2.1", 5000);
    assert_true(udp_guard_admit(&g, 0, &a, 0));
    assert_false(udp_guard_admit(&g, 0, &a, 0));
    udp_guard_free(&g);
}

static void test_more_sources_than_slots_are_still_served(void **state)
{
    (void)state;
    /* When every slot is taken, the least recently seen source is
     * forgotten: a new source is never refused for want of a slot. */
    struct udp_guard g;
    udp_guard_init(&g, (struct udp_rate){1, 1});
    for (uint32_t i = 0; i < 2 * UDP_GUARD_SOURCES; i++) {
        struct address a = ipv4("10.0.0.0", 5000);
        a.u.in.sin_addr.s_addr = htonl(0x0A000000u + i);
        assert_true(udp_guard_admit(&g, 0, &a, 1000 + i));
    }
    assert_int_equal(g.dropped[UDP_DROP_RATE], 0);
    udp_guard_free(&g);
}

/* ---- Logging ----------------------------------------------------------- */

static void test_drops_are_logged_at_most_once_a_second_per_reason(void **state)
{
    (void)state;
    struct udp_guard g;
    udp_guard_init(&g, (struct udp_rate){1, 1});
    struct address bad_port = ipv4("192.0.2.1", 7);
    struct address bad_address = ipv4("255.255.255.255", 5000);
    log_set_level(LOG_WARN);
    capture_stderr();
    for (int i = 0; i < 50; i++) {
        udp_guard_admit(&g, 0, &bad_port, 1000 + i);
        udp_guard_admit(&g, 0, &bad_address, 1000 + i);
    }
    int in_first_second = logged_lines();
    udp_guard_admit(&g, 0, &bad_port, 1999);
    int just_before_a_second = logged_lines();
    udp_guard_admit(&g, 0, &bad_port, 2000);
    int a_second_later = logged_lines();
    restore_stderr();
    log_set_level(LOG_ERROR);

    assert_int_equal(in_first_second, 2);
    assert_int_equal(just_before_a_second, 0);
    assert_int_equal(a_second_later, 1);
    assert_int_equal(g.dropped[UDP_DROP_SOURCE_PORT], 52);
    assert_int_equal(g.dropped[UDP_DROP_SOURCE_ADDRESS], 50);
    udp_guard_free(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rate_alone_gets_a_burst_of_twice_the_rate),
        cmocka_unit_test(test_rate_and_burst_are_both_taken),
        cmocka_unit_test(test_off_turns_the_buckets_off),
        cmocka_unit_test(test_zero_is_refused_pointing_at_off),
        cmocka_unit_test(test_malformed_rates_are_refused_with_one_reason),
        cmocka_unit_test(test_the_largest_rate_and_burst_are_taken),
        cmocka_unit_test(test_small_service_source_ports_are_refused),
        cmocka_unit_test(test_other_source_ports_are_admitted),
        cmocka_unit_test(test_own_ports_are_refused_from_any_address),
        cmocka_unit_test(test_every_udp_listener_port_is_refused_but_no_tcp_one),
        cmocka_unit_test(test_sources_no_real_client_has_are_refused),
        cmocka_unit_test(test_ordinary_sources_are_admitted),
        cmocka_unit_test(test_a_port_check_comes_before_the_address_check),
        cmocka_unit_test(test_a_source_gets_its_burst_then_is_refused),
        cmocka_unit_test(test_tokens_come_back_at_the_rate),
        cmocka_unit_test(test_a_quiet_source_saves_up_no_more_than_its_burst),
        cmocka_unit_test(test_each_source_address_has_its_own_bucket),
        cmocka_unit_test(test_changing_source_port_does_not_buy_a_new_bucket),
        cmocka_unit_test(test_refused_sources_spend_no_tokens),
        cmocka_unit_test(test_rate_off_admits_every_datagram_and_allocates_nothing),
        cmocka_unit_test(test_a_clock_at_zero_still_keeps_the_bucket),
        cmocka_unit_test(test_more_sources_than_slots_are_still_served),
        cmocka_unit_test(test_drops_are_logged_at_most_once_a_second_per_reason),
    };
    return cmocka_run_group_tests(tests, quiet_logs, NULL);
}
