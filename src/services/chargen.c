/*
 * chargen (RFC 864): an endless stream of 72-character lines, each the
 * next rotation of the 95 printable ASCII characters, ended by CRLF.
 *
 * It writes one batch of lines whenever the output has drained
 * (on_writable), so it sends exactly as fast as the client reads and never
 * queues more than one batch. Input is read and ignored, and a half-close
 * does not stop it: the RFC ends the stream when the client closes.
 */
#include <stdlib.h>
#include <sys/random.h>

#include "core/conn.h"

#define CHARGEN_FIRST 0x20
#define CHARGEN_COUNT 95
#define CHARGEN_LINE 72
/* Lines per batch: about 8 KiB, a few socket-buffer-sized writes. */
#define CHARGEN_BATCH 111
#define CHARGEN_DATAGRAM_MAX 512

struct chargen_state {
    uint8_t next_offset; /* Offset in the pattern of the next line's start. */
};

/* Writes the next lines of the pattern into out, up to len bytes (the last
 * line may be cut), and returns how many bytes it wrote. */
static size_t fill_lines(struct chargen_state *st, uint8_t *out, size_t len)
{
    size_t used = 0;
    while (used < len) {
        for (int i = 0; i < CHARGEN_LINE && used < len; i++)
            out[used++] = (uint8_t)(CHARGEN_FIRST + (st->next_offset + i) % CHARGEN_COUNT);
        /* The line ending goes whole or not at all: a lone CR would read as
         * a line one character too long. */
        if (len - used < 2)
            break;
        out[used++] = '\r';
        out[used++] = '\n';
        st->next_offset = (uint8_t)((st->next_offset + 1) % CHARGEN_COUNT);
    }
    return used;
}

static void chargen_writable(struct conn *c)
{
    uint8_t batch[CHARGEN_BATCH * (CHARGEN_LINE + 2)];
    conn_write(c, batch, fill_lines(conn_state(c), batch, sizeof(batch)));
}

/* 0..CHARGEN_DATAGRAM_MAX from the kernel's generator: random() would
 * repeat the same lengths in every forked child and every run. */
static size_t random_length(void)
{
    uint32_t r;
    if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
        r = (uint32_t)random();
    return r % (CHARGEN_DATAGRAM_MAX + 1);
}

/*
 * Over UDP, RFC 864 answers each datagram with one of 0 to 512 characters.
 * A reply longer than its request is what makes chargen a reflection
 * amplifier, so by default the reply is as long as the request (at most
 * 512); --allow-amplification restores the RFC's random length.
 */
static void answer_datagram(struct conn *c)
{
    uint8_t reply[CHARGEN_DATAGRAM_MAX];
    size_t budget = conn_reply_budget(c);
    size_t len = budget == SIZE_MAX ? random_length() : budget;
    if (len > CHARGEN_DATAGRAM_MAX)
        len = CHARGEN_DATAGRAM_MAX;
    conn_write(c, reply, fill_lines(conn_state(c), reply, len));
    conn_close(c);
}

static void chargen_open(struct conn *c)
{
    if (conn_is_datagram(c))
        answer_datagram(c);
    else
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
