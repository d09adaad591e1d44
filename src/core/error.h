/*
 * The one way a module reports a failure to its caller: a one-line reason
 * written into a buffer the caller owns, so the caller decides how and where
 * to show it (as Redis's anet helpers do).
 */
#ifndef SOCKSERV_ERROR_H
#define SOCKSERV_ERROR_H

#include <stddef.h>

/* Formats the reason into err (when err is not NULL) and returns -1, so a
 * failing function can end with `return error_set(err, errlen, ...)`. */
int error_set(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
