#include "core/log_line.h"

#include <string.h>

#include "core/json.h"

/* Kept back at the end of the buffer while writing, so a JSON line can
 * always be closed ("\"}" and the newline) however long its fields are. */
#define CLOSING_ROOM 4

/* A line being written: appends stop quietly once it is full. */
struct line {
    char *buf;
    size_t cap; /* Usable room, CLOSING_ROOM kept back. */
    size_t len;
};

static void put(struct line *l, const char *s, size_t n)
{
    if (n > l->cap - l->len)
        n = l->cap - l->len;
    memcpy(l->buf + l->len, s, n);
    l->len += n;
}

static void put_str(struct line *l, const char *s)
{
    put(l, s, strlen(s));
}

static void put_unsigned(struct line *l, uint64_t v)
{
    char digits[20];
    size_t n = 0;
    do {
        digits[sizeof(digits) - 1 - n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    put(l, digits + sizeof(digits) - n, n);
}

static void put_signed(struct line *l, int64_t v)
{
    if (v < 0) {
        put_str(l, "-");
        put_unsigned(l, (uint64_t)0 - (uint64_t)v);
    } else {
        put_unsigned(l, (uint64_t)v);
    }
}

/* A JSON string, quotes included; cut inside the quotes when it does not
 * fit, and then the closing quote takes the kept-back room. */
static void put_json_string(struct line *l, const char *s)
{
    put_str(l, "\"");
    l->len += json_escape(s, strlen(s), l->buf + l->len, l->cap - l->len, NULL);
    if (l->len == l->cap)
        l->cap++; /* Out of room: the quote borrows from CLOSING_ROOM. */
    put_str(l, "\"");
}

/* The padded decimal of v in width digits. */
static void put_padded(char *out, unsigned v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        out[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

size_t log_time_format(int64_t unix_ms, char out[LOG_TIME_MAX])
{
    /* Years 0 to 9999 fit RFC 3339's four digits. */
    const int64_t min_ms = -62167219200000LL, max_ms = 253402300799999LL;
    if (unix_ms < min_ms)
        unix_ms = min_ms;
    if (unix_ms > max_ms)
        unix_ms = max_ms;
    int64_t ms_of_day = unix_ms % 86400000;
    int64_t days = unix_ms / 86400000;
    if (ms_of_day < 0) {
        ms_of_day += 86400000;
        days--;
    }
    /* Days since 1970 to a civil date: Howard Hinnant's days_from_civil,
     * inverted (public domain), exact for the proleptic Gregorian calendar. */
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    unsigned day = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    unsigned month = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    unsigned year = (unsigned)(yoe + era * 400 + (month <= 2));
    unsigned ms = (unsigned)ms_of_day;
    memcpy(out, "0000-00-00T00:00:00.000Z", 25);
    put_padded(out, year, 4);
    put_padded(out + 5, month, 2);
    put_padded(out + 8, day, 2);
    put_padded(out + 11, ms / 3600000, 2);
    put_padded(out + 14, ms / 60000 % 60, 2);
    put_padded(out + 17, ms / 1000 % 60, 2);
    put_padded(out + 20, ms % 1000, 3);
    return 24;
}

const char *log_level_name(enum log_level level)
{
    switch (level) {
    case LOG_ERROR:
        return "error";
    case LOG_WARN:
        return "warning";
    case LOG_INFO:
        return "info";
    case LOG_DEBUG:
        break;
    }
    return "debug";
}

/* sd-daemon(3)'s SD_ERR, SD_WARNING, SD_INFO, SD_DEBUG. */
static const char *journal_prefix(enum log_level level)
{
    static const char *const prefixes[] = {"<3>", "<4>", "<6>", "<7>"};
    return prefixes[level <= LOG_DEBUG ? level : LOG_DEBUG];
}

static void put_text_line(struct line *l, enum log_level level, const char *msg)
{
    put_str(l, "sockserv: ");
    if (level == LOG_ERROR)
        put_str(l, "error: ");
    else if (level == LOG_WARN)
        put_str(l, "warning: ");
    put_str(l, msg);
}

static void put_json_line(struct line *l, const char *time, enum log_level level, long pid,
                          const char *msg, const struct log_field *fields, size_t field_count)
{
    put_str(l, "{");
    if (time) {
        put_str(l, "\"time\":\"");
        put_str(l, time);
        put_str(l, "\",");
    }
    put_str(l, "\"level\":\"");
    put_str(l, log_level_name(level));
    put_str(l, "\",\"pid\":");
    put_signed(l, pid);
    put_str(l, ",\"msg\":");
    put_json_string(l, msg);
    for (size_t i = 0; i < field_count; i++) {
        const struct log_field *f = &fields[i];
        if (f->type == LOG_FIELD_TEXT && !f->value.text)
            continue;
        /* A member is written only whole: a number cut short would be a
         * different number. */
        size_t mark = l->len;
        put_str(l, ",\"");
        put_str(l, f->key);
        put_str(l, "\":");
        if (f->type == LOG_FIELD_TEXT)
            put_json_string(l, f->value.text);
        else if (f->type == LOG_FIELD_COUNT)
            put_unsigned(l, f->value.count);
        else
            put_signed(l, f->value.number);
        if (l->len >= l->cap) {
            l->len = mark;
            break;
        }
    }
    /* The kept-back room holds the brace (the newline is the caller's). */
    l->cap = l->len + 1;
    put_str(l, "}");
}

size_t log_line_format(char *out, size_t cap, struct log_style style, enum log_level level,
                       int64_t now_ms, long pid, const char *msg, const struct log_field *fields,
                       size_t field_count)
{
    struct line l = {.buf = out, .cap = cap - CLOSING_ROOM, .len = 0};
    char time[LOG_TIME_MAX];
    const char *stamp = NULL;
    if (style.journal) {
        put_str(&l, journal_prefix(level));
    } else {
        log_time_format(now_ms, time);
        stamp = time;
    }
    if (style.format == LOG_FORMAT_JSON) {
        put_json_line(&l, stamp, level, pid, msg, fields, field_count);
    } else {
        if (stamp) {
            put_str(&l, stamp);
            put_str(&l, " ");
        }
        put_text_line(&l, level, msg);
    }
    out[l.len++] = '\n';
    return l.len;
}
