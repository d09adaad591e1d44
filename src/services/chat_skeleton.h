/*
 * The confusable skeleton of a chat nick: two nicks with one skeleton look
 * alike (aIice, a1ice and alice; rnary and mary), so only one of them may be
 * in use at a time.
 *
 * This is the skeleton of Unicode Technical Standard #39, "Unicode Security
 * Mechanisms", section 4 (https://www.unicode.org/reports/tr39/#Confusable_Detection),
 * for the nick alphabet only (A-Z, a-z, 0-9, '-' and '_': see
 * chat_name_is_valid), made case-insensitive because nicks compare without
 * case. How the table was made is in chat_skeleton.c.
 */
#ifndef SOCKSERV_CHAT_SKELETON_H
#define SOCKSERV_CHAT_SKELETON_H

#include <stddef.h>

/* A skeleton is at most twice as long as its nick (m becomes rn). */
#define CHAT_SKELETON_MAX(name_max) (2 * (name_max))

/* Writes the skeleton of name (nick alphabet only) to out, which has room
 * for CHAT_SKELETON_MAX(strlen(name)) + 1 bytes, NUL-terminated, and
 * returns its length. */
size_t chat_skeleton(const char *name, char *out);

#endif
