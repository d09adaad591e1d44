#include "services/chat_skeleton.h"

#include <string.h>

/*
 * The table follows confusables.txt of UTS #39
 * (https://www.unicode.org/Public/security/latest/confusables.txt; these
 * entries read the same in the 10.0.0 file and in later ones), keeping the
 * entries whose source is in the nick alphabet:
 *
 *     0030 ; 004F ;    ( 0 -> O )  DIGIT ZERO -> LATIN CAPITAL LETTER O
 *     0031 ; 006C ;    ( 1 -> l )  DIGIT ONE -> LATIN SMALL LETTER L
 *     0049 ; 006C ;    ( I -> l )  LATIN CAPITAL LETTER I -> LATIN SMALL LETTER L
 *     006D ; 0072 006E ( m -> rn ) LATIN SMALL LETTER M -> R, N
 *
 * (its other ASCII sources, " ` and |, cannot be in a nick). Nicks also
 * compare without case, so the table is closed under ASCII case folding:
 * I is l, and I is i, so i, I, l, L and 1 are one letter; 0, o and O are
 * another; m and M are rn. That merges more than the data alone (i and l,
 * which a capital I links), which errs on the safe side.
 *
 * One mapping is ours, not the data's: w (and W) -> vv, since "vv" passes
 * for "w" in most fonts, as rn does for m. confusables.txt lists neither
 * vv nor 5/S (nor 8/B, 2/Z) among ASCII characters, so neither is mapped.
 */
static const char *skeleton_of(char ch)
{
    switch (ch) {
    case 'i':
    case 'I':
    case 'l':
    case 'L':
    case '1':
        return "l";
    case 'o':
    case 'O':
    case '0':
        return "o";
    case 'm':
    case 'M':
        return "rn";
    case 'w':
    case 'W':
        return "vv";
    default:
        return NULL;
    }
}

size_t chat_skeleton(const char *name, char *out)
{
    size_t used = 0;
    for (const char *p = name; *p; p++) {
        const char *mapped = skeleton_of(*p);
        if (mapped) {
            size_t n = strlen(mapped);
            memcpy(out + used, mapped, n);
            used += n;
        } else {
            out[used++] = *p >= 'A' && *p <= 'Z' ? (char)(*p - 'A' + 'a') : *p;
        }
    }
    out[used] = '\0';
    return used;
}
