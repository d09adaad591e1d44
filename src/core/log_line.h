/*
 * One log line, formatted: the pure part of core/log.h, apart so that it
 * can be tested and fuzzed without a stderr to read back.
 *
 * Text lines read "2026-12-02T11:15:03.123Z sockserv: warning: MSG": an
 * RFC 3339 timestamp in UTC with milliseconds, the program, the level
 * (errors and warnings only) and the message. JSON lines are one object:
 * {"time":...,"level":...,"pid":...,"msg":...} followed by the event's own
 * fields, in the order given. When stderr is the journal, the journal
 * stamps each line itself, so the timestamp (and JSON's "time") gives way
 * to the priority prefix of sd-daemon(3): "<3>" error, "<4>" warning,
 * "<6>" info, "<7>" debug.
 *
 * Every function here is async-signal-safe (no stdio, no allocation, no
 * locale), so a signal handler may format its last line with them.
 */
#ifndef SOCKSERV_LOG_LINE_H
#define SOCKSERV_LOG_LINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum log_level { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

enum log_format { LOG_FORMAT_TEXT, LOG_FORMAT_JSON };

/* How lines look: chosen once at start-up. */
struct log_style {
    enum log_format format;
    bool journal; /* stderr is the journal: "<N>" prefix, no timestamp. */
};

enum log_field_type { LOG_FIELD_TEXT, LOG_FIELD_COUNT, LOG_FIELD_NUMBER };

/* One structured field of an event: a JSON member in JSON lines; text
 * lines carry the message alone. A NULL text field is left out. */
struct log_field {
    const char *key; /* A plain identifier: written as it is. */
    enum log_field_type type;
    union {
        const char *text;
        uint64_t count;
        int64_t number;
    } value;
};

#define LOG_TEXT(k, v) ((struct log_field){.key = (k), .type = LOG_FIELD_TEXT, .value.text = (v)})
#define LOG_COUNT(k, v)                                                                            \
    ((struct log_field){.key = (k), .type = LOG_FIELD_COUNT, .value.count = (uint64_t)(v)})
#define LOG_NUMBER(k, v)                                                                           \
    ((struct log_field){.key = (k), .type = LOG_FIELD_NUMBER, .value.number = (int64_t)(v)})

/* Room for "2026-12-02T11:15:03.123Z" and its NUL. */
#define LOG_TIME_MAX 32

/* Writes unix_ms (milliseconds since 1970, UTC) as RFC 3339 with
 * milliseconds and a Z, NUL-terminated; returns its length (24 for years
 * 0 to 9999; years outside are clamped). */
size_t log_time_format(int64_t unix_ms, char out[LOG_TIME_MAX]);

/* "error", "warning", "info" or "debug": JSON's level. */
const char *log_level_name(enum log_level level);

/*
 * Formats one whole line, ending in '\n', into out (cap bytes, at least
 * 128) and returns its length. A line that does not fit is cut: a text
 * message at the end, a JSON string inside its quotes, so a cut JSON line
 * still parses. now_ms is the wall clock (ignored under the journal).
 */
size_t log_line_format(char *out, size_t cap, struct log_style style, enum log_level level,
                       int64_t now_ms, long pid, const char *msg, const struct log_field *fields,
                       size_t field_count);

#endif
