#include "core/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

static enum log_level current_level = LOG_INFO;

void log_set_level(enum log_level level)
{
    current_level = level;
}

int log_enabled(enum log_level level)
{
    return level <= current_level;
}

static void log_line(enum log_level level, const char *prefix, const char *fmt, va_list ap)
{
    if (!log_enabled(level))
        return;
    /* Formatted whole, then written with one call, so that lines from
     * threads and forked children stay whole. Long lines are cut. */
    char line[1024];
    int used = snprintf(line, sizeof(line), "sockserv: %s", prefix);
    if (used < 0)
        return;
    int more = vsnprintf(line + used, sizeof(line) - (size_t)used, fmt, ap);
    if (more < 0)
        return;
    size_t len = (size_t)used + (size_t)more;
    if (len > sizeof(line) - 2)
        len = sizeof(line) - 2;
    line[len++] = '\n';
    int saved = errno;
    ssize_t ignored = write(STDERR_FILENO, line, len);
    (void)ignored; /* Nowhere left to report a failed log write. */
    errno = saved;
}

void log_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_line(LOG_ERROR, "error: ", fmt, ap);
    va_end(ap);
}

void log_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_line(LOG_WARN, "warning: ", fmt, ap);
    va_end(ap);
}

void log_info(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_line(LOG_INFO, "", fmt, ap);
    va_end(ap);
}

void log_debug(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_line(LOG_DEBUG, "", fmt, ap);
    va_end(ap);
}
