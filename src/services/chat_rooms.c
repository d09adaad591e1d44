#include "services/chat_rooms.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Marks a slot whose member left, so later probes keep going past it. Only
 * its address is used, so every world can share it. */
static struct chat_member tombstone;

void chat_rooms_init(struct chat_rooms *rooms)
{
    memset(rooms, 0, sizeof(*rooms));
}

bool chat_name_is_valid(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > CHAT_NAME_MAX)
        return false;
    return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") == len;
}

/* ---- Nicks --------------------------------------------------------------- */

static uint64_t hash_key(const char *key)
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *p = key; *p; p++)
        h = (h ^ (uint8_t)*p) * 1099511628211ULL;
    return h;
}

/* The slot holding the nick whose skeleton is key, or the first free slot
 * its probe passes. */
static size_t find_slot(const struct chat_rooms *rooms, const char *key, bool *found)
{
    size_t mask = rooms->nick_capacity - 1;
    size_t i = (size_t)hash_key(key) & mask;
    size_t free_slot = SIZE_MAX;
    for (;;) {
        struct chat_member *m = rooms->nick_table[i];
        if (!m) {
            *found = false;
            return free_slot != SIZE_MAX ? free_slot : i;
        }
        if (m == &tombstone) {
            if (free_slot == SIZE_MAX)
                free_slot = i;
        } else if (strcmp(m->nick_key, key) == 0) {
            *found = true;
            return i;
        }
        i = (i + 1) & mask;
    }
}

/* Rebuilds the table without tombstones, doubling it when live entries
 * alone would fill half of it. */
static int grow_nicks(struct chat_rooms *rooms)
{
    size_t capacity = rooms->nick_capacity ? rooms->nick_capacity : 64;
    while ((rooms->nick_count + 1) * 2 > capacity)
        capacity *= 2;
    struct chat_member **old = rooms->nick_table;
    size_t old_capacity = rooms->nick_capacity;
    rooms->nick_table = calloc(capacity, sizeof(*rooms->nick_table));
    if (!rooms->nick_table) {
        rooms->nick_table = old;
        return -1;
    }
    rooms->nick_capacity = capacity;
    rooms->nick_used = rooms->nick_count;
    for (size_t i = 0; i < old_capacity; i++) {
        if (old[i] && old[i] != &tombstone) {
            bool found;
            rooms->nick_table[find_slot(rooms, old[i]->nick_key, &found)] = old[i];
        }
    }
    free(old);
    return 0;
}

struct chat_member *chat_nick_owner(const struct chat_rooms *rooms, const char *nick)
{
    if (rooms->nick_count == 0 || strlen(nick) > CHAT_NAME_MAX)
        return NULL;
    char key[CHAT_SKELETON_MAX(CHAT_NAME_MAX) + 1];
    chat_skeleton(nick, key);
    bool found;
    size_t i = find_slot(rooms, key, &found);
    return found ? rooms->nick_table[i] : NULL;
}

void chat_nick_release(struct chat_rooms *rooms, struct chat_member *m)
{
    if (m->nick[0] == '\0' || rooms->nick_count == 0)
        return;
    bool found;
    size_t i = find_slot(rooms, m->nick_key, &found);
    if (found && rooms->nick_table[i] == m) {
        rooms->nick_table[i] = &tombstone;
        rooms->nick_count--;
    }
}

int chat_nick_claim(struct chat_rooms *rooms, struct chat_member *m, const char *nick)
{
    struct chat_member *owner = chat_nick_owner(rooms, nick);
    if (owner && owner != m)
        return -1;
    /* Tombstones count as used, so a probe always ends at an empty slot. */
    if ((rooms->nick_used + 1) * 2 > rooms->nick_capacity && grow_nicks(rooms) != 0)
        return -1;
    chat_nick_release(rooms, m);
    snprintf(m->nick, sizeof(m->nick), "%s", nick);
    chat_skeleton(m->nick, m->nick_key);
    bool found;
    size_t i = find_slot(rooms, m->nick_key, &found);
    if (rooms->nick_table[i] == NULL)
        rooms->nick_used++;
    rooms->nick_table[i] = m;
    rooms->nick_count++;
    return 0;
}

/* ---- Rooms --------------------------------------------------------------- */

static struct chat_room *find_room(const struct chat_rooms *rooms, const char *name)
{
    for (struct chat_room *r = rooms->first; r; r = r->next)
        if (strcasecmp(r->name, name) == 0)
            return r;
    return NULL;
}

struct chat_room *chat_rooms_first(const struct chat_rooms *rooms)
{
    return rooms->first;
}

static void remove_room(struct chat_rooms *rooms, struct chat_room *room)
{
    for (struct chat_room **p = &rooms->first; *p; p = &(*p)->next) {
        if (*p == room) {
            *p = room->next;
            break;
        }
    }
    free(room->members);
    free(room);
}

void chat_room_leave(struct chat_rooms *rooms, struct chat_member *m)
{
    struct chat_room *room = m->room;
    if (!room)
        return;
    /* The last member takes the leaver's slot: O(1), order does not matter. */
    struct chat_member *last = room->members[--room->count];
    room->members[m->room_slot] = last;
    last->room_slot = m->room_slot;
    m->room = NULL;
    if (room->count == 0 && strcasecmp(room->name, CHAT_LOBBY) != 0)
        remove_room(rooms, room);
}

int chat_room_enter(struct chat_rooms *rooms, struct chat_member *m, const char *name)
{
    struct chat_room *room = find_room(rooms, name);
    if (!room) {
        room = calloc(1, sizeof(*room));
        if (!room)
            return -1;
        snprintf(room->name, sizeof(room->name), "%s", name);
        room->next = rooms->first;
        rooms->first = room;
    }
    if (room->count == room->capacity) {
        size_t capacity = room->capacity ? room->capacity * 2 : 8;
        struct chat_member **grown = realloc(room->members, capacity * sizeof(*grown));
        if (!grown) {
            if (room->count == 0 && strcasecmp(room->name, CHAT_LOBBY) != 0)
                remove_room(rooms, room);
            return -1;
        }
        room->members = grown;
        room->capacity = capacity;
    }
    chat_room_leave(rooms, m);
    m->room = room;
    m->room_slot = room->count;
    room->members[room->count++] = m;
    return 0;
}

void chat_rooms_free(struct chat_rooms *rooms)
{
    while (rooms->first)
        remove_room(rooms, rooms->first);
    free(rooms->nick_table);
    chat_rooms_init(rooms);
}
