/* Access lists: parsing CIDR text and judging peers by the longest match. */
#include "core/access_list.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

/* An address with its prefix, as text: "[" + IPv6 + "]/128". */
#define RULE_TEXT_MAX (INET6_ADDRSTRLEN + 8)
/* A line of an allow file longer than this is a mistake, not a rule. */
#define FILE_LINE_MAX 512
#define ECHO_MAX 64

/* Clears every bit past prefix, so a rule compares whole bytes. */
static void mask_bytes(uint8_t *bytes, unsigned prefix, unsigned total_bits)
{
    for (unsigned bit = prefix; bit < total_bits; bit++)
        bytes[bit / 8] &= (uint8_t) ~(0x80u >> (bit % 8));
}

static bool is_printable(const char *s)
{
    for (; *s; s++)
        if (!isprint((unsigned char)*s))
            return false;
    return true;
}

/* Reads "/N" (or nothing: the whole address) into *prefix. */
static int parse_prefix(const char *slash, unsigned max, unsigned *prefix, char *err, size_t errlen)
{
    if (slash == NULL) {
        *prefix = max;
        return 0;
    }
    const char *digits = slash + 1;
    size_t len = strspn(digits, "0123456789");
    if (len == 0 || digits[len] != '\0' || len > 3)
        return error_set(err, errlen, "bad prefix length (expected /0 to /%u)", max);
    unsigned value = (unsigned)strtoul(digits, NULL, 10);
    if (value > max)
        return error_set(err, errlen, "prefix /%u longer than the address (at most /%u)", value,
                         max);
    *prefix = value;
    return 0;
}

int access_rule_parse(const char *text, bool deny, struct access_rule *rule, char *err,
                      size_t errlen)
{
    size_t len = strlen(text);
    if (len == 0)
        return error_set(err, errlen, "empty address");
    if (len >= RULE_TEXT_MAX || !is_printable(text))
        return error_set(err, errlen, "not an address or CIDR");
    char host[RULE_TEXT_MAX];
    memcpy(host, text, len + 1);
    char *slash = strchr(host, '/');
    if (slash)
        *slash = '\0';
    char *address = host;
    bool bracketed = address[0] == '[';
    /* "[::1]" and "[::1]/128", as listeners write IPv6. */
    if (bracketed) {
        size_t end = strlen(address);
        if (end < 2 || address[end - 1] != ']')
            return error_set(err, errlen, "unterminated '[' in '%.*s'", ECHO_MAX, text);
        address[end - 1] = '\0';
        address++;
    }
    struct access_rule r = {.deny = deny};
    unsigned prefix;
    if (!bracketed && inet_pton(AF_INET, address, r.bytes) == 1) {
        if (parse_prefix(slash ? text + (slash - host) : NULL, 32, &prefix, err, errlen) != 0)
            return -1;
    } else if (inet_pton(AF_INET6, address, r.bytes) == 1) {
        r.v6 = true;
        if (parse_prefix(slash ? text + (slash - host) : NULL, 128, &prefix, err, errlen) != 0)
            return -1;
        if (address_bytes_are_v4_mapped(r.bytes)) {
            /* ::ffff:a.b.c.d/N is the IPv4 rule a.b.c.d/(N-96). */
            if (prefix < 96)
                return error_set(err, errlen,
                                 "an IPv4-mapped address needs a prefix of /96 or more");
            memmove(r.bytes, r.bytes + 12, 4);
            memset(r.bytes + 4, 0, 12);
            r.v6 = false;
            prefix -= 96;
        }
    } else {
        return error_set(err, errlen, "'%.*s' is not an IPv4 or IPv6 address", ECHO_MAX, address);
    }
    r.prefix = (uint8_t)prefix;
    mask_bytes(r.bytes, prefix, r.v6 ? 128 : 32);
    *rule = r;
    return 0;
}

static int reserve(struct access_list *list, size_t more, char *err, size_t errlen)
{
    if (list->count + more > ACCESS_LIST_MAX_RULES)
        return error_set(err, errlen, "more than %d rules", ACCESS_LIST_MAX_RULES);
    if (list->count + more <= list->capacity)
        return 0;
    size_t capacity = list->capacity ? list->capacity : 8;
    while (capacity < list->count + more)
        capacity *= 2;
    struct access_rule *grown = realloc(list->rules, capacity * sizeof(*grown));
    if (!grown)
        return error_set(err, errlen, "out of memory");
    list->rules = grown;
    list->capacity = capacity;
    return 0;
}

static void append_rule(struct access_list *list, const struct access_rule *rule)
{
    list->rules[list->count++] = *rule;
    list->has_allow = list->has_allow || !rule->deny;
}

int access_list_add(struct access_list *list, const char *text, bool deny, char *err, size_t errlen)
{
    size_t items = 1;
    for (const char *p = text; *p; p++)
        items += *p == ',';
    if (reserve(list, items, err, errlen) != 0)
        return -1;
    /* Parse into the reserved tail first, so a bad item adds nothing. */
    size_t first = list->count;
    const char *p = text;
    for (size_t i = 0; i < items; i++) {
        size_t len = strcspn(p, ",");
        char item[RULE_TEXT_MAX];
        /* Only printable text is echoed back: the reason is one clean line. */
        if (len == 0)
            return error_set(err, errlen, "empty item in '%.*s'", ECHO_MAX,
                             is_printable(text) ? text : "?");
        if (len >= sizeof item)
            return error_set(err, errlen, "an item is not an address or CIDR (too long)");
        memcpy(item, p, len);
        item[len] = '\0';
        char why[160];
        if (access_rule_parse(item, deny, &list->rules[first + i], why, sizeof why) != 0)
            return items == 1
                       ? error_set(err, errlen, "%s", why)
                       : error_set(err, errlen, "'%s': %s", is_printable(item) ? item : "?", why);
        p += len + (p[len] == ',');
    }
    for (size_t i = 0; i < items; i++)
        list->has_allow = list->has_allow || !list->rules[first + i].deny;
    list->count += items;
    return 0;
}

/* One line of an allow file, comments and surrounding blanks removed:
 * NULL when nothing is left. */
static char *rule_text_of_line(char *line)
{
    line[strcspn(line, "#\r\n")] = '\0';
    while (*line == ' ' || *line == '\t')
        line++;
    size_t len = strlen(line);
    while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t'))
        line[--len] = '\0';
    return len > 0 ? line : NULL;
}

int access_list_add_file(struct access_list *list, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return error_set(err, errlen, "cannot read %s: %s", path, strerror(errno));
    struct access_list found = {0};
    char line[FILE_LINE_MAX + 2];
    unsigned number = 0;
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        number++;
        if (strchr(line, '\n') == NULL && !feof(f)) {
            rc = error_set(err, errlen, "%s:%u: line longer than %d characters", path, number,
                           FILE_LINE_MAX);
            break;
        }
        char *text = rule_text_of_line(line);
        struct access_rule rule;
        char why[160];
        if (!text)
            continue;
        if (access_rule_parse(text, false, &rule, why, sizeof why) != 0)
            rc = error_set(err, errlen, "%s:%u: %s", path, number, why);
        else if (reserve(&found, 1, why, sizeof why) != 0)
            rc = error_set(err, errlen, "%s:%u: %s", path, number, why);
        else
            append_rule(&found, &rule);
    }
    if (rc == 0 && ferror(f))
        rc = error_set(err, errlen, "cannot read %s: %s", path, strerror(errno));
    fclose(f);
    if (rc == 0)
        rc = access_list_merge(list, &found, err, errlen);
    access_list_free(&found);
    return rc;
}

int access_list_merge(struct access_list *list, const struct access_list *src, char *err,
                      size_t errlen)
{
    if (src->count == 0)
        return 0;
    if (reserve(list, src->count, err, errlen) != 0)
        return -1;
    for (size_t i = 0; i < src->count; i++)
        append_rule(list, &src->rules[i]);
    return 0;
}

/* The peer's address as rule bytes: false for a family no rule can hold. */
static bool rule_matches(const struct access_rule *r, const uint8_t bytes[16], bool v6)
{
    if (r->v6 != v6)
        return false;
    unsigned whole = r->prefix / 8, rest = r->prefix % 8;
    if (memcmp(r->bytes, bytes, whole) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xffu << (8 - rest));
    return (bytes[whole] & mask) == r->bytes[whole];
}

enum access_verdict access_list_check(const struct access_list *list, const struct address *peer)
{
    if (list == NULL || list->count == 0)
        return ACCESS_ALLOWED;
    uint8_t bytes[16];
    bool v6;
    if (!address_host_bytes(peer, bytes, &v6))
        return list->has_allow ? ACCESS_NOT_ALLOWED : ACCESS_ALLOWED;
    int best = -1;
    bool best_deny = false;
    for (size_t i = 0; i < list->count; i++) {
        const struct access_rule *r = &list->rules[i];
        if (!rule_matches(r, bytes, v6))
            continue;
        if ((int)r->prefix > best || ((int)r->prefix == best && r->deny)) {
            best = r->prefix;
            best_deny = r->deny;
        }
    }
    if (best < 0)
        return list->has_allow ? ACCESS_NOT_ALLOWED : ACCESS_ALLOWED;
    return best_deny ? ACCESS_DENIED : ACCESS_ALLOWED;
}

bool access_list_active(const struct access_list *list)
{
    return list != NULL && list->count > 0;
}

void access_list_free(struct access_list *list)
{
    free(list->rules);
    *list = (struct access_list){0};
}
