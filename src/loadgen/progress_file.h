/*
 * --progress-file: a count another process can watch without a pipe. The
 * file holds one 64-bit unsigned number in the machine's byte order at
 * offset 0; the bench maps it shared and stores into it with atomic stores,
 * so a reader that maps it too sees each new value as soon as it is stored
 * (chat_fanout.py's senders pace themselves on the lines delivered so far).
 */
#ifndef SOCKSERV_LOADGEN_PROGRESS_FILE_H
#define SOCKSERV_LOADGEN_PROGRESS_FILE_H

#include <stddef.h>
#include <stdint.h>

/* Creates (or empties) path, sized for the count, and maps it; the count
 * starts at 0. Returns NULL with a one-line reason in err. */
uint64_t *progress_file_open(const char *path, char *err, size_t errlen);

/* Unmaps; the file stays, with the last count in it. */
void progress_file_close(uint64_t *count);

#endif
