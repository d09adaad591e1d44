/* Addresses as sockserv prints them in logs and replies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>
#include <sys/un.h>

#include "core/address.h"

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

static void test_ipv4_prints_as_host_colon_port(void **state)
{
    (void)state;
    struct address a = ipv4("127.0.0.1", 41234);
    char buf[ADDRESS_TEXT_MAX];
    address_format(&a, buf, sizeof buf);
    assert_string_equal(buf, "127.0.0.1:41234");
    address_format_host(&a, buf, sizeof buf);
    assert_string_equal(buf, "127.0.0.1");
    assert_int_equal(address_port(&a), 41234);
}

static void test_ipv6_prints_bracketed(void **state)
{
    (void)state;
    struct address a = ipv6("::1", 41234);
    char buf[ADDRESS_TEXT_MAX];
    address_format(&a, buf, sizeof buf);
    assert_string_equal(buf, "[::1]:41234");
    address_format_host(&a, buf, sizeof buf);
    assert_string_equal(buf, "::1");
    assert_int_equal(address_port(&a), 41234);
}

static void test_ipv4_mapped_ipv6_prints_as_ipv4(void **state)
{
    (void)state;
    struct address a = ipv6("::ffff:192.0.2.7", 80);
    char buf[ADDRESS_TEXT_MAX];
    address_format(&a, buf, sizeof buf);
    assert_string_equal(buf, "192.0.2.7:80");
    address_format_host(&a, buf, sizeof buf);
    assert_string_equal(buf, "192.0.2.7");
    assert_int_equal(address_port(&a), 80);
}

static void test_longest_address_fits_the_text_size(void **state)
{
    (void)state;
    struct address a = ipv6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535);
    char buf[ADDRESS_TEXT_MAX];
    address_format(&a, buf, sizeof buf);
    assert_string_equal(buf, "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535");
}

static void test_other_families_print_as_question_mark(void **state)
{
    (void)state;
    struct address a;
    memset(&a, 0, sizeof a);
    a.u.sa.sa_family = AF_UNIX;
    a.length = sizeof(sa_family_t);
    char buf[ADDRESS_TEXT_MAX];
    address_format(&a, buf, sizeof buf);
    assert_string_equal(buf, "?");
    address_format_host(&a, buf, sizeof buf);
    assert_string_equal(buf, "?");
    assert_int_equal(address_port(&a), 0);
}

static void test_address_shorter_than_its_family_prints_as_question_mark(void **state)
{
    (void)state;
    struct address a = ipv4("10.0.0.1", 7);
    a.length = 2;
    char buf[ADDRESS_TEXT_MAX];
    address_format(&a, buf, sizeof buf);
    assert_string_equal(buf, "?");
    assert_int_equal(address_port(&a), 0);
}

static void test_small_buffer_gets_a_terminated_prefix(void **state)
{
    (void)state;
    struct address a = ipv6("::1", 7007);
    char buf[5];
    address_format(&a, buf, sizeof buf);
    assert_string_equal(buf, "[::1");
    address_format_host(&a, buf, 3);
    assert_string_equal(buf, "::");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ipv4_prints_as_host_colon_port),
        cmocka_unit_test(test_ipv6_prints_bracketed),
        cmocka_unit_test(test_ipv4_mapped_ipv6_prints_as_ipv4),
        cmocka_unit_test(test_longest_address_fits_the_text_size),
        cmocka_unit_test(test_other_families_print_as_question_mark),
        cmocka_unit_test(test_address_shorter_than_its_family_prints_as_question_mark),
        cmocka_unit_test(test_small_buffer_gets_a_terminated_prefix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
