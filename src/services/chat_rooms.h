/*
 * The state chat's connections share: who is connected under which nick,
 * and which room each is in.
 *
 * Nicks and room names compare without regard to ASCII case. Rooms exist
 * while someone is in them; the lobby always exists. Nothing here is
 * locked: every function must be called with chat_lock held, because the
 * thread model runs connections on many threads at once.
 */
#ifndef SOCKSERV_CHAT_ROOMS_H
#define SOCKSERV_CHAT_ROOMS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/line_reader.h"

#define CHAT_NAME_MAX 32
#define CHAT_LOBBY "lobby"

struct conn;
struct chat_room;

/* A connected client: chat's per-connection state. */
struct chat_member {
    struct conn *conn;
    char nick[CHAT_NAME_MAX + 1];
    struct chat_room *room;
    size_t room_slot; /* This member's index in room->members. */
    struct line_reader reader;
    bool entered;          /* Has a nick and a room. */
    const char *quit_note; /* Said with /quit, shown as the leave reason. */
    char quit_text[256];
};

struct chat_room {
    char name[CHAT_NAME_MAX + 1];
    struct chat_member **members;
    size_t count, capacity;
    struct chat_room *next;
};

extern pthread_mutex_t chat_lock;

/* True when name is 1..CHAT_NAME_MAX letters, digits, '-' or '_'. */
bool chat_name_is_valid(const char *name);

/* The member holding nick, or NULL. */
struct chat_member *chat_nick_owner(const char *nick);

/* Gives m the nick, releasing its old one. Returns -1 when it is taken by
 * someone else or memory runs out. */
int chat_nick_claim(struct chat_member *m, const char *nick);

void chat_nick_release(struct chat_member *m);

struct chat_room *chat_room_find(const char *name);

/* Moves m into the named room, creating it, and out of its old room, which
 * is removed when left empty. Returns -1 when memory runs out. */
int chat_room_enter(struct chat_member *m, const char *name);

/* Takes m out of its room. */
void chat_room_leave(struct chat_member *m);

/* Every room, for listing. */
struct chat_room *chat_rooms_first(void);

#endif
