/* Chat's rooms and nicks (services/chat_rooms.h), one world at a time and
 * two side by side, without a connection: members are plain structs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "services/chat_rooms.h"

/* Enough members to grow a room's member array and the nick table several
 * times over. */
#define MANY 600

static size_t room_count(const struct chat_rooms *rooms)
{
    size_t n = 0;
    for (struct chat_room *r = chat_rooms_first(rooms); r; r = r->next)
        n++;
    return n;
}

/* The room named name (exact spelling), or NULL. */
static struct chat_room *room_named(const struct chat_rooms *rooms, const char *name)
{
    for (struct chat_room *r = chat_rooms_first(rooms); r; r = r->next)
        if (strcmp(r->name, name) == 0)
            return r;
    return NULL;
}

/* Every member of room says it is there, in the slot it is in. */
static void assert_room_consistent(const struct chat_room *room)
{
    for (size_t i = 0; i < room->count; i++) {
        assert_ptr_equal(room->members[i]->room, room);
        assert_int_equal(room->members[i]->room_slot, i);
    }
}

static bool room_holds(const struct chat_room *room, const struct chat_member *m)
{
    for (size_t i = 0; i < room->count; i++)
        if (room->members[i] == m)
            return true;
    return false;
}

static void test_names_are_letters_digits_dash_underscore(void **state)
{
    (void)state;
    assert_true(chat_name_is_valid("a"));
    assert_true(chat_name_is_valid("Ann_the-2nd"));
    assert_true(chat_name_is_valid("abcdefghijklmnopqrstuvwxyz012345")); /* 32 */
    assert_false(chat_name_is_valid(""));
    assert_false(chat_name_is_valid("abcdefghijklmnopqrstuvwxyz0123456")); /* 33 */
    assert_false(chat_name_is_valid("two words"));
    assert_false(chat_name_is_valid("a.b"));
    assert_false(chat_name_is_valid("caf\xc3\xa9"));
}

static void test_a_new_world_has_no_rooms_and_no_nicks(void **state)
{
    (void)state;
    struct chat_rooms rooms;
    chat_rooms_init(&rooms);
    assert_null(chat_rooms_first(&rooms));
    assert_null(chat_nick_owner(&rooms, "ann"));
    struct chat_member ann = {0};
    chat_room_leave(&rooms, &ann); /* Not in a room: nothing happens. */
    chat_nick_release(&rooms, &ann);
    chat_rooms_free(&rooms);
}

static void test_entering_creates_the_room_and_lists_the_member(void **state)
{
    (void)state;
    struct chat_rooms rooms;
    chat_rooms_init(&rooms);
    struct chat_member ann = {0}, bob = {0};
    assert_int_equal(chat_room_enter(&rooms, &ann, CHAT_LOBBY), 0);
    assert_int_equal(chat_room_enter(&rooms, &bob, CHAT_LOBBY), 0);
    struct chat_room *lobby = chat_rooms_first(&rooms);
    assert_non_null(lobby);
    assert_null(lobby->next);
    assert_string_equal(lobby->name, CHAT_LOBBY);
    assert_int_equal(lobby->count, 2);
    assert_true(room_holds(lobby, &ann) && room_holds(lobby, &bob));
    assert_room_consistent(lobby);
    chat_rooms_free(&rooms);
}

static void test_room_names_ignore_case_and_keep_the_first_spelling(void **state)
{
    (void)state;
    struct chat_rooms rooms;
    chat_rooms_init(&rooms);
    struct chat_member ann = {0}, bob = {0};
    assert_int_equal(chat_room_enter(&rooms, &ann, "Den"), 0);
    assert_int_equal(chat_room_enter(&rooms, &bob, "DEN"), 0);
    assert_int_equal(room_count(&rooms), 1);
    assert_ptr_equal(ann.room, bob.room);
    assert_string_equal(bob.room->name, "Den");
    assert_int_equal(bob.room->count, 2);
    chat_rooms_free(&rooms);
}

static void test_moving_leaves_the_old_room_and_an_emptied_room_goes(void **state)
{
    (void)state;
    struct chat_rooms rooms;
    chat_rooms_init(&rooms);
    struct chat_member ann = {0}, bob = {0};
    assert_int_equal(chat_room_enter(&rooms, &ann, CHAT_LOBBY), 0);
    assert_int_equal(chat_room_enter(&rooms, &bob, CHAT_LOBBY), 0);
    assert_int_equal(chat_room_enter(&rooms, &bob, "attic"), 0);
    struct chat_room *lobby = room_named(&rooms, CHAT_LOBBY);
    struct chat_room *attic = room_named(&rooms, "attic");
    assert_non_null(attic);
    assert_ptr_equal(bob.room, attic);
    assert_int_equal(lobby->count, 1);
    assert_false(room_holds(lobby, &bob));
    assert_room_consistent(lobby);

    /* The last one out of attic takes it away. */
    assert_int_equal(chat_room_enter(&rooms, &bob, CHAT_LOBBY), 0);
    assert_null(room_named(&rooms, "attic"));
    assert_int_equal(room_count(&rooms), 1);
    assert_int_equal(lobby->count, 2);
    assert_room_consistent(lobby);
    chat_rooms_free(&rooms);
}

static void test_the_lobby_stays_when_emptied(void **state)
{
    (void)state;
    struct chat_rooms rooms;
    chat_rooms_init(&rooms);
    struct chat_member ann = {0};
    assert_int_equal(chat_room_enter(&rooms, &ann, CHAT_LOBBY), 0);
    assert_int_equal(chat_room_enter(&rooms, &ann, "den"), 0);
    struct chat_room *lobby = room_named(&rooms, CHAT_LOBBY);
    assert_non_null(lobby);
    assert_int_equal(lobby->count, 0);
    chat_room_leave(&rooms, &ann);
    assert_null(ann.room);
    assert_null(room_named(&rooms, "den"));
    assert_ptr_equal(chat_rooms_first(&rooms), lobby);
    assert_null(lobby->next);
    chat_rooms_free(&rooms);
}

static void test_leaving_from_the_middle_keeps_the_member_list_whole(void **state)
{
    (void)state;
    static struct chat_member members[MANY];
    memset(members, 0, sizeof(members));
    struct chat_rooms rooms;
    chat_rooms_init(&rooms);
    for (size_t i = 0; i < MANY; i++)
        assert_int_equal(chat_room_enter(&rooms, &members[i], "hall"), 0);
    struct chat_room *hall = room_named(&rooms, "hall");
    assert_int_equal(hall->count, MANY);
    /* Every third member leaves, from all over the list. */
    for (size_t i = 0; i < MANY; i += 3)
        chat_room_leave(&rooms, &members[i]);
    assert_int_equal(hall->count, MANY - MANY / 3);
    assert_room_consistent(hall);
    for (size_t i = 0; i < MANY; i++) {
        assert_int_equal(room_holds(hall, &members[i]), i % 3 != 0);
        assert_true(i % 3 == 0 ? members[i].room == NULL : members[i].room == hall);
    }
    chat_rooms_free(&rooms);
}

static void test_a_nick_has_one_owner_whatever_its_case(void **state)
{
    (void)state;
    struct chat_rooms rooms;
    chat_rooms_init(&rooms);
    struct chat_member ann = {0}, bob = {0};
    assert_int_equal(chat_nick_claim(&rooms, &ann, "Ann"), 0);
    assert_string_equal(ann.nick, "Ann");
    assert_ptr_equal(chat_nick_owner(&rooms, "ann"), &ann);
    assert_ptr_equal(chat_nick_owner(&rooms, "ANN"), &ann);
    assert_int_equal(chat_nick_claim(&rooms, &bob, "aNN"), -1);
    assert_string_equal(bob.nick, "");
    /* Its owner may take it again, in another spelling. */
    assert_int_equal(chat_nick_claim(&rooms, &ann, "ANN"), 0);
    assert_string_equal(ann.nick, "ANN");
    assert_ptr_equal(chat_nick_owner(&rooms, "ann"), &ann);
    chat_rooms_free(&rooms);
}

static void test_look_alike_nicks_are_one_nick(void **state)
{
    (void)state;
    struct chat_rooms rooms;
    chat_rooms_init(&rooms);
    struct chat_member alice = {0}, mary = {0}, will = {0}, bob = {0}, other = {0};
    assert_int_equal(chat_nick_claim(&rooms, &alice, "alice"), 0);
    assert_int_equal(chat_nick_claim(&rooms, &mary, "mary"), 0);
    assert_int_equal(chat_nick_claim(&rooms, &will, "will"), 0);
    assert_int_equal(chat_nick_claim(&rooms, &bob, "b0b"), 0);
    /* Capital I, digit one and capital L pass for l; 0 for o; rn for m; vv
     * for w; and case never matters. */
    const char *alikes[][2] = {
        {"aIice", "alice"}, {"a1ice", "alice"}, {"ALICE", "alice"}, {"AL1CE", "alice"},
        {"aiice", "alice"}, {"rnary", "mary"},  {"RNARY", "mary"},  {"vvill", "will"},
        {"VVi1l", "will"},  {"bob", "b0b"},     {"BOB", "b0b"},     {"8ob", NULL},
        {"alicia", NULL},   {"mar", NULL},      {"wil", NULL},      {"a_ice", NULL},
    };
    for (size_t i = 0; i < sizeof(alikes) / sizeof(alikes[0]); i++) {
        struct chat_member *owner = chat_nick_owner(&rooms, alikes[i][0]);
        if (alikes[i][1]) {
            assert_non_null(owner);
            assert_string_equal(owner->nick, alikes[i][1]);
            assert_int_equal(chat_nick_claim(&rooms, &other, alikes[i][0]), -1);
        } else {
            assert_null(owner);
        }
    }
    assert_string_equal(other.nick, "");
    /* Its owner may take another spelling of it; once free, anyone may. */
    assert_int_equal(chat_nick_claim(&rooms, &alice, "Al1ce"), 0);
    assert_ptr_equal(chat_nick_owner(&rooms, "alice"), &alice);
    chat_nick_release(&rooms, &alice);
    assert_int_equal(chat_nick_claim(&rooms, &other, "a1ice"), 0);
    assert_ptr_equal(chat_nick_owner(&rooms, "AIICE"), &other);
    chat_rooms_free(&rooms);
}

static void test_skeletons_follow_the_confusables_table(void **state)
{
    (void)state;
    char out[CHAT_SKELETON_MAX(CHAT_NAME_MAX) + 1];
    assert_int_equal(chat_skeleton("Il1Li", out), 5);
    assert_string_equal(out, "lllll");
    chat_skeleton("O0o", out);
    assert_string_equal(out, "ooo");
    chat_skeleton("mM-wW_", out);
    assert_string_equal(out, "rnrn-vvvv_");
    chat_skeleton("Guest42", out);
    assert_string_equal(out, "guest42");
    /* The longest nick of the widest letter fills the buffer exactly. */
    char longest[CHAT_NAME_MAX + 1];
    memset(longest, 'm', CHAT_NAME_MAX);
    longest[CHAT_NAME_MAX] = '\0';
    assert_int_equal(chat_skeleton(longest, out), CHAT_SKELETON_MAX(CHAT_NAME_MAX));
}

static void test_a_new_nick_frees_the_old_one(void **state)
{
    (void)state;
    struct chat_rooms rooms;
    chat_rooms_init(&rooms);
    struct chat_member ann = {0}, bob = {0};
    assert_int_equal(chat_nick_claim(&rooms, &ann, "guest1"), 0);
    assert_int_equal(chat_nick_claim(&rooms, &ann, "ann"), 0);
    assert_null(chat_nick_owner(&rooms, "guest1"));
    assert_int_equal(chat_nick_claim(&rooms, &bob, "guest1"), 0);
    assert_ptr_equal(chat_nick_owner(&rooms, "guest1"), &bob);

    chat_nick_release(&rooms, &bob);
    assert_null(chat_nick_owner(&rooms, "guest1"));
    assert_ptr_equal(chat_nick_owner(&rooms, "ann"), &ann);
    chat_rooms_free(&rooms);
}

static void test_releasing_a_nick_one_does_not_hold_changes_nothing(void **state)
{
    (void)state;
    struct chat_rooms rooms;
    chat_rooms_init(&rooms);
    struct chat_member ann = {0}, impostor = {0};
    assert_int_equal(chat_nick_claim(&rooms, &ann, "ann"), 0);
    snprintf(impostor.nick, sizeof(impostor.nick), "ann");
    chat_nick_release(&rooms, &impostor);
    assert_ptr_equal(chat_nick_owner(&rooms, "ann"), &ann);
    chat_rooms_free(&rooms);
}

static void test_many_nicks_come_and_go(void **state)
{
    (void)state;
    static struct chat_member members[MANY];
    memset(members, 0, sizeof(members));
    struct chat_rooms rooms;
    chat_rooms_init(&rooms);
    char nick[CHAT_NAME_MAX + 1];
    /* Claims, releases and claims again, so the table grows and fills
     * with tombstones that later probes must pass. */
    for (int round = 0; round < 3; round++) {
        for (size_t i = 0; i < MANY; i++) {
            snprintf(nick, sizeof(nick), "n%d-%zu", round, i);
            assert_int_equal(chat_nick_claim(&rooms, &members[i], nick), 0);
        }
        for (size_t i = 0; i < MANY; i += 2)
            chat_nick_release(&rooms, &members[i]);
    }
    for (size_t i = 0; i < MANY; i++) {
        snprintf(nick, sizeof(nick), "n2-%zu", i);
        if (i % 2 == 0)
            assert_null(chat_nick_owner(&rooms, nick));
        else
            assert_ptr_equal(chat_nick_owner(&rooms, nick), &members[i]);
        snprintf(nick, sizeof(nick), "n1-%zu", i);
        assert_null(chat_nick_owner(&rooms, nick));
    }
    chat_rooms_free(&rooms);
}

static void test_two_worlds_know_nothing_of_each_other(void **state)
{
    (void)state;
    struct chat_rooms east, west;
    chat_rooms_init(&east);
    chat_rooms_init(&west);
    struct chat_member ann_east = {0}, ann_west = {0};
    assert_int_equal(chat_nick_claim(&east, &ann_east, "ann"), 0);
    assert_int_equal(chat_nick_claim(&west, &ann_west, "ann"), 0);
    assert_ptr_equal(chat_nick_owner(&east, "ann"), &ann_east);
    assert_ptr_equal(chat_nick_owner(&west, "ann"), &ann_west);

    assert_int_equal(chat_room_enter(&east, &ann_east, "den"), 0);
    assert_int_equal(chat_room_enter(&west, &ann_west, CHAT_LOBBY), 0);
    assert_non_null(room_named(&east, "den"));
    assert_null(room_named(&west, "den"));
    assert_null(room_named(&east, CHAT_LOBBY));
    assert_int_equal(ann_west.room->count, 1);

    chat_nick_release(&east, &ann_east);
    assert_null(chat_nick_owner(&east, "ann"));
    assert_ptr_equal(chat_nick_owner(&west, "ann"), &ann_west);
    chat_rooms_free(&east);
    chat_rooms_free(&west);
}

static void test_a_freed_world_is_empty_and_usable_again(void **state)
{
    (void)state;
    struct chat_rooms rooms;
    chat_rooms_init(&rooms);
    struct chat_member ann = {0};
    assert_int_equal(chat_nick_claim(&rooms, &ann, "ann"), 0);
    assert_int_equal(chat_room_enter(&rooms, &ann, "den"), 0);
    chat_rooms_free(&rooms);
    assert_null(chat_rooms_first(&rooms));
    assert_null(chat_nick_owner(&rooms, "ann"));

    struct chat_member bob = {0};
    assert_int_equal(chat_nick_claim(&rooms, &bob, "ann"), 0);
    assert_int_equal(chat_room_enter(&rooms, &bob, CHAT_LOBBY), 0);
    assert_int_equal(room_count(&rooms), 1);
    chat_rooms_free(&rooms);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_are_letters_digits_dash_underscore),
        cmocka_unit_test(test_a_new_world_has_no_rooms_and_no_nicks),
        cmocka_unit_test(test_entering_creates_the_room_and_lists_the_member),
        cmocka_unit_test(test_room_names_ignore_case_and_keep_the_first_spelling),
        cmocka_unit_test(test_moving_leaves_the_old_room_and_an_emptied_room_goes),
        cmocka_unit_test(test_the_lobby_stays_when_emptied),
        cmocka_unit_test(test_leaving_from_the_middle_keeps_the_member_list_whole),
        cmocka_unit_test(test_a_nick_has_one_owner_whatever_its_case),
        cmocka_unit_test(test_look_alike_nicks_are_one_nick),
        cmocka_unit_test(test_skeletons_follow_the_confusables_table),
        cmocka_unit_test(test_a_new_nick_frees_the_old_one),
        cmocka_unit_test(test_releasing_a_nick_one_does_not_hold_changes_nothing),
        cmocka_unit_test(test_many_nicks_come_and_go),
        cmocka_unit_test(test_two_worlds_know_nothing_of_each_other),
        cmocka_unit_test(test_a_freed_world_is_empty_and_usable_again),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
