/*
 * Each listener spec's policy: the server-wide options with the spec's
 * query (core/listener_query.h) applied, and the admission built from it
 * (access list, per-source table). Built before anything binds, so a bad
 * query is a usage error; attached to the listeners once they are bound
 * and before any worker forks, so every worker shares each table.
 */
#ifndef SOCKSERV_CLI_SERVE_POLICY_H
#define SOCKSERV_CLI_SERVE_POLICY_H

#include <stddef.h>

#include "cli/serve_options.h"
#include "core/admission.h"
#include "core/endpoint.h"
#include "core/listener.h"
#include "core/listener_query.h"

struct serve_policies {
    struct listener_policy *policies; /* One per spec. */
    struct admission *admissions;     /* One per spec. */
    size_t count;
};

/* Applies every spec's query to a copy of the server-wide options. args
 * are the listener arguments as given (for messages), or NULL. Returns 0,
 * or an exit status after printing the usage error. */
int serve_policies_build(struct serve_policies *p, const struct serve_options *opt,
                         const struct endpoint *specs, char **args, size_t count);

/* Makes the per-source tables (columns: workers, or 1) and points every
 * listener of set at its spec's config and admission. 0, or -1 with err. */
int serve_policies_attach(struct serve_policies *p, const struct endpoint *specs,
                          struct listener_set *set, unsigned columns, char *err, size_t errlen);

void serve_policies_free(struct serve_policies *p);

#endif
