#include "core/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Long lines are cut; a JSON line is cut inside a string and stays whole. */
#define LINE_MAX_BYTES 2048
#define MESSAGE_MAX_BYTES 1024

static enum log_level current_level = LOG_INFO;
static struct log_style current_style = {.format = LOG_FORMAT_TEXT, .journal = false};

void log_set_level(enum log_level level)
{
    current_level = level;
}

int log_enabled(enum log_level level)
{
    return level <= current_level;
}

void log_set_style(struct log_style style)
{
    current_style = style;
}

bool log_stderr_is_journal(void)
{
    const char *stream = getenv("JOURNAL_STREAM");
    if (!stream || !*stream)
        return false;
    unsigned long long dev, ino;
    char end;
    if (sscanf(stream, "%llu:%llu%c", &dev, &ino, &end) != 2)
        return false;
    struct stat st;
    if (fstat(STDERR_FILENO, &st) != 0)
        return false;
    return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

/* Milliseconds since 1970 (UTC). clock_gettime is async-signal-safe. */
static int64_t wall_clock_ms(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return 0;
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Formats and writes one line with one call, so that lines from threads
 * and forked children stay whole. */
static void write_line(enum log_level level, const char *msg, const struct log_field *fields,
                       size_t field_count)
{
    char line[LINE_MAX_BYTES];
    size_t len = log_line_format(line, sizeof(line), current_style, level, wall_clock_ms(),
                                 (long)getpid(), msg, fields, field_count);
    int saved = errno;
    ssize_t ignored = write(STDERR_FILENO, line, len);
    (void)ignored; /* Nowhere left to report a failed log write. */
    errno = saved;
}

static void log_formatted(enum log_level level, const struct log_field *fields, size_t field_count,
                          const char *fmt, va_list ap)
{
    if (!log_enabled(level))
        return;
    char msg[MESSAGE_MAX_BYTES];
    int saved = errno;
    if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
        msg[0] = '\0';
    errno = saved;
    write_line(level, msg, fields, field_count);
}

void log_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_formatted(LOG_ERROR, NULL, 0, fmt, ap);
    va_end(ap);
}

void log_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_formatted(LOG_WARN, NULL, 0, fmt, ap);
    va_end(ap);
}

void log_info(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_formatted(LOG_INFO, NULL, 0, fmt, ap);
    va_end(ap);
}

void log_debug(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_formatted(LOG_DEBUG, NULL, 0, fmt, ap);
    va_end(ap);
}

void log_event(enum log_level level, const struct log_field *fields, size_t field_count,
               const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_formatted(level, fields, field_count, fmt, ap);
    va_end(ap);
}

void log_signal_safe(enum log_level level, const char *msg, const struct log_field *fields,
                     size_t field_count)
{
    if (log_enabled(level))
        write_line(level, msg, fields, field_count);
}
