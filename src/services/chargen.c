/*
 * chargen (RFC 864): an endless stream of 72-character lines, each the
 * next rotation of the 95 printable ASCII characters, ended by CRLF.
 *
 * It writes one batch of lines whenever the output has drained
 * (on_writable), so it sends exactly as fast as the client reads and never
 * queues more than one batch. Input is read and ignored, and a half-close
 * does not stop it: the RFC ends the stream when the client closes.
 */
#include "core/conn.h"

#define CHARGEN_FIRST 0x20
#define CHARGEN_COUNT 95
#define CHARGEN_LINE 72
/* Lines per batch: about 8 KiB, a few socket-buffer-sized writes. */
#define CHARGEN_BATCH 111

struct chargen_state {
    uint8_t next_offset; /* Offset in the pattern of the next line's start. */
};

static void chargen_writable(struct conn *c)
{
    struct chargen_state *st = conn_state(c);
    uint8_t batch[CHARGEN_BATCH * (CHARGEN_LINE + 2)];
    size_t len = 0;
    for (int line = 0; line < CHARGEN_BATCH; line++) {
        for (int i = 0; i < CHARGEN_LINE; i++)
            batch[len++] = (uint8_t)(CHARGEN_FIRST + (st->next_offset + i) % CHARGEN_COUNT);
        batch[len++] = '\r';
        batch[len++] = '\n';
        st->next_offset = (uint8_t)((st->next_offset + 1) % CHARGEN_COUNT);
    }
    conn_write(c, batch, len);
}

static void chargen_open(struct conn *c)
{
    conn_want_writable(c, true);
}

static void chargen_keep_going(struct conn *c)
{
    (void)c;
}

const struct service service_chargen = {
    .name = "chargen",
    .summary = "endless rotating lines of printable ASCII (RFC 864)",
    .default_port = 7019,
    .state_size = sizeof(struct chargen_state),
    .on_open = chargen_open,
    .on_eof = chargen_keep_going,
    .on_writable = chargen_writable,
};
