/*
 * The line being typed in sockserv chat's terminal mode: a tiny editor fed
 * one key byte at a time, with no terminal of its own.
 *
 * It holds only valid, printable UTF-8: printable ASCII and whole UTF-8
 * characters are appended; controls, invalid bytes and the escape sequences
 * of arrows and function keys are dropped, so nothing typed can reach other
 * people's terminals as a control sequence. The cursor is always at the end
 * of the line. Backspace deletes a whole character, Ctrl-W a word, Ctrl-U the
 * line; Ctrl-C clears the line and, on an empty line, asks to leave; Ctrl-D
 * on an empty line asks to leave. TAB is typed as a space.
 *
 * Drawing is separate from editing: line_editor_draw writes the prompt and
 * as much of the end of the line as fits in the terminal's width, so a line
 * wider than the terminal scrolls sideways instead of wrapping onto rows
 * that a redraw would have to find again.
 */
#ifndef SOCKSERV_CHATCLIENT_LINE_EDITOR_H
#define SOCKSERV_CHATCLIENT_LINE_EDITOR_H

#include <stddef.h>
#include <stdint.h>

#define LINE_EDITOR_PROMPT "> "

enum line_editor_event {
    LINE_EDITOR_NONE,      /* Nothing visible changed. */
    LINE_EDITOR_CHANGED,   /* The line changed: redraw it. */
    LINE_EDITOR_REDRAW,    /* Ctrl-L: redraw though nothing changed. */
    LINE_EDITOR_FULL,      /* A character did not fit: ring the bell. */
    LINE_EDITOR_SUBMIT,    /* Enter on a non-empty line: take it with line_editor_take. */
    LINE_EDITOR_INTERRUPT, /* Ctrl-C on an empty line. */
    LINE_EDITOR_EOF        /* Ctrl-D on an empty line. */
};

enum line_editor_escape { ESCAPE_NONE, ESCAPE_START, ESCAPE_CSI, ESCAPE_SS3 };

struct line_editor {
    char *text; /* max bytes, not terminated. */
    size_t len;
    size_t max;
    uint8_t pending[4]; /* A UTF-8 character still being typed. */
    size_t pending_len, pending_need;
    enum line_editor_escape escape;
};

/* Holds at most max bytes. Returns 0, or -1 when memory runs out. */
int line_editor_init(struct line_editor *e, size_t max);
void line_editor_free(struct line_editor *e);

enum line_editor_event line_editor_feed(struct line_editor *e, uint8_t key);

/* After LINE_EDITOR_SUBMIT: the line (valid UTF-8, not terminated), valid
 * until the next feed; the editor is empty afterwards. */
const char *line_editor_take(struct line_editor *e, size_t *len);

/*
 * Writes "\r", the prompt, the end of the line that fits in columns - 1
 * terminal columns, and an erase-to-end-of-line into out, which must have
 * room for LINE_EDITOR_DRAW_MAX(e->max) bytes. Returns the bytes written. The
 * last column stays free so the cursor never sits in the terminal's
 * pending-wrap state.
 */
#define LINE_EDITOR_DRAW_MAX(max) ((max) + sizeof(LINE_EDITOR_PROMPT) + 8)
size_t line_editor_draw(const struct line_editor *e, unsigned columns, char *out);

#endif
