/*
 * sockserv serve on sockets it did not bind: systemd socket activation
 * (serve_activation_*) and one inetd-style connection on stdin
 * (serve_inetd). Both print their own one-line errors and return exit
 * statuses, as commands.h says.
 */
#ifndef SOCKSERV_CLI_SERVE_INHERITED_H
#define SOCKSERV_CLI_SERVE_INHERITED_H

#include <stddef.h>

#include "cli/serve_options.h"
#include "core/endpoint.h"
#include "core/privileges.h"

/* The sockets a service manager passed, one spec each. */
struct activation {
    int *fds;
    size_t count; /* 0: not socket-activated. */
};

/*
 * Takes the sockets passed by socket activation, if any (the LISTEN_*
 * variables are cleared either way), and makes a spec for each: its
 * transport and the service its name gives; *specs is allocated. Listener
 * arguments beside them are refused, and every loop and worker will share
 * them (opt->balance_shared): they were not bound with SO_REUSEPORT.
 * Returns 0 (act->count 0 when not activated) or an exit status.
 */
int serve_activation_take(struct serve_options *opt, int listener_args, struct activation *act,
                          struct endpoint **specs, size_t *n);

void serve_activation_free(struct activation *act);

/*
 * --inetd: serves the one connection on stdin with opt's limits, as user
 * drop_to when not NULL, and returns once it has ended (0) or an exit
 * status when it could not be served.
 */
int serve_inetd(const struct serve_options *opt, int listener_args,
                const struct privileges *drop_to);

#endif
