#include "core/size.h"

#include <string.h>

int size_parse(const char *text, size_t *out)
{
    size_t digits = strspn(text, "0123456789");
    /* More digits than 1 GiB has would overflow below. */
    if (digits == 0 || digits > 10)
        return -1;
    unsigned long long value = 0;
    for (size_t i = 0; i < digits; i++)
        value = value * 10 + (unsigned long long)(text[i] - '0');
    const char *suffix = text + digits;
    unsigned long long scale = 1;
    if (*suffix == 'K' || *suffix == 'k')
        scale = 1024, suffix++;
    else if (*suffix == 'M' || *suffix == 'm')
        scale = 1024 * 1024, suffix++;
    if (*suffix != '\0' || value > (unsigned long long)SIZE_MAX_BYTES / scale ||
        value * scale < SIZE_MIN_BYTES)
        return -1;
    *out = (size_t)(value * scale);
    return 0;
}
