#include "chatclient/line_editor.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "core/text.h"

#define KEY_CTRL_C 0x03
#define KEY_CTRL_D 0x04
#define KEY_CTRL_H 0x08
#define KEY_TAB 0x09
#define KEY_LF 0x0A
#define KEY_CTRL_L 0x0C
#define KEY_CR 0x0D
#define KEY_CTRL_U 0x15
#define KEY_CTRL_W 0x17
#define KEY_ESC 0x1B
#define KEY_DEL 0x7F

int line_editor_init(struct line_editor *e, size_t max)
{
    memset(e, 0, sizeof(*e));
    e->text = malloc(max > 0 ? max : 1);
    if (!e->text)
        return -1;
    e->max = max;
    return 0;
}

void line_editor_free(struct line_editor *e)
{
    free(e->text);
    memset(e, 0, sizeof(*e));
}

const char *line_editor_take(struct line_editor *e, size_t *len)
{
    *len = e->len;
    e->len = 0;
    return e->text;
}

/* ---- Editing ------------------------------------------------------------ */

static bool is_continuation(uint8_t b)
{
    return (b & 0xC0) == 0x80;
}

static enum line_editor_event append(struct line_editor *e, const uint8_t *bytes, size_t n)
{
    if (e->len + n > e->max)
        return LINE_EDITOR_FULL;
    memcpy(e->text + e->len, bytes, n);
    e->len += n;
    return LINE_EDITOR_CHANGED;
}

/* Appends a complete multi-byte character when it is valid and printable:
 * the sanitizer leaves exactly those unchanged. */
static enum line_editor_event append_character(struct line_editor *e, const uint8_t *bytes,
                                               size_t n)
{
    char clean[TEXT_SANITIZED_MAX(4)];
    size_t clean_len = text_sanitize((const char *)bytes, n, clean);
    if (clean_len != n || memcmp(clean, bytes, n) != 0)
        return LINE_EDITOR_NONE;
    return append(e, bytes, n);
}

static void delete_character(struct line_editor *e)
{
    while (e->len > 0 && is_continuation((uint8_t)e->text[e->len - 1]))
        e->len--;
    if (e->len > 0)
        e->len--;
}

/* Ctrl-W, as in a shell: the spaces before the cursor, then the word. */
static void delete_word(struct line_editor *e)
{
    while (e->len > 0 && e->text[e->len - 1] == ' ')
        e->len--;
    while (e->len > 0 && e->text[e->len - 1] != ' ')
        e->len--;
}

/* Swallows the escape sequences arrows and function keys send: ESC [ ...
 * final, ESC O x, and ESC followed by one key (Alt-key). Returns true while
 * the key belonged to one. */
static bool swallow_escape(struct line_editor *e, uint8_t key)
{
    switch (e->escape) {
    case ESCAPE_NONE:
        if (key != KEY_ESC)
            return false;
        e->escape = ESCAPE_START;
        return true;
    case ESCAPE_START:
        e->escape = key == '[' ? ESCAPE_CSI : key == 'O' ? ESCAPE_SS3 : ESCAPE_NONE;
        return true;
    case ESCAPE_CSI:
        /* Parameters and intermediates run until a final byte in @..~. */
        if (key >= 0x40 && key <= 0x7E)
            e->escape = ESCAPE_NONE;
        return true;
    case ESCAPE_SS3:
        e->escape = ESCAPE_NONE;
        return true;
    }
    return false;
}

static enum line_editor_event feed_control(struct line_editor *e, uint8_t key)
{
    switch (key) {
    case KEY_CR:
    case KEY_LF:
        /* Enter on an empty line sends nothing; it also absorbs the LF of
         * a pasted CRLF. */
        return e->len > 0 ? LINE_EDITOR_SUBMIT : LINE_EDITOR_NONE;
    case KEY_CTRL_C:
        if (e->len == 0)
            return LINE_EDITOR_INTERRUPT;
        e->len = 0;
        return LINE_EDITOR_CHANGED;
    case KEY_CTRL_D:
        return e->len == 0 ? LINE_EDITOR_EOF : LINE_EDITOR_NONE;
    case KEY_DEL:
    case KEY_CTRL_H:
        if (e->len == 0)
            return LINE_EDITOR_NONE;
        delete_character(e);
        return LINE_EDITOR_CHANGED;
    case KEY_CTRL_U:
        e->len = 0;
        return LINE_EDITOR_CHANGED;
    case KEY_CTRL_W:
        delete_word(e);
        return LINE_EDITOR_CHANGED;
    case KEY_CTRL_L:
        return LINE_EDITOR_REDRAW;
    case KEY_TAB: {
        const uint8_t space = ' ';
        return append(e, &space, 1);
    }
    default:
        return LINE_EDITOR_NONE; /* Every other control is ignored. */
    }
}

enum line_editor_event line_editor_feed(struct line_editor *e, uint8_t key)
{
    if (e->pending_need > 0) {
        if (is_continuation(key)) {
            e->pending[e->pending_len++] = key;
            if (e->pending_len < e->pending_need)
                return LINE_EDITOR_NONE;
            e->pending_need = 0;
            return append_character(e, e->pending, e->pending_len);
        }
        /* A broken sequence is dropped; the key that broke it is a key. */
        e->pending_need = 0;
    }
    if (swallow_escape(e, key))
        return LINE_EDITOR_NONE;
    if (key < 0x20 || key == KEY_DEL)
        return feed_control(e, key);
    if (key < 0x80)
        return append(e, &key, 1);
    size_t need = key >= 0xC2 && key <= 0xDF   ? 2
                  : key >= 0xE0 && key <= 0xEF ? 3
                  : key >= 0xF0 && key <= 0xF4 ? 4
                                               : 0;
    if (need == 0)
        return LINE_EDITOR_NONE; /* A stray continuation or an impossible lead byte. */
    e->pending[0] = key;
    e->pending_len = 1;
    e->pending_need = need;
    return LINE_EDITOR_NONE;
}

/* ---- Drawing ------------------------------------------------------------ */

/* Decodes the character at text (valid UTF-8) into *cp; returns its length. */
static size_t decode(const uint8_t *text, uint32_t *cp)
{
    uint8_t b = text[0];
    if (b < 0x80) {
        *cp = b;
        return 1;
    }
    size_t n = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2;
    uint32_t value = b & (0x7F >> n);
    for (size_t i = 1; i < n; i++)
        value = (value << 6) | (text[i] & 0x3F);
    *cp = value;
    return n;
}

static size_t character_width(uint32_t cp)
{
    /* wcwidth knows East Asian wide characters and combining marks when
     * the locale's character set is UTF-8; anything it cannot place is
     * counted as one column, as most terminals draw it. */
    int w = wcwidth((wchar_t)cp);
    return w < 0 ? 1 : (size_t)w;
}

size_t line_editor_draw(const struct line_editor *e, unsigned columns, char *out)
{
    size_t prompt_len = sizeof(LINE_EDITOR_PROMPT) - 1;
    size_t budget = columns > prompt_len + 2 ? columns - prompt_len - 1 : 1;
    /* Walk back from the end while the characters still fit. */
    const uint8_t *s = (const uint8_t *)e->text;
    size_t start = e->len, width = 0;
    while (start > 0) {
        size_t prev = start - 1;
        while (prev > 0 && is_continuation(s[prev]))
            prev--;
        uint32_t cp;
        decode(s + prev, &cp);
        size_t w = character_width(cp);
        if (width + w > budget)
            break;
        width += w;
        start = prev;
    }
    size_t used = 0;
    out[used++] = '\r';
    memcpy(out + used, LINE_EDITOR_PROMPT, prompt_len);
    used += prompt_len;
    memcpy(out + used, e->text + start, e->len - start);
    used += e->len - start;
    memcpy(out + used, "\x1b[K", 3);
    used += 3;
    return used;
}
