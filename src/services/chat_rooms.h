/*
 * The rooms and nicks of one chat world (one chat listener): who is
 * connected under which nick, and which room each is in.
 *
 * Room names compare without regard to ASCII case. Nicks compare by their
 * confusable skeleton (chat_skeleton.h), which ignores case too and makes
 * look-alikes (alice, aIice, a1ice) one nick. A room exists
 * while someone is in it, except the lobby, which stays once made. Nothing
 * here is locked: the caller serialises every call on one struct chat_rooms
 * (chat.c holds its instance's lock), because the thread model and
 * --threads run connections on many threads at once.
 */
#ifndef SOCKSERV_CHAT_ROOMS_H
#define SOCKSERV_CHAT_ROOMS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/line_reader.h"
#include "core/token_bucket.h"
#include "services/chat_skeleton.h"

#define CHAT_NAME_MAX 32
#define CHAT_LOBBY "lobby"

struct conn;
struct chat_room;

/* A connected client: chat's per-connection state. */
struct chat_member {
    struct conn *conn;
    char nick[CHAT_NAME_MAX + 1];
    char nick_key[CHAT_SKELETON_MAX(CHAT_NAME_MAX) + 1]; /* nick's skeleton. */
    struct chat_room *room;
    size_t room_slot; /* This member's index in room->members. */
    struct line_reader reader;
    bool entered;          /* Has a nick and a room. */
    const char *quit_note; /* Said with /quit, shown as the leave reason. */
    char quit_text[256];
    struct token_bucket lines; /* --chat-rate: the lines this member may send. */
};

struct chat_room {
    char name[CHAT_NAME_MAX + 1];
    struct chat_member **members;
    size_t count, capacity;
    struct chat_room *next;
};

/* One world. Members belong to their connections; rooms and the nick
 * table belong to the world. */
struct chat_rooms {
    struct chat_room *first; /* Every room, newest first. */
    /* Nicks: an open-addressing table keyed by the nick's skeleton. */
    struct chat_member **nick_table;
    size_t nick_capacity; /* A power of two, or 0 before the first nick. */
    size_t nick_count;
    size_t nick_used; /* Live entries plus tombstones. */
};

/* An empty world: no rooms, no nicks. */
void chat_rooms_init(struct chat_rooms *rooms);

/* Frees the rooms and the nick table (not the members, which belong to
 * their connections), leaving an empty world. */
void chat_rooms_free(struct chat_rooms *rooms);

/* True when name is 1..CHAT_NAME_MAX letters, digits, '-' or '_'. */
bool chat_name_is_valid(const char *name);

/* The member holding nick or a nick that looks like it, or NULL. */
struct chat_member *chat_nick_owner(const struct chat_rooms *rooms, const char *nick);

/* Gives m the nick, releasing its old one. Returns -1 when it, or a nick
 * that looks like it, is held by someone else, or memory runs out. */
int chat_nick_claim(struct chat_rooms *rooms, struct chat_member *m, const char *nick);

/* Frees m's nick for others; m->nick keeps the text. */
void chat_nick_release(struct chat_rooms *rooms, struct chat_member *m);

/* Moves m into the named room, creating it, and out of its old room, which
 * is removed when left empty. Returns -1 when memory runs out. */
int chat_room_enter(struct chat_rooms *rooms, struct chat_member *m, const char *name);

/* Takes m out of its room. */
void chat_room_leave(struct chat_rooms *rooms, struct chat_member *m);

/* Every room, for listing: follow next from here. */
struct chat_room *chat_rooms_first(const struct chat_rooms *rooms);

#endif
