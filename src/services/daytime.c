/*
 * daytime (RFC 867): one human-readable line with the date and time, then
 * close. The RFC leaves the format open; this is the common one, as inetd
 * writes it, in local time: "Sat Nov 21 04:53:59 2026".
 */
#include <time.h>

#include "core/conn.h"

static void daytime_open(struct conn *c)
{
    time_t now = time(NULL);
    struct tm local;
    char line[64];
    size_t len = 0;
    if (localtime_r(&now, &local))
        len = strftime(line, sizeof(line), "%a %b %e %H:%M:%S %Y\r\n", &local);
    if (len > 0)
        conn_write(c, line, len);
    conn_close(c);
}

const struct service service_daytime = {
    .name = "daytime",
    .summary = "one line with the date and time, then close (RFC 867)",
    .default_port = 7013,
    .on_open = daytime_open,
};
