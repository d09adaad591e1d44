/* The metrics service's text: each family once with HELP and TYPE before
 * its samples, counters named _total, connection families for TCP
 * listeners and datagram families for UDP ones, label values escaped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/counters.h"
#include "services/prometheus_text.h"

static char *text_of_counters(void)
{
    struct buffer out = {0};
    assert_int_equal(prometheus_text(&out), 0);
    char *text = malloc(buffer_length(&out) + 1);
    assert_non_null(text);
    memcpy(text, buffer_peek(&out), buffer_length(&out));
    text[buffer_length(&out)] = '\0';
    buffer_free(&out);
    return text;
}

static int set_up(void **state)
{
    (void)state;
    if (counters_init(3) != 0)
        return -1;
    counters_set_name(0, "tcp://127.0.0.1:7007/echo");
    counters_set_name(1, "udp://127.0.0.1:7007/echo");
    counters_set_name(2, "tcp://odd\"name\\with\nbreak:1/chat");
    return 0;
}

static int tear_down(void **state)
{
    (void)state;
    counters_free();
    return 0;
}

static void test_samples_show_the_counts(void **state)
{
    (void)state;
    counters_claim_slot(-1, 0);
    counters_add(0, COUNTER_ACCEPTED, 5);
    counters_add(0, COUNTER_CLOSED, 3);
    counters_add(0, COUNTER_BYTES_IN, 4096);
    counters_add(1, COUNTER_DATAGRAMS_RATE, 7);
    char *text = text_of_counters();
    assert_non_null(strstr(text, "sockserv_connections_open{listener=\"tcp://127.0.0.1:7007/echo\","
                                 "service=\"echo\"} 2\n"));
    assert_non_null(strstr(text, "sockserv_connections_accepted_total{listener=\"tcp://127.0.0.1:"
                                 "7007/echo\",service=\"echo\"} 5\n"));
    assert_non_null(strstr(text, "sockserv_received_bytes_total{listener=\"tcp://127.0.0.1:7007/"
                                 "echo\",service=\"echo\"} 4096\n"));
    assert_non_null(strstr(text, "sockserv_datagrams_dropped_total{listener=\"udp://127.0.0.1:"
                                 "7007/echo\",service=\"echo\",reason=\"rate\"} 7\n"));
    assert_non_null(strstr(text, "sockserv_loop_connections_open{worker=\"none\",loop=\"0\"} 2\n"));
    /* A UDP listener has no connections; a TCP one no datagrams. */
    assert_null(strstr(text, "sockserv_connections_open{listener=\"udp:"));
    assert_null(strstr(text, "sockserv_datagrams_received_total{listener=\"tcp:"));
    counters_release_slot();
    free(text);
}

static void test_every_family_has_help_and_type_first(void **state)
{
    (void)state;
    char *text = text_of_counters();
    const char *families[] = {"sockserv_connections_open",
                              "sockserv_connections_accepted_total",
                              "sockserv_connections_closed_total",
                              "sockserv_connections_refused_total",
                              "sockserv_connections_cut_total",
                              "sockserv_received_bytes_total",
                              "sockserv_sent_bytes_total",
                              "sockserv_datagrams_received_total",
                              "sockserv_datagrams_sent_total",
                              "sockserv_datagrams_dropped_total",
                              "sockserv_chat_members",
                              "sockserv_chat_rooms",
                              "sockserv_loop_connections_open"};
    for (size_t i = 0; i < sizeof families / sizeof families[0]; i++) {
        char help[128], type[128], sample[128];
        snprintf(help, sizeof help, "# HELP %s ", families[i]);
        snprintf(type, sizeof type, "\n# TYPE %s %s\n", families[i],
                 strstr(families[i], "_total") ? "counter" : "gauge");
        snprintf(sample, sizeof sample, "\n%s{", families[i]);
        const char *h = strstr(text, help);
        if (!h)
            fail_msg("no HELP for %s", families[i]);
        assert_ptr_equal(strstr(text, help + 1), h + 1); /* Once only. */
        const char *t = strstr(text, type);
        assert_non_null(t);
        const char *s = strstr(text, sample);
        assert_true(h < t && (!s || t < s));
    }
    free(text);
}

static void test_label_values_are_escaped(void **state)
{
    (void)state;
    char *text = text_of_counters();
    assert_non_null(strstr(text, "sockserv_chat_members{listener=\"tcp://odd\\\"name\\\\with\\n"
                                 "break:1/chat\",service=\"chat\"} 0\n"));
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_samples_show_the_counts, set_up, tear_down),
        cmocka_unit_test_setup_teardown(test_every_family_has_help_and_type_first, set_up,
                                        tear_down),
        cmocka_unit_test_setup_teardown(test_label_values_are_escaped, set_up, tear_down),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
