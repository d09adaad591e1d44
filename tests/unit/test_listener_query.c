/* core/listener_query: a listener's own settings override the server-wide
 * ones, access keys replace the server's rules, and every mistake names
 * its key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>

#include "core/listener_query.h"

static struct listener_policy server_wide(void)
{
    struct listener_policy p = {
        .config = {.max_line = 4096, .idle_timeout_ms = 600000},
        .sources = {.max_per_source = 8, .prefix6 = 64},
    };
    char err[128];
    assert_int_equal(access_list_add(&p.access, "127.0.0.2", true, err, sizeof err), 0);
    return p;
}

static struct address v4(const char *text)
{
    struct address a;
    memset(&a, 0, sizeof a);
    a.u.in.sin_family = AF_INET;
    assert_int_equal(inet_pton(AF_INET, text, &a.u.in.sin_addr), 1);
    a.length = sizeof a.u.in;
    return a;
}

static void test_without_a_key_the_server_wide_values_stay(void **state)
{
    (void)state;
    struct listener_policy base = server_wide(), p;
    char err[256] = "";
    assert_int_equal(listener_policy_copy(&p, &base, err, sizeof err), 0);
    assert_int_equal(listener_query_apply("connect-rate=5/10", &p, err, sizeof err), 0);
    assert_int_equal(p.sources.max_per_source, 8);
    assert_int_equal(p.sources.rate_per_second, 5);
    assert_int_equal(p.sources.burst, 10);
    assert_int_equal(p.config.idle_timeout_ms, 600000);
    struct address denied = v4("127.0.0.2");
    assert_int_equal(access_list_check(&p.access, &denied), ACCESS_DENIED);
    /* The copy is deep: freeing it leaves the base whole. */
    listener_policy_free(&p);
    assert_int_equal(access_list_check(&base.access, &denied), ACCESS_DENIED);
    listener_policy_free(&base);
}

static void test_every_key_overrides(void **state)
{
    (void)state;
    struct listener_policy base = server_wide(), p;
    char err[256] = "";
    assert_int_equal(listener_policy_copy(&p, &base, err, sizeof err), 0);
    assert_int_equal(listener_query_apply("max-per-source=4&source-prefix6=56&connect-rate=off&"
                                          "idle-timeout=30s&request-timeout=5s",
                                          &p, err, sizeof err),
                     0);
    assert_int_equal(p.config.request_timeout_ms, 5000);
    assert_int_equal(p.sources.max_per_source, 4);
    assert_int_equal(p.sources.prefix6, 56);
    assert_int_equal(p.sources.rate_per_second, 0);
    assert_int_equal(p.config.idle_timeout_ms, 30000);
    assert_int_equal(p.config.max_line, 4096);
    assert_int_equal(
        listener_query_apply("max-per-source=off&idle-timeout=off", &p, err, sizeof err), 0);
    assert_int_equal(p.sources.max_per_source, 0);
    assert_int_equal(p.config.idle_timeout_ms, 0);
    listener_policy_free(&p);
    listener_policy_free(&base);
}

static void test_access_keys_replace_the_server_rules(void **state)
{
    (void)state;
    struct listener_policy base = server_wide(), p;
    char err[256] = "";
    assert_int_equal(listener_policy_copy(&p, &base, err, sizeof err), 0);
    assert_int_equal(
        listener_query_apply("allow=127.0.0.0/8,::1&deny=127.0.0.3", &p, err, sizeof err), 0);
    struct address a = v4("127.0.0.2"), b = v4("127.0.0.3"), c = v4("10.0.0.1");
    assert_int_equal(access_list_check(&p.access, &a), ACCESS_ALLOWED);
    assert_int_equal(access_list_check(&p.access, &b), ACCESS_DENIED);
    assert_int_equal(access_list_check(&p.access, &c), ACCESS_NOT_ALLOWED);
    listener_policy_free(&p);
    listener_policy_free(&base);
}

static void fails(const char *query, const char *want)
{
    struct listener_policy base = server_wide(), p;
    char err[256] = "";
    assert_int_equal(listener_policy_copy(&p, &base, err, sizeof err), 0);
    if (listener_query_apply(query, &p, err, sizeof err) == 0)
        fail_msg("'%s' was accepted", query);
    if (!strstr(err, want))
        fail_msg("'%s': reason '%s' lacks '%s'", query, err, want);
    assert_null(strchr(err, '\n'));
    listener_policy_free(&p);
    listener_policy_free(&base);
}

static void test_mistakes_name_their_key(void **state)
{
    (void)state;
    fails("alow=10.0.0.0/8", "unknown setting 'alow'");
    fails("allow", "missing '=VALUE' after 'allow'");
    fails("allow=", "empty value for allow");
    fails("=5", "missing setting name");
    fails("max-per-source=4&", "empty setting");
    fails("max-per-source=4&&deny=::1", "empty setting");
    fails("max-per-source=0", "bad max-per-source '0'");
    fails("max-per-source=65536", "bad max-per-source");
    fails("max-per-source=+4", "bad max-per-source");
    fails("source-prefix6=0", "bad source-prefix6");
    fails("source-prefix6=129", "bad source-prefix6");
    fails("connect-rate=fast", "bad connect-rate 'fast'");
    fails("connect-rate=0", "bad connect-rate '0'");
    fails("idle-timeout=0", "bad idle-timeout");
    fails("idle-timeout=soon", "bad idle-timeout");
    fails("request-timeout=0", "bad request-timeout");
    fails("allow=10.0.0.0/33", "bad allow");
    fails("deny=nonsense", "bad deny");
    fails("allow-file=/nonexistent/allow", "bad allow-file");
    fails("a-very-long-key-that-is-no-setting-at-all=1", "unknown setting");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_without_a_key_the_server_wide_values_stay),
        cmocka_unit_test(test_every_key_overrides),
        cmocka_unit_test(test_access_keys_replace_the_server_rules),
        cmocka_unit_test(test_mistakes_name_their_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
