/* Building bench messages and the replies they must get. */
#include "loadgen/message.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PLACEHOLDER "{n}"
#define PLACEHOLDER_LEN 3
/* Digits of the largest uint32_t. */
#define NUMBER_DIGITS_MAX 10

bool bench_expect_parse(const char *name, enum bench_expect *out)
{
    static const enum bench_expect all[] = {BENCH_EXPECT_ECHO, BENCH_EXPECT_UPPER,
                                            BENCH_EXPECT_NONE};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        if (strcmp(name, bench_expect_name(all[i])) == 0) {
            *out = all[i];
            return true;
        }
    }
    return false;
}

const char *bench_expect_name(enum bench_expect e)
{
    switch (e) {
    case BENCH_EXPECT_ECHO:
        return "echo";
    case BENCH_EXPECT_UPPER:
        return "upper";
    case BENCH_EXPECT_NONE:
        return "none";
    }
    return "?";
}

bool bench_message_is_template(const char *text)
{
    return text != NULL && strstr(text, PLACEHOLDER) != NULL;
}

static size_t count_placeholders(const char *text)
{
    size_t n = 0;
    for (const char *p = strstr(text, PLACEHOLDER); p; p = strstr(p + PLACEHOLDER_LEN, PLACEHOLDER))
        n++;
    return n;
}

static bool ends_in_newline(const char *text)
{
    size_t len = strlen(text);
    return len > 0 && text[len - 1] == '\n';
}

size_t bench_message_length(const char *text, size_t size)
{
    if (text == NULL)
        return size;
    size_t len = strlen(text) + count_placeholders(text) * (NUMBER_DIGITS_MAX - PLACEHOLDER_LEN);
    return ends_in_newline(text) ? len : len + 1;
}

/* Writes text with "{n}" replaced into out (sized by bench_message_length). */
static size_t expand(const char *text, uint32_t number, uint8_t *out)
{
    char digits[NUMBER_DIGITS_MAX + 1];
    int ndigits = snprintf(digits, sizeof(digits), "%u", (unsigned)number);
    size_t len = 0;
    for (const char *p = text; *p;) {
        if (strncmp(p, PLACEHOLDER, PLACEHOLDER_LEN) == 0) {
            memcpy(out + len, digits, (size_t)ndigits);
            len += (size_t)ndigits;
            p += PLACEHOLDER_LEN;
        } else {
            out[len++] = (uint8_t)*p++;
        }
    }
    if (len == 0 || out[len - 1] != '\n')
        out[len++] = '\n';
    return len;
}

int bench_message_build(struct bench_message *m, const char *text, size_t size,
                        enum bench_expect expect, uint32_t number)
{
    memset(m, 0, sizeof(*m));
    size_t room = bench_message_length(text, size);
    if (room == 0)
        room = 1;
    m->request = malloc(room);
    if (!m->request)
        return -1;
    if (text) {
        m->request_len = expand(text, number, m->request);
    } else {
        for (size_t i = 0; i + 1 < size; i++)
            m->request[i] = (uint8_t)('a' + i % 26);
        m->request[room - 1] = '\n';
        m->request_len = room;
    }
    switch (expect) {
    case BENCH_EXPECT_ECHO:
        m->reply = m->request;
        m->reply_len = m->request_len;
        break;
    case BENCH_EXPECT_UPPER:
        m->owned_reply = malloc(m->request_len);
        if (!m->owned_reply) {
            bench_message_free(m);
            return -1;
        }
        for (size_t i = 0; i < m->request_len; i++) {
            uint8_t ch = m->request[i];
            m->owned_reply[i] = (ch >= 'a' && ch <= 'z') ? (uint8_t)(ch - 'a' + 'A') : ch;
        }
        m->reply = m->owned_reply;
        m->reply_len = m->request_len;
        break;
    case BENCH_EXPECT_NONE:
        break;
    }
    return 0;
}

void bench_message_free(struct bench_message *m)
{
    free(m->request);
    free(m->owned_reply);
    memset(m, 0, sizeof(*m));
}
