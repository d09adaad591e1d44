/*
 * A listener's own settings, read from its query (see listener_query.h).
 * To add a key: a function that parses its value into the policy, and one
 * row in keys[] below; messages name it from the table.
 */
#include "core/listener_query.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/duration.h"
#include "core/error.h"
#include "core/udp_guard.h"

#define KEY_MAX 32
#define ECHO_MAX 64

/* What applying one query keeps between its items. */
struct query_state {
    bool own_access; /* The server-wide rules were dropped for the query's. */
};

struct query_key {
    const char *name;
    int (*apply)(const char *value, struct listener_policy *policy, struct query_state *state,
                 char *err, size_t errlen);
};

/* ---- Values ---------------------------------------------------------------- */

/* Digits only, 1..max. */
static bool parse_whole(const char *text, unsigned long max, unsigned long *out)
{
    size_t len = strspn(text, "0123456789");
    if (len == 0 || text[len] != '\0' || len > 10)
        return false;
    unsigned long long v = strtoull(text, NULL, 10);
    if (v < 1 || v > max)
        return false;
    *out = (unsigned long)v;
    return true;
}

int limit_parse_max_per_source(const char *text, uint32_t *out, char *err, size_t errlen)
{
    unsigned long v;
    if (strcmp(text, "off") == 0) {
        *out = 0;
        return 0;
    }
    if (!parse_whole(text, SOURCE_MAX_PER_SOURCE_CEILING, &v))
        return error_set(err, errlen, "expected a whole number from 1 to %d, or off",
                         SOURCE_MAX_PER_SOURCE_CEILING);
    *out = (uint32_t)v;
    return 0;
}

int limit_parse_prefix6(const char *text, unsigned *out, char *err, size_t errlen)
{
    unsigned long v;
    if (!parse_whole(text, 128, &v))
        return error_set(err, errlen, "expected prefix bits from 1 to 128 (default %d)",
                         SOURCE_PREFIX6_DEFAULT);
    *out = (unsigned)v;
    return 0;
}

int limit_parse_connect_rate(const char *text, struct source_settings *out, char *err,
                             size_t errlen)
{
    struct udp_rate rate;
    char why[128];
    /* "0" would read as off there; here a rate of 0 is a mistake. */
    if (udp_rate_parse(text, &rate, why, sizeof why) != 0 ||
        (rate.per_second == 0 && strcmp(text, "off") != 0))
        return error_set(err, errlen,
                         "expected RATE or RATE/BURST (connections per second, from 1) or off");
    out->rate_per_second = rate.per_second;
    out->burst = rate.burst;
    return 0;
}

int limit_parse_timeout(const char *text, int64_t *out_ms, char *err, size_t errlen)
{
    char why[128];
    int64_t ms;
    if (strcmp(text, "off") == 0) {
        *out_ms = 0;
        return 0;
    }
    if (duration_parse(text, &ms, why, sizeof why) != 0 || ms == 0)
        return error_set(err, errlen, "expected a duration above 0 (e.g. 30s, 10m) or off");
    *out_ms = ms;
    return 0;
}

/* ---- Keys ------------------------------------------------------------------ */

/* The first access key of a query drops the server-wide rules. */
static void take_own_access(struct listener_policy *policy, struct query_state *state)
{
    if (!state->own_access) {
        access_list_free(&policy->access);
        state->own_access = true;
    }
}

static int apply_allow(const char *value, struct listener_policy *policy, struct query_state *state,
                       char *err, size_t errlen)
{
    take_own_access(policy, state);
    return access_list_add(&policy->access, value, false, err, errlen);
}

static int apply_deny(const char *value, struct listener_policy *policy, struct query_state *state,
                      char *err, size_t errlen)
{
    take_own_access(policy, state);
    return access_list_add(&policy->access, value, true, err, errlen);
}

static int apply_allow_file(const char *value, struct listener_policy *policy,
                            struct query_state *state, char *err, size_t errlen)
{
    take_own_access(policy, state);
    return access_list_add_file(&policy->access, value, err, errlen);
}

static int apply_max_per_source(const char *value, struct listener_policy *policy,
                                struct query_state *state, char *err, size_t errlen)
{
    (void)state;
    return limit_parse_max_per_source(value, &policy->sources.max_per_source, err, errlen);
}

static int apply_source_prefix6(const char *value, struct listener_policy *policy,
                                struct query_state *state, char *err, size_t errlen)
{
    (void)state;
    return limit_parse_prefix6(value, &policy->sources.prefix6, err, errlen);
}

static int apply_connect_rate(const char *value, struct listener_policy *policy,
                              struct query_state *state, char *err, size_t errlen)
{
    (void)state;
    return limit_parse_connect_rate(value, &policy->sources, err, errlen);
}

static int apply_idle_timeout(const char *value, struct listener_policy *policy,
                              struct query_state *state, char *err, size_t errlen)
{
    (void)state;
    return limit_parse_timeout(value, &policy->config.idle_timeout_ms, err, errlen);
}

static int apply_request_timeout(const char *value, struct listener_policy *policy,
                                 struct query_state *state, char *err, size_t errlen)
{
    (void)state;
    return limit_parse_timeout(value, &policy->config.request_timeout_ms, err, errlen);
}

static const struct query_key keys[] = {
    {"allow", apply_allow},
    {"deny", apply_deny},
    {"allow-file", apply_allow_file},
    {"max-per-source", apply_max_per_source},
    {"source-prefix6", apply_source_prefix6},
    {"connect-rate", apply_connect_rate},
    {"idle-timeout", apply_idle_timeout},
    {"request-timeout", apply_request_timeout},
};

/* ---- The query ------------------------------------------------------------- */

static const struct query_key *find_key(const char *name)
{
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (strcmp(keys[i].name, name) == 0)
            return &keys[i];
    return NULL;
}

/* "allow, deny, ... or idle-timeout", from the table, so a new row is
 * named without another edit. */
static const char *known_keys(char *buf, size_t buflen)
{
    size_t count = sizeof keys / sizeof keys[0], used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < count && used < buflen; i++) {
        const char *sep = i == 0 ? "" : i + 1 == count ? " or " : ", ";
        int n = snprintf(buf + used, buflen - used, "%s%s", sep, keys[i].name);
        if (n < 0)
            break;
        used += (size_t)n;
    }
    return buf;
}

/* Applies one "KEY=VALUE" item of len characters. */
static int apply_item(const char *item, size_t len, struct listener_policy *policy,
                      struct query_state *state, char *err, size_t errlen)
{
    if (len == 0)
        return error_set(err, errlen, "empty setting (expected KEY=VALUE joined by '&')");
    const char *equals = memchr(item, '=', len);
    size_t key_len = equals ? (size_t)(equals - item) : len;
    char key[KEY_MAX];
    if (key_len == 0)
        return error_set(err, errlen, "missing setting name before '='");
    if (key_len >= sizeof key)
        return error_set(err, errlen, "unknown setting '%.*s...'", KEY_MAX / 2, item);
    memcpy(key, item, key_len);
    key[key_len] = '\0';
    const struct query_key *k = find_key(key);
    if (!k) {
        char known[256];
        return error_set(err, errlen, "unknown setting '%s' (use %s)", key,
                         known_keys(known, sizeof known));
    }
    if (!equals)
        return error_set(err, errlen, "missing '=VALUE' after '%s'", key);
    size_t value_len = len - key_len - 1;
    if (value_len == 0)
        return error_set(err, errlen, "empty value for %s", key);
    char *value = malloc(value_len + 1);
    if (!value)
        return error_set(err, errlen, "out of memory");
    memcpy(value, equals + 1, value_len);
    value[value_len] = '\0';
    char why[256];
    int rc = k->apply(value, policy, state, why, sizeof why);
    if (rc != 0)
        error_set(err, errlen, "bad %s '%.*s%s': %s", key, ECHO_MAX, value,
                  value_len > ECHO_MAX ? "..." : "", why);
    free(value);
    return rc;
}

int listener_query_apply(const char *query, struct listener_policy *policy, char *err,
                         size_t errlen)
{
    struct query_state state = {0};
    const char *p = query;
    for (;;) {
        size_t len = strcspn(p, "&");
        if (apply_item(p, len, policy, &state, err, errlen) != 0)
            return -1;
        if (p[len] == '\0')
            return 0;
        p += len + 1;
    }
}

int listener_policy_copy(struct listener_policy *dst, const struct listener_policy *src, char *err,
                         size_t errlen)
{
    *dst = *src;
    dst->access = (struct access_list){0};
    return access_list_merge(&dst->access, &src->access, err, errlen);
}

void listener_policy_free(struct listener_policy *policy)
{
    access_list_free(&policy->access);
}
