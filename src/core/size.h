/*
 * Byte sizes as the command line gives them: "4096", "64K", "1M" (K and M
 * are 1024 and 1024 * 1024, either case). Digits only before the suffix, so
 * "+5", " 5" and "0x10" are refused as cli_parse_number refuses them.
 */
#ifndef SOCKSERV_SIZE_H
#define SOCKSERV_SIZE_H

#include <stddef.h>

/* The bounds every size option keeps: at least 64 bytes, at most 1 GiB. */
#define SIZE_MIN_BYTES 64
#define SIZE_MAX_BYTES (1024L * 1024 * 1024)

/* Parses text into *out (untouched on failure). Returns 0, or -1 when the
 * text is not a size or is out of bounds. */
int size_parse(const char *text, size_t *out);

#endif
