/* Each listener spec's policy (see serve_policy.h). */
#include "cli/serve_policy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "core/error.h"

int serve_policies_build(struct serve_policies *p, const struct serve_options *opt,
                         const struct endpoint *specs, char **args, size_t count)
{
    p->policies = calloc(count ? count : 1, sizeof(*p->policies));
    p->admissions = calloc(count ? count : 1, sizeof(*p->admissions));
    if (!p->policies || !p->admissions) {
        fprintf(stderr, "sockserv serve: out of memory\n");
        return EXIT_RUNTIME;
    }
    struct listener_policy base = {
        .config = opt->config, .access = opt->access, .sources = opt->sources};
    char why[320];
    for (size_t i = 0; i < count; i++) {
        p->count = i + 1;
        if (listener_policy_copy(&p->policies[i], &base, why, sizeof why) != 0) {
            fprintf(stderr, "sockserv serve: %s\n", why);
            return EXIT_RUNTIME;
        }
        if (specs[i].query[0] &&
            listener_query_apply(specs[i].query, &p->policies[i], why, sizeof why) != 0) {
            fprintf(stderr, "sockserv serve: bad listener '%s': %s\n", args ? args[i] : "?", why);
            return EXIT_USAGE;
        }
        if (specs[i].transport == TRANSPORT_UDP &&
            memcmp(&p->policies[i].sources, &base.sources, sizeof base.sources) != 0) {
            fprintf(stderr,
                    "sockserv serve: bad listener '%s': max-per-source, source-prefix6 and "
                    "connect-rate are for TCP listeners (UDP has --udp-rate)\n",
                    args ? args[i] : "?");
            return EXIT_USAGE;
        }
    }
    return 0;
}

int serve_policies_attach(struct serve_policies *p, const struct endpoint *specs,
                          struct listener_set *set, unsigned columns, char *err, size_t errlen)
{
    for (size_t i = 0; i < p->count; i++) {
        struct listener_policy *policy = &p->policies[i];
        p->admissions[i].access = &policy->access;
        /* Per-source limits are for TCP; UDP has --udp-rate. */
        if (specs[i].transport == TRANSPORT_TCP && source_settings_active(&policy->sources)) {
            p->admissions[i].sources = source_table_create(&policy->sources, columns);
            if (!p->admissions[i].sources)
                return error_set(err, errlen, "cannot map the per-source table: %s",
                                 strerror(errno));
        }
    }
    for (size_t j = 0; j < set->count; j++) {
        struct listener *l = &set->items[j];
        if (l->spec_index < p->count) {
            l->config = &p->policies[l->spec_index].config;
            l->admission = &p->admissions[l->spec_index];
        }
    }
    return 0;
}

void serve_policies_free(struct serve_policies *p)
{
    for (size_t i = 0; i < p->count; i++)
        listener_policy_free(&p->policies[i]);
    free(p->policies);
    free(p->admissions);
    *p = (struct serve_policies){0};
}
