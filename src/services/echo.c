/*
 * echo (RFC 862): every byte received is sent back. Backpressure comes from
 * core/conn.c, which stops reading while the peer is not taking its echo;
 * closing after a half-close is the default end-of-stream behaviour, which
 * sends every queued byte first.
 */
#include "core/conn.h"

static void echo_data(struct conn *c, const uint8_t *data, size_t len)
{
    conn_write(c, data, len);
}

const struct service service_echo = {
    .name = "echo",
    .summary = "sends back every byte (RFC 862)",
    .default_port = 7007,
    .on_data = echo_data,
};
