/*
 * A listener's own settings: the query after its service,
 * "tcp://[::]:7007/echo?allow=10.0.0.0/8,::1&max-per-source=4&connect-rate=5/10".
 *
 * The query is KEY=VALUE items joined by '&'. Each key is one row of a
 * table in listener_query.c, so a new setting is one row and one small
 * function. A value overrides the server-wide option of the same name for
 * this listener alone; what the query leaves out stays as the server-wide
 * options set it. The access keys (allow, deny, allow-file) replace the
 * server-wide rules as a whole: a listener that names any of them is
 * judged by its own rules only.
 *
 * Keys: allow, deny (CIDRs, comma-separated, repeatable), allow-file (a
 * path), max-per-source (N or off), source-prefix6 (1..128),
 * connect-rate (R[/BURST] or off), idle-timeout and request-timeout (a
 * duration or off).
 *
 * The value parsers below are shared with the command line, which words
 * the same reasons under the option's name.
 */
#ifndef SOCKSERV_LISTENER_QUERY_H
#define SOCKSERV_LISTENER_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include "core/access_list.h"
#include "core/service.h"
#include "core/source_limits.h"

/* Everything one listener spec runs under. */
struct listener_policy {
    struct service_config config;   /* What its connections obey. */
    struct access_list access;      /* Who it serves. */
    struct source_settings sources; /* Per-source limits. */
};

/* Makes dst a copy of src, deep (dst's access list is its own). Returns 0,
 * or -1 with a reason in err. */
int listener_policy_copy(struct listener_policy *dst, const struct listener_policy *src, char *err,
                         size_t errlen);

void listener_policy_free(struct listener_policy *policy);

/*
 * Applies query (the text after '?', without it) to policy. Returns 0, or
 * -1 with a one-line reason naming the key in err ("unknown setting
 * 'alow'", "bad max-per-source 'x': expected ..."); on failure policy may
 * be half-applied, and is only fit to be freed.
 */
int listener_query_apply(const char *query, struct listener_policy *policy, char *err,
                         size_t errlen);

/* Value parsers: 0, or -1 with "expected ..." in err. */
int limit_parse_max_per_source(const char *text, uint32_t *out, char *err, size_t errlen);
int limit_parse_prefix6(const char *text, unsigned *out, char *err, size_t errlen);
int limit_parse_connect_rate(const char *text, struct source_settings *out, char *err,
                             size_t errlen);
/* --idle-timeout and --request-timeout: a duration above 0, or off (0). */
int limit_parse_timeout(const char *text, int64_t *out_ms, char *err, size_t errlen);

#endif
