/*
 * Logging to stderr, one line per event. Verbosity is process-wide and set
 * once at start-up: LOG_QUIET keeps only errors and warnings, LOG_INFO adds
 * connection arrivals, LOG_DEBUG adds closes with their byte counts. A line
 * is written with one write(2) so lines from threads and forked children
 * never interleave.
 */
#ifndef SOCKSERV_LOG_H
#define SOCKSERV_LOG_H

enum log_level { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

void log_set_level(enum log_level level);
int log_enabled(enum log_level level);

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
