#include "models/fd_table.h"

#include <stdlib.h>
#include <string.h>

/* The first size, so a small server grows its table once or not at all. */
#define FD_TABLE_INITIAL 256

void *fd_table_grow(void *items, size_t *capacity, size_t item_size, int fd)
{
    if ((size_t)fd < *capacity)
        return items;
    size_t count = *capacity ? *capacity : FD_TABLE_INITIAL;
    while (count <= (size_t)fd)
        count *= 2;
    unsigned char *grown = realloc(items, count * item_size);
    if (!grown)
        return NULL;
    memset(grown + *capacity * item_size, 0, (count - *capacity) * item_size);
    *capacity = count;
    return grown;
}
