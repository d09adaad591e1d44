/*
 * The TCP side of the client: a netcat-style relay under one poll() loop.
 *
 * Two fixed buffers carry the bytes: up (input to the socket) and down (the
 * socket to the output). A full buffer stops reading from its source, which
 * is the only backpressure needed: a server that stops reading stalls the
 * input, a slow output stalls the socket, and nothing grows. The message,
 * when there is one, is sent straight from memory instead of through up.
 *
 * Verifying keeps what a correct reply must still contain (the bytes sent,
 * uppercased for upper) in a queue bounded by VERIFY_WINDOW; sending pauses
 * while it is full, so verifying a stream of any length needs no more.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/buffer.h"
#include "core/clock.h"
#include "core/duration.h"
#include "core/error.h"
#include "core/io.h"
#include "core/relay_buffer.h"
#include "netclient/dial.h"
#include "netclient/netclient.h"
#include "netclient/reply_format.h"

/* Per direction: the size of one large socket read, so a busy stream moves
 * in few system calls. */
#define RELAY_BUFFER (64 * 1024)
/* Sent bytes whose reply may still be on its way, while verifying: more
 * than the socket buffers on both sides and the server's own output queue
 * hold, so the window never slows a healthy echo down. */
#define VERIFY_WINDOW (8 * 1024 * 1024)
/* daytime sends one line and time 4 bytes; a reply longer than this is not
 * one of theirs. */
#define SHORT_REPLY_MAX 1024
/* Bytes uppercased at a time on their way into the verify queue. */
#define TRANSFORM_CHUNK 4096

struct tcp_relay {
    const struct client_job *job;
    int fd;
    int64_t last_progress_ms;

    /* Toward the server. */
    struct relay_buffer up;
    size_t message_sent;
    bool input_done; /* Nothing more will be added to what is pending. */
    bool write_shut;
    bool send_failed; /* The server stopped taking input (EPIPE, ECONNRESET). */
    uint64_t bytes_sent;

    /* From the server. */
    struct relay_buffer down;
    bool server_done; /* End of stream seen. */
    bool output_gone; /* The reader of our output went away (EPIPE). */
    uint64_t bytes_received;
    struct buffer awaiting; /* --verify: what the reply must still contain. */
    /* daytime and time: the whole reply, formatted once it has ended. One
     * spare byte tells a reply of exactly SHORT_REPLY_MAX from a longer one. */
    uint8_t short_reply[SHORT_REPLY_MAX + 1];
    size_t short_len;

    uint8_t up_storage[RELAY_BUFFER];
    uint8_t down_storage[RELAY_BUFFER];
};

/* ---- Helpers ------------------------------------------------------------ */

static bool reads_input(const struct tcp_relay *r)
{
    return r->job->protocol->takes_input && r->job->message == NULL;
}

static bool collects_short_reply(const struct tcp_relay *r)
{
    enum client_reply reply = r->job->protocol->reply;
    return reply == CLIENT_REPLY_DAYTIME || reply == CLIENT_REPLY_TIME;
}

static bool limit_reached(const struct tcp_relay *r)
{
    return r->job->bytes > 0 && r->bytes_received >= r->job->bytes;
}

/* What is waiting to go to the server. */
static size_t pending_out(const struct tcp_relay *r, const uint8_t **data)
{
    if (r->job->message != NULL) {
        *data = r->job->message + r->message_sent;
        return r->job->message_len - r->message_sent;
    }
    *data = relay_buffer_peek(&r->up);
    return relay_buffer_length(&r->up);
}

/* How much of what is pending may be sent now. */
static size_t sendable(const struct tcp_relay *r)
{
    const uint8_t *data;
    size_t len = pending_out(r, &data);
    if (r->send_failed)
        return 0;
    if (r->job->verify) {
        size_t room = VERIFY_WINDOW - buffer_length(&r->awaiting);
        if (len > room)
            len = room;
    }
    return len;
}

static const char *expected_text(const struct client_protocol *p)
{
    return p->expect == CLIENT_EXPECT_UPPER ? "the uppercase of what was sent" : "what was sent";
}

/* ---- Events ------------------------------------------------------------- */

/* Adds what a correct reply to data must contain to the verify queue. */
static int await_reply_to(struct tcp_relay *r, const uint8_t *data, size_t len)
{
    const struct client_protocol *p = r->job->protocol;
    if (p->expect == CLIENT_EXPECT_SAME)
        return buffer_append(&r->awaiting, data, len, VERIFY_WINDOW);
    uint8_t chunk[TRANSFORM_CHUNK];
    for (size_t done = 0; done < len;) {
        size_t n = len - done < sizeof chunk ? len - done : sizeof chunk;
        for (size_t i = 0; i < n; i++)
            chunk[i] = client_protocol_expected_byte(p, data[done + i]);
        if (buffer_append(&r->awaiting, chunk, n, VERIFY_WINDOW) != 0)
            return -1;
        done += n;
    }
    return 0;
}

static int send_some(struct tcp_relay *r, char *err, size_t errlen)
{
    const uint8_t *data;
    pending_out(r, &data);
    size_t len = sendable(r);
    ssize_t n = send(r->fd, data, len, MSG_NOSIGNAL);
    if (n < 0 && io_is_transient(errno))
        return 0;
    if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) {
        /* What the server already sent may still be waiting to be read. */
        r->send_failed = true;
        return 0;
    }
    if (n < 0)
        return error_set(err, errlen, "cannot send to %s: %s", r->job->url, strerror(errno));
    if (r->job->verify && await_reply_to(r, data, (size_t)n) != 0)
        return error_set(err, errlen, "out of memory");
    if (r->job->message != NULL)
        r->message_sent += (size_t)n;
    else
        relay_buffer_consume(&r->up, (size_t)n);
    r->bytes_sent += (uint64_t)n;
    return 0;
}

/* Checks newly received bytes against the verify queue. */
static int check_reply(struct tcp_relay *r, const uint8_t *data, size_t len, char *err,
                       size_t errlen)
{
    const uint8_t *expected = buffer_peek(&r->awaiting);
    size_t expected_len = buffer_length(&r->awaiting);
    size_t common = len < expected_len ? len : expected_len;
    for (size_t i = 0; i < common; i++) {
        if (data[i] == expected[i])
            continue;
        char want[8], got[8];
        client_format_byte(expected[i], want, sizeof want);
        client_format_byte(data[i], got, sizeof got);
        return error_set(err, errlen,
                         "reply differs from %s at byte offset %" PRIu64 " (expected %s, got %s)",
                         expected_text(r->job->protocol), r->bytes_received + i, want, got);
    }
    if (len > expected_len)
        return error_set(err, errlen,
                         "reply is longer than what was sent: byte offset %" PRIu64
                         " came back, but only %" PRIu64 " bytes were sent",
                         r->bytes_received + expected_len, r->bytes_sent);
    buffer_consume(&r->awaiting, common);
    return 0;
}

static int receive_some(struct tcp_relay *r, char *err, size_t errlen)
{
    uint8_t *into;
    size_t room;
    if (collects_short_reply(r)) {
        into = r->short_reply + r->short_len;
        room = sizeof r->short_reply - r->short_len;
    } else {
        into = relay_buffer_reserve(&r->down, 1, &room);
    }
    /* Never read past --bytes: what is left stays unread in the socket. */
    if (r->job->bytes > 0 && room > r->job->bytes - r->bytes_received)
        room = (size_t)(r->job->bytes - r->bytes_received);
    ssize_t n = recv(r->fd, into, room, 0);
    if (n < 0 && io_is_transient(errno))
        return 0;
    if (n < 0 && errno == ECONNRESET)
        return error_set(err, errlen, "connection reset by %s", r->job->url);
    if (n < 0)
        return error_set(err, errlen, "cannot read from %s: %s", r->job->url, strerror(errno));
    if (n == 0) {
        r->server_done = true;
        return 0;
    }
    size_t got = (size_t)n;
    int rc = r->job->verify ? check_reply(r, into, got, err, errlen) : 0;
    /* The bytes are shown even when they fail the check, so the user sees
     * what came back. */
    if (collects_short_reply(r)) {
        r->short_len += got;
        if (r->short_len > SHORT_REPLY_MAX)
            return error_set(err, errlen, "reply from %s is longer than %d bytes: not a %s reply",
                             r->job->url, SHORT_REPLY_MAX, r->job->protocol->name);
    } else {
        relay_buffer_commit(&r->down, got);
    }
    r->bytes_received += got;
    return rc;
}

static int read_input(struct tcp_relay *r, char *err, size_t errlen)
{
    size_t room;
    uint8_t *into = relay_buffer_reserve(&r->up, 1, &room);
    ssize_t n = read(r->job->in_fd, into, room);
    if (n < 0 && io_is_transient(errno))
        return 0;
    if (n < 0)
        return error_set(err, errlen, "cannot read standard input: %s", strerror(errno));
    if (n == 0)
        r->input_done = true;
    relay_buffer_commit(&r->up, (size_t)n);
    return 0;
}

static int write_output(struct tcp_relay *r, char *err, size_t errlen)
{
    ssize_t n = write(r->job->out_fd, relay_buffer_peek(&r->down), relay_buffer_length(&r->down));
    if (n < 0 && io_is_transient(errno))
        return 0;
    if (n < 0 && errno == EPIPE) {
        r->output_gone = true;
        return 0;
    }
    if (n < 0)
        return error_set(err, errlen, "cannot write to standard output: %s", strerror(errno));
    relay_buffer_consume(&r->down, (size_t)n);
    return 0;
}

/* Half-closes once the last input byte is sent, so the server sees the end. */
static int shut_write_side(struct tcp_relay *r)
{
    if (r->write_shut || !r->job->protocol->takes_input || r->send_failed || !r->input_done)
        return 0;
    const uint8_t *data;
    if (pending_out(r, &data) > 0)
        return 0;
    r->write_shut = true;
    if (shutdown(r->fd, SHUT_WR) != 0 && errno != ENOTCONN)
        return -1;
    return 0;
}

static int timed_out(const struct tcp_relay *r, char *err, size_t errlen)
{
    char limit[32];
    duration_format(r->job->timeout_ms, limit, sizeof limit);
    if (r->bytes_received == 0)
        return error_set(err, errlen, "no reply from %s within %s", r->job->url, limit);
    return error_set(err, errlen, "%s sent nothing more for %s (after %" PRIu64 " bytes)",
                     r->job->url, limit, r->bytes_received);
}

/* ---- The loop ----------------------------------------------------------- */

enum { POLL_SOCKET, POLL_INPUT, POLL_OUTPUT, POLL_COUNT };

/* True when the conversation is over, successfully or not. */
static bool relay_finished(const struct tcp_relay *r)
{
    if (r->output_gone)
        return true;
    const uint8_t *data;
    bool all_sent = r->input_done && pending_out(r, &data) == 0;
    /* discard answers nothing, so there is nothing to wait for. */
    if (r->job->protocol->reply == CLIENT_REPLY_NONE && (all_sent || r->send_failed))
        return true;
    return (r->server_done || limit_reached(r)) && relay_buffer_length(&r->down) == 0;
}

static void watch(struct pollfd *pfd, int fd, short events)
{
    /* A descriptor with nothing to wait for is left out, or a hang-up on
     * it would wake poll() again and again. */
    pfd->fd = events != 0 ? fd : -1;
    pfd->events = events;
    pfd->revents = 0;
}

static int run_loop(struct tcp_relay *r, char *err, size_t errlen)
{
    const struct client_job *job = r->job;
    r->last_progress_ms = clock_now_ms();
    for (;;) {
        if (shut_write_side(r) != 0)
            r->send_failed = true;
        if (relay_finished(r))
            return 0;
        struct pollfd pfd[POLL_COUNT];
        short socket_events = 0;
        if (!r->server_done && !limit_reached(r) &&
            (collects_short_reply(r) || relay_buffer_space(&r->down) > 0))
            socket_events |= POLLIN;
        if (sendable(r) > 0)
            socket_events |= POLLOUT;
        watch(&pfd[POLL_SOCKET], r->fd, socket_events);
        watch(&pfd[POLL_INPUT], job->in_fd,
              reads_input(r) && !r->input_done && relay_buffer_space(&r->up) > 0 ? POLLIN : 0);
        watch(&pfd[POLL_OUTPUT], job->out_fd, relay_buffer_length(&r->down) > 0 ? POLLOUT : 0);

        /* The timeout runs only while the server alone can move things on:
         * a user typing slowly, or a slow reader of our output, is not the
         * server's silence. */
        int wait = -1;
        if (pfd[POLL_INPUT].fd < 0 && pfd[POLL_OUTPUT].fd < 0) {
            wait = clock_timeout_until(r->last_progress_ms + job->timeout_ms);
            if (wait == 0)
                return timed_out(r, err, errlen);
        }
        int n = poll(pfd, POLL_COUNT, wait);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return error_set(err, errlen, "poll failed: %s", strerror(errno));
        if (n == 0)
            continue; /* The deadline is checked at the top. */
        r->last_progress_ms = clock_now_ms();

        if (pfd[POLL_OUTPUT].revents & POLLNVAL)
            return error_set(err, errlen, "standard output is closed");
        if (pfd[POLL_OUTPUT].revents && write_output(r, err, errlen) != 0)
            return -1;
        if ((pfd[POLL_SOCKET].revents & (POLLIN | POLLHUP | POLLERR)) && (socket_events & POLLIN)) {
            if (receive_some(r, err, errlen) != 0)
                return -1;
        }
        if ((pfd[POLL_SOCKET].revents & (POLLOUT | POLLHUP | POLLERR)) &&
            (socket_events & POLLOUT) && send_some(r, err, errlen) != 0)
            return -1;
        /* A closed standard input reads as an empty one. */
        if (pfd[POLL_INPUT].revents & POLLNVAL)
            r->input_done = true;
        else if (pfd[POLL_INPUT].revents && read_input(r, err, errlen) != 0)
            return -1;
    }
}

/* After the loop: what the conversation's end says about its success. */
static int judge_end(struct tcp_relay *r, char *err, size_t errlen)
{
    const struct client_job *job = r->job;
    if (r->output_gone)
        return 0;
    if (r->send_failed && job->protocol->takes_input && !limit_reached(r))
        return error_set(err, errlen,
                         "%s closed the connection before all input was sent (%" PRIu64
                         " bytes sent)",
                         job->url, r->bytes_sent);
    if (job->bytes > 0 && !limit_reached(r))
        return error_set(err, errlen,
                         "reply ended after %" PRIu64 " of the %" PRIu64 " bytes asked for",
                         r->bytes_received, job->bytes);
    if (job->verify && !limit_reached(r) && r->bytes_received < r->bytes_sent)
        return error_set(err, errlen,
                         "reply ended after %" PRIu64 " bytes, but %" PRIu64 " bytes were sent",
                         r->bytes_received, r->bytes_sent);
    /* A daytime or time server that closes at once has answered nothing:
     * an empty line would pass for a date. */
    if (collects_short_reply(r) && r->short_len == 0)
        return error_set(err, errlen, "%s closed the connection without a reply (%s sends %s)",
                         job->url, job->protocol->name,
                         job->protocol->reply == CLIENT_REPLY_TIME ? "4 bytes" : "a date line");
    if (collects_short_reply(r)) {
        char line[4 * SHORT_REPLY_MAX + 80];
        if (job->protocol->reply == CLIENT_REPLY_TIME) {
            if (client_format_time(r->short_reply, r->short_len, (int64_t)time(NULL), line,
                                   sizeof line) != 0)
                return error_set(err, errlen, "%s: %s", job->url, line);
        } else {
            client_format_daytime(r->short_reply, r->short_len, line, sizeof line);
        }
        if (io_write_all(job->out_fd, line, strlen(line)) != 0 && errno != EPIPE)
            return error_set(err, errlen, "cannot write to standard output: %s", strerror(errno));
    }
    return 0;
}

/* Connects to each address in turn; the last failure is the one reported. */
static int connect_any(const struct client_job *job, char *err, size_t errlen)
{
    struct client_dialer dialer;
    if (client_dialer_resolve(&dialer, &job->target, err, errlen) != 0)
        return -1;
    char why[128] = "no address to try";
    int fd = -1;
    while (fd < 0 && client_dialer_has_next(&dialer))
        fd = client_dialer_connect_next(&dialer, job->timeout_ms, why, sizeof why);
    client_dialer_free(&dialer);
    if (fd < 0)
        return error_set(err, errlen, "cannot connect to %s: %s", job->url, why);
    return fd;
}

int client_run_tcp(const struct client_job *job, char *err, size_t errlen)
{
    struct tcp_relay *r = calloc(1, sizeof *r);
    if (r == NULL)
        return error_set(err, errlen, "out of memory");
    r->job = job;
    relay_buffer_init(&r->up, r->up_storage, sizeof r->up_storage);
    relay_buffer_init(&r->down, r->down_storage, sizeof r->down_storage);
    /* Input that will never come counts as already ended. */
    r->input_done = !reads_input(r);
    r->fd = connect_any(job, err, errlen);
    int rc = -1;
    if (r->fd >= 0) {
        rc = run_loop(r, err, errlen);
        if (rc == 0)
            rc = judge_end(r, err, errlen);
        /* Whatever came back is shown even when the run failed. */
        if (!r->output_gone && relay_buffer_length(&r->down) > 0)
            (void)io_write_all(job->out_fd, relay_buffer_peek(&r->down),
                               relay_buffer_length(&r->down));
        close(r->fd);
    }
    buffer_free(&r->awaiting);
    free(r);
    return rc;
}
