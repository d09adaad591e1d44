/*
 * The chat client's line editor (chatclient/line_editor.h), fed the keys a
 * user, a paste or a terminal sends. The first byte picks the editor's
 * size, the second the terminal's width; each byte after is one key.
 *
 * Properties after every key: the line is valid, printable UTF-8 (what the
 * sanitiser leaves unchanged) of at most max bytes; a submit comes only for
 * a non-empty line and leaves the editor empty; leave requests come only on
 * an empty line; and a drawing fits LINE_EDITOR_DRAW_MAX, starts with the
 * prompt and shows the end of the line, never a control of the user's.
 */
#include "fuzz.h"

#include <locale.h>

#include "chatclient/line_editor.h"
#include "core/text.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Widths as sockserv chat sees them in a UTF-8 terminal, wide characters
 * included; without a UTF-8 locale every character would count as one. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (setlocale(LC_CTYPE, "C.UTF-8") == NULL)
        setlocale(LC_CTYPE, "");
    return 0;
}

static void check_clean(const char *text, size_t len)
{
    char *clean = malloc(TEXT_SANITIZED_MAX(len) + 1);
    if (clean == NULL)
        abort();
    size_t n = text_sanitize(text, len, clean);
    FUZZ_CHECK(n == len && memcmp(clean, text, len) == 0);
    free(clean);
}

static void check_draw(const struct line_editor *e, unsigned columns)
{
    size_t room = LINE_EDITOR_DRAW_MAX(e->max);
    char *out = malloc(room);
    if (out == NULL)
        abort();
    size_t n = line_editor_draw(e, columns, out);
    FUZZ_CHECK(n <= room);
    size_t prompt = strlen("\r" LINE_EDITOR_PROMPT);
    FUZZ_CHECK(n >= prompt + 3);
    FUZZ_CHECK(memcmp(out, "\r" LINE_EDITOR_PROMPT, prompt) == 0);
    FUZZ_CHECK(memcmp(out + n - 3, "\x1b[K", 3) == 0);
    /* Between prompt and erase: a whole-character suffix of the line. */
    size_t shown = n - prompt - 3;
    FUZZ_CHECK(shown <= e->len);
    FUZZ_CHECK(memcmp(out + prompt, e->text + e->len - shown, shown) == 0);
    check_clean(out + prompt, shown);
    /* That the suffix fits the columns is line_editor.c's to judge (its
     * character widths are private); the terminal test checks it. */
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = {data, size};
    size_t max = fuzz_byte(&in) % 64;
    unsigned columns = fuzz_byte(&in);
    struct line_editor e;
    if (line_editor_init(&e, max) != 0)
        return 0;
    while (in.len > 0) {
        bool was_empty = (e.len == 0);
        size_t before = e.len;
        enum line_editor_event ev = line_editor_feed(&e, fuzz_byte(&in));
        FUZZ_CHECK(e.len <= e.max);
        check_clean(e.text, e.len);
        switch (ev) {
        case LINE_EDITOR_SUBMIT: {
            FUZZ_CHECK(!was_empty);
            size_t len;
            const char *line = line_editor_take(&e, &len);
            FUZZ_CHECK(len == before && line == e.text);
            FUZZ_CHECK((e.len == 0));
            break;
        }
        case LINE_EDITOR_INTERRUPT:
        case LINE_EDITOR_EOF:
            FUZZ_CHECK(was_empty && (e.len == 0));
            break;
        case LINE_EDITOR_NONE:
        case LINE_EDITOR_REDRAW:
        case LINE_EDITOR_FULL:
            /* Nothing visible changed. */
            FUZZ_CHECK(e.len == before);
            break;
        case LINE_EDITOR_CHANGED:
            break;
        }
        check_draw(&e, columns);
    }
    line_editor_free(&e);
    return 0;
}
