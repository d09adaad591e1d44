/*
 * sockserv serve [OPTIONS] [LISTENER...]: parse, bind, announce, serve.
 *
 * Every check that can fail on the user's input happens before anything is
 * served, so a bad command line never leaves a half-started server.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/serve_inherited.h"
#include "cli/serve_options.h"
#include "cli/serve_policy.h"
#include "core/counters.h"
#include "core/error.h"
#include "core/listener.h"
#include "core/log.h"
#include "core/privileges.h"
#include "core/stop.h"
#include "core/stop_report.h"
#include "core/udp_guard.h"
#include "models/model.h"

/* Why this command line cannot serve a service whose connections share
 * state (chat), or NULL when it can. */
static const char *shared_state_refusal(const struct serve_options *opt)
{
    if (opt->model->no_shared_state)
        return opt->model->no_shared_state;
    if (opt->workers > 0)
        return "--workers splits clients between processes, and state shared across processes"
               " needs a broker";
    return NULL;
}

/* The default set: every service over TCP on 127.0.0.1 at its default
 * port, then the UDP twin of each that has one. A service this command
 * line cannot run is left out, so every model starts with no arguments. */
static size_t default_specs(const struct serve_options *opt, struct endpoint *specs)
{
    const struct service *const *all = service_all();
    size_t n = 0;
    for (int udp = 0; udp <= 1; udp++) {
        for (size_t i = 0; all[i]; i++) {
            if ((udp && (all[i]->flags & SERVICE_STREAM_ONLY)) ||
                (all[i]->flags & SERVICE_NOT_DEFAULT))
                continue;
            const char *refusal = shared_state_refusal(opt);
            if ((all[i]->flags & SERVICE_SHARED_STATE) && refusal) {
                if (specs && !udp)
                    log_info("not serving %s: %s", all[i]->name, refusal);
                continue;
            }
            char text[64];
            snprintf(text, sizeof(text), "%s://127.0.0.1:%u/%s", udp ? "udp" : "tcp",
                     (unsigned)all[i]->default_port, all[i]->name);
            /* Built from the service table, so it always parses. */
            if (specs)
                endpoint_parse(text, ENDPOINT_LISTEN, &specs[n], NULL, 0);
            n++;
        }
    }
    return n;
}

/* Builds the spec list: the arguments, or the default set. */
static int collect_specs(const struct serve_options *opt, int count, char **args,
                         struct endpoint **specs, size_t *n)
{
    size_t total = count > 0 ? (size_t)count : default_specs(opt, NULL);
    *specs = calloc(total, sizeof(**specs));
    if (!*specs) {
        fprintf(stderr, "sockserv serve: out of memory\n");
        return EXIT_RUNTIME;
    }
    *n = total;
    if (count == 0) {
        default_specs(opt, *specs);
        return 0;
    }
    for (size_t i = 0; i < total; i++) {
        char why[160];
        if (endpoint_parse(args[i], ENDPOINT_LISTEN, &(*specs)[i], why, sizeof(why)) != 0) {
            fprintf(stderr, "sockserv serve: bad listener '%s': %s\n", args[i], why);
            return EXIT_USAGE;
        }
    }
    return 0;
}

/* Checks every spec against the services and the model. */
static int resolve_services(const struct endpoint *specs, size_t n, const struct serve_options *opt,
                            const struct service **services)
{
    const struct model *model = opt->model;
    for (size_t i = 0; i < n; i++) {
        services[i] = service_find(specs[i].service);
        if (!services[i]) {
            fprintf(stderr, "sockserv serve: unknown service '%s' (see sockserv serve --help)\n",
                    specs[i].service);
            return EXIT_USAGE;
        }
        if ((services[i]->flags & SERVICE_SHARED_STATE) && model->no_shared_state) {
            fprintf(stderr, "sockserv serve: the %s model cannot serve %s: %s\n", model->name,
                    services[i]->name, model->no_shared_state);
            return EXIT_USAGE;
        }
        if ((services[i]->flags & SERVICE_SHARED_STATE) && shared_state_refusal(opt)) {
            fprintf(stderr, "sockserv serve: cannot serve %s with --workers: %s\n",
                    services[i]->name, shared_state_refusal(opt));
            return EXIT_USAGE;
        }
        if ((services[i]->flags & SERVICE_STREAM_ONLY) && specs[i].transport != TRANSPORT_TCP) {
            fprintf(stderr, "sockserv serve: %s needs a stream: use tcp://, not %s://\n",
                    services[i]->name, transport_name(specs[i].transport));
            return EXIT_USAGE;
        }
    }
    return 0;
}

static size_t default_max_conns(const struct model *model)
{
    if (model->default_max_conns)
        return model->default_max_conns;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY ||
        rl.rlim_cur > MAX_CONNS_CEILING)
        return MAX_CONNS_CEILING;
    return rl.rlim_cur > 2 * RESERVED_FDS ? rl.rlim_cur - RESERVED_FDS : rl.rlim_cur / 2;
}

/* Who to become once every socket is bound (--user), or NULL. */
static const struct privileges *drop_to;

/* Called once every socket of every loop and worker is bound, before any
 * thread starts or worker is forked: the one moment to drop root. */
static int announce(const struct server *srv, char *err, size_t errlen)
{
    if (drop_to) {
        if (privileges_drop(drop_to, err, errlen) != 0)
            return -1;
        log_info("serving as user %s, group %s", drop_to->user, drop_to->group);
    } else if (geteuid() == 0) {
        log_warn("serving as root: --user NAME would drop root once the sockets are bound");
    }
    for (size_t i = 0; i < srv->listeners.count; i++)
        printf("listening %s\n", srv->listeners.items[i].name);
    if (fflush(stdout) != 0)
        return error_set(err, errlen, "cannot write to stdout: %s", strerror(errno));
    return 0;
}

static int serve(const struct serve_options *opt, struct server *srv)
{
    char err[256];
    srv->announce = announce;
    unsigned threads = (unsigned)opt->threads;
    int rc = opt->workers > 0 ? model_run_workers(opt->model, srv, (unsigned)opt->workers, threads,
                                                  err, sizeof(err))
                              : model_run_in_process(opt->model, srv, threads, err, sizeof(err));
    if (rc != 0) {
        log_error("%s", err);
        return EXIT_RUNTIME;
    }
    stop_report_end();
    return 0;
}

/* The listeners to open and the service behind each, all checked. The
 * caller frees *specs and *services whatever this returns. */
static int plan_listeners(const struct serve_options *opt, const struct activation *act, int count,
                          char **args, struct endpoint **specs, const struct service ***services,
                          size_t *n)
{
    /* Socket-activated, the specs came with the inherited sockets. */
    int rc = act->count > 0 ? 0 : collect_specs(opt, count, args, specs, n);
    if (rc != 0)
        return rc;
    *services = calloc(*n, sizeof(**services));
    if (!*services)
        return EXIT_RUNTIME;
    return resolve_services(*specs, *n, opt, *services);
}

/* Checks that --threads and --balance fit the model and each other. */
static int check_scaling(const struct serve_options *opt)
{
    if (opt->threads > 1 && !opt->model->event_loop) {
        /* The model's own summary says how it serves, which is the reason. */
        cli_usage_error("serve",
                        "--threads needs an event-loop model (select, poll, epoll or uring),"
                        " not %s: %s; --workers N runs N copies of any model",
                        opt->model->name, opt->model->summary);
        return EXIT_USAGE;
    }
    if (opt->balance_given && opt->threads <= 1 && opt->workers <= 1) {
        fprintf(stderr, "sockserv serve: --balance needs --threads or --workers above 1: with"
                        " one loop there is nothing to balance\n");
        return EXIT_USAGE;
    }
    return 0;
}

static struct server build_server(const struct serve_options *opt)
{
    struct server srv = {
        .max_conns = opt->max_conns ? (size_t)opt->max_conns : default_max_conns(opt->model),
        .max_datagrams = (size_t)opt->max_datagrams,
        .grace_ms = opt->grace_ms,
        .datagram_time_ms = opt->datagram_time_ms,
        .udp_rate = opt->udp_rate,
        .shared_listeners = opt->balance_shared,
        .bind_loops_first = opt->user != NULL,
        .overflow_refuse = opt->overflow_refuse,
        .worker = -1,
    };
    /* Unless they share one, each loop and each worker binds sockets of its
     * own on the same ports. */
    srv.listeners.reuseport = (opt->threads > 1 || opt->workers > 1) && !opt->balance_shared;
    return srv;
}

/* Probes the model, sets up the signals, then binds every listener. */
static int open_listeners(const struct serve_options *opt, const struct activation *act,
                          struct server *srv, const struct endpoint *specs,
                          const struct service **services, size_t n,
                          struct serve_policies *policies)
{
    char err[256];
    if (opt->model->probe && opt->model->probe(err, sizeof(err)) != 0) {
        log_error("%s", err);
        return EXIT_RUNTIME;
    }
    if (stop_install() != 0 || listener_reserve_fd() != 0) {
        log_error("cannot set up signals: %s", strerror(errno));
        return EXIT_RUNTIME;
    }
    stop_enable_at_once();
    if ((act->count > 0 ? listener_set_inherit(&srv->listeners, act->fds, specs, n, services,
                                               &opt->config, &opt->settings, err, sizeof(err))
                        : listener_set_open(&srv->listeners, specs, n, services, &opt->config,
                                            &opt->settings, err, sizeof(err))) != 0) {
        log_error("%s", err);
        return EXIT_RUNTIME;
    }
    /* Before any loop or worker starts, so all of them count into it. */
    if (counters_init(n) != 0) {
        log_error("cannot map the counters: %s", strerror(errno));
        return EXIT_RUNTIME;
    }
    /* Also before any worker forks: the per-source tables are shared. */
    if (serve_policies_attach(policies, specs, &srv->listeners,
                              opt->workers > 0 ? (unsigned)opt->workers : 1, err,
                              sizeof(err)) != 0) {
        log_error("%s", err);
        return EXIT_RUNTIME;
    }
    stop_report_init();
    /* Each spec is named after its first socket, whose port is the real
     * one even for port 0. */
    for (size_t i = srv->listeners.count; i-- > 0;)
        counters_set_name(srv->listeners.items[i].spec_index, srv->listeners.items[i].name);
    return 0;
}

int command_serve(int argc, char **argv)
{
    struct serve_options opt = serve_default_options();
    int first = serve_parse_options(argc, argv, &opt);
    if (first < 0)
        access_list_free(&opt.access);
    if (first == -2)
        return 0;
    if (first < 0)
        return EXIT_USAGE;
    log_set_level(opt.level);
    log_set_style((struct log_style){.format = opt.log_format, .journal = log_stderr_is_journal()});
    if (opt.config.idle_timeout_ms == IDLE_TIMEOUT_UNSET)
        opt.config.idle_timeout_ms = opt.model->default_max_conns == 1
                                         ? DEFAULT_IDLE_TIMEOUT_ONE_AT_A_TIME_MS
                                         : DEFAULT_IDLE_TIMEOUT_MS;

    struct privileges privileges;
    char why[200];
    if (opt.user && privileges_resolve(opt.user, &privileges, why, sizeof(why)) != 0) {
        access_list_free(&opt.access);
        return cli_usage_error("serve", "bad --user '%s': %s", opt.user, why);
    }
    drop_to = opt.user ? &privileges : NULL;
    if (opt.inetd) {
        int inetd_rc = serve_inetd(&opt, argc - first, drop_to);
        access_list_free(&opt.access);
        return inetd_rc;
    }

    struct endpoint *specs = NULL;
    const struct service **services = NULL;
    size_t n = 0;
    /* The options alone first: a bad combination is the one line printed,
     * before the listeners' notes (which services a model leaves out). */
    struct activation act = {0};
    struct serve_policies policies = {0};
    int rc = check_scaling(&opt);
    if (rc == 0)
        rc = serve_activation_take(&opt, argc - first, &act, &specs, &n);
    if (rc == 0)
        rc = plan_listeners(&opt, &act, argc - first, argv + first, &specs, &services, &n);
    if (rc == 0)
        rc = serve_policies_build(&policies, &opt, specs, argc > first ? argv + first : NULL, n);
    struct server srv = build_server(&opt);
    if (rc == 0)
        rc = open_listeners(&opt, &act, &srv, specs, services, n, &policies);
    if (rc == 0)
        rc = serve(&opt, &srv);
    listener_set_free(&srv.listeners);
    serve_activation_free(&act);
    serve_policies_free(&policies);
    access_list_free(&opt.access);
    free(services);
    free(specs);
    return rc;
}
