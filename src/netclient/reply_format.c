/*
 * Reply formatting. Dates are computed in 64 bits throughout, so the 2036
 * wrap of RFC 868's count and the 2038 limit of a 32-bit time_t play no
 * part.
 */
#include "netclient/reply_format.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "core/error.h"

/* Length of one era of RFC 868's 32-bit count. */
#define ERA_SECONDS (1LL << 32)

int64_t client_time_to_unix(uint32_t seconds_since_1900, int64_t now_unix)
{
    int64_t in_first_era = (int64_t)seconds_since_1900 - CLIENT_SECONDS_1900_TO_1970;
    /* The era that minimises the distance to now: round, not truncate. */
    int64_t offset = now_unix - in_first_era;
    int64_t era = offset >= 0 ? (offset + ERA_SECONDS / 2) / ERA_SECONDS
                              : -((-offset + ERA_SECONDS / 2 - 1) / ERA_SECONDS);
    return in_first_era + era * ERA_SECONDS;
}

int client_format_time(const uint8_t *reply, size_t len, int64_t now_unix, char *buf, size_t buflen)
{
    if (buf == NULL || buflen == 0)
        return -1;
    if (len != 4)
        return error_set(buf, buflen, "time reply is %zu byte%s; RFC 868 sends 4", len,
                         len == 1 ? "" : "s");
    uint32_t seconds = (uint32_t)reply[0] << 24 | (uint32_t)reply[1] << 16 |
                       (uint32_t)reply[2] << 8 | (uint32_t)reply[3];
    time_t unix_time = (time_t)client_time_to_unix(seconds, now_unix);
    struct tm utc;
    char date[64];
    if (gmtime_r(&unix_time, &utc) == NULL ||
        strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S UTC", &utc) == 0) {
        return error_set(buf, buflen, "time reply %" PRIu32 " is not a date this system can show",
                         seconds);
    }
    snprintf(buf, buflen, "%s (%" PRIu32 " second%s since 1900)\n", date, seconds,
             seconds == 1 ? "" : "s");
    return 0;
}

static bool is_printable(uint8_t byte)
{
    return byte >= 0x20 && byte < 0x7f;
}

void client_format_daytime(const uint8_t *reply, size_t len, char *buf, size_t buflen)
{
    if (buf == NULL || buflen == 0)
        return;
    while (len > 0 && (reply[len - 1] == '\n' || reply[len - 1] == '\r' || reply[len - 1] == ' ' ||
                       reply[len - 1] == '\t'))
        len--;
    /* Room is kept for the "\n" and the terminator. */
    size_t used = 0;
    for (size_t i = 0; i < len; i++) {
        char piece[5];
        size_t n = is_printable(reply[i])
                       ? (size_t)snprintf(piece, sizeof piece, "%c", (char)reply[i])
                       : (size_t)snprintf(piece, sizeof piece, "\\x%02x", reply[i]);
        if (used + n + 2 > buflen)
            break;
        for (size_t k = 0; k < n; k++)
            buf[used++] = piece[k];
    }
    if (used + 2 <= buflen)
        buf[used++] = '\n';
    buf[used] = '\0';
}

void client_format_byte(uint8_t byte, char *buf, size_t buflen)
{
    if (buf == NULL || buflen == 0)
        return;
    if (is_printable(byte) && byte != '\'')
        snprintf(buf, buflen, "'%c'", (char)byte);
    else
        snprintf(buf, buflen, "0x%02x", byte);
}
