/*
 * The line reader (core/line_reader.h), which splits what upper and chat
 * clients send into lines, checked against a model of its documented
 * behaviour. The first byte picks the longest line, the second how the
 * stream is cut into reads; the rest is the stream.
 *
 * The model reads the whole stream at once: every LF ends a line, and one
 * CR just before it is dropped. A line longer than the limit (without its
 * ending) is reported once as too long and never handed out. At the end, an
 * unterminated rest is a line when it is not empty and, its bytes all kept
 * (a final CR included), fits the limit; it was reported as too long already
 * when it passed the limit without a final CR. However the stream is cut,
 * the reader must produce exactly the model's events.
 */
#include "fuzz.h"

#include "core/line_reader.h"

/* What the model expects next, walking the stream from the front. */
struct model {
    const uint8_t *stream;
    size_t len;
    size_t at;
    size_t max_line;
};

enum expect_kind { EXPECT_LINE, EXPECT_TOO_LONG, EXPECT_END };

struct expectation {
    enum expect_kind kind;
    const uint8_t *line;
    size_t line_len;
    bool crlf;
};

/* The next event of a terminated line, or EXPECT_END at the unterminated rest. */
static struct expectation model_next(struct model *m)
{
    struct expectation e = {EXPECT_END, NULL, 0, false};
    const uint8_t *start = m->stream + m->at;
    const uint8_t *lf = memchr(start, '\n', m->len - m->at);
    if (lf == NULL)
        return e;
    size_t n = (size_t)(lf - start);
    e.crlf = n > 0 && start[n - 1] == '\r';
    size_t length = n - (e.crlf ? 1 : 0);
    m->at += n + 1;
    if (length > m->max_line) {
        e.kind = EXPECT_TOO_LONG;
        return e;
    }
    e.kind = EXPECT_LINE;
    e.line = start;
    e.line_len = length;
    return e;
}

static void expect_line(struct model *m, const char *line, size_t line_len, bool crlf)
{
    struct expectation e = model_next(m);
    FUZZ_CHECK(e.kind == EXPECT_LINE);
    FUZZ_CHECK(e.line_len == line_len);
    FUZZ_CHECK(line_len == 0 || memcmp(e.line, line, line_len) == 0);
    FUZZ_CHECK(e.crlf == crlf);
}

/*
 * A too-long report comes for a terminated line, or early for the
 * unterminated rest once it passes the limit, counted without a final CR
 * (which may still begin a CRLF). The count only grows as bytes arrive, so
 * the report comes exactly when the whole rest passes the limit.
 */
static bool rest_too_long(const struct model *m)
{
    size_t rest = m->len - m->at;
    bool final_cr = rest > 0 && m->stream[m->len - 1] == '\r';
    return rest - (final_cr ? 1 : 0) > m->max_line;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = {data, size};
    uint8_t limit = fuzz_byte(&in);
    /* Mostly tiny limits, so overlong lines are common; sometimes the real 4096. */
    size_t max_line = limit == 255 ? 4096 : limit % 32;
    struct fuzz_splitter split;
    fuzz_splitter_init(&split, fuzz_byte(&in));

    struct model m = {in.data, in.len, 0, max_line};
    bool rest_reported = false;
    struct line_reader r;
    line_reader_init(&r, max_line);

    size_t fed = 0;
    while (fed < in.len) {
        size_t n = fuzz_splitter_next(&split, in.len - fed);
        /* Each read in its own allocation, so a read past it is caught. */
        char *chunk = fuzz_string(in.data + fed, n);
        const char *p = chunk;
        size_t left = n;
        fed += n;
        for (;;) {
            const char *line = NULL;
            size_t line_len = 0;
            enum line_event ev = line_reader_next(&r, &p, &left, &line, &line_len);
            if (ev == LINE_NEED_MORE) {
                FUZZ_CHECK(left == 0);
                break;
            }
            if (ev == LINE_COMPLETE) {
                expect_line(&m, line, line_len, r.last_crlf);
                continue;
            }
            FUZZ_CHECK(ev == LINE_TOO_LONG);
            /* Either the next terminated line is overlong, or the stream
             * fed so far has an overlong unterminated rest. */
            struct model peek = m;
            peek.len = fed - left;
            struct expectation e = model_next(&peek);
            if (e.kind == EXPECT_TOO_LONG) {
                model_next(&m);
            } else {
                FUZZ_CHECK(e.kind == EXPECT_END);
                FUZZ_CHECK(!rest_reported);
                FUZZ_CHECK(rest_too_long(&peek));
                /* The rest's LF, if one comes, ends the dropped line
                 * silently; without one, the rest stays reported. */
                const uint8_t *lf = memchr(m.stream + m.at, '\n', m.len - m.at);
                if (lf)
                    m.at = (size_t)(lf - m.stream) + 1;
                else
                    rest_reported = true;
            }
        }
        free(chunk);
    }

    /* Every terminated line was handed out or reported. */
    struct model end = m;
    FUZZ_CHECK(model_next(&end).kind == EXPECT_END);
    const char *line = NULL;
    size_t line_len = 0;
    bool has_last = line_reader_finish(&r, &line, &line_len);
    size_t rest = m.len - m.at;
    bool expect_last = !rest_reported && rest > 0 && rest <= max_line;
    FUZZ_CHECK(has_last == expect_last);
    if (has_last) {
        FUZZ_CHECK(line_len == rest);
        FUZZ_CHECK(memcmp(line, m.stream + m.at, rest) == 0);
    }
    if (rest_reported)
        FUZZ_CHECK(rest_too_long(&m));
    else
        FUZZ_CHECK(rest == 0 || !rest_too_long(&m));
    line_reader_free(&r);
    return 0;
}
