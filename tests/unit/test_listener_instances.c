/* Service instances as core/listener.h promises them: one per listener
 * spec, shared by every copy of its sockets, destroyed once by the set that
 * made it, and a create that fails stops the set from opening with its
 * reason. Binds real sockets on 127.0.0.1 with port 0. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "core/listener.h"

static int created, destroyed;
static int64_t seen_delay_ms;
static int instances[8]; /* What the fake create hands out. */
static bool fail_create;

static void *fake_create(const struct service_settings *settings, char *err, size_t errlen)
{
    if (fail_create) {
        error_set(err, errlen, "broker unreachable");
        return NULL;
    }
    seen_delay_ms = settings->upper_delay_ms;
    return &instances[created++];
}

static void fake_destroy(void *instance)
{
    assert_ptr_equal(instance, &instances[destroyed]);
    destroyed++;
}

static const struct service stateful = {
    .name = "fake",
    .create = fake_create,
    .destroy = fake_destroy,
};
static const struct service stateless = {.name = "plain"};

static const struct service_config config = {.max_line = 64, .max_output = 1024};
static const struct service_settings settings = {.upper_delay_ms = 250};

static int reset(void **state)
{
    (void)state;
    created = destroyed = 0;
    seen_delay_ms = 0;
    fail_create = false;
    return 0;
}

/* Opens one TCP listener on 127.0.0.1 per service given. */
static int open_set(struct listener_set *set, const struct service *const *services, size_t count,
                    char *err, size_t errlen)
{
    struct endpoint specs[4];
    for (size_t i = 0; i < count; i++) {
        char text[64];
        snprintf(text, sizeof(text), "tcp://127.0.0.1:0/%s", services[i]->name);
        assert_int_equal(endpoint_parse(text, ENDPOINT_LISTEN, &specs[i], NULL, 0), 0);
    }
    return listener_set_open(set, specs, count, services, &config, &settings, err, errlen);
}

static void test_each_listener_gets_an_instance_of_its_own(void **state)
{
    (void)state;
    const struct service *services[] = {&stateful, &stateless, &stateful};
    struct listener_set set = {0};
    char err[256];
    assert_int_equal(open_set(&set, services, 3, err, sizeof(err)), 0);
    assert_int_equal(set.count, 3);
    assert_int_equal(created, 2);
    assert_int_equal(seen_delay_ms, 250);
    assert_ptr_equal(set.items[0].instance, &instances[0]);
    assert_null(set.items[1].instance);
    assert_ptr_equal(set.items[2].instance, &instances[1]);
    listener_set_free(&set);
    assert_int_equal(destroyed, 2);
}

static void test_copies_share_the_instance_and_only_the_maker_destroys_it(void **state)
{
    (void)state;
    const struct service *services[] = {&stateful};
    struct listener_set set = {.reuseport = true};
    char err[256];
    assert_int_equal(open_set(&set, services, 1, err, sizeof(err)), 0);
    for (int share = 0; share <= 1; share++) {
        struct listener_set copy = {0};
        assert_int_equal(listener_set_copy(&copy, &set, share, err, sizeof(err)), 0);
        assert_int_equal(copy.count, 1);
        assert_ptr_equal(copy.items[0].instance, set.items[0].instance);
        listener_set_free(&copy);
        assert_int_equal(destroyed, 0);
    }
    assert_int_equal(created, 1);
    listener_set_free(&set);
    assert_int_equal(destroyed, 1);
}

static void test_a_failed_create_names_the_listener_and_its_reason(void **state)
{
    (void)state;
    const struct service *services[] = {&stateful};
    struct listener_set set = {0};
    char err[256] = "";
    fail_create = true;
    assert_int_equal(open_set(&set, services, 1, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "cannot start tcp://127.0.0.1:"));
    assert_non_null(strstr(err, "/fake: broker unreachable"));
    listener_set_free(&set);
    assert_int_equal(destroyed, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_each_listener_gets_an_instance_of_its_own, reset),
        cmocka_unit_test_setup(test_copies_share_the_instance_and_only_the_maker_destroys_it,
                               reset),
        cmocka_unit_test_setup(test_a_failed_create_names_the_listener_and_its_reason, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
