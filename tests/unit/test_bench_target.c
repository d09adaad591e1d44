/* Bench targets: URLs as sockserv serve prints them, and resolving them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "loadgen/target.h"

static struct bench_target parse_ok(const char *url)
{
    struct bench_target t;
    char err[160] = "";
    if (bench_target_parse(url, &t, err, sizeof(err)) != 0)
        fail_msg("\"%s\" was rejected: %s", url, err);
    return t;
}

static void parse_fails(const char *url, const char *want)
{
    struct bench_target t;
    char err[160] = "";
    if (bench_target_parse(url, &t, err, sizeof(err)) == 0)
        fail_msg("\"%s\" was accepted", url);
    if (strstr(err, want) == NULL)
        fail_msg("\"%s\": reason \"%s\" does not mention \"%s\"", url, err, want);
}

static void test_tcp_and_udp_urls(void **state)
{
    (void)state;
    struct bench_target t = parse_ok("tcp://127.0.0.1:7007");
    assert_int_equal(t.spec.transport, TRANSPORT_TCP);
    assert_int_equal(t.spec.port, 7007);
    assert_string_equal(t.spec.service, "");
    assert_string_equal(t.text, "tcp://127.0.0.1:7007");
    t = parse_ok("udp://localhost:37");
    assert_int_equal(t.spec.transport, TRANSPORT_UDP);
    assert_string_equal(t.text, "udp://localhost:37");
}

static void test_ipv6_keeps_its_brackets_in_the_text(void **state)
{
    (void)state;
    struct bench_target t = parse_ok("tcp://[::1]:9");
    assert_string_equal(t.spec.host, "::1");
    assert_string_equal(t.text, "tcp://[::1]:9");
}

/* What `sockserv serve` prints can be pasted as it is. */
static void test_service_suffix_is_kept_apart(void **state)
{
    (void)state;
    struct bench_target t = parse_ok("tcp://127.0.0.1:41234/upper");
    assert_string_equal(t.spec.service, "upper");
    assert_string_equal(t.text, "tcp://127.0.0.1:41234");
}

static void test_bad_urls_say_why(void **state)
{
    (void)state;
    parse_fails("127.0.0.1:7", "://");
    parse_fails("http://127.0.0.1:7", "http");
    parse_fails("tcp://127.0.0.1", "port");
    parse_fails("tcp://127.0.0.1:0", "port 0");
    parse_fails("tcp://*:7", "*");
    parse_fails("", "empty");
}

static void test_numeric_hosts_resolve_without_dns(void **state)
{
    (void)state;
    char err[160] = "";
    struct bench_target t = parse_ok("tcp://127.0.0.1:7007");
    assert_int_equal(bench_target_resolve(&t, err, sizeof(err)), 0);
    char text[ADDRESS_TEXT_MAX];
    address_format(&t.address, text, sizeof(text));
    assert_string_equal(text, "127.0.0.1:7007");
}

static void test_unresolvable_name_is_reported(void **state)
{
    (void)state;
    char err[160] = "";
    struct bench_target t = parse_ok("tcp://no-such-host.invalid:7");
    assert_int_equal(bench_target_resolve(&t, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "no-such-host.invalid"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tcp_and_udp_urls),
        cmocka_unit_test(test_ipv6_keeps_its_brackets_in_the_text),
        cmocka_unit_test(test_service_suffix_is_kept_apart),
        cmocka_unit_test(test_bad_urls_say_why),
        cmocka_unit_test(test_numeric_hosts_resolve_without_dns),
        cmocka_unit_test(test_unresolvable_name_is_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
