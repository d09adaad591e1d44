#include "core/privileges.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"

/* Reads a whole decimal id; false for anything else. */
static bool parse_id(const char *text, unsigned long *out)
{
    if (*text < '0' || *text > '9')
        return false;
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(text, &end, 10);
    if (errno != 0 || *end != '\0' || v >= (unsigned long)(uid_t)-1)
        return false;
    *out = v;
    return true;
}

static int find_user(const char *name, struct privileges *out, char *err, size_t errlen)
{
    errno = 0;
    struct passwd *pw = getpwnam(name);
    unsigned long id;
    if (!pw && parse_id(name, &id))
        pw = getpwuid((uid_t)id);
    if (!pw)
        return error_set(err, errlen, "unknown user '%s'", name);
    if (strlen(pw->pw_name) >= sizeof(out->user))
        return error_set(err, errlen, "user name '%s' is too long", pw->pw_name);
    out->uid = pw->pw_uid;
    out->gid = pw->pw_gid;
    snprintf(out->user, sizeof(out->user), "%s", pw->pw_name);
    return 0;
}

static int find_group(const char *name, struct privileges *out, char *err, size_t errlen)
{
    struct group *gr = getgrnam(name);
    unsigned long id;
    if (!gr && parse_id(name, &id)) {
        gr = getgrgid((gid_t)id);
        /* A numeric group need not be named in /etc/group. */
        if (!gr) {
            out->gid = (gid_t)id;
            snprintf(out->group, sizeof(out->group), "%lu", id);
            return 0;
        }
    }
    if (!gr)
        return error_set(err, errlen, "unknown group '%s'", name);
    out->gid = gr->gr_gid;
    snprintf(out->group, sizeof(out->group), "%s", gr->gr_name);
    return 0;
}

int privileges_resolve(const char *spec, struct privileges *out, char *err, size_t errlen)
{
    char user[PRIVILEGES_NAME_MAX];
    const char *colon = strchr(spec, ':');
    size_t user_len = colon ? (size_t)(colon - spec) : strlen(spec);
    if (user_len == 0 || user_len >= sizeof(user) || (colon && colon[1] == '\0'))
        return error_set(err, errlen, "expected NAME or NAME:GROUP");
    memcpy(user, spec, user_len);
    user[user_len] = '\0';
    memset(out, 0, sizeof(*out));
    if (find_user(user, out, err, errlen) != 0)
        return -1;
    if (out->uid == 0)
        return error_set(err, errlen, "'%s' is root: running as root drops nothing", user);
    if (colon) {
        if (find_group(colon + 1, out, err, errlen) != 0)
            return -1;
        /* Group root reads and writes what root's group may: as much a
         * privilege kept as the user root. */
        if (out->gid == 0)
            return error_set(err, errlen, "group '%s' is root's: name another group", colon + 1);
        return 0;
    }
    struct group *gr = getgrgid(out->gid);
    if (gr)
        snprintf(out->group, sizeof(out->group), "%s", gr->gr_name);
    else
        snprintf(out->group, sizeof(out->group), "%lu", (unsigned long)out->gid);
    return 0;
}

int privileges_drop(const struct privileges *p, char *err, size_t errlen)
{
    /* The supplementary groups first: root's own (0 among them) would
     * otherwise stay with the process after setgid and setuid. */
    if (initgroups(p->user, p->gid) != 0)
        return error_set(err, errlen, "cannot drop to user %s: setting its groups: %s", p->user,
                         strerror(errno));
    if (setgid(p->gid) != 0)
        return error_set(err, errlen, "cannot drop to group %s: %s", p->group, strerror(errno));
    if (setuid(p->uid) != 0)
        return error_set(err, errlen, "cannot drop to user %s: %s", p->user, strerror(errno));
    /* setuid keeps a saved root uid in some configurations (a process with
     * SECBIT_NO_SETUID_FIXUP, for one); only a refused way back proves the
     * drop held. */
    if (setuid(0) == 0 || seteuid(0) == 0)
        return error_set(err, errlen, "dropped to user %s, yet could become root again", p->user);
    if (getuid() != p->uid || geteuid() != p->uid || getgid() != p->gid || getegid() != p->gid)
        return error_set(err, errlen, "dropped to user %s, yet the ids did not all change",
                         p->user);
    return 0;
}
