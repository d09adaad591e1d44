/*
 * Arrays indexed by descriptor, grown on demand by doubling, so no model
 * keeps a fixed descriptor table (and none has a ceiling such as
 * FD_SETSIZE).
 */
#ifndef SOCKSERV_FD_TABLE_H
#define SOCKSERV_FD_TABLE_H

#include <stddef.h>

/*
 * Returns items (an array of *capacity entries of item_size bytes) grown so
 * that index fd fits, new entries zeroed, and updates *capacity. Returns
 * NULL when memory runs out, leaving items and *capacity as they were.
 */
void *fd_table_grow(void *items, size_t *capacity, size_t item_size, int fd);

#endif
