/* Listener specifications as users write them after "serve", and the
 * endpoints they give "client". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/endpoint.h"

static struct endpoint parse_ok(const char *text)
{
    struct endpoint spec;
    char err[128] = "";
    if (endpoint_parse(text, ENDPOINT_LISTEN, &spec, err, sizeof err) != 0)
        fail_msg("\"%s\" was rejected: %s", text, err);
    return spec;
}

/* The text must be rejected, *out left alone, and the reason mention want. */
static void parse_fails(const char *text, const char *want)
{
    struct endpoint spec;
    memset(&spec, 0x5a, sizeof spec);
    struct endpoint before = spec;
    char err[128] = "";
    if (endpoint_parse(text, ENDPOINT_LISTEN, &spec, err, sizeof err) == 0)
        fail_msg("\"%s\" was accepted", text ? text : "(null)");
    assert_memory_equal(&spec, &before, sizeof spec);
    if (strstr(err, want) == NULL)
        fail_msg("\"%s\": reason \"%s\" does not mention \"%s\"", text ? text : "(null)", err,
                 want);
    assert_null(strchr(err, '\n'));
}

static struct endpoint endpoint_ok(const char *text)
{
    struct endpoint spec;
    char err[128] = "";
    if (endpoint_parse(text, ENDPOINT_CONNECT, &spec, err, sizeof err) != 0)
        fail_msg("endpoint \"%s\" was rejected: %s", text, err);
    return spec;
}

static void endpoint_fails(const char *text, const char *want)
{
    struct endpoint spec;
    memset(&spec, 0x5a, sizeof spec);
    struct endpoint before = spec;
    char err[128] = "";
    if (endpoint_parse(text, ENDPOINT_CONNECT, &spec, err, sizeof err) == 0)
        fail_msg("endpoint \"%s\" was accepted", text ? text : "(null)");
    assert_memory_equal(&spec, &before, sizeof spec);
    if (strstr(err, want) == NULL)
        fail_msg("endpoint \"%s\": reason \"%s\" does not mention \"%s\"", text ? text : "(null)",
                 err, want);
    assert_null(strchr(err, '\n'));
}

static void test_ipv4_listener_parses(void **state)
{
    (void)state;
    struct endpoint spec = parse_ok("tcp://127.0.0.1:7007/echo");
    assert_int_equal(spec.transport, TRANSPORT_TCP);
    assert_string_equal(spec.host, "127.0.0.1");
    assert_false(spec.wildcard);
    assert_int_equal(spec.port, 7007);
    assert_string_equal(spec.service, "echo");
}

static void test_ipv6_listener_loses_its_brackets(void **state)
{
    (void)state;
    struct endpoint spec = parse_ok("tcp://[::1]:0/echo");
    assert_string_equal(spec.host, "::1");
    assert_int_equal(spec.port, 0);
    assert_false(spec.wildcard);

    spec = parse_ok("udp://[2001:db8::17]:65535/time");
    assert_int_equal(spec.transport, TRANSPORT_UDP);
    assert_string_equal(spec.host, "2001:db8::17");
    assert_int_equal(spec.port, 65535);
    assert_string_equal(spec.service, "time");
}

static void test_ipv6_zone_is_kept(void **state)
{
    (void)state;
    struct endpoint spec = parse_ok("tcp://[fe80::1%lo]:7/echo");
    assert_string_equal(spec.host, "fe80::1%lo");
    parse_fails("tcp://[fe80::1%]:7/echo", "invalid IPv6");
}

static void test_star_means_every_address(void **state)
{
    (void)state;
    struct endpoint spec = parse_ok("tcp://*:7777/chat");
    assert_true(spec.wildcard);
    assert_string_equal(spec.host, "");
    assert_int_equal(spec.port, 7777);
    assert_string_equal(spec.service, "chat");
}

static void test_host_names_are_accepted_unresolved(void **state)
{
    (void)state;
    struct endpoint spec = parse_ok("tcp://localhost:7007/echo");
    assert_string_equal(spec.host, "localhost");
    spec = parse_ok("udp://no-such-host.example.:9/discard");
    assert_string_equal(spec.host, "no-such-host.example.");
    assert_string_equal(spec.service, "discard");
}

static void test_service_names_allow_digits_dash_underscore(void **state)
{
    (void)state;
    struct endpoint spec = parse_ok("tcp://h:1/my_svc-2");
    assert_string_equal(spec.service, "my_svc-2");
}

static void test_longest_host_and_service_fit(void **state)
{
    (void)state;
    char text[400];
    char host[254];
    memset(host, 'a', 253);
    host[253] = '\0';
    snprintf(text, sizeof text, "tcp://%s:1/abcdefghijklmnopqrstuvwxyz01234", host);
    struct endpoint spec = parse_ok(text);
    assert_string_equal(spec.host, host);
    assert_int_equal(strlen(spec.service), ENDPOINT_SERVICE_MAX - 1);
}

static void test_too_long_host_or_service_is_rejected(void **state)
{
    (void)state;
    char text[400];
    char host[255];
    memset(host, 'a', 254);
    host[254] = '\0';
    snprintf(text, sizeof text, "tcp://%s:1/echo", host);
    parse_fails(text, "longer than 253");
    parse_fails("tcp://h:1/abcdefghijklmnopqrstuvwxyz012345", "longer than 31");
}

static void test_missing_scheme_separator_is_rejected(void **state)
{
    (void)state;
    parse_fails("127.0.0.1:7007/echo", "missing '://'");
    parse_fails("tcp:/h:1/echo", "missing '://'");
    parse_fails("", "empty");
    parse_fails(NULL, "empty");
}

static void test_unknown_transport_is_named(void **state)
{
    (void)state;
    struct endpoint spec;
    char err[128] = "";
    assert_int_equal(endpoint_parse("sctp://h:1/echo", ENDPOINT_LISTEN, &spec, err, sizeof err),
                     -1);
    assert_string_equal(err, "unknown transport 'sctp' (use tcp or udp)");
    parse_fails("TCP://h:1/echo", "unknown transport 'TCP'");
    parse_fails("://h:1/echo", "missing transport");
}

static void test_port_must_be_present(void **state)
{
    (void)state;
    parse_fails("tcp://host/echo", "missing port");
    parse_fails("tcp://host:/echo", "missing port");
    parse_fails("tcp://[::1]/echo", "missing port");
}

static void test_port_must_be_a_number_in_range(void **state)
{
    (void)state;
    parse_fails("tcp://host:70000/echo", "out of range");
    parse_fails("tcp://host:65536/echo", "out of range");
    parse_fails("tcp://host:99999999999999999999999/echo", "out of range");
    parse_fails("tcp://host:http/echo", "not a number");
    parse_fails("tcp://host:-1/echo", "not a number");
    parse_fails("tcp://host:+7/echo", "not a number");
    parse_fails("tcp://host:7x/echo", "not a number");
}

static void test_host_must_not_be_empty(void **state)
{
    (void)state;
    parse_fails("tcp://:7/echo", "empty host");
    parse_fails("tcp://[]:7/echo", "empty host");
}

static void test_bad_host_characters_are_rejected(void **state)
{
    (void)state;
    parse_fails("tcp://ho_st:7/echo", "invalid character in host");
    parse_fails("tcp://**:7/echo", "invalid character in host");
    parse_fails("tcp://host]:7/echo", "invalid character in host");
}

static void test_ipv6_must_be_bracketed(void **state)
{
    (void)state;
    parse_fails("tcp://::1:7/echo", "brackets");
    parse_fails("tcp://2001:db8::1:7/echo", "brackets");
}

static void test_bracket_errors_are_explained(void **state)
{
    (void)state;
    parse_fails("tcp://[::1:7/echo", "unterminated '['");
    parse_fails("tcp://[::1]x:7/echo", "after ']'");
    parse_fails("tcp://[127.0.0.1]:7/echo", "invalid IPv6");
    parse_fails("tcp://[localhost]:7/echo", "invalid IPv6");
}

static void test_service_must_be_present(void **state)
{
    (void)state;
    parse_fails("tcp://host:7007", "missing '/SERVICE'");
    parse_fails("tcp://host:7007/", "missing service");
}

static void test_bad_service_characters_are_rejected(void **state)
{
    (void)state;
    parse_fails("tcp://host:7/Echo", "invalid character in service");
    parse_fails("tcp://host:7/ec.ho", "invalid character in service");
}

static void test_trailing_junk_is_rejected(void **state)
{
    (void)state;
    parse_fails("tcp://host:7/echo/more", "unexpected text");
    parse_fails("tcp://host:7/echo ", "unexpected text");
    parse_fails("tcp://host:7/echo#x", "unexpected text");
}

static void test_listener_settings_after_question_mark_are_kept(void **state)
{
    (void)state;
    struct endpoint spec = parse_ok("tcp://*:7007/echo?allow=10.0.0.0/8,::1&max-per-source=4");
    assert_string_equal(spec.service, "echo");
    assert_string_equal(spec.query, "allow=10.0.0.0/8,::1&max-per-source=4");
    spec = parse_ok("tcp://[::1]:7/echo");
    assert_string_equal(spec.query, "");
    parse_fails("tcp://host:7/echo?", "empty settings");
    parse_fails("tcp://host:7/echo?a b", "space");
    parse_fails("tcp://host:7/ECHO?x=1", "invalid character in service");
    parse_fails("tcp://host:7/?x=1", "missing service");
    struct endpoint out;
    char err[128] = "";
    assert_int_equal(endpoint_parse("tcp://h:7/echo?x=1", ENDPOINT_CONNECT, &out, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "unexpected text"));
}

static void test_reason_fits_a_small_buffer(void **state)
{
    (void)state;
    struct endpoint spec;
    char err[6];
    assert_int_equal(endpoint_parse("sctp://h:1/echo", ENDPOINT_LISTEN, &spec, err, sizeof err),
                     -1);
    assert_string_equal(err, "unkno");
    assert_int_equal(endpoint_parse("sctp://h:1/echo", ENDPOINT_LISTEN, &spec, NULL, 0), -1);
}

static void test_endpoint_service_is_optional(void **state)
{
    (void)state;
    struct endpoint spec = endpoint_ok("tcp://127.0.0.1:7");
    assert_int_equal(spec.transport, TRANSPORT_TCP);
    assert_string_equal(spec.host, "127.0.0.1");
    assert_int_equal(spec.port, 7);
    assert_string_equal(spec.service, "");

    spec = endpoint_ok("udp://[::1]:37");
    assert_int_equal(spec.transport, TRANSPORT_UDP);
    assert_string_equal(spec.host, "::1");
    assert_int_equal(spec.port, 37);
    assert_string_equal(spec.service, "");
}

static void test_endpoint_service_is_read_when_given(void **state)
{
    (void)state;
    struct endpoint spec = endpoint_ok("tcp://127.0.0.1:7100/upper");
    assert_int_equal(spec.port, 7100);
    assert_string_equal(spec.service, "upper");
    spec = endpoint_ok("udp://localhost:65535/time");
    assert_string_equal(spec.host, "localhost");
    assert_string_equal(spec.service, "time");
}

static void test_endpoint_rejects_star_and_port_0(void **state)
{
    (void)state;
    endpoint_fails("tcp://*:7/echo", "cannot connect to *");
    endpoint_fails("udp://*:7", "cannot connect to *");
    endpoint_fails("tcp://127.0.0.1:0", "port 0");
    endpoint_fails("tcp://127.0.0.1:00/echo", "port 0");
}

static void test_endpoint_field_errors_match_listeners(void **state)
{
    (void)state;
    endpoint_fails("127.0.0.1:7", "expected SCHEME://HOST:PORT[/SERVICE]");
    endpoint_fails("", "empty URL");
    endpoint_fails(NULL, "empty URL");
    endpoint_fails("http://h:80", "unknown transport 'http'");
    endpoint_fails("tcp://:7", "empty host");
    endpoint_fails("tcp://::1:7", "brackets");
    endpoint_fails("tcp://[::1:7", "unterminated '['");
    endpoint_fails("tcp://h", "missing port");
    endpoint_fails("tcp://h:", "missing port");
    endpoint_fails("tcp://h:70000", "out of range");
    endpoint_fails("tcp://h:7x", "not a number");
    endpoint_fails("tcp://h:7/", "missing service");
    endpoint_fails("tcp://h:7/Echo", "invalid character in service");
    endpoint_fails("tcp://h:7/echo/x", "unexpected text");
}

static void test_listener_still_requires_service_and_allows_star(void **state)
{
    (void)state;
    struct endpoint spec;
    char err[128] = "";
    assert_int_equal(endpoint_parse("tcp://*:0/echo", ENDPOINT_LISTEN, &spec, err, sizeof err), 0);
    assert_true(spec.wildcard);
    assert_int_equal(spec.port, 0);
    assert_int_equal(endpoint_parse("tcp://h:7", ENDPOINT_LISTEN, &spec, err, sizeof err), -1);
    assert_non_null(strstr(err, "missing '/SERVICE'"));
}

static void test_transport_names(void **state)
{
    (void)state;
    assert_string_equal(transport_name(TRANSPORT_TCP), "tcp");
    assert_string_equal(transport_name(TRANSPORT_UDP), "udp");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ipv4_listener_parses),
        cmocka_unit_test(test_ipv6_listener_loses_its_brackets),
        cmocka_unit_test(test_ipv6_zone_is_kept),
        cmocka_unit_test(test_star_means_every_address),
        cmocka_unit_test(test_host_names_are_accepted_unresolved),
        cmocka_unit_test(test_service_names_allow_digits_dash_underscore),
        cmocka_unit_test(test_longest_host_and_service_fit),
        cmocka_unit_test(test_too_long_host_or_service_is_rejected),
        cmocka_unit_test(test_missing_scheme_separator_is_rejected),
        cmocka_unit_test(test_unknown_transport_is_named),
        cmocka_unit_test(test_port_must_be_present),
        cmocka_unit_test(test_port_must_be_a_number_in_range),
        cmocka_unit_test(test_host_must_not_be_empty),
        cmocka_unit_test(test_bad_host_characters_are_rejected),
        cmocka_unit_test(test_ipv6_must_be_bracketed),
        cmocka_unit_test(test_bracket_errors_are_explained),
        cmocka_unit_test(test_service_must_be_present),
        cmocka_unit_test(test_bad_service_characters_are_rejected),
        cmocka_unit_test(test_trailing_junk_is_rejected),
        cmocka_unit_test(test_listener_settings_after_question_mark_are_kept),
        cmocka_unit_test(test_reason_fits_a_small_buffer),
        cmocka_unit_test(test_endpoint_service_is_optional),
        cmocka_unit_test(test_endpoint_service_is_read_when_given),
        cmocka_unit_test(test_endpoint_rejects_star_and_port_0),
        cmocka_unit_test(test_endpoint_field_errors_match_listeners),
        cmocka_unit_test(test_listener_still_requires_service_and_allows_star),
        cmocka_unit_test(test_transport_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
