/*
 * Making untrusted text safe to pass on to other people's terminals.
 *
 * Valid UTF-8 passes through byte for byte, so every script and emoji
 * arrives intact. Bytes that are not valid UTF-8 (a stray Latin-1 byte, a
 * truncated or overlong sequence, a surrogate) each become U+FFFD, the
 * replacement character, so the receiver always gets valid UTF-8. Control
 * characters other than TAB (C0, DEL and C1) are removed, because they
 * would let one user drive another's terminal (escape sequences, bells,
 * cursor moves). So are the bidirectional controls (every character with
 * the Bidi_Control property: U+061C, U+200E, U+200F, U+202A..U+202E,
 * U+2066..U+2069), with which one line could reorder what the reader sees
 * around it ("Trojan Source", CVE-2021-42574), and U+2028 and U+2029, the
 * line and paragraph separators, which some readers show as a line break
 * and so could forge a line. The marks U+200E, U+200F and U+061C go too:
 * they are invisible, and left-to-right text around right-to-left words
 * still reads correctly without them, by the Unicode bidi algorithm.
 */
#ifndef SOCKSERV_TEXT_H
#define SOCKSERV_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* Length of the valid UTF-8 sequence at s[0..len) (1 to 4 bytes), or 0
 * when the bytes there are not one: RFC 3629's shortest forms, no
 * surrogates, nothing past U+10FFFF. Its code point goes to *code_point. */
size_t text_utf8_sequence(const uint8_t *s, size_t len, uint32_t *code_point);

/* Bytes out may need for len bytes in: each invalid byte grows to three. */
#define TEXT_SANITIZED_MAX(len) ((len)*3)

/*
 * The longest prefix of s[0..len), at most max bytes, that does not end
 * inside a UTF-8 sequence: where to cut text that must stay valid. Whether
 * the last character is whole is read from its lead byte, never from the
 * bytes after the cut, so text whose rest has not arrived yet is cut with
 * max = len: a character still missing bytes is left for the next piece.
 * Only a character that alone is longer than max leaves an empty prefix.
 */
size_t text_cut(const char *s, size_t len, size_t max);

/* Writes the sanitized form of in[0..len) to out, which has room for
 * TEXT_SANITIZED_MAX(len) bytes, and returns its length. */
size_t text_sanitize(const char *in, size_t len, char *out);

#endif
