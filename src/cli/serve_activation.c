/* sockserv serve under systemd socket activation: the inherited sockets
 * become the listeners, their names the services. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/serve_inherited.h"
#include "core/log.h"
#include "core/socket_activation.h"

/* Turns one inherited socket into a spec: its transport, the service its
 * name says, and the listener's own settings after any '?', read as a
 * listener's query is (core/listener_query.h). */
static int make_spec(const struct inherited_socket *s, struct endpoint *spec)
{
    size_t len = strcspn(s->name, "?");
    if (len == 0) {
        fprintf(stderr,
                "sockserv serve: inherited fd %d has no name: set FileDescriptorName=SERVICE"
                " in its .socket unit\n",
                s->fd);
        return EXIT_USAGE;
    }
    memset(spec, 0, sizeof(*spec));
    spec->transport = s->transport;
    if (len < sizeof(spec->service))
        memcpy(spec->service, s->name, len);
    if (len >= sizeof(spec->service) || !service_find(spec->service)) {
        fprintf(stderr,
                "sockserv serve: inherited fd %d is named '%.*s', which is no service: set"
                " FileDescriptorName=SERVICE (see sockserv serve --help)\n",
                s->fd, (int)len, s->name);
        return EXIT_USAGE;
    }
    const char *query = s->name + len + (s->name[len] == '?');
    if (strlen(query) >= sizeof(spec->query)) {
        fprintf(stderr, "sockserv serve: inherited fd %d: the settings after '?' are too long\n",
                s->fd);
        return EXIT_USAGE;
    }
    strcpy(spec->query, query);
    return 0;
}

static int make_specs(const struct inherited_socket *sockets, struct activation *act,
                      struct endpoint **specs, size_t *n)
{
    act->fds = calloc(act->count, sizeof(*act->fds));
    *specs = calloc(act->count, sizeof(**specs));
    if (!act->fds || !*specs) {
        fprintf(stderr, "sockserv serve: out of memory\n");
        return EXIT_RUNTIME;
    }
    *n = act->count;
    for (size_t i = 0; i < act->count; i++) {
        act->fds[i] = sockets[i].fd;
        int rc = make_spec(&sockets[i], &(*specs)[i]);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int serve_activation_take(struct serve_options *opt, int listener_args, struct activation *act,
                          struct endpoint **specs, size_t *n)
{
    static struct inherited_socket sockets[SOCKET_ACTIVATION_MAX];
    char err[256];
    memset(act, 0, sizeof(*act));
    int count = socket_activation_take(sockets, SOCKET_ACTIVATION_MAX, err, sizeof(err));
    if (count < 0) {
        fprintf(stderr, "sockserv serve: socket activation: %s\n", err);
        return EXIT_RUNTIME;
    }
    if (count == 0)
        return 0;
    act->count = (size_t)count;
    /* One set of listeners, whoever bound them: mixing would leave the
     * operator two places to look for what the server serves. */
    if (listener_args > 0) {
        fprintf(stderr,
                "sockserv serve: socket-activated (LISTEN_FDS=%d): give no LISTENER"
                " arguments; the .socket unit says what to serve\n",
                count);
        return EXIT_USAGE;
    }
    if (opt->balance_given && !opt->balance_shared) {
        fprintf(stderr, "sockserv serve: --balance reuseport cannot split inherited sockets"
                        " (systemd bound them without SO_REUSEPORT): use --balance shared\n");
        return EXIT_USAGE;
    }
    opt->balance_shared = true;
    int rc = make_specs(sockets, act, specs, n);
    if (rc == 0 && (opt->threads > 1 || opt->workers > 1))
        log_info("socket-activated: every loop and worker shares the inherited sockets"
                 " (--balance shared)");
    return rc;
}

void serve_activation_free(struct activation *act)
{
    free(act->fds);
    act->fds = NULL;
    act->count = 0;
}
