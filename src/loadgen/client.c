/*
 * One bench connection: connecting, writing requests, reading and checking
 * replies, and failing. A request starts when its first byte is written;
 * with --dribble each byte waits its turn on a timer, otherwise whole
 * messages go out with one writev for as many as the pipeline allows.
 * Replies arrive in order, so the bytes read are compared against the
 * expected reply of the oldest request in flight and complete it when its
 * last byte is in, however the stream was split across reads.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "loadgen/clock_ns.h"
#include "loadgen/loop_internal.h"

#define SCRATCH_SIZE BENCH_LOOP_SCRATCH
#define IOV_BATCH 64
/* Bounds on one wakeup's work, so one fast connection cannot starve the others. */
#define WRITE_ROUNDS 16
#define READ_ROUNDS 16
#define DATAGRAM_ROUNDS 64
/* Linux's IP_BIND_ADDRESS_NO_PORT (linux/in.h): bind() fixes only the
 * source address, and connect() picks the port, unique per 4-tuple rather
 * than per address. */
#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

/* What an errno from a socket call counts as. */
static enum bench_error error_kind(int err)
{
    switch (err) {
    case ECONNREFUSED:
        return BENCH_ERROR_REFUSED;
    case ECONNRESET:
    case EPIPE:
    case ECONNABORTED:
        return BENCH_ERROR_RESET;
    case ETIMEDOUT:
        return BENCH_ERROR_TIMEOUT;
    default:
        return BENCH_ERROR_OTHER;
    }
}

/* ---- Requests ----------------------------------------------------------- */

/* --hold: a connection makes --hold-requests requests in all, then idles. */
static bool may_issue(const struct bench_loop *l, const struct client *c)
{
    return loop_can_issue(l) && (!l->cfg->hold || c->issued < l->cfg->hold_requests);
}

/* --hold: settled once open with every request it will make answered. */
static void check_settled(struct bench_loop *l, struct client *c)
{
    /* A chat member settles when its welcome arrives, not here. */
    if (l->cfg->hold && !l->cfg->chat && !c->settled && c->state == CLIENT_OPEN &&
        c->issued == l->cfg->hold_requests && c->pending == 0 && c->in_flight == 0)
        loop_client_settled(l, c, false);
}

void client_refill(struct bench_loop *l, struct client *c, int64_t now)
{
    if (l->cfg->rate > 0) {
        if (client_has_room(l, c))
            loop_push_ready(l, c);
        return;
    }
    while (c->pending + c->in_flight < l->cfg->pipeline && may_issue(l, c)) {
        c->pending++;
        c->issued++;
        l->pending_total++;
        loop_take_budget(l, now);
    }
}

static void start_request(struct bench_loop *l, struct client *c, int64_t now)
{
    c->sent_ns[(c->ring_head + c->in_flight) % l->cfg->pipeline] = now;
    c->in_flight++;
    l->in_flight_total++;
    c->pending--;
    l->pending_total--;
}

void client_finish_oldest(struct bench_loop *l, struct client *c, int64_t now, bool ok,
                          enum bench_error kind)
{
    int64_t sent = c->sent_ns[c->ring_head];
    c->ring_head = (c->ring_head + 1) % l->cfg->pipeline;
    c->in_flight--;
    l->in_flight_total--;
    c->read_off = 0;
    if (sent >= l->measure_ns) {
        if (ok) {
            histogram_record(&l->stats.latency, now - sent);
            l->stats.ok++;
            l->last_ok_ns = now;
        } else {
            loop_count_error(l, kind, 0, 1);
        }
    }
    check_settled(l, c);
}

/* ---- Sockets ------------------------------------------------------------ */

static int watch(struct bench_loop *l, struct client *c, uint32_t events)
{
    if (c->events == events)
        return 0;
    struct epoll_event ev = {.events = events,
                             .data.u64 = (uint64_t)c->generation << 32 | loop_client_index(l, c)};
    int op = c->events == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
    if (epoll_ctl(l->epfd, op, c->fd, &ev) != 0)
        return -1;
    c->events = events;
    return 0;
}

void client_close(struct bench_loop *l, struct client *c)
{
    timers_clear(&l->timers, loop_client_index(l, c));
    if (c->fd >= 0) {
        /* Linux frees the descriptor even when close reports EINTR, so a
         * retry could close another thread's new socket; no retry. */
        close(c->fd);
        c->fd = -1;
    }
    if (c->state == CLIENT_OPEN)
        l->open_count--;
    l->in_flight_total -= c->in_flight;
    l->pending_total -= c->pending;
    c->in_flight = c->pending = 0;
    c->ring_head = 0;
    c->write_off = c->read_off = 0;
    c->blocked_ns = 0;
    c->events = 0;
}

/*
 * The client failed with kind. A failed attempt to connect counts as one
 * failed request (it was about to carry one); a failure of an open
 * connection counts once for every request in flight on it, and once when
 * none was. Requests not yet started go back to be issued again. Then the
 * client tries again: at once, or after a back-off when the server refused
 * or could not be reached.
 */
void client_fail(struct bench_loop *l, struct client *c, enum bench_error kind, int err,
                 int64_t now)
{
    bool was_open = c->state == CLIENT_OPEN;
    if (!was_open) {
        if (l->measuring) {
            l->stats.connections_failed++;
            loop_count_error(l, kind, err, 1);
            loop_take_budget(l, now);
        }
    } else {
        uint64_t measured = 0;
        for (uint32_t i = 0; i < c->in_flight; i++) {
            if (c->sent_ns[(c->ring_head + i) % l->cfg->pipeline] >= l->measure_ns)
                measured++;
        }
        if (measured == 0 && l->measuring)
            measured = 1;
        loop_count_error(l, kind, err, measured);
    }
    if (l->budget_limited && l->measuring)
        l->budget += c->pending;
    if (l->cfg->rate > 0)
        l->rate_issued -= c->pending;
    client_close(l, c);
    if (l->cfg->hold) {
        /* What a --hold run holds is what opened the first time. */
        c->state = CLIENT_DONE;
        if (!c->settled)
            loop_client_settled(l, c, true);
    } else if (l->stopped) {
        c->state = CLIENT_DONE;
    } else if (!was_open || kind == BENCH_ERROR_REFUSED) {
        c->state = CLIENT_BACKOFF;
        int64_t pause =
            l->cfg->timeout_ns < CLIENT_BACKOFF_NS ? l->cfg->timeout_ns : CLIENT_BACKOFF_NS;
        timers_set(&l->timers, loop_client_index(l, c), now + pause);
    } else {
        loop_enqueue_connect(l, c);
    }
}

static void client_open(struct bench_loop *l, struct client *c, int64_t now)
{
    if (watch(l, c, EPOLLIN) != 0) {
        client_fail(l, c, BENCH_ERROR_OTHER, errno, now);
        return;
    }
    c->state = CLIENT_OPEN;
    l->open_count++;
    l->stats.connections_made++;
    client_refill(l, c, now);
    if (client_send_more(l, c, now) == 0)
        check_settled(l, c);
}

/* --source-from: the source address of c, per_source connections on each
 * address counted up from source_from, .0 and .255 skipped. */
static struct in_addr source_address(const struct bench_loop *l, const struct client *c)
{
    uint32_t address = ntohl(l->cfg->source_from.s_addr);
    for (uint32_t step = (c->number - 1) / l->cfg->per_source; step > 0;) {
        address++;
        if ((address & 0xff) != 0 && (address & 0xff) != 0xff)
            step--;
    }
    return (struct in_addr){.s_addr = htonl(address)};
}

static int bind_source(const struct bench_loop *l, const struct client *c)
{
    int one = 1;
    if (setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one)) != 0)
        return -1;
    struct sockaddr_in from = {.sin_family = AF_INET, .sin_addr = source_address(l, c)};
    return bind(c->fd, (const struct sockaddr *)&from, sizeof(from));
}

void client_start_connect(struct bench_loop *l, struct client *c, int64_t now)
{
    const struct address *to = &l->cfg->target.address;
    int type = l->tcp ? SOCK_STREAM : SOCK_DGRAM;
    c->since_ns = now;
    c->fd = socket(to->u.sa.sa_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        client_fail(l, c, BENCH_ERROR_OTHER, errno, now);
        return;
    }
    c->generation++;
    c->state = CLIENT_CONNECTING;
    int one = 1;
    /* Requests are small and answered one by one: Nagle would hold each
     * message back for the previous reply's ACK. */
    if (l->tcp && setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0) {
        client_fail(l, c, BENCH_ERROR_OTHER, errno, now);
        return;
    }
    if (l->cfg->source_given && bind_source(l, c) != 0) {
        client_fail(l, c, BENCH_ERROR_OTHER, errno, now);
        return;
    }
    /* A non-blocking connect interrupted by a signal goes on in the
     * background, just as EINPROGRESS; retrying would only say EALREADY. */
    if (connect(c->fd, &to->u.sa, to->length) == 0) {
        client_open(l, c, now);
        return;
    }
    if (errno != EINPROGRESS && errno != EINTR) {
        client_fail(l, c, error_kind(errno), errno, now);
        return;
    }
    if (watch(l, c, EPOLLOUT) != 0)
        client_fail(l, c, BENCH_ERROR_OTHER, errno, now);
}

void client_finish_connect(struct bench_loop *l, struct client *c, uint32_t events, int64_t now)
{
    int soerr = 0;
    socklen_t len = sizeof(soerr);
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0)
        soerr = errno;
    if (soerr != 0) {
        client_fail(l, c, error_kind(soerr), soerr, now);
        return;
    }
    if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
        client_open(l, c, now);
}

/* ---- Writing ------------------------------------------------------------ */

/* A request's last byte is out; with --expect none that is its end. */
static void request_written(struct bench_loop *l, struct client *c)
{
    if (l->cfg->expect != BENCH_EXPECT_NONE)
        return;
    int64_t now = clock_now_ns();
    client_finish_oldest(l, c, now, true, BENCH_ERROR_COUNT);
    client_refill(l, c, now);
}

static void account_written(struct bench_loop *l, struct client *c, size_t written, int64_t t)
{
    size_t len = c->msg->request_len;
    if (l->measuring)
        l->stats.bytes_sent += written;
    c->blocked_ns = 0;
    if (c->write_off > 0) {
        size_t take = written < len - c->write_off ? written : len - c->write_off;
        c->write_off += take;
        written -= take;
        if (c->write_off == len) {
            c->write_off = 0;
            request_written(l, c);
        }
    }
    while (written > 0) {
        start_request(l, c, t);
        size_t take = written < len ? written : len;
        written -= take;
        if (take == len)
            request_written(l, c);
        else
            c->write_off = take;
    }
}

static int want_write(struct bench_loop *l, struct client *c, bool on, int64_t now)
{
    if (watch(l, c, EPOLLIN | (on ? EPOLLOUT : 0)) == 0)
        return 0;
    client_fail(l, c, BENCH_ERROR_OTHER, errno, now);
    return -1;
}

static int write_stalled(struct bench_loop *l, struct client *c, int64_t now)
{
    if (c->blocked_ns == 0)
        c->blocked_ns = now;
    return want_write(l, c, true, now);
}

/* Writes whole messages, as many as are issued, a batch per writev. */
static int flush_stream(struct bench_loop *l, struct client *c, int64_t now)
{
    const uint8_t *request = c->msg->request;
    size_t len = c->msg->request_len;
    for (int round = 0; round < WRITE_ROUNDS; round++) {
        size_t partial = c->write_off ? len - c->write_off : 0;
        if (partial == 0 && c->pending == 0)
            return want_write(l, c, false, now);
        struct iovec iov[IOV_BATCH];
        int n = 0;
        size_t total = 0;
        if (partial) {
            iov[n++] = (struct iovec){(void *)(request + c->write_off), partial};
            total += partial;
        }
        for (uint32_t whole = 0; n < IOV_BATCH && whole < c->pending; whole++) {
            iov[n++] = (struct iovec){(void *)request, len};
            total += len;
        }
        int64_t t = total > partial ? clock_now_ns() : now;
        ssize_t w = writev(c->fd, iov, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return write_stalled(l, c, t);
            client_fail(l, c, error_kind(errno), errno, t);
            return -1;
        }
        account_written(l, c, (size_t)w, t);
        if ((size_t)w < total)
            return write_stalled(l, c, t);
    }
    /* More to write than one wakeup's share: come back when epoll says. */
    return want_write(l, c, true, now);
}

/* Writes the next byte of the message and times the one after. */
static int dribble(struct bench_loop *l, struct client *c, int64_t now)
{
    if (timers_armed(&l->timers, loop_client_index(l, c)) || (c->write_off == 0 && c->pending == 0))
        return 0;
    const uint8_t *next = c->msg->request + c->write_off;
    ssize_t w;
    do {
        w = write(c->fd, next, 1);
    } while (w < 0 && errno == EINTR);
    if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
        client_fail(l, c, error_kind(errno), errno, now);
        return -1;
    }
    if (w == 1) {
        if (l->measuring)
            l->stats.bytes_sent++;
        if (c->write_off == 0)
            start_request(l, c, now);
        if (++c->write_off == c->msg->request_len) {
            c->write_off = 0;
            request_written(l, c);
        }
    }
    if (c->write_off > 0 || c->pending > 0)
        timers_set(&l->timers, loop_client_index(l, c), now + l->cfg->dribble_ns);
    return 0;
}

/* Sends each issued request as one datagram. */
static int send_datagrams(struct bench_loop *l, struct client *c, int64_t now)
{
    for (int round = 0; round < DATAGRAM_ROUNDS; round++) {
        if (c->pending == 0)
            return want_write(l, c, false, now);
        int64_t t = clock_now_ns();
        ssize_t w = send(c->fd, c->msg->request, c->msg->request_len, 0);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
                return write_stalled(l, c, t);
            client_fail(l, c, error_kind(errno), errno, t);
            return -1;
        }
        c->blocked_ns = 0;
        if (l->measuring)
            l->stats.bytes_sent += (uint64_t)w;
        start_request(l, c, t);
        request_written(l, c);
    }
    return want_write(l, c, true, now);
}

int client_send_more(struct bench_loop *l, struct client *c, int64_t now)
{
    if (c->state != CLIENT_OPEN)
        return -1;
    if (!l->tcp)
        return send_datagrams(l, c, now);
    if (l->cfg->dribble_ns > 0)
        return dribble(l, c, now);
    return flush_stream(l, c, now);
}

/* ---- Reading ------------------------------------------------------------ */

/* Matches bytes of the stream against the replies due, oldest first. */
static int take_stream(struct bench_loop *l, struct client *c, const uint8_t *data, size_t n,
                       int64_t now)
{
    const struct bench_message *m = c->msg;
    if (l->measuring)
        l->stats.bytes_received += n;
    while (n > 0) {
        if (c->in_flight == 0 || m->reply_len == 0) {
            client_fail(l, c, BENCH_ERROR_MISMATCH, 0, now);
            return -1;
        }
        size_t want = m->reply_len - c->read_off;
        size_t take = n < want ? n : want;
        if (memcmp(data, m->reply + c->read_off, take) != 0) {
            client_fail(l, c, BENCH_ERROR_MISMATCH, 0, now);
            return -1;
        }
        c->read_off += take;
        data += take;
        n -= take;
        if (c->read_off == m->reply_len)
            client_finish_oldest(l, c, now, true, BENCH_ERROR_COUNT);
    }
    return 0;
}

/* --chat-receive: what arrives is lines for the tally, not replies. */
static void take_chat(struct bench_loop *l, struct client *c, const uint8_t *data, size_t n,
                      int64_t now)
{
    struct chat_tally *t = l->cfg->chat;
    uint64_t before = t->delivered;
    if (l->measuring)
        l->stats.bytes_received += n;
    bool welcomed = chat_tally_take(t, loop_client_index(l, c), data, n, now);
    l->stats.ok += t->delivered - before;
    if (welcomed && !c->settled)
        loop_client_settled(l, c, false);
}

static int take_read(struct bench_loop *l, struct client *c, const uint8_t *data, size_t n,
                     int64_t now)
{
    if (!l->cfg->chat)
        return take_stream(l, c, data, n, now);
    take_chat(l, c, data, n, now);
    return 0;
}

static int read_stream(struct bench_loop *l, struct client *c)
{
    for (int round = 0; round < READ_ROUNDS; round++) {
        ssize_t n = read(c->fd, l->scratch, SCRATCH_SIZE);
        int64_t now = clock_now_ns();
        if (n > 0) {
            if (take_read(l, c, l->scratch, (size_t)n, now) != 0)
                return -1;
            if ((size_t)n < SCRATCH_SIZE)
                break;
            continue;
        }
        if (n == 0) {
            /* The server closed; to a client awaiting replies that is a reset. */
            client_fail(l, c, BENCH_ERROR_RESET, 0, now);
            return -1;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            break;
        client_fail(l, c, error_kind(errno), errno, now);
        return -1;
    }
    return 0;
}

static int read_datagrams(struct bench_loop *l, struct client *c)
{
    const struct bench_message *m = c->msg;
    for (int round = 0; round < DATAGRAM_ROUNDS; round++) {
        /* MSG_TRUNC: the datagram's real length, so an oversized one cannot
         * pass for the expected reply. */
        ssize_t n = recv(c->fd, l->scratch, SCRATCH_SIZE, MSG_TRUNC);
        int64_t now = clock_now_ns();
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            client_fail(l, c, error_kind(errno), errno, now);
            return -1;
        }
        if (l->measuring)
            l->stats.bytes_received += (uint64_t)n;
        bool same = (size_t)n == m->reply_len && memcmp(l->scratch, m->reply, m->reply_len) == 0;
        if (c->in_flight == 0 || m->reply_len == 0) {
            /* The answer to a request already counted as timed out is no
             * second error; anything else unasked for is a mismatch. */
            if (same && m->reply_len > 0)
                l->stats.late_replies++;
            else if (l->measuring)
                loop_count_error(l, BENCH_ERROR_MISMATCH, 0, 1);
            continue;
        }
        client_finish_oldest(l, c, now, same, BENCH_ERROR_MISMATCH);
    }
    return 0;
}

int client_read(struct bench_loop *l, struct client *c)
{
    return l->tcp ? read_stream(l, c) : read_datagrams(l, c);
}
