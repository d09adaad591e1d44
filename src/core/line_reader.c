/*
 * Line splitter.
 *
 * A line that arrives whole in one read is handed out in place, without a
 * copy. Only a line split across reads is gathered in the partial buffer.
 *
 * A line handed out from the partial buffer must stay valid until the next
 * call, so it stays there, followed by its LF; an unfinished line never holds
 * an LF, so the next call knows from that byte to drop it. The buffer thus
 * holds at most max_line bytes, a CR that may start a CRLF, and that LF.
 */
#include "core/line_reader.h"

#include <stdint.h>
#include <string.h>

void line_reader_init(struct line_reader *r, size_t max_line)
{
    buffer_init(&r->partial);
    r->max_line = max_line;
    r->discarding = false;
    r->last_crlf = false;
}

void line_reader_free(struct line_reader *r)
{
    buffer_free(&r->partial);
    r->discarding = false;
    r->last_crlf = false;
}

static size_t partial_limit(const struct line_reader *r)
{
    return r->max_line > SIZE_MAX - 2 ? SIZE_MAX : r->max_line + 2;
}

static void release_delivered_line(struct line_reader *r)
{
    size_t held = buffer_length(&r->partial);
    if (held > 0 && buffer_peek(&r->partial)[held - 1] == '\n')
        buffer_free(&r->partial);
}

static void advance(const char **data, size_t *len, size_t n)
{
    *data += n;
    *len -= n;
}

/*
 * The length of a line made of held partial bytes and n more, the last of
 * which is last, without a final CR that may turn out to begin a CRLF.
 * Saturates rather than wrapping, so a huge read still counts as too long.
 */
static size_t line_length(size_t held, size_t n, char last)
{
    if (n > SIZE_MAX - held)
        return SIZE_MAX;
    return held + n - (last == '\r' ? 1 : 0);
}

static char last_held_byte(const struct line_reader *r)
{
    size_t held = buffer_length(&r->partial);
    return held > 0 ? (char)buffer_peek(&r->partial)[held - 1] : '\0';
}

/* Starts skipping the rest of an overlong line, up to and including its LF. */
static enum line_event drop_line(struct line_reader *r, bool until_lf)
{
    buffer_free(&r->partial);
    r->discarding = until_lf;
    return LINE_TOO_LONG;
}

enum line_event line_reader_next(struct line_reader *r, const char **data, size_t *len,
                                 const char **line, size_t *line_len)
{
    release_delivered_line(r);
    if (*len == 0)
        return LINE_NEED_MORE;

    if (r->discarding) {
        const char *lf = memchr(*data, '\n', *len);
        if (lf == NULL) {
            advance(data, len, *len);
            return LINE_NEED_MORE;
        }
        advance(data, len, (size_t)(lf - *data) + 1);
        r->discarding = false;
        if (*len == 0)
            return LINE_NEED_MORE;
    }

    size_t held = buffer_length(&r->partial);
    const char *lf = memchr(*data, '\n', *len);
    if (lf == NULL) {
        /* No line ends here: keep every byte, unless the line is already too long. */
        size_t n = *len;
        size_t length = line_length(held, n, (*data)[n - 1]);
        advance(data, len, n);
        /* Out of memory drops the line too: it is the one way to go on. */
        if (length > r->max_line || buffer_append(&r->partial, *data - n, n, partial_limit(r)) != 0)
            return drop_line(r, true);
        return LINE_NEED_MORE;
    }

    size_t n = (size_t)(lf - *data);
    char last = n > 0 ? (*data)[n - 1] : last_held_byte(r);
    size_t length = line_length(held, n, last);
    const char *start = *data;
    advance(data, len, n + 1);
    if (length > r->max_line)
        return drop_line(r, false);
    r->last_crlf = last == '\r';
    if (held == 0) {
        *line = start;
        *line_len = length;
        return LINE_COMPLETE;
    }
    if (buffer_append(&r->partial, start, n + 1, partial_limit(r)) != 0)
        return drop_line(r, false);
    *line = (const char *)buffer_peek(&r->partial);
    *line_len = length;
    return LINE_COMPLETE;
}

bool line_reader_finish(struct line_reader *r, const char **line, size_t *line_len)
{
    release_delivered_line(r);
    r->discarding = false;
    size_t held = buffer_length(&r->partial);
    /*
     * With no LF to follow, a final CR is part of the line; a line of max_line
     * bytes and a CR is then one byte too long and is dropped like any other.
     * The LF appended marks the line as handed out, as in line_reader_next.
     */
    if (held == 0 || held > r->max_line ||
        buffer_append(&r->partial, "\n", 1, partial_limit(r)) != 0) {
        buffer_free(&r->partial);
        return false;
    }
    *line = (const char *)buffer_peek(&r->partial);
    *line_len = held;
    r->last_crlf = false; /* It has no ending at all. */
    return true;
}
