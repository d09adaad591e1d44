/*
 * The UDP side of the client: request and reply, one datagram at a time.
 *
 * The socket is connect()ed, so the kernel passes on only datagrams from the
 * server, and an ICMP port unreachable comes back as ECONNREFUSED. Each
 * datagram waits for its reply before the next is sent; UDP promises no
 * order, and stop-and-wait is what lets a reply be matched to its request.
 *
 * With --retries, a datagram whose reply is late is sent again, and the
 * late reply may still come after the next datagram has gone out. A reply
 * that equals what the resent datagram should have got is therefore
 * dropped as a duplicate when the service's reply is predictable.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/duration.h"
#include "core/error.h"
#include "core/io.h"
#include "netclient/dial.h"
#include "netclient/netclient.h"
#include "netclient/reply_format.h"

/* Room for any datagram, so none is ever truncated. */
#define RECEIVE_MAX 65536
/* daytime and time as shown: a line, cut short if a server sends a book. */
#define SHOWN_LINE_MAX 4096

struct udp_session {
    const struct client_job *job;
    struct client_dialer dialer;
    int fd;
    bool answered;      /* A reply came: the address is the right one. */
    uint64_t datagrams; /* Sent so far, each counted once. */
    uint8_t *reply;     /* RECEIVE_MAX bytes. */
    uint8_t *expected;  /* The correct reply to the current datagram. */
    uint8_t *stale;     /* The correct reply to the last resent datagram. */
    size_t stale_len;
    bool has_stale;
    /* Standard input, cut into one datagram per line. */
    uint8_t *input; /* CLIENT_DATAGRAM_MAX bytes. */
    size_t input_len;
    bool input_eof;
};

enum exchange_result { EXCHANGE_DONE, EXCHANGE_RESEND };

/* ---- Addresses ------------------------------------------------------------ */

static int connect_next(struct udp_session *s, char *err, size_t errlen)
{
    char why[128] = "no address to try";
    int fd = -1;
    while (fd < 0 && client_dialer_has_next(&s->dialer))
        fd = client_dialer_connect_next(&s->dialer, s->job->timeout_ms, why, sizeof why);
    if (fd < 0)
        return error_set(err, errlen, "cannot reach %s: %s", s->job->url, why);
    s->fd = fd;
    return 0;
}

/*
 * The server's host refused the datagram. Until some reply has shown that
 * the address is right, the next address of the name is tried, as TCP does;
 * returns 0 when there is one to resend to.
 */
static int refused(struct udp_session *s, char *err, size_t errlen)
{
    if (!s->answered && client_dialer_has_next(&s->dialer)) {
        close(s->fd);
        s->fd = -1;
        return connect_next(s, err, errlen);
    }
    return error_set(err, errlen, "nothing listens at %s: %s (ICMP port unreachable)", s->job->url,
                     strerror(ECONNREFUSED));
}

/* ---- Replies ------------------------------------------------------------ */

/* Shows one reply, and checks it when asked to. */
static int take_reply(struct udp_session *s, size_t sent_len, size_t len, char *err, size_t errlen)
{
    const struct client_job *job = s->job;
    char line[SHOWN_LINE_MAX];
    const char *text = (const char *)s->reply;
    size_t text_len = len;
    if (job->protocol->reply == CLIENT_REPLY_TIME) {
        if (client_format_time(s->reply, len, (int64_t)time(NULL), line, sizeof line) != 0)
            return error_set(err, errlen, "%s: %s", job->url, line);
        text = line;
        text_len = strlen(line);
    } else if (job->protocol->reply == CLIENT_REPLY_DAYTIME) {
        if (len == 0)
            return error_set(err, errlen, "%s answered with an empty datagram, not a date line",
                             job->url);
        client_format_daytime(s->reply, len, line, sizeof line);
        text = line;
        text_len = strlen(line);
    }
    if (io_write_all(job->out_fd, text, text_len) != 0 && errno != EPIPE)
        return error_set(err, errlen, "cannot write to standard output: %s", strerror(errno));
    if (!job->verify)
        return 0;

    const char *what = job->protocol->expect == CLIENT_EXPECT_UPPER
                           ? "the uppercase of what was sent"
                           : "what was sent";
    size_t common = len < sent_len ? len : sent_len;
    for (size_t i = 0; i < common; i++) {
        if (s->reply[i] == s->expected[i])
            continue;
        char want[8], got[8];
        client_format_byte(s->expected[i], want, sizeof want);
        client_format_byte(s->reply[i], got, sizeof got);
        return error_set(err, errlen,
                         "reply to datagram %" PRIu64 " differs from %s at byte offset %zu"
                         " (expected %s, got %s)",
                         s->datagrams, what, i, want, got);
    }
    if (len != sent_len)
        return error_set(err, errlen,
                         "reply to datagram %" PRIu64 " is %zu bytes, but %zu were sent",
                         s->datagrams, len, sent_len);
    return 0;
}

static bool is_stale(const struct udp_session *s, size_t len, size_t expected_len)
{
    if (!s->has_stale || s->stale_len != len || memcmp(s->stale, s->reply, len) != 0)
        return false;
    /* The same bytes are also the right answer now: take them. */
    return !(expected_len == len && memcmp(s->expected, s->reply, len) == 0);
}

/*
 * Waits until deadline for the reply to the datagram just sent. Returns 1
 * with its length in *len, 0 on timeout, or -1 with errno set.
 */
static int await_reply(struct udp_session *s, int64_t deadline, size_t expected_len, size_t *len)
{
    for (;;) {
        struct pollfd pfd = {.fd = s->fd, .events = POLLIN};
        int n = poll(&pfd, 1, clock_timeout_until(deadline));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            return 0;
        ssize_t got = recv(s->fd, s->reply, RECEIVE_MAX, 0);
        if (got < 0 && io_is_transient(errno))
            continue;
        if (got < 0)
            return -1;
        if (s->job->protocol->expect != CLIENT_EXPECT_UNKNOWN &&
            is_stale(s, (size_t)got, expected_len))
            continue;
        *len = (size_t)got;
        return 1;
    }
}

/* ---- Exchanges ------------------------------------------------------------ */

static int send_datagram(struct udp_session *s, const uint8_t *data, size_t len)
{
    for (;;) {
        if (send(s->fd, data, len, MSG_NOSIGNAL) >= 0)
            return 0;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return -1;
        /* The socket's buffer is full (discard, fed fast): wait for room. */
        struct pollfd pfd = {.fd = s->fd, .events = POLLOUT};
        if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
            return -1;
    }
}

/* Sends one datagram and, unless the service answers nothing, shows its reply. */
static int exchange(struct udp_session *s, const uint8_t *data, size_t len, char *err,
                    size_t errlen)
{
    const struct client_job *job = s->job;
    const struct client_protocol *p = job->protocol;
    s->datagrams++;
    for (size_t i = 0; i < len; i++)
        s->expected[i] = client_protocol_expected_byte(p, data[i]);

    unsigned tries = 0;
    while (tries <= job->retries) {
        if (send_datagram(s, data, len) != 0) {
            if (errno == ECONNREFUSED) {
                if (refused(s, err, errlen) != 0)
                    return -1;
                continue;
            }
            return error_set(err, errlen, "cannot send to %s: %s", job->url, strerror(errno));
        }
        tries++;
        if (p->reply == CLIENT_REPLY_NONE)
            return 0;
        size_t reply_len = 0;
        int rc = await_reply(s, clock_now_ms() + job->timeout_ms, len, &reply_len);
        if (rc < 0 && errno == ECONNREFUSED) {
            if (refused(s, err, errlen) != 0)
                return -1;
            tries = 0;
            continue;
        }
        if (rc < 0)
            return error_set(err, errlen, "cannot read from %s: %s", job->url, strerror(errno));
        if (rc == 0)
            continue;
        s->answered = true;
        if (tries > 1 && p->expect != CLIENT_EXPECT_UNKNOWN) {
            memcpy(s->stale, s->expected, len);
            s->stale_len = len;
            s->has_stale = true;
        }
        return take_reply(s, len, reply_len, err, errlen);
    }
    char limit[32];
    duration_format(job->timeout_ms, limit, sizeof limit);
    if (tries == 1)
        return error_set(err, errlen, "no reply from %s within %s", job->url, limit);
    return error_set(err, errlen, "no reply from %s within %s, %u times", job->url, limit, tries);
}

/*
 * The next line of standard input, at most CLIENT_DATAGRAM_MAX bytes with
 * its "\n". Returns its length, 0 at the end, or -1 with errno set.
 */
static ssize_t next_line(struct udp_session *s)
{
    for (;;) {
        uint8_t *newline = memchr(s->input, '\n', s->input_len);
        if (newline != NULL)
            return newline - s->input + 1;
        if (s->input_len == CLIENT_DATAGRAM_MAX || s->input_eof)
            return (ssize_t)s->input_len;
        ssize_t n =
            read(s->job->in_fd, s->input + s->input_len, CLIENT_DATAGRAM_MAX - s->input_len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd pfd = {.fd = s->job->in_fd, .events = POLLIN};
            if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
                return -1;
            continue;
        }
        if (n < 0 && errno == EBADF) {
            s->input_eof = true; /* A closed standard input reads as an empty one. */
            continue;
        }
        if (n < 0)
            return -1;
        if (n == 0)
            s->input_eof = true;
        s->input_len += (size_t)n;
    }
}

static int send_input_lines(struct udp_session *s, char *err, size_t errlen)
{
    for (;;) {
        ssize_t len = next_line(s);
        if (len < 0)
            return error_set(err, errlen, "cannot read standard input: %s", strerror(errno));
        if (len == 0)
            return 0;
        if (exchange(s, s->input, (size_t)len, err, errlen) != 0)
            return -1;
        s->input_len -= (size_t)len;
        memmove(s->input, s->input + len, s->input_len);
    }
}

static int run(struct udp_session *s, char *err, size_t errlen)
{
    const struct client_job *job = s->job;
    const struct client_protocol *p = job->protocol;
    if (p->takes_input && job->message != NULL)
        return exchange(s, job->message, job->message_len, err, errlen);
    if (p->takes_input)
        return send_input_lines(s, err, errlen);
    /* The request's content means nothing to these services; its size may. */
    size_t request = p->udp_request;
    if (request > 0 && job->bytes > 0)
        request = (size_t)job->bytes;
    memset(s->input, 0, request);
    return exchange(s, s->input, request, err, errlen);
}

int client_run_udp(const struct client_job *job, char *err, size_t errlen)
{
    struct udp_session s = {.job = job, .fd = -1};
    s.reply = malloc(RECEIVE_MAX);
    s.expected = malloc(CLIENT_DATAGRAM_MAX);
    s.stale = malloc(CLIENT_DATAGRAM_MAX);
    s.input = malloc(CLIENT_DATAGRAM_MAX);
    int rc = -1;
    if (s.reply == NULL || s.expected == NULL || s.stale == NULL || s.input == NULL)
        error_set(err, errlen, "out of memory");
    else if (client_dialer_resolve(&s.dialer, &job->target, err, errlen) == 0) {
        if (connect_next(&s, err, errlen) == 0)
            rc = run(&s, err, errlen);
        client_dialer_free(&s.dialer);
    }
    if (s.fd >= 0)
        close(s.fd);
    free(s.reply);
    free(s.expected);
    free(s.stale);
    free(s.input);
    return rc;
}
