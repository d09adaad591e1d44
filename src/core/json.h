/*
 * Writing untrusted bytes as the inside of a JSON string (RFC 8259), for
 * the log's JSON lines, whose strings may come from a peer (a chat
 * nickname, a reason quoting input) or from anything else.
 *
 * The output is always valid JSON and valid UTF-8, and never holds a raw
 * control character: the quote and the backslash are escaped, C0 controls
 * and DEL become \n, \t, \r, \b, \f or \u00XX, valid UTF-8 passes byte for
 * byte, and each byte that is not part of a valid UTF-8 sequence (a stray
 * Latin-1 byte, a truncated, overlong or surrogate sequence) becomes
 * \ufffd, so a reader sees that something was replaced. U+2028 and U+2029
 * are escaped too: valid JSON, but JavaScript and some log viewers take
 * them for line breaks.
 */
#ifndef SOCKSERV_JSON_H
#define SOCKSERV_JSON_H

#include <stddef.h>

/* The most one input byte can grow to (\u00XX or \ufffd). */
#define JSON_ESCAPE_GROWTH 6

/*
 * Writes the escaped form of in[0..len) to out, at most cap bytes, never
 * cutting an escape or a UTF-8 character. Returns the bytes written and
 * sets *consumed (when not NULL) to how many input bytes they cover: less
 * than len only when out was too small. Async-signal-safe: no allocation,
 * no locale.
 */
size_t json_escape(const char *in, size_t len, char *out, size_t cap, size_t *consumed);

#endif
