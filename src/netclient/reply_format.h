/*
 * Turning replies into text a person can read: the time service's 4 bytes
 * into a date, the daytime line into one clean line, and a single byte into
 * something safe to put in an error message. Pure functions, no I/O, so
 * they are unit-tested without a network.
 */
#ifndef SOCKSERV_NETCLIENT_REPLY_FORMAT_H
#define SOCKSERV_NETCLIENT_REPLY_FORMAT_H

#include <stddef.h>
#include <stdint.h>

/* Seconds from 1900-01-01 (RFC 868's epoch) to 1970-01-01 (Unix's). */
#define CLIENT_SECONDS_1900_TO_1970 2208988800LL

/*
 * The Unix time a 32-bit RFC 868 count stands for. The count wraps every
 * 2^32 seconds (first in 2036), so the era is the one that puts the date
 * nearest to now_unix, the caller's own clock.
 */
int64_t client_time_to_unix(uint32_t seconds_since_1900, int64_t now_unix);

/*
 * Writes "2026-11-21 04:53:59 UTC (3972963239 seconds since 1900)\n" for a
 * time reply. Returns 0, or -1 with a one-line reason in buf when the reply
 * is not exactly 4 bytes.
 */
int client_format_time(const uint8_t *reply, size_t len, int64_t now_unix, char *buf,
                       size_t buflen);

/*
 * Writes a daytime reply as one line ending in "\n": the line ending it
 * came with (CRLF or LF) and trailing blanks are dropped, and bytes that are
 * not printable ASCII are written as \xNN so that a server cannot send
 * escape sequences to the user's terminal. Truncates to fit buf.
 */
void client_format_daytime(const uint8_t *reply, size_t len, char *buf, size_t buflen);

/* Writes one byte for a message: 'a', or 0x0a when it is not printable. */
void client_format_byte(uint8_t byte, char *buf, size_t buflen);

#endif
