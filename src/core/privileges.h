/*
 * Dropping root for good, once every socket is bound.
 *
 * privileges_resolve looks up "NAME[:GROUP]" (names or numeric ids; without
 * GROUP, the user's primary group) while the server may still refuse its
 * command line; privileges_drop then sets the supplementary groups, the
 * group and the user, in that order (each needs root, which the next one
 * takes away), and proves the drop held: a process that can still become
 * root (setuid(0) succeeds) has not dropped anything, and the caller must
 * not serve. Call it before any thread starts or worker is forked, so every
 * thread and process of the server runs as the new user.
 */
#ifndef SOCKSERV_PRIVILEGES_H
#define SOCKSERV_PRIVILEGES_H

#include <stddef.h>
#include <sys/types.h>

#define PRIVILEGES_NAME_MAX 64

struct privileges {
    uid_t uid;
    gid_t gid;
    char user[PRIVILEGES_NAME_MAX]; /* For initgroups and the log line. */
    char group[PRIVILEGES_NAME_MAX];
};

/* Fills out from spec ("nobody", "nobody:nogroup", "65534:65534").
 * Returns 0, or -1 with a one-line reason in err (unknown user or group,
 * or the user is root, which would drop nothing). */
int privileges_resolve(const char *spec, struct privileges *out, char *err, size_t errlen);

/* Becomes p's user and group for good. Returns 0, or -1 with a one-line
 * reason in err; after a failure the process may have dropped part of its
 * privileges and must not serve. */
int privileges_drop(const struct privileges *p, char *err, size_t errlen);

#endif
