/*
 * Access lists: which client addresses a listener serves (--allow, --deny,
 * --allow-file, and their per-listener forms).
 *
 * A list is a set of rules, each an address prefix (CIDR) that allows or
 * denies. A peer is judged by the most specific rule whose prefix holds it
 * (the longest prefix); when an allow and a deny of the same prefix both
 * match, deny wins. A peer no rule matches is allowed, unless the list has
 * any allow rule at all, in which case it is denied ("with any allow given,
 * everything else is denied"). An empty list allows everyone.
 *
 * IPv4-mapped IPv6 addresses (::ffff:10.0.0.1), whether in a rule or a
 * peer, are taken as the IPv4 address they carry, so one rule covers a
 * client whether it reached a dual-stack or an IPv4 socket.
 *
 * This module is pure: it parses text and answers questions, and only
 * access_list_add_file touches the file system. Rules are kept in an array
 * bounded by ACCESS_LIST_MAX_RULES; a check walks it once.
 */
#ifndef SOCKSERV_ACCESS_LIST_H
#define SOCKSERV_ACCESS_LIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/address.h"

/* Beyond this the list is refused: a check is a walk over every rule. */
#define ACCESS_LIST_MAX_RULES 4096

struct access_rule {
    uint8_t bytes[16]; /* Network byte order; IPv4 in the first 4. */
    uint8_t prefix;    /* Bits that must match: 0..32 or 0..128. */
    bool v6;
    bool deny;
};

struct access_list {
    struct access_rule *rules;
    size_t count, capacity;
    bool has_allow;
};

enum access_verdict {
    ACCESS_ALLOWED,
    ACCESS_DENIED,      /* A deny rule was the most specific match. */
    ACCESS_NOT_ALLOWED, /* Allow rules exist and none matched. */
};

/* Parses one CIDR or bare address ("10.0.0.0/8", "::1", "[::1]/128",
 * "::ffff:10.0.0.0/104") into rule. Returns 0, or -1 with a one-line
 * reason in err. */
int access_rule_parse(const char *text, bool deny, struct access_rule *rule, char *err,
                      size_t errlen);

/* Adds every rule of a comma-separated list ("10.0.0.0/8,::1"); empty
 * items are refused. On failure nothing is added and err names the bad
 * item. */
int access_list_add(struct access_list *list, const char *text, bool deny, char *err,
                    size_t errlen);

/* Adds the allow rules of a file: one CIDR or address per line, '#'
 * starts a comment, blank lines are skipped. On failure nothing is added
 * and err says "FILE:LINE: reason" (or why the file cannot be read). */
int access_list_add_file(struct access_list *list, const char *path, char *err, size_t errlen);

/* Appends every rule of src to list; -1 (with err) when it would not fit. */
int access_list_merge(struct access_list *list, const struct access_list *src, char *err,
                      size_t errlen);

/* The verdict for peer (its port is ignored). A family the list cannot
 * judge (neither IPv4 nor IPv6) is allowed only when the list has no
 * allow rule. */
enum access_verdict access_list_check(const struct access_list *list, const struct address *peer);

/* True when the list has a rule: an empty list needs no check. */
bool access_list_active(const struct access_list *list);

void access_list_free(struct access_list *list);

#endif
