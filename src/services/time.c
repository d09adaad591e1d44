/*
 * time (RFC 868): the seconds since 1900-01-01 00:00 UTC as 4 big-endian
 * bytes, then close. The 32-bit count wraps in 2036, as the RFC's own
 * arithmetic does; clients resolve the era by taking the nearest date.
 */
#include <time.h>

#include "core/conn.h"

/* Seconds from 1900-01-01 to the Unix epoch 1970-01-01. */
#define SECONDS_1900_TO_1970 2208988800ULL

static void time_open(struct conn *c)
{
    uint32_t seconds = (uint32_t)((uint64_t)time(NULL) + SECONDS_1900_TO_1970);
    uint8_t wire[4] = {(uint8_t)(seconds >> 24), (uint8_t)(seconds >> 16), (uint8_t)(seconds >> 8),
                       (uint8_t)seconds};
    conn_write(c, wire, sizeof(wire));
    conn_close(c);
}

const struct service service_time = {
    .name = "time",
    .summary = "4 bytes: seconds since 1900, big-endian, then close (RFC 868)",
    .default_port = 7037,
    .on_open = time_open,
};
