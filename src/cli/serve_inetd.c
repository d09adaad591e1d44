/*
 * sockserv serve --inetd SERVICE: the one connection inetd, xinetd or a
 * systemd Accept=yes unit accepted and passed on stdin (and stdout) is
 * served to its end through the same connection code and limits as any
 * other (core/conn.h, driven on this thread as the blocking models drive
 * theirs), and the process exits.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/serve_inherited.h"
#include "core/counters.h"
#include "core/error.h"
#include "core/listener.h"
#include "core/log.h"
#include "core/stop.h"
#include "models/blocking.h"

static bool same_file(int a, int b)
{
    struct stat sa, sb;
    return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

/* Only fd 0 may hold the connection: the close that ends it must reach the
 * peer, which it would not while stdout kept the socket open. Classic inetd
 * passes the socket as stderr too, where a log line would reach the client,
 * so stderr then goes the same way. */
static int detach_other_copies(void)
{
    int null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (null_fd < 0)
        return -1;
    int rc = 0;
    for (int fd = 1; fd <= 2; fd++)
        if (same_file(0, fd) && dup2(null_fd, fd) < 0)
            rc = -1;
    close(null_fd);
    return rc;
}

/* A systemd Accept=yes unit passes the connection as fd 3 too
 * (LISTEN_FDS=1), a copy that would keep the connection open past the
 * close that ends it. */
static void close_inherited_copies(void)
{
    const char *fds = getenv("LISTEN_FDS"), *pid = getenv("LISTEN_PID");
    if (!fds || !pid || strtol(pid, NULL, 10) != (long)getpid())
        return;
    long count = strtol(fds, NULL, 10);
    for (long fd = 3; fd < 3 + count && fd < 3 + 64; fd++)
        if (same_file(0, (int)fd))
            close((int)fd);
}

static int check_args(const struct serve_options *opt, int listener_args,
                      const struct service **service)
{
    if (listener_args > 0)
        return cli_usage_error("serve", "--inetd serves the connection on stdin: give no LISTENER");
    if (opt->threads > 1 || opt->workers > 0)
        return cli_usage_error(
            "serve",
            "--inetd serves one connection in one process: --threads and --workers do not apply");
    *service = service_find(opt->inetd);
    if (!*service)
        return cli_usage_error("serve", "unknown service '%s'", opt->inetd);
    if ((*service)->flags & SERVICE_SHARED_STATE)
        return cli_usage_error("serve",
                               "--inetd cannot serve %s: each connection is a process of"
                               " its own, so no two clients would ever meet",
                               (*service)->name);
    return 0;
}

/* Checks that stdin is a connected stream socket; learns both its ends. */
static int check_stdin(struct address *local, struct address *peer)
{
    int type = 0;
    socklen_t len = sizeof(type);
    if (getsockopt(0, SOL_SOCKET, SO_TYPE, &type, &len) != 0) {
        if (errno != ENOTSOCK && errno != EBADF) {
            fprintf(stderr, "sockserv serve: --inetd: stdin: %s\n", strerror(errno));
            return EXIT_RUNTIME;
        }
        fprintf(stderr, "sockserv serve: --inetd needs a connected socket on stdin, as inetd,"
                        " xinetd and systemd Accept=yes units pass it; stdin is not a socket\n");
        return EXIT_USAGE;
    }
    if (type != SOCK_STREAM) {
        fprintf(stderr, "sockserv serve: --inetd serves stream sockets only; stdin is a datagram"
                        " socket (inetd's wait=yes datagram services are not supported)\n");
        return EXIT_USAGE;
    }
    memset(local, 0, sizeof(*local));
    memset(peer, 0, sizeof(*peer));
    len = sizeof(local->u);
    if (getsockname(0, &local->u.sa, &len) == 0)
        local->length = len;
    len = sizeof(peer->u);
    if (getpeername(0, &peer->u.sa, &len) != 0) {
        fprintf(stderr, "sockserv serve: --inetd: stdin is not a connected socket: %s\n",
                strerror(errno));
        return EXIT_USAGE;
    }
    peer->length = len;
    return 0;
}

/* Gets the process ready: the signals, the counters, and stdin as the one
 * non-blocking copy of the connection. */
static int prepare_process(void)
{
    if (detach_other_copies() != 0 || stop_install() != 0 || counters_init(1) != 0) {
        log_error("--inetd: cannot set up the process: %s", strerror(errno));
        return EXIT_RUNTIME;
    }
    int flags = fcntl(0, F_GETFL);
    if (flags < 0 || fcntl(0, F_SETFL, flags | O_NONBLOCK) != 0 ||
        fcntl(0, F_SETFD, FD_CLOEXEC) != 0) {
        log_error("--inetd: cannot make stdin non-blocking: %s", strerror(errno));
        return EXIT_RUNTIME;
    }
    return 0;
}

int serve_inetd(const struct serve_options *opt, int listener_args,
                const struct privileges *drop_to)
{
    /* A systemd Accept=yes unit passes the connection as fd 3 too: it is
     * served here, on stdin, and nothing this process starts must take it. */
    close_inherited_copies();
    unsetenv("LISTEN_PID");
    unsetenv("LISTEN_FDS");
    unsetenv("LISTEN_FDNAMES");
    const struct service *service = NULL;
    int rc = check_args(opt, listener_args, &service);
    struct listener l = {
        .fd = -1, .transport = TRANSPORT_TCP, .service = service, .config = &opt->config};
    struct address peer;
    if (rc == 0)
        rc = check_stdin(&l.address, &peer);
    if (rc == 0)
        rc = prepare_process();
    if (rc != 0)
        return rc;
    char local[ADDRESS_TEXT_MAX];
    address_format(&l.address, local, sizeof(local));
    snprintf(l.name, sizeof(l.name), "inetd:%s/%s", local, service->name);
    char err[256];
    if (drop_to && privileges_drop(drop_to, err, sizeof(err)) != 0) {
        log_error("%s", err);
        return EXIT_RUNTIME;
    }
    if (!drop_to && geteuid() == 0)
        log_warn("serving as root: --user NAME would drop root before the first byte");
    if (service->create) {
        char why[200] = "";
        l.instance = service->create(&opt->settings, why, sizeof(why));
        if (!l.instance) {
            log_error("cannot start %s: %s", service->name, why);
            return EXIT_RUNTIME;
        }
    }
    /* The access lists hold here as on any listener; the per-source limits
     * do not, as each process sees one connection: the launcher's own
     * (systemd's MaxConnectionsPerSource=) are the ones that apply. */
    struct admission admission = {.access = &opt->access};
    l.admission = &admission;
    if (!listener_adopt(&l, 0, &peer)) {
        if (service->destroy)
            service->destroy(l.instance);
        return 0; /* Refused and closed: the job is done. */
    }
    struct accepted a = {.listener = &l, .peer = peer, .fd = 0};
    blocking_serve(&a, opt->grace_ms, NULL);
    if (service->destroy)
        service->destroy(l.instance);
    return 0;
}
