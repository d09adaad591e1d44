/*
 * The upper service over real connections (see conn_driver.h). The first
 * byte picks the longest line; the rest are the driver's commands.
 *
 * Properties: no crash, no leak, no sanitizer report; and every line a
 * client receives is uppercased (no a-z), except the service's own error
 * line for an overlong one.
 */
#include <string.h>

#include "conn_driver.h"

/* The service's own error line reads as written ("error: line too long"),
 * never uppercased. */
static bool is_error_line(const uint8_t *line, size_t len)
{
    return len >= 6 && memcmp(line, "error:", 6) == 0;
}

static void check_upper_line(const uint8_t *line, size_t len)
{
    if (is_error_line(line, len))
        return;
    for (size_t i = 0; i < len; i++)
        FUZZ_CHECK(!(line[i] >= 'a' && line[i] <= 'z'));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = {data, size};
    size_t max_line = 1 + fuzz_byte(&in) % 64;
    struct service_settings settings = {.upper_delay_ms = 1};
    struct service_config config = {
        .max_line = max_line, .max_output = 4096, .allow_amplification = false};
    struct driver d;
    driver_init(&d, "upper", config, &settings, check_upper_line);
    driver_run(&d, &in);
    driver_finish(&d);
    return 0;
}
