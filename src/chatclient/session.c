/*
 * The chat client's loop: one poll() over the socket, the input and (when
 * streaming) the output, with fixed buffers between them.
 *
 *   input --> up --> socket        socket --> in --> (lines) --> out --> output
 *
 * A full buffer stops reading from its source. Server bytes are cut into
 * lines and sanitized on their way from in to out; a line longer than in
 * is passed on in pieces cut between characters, so no server line can
 * make the client hold more than in.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chatclient/chat_client.h"
#include "chatclient/line_editor.h"
#include "chatclient/terminal.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/io.h"
#include "core/relay_buffer.h"
#include "core/text.h"
#include "netclient/dial.h"

/* Each direction's buffer: one large socket read's worth. */
#define RELAY_BUFFER (64 * 1024)
/* Sanitizing turns each invalid byte into three, and a bare LF becomes
 * CRLF on a terminal; the slack holds the terminal's prompt handling. */
#define OUTPUT_BUFFER (TEXT_SANITIZED_MAX(RELAY_BUFFER) + 1024)
/* The longest line the editor takes. Keys are handled only while up has
 * room for a whole line, so Enter never finds it full. */
#define EDITOR_MAX (RELAY_BUFFER / 4)
#define KEYS_BUFFER 256

#define CLEAR_LINE "\r\x1b[K"

struct chat_session {
    const struct chat_client_config *cfg;
    int fd;

    /* Toward the server. */
    struct relay_buffer up;
    bool input_done;      /* Nothing more will be read from the input. */
    bool input_mid_line;  /* The last input byte read was not a newline. */
    bool write_shut;      /* shutdown(SHUT_WR) done. */
    bool send_failed;     /* The server stopped taking bytes. */
    bool quit_sent;       /* /quit went out: the server will close. */
    int64_t linger_until; /* 0, or when to stop waiting for a silent server. */

    /* From the server. */
    struct relay_buffer in;
    bool server_done; /* End of stream or reset seen. */
    bool reset;

    /* Toward the output. */
    struct relay_buffer out;
    bool output_gone; /* The reader of our output went away. */
    bool out_is_pipe; /* Writes are cut to PIPE_BUF so they never block. */

    /* Interactive mode. */
    struct line_editor editor;
    struct relay_buffer keys; /* Read from the terminal, not yet handled. */
    char *draw;               /* The prompt line being drawn. */
    unsigned columns;
    bool prompt_shown;
    bool leaving; /* Ctrl-C or Ctrl-D: end now. */

    uint8_t storage[];
};

/* ---- Server lines ------------------------------------------------------- */

/*
 * Moves the complete lines in `in` to `out`, sanitized, each ending in
 * ending. Stops when out lacks room for the next one. Returns the lines
 * moved.
 */
static size_t take_server_lines(struct chat_session *s, const char *ending)
{
    size_t ending_len = strlen(ending);
    size_t moved = 0;
    for (;;) {
        const uint8_t *start = relay_buffer_peek(&s->in);
        size_t avail = relay_buffer_length(&s->in);
        if (avail == 0)
            return moved;
        const uint8_t *lf = memchr(start, '\n', avail);
        size_t len, consumed;
        bool ended = true;
        if (lf) {
            len = (size_t)(lf - start);
            consumed = len + 1;
        } else if (s->server_done) {
            len = consumed = avail; /* The last line, unterminated. */
        } else if (relay_buffer_space(&s->in) == 0) {
            /* The rest of the line has not arrived, so a character still
             * missing bytes waits for the next piece. in is far larger
             * than a character, so the piece is never empty. */
            len = consumed = text_cut((const char *)start, avail, avail);
            /* A piece of a line: on a terminal it has to end, because
             * the prompt is drawn below it; a stream continues it. */
            ended = s->cfg->interactive;
        } else {
            return moved;
        }
        size_t need = TEXT_SANITIZED_MAX(len) + ending_len;
        if (relay_buffer_space(&s->out) < need)
            return moved;
        size_t room;
        char *into = (char *)relay_buffer_reserve(&s->out, need, &room);
        /* The sanitizer also drops the CR of CRLF: it is a control. */
        relay_buffer_commit(&s->out, text_sanitize((const char *)start, len, into));
        if (ended)
            relay_buffer_append(&s->out, ending, ending_len);
        relay_buffer_consume(&s->in, consumed);
        moved++;
    }
}

/* ---- Interactive mode --------------------------------------------------- */

/* Writes out, then the prompt with the line being typed. */
static int refresh_terminal(struct chat_session *s, bool with_prompt)
{
    size_t pending = relay_buffer_length(&s->out);
    if (pending > 0) {
        if (io_write_all(s->cfg->out_fd, relay_buffer_peek(&s->out), pending) != 0)
            return -1;
        relay_buffer_consume(&s->out, pending);
    }
    if (!with_prompt)
        return 0;
    size_t n = line_editor_draw(&s->editor, s->columns, s->draw);
    s->prompt_shown = true;
    return io_write_all(s->cfg->out_fd, s->draw, n);
}

static int show_server_lines(struct chat_session *s)
{
    /* Over the prompt: the lines take its place, and it is drawn again
     * below them. out is empty here: the terminal is written at once. */
    bool shown = false;
    for (;;) {
        size_t before = relay_buffer_length(&s->out);
        if (!shown)
            relay_buffer_append(&s->out, CLEAR_LINE, sizeof(CLEAR_LINE) - 1);
        if (take_server_lines(s, "\r\n") == 0) {
            if (!shown)
                relay_buffer_truncate(&s->out, before);
            break;
        }
        shown = true;
        if (refresh_terminal(s, false) != 0)
            return -1;
    }
    return shown ? refresh_terminal(s, !s->quit_sent) : 0;
}

/* "/quit" and "/quit REASON", as the server reads them. */
static bool is_quit_command(const char *line, size_t len)
{
    if (len == 0 || line[0] != '/')
        return false;
    size_t i = 1;
    while (i < len && line[i] == ' ')
        i++;
    return len - i >= 4 && memcmp(line + i, "quit", 4) == 0 && (len - i == 4 || line[i + 4] == ' ');
}

static int submit_line(struct chat_session *s)
{
    size_t len;
    const char *line = line_editor_take(&s->editor, &len);
    relay_buffer_append(&s->up, line, len);
    relay_buffer_append(&s->up, "\n", 1);
    /* The server does not send people their own words back, so the line
     * stays on screen as it was typed. */
    relay_buffer_append(&s->out, CLEAR_LINE LINE_EDITOR_PROMPT,
                        sizeof(CLEAR_LINE LINE_EDITOR_PROMPT) - 1);
    relay_buffer_append(&s->out, line, len);
    relay_buffer_append(&s->out, "\r\n", 2);
    if (is_quit_command(line, len)) {
        s->quit_sent = true;
        s->input_done = true;
    }
    return refresh_terminal(s, !s->quit_sent);
}

/* Handles typed keys while up can take a whole line. */
static int handle_keys(struct chat_session *s)
{
    while (relay_buffer_length(&s->keys) > 0 && !s->input_done && !s->leaving) {
        if (relay_buffer_space(&s->up) < EDITOR_MAX + 1)
            return 0;
        uint8_t key = relay_buffer_peek(&s->keys)[0];
        relay_buffer_consume(&s->keys, 1);
        int rc = 0;
        switch (line_editor_feed(&s->editor, key)) {
        case LINE_EDITOR_NONE:
            break;
        case LINE_EDITOR_CHANGED:
        case LINE_EDITOR_REDRAW:
            rc = refresh_terminal(s, true);
            break;
        case LINE_EDITOR_FULL:
            rc = io_write_all(s->cfg->out_fd, "\a", 1);
            break;
        case LINE_EDITOR_SUBMIT:
            rc = submit_line(s);
            break;
        case LINE_EDITOR_INTERRUPT:
        case LINE_EDITOR_EOF:
            s->leaving = true;
            break;
        }
        if (rc != 0)
            return -1;
    }
    return 0;
}

static int read_keys(struct chat_session *s)
{
    size_t room;
    uint8_t *into = relay_buffer_reserve(&s->keys, SIZE_MAX, &room);
    ssize_t n = read(s->cfg->in_fd, into, room);
    if (n < 0 && io_is_transient(errno))
        return 0;
    if (n <= 0) {
        /* The terminal went away (EOF or EIO after a hang-up). */
        s->leaving = true;
        return 0;
    }
    relay_buffer_commit(&s->keys, (size_t)n);
    return handle_keys(s);
}

/* ---- Streaming mode ----------------------------------------------------- */

static int read_input(struct chat_session *s, char *err, size_t errlen)
{
    /* One byte stays free for the newline a last unterminated line gets. */
    size_t room;
    uint8_t *into = relay_buffer_reserve(&s->up, SIZE_MAX, &room);
    ssize_t n = read(s->cfg->in_fd, into, room - 1);
    if (n < 0 && io_is_transient(errno))
        return 0;
    if (n < 0)
        return error_set(err, errlen, "cannot read standard input: %s", strerror(errno));
    if (n == 0) {
        s->input_done = true;
        if (s->input_mid_line)
            relay_buffer_append(&s->up, "\n", 1);
        return 0;
    }
    relay_buffer_commit(&s->up, (size_t)n);
    s->input_mid_line = into[n - 1] != '\n';
    return 0;
}

static int write_output(struct chat_session *s, char *err, size_t errlen)
{
    size_t len = relay_buffer_length(&s->out);
    if (s->out_is_pipe && len > PIPE_BUF)
        len = PIPE_BUF;
    ssize_t n = write(s->cfg->out_fd, relay_buffer_peek(&s->out), len);
    if (n < 0 && io_is_transient(errno))
        return 0;
    if (n < 0 && errno == EPIPE) {
        s->output_gone = true;
        return 0;
    }
    if (n < 0)
        return error_set(err, errlen, "cannot write to standard output: %s", strerror(errno));
    relay_buffer_consume(&s->out, (size_t)n);
    if (s->linger_until != 0)
        s->linger_until = clock_now_ms() + s->cfg->linger_ms;
    return 0;
}

/* ---- The socket --------------------------------------------------------- */

static int send_some(struct chat_session *s, char *err, size_t errlen)
{
    ssize_t n = send(s->fd, relay_buffer_peek(&s->up), relay_buffer_length(&s->up), MSG_NOSIGNAL);
    if (n < 0 && io_is_transient(errno))
        return 0;
    if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) {
        /* The server is gone; what it sent before may still be waiting. */
        s->send_failed = true;
        s->input_done = true;
        relay_buffer_consume(&s->up, relay_buffer_length(&s->up));
        return 0;
    }
    if (n < 0)
        return error_set(err, errlen, "cannot send to %s: %s", s->cfg->url, strerror(errno));
    relay_buffer_consume(&s->up, (size_t)n);
    return 0;
}

static int receive_some(struct chat_session *s, char *err, size_t errlen)
{
    size_t room;
    uint8_t *into = relay_buffer_reserve(&s->in, SIZE_MAX, &room);
    ssize_t n = recv(s->fd, into, room, 0);
    if (n < 0 && io_is_transient(errno))
        return 0;
    if (n < 0 && errno == ECONNRESET) {
        s->reset = true;
        s->server_done = true;
        return 0;
    }
    if (n < 0)
        return error_set(err, errlen, "cannot read from %s: %s", s->cfg->url, strerror(errno));
    if (n == 0)
        s->server_done = true;
    relay_buffer_commit(&s->in, (size_t)n);
    /* Lingering waits for a silent server, not for a talking one. */
    if (n > 0 && s->linger_until != 0)
        s->linger_until = clock_now_ms() + s->cfg->linger_ms;
    return 0;
}

/* Once everything meant for the server has gone out: half-close, so the
 * server sees the end, and start waiting for its close. */
static void finish_sending(struct chat_session *s)
{
    if (!s->input_done || relay_buffer_length(&s->up) > 0 || s->linger_until != 0)
        return;
    if (s->cfg->interactive && !s->quit_sent)
        return;
    s->linger_until = clock_now_ms() + s->cfg->linger_ms;
    if (!s->send_failed && !s->write_shut) {
        s->write_shut = true;
        /* ENOTCONN: the server already went; the loop hears it next. */
        (void)shutdown(s->fd, SHUT_WR);
    }
}

/* ---- The loop ----------------------------------------------------------- */

enum { POLL_SOCKET, POLL_INPUT, POLL_OUTPUT, POLL_COUNT };

static void watch(struct pollfd *pfd, int fd, short events)
{
    /* A descriptor with nothing to wait for is left out, or a hang-up on
     * it would wake poll() again and again. */
    pfd->fd = events != 0 ? fd : -1;
    pfd->events = events;
    pfd->revents = 0;
}

/* True while only the server can move things on: nothing is waiting for
 * the output, and in holds at most the start of a line. The linger runs
 * only then, so a slow reader of our output is never cut short. */
static bool waiting_on_server(const struct chat_session *s)
{
    return relay_buffer_length(&s->out) == 0 && relay_buffer_space(&s->in) > 0 &&
           memchr(relay_buffer_peek(&s->in), '\n', relay_buffer_length(&s->in)) == NULL;
}

static bool linger_over(const struct chat_session *s)
{
    return s->linger_until != 0 && waiting_on_server(s) && clock_now_ms() >= s->linger_until;
}

/* True when the chat is over; sets *end. */
static bool finished(struct chat_session *s, enum chat_client_end *end)
{
    if (s->output_gone || s->leaving) {
        *end = CHAT_END_LEFT;
        return true;
    }
    if (s->server_done && relay_buffer_length(&s->in) == 0 && relay_buffer_length(&s->out) == 0) {
        if (s->reset)
            *end = CHAT_END_RESET;
        else if (s->write_shut || s->quit_sent)
            *end = CHAT_END_LEFT;
        else
            *end = CHAT_END_SERVER_CLOSED;
        return true;
    }
    if (linger_over(s)) {
        *end = CHAT_END_LEFT;
        return true;
    }
    return false;
}

static int run_loop(struct chat_session *s, const sigset_t *wait_mask, enum chat_client_end *end,
                    char *err, size_t errlen)
{
    const struct chat_client_config *cfg = s->cfg;
    for (;;) {
        int rc = 0;
        if (cfg->interactive) {
            if (show_server_lines(s) != 0)
                s->output_gone = true;
        } else {
            take_server_lines(s, "\n");
        }
        finish_sending(s);
        if (finished(s, end))
            return 0;

        struct pollfd pfd[POLL_COUNT];
        short socket_events = 0;
        if (!s->server_done && relay_buffer_space(&s->in) > 0)
            socket_events |= POLLIN;
        if (relay_buffer_length(&s->up) > 0 && !s->send_failed)
            socket_events |= POLLOUT;
        watch(&pfd[POLL_SOCKET], s->fd, socket_events);
        bool want_input = !s->input_done && (cfg->interactive ? relay_buffer_length(&s->keys) == 0
                                                              : relay_buffer_space(&s->up) > 1);
        watch(&pfd[POLL_INPUT], cfg->in_fd, want_input ? POLLIN : 0);
        watch(&pfd[POLL_OUTPUT], cfg->out_fd,
              !cfg->interactive && relay_buffer_length(&s->out) > 0 ? POLLOUT : 0);

        struct timespec timeout, *wait = NULL;
        if (s->linger_until != 0 && waiting_on_server(s)) {
            int ms = clock_timeout_until(s->linger_until);
            timeout.tv_sec = ms / 1000;
            timeout.tv_nsec = (long)(ms % 1000) * 1000000;
            wait = &timeout;
        }
        int n = ppoll(pfd, POLL_COUNT, wait, wait_mask);
        if (n < 0 && errno != EINTR)
            return error_set(err, errlen, "poll failed: %s", strerror(errno));
        if (cfg->interactive && terminal_take_resize()) {
            s->columns = terminal_columns(cfg->out_fd);
            if (refresh_terminal(s, !s->quit_sent) != 0)
                s->output_gone = true;
        }
        if (n <= 0)
            continue;

        if (pfd[POLL_OUTPUT].revents & POLLNVAL)
            return error_set(err, errlen, "standard output is closed");
        if (pfd[POLL_OUTPUT].revents && (rc = write_output(s, err, errlen)) != 0)
            return rc;
        if (pfd[POLL_SOCKET].revents & (POLLIN | POLLHUP | POLLERR) && (socket_events & POLLIN) &&
            (rc = receive_some(s, err, errlen)) != 0)
            return rc;
        if (pfd[POLL_SOCKET].revents & (POLLOUT | POLLHUP | POLLERR) && (socket_events & POLLOUT) &&
            (rc = send_some(s, err, errlen)) != 0)
            return rc;
        if (pfd[POLL_INPUT].revents & POLLNVAL) {
            /* A closed standard input reads as an empty one. */
            s->input_done = true;
        } else if (pfd[POLL_INPUT].revents) {
            rc = cfg->interactive ? read_keys(s) : read_input(s, err, errlen);
            if (rc != 0)
                return rc;
        }
        /* Keys held back while up was full go on as it drains. */
        if (cfg->interactive && handle_keys(s) != 0)
            s->output_gone = true;
    }
}

/* ---- Setting up --------------------------------------------------------- */

static int connect_any(const struct chat_client_config *cfg, char *err, size_t errlen)
{
    struct client_dialer dialer;
    if (client_dialer_resolve(&dialer, &cfg->target, err, errlen) != 0)
        return -1;
    char why[128] = "no address to try";
    int fd = -1;
    while (fd < 0 && client_dialer_has_next(&dialer))
        fd = client_dialer_connect_next(&dialer, cfg->connect_timeout_ms, why, sizeof(why));
    client_dialer_free(&dialer);
    if (fd < 0)
        return error_set(err, errlen, "cannot connect to %s: %s", cfg->url, why);
    return fd;
}

static struct chat_session *session_create(const struct chat_client_config *cfg)
{
    size_t keys = cfg->interactive ? KEYS_BUFFER : 0;
    size_t draw = cfg->interactive ? LINE_EDITOR_DRAW_MAX(EDITOR_MAX) : 0;
    struct chat_session *s = calloc(1, sizeof(*s) + 2 * RELAY_BUFFER + OUTPUT_BUFFER + keys + draw);
    if (!s)
        return NULL;
    uint8_t *p = s->storage;
    relay_buffer_init(&s->up, p, RELAY_BUFFER);
    p += RELAY_BUFFER;
    relay_buffer_init(&s->in, p, RELAY_BUFFER);
    p += RELAY_BUFFER;
    relay_buffer_init(&s->out, p, OUTPUT_BUFFER);
    p += OUTPUT_BUFFER;
    relay_buffer_init(&s->keys, p, keys);
    p += keys;
    s->draw = (char *)p;
    s->cfg = cfg;
    s->fd = -1;
    if (cfg->interactive && line_editor_init(&s->editor, EDITOR_MAX) != 0) {
        free(s);
        return NULL;
    }
    struct stat st;
    s->out_is_pipe = fstat(cfg->out_fd, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
    return s;
}

static void session_free(struct chat_session *s)
{
    if (s->fd >= 0)
        close(s->fd);
    line_editor_free(&s->editor);
    free(s);
}

int chat_client_run(const struct chat_client_config *cfg, enum chat_client_end *end, char *err,
                    size_t errlen)
{
    struct chat_session *s = session_create(cfg);
    if (!s)
        return error_set(err, errlen, "out of memory");
    s->fd = connect_any(cfg, err, errlen);
    if (s->fd < 0) {
        session_free(s);
        return -1;
    }
    sigset_t wait_mask, *mask = NULL;
    int rc = 0;
    if (cfg->interactive) {
        if (terminal_watch_resize(&wait_mask) != 0)
            rc = error_set(err, errlen, "cannot watch the window size: %s", strerror(errno));
        else
            rc = terminal_enter_raw(cfg->in_fd, err, errlen);
        mask = &wait_mask;
        s->columns = terminal_columns(cfg->out_fd);
        if (rc == 0 && refresh_terminal(s, true) != 0)
            s->output_gone = true;
    }
    if (rc == 0)
        rc = run_loop(s, mask, end, err, errlen);
    if (cfg->interactive) {
        /* The shell's prompt starts on a clean line. */
        if (s->prompt_shown)
            (void)io_write_all(cfg->out_fd, CLEAR_LINE, sizeof(CLEAR_LINE) - 1);
        terminal_restore();
    }
    session_free(s);
    return rc;
}
