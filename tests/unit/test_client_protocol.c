/* Which service the client believes it talks to, and what it expects back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "core/service.h"
#include "netclient/protocol.h"

static const char *name_for_port(uint16_t port)
{
    return client_protocol_for_port(port)->name;
}

static void test_rfc_ports_name_their_service(void **state)
{
    (void)state;
    assert_string_equal(name_for_port(7), "echo");
    assert_string_equal(name_for_port(9), "discard");
    assert_string_equal(name_for_port(13), "daytime");
    assert_string_equal(name_for_port(19), "chargen");
    assert_string_equal(name_for_port(37), "time");
}

static void test_sockserv_default_ports_name_their_service(void **state)
{
    (void)state;
    assert_string_equal(name_for_port(7007), "echo");
    assert_string_equal(name_for_port(7009), "discard");
    assert_string_equal(name_for_port(7013), "daytime");
    assert_string_equal(name_for_port(7019), "chargen");
    assert_string_equal(name_for_port(7037), "time");
    assert_string_equal(name_for_port(7100), "upper");
}

static void test_other_ports_are_plain_streams(void **state)
{
    (void)state;
    assert_ptr_equal(client_protocol_for_port(8080), client_protocol_stream());
    assert_ptr_equal(client_protocol_for_port(1), client_protocol_stream());
    assert_ptr_equal(client_protocol_for_port(65535), client_protocol_stream());
    assert_string_equal(client_protocol_stream()->name, "stream");
}

static void test_names_are_found_and_unknown_names_are_not(void **state)
{
    (void)state;
    assert_string_equal(client_protocol_find("upper")->name, "upper");
    assert_string_equal(client_protocol_find("stream")->name, "stream");
    assert_null(client_protocol_find("ehco"));
    assert_null(client_protocol_find(""));
}

static void test_what_each_service_sends_and_answers(void **state)
{
    (void)state;
    const struct client_protocol *p = client_protocol_find("echo");
    assert_true(p->takes_input);
    assert_int_equal(p->reply, CLIENT_REPLY_STREAM);
    p = client_protocol_find("discard");
    assert_true(p->takes_input);
    assert_int_equal(p->reply, CLIENT_REPLY_NONE);
    p = client_protocol_find("time");
    assert_false(p->takes_input);
    assert_int_equal(p->reply, CLIENT_REPLY_TIME);
    assert_int_equal(p->udp_request, 0);
    p = client_protocol_find("daytime");
    assert_false(p->takes_input);
    assert_int_equal(p->reply, CLIENT_REPLY_DAYTIME);
    assert_int_equal(p->udp_request, 0);
    p = client_protocol_find("chargen");
    assert_false(p->takes_input);
    assert_int_equal(p->udp_request, 512);
}

static void test_only_replies_that_follow_the_input_can_be_verified(void **state)
{
    (void)state;
    assert_true(client_protocol_can_verify(client_protocol_find("echo")));
    assert_true(client_protocol_can_verify(client_protocol_find("upper")));
    assert_true(client_protocol_can_verify(client_protocol_stream()));
    assert_false(client_protocol_can_verify(client_protocol_find("discard")));
    assert_false(client_protocol_can_verify(client_protocol_find("daytime")));
    assert_false(client_protocol_can_verify(client_protocol_find("chargen")));
    assert_false(client_protocol_can_verify(client_protocol_find("time")));
}

static void test_upper_expects_ascii_uppercase_only(void **state)
{
    (void)state;
    const struct client_protocol *upper = client_protocol_find("upper");
    const struct client_protocol *echo = client_protocol_find("echo");
    assert_int_equal(client_protocol_expected_byte(upper, 'a'), 'A');
    assert_int_equal(client_protocol_expected_byte(upper, 'z'), 'Z');
    assert_int_equal(client_protocol_expected_byte(upper, 'A'), 'A');
    assert_int_equal(client_protocol_expected_byte(upper, '\n'), '\n');
    assert_int_equal(client_protocol_expected_byte(upper, 0xe9), 0xe9);
    assert_int_equal(client_protocol_expected_byte(echo, 'a'), 'a');
}

static void test_every_served_service_has_a_protocol_and_its_port(void **state)
{
    (void)state;
    for (const struct service *const *s = service_all(); *s; s++) {
        const struct client_protocol *p = client_protocol_find((*s)->name);
        if (p == NULL)
            fail_msg("sockserv serves '%s' but the client does not know it", (*s)->name);
        assert_ptr_equal(client_protocol_for_port((*s)->default_port), p);
    }
}

static void test_every_protocol_is_listed_once(void **state)
{
    (void)state;
    size_t count = 0;
    const struct client_protocol *p;
    for (size_t i = 0; (p = client_protocol_at(i)) != NULL; i++) {
        assert_ptr_equal(client_protocol_find(p->name), p);
        count++;
    }
    assert_int_equal(count, 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc_ports_name_their_service),
        cmocka_unit_test(test_sockserv_default_ports_name_their_service),
        cmocka_unit_test(test_other_ports_are_plain_streams),
        cmocka_unit_test(test_names_are_found_and_unknown_names_are_not),
        cmocka_unit_test(test_what_each_service_sends_and_answers),
        cmocka_unit_test(test_only_replies_that_follow_the_input_can_be_verified),
        cmocka_unit_test(test_upper_expects_ascii_uppercase_only),
        cmocka_unit_test(test_every_served_service_has_a_protocol_and_its_port),
        cmocka_unit_test(test_every_protocol_is_listed_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
