/* Looking up --user NAME[:GROUP] before anything is bound. (Dropping is
 * tested on a real server: tests/integration/test_user_drops_root_*.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>

#include "core/privileges.h"

static struct privileges got;
static char err[256];

static const struct passwd *nobody_or_skip(void)
{
    const struct passwd *pw = getpwnam("nobody");
    if (!pw)
        skip();
    return pw;
}

static void test_user_alone_takes_its_primary_group(void **state)
{
    (void)state;
    const struct passwd *pw = nobody_or_skip();
    uid_t uid = pw->pw_uid;
    gid_t gid = pw->pw_gid;
    assert_int_equal(privileges_resolve("nobody", &got, err, sizeof(err)), 0);
    assert_int_equal(got.uid, uid);
    assert_int_equal(got.gid, gid);
    assert_string_equal(got.user, "nobody");
    char numeric[32];
    snprintf(numeric, sizeof(numeric), "%u", (unsigned)uid);
    assert_int_equal(privileges_resolve(numeric, &got, err, sizeof(err)), 0);
    assert_int_equal(got.uid, uid);
    assert_string_equal(got.user, "nobody");
}

static void test_group_by_name_or_number(void **state)
{
    (void)state;
    nobody_or_skip();
    /* Debian's group for nobody, and the daemon group: any group but root's. */
    const struct group *gr = getgrgid(1);
    assert_non_null(gr);
    gid_t gid = gr->gr_gid;
    char spec[96];
    snprintf(spec, sizeof(spec), "nobody:%s", gr->gr_name);
    assert_int_equal(privileges_resolve(spec, &got, err, sizeof(err)), 0);
    assert_int_equal(got.gid, gid);
    /* Root's group, by name or number, keeps a privilege: refused. */
    snprintf(spec, sizeof(spec), "nobody:%s", getgrgid(0)->gr_name);
    assert_int_equal(privileges_resolve(spec, &got, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "root's"));
    assert_int_equal(privileges_resolve("nobody:0", &got, err, sizeof(err)), -1);
    /* A group number need not be named in /etc/group. */
    assert_int_equal(privileges_resolve("nobody:54321", &got, err, sizeof(err)), 0);
    assert_int_equal(got.gid, 54321);
    assert_string_equal(got.group, "54321");
}

static void test_unknown_names_root_and_bad_forms_are_refused(void **state)
{
    (void)state;
    nobody_or_skip();
    struct {
        const char *spec, *why;
    } bad[] = {
        {"no-such-user-here", "unknown user 'no-such-user-here'"},
        {"nobody:no-such-group-here", "unknown group 'no-such-group-here'"},
        {"root", "'root' is root: running as root drops nothing"},
        {"0", "'0' is root: running as root drops nothing"},
        {"", "expected NAME or NAME:GROUP"},
        {":nogroup", "expected NAME or NAME:GROUP"},
        {"nobody:", "expected NAME or NAME:GROUP"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        if (privileges_resolve(bad[i].spec, &got, err, sizeof(err)) != -1)
            fail_msg("--user \"%s\" was accepted", bad[i].spec);
        assert_string_equal(err, bad[i].why);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_user_alone_takes_its_primary_group),
        cmocka_unit_test(test_group_by_name_or_number),
        cmocka_unit_test(test_unknown_names_root_and_bad_forms_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
