/*
 * chat: a line-based, multi-room chat that plain nc or telnet can use.
 * The protocol is specified in docs/chat-protocol.md.
 *
 * Each chat listener is a world of its own: its instance (struct chat)
 * holds the rooms and the nick registry (chat_rooms.h) that its
 * connections share, on every loop of --threads, guarded by the instance's
 * lock so the thread model and --threads can run it; under one event loop
 * the lock is never contended. Every write to a client, replies included,
 * is made with the lock held, so all of them have one order and every
 * client gets them in it (core/mailbox.h keeps that order across threads).
 * Other clients are reached only through conn_post, which never blocks: a
 * client that stops reading is dropped once its queue passes --max-queue,
 * and nobody else waits for it.
 *
 * A member's arrival or departure costs the server the same whatever the
 * room's size: arrivals, departures and renames are announced only in rooms
 * of at most --chat-notices-max members (otherwise N members joining would
 * be N^2 lines), and a stopping server announces no departures at all (N
 * members leaving would be N^2 lines, and the stop would overrun --grace).
 * Each member may send at most --chat-rate lines a second (a token bucket
 * per member), so one client cannot flood a room or slow everyone else.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/clock.h"
#include "core/conn.h"
#include "core/counters.h"
#include "core/duration.h"
#include "core/error.h"
#include "core/text.h"
#include "core/token_bucket.h"
#include "services/chat_rooms.h"

/* Room for a nick, a prefix and the line ending around the text. */
#define CHAT_FRAME 96
/* Names per /who or /rooms line, so listing a big room stays readable. */
#define NAMES_PER_LINE 40

/* One listener's world. */
struct chat {
    pthread_mutex_t lock; /* Held for every call on rooms and every write. */
    struct chat_rooms rooms;
    /* Guest numbers only grow, so a number is never handed out twice. */
    unsigned long long next_guest;
    size_t notices_max;   /* --chat-notices-max */
    uint32_t rate, burst; /* --chat-rate; a rate of 0 is no limit. */
};

static struct chat *chat_of(const struct conn *c)
{
    return conn_service_instance(c);
}

/* The members and occupied rooms of c's listener, for the operator
 * (core/counters.h): moved with the lock held, as the rooms change. */
static void count_members(const struct conn *c, int64_t n)
{
    counters_add(conn_listener_number(c), COUNTER_CHAT_MEMBERS, n);
}

static void count_rooms(const struct conn *c, int64_t n)
{
    counters_add(conn_listener_number(c), COUNTER_CHAT_ROOMS, n);
}

/* ==== Sending ============================================================ */

/* Formats one protocol line (CRLF added) into a fresh buffer. */
static char *format_line(size_t *len, const char *fmt, va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (n < 0)
        return NULL;
    char *line = malloc((size_t)n + 3);
    if (!line)
        return NULL;
    vsnprintf(line, (size_t)n + 1, fmt, ap);
    memcpy(line + n, "\r\n", 3);
    *len = (size_t)n + 2;
    return line;
}

/* To the member whose callback is running. Called with the lock. */
static void reply(struct chat_member *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void reply(struct chat_member *m, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t len;
    char *line = format_line(&len, fmt, ap);
    va_end(ap);
    if (line)
        conn_write(m->conn, line, len);
    free(line);
}

/* To everyone in room but skip (which may be NULL). Called with the lock. */
static void broadcast(struct chat_room *room, struct chat_member *skip, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void broadcast(struct chat_room *room, struct chat_member *skip, const char *fmt, ...)
{
    if (!room)
        return;
    va_list ap;
    va_start(ap, fmt);
    size_t len;
    char *line = format_line(&len, fmt, ap);
    va_end(ap);
    if (!line)
        return;
    for (size_t i = 0; i < room->count; i++)
        if (room->members[i] != skip)
            conn_post(room->members[i]->conn, line, len);
    free(line);
}

/* ==== Room notices ======================================================= */

/* Whether room, counting the member who arrives, leaves or is renamed, is
 * small enough to hear of it (--chat-notices-max). */
static bool announces(const struct chat *chat, const struct chat_room *room)
{
    return room && room->count <= chat->notices_max;
}

/* Tells a member who has just entered a room too big for notices why it
 * will hear nobody come and go. Called with the lock. */
static void reply_if_quiet(const struct chat *chat, struct chat_member *m)
{
    if (!announces(chat, m->room))
        reply(m,
              "*** %s has over %zu members: arrivals and departures are not announced (/who "
              "lists them)",
              m->room->name, chat->notices_max);
}

/* ==== Commands =========================================================== */

/* Splits "word rest" in place: returns word, sets *rest (never NULL). */
static char *split_word(char *text, char **rest)
{
    while (*text == ' ')
        text++;
    char *end = strchr(text, ' ');
    if (!end) {
        *rest = text + strlen(text);
        return text;
    }
    *end = '\0';
    for (end++; *end == ' '; end++)
        ;
    *rest = end;
    return text;
}

static void command_nick(struct chat *chat, struct chat_member *m, char *args)
{
    char *rest;
    char *nick = split_word(args, &rest);
    if (!chat_name_is_valid(nick) || *rest) {
        reply(m, "!!! bad nick: use 1-%d letters, digits, '-' or '_'", CHAT_NAME_MAX);
        return;
    }
    if (strcmp(m->nick, nick) == 0) {
        reply(m, "!!! you are already %s", nick);
        return;
    }
    struct chat_member *owner = chat_nick_owner(&chat->rooms, nick);
    if (owner && owner != m && strcasecmp(owner->nick, nick) != 0) {
        reply(m, "!!! nick %s looks like %s, who is here", nick, owner->nick);
        return;
    }
    char old[CHAT_NAME_MAX + 1];
    snprintf(old, sizeof(old), "%s", m->nick);
    if (chat_nick_claim(&chat->rooms, m, nick) != 0) {
        reply(m, "!!! nick %s is taken", nick);
        return;
    }
    reply(m, "*** you are now %s", m->nick);
    if (announces(chat, m->room))
        broadcast(m->room, m, "*** %s is now known as %s", old, m->nick);
}

static void command_join(struct chat *chat, struct chat_member *m, char *args)
{
    char *rest;
    char *name = split_word(args, &rest);
    if (!chat_name_is_valid(name) || *rest) {
        reply(m, "!!! bad room name: use 1-%d letters, digits, '-' or '_'", CHAT_NAME_MAX);
        return;
    }
    if (m->room && strcasecmp(m->room->name, name) == 0) {
        reply(m, "!!! you are already in %s", m->room->name);
        return;
    }
    struct chat_room *old = m->room;
    /* An old room left empty is freed by chat_room_enter; one with others
     * in it survives, and they hear where this member went. */
    bool others_hear = old && old->count > 1 && announces(chat, old);
    bool old_emptied = old && old->count == 1;
    if (chat_room_enter(&chat->rooms, m, name) != 0) {
        reply(m, "!!! out of memory: staying in %s", old->name);
        return;
    }
    count_rooms(m->conn, (m->room->count == 1) - (int64_t)old_emptied);
    if (others_hear)
        broadcast(old, NULL, "*** %s left %s (joined %s)", m->nick, old->name, m->room->name);
    if (announces(chat, m->room))
        broadcast(m->room, m, "*** %s joined %s", m->nick, m->room->name);
    reply(m, "*** you joined %s (%zu here)", m->room->name, m->room->count);
    reply_if_quiet(chat, m);
}

/* Sends names in lines of NAMES_PER_LINE, each starting with header. */
static void reply_names(struct chat_member *m, const char *header, const char *const *names,
                        size_t count)
{
    for (size_t start = 0; start < count; start += NAMES_PER_LINE) {
        size_t end = start + NAMES_PER_LINE < count ? start + NAMES_PER_LINE : count;
        char line[NAMES_PER_LINE * (CHAT_NAME_MAX + 16) + CHAT_FRAME];
        size_t used = (size_t)snprintf(line, sizeof(line), "%s", header);
        for (size_t i = start; i < end && used < sizeof(line); i++)
            used += (size_t)snprintf(line + used, sizeof(line) - used, "%s%s",
                                     i == start ? "" : ", ", names[i]);
        reply(m, "%s", line);
    }
}

static void command_who(struct chat_member *m)
{
    struct chat_room *room = m->room;
    const char **names = malloc(room->count * sizeof(*names));
    if (!names) {
        reply(m, "!!! out of memory");
        return;
    }
    for (size_t i = 0; i < room->count; i++)
        names[i] = room->members[i]->nick;
    char header[CHAT_FRAME];
    snprintf(header, sizeof(header), "*** %zu in %s: ", room->count, room->name);
    reply_names(m, header, names, room->count);
    free(names);
}

static void command_rooms(struct chat *chat, struct chat_member *m)
{
    size_t count = 0;
    for (struct chat_room *r = chat_rooms_first(&chat->rooms); r; r = r->next)
        count++;
    char(*labels)[CHAT_NAME_MAX + 24] = malloc(count * sizeof(*labels));
    const char **names = malloc(count * sizeof(*names));
    if (!labels || !names) {
        free(labels);
        free(names);
        reply(m, "!!! out of memory");
        return;
    }
    size_t i = 0;
    for (struct chat_room *r = chat_rooms_first(&chat->rooms); r; r = r->next, i++) {
        snprintf(labels[i], sizeof(labels[i]), "%s (%zu)", r->name, r->count);
        names[i] = labels[i];
    }
    char header[CHAT_FRAME];
    snprintf(header, sizeof(header), "*** %zu room%s: ", count, count == 1 ? "" : "s");
    reply_names(m, header, names, count);
    free(labels);
    free(names);
}

static void command_msg(struct chat *chat, struct chat_member *m, char *args)
{
    char *text;
    char *nick = split_word(args, &text);
    if (*nick == '\0' || *text == '\0') {
        reply(m, "!!! usage: /msg NICK text");
        return;
    }
    struct chat_member *to = chat_nick_owner(&chat->rooms, nick);
    if (!to) {
        reply(m, "!!! no such nick: %s", nick);
        return;
    }
    char *line = malloc(strlen(text) + CHAT_FRAME);
    if (!line) {
        reply(m, "!!! out of memory");
        return;
    }
    size_t len = (size_t)sprintf(line, "[private] %s: %s\r\n", m->nick, text);
    conn_post(to->conn, line, len);
    free(line);
}

static void command_quit(struct chat_member *m, const char *reason)
{
    if (*reason) {
        int keep = (int)text_cut(reason, strlen(reason), sizeof(m->quit_text) - 8);
        snprintf(m->quit_text, sizeof(m->quit_text), "quit: %.*s", keep, reason);
        m->quit_note = m->quit_text;
    } else {
        m->quit_note = "quit";
    }
    reply(m, "*** bye");
    conn_close(m->conn);
}

static void command_help(struct chat_member *m)
{
    static const char *const lines[] = {
        "*** commands:",
        "***   /nick NAME       change your nick (1-32 letters, digits, - or _)",
        "***   /join ROOM       move to ROOM (created if new; the first room is lobby)",
        "***   /who             list who is in your room",
        "***   /rooms           list the rooms",
        "***   /msg NICK TEXT   send TEXT to NICK alone",
        "***   /me ACTION       act: shown as '* nick ACTION'",
        "***   /quit [REASON]   leave",
        "***   /help            this list",
        "*** any other line goes to everyone in your room",
    };
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
        reply(m, "%s", lines[i]);
}

static void run_command(struct chat *chat, struct chat_member *m, char *line)
{
    char *args;
    char *cmd = split_word(line + 1, &args);
    if (strcmp(cmd, "nick") == 0)
        command_nick(chat, m, args);
    else if (strcmp(cmd, "join") == 0)
        command_join(chat, m, args);
    else if (strcmp(cmd, "who") == 0)
        command_who(m);
    else if (strcmp(cmd, "rooms") == 0)
        command_rooms(chat, m);
    else if (strcmp(cmd, "msg") == 0)
        command_msg(chat, m, args);
    else if (strcmp(cmd, "me") == 0 && *args)
        broadcast(m->room, m, "* %s %s", m->nick, args);
    else if (strcmp(cmd, "me") == 0)
        reply(m, "!!! usage: /me ACTION");
    else if (strcmp(cmd, "quit") == 0)
        command_quit(m, args);
    else if (strcmp(cmd, "help") == 0)
        command_help(m);
    else
        reply(m, "!!! unknown command /%.*s (try /help)",
              (int)text_cut(cmd, strlen(cmd), CHAT_NAME_MAX), cmd);
}

/* ==== The instance ======================================================= */

static void *chat_create(const struct service_settings *settings, char *err, size_t errlen)
{
    struct chat *chat = calloc(1, sizeof(*chat));
    if (!chat) {
        error_set(err, errlen, "out of memory");
        return NULL;
    }
    int rc = pthread_mutex_init(&chat->lock, NULL);
    if (rc != 0) {
        free(chat);
        error_set(err, errlen, "cannot make a lock: %s", strerror(rc));
        return NULL;
    }
    chat_rooms_init(&chat->rooms);
    chat->next_guest = 1;
    chat->notices_max = settings->chat_notices_max;
    chat->rate = settings->chat_rate_per_second;
    chat->burst = settings->chat_rate_burst;
    return chat;
}

/* Called once every connection is gone, so no member is left in a room. */
static void chat_destroy(void *instance)
{
    struct chat *chat = instance;
    chat_rooms_free(&chat->rooms);
    pthread_mutex_destroy(&chat->lock);
    free(chat);
}

/* ==== Connection callbacks =============================================== */

/* True for a /quit command, which is never refused: leaving always works. */
static bool is_quit(const char *text)
{
    if (text[0] != '/')
        return false;
    text += 1 + strspn(text + 1, " ");
    return strncmp(text, "quit", 4) == 0 && (text[4] == '\0' || text[4] == ' ');
}

/* Whether m may send this line now (--chat-rate). The bucket is m's own and
 * only m's callbacks touch it, so it needs no lock. */
static bool within_rate(const struct chat *chat, struct chat_member *m, const char *text)
{
    return chat->rate == 0 || is_quit(text) ||
           token_bucket_take(&m->lines, chat->rate, chat->burst, clock_now_ms());
}

/* Refuses a line over --chat-rate, and stops reading from its sender
 * until its next line is due: lines already read are each refused in turn,
 * but a flood costs the server one read per token, not work for every line
 * sent. Called with the lock. */
static void refuse_line(const struct chat *chat, struct chat_member *m)
{
    reply(m, "!!! slow down: over %u lines a second (%u at once); line ignored", chat->rate,
          chat->burst);
    conn_pause_reading(m->conn, true);
    conn_set_timer(m->conn, token_bucket_wait_ms(&m->lines, chat->rate) + 1);
}

static void handle_line(struct chat *chat, struct chat_member *m, const char *raw, size_t len)
{
    char *text = malloc(TEXT_SANITIZED_MAX(len) + 1);
    size_t n = text ? text_sanitize(raw, len, text) : 0;
    if (text)
        text[n] = '\0';
    bool allowed = n == 0 || within_rate(chat, m, text);
    pthread_mutex_lock(&chat->lock);
    if (!text)
        reply(m, "!!! out of memory: line dropped");
    else if (n == 0)
        ; /* An empty line says nothing. */
    else if (!allowed)
        refuse_line(chat, m);
    else if (text[0] == '/')
        run_command(chat, m, text);
    else
        broadcast(m->room, m, "%s: %s", m->nick, text);
    pthread_mutex_unlock(&chat->lock);
    free(text);
}

static void chat_open(struct conn *c)
{
    struct chat *chat = chat_of(c);
    struct chat_member *m = conn_state(c);
    m->conn = c;
    line_reader_init(&m->reader, conn_config(c)->max_line);
    pthread_mutex_lock(&chat->lock);
    /* A guest number someone took with /nick is skipped. */
    char nick[CHAT_NAME_MAX + 1];
    do
        snprintf(nick, sizeof(nick), "guest%llu", chat->next_guest++);
    while (chat_nick_owner(&chat->rooms, nick));
    if (chat_nick_claim(&chat->rooms, m, nick) != 0 ||
        chat_room_enter(&chat->rooms, m, CHAT_LOBBY) != 0) {
        chat_nick_release(&chat->rooms, m);
        pthread_mutex_unlock(&chat->lock);
        conn_abort(c, "out of memory");
        return;
    }
    m->entered = true;
    count_members(c, 1);
    if (m->room->count == 1)
        count_rooms(c, 1);
    reply(m, "*** welcome to sockserv chat, %s; you are in %s (%zu here). /help lists commands.",
          m->nick, m->room->name, m->room->count);
    reply_if_quiet(chat, m);
    if (announces(chat, m->room))
        broadcast(m->room, m, "*** %s joined %s", m->nick, m->room->name);
    pthread_mutex_unlock(&chat->lock);
}

static void chat_data(struct conn *c, const uint8_t *data, size_t len)
{
    struct chat *chat = chat_of(c);
    struct chat_member *m = conn_state(c);
    const char *in = (const char *)data;
    const char *line;
    size_t line_len;
    enum line_event ev;
    /* After /quit, lines that came in the same read are not the client's
     * to say any more. */
    while (!m->quit_note &&
           (ev = line_reader_next(&m->reader, &in, &len, &line, &line_len)) != LINE_NEED_MORE) {
        if (ev == LINE_COMPLETE) {
            handle_line(chat, m, line, line_len);
        } else {
            pthread_mutex_lock(&chat->lock);
            reply(m, "!!! line too long (max %zu bytes): discarded", m->reader.max_line);
            pthread_mutex_unlock(&chat->lock);
        }
    }
}

/* A refused sender's next line is due: read from it again. */
static void chat_timer(struct conn *c)
{
    conn_pause_reading(c, false);
}

/* Idle past --idle-timeout: the member hears why before the close. */
static void chat_idle(struct conn *c)
{
    struct chat_member *m = conn_state(c);
    char idle[32];
    duration_format(conn_config(c)->idle_timeout_ms, idle, sizeof(idle));
    struct chat *chat = chat_of(c);
    pthread_mutex_lock(&chat->lock);
    reply(m, "*** closing: idle for %s", idle);
    pthread_mutex_unlock(&chat->lock);
}

/* A partial line went unfinished for --request-timeout: the member hears
 * why before the cut; the others hear "request timeout" as the reason it
 * left. */
static void chat_request_timeout(struct conn *c)
{
    struct chat_member *m = conn_state(c);
    char limit[32];
    duration_format(conn_config(c)->request_timeout_ms, limit, sizeof(limit));
    struct chat *chat = chat_of(c);
    pthread_mutex_lock(&chat->lock);
    reply(m, "*** closing: line not finished within %s", limit);
    pthread_mutex_unlock(&chat->lock);
}

static void chat_close(struct conn *c)
{
    struct chat_member *m = conn_state(c);
    if (m->entered) {
        const char *why = conn_drop_reason(c);
        if (!why)
            why = m->quit_note ? m->quit_note : "connection closed";
        struct chat *chat = chat_of(c);
        pthread_mutex_lock(&chat->lock);
        /* Told before leaving: leaving may free an emptied room. A stopping
         * server closes everyone, so nobody is left who needs to know. */
        if (!conn_server_stopping(c) && announces(chat, m->room))
            broadcast(m->room, m, "*** %s left %s (%s)", m->nick, m->room->name, why);
        count_members(c, -1);
        if (m->room && m->room->count == 1)
            count_rooms(c, -1);
        chat_room_leave(&chat->rooms, m);
        chat_nick_release(&chat->rooms, m);
        pthread_mutex_unlock(&chat->lock);
    }
    line_reader_free(&m->reader);
}

const struct service service_chat = {
    .name = "chat",
    .summary = "multi-room line chat with nicks (docs/chat-protocol.md)",
    .default_port = 7777,
    .flags = SERVICE_SHARED_STATE | SERVICE_STREAM_ONLY | SERVICE_LINES,
    .state_size = sizeof(struct chat_member),
    .create = chat_create,
    .destroy = chat_destroy,
    .on_open = chat_open,
    .on_data = chat_data,
    .on_timer = chat_timer,
    .on_idle = chat_idle,
    .on_request_timeout = chat_request_timeout,
    .on_close = chat_close,
};
