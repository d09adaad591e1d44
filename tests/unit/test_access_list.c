/* core/access_list: the most specific rule wins, deny on a tie, IPv4-mapped
 * addresses are IPv4, and bad input is refused with a reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/access_list.h"

static struct address peer(const char *text)
{
    struct address a;
    memset(&a, 0, sizeof a);
    if (inet_pton(AF_INET, text, &a.u.in.sin_addr) == 1) {
        a.u.in.sin_family = AF_INET;
        a.length = sizeof a.u.in;
    } else {
        assert_int_equal(inet_pton(AF_INET6, text, &a.u.in6.sin6_addr), 1);
        a.u.in6.sin6_family = AF_INET6;
        a.length = sizeof a.u.in6;
    }
    return a;
}

static enum access_verdict judge(const struct access_list *l, const char *text)
{
    struct address a = peer(text);
    return access_list_check(l, &a);
}

static void add(struct access_list *l, const char *text, bool deny)
{
    char err[256] = "";
    if (access_list_add(l, text, deny, err, sizeof err) != 0)
        fail_msg("'%s' refused: %s", text, err);
}

static void test_an_empty_list_allows_everyone(void **state)
{
    (void)state;
    struct access_list l = {0};
    assert_false(access_list_active(&l));
    assert_int_equal(judge(&l, "10.1.2.3"), ACCESS_ALLOWED);
    assert_int_equal(judge(&l, "::1"), ACCESS_ALLOWED);
    assert_int_equal(access_list_check(NULL, NULL), ACCESS_ALLOWED);
}

static void test_deny_alone_refuses_only_its_prefix(void **state)
{
    (void)state;
    struct access_list l = {0};
    add(&l, "127.0.0.2", true);
    assert_int_equal(judge(&l, "127.0.0.2"), ACCESS_DENIED);
    assert_int_equal(judge(&l, "127.0.0.1"), ACCESS_ALLOWED);
    assert_int_equal(judge(&l, "::1"), ACCESS_ALLOWED);
    access_list_free(&l);
}

static void test_any_allow_denies_the_unmatched(void **state)
{
    (void)state;
    struct access_list l = {0};
    add(&l, "10.0.0.0/8", false);
    assert_int_equal(judge(&l, "10.255.0.1"), ACCESS_ALLOWED);
    assert_int_equal(judge(&l, "11.0.0.1"), ACCESS_NOT_ALLOWED);
    assert_int_equal(judge(&l, "::1"), ACCESS_NOT_ALLOWED);
    access_list_free(&l);
}

static void test_the_most_specific_rule_wins_either_way(void **state)
{
    (void)state;
    struct access_list l = {0};
    add(&l, "10.0.0.0/8", false);
    add(&l, "10.1.0.0/16", true);
    add(&l, "10.1.2.0/24", false);
    add(&l, "10.1.2.3/32", true);
    assert_int_equal(judge(&l, "10.9.9.9"), ACCESS_ALLOWED);
    assert_int_equal(judge(&l, "10.1.9.9"), ACCESS_DENIED);
    assert_int_equal(judge(&l, "10.1.2.9"), ACCESS_ALLOWED);
    assert_int_equal(judge(&l, "10.1.2.3"), ACCESS_DENIED);
    access_list_free(&l);
}

static void test_deny_wins_a_tie(void **state)
{
    (void)state;
    struct access_list l = {0};
    add(&l, "192.168.0.0/16", false);
    add(&l, "192.168.0.0/16", true);
    assert_int_equal(judge(&l, "192.168.1.1"), ACCESS_DENIED);
    access_list_free(&l);
}

static void test_slash_zero_matches_everything_of_its_family(void **state)
{
    (void)state;
    struct access_list l = {0};
    add(&l, "0.0.0.0/0", true);
    add(&l, "127.0.0.1", false);
    assert_int_equal(judge(&l, "8.8.8.8"), ACCESS_DENIED);
    assert_int_equal(judge(&l, "127.0.0.1"), ACCESS_ALLOWED);
    assert_int_equal(judge(&l, "2001:db8::1"), ACCESS_NOT_ALLOWED);
    access_list_free(&l);
    add(&l, "::/0", false);
    assert_int_equal(judge(&l, "2001:db8::1"), ACCESS_ALLOWED);
    assert_int_equal(judge(&l, "1.2.3.4"), ACCESS_NOT_ALLOWED);
    access_list_free(&l);
}

static void test_ipv6_prefixes_and_full_length(void **state)
{
    (void)state;
    struct access_list l = {0};
    add(&l, "2001:db8::/32,[::1]/128", false);
    add(&l, "2001:db8:0:1::/63", true);
    assert_int_equal(judge(&l, "2001:db8:ffff::1"), ACCESS_ALLOWED);
    assert_int_equal(judge(&l, "2001:db8:0:1::5"), ACCESS_DENIED);
    assert_int_equal(judge(&l, "2001:db8:0:0::5"), ACCESS_DENIED); /* Same /63. */
    assert_int_equal(judge(&l, "2001:db8:0:2::5"), ACCESS_ALLOWED);
    assert_int_equal(judge(&l, "::1"), ACCESS_ALLOWED);
    assert_int_equal(judge(&l, "::2"), ACCESS_NOT_ALLOWED);
    assert_int_equal(judge(&l, "2001:db9::1"), ACCESS_NOT_ALLOWED);
    access_list_free(&l);
}

static void test_mapped_addresses_are_ipv4_in_rules_and_peers(void **state)
{
    (void)state;
    struct access_list l = {0};
    add(&l, "10.0.0.0/8", false);
    add(&l, "::ffff:10.9.0.0/112", true);
    assert_int_equal(judge(&l, "::ffff:10.1.2.3"), ACCESS_ALLOWED);
    assert_int_equal(judge(&l, "10.9.1.1"), ACCESS_DENIED);
    assert_int_equal(judge(&l, "::ffff:10.9.1.1"), ACCESS_DENIED);
    assert_int_equal(judge(&l, "::ffff:11.0.0.1"), ACCESS_NOT_ALLOWED);
    access_list_free(&l);
}

static void test_host_bits_past_the_prefix_are_ignored(void **state)
{
    (void)state;
    struct access_list l = {0};
    add(&l, "10.1.2.3/8", false);
    assert_int_equal(judge(&l, "10.200.0.1"), ACCESS_ALLOWED);
    access_list_free(&l);
}

static void refused(const char *text, const char *want)
{
    struct access_list l = {0};
    char err[256] = "";
    if (access_list_add(&l, text, false, err, sizeof err) == 0)
        fail_msg("'%s' was accepted", text);
    assert_int_equal(l.count, 0);
    if (!strstr(err, want))
        fail_msg("'%s': reason '%s' lacks '%s'", text, err, want);
    access_list_free(&l);
}

static void test_bad_input_is_refused_and_adds_nothing(void **state)
{
    (void)state;
    refused("", "empty");
    refused("10.0.0.0/8,", "empty item");
    refused("10.0.0.0/8,,::1", "empty item");
    refused("10.0.0.0/33", "longer than the address");
    refused("::/129", "longer than the address");
    refused("10.0.0.0/", "bad prefix");
    refused("10.0.0.0/-1", "bad prefix");
    refused("10.0.0.0/8x", "bad prefix");
    refused("10.0.0.256", "not an IPv4 or IPv6");
    refused("host.example", "not an IPv4 or IPv6");
    refused("10.0.0.0/8,nonsense", "'nonsense'");
    refused("[::1", "unterminated");
    refused("[10.0.0.1]/8", "not an IPv4 or IPv6"); /* Brackets are for IPv6 alone. */
    refused("::ffff:10.0.0.0/95", "/96 or more");
}

static void test_a_file_reads_rules_comments_and_blanks(void **state)
{
    (void)state;
    char path[] = "/tmp/test_access_list_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "# office\n10.0.0.0/8   # the LAN\n\n  ::1\n\t\n192.168.1.1\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    struct access_list l = {0};
    char err[256] = "";
    assert_int_equal(access_list_add_file(&l, path, err, sizeof err), 0);
    assert_int_equal(l.count, 3);
    assert_int_equal(judge(&l, "10.3.3.3"), ACCESS_ALLOWED);
    assert_int_equal(judge(&l, "::1"), ACCESS_ALLOWED);
    assert_int_equal(judge(&l, "192.168.1.2"), ACCESS_NOT_ALLOWED);
    access_list_free(&l);

    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("10.0.0.0/8\n# fine\nnot-an-address\n", f);
    fclose(f);
    assert_int_equal(access_list_add_file(&l, path, err, sizeof err), -1);
    assert_int_equal(l.count, 0);
    char want[128];
    snprintf(want, sizeof want, "%s:3:", path);
    assert_non_null(strstr(err, want));
    unlink(path);
    assert_int_equal(access_list_add_file(&l, path, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot read"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_an_empty_list_allows_everyone),
        cmocka_unit_test(test_deny_alone_refuses_only_its_prefix),
        cmocka_unit_test(test_any_allow_denies_the_unmatched),
        cmocka_unit_test(test_the_most_specific_rule_wins_either_way),
        cmocka_unit_test(test_deny_wins_a_tie),
        cmocka_unit_test(test_slash_zero_matches_everything_of_its_family),
        cmocka_unit_test(test_ipv6_prefixes_and_full_length),
        cmocka_unit_test(test_mapped_addresses_are_ipv4_in_rules_and_peers),
        cmocka_unit_test(test_host_bits_past_the_prefix_are_ignored),
        cmocka_unit_test(test_bad_input_is_refused_and_adds_nothing),
        cmocka_unit_test(test_a_file_reads_rules_comments_and_blanks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
