/*
 * Logging to stderr, one line per event. Verbosity is process-wide and set
 * once at start-up: LOG_QUIET keeps only errors and warnings, LOG_INFO adds
 * connection arrivals, LOG_DEBUG adds closes with their byte counts. A line
 * is written with one write(2) so lines from threads and forked children
 * never interleave.
 *
 * Each line carries a timestamp, or the journal's priority prefix when
 * stderr is the journal, and is text or one JSON object (--log-format);
 * core/log_line.h says how each looks. Events an operator may want to count
 * or filter (a client connected, closed, refused) go through log_event with
 * structured fields, which JSON lines carry as members; text lines keep the
 * message alone.
 */
#ifndef SOCKSERV_LOG_H
#define SOCKSERV_LOG_H

#include <stdbool.h>
#include <stddef.h>

#include "core/log_line.h"

void log_set_level(enum log_level level);
int log_enabled(enum log_level level);

/* Sets how lines look; call once, before any thread or child starts. The
 * default is text with timestamps. */
void log_set_style(struct log_style style);

/* True when stderr is the journal: JOURNAL_STREAM is set and names the
 * device and inode of stderr, as sd-daemon(3) describes. A stderr that was
 * redirected elsewhere by a child of the service no longer matches. */
bool log_stderr_is_journal(void);

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* An event with fields: msg (printf-formatted) is the text line's wording
 * and JSON's "msg"; fields follow it in JSON lines. */
void log_event(enum log_level level, const struct log_field *fields, size_t field_count,
               const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Async-signal-safe: writes msg, as it is, as one line at level, with
 * fields; for a signal handler's last words. */
void log_signal_safe(enum log_level level, const char *msg, const struct log_field *fields,
                     size_t field_count);

#endif
