/*
 * Splits a byte stream into lines, for services that speak in lines (upper,
 * chat).
 *
 * A line ends at LF; a CR just before the LF is removed, so CRLF and LF both
 * work. A line longer than the reader's limit is reported once as too long
 * and its bytes are discarded up to and including its LF, so one overlong
 * line never costs the connection. Bytes are copied only while a line is
 * incomplete; the partial line is held in a buffer bounded by the limit.
 */
#ifndef SOCKSERV_LINE_READER_H
#define SOCKSERV_LINE_READER_H

#include <stdbool.h>
#include <stddef.h>

#include "buffer.h"

struct line_reader {
    struct buffer partial; /* Bytes of the current, unfinished line. */
    size_t max_line;       /* Longest line accepted, without its ending. */
    bool discarding;       /* Inside an overlong line, skipping to its LF. */
    bool last_crlf;        /* The last complete line ended in CRLF, not LF. */
};

enum line_event {
    LINE_COMPLETE, /* A whole line: *line and *len are set. */
    LINE_TOO_LONG, /* A line passed max_line; its bytes are being dropped. */
    LINE_NEED_MORE /* All input consumed; feed more bytes. */
};

void line_reader_init(struct line_reader *r, size_t max_line);
void line_reader_free(struct line_reader *r);

/*
 * Takes bytes from *data and *len, advancing them, until a line completes, a
 * line becomes too long, or the input is used up. For LINE_COMPLETE, *line
 * points at the line without its ending, valid until the next call; it may
 * point into the caller's data or into the reader's own buffer. Call
 * repeatedly until it returns LINE_NEED_MORE.
 */
enum line_event line_reader_next(struct line_reader *r, const char **data, size_t *len,
                                 const char **line, size_t *line_len);

/*
 * At end of stream: returns true and sets *line and *line_len when an
 * unterminated last line is pending, which the caller may treat as a line.
 * The reader is empty afterwards; the line stays valid until the next call.
 */
bool line_reader_finish(struct line_reader *r, const char **line, size_t *line_len);

#endif
