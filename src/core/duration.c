/*
 * Duration parsing and formatting.
 *
 * All arithmetic is done in whole microseconds with int64_t: there is no
 * floating point to round "0.1s" into 99 ms, and every bound is checked before
 * the multiplication or addition that could pass it.
 */
#include "core/duration.h"
#include "core/error.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define US_PER_MS 1000LL
#define MAX_US (DURATION_MAX_MS * US_PER_MS)

/*
 * Fractions keep nine digits, enough for a microsecond of an hour (3.6e9 us
 * per hour needs ten), while nine digits times the largest unit still fits in
 * an int64_t. Digits past the ninth only matter for rounding up.
 */
#define FRACTION_DIGITS 9
#define FRACTION_SCALE 1000000000LL

/* Units longer than this are not echoed back, and neither is binary junk. */
#define UNIT_ECHO_MAX 8

#define UNIT_HELP "(use us, ms, s, m or h)"

/* What a duration looks like, for text that is not one at all. */
#define NOT_A_DURATION "not a duration (write a number and a unit: 500ms, .5s, 5s, 1.5m, 1h)"

struct unit {
    const char *name;
    int64_t us;
};

static const struct unit units[] = {
    {"us", 1LL},
    {"ms", 1000LL},
    {"s", 1000LL * 1000},
    {"m", 60LL * 1000 * 1000},
    {"h", 3600LL * 1000 * 1000},
};

/* A number as written: its integer part and up to nine fraction digits. */
struct number {
    int64_t whole;
    int64_t fraction;   /* Scaled by FRACTION_SCALE. */
    bool fraction_rest; /* A nonzero digit past the ninth was dropped. */
};

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Reads digits[.digits] or .digits at *p. Fails only on a number too large
 * for any unit, or a '.' with no digit after it. */
static int read_number(const char **p, struct number *n, char *err, size_t errlen)
{
    const char *s = *p;
    memset(n, 0, sizeof *n);
    for (; is_digit(*s); s++) {
        /* Nothing above MAX_US is valid in any unit, microseconds included. */
        n->whole = n->whole * 10 + (*s - '0');
        if (n->whole > MAX_US)
            return error_set(err, errlen, "duration too large (at most one week)");
    }
    if (*s == '.') {
        s++;
        if (!is_digit(*s))
            return error_set(err, errlen, "expected digits after '.'");
        int64_t scale = FRACTION_SCALE;
        for (; is_digit(*s); s++) {
            if (scale > 1) {
                scale /= 10;
                n->fraction += (*s - '0') * scale;
            } else if (*s != '0') {
                n->fraction_rest = true;
            }
        }
    }
    *p = s;
    return 0;
}

/* Finds the unit token at *p: everything up to the next number or the end. */
static int read_unit(const char **p, const struct unit **unit, char *err, size_t errlen)
{
    const char *start = *p;
    size_t len = 0;
    bool printable = true;
    while (start[len] != '\0' && !is_digit(start[len]) && start[len] != '.') {
        unsigned char c = (unsigned char)start[len];
        if (isspace(c))
            return error_set(err, errlen, "unexpected space (write \"5s\", not \"5 s\")");
        if (!isprint(c))
            printable = false;
        len++;
    }
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strlen(units[i].name) == len && memcmp(units[i].name, start, len) == 0) {
            *unit = &units[i];
            *p = start + len;
            return 0;
        }
    }
    if (printable && len <= UNIT_ECHO_MAX)
        return error_set(err, errlen, "unknown unit '%.*s' " UNIT_HELP, (int)len, start);
    return error_set(err, errlen, "unknown unit " UNIT_HELP);
}

/* The value of n in unit, in microseconds rounded up, or -1 when too large. */
static int64_t term_us(const struct number *n, const struct unit *unit)
{
    if (n->whole > MAX_US / unit->us)
        return -1;
    int64_t scaled = n->fraction * unit->us; /* < 1e9 * 3.6e9, fits. */
    int64_t fraction_us = scaled / FRACTION_SCALE;
    if (scaled % FRACTION_SCALE != 0 || n->fraction_rest)
        fraction_us++;
    return n->whole * unit->us + fraction_us;
}

int duration_parse(const char *text, int64_t *out_ms, char *err, size_t errlen)
{
    if (text == NULL || text[0] == '\0')
        return error_set(err, errlen, "empty duration");
    if (text[0] == '-')
        return error_set(err, errlen, "negative durations are not allowed");

    /*
     * Terms may be chained, as in "1m30s", so that what duration_format writes
     * reads back. A bare number is seconds only when it stands alone.
     */
    const char *p = text;
    int64_t total_us = 0;
    while (*p != '\0') {
        const char *term = p;
        /* ".5s" is half a second, as "0.5s" is; a lone "." is no number. */
        if (!is_digit(*p) && !(*p == '.' && is_digit(p[1])))
            return error_set(err, errlen, NOT_A_DURATION);
        struct number n;
        if (read_number(&p, &n, err, errlen) != 0)
            return -1;
        const struct unit *unit = NULL;
        if (*p == '\0' && term == text) {
            unit = &units[2]; /* Seconds, as sleep(1) reads a bare number. */
        } else if (*p == '\0') {
            return error_set(err, errlen, "missing unit after the last number " UNIT_HELP);
        } else if (*p == '.') {
            return error_set(err, errlen, NOT_A_DURATION);
        } else if (read_unit(&p, &unit, err, errlen) != 0) {
            return -1;
        }
        int64_t us = term_us(&n, unit);
        /* Both are at most a few hours past MAX_US, so the sum cannot overflow. */
        if (us < 0 || total_us + us > MAX_US)
            return error_set(err, errlen, "duration too large (at most one week)");
        total_us += us;
    }
    *out_ms = (total_us + US_PER_MS - 1) / US_PER_MS;
    return 0;
}

/* Appends to buf at *used; stops quietly once buf is full. */
static void append(char *buf, size_t buflen, size_t *used, uint64_t value, const char *unit)
{
    if (*used >= buflen)
        return;
    int n = snprintf(buf + *used, buflen - *used, "%" PRIu64 "%s", value, unit);
    if (n < 0 || (size_t)n >= buflen - *used)
        *used = buflen;
    else
        *used += (size_t)n;
}

void duration_format(int64_t ms, char *buf, size_t buflen)
{
    if (buf == NULL || buflen == 0)
        return;
    buf[0] = '\0';
    size_t used = 0;
    uint64_t rest = (uint64_t)ms;
    if (ms < 0) {
        /* Not a valid duration, but a log line should still show it truthfully. */
        snprintf(buf, buflen, "-");
        used = 1;
        rest = (uint64_t)0 - (uint64_t)ms;
    }
    if (rest == 0) {
        append(buf, buflen, &used, 0, "ms");
        return;
    }
    static const struct {
        uint64_t ms;
        const char *name;
    } parts[] = {{3600000, "h"}, {60000, "m"}, {1000, "s"}, {1, "ms"}};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        uint64_t count = rest / parts[i].ms;
        rest %= parts[i].ms;
        if (count > 0)
            append(buf, buflen, &used, count, parts[i].name);
    }
}
