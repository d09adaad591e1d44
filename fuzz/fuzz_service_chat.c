/*
 * The chat service over real connections, up to four clients in its rooms
 * at once (see conn_driver.h). The first byte picks the longest line; the
 * rest are the driver's commands.
 *
 * Properties: no crash, no leak, no sanitizer report; and whatever the
 * clients send, every line a client receives is valid UTF-8 without a
 * control character other than TAB and the CR of its CRLF, so no client
 * can drive another's terminal or reorder what it shows (text_sanitize is
 * the oracle: it removes the bidirectional controls and U+2028/U+2029 too).
 */
#include "conn_driver.h"

#include "core/text.h"

static void check_chat_line(const uint8_t *line, size_t len)
{
    /* Pieces of an over-long line may split a character; the driver cuts
     * at DRIVER_LINE_MAX, far above any line chat sends. */
    FUZZ_CHECK(len < DRIVER_LINE_MAX);
    if (len > 0 && line[len - 1] == '\r')
        len--;
    char *clean = malloc(TEXT_SANITIZED_MAX(len) + 1);
    if (clean == NULL)
        abort();
    size_t n = text_sanitize((const char *)line, len, clean);
    if (n != len || memcmp(clean, line, len) != 0)
        fprintf(stderr, "chat sent a line with invalid UTF-8 or a control: '%.*s'\n", (int)len,
                (const char *)line);
    FUZZ_CHECK(n == len && memcmp(clean, line, len) == 0);
    free(clean);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = {data, size};
    size_t max_line = 16 + fuzz_byte(&in) % 256;
    /* The server's defaults: notices in small rooms, the flood limit on. */
    struct service_settings settings = {.upper_delay_ms = 1,
                                        .chat_notices_max = 100,
                                        .chat_rate_per_second = 20,
                                        .chat_rate_burst = 40};
    struct service_config config = {
        .max_line = max_line, .max_output = 65536, .allow_amplification = false};
    struct driver d;
    driver_init(&d, "chat", config, &settings, check_chat_line);
    driver_run(&d, &in);
    driver_finish(&d);
    return 0;
}
