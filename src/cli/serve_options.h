/*
 * sockserv serve's command line: its options, their defaults and --help.
 * serve.c turns the parsed options into a running server.
 */
#ifndef SOCKSERV_CLI_SERVE_OPTIONS_H
#define SOCKSERV_CLI_SERVE_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/access_list.h"
#include "core/log.h"
#include "core/service.h"
#include "core/source_limits.h"
#include "core/udp_guard.h"
#include "models/model.h"

#define DEFAULT_MODEL "epoll"
#define DEFAULT_DELAY_MS 5000
#define DEFAULT_CHAT_NOTICES_MAX 100
#define DEFAULT_CHAT_RATE 20  /* Lines a second: more than anyone types. */
#define DEFAULT_CHAT_BURST 40 /* Lines at once: a pasted paragraph. */
#define CHAT_NOTICES_MAX_CEILING 10000000
#define DEFAULT_GRACE_MS 5000
#define DEFAULT_DATAGRAM_TIME_MS 1000
/* Long enough that a person in a chat room, reading, rarely meets it. */
#define DEFAULT_IDLE_TIMEOUT_MS (10 * 60 * 1000)
/* A model that serves one client at a time (iterative) makes everyone wait
 * behind an idle one, so it cuts much sooner. */
#define DEFAULT_IDLE_TIMEOUT_ONE_AT_A_TIME_MS (30 * 1000)
/* idle_timeout_ms before parsing: no --idle-timeout given, so the model's
 * default applies. */
#define IDLE_TIMEOUT_UNSET (-1)
#define DEFAULT_MAX_LINE 4096
#define DEFAULT_MAX_OUTPUT (256 * 1024)
/* Descriptors kept back from the connection limit for listeners, the stop
 * latch, the accept reserve and the model's own. */
#define RESERVED_FDS 32
#define MAX_CONNS_CEILING 10000000
#define MAX_THREADS_OR_WORKERS 256

/* Long options without a letter take their getopt codes from a range per
 * group, so a group can grow without renumbering another's. */
enum serve_option_range {
    SERVE_OPT_ACCESS = 1000,    /* --allow, --deny, per-source limits */
    SERVE_OPT_TIMEOUTS = 1100,  /* --request-timeout, --overflow */
    SERVE_OPT_LOG = 1200,       /* --log-format and the like */
    SERVE_OPT_METRICS = 1300,   /* metrics */
    SERVE_OPT_PRIVILEGE = 1400, /* --user, --inetd, socket activation */
};

/* What an option group's take_* function returns for an option of
 * another group. */
#define SERVE_OPTION_NOT_MINE 1
#define SERVE_OPT_LOG_FORMAT (SERVE_OPT_LOG + 1)

struct serve_options {
    const struct model *model;
    struct service_config config;     /* What every service's connections obey. */
    struct service_settings settings; /* What one service alone reads (--delay). */
    int64_t grace_ms;
    int64_t datagram_time_ms; /* --datagram-time */
    long max_conns;           /* 0: the model's default. */
    long max_datagrams;       /* 0: as many as max_conns. */
    enum log_level level;
    enum log_format log_format; /* --log-format */
    struct udp_rate udp_rate;
    long threads;        /* Event loops in the process. */
    long workers;        /* Worker processes; 0: serve in this process. */
    bool balance_shared; /* --balance shared: one socket for every loop and worker. */
    bool balance_given;
    const char *user;          /* --user NAME[:GROUP]: who serves once the sockets are bound. */
    const char *inetd;         /* --inetd SERVICE: serve the one connection on stdin. */
    struct access_list access; /* --allow, --deny, --allow-file */
    struct source_settings sources; /* --max-per-source, --connect-rate */
    /* --overflow refuse: close clients beyond --max-conns at once. */
    bool overflow_refuse;
};

/* Every option at its default. */
struct serve_options serve_default_options(void);

/*
 * Reads the options of argv into opt. Returns the index of the first
 * listener argument, -1 after a usage error (already printed), or -2 once
 * --help or --version has been answered.
 */
int serve_parse_options(int argc, char **argv, struct serve_options *opt);

#endif
