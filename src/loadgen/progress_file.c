/* The --progress-file counter: one shared mapping of an 8-byte file. */
#include "loadgen/progress_file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/error.h"

uint64_t *progress_file_open(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        error_set(err, errlen, "cannot open the progress file %s: %s", path, strerror(errno));
        return NULL;
    }
    /* Truncated to nothing and grown again: the count reads 0. */
    if (ftruncate(fd, sizeof(uint64_t)) != 0) {
        error_set(err, errlen, "cannot size the progress file %s: %s", path, strerror(errno));
        close(fd);
        return NULL;
    }
    void *map = mmap(NULL, sizeof(uint64_t), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    int saved = errno;
    /* The mapping keeps the file; the descriptor is no longer needed. */
    close(fd);
    if (map == MAP_FAILED) {
        error_set(err, errlen, "cannot map the progress file %s: %s", path, strerror(saved));
        return NULL;
    }
    return map;
}

void progress_file_close(uint64_t *count)
{
    if (count)
        munmap(count, sizeof(uint64_t));
}
