#include "services/prometheus_text.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/counters.h"

/* Per-loop label pairs reported; more are left out (no realistic server
 * has them: that is 128 workers of 4 loops). */
#define LOOPS_MAX 512

/* Not a counter: the open gauge, accepted less closed. */
#define OPEN COUNTER_COUNT

/* Which listeners a family covers. */
enum kind { ANY, TCP, UDP, CHAT };

struct writer {
    struct buffer *out;
    int failed;
};

static void appendf(struct writer *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void appendf(struct writer *w, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    /* Lines are built from bounded parts, so a cut line is a bug; fail
     * rather than send it. */
    if (n < 0 || (size_t)n >= sizeof(line) ||
        buffer_append(w->out, line, (size_t)n, PROMETHEUS_TEXT_MAX) != 0)
        w->failed = -1;
}

/* A label value with backslash, double quote and line feed escaped. */
static void escape(const char *in, char *out, size_t outlen)
{
    size_t used = 0;
    for (; *in && used + 3 < outlen; in++) {
        if (*in == '\\' || *in == '"' || *in == '\n')
            out[used++] = '\\';
        out[used++] = *in == '\n' ? 'n' : *in;
    }
    out[used] = '\0';
}

static const char *service_of(const char *name)
{
    const char *slash = strrchr(name, '/');
    return slash ? slash + 1 : name;
}

static bool is_kind(size_t listener, enum kind kind)
{
    const char *name = counters_name(listener);
    switch (kind) {
    case TCP:
        return strncmp(name, "tcp://", 6) == 0;
    case UDP:
        return strncmp(name, "udp://", 6) == 0;
    case CHAT:
        return strncmp(name, "tcp://", 6) == 0 && strcmp(service_of(name), "chat") == 0;
    case ANY:
        break;
    }
    return true;
}

static bool any_of_kind(enum kind kind)
{
    for (size_t i = 0; i < counters_listeners(); i++)
        if (is_kind(i, kind))
            return true;
    return false;
}

/* The listener and service labels of one listener, escaped. */
static void listener_labels(size_t listener, char *out, size_t outlen)
{
    char name[512], service[128];
    escape(counters_name(listener), name, sizeof(name));
    escape(service_of(counters_name(listener)), service, sizeof(service));
    snprintf(out, outlen, "listener=\"%s\",service=\"%s\"", name, service);
}

static void family(struct writer *w, const char *name, const char *type, const char *help)
{
    appendf(w, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A family with one sample per listener of kind: the counter's sum. */
static void per_listener(struct writer *w, enum kind kind, const char *name, const char *type,
                         const char *help, enum counter counter)
{
    if (!any_of_kind(kind))
        return;
    family(w, name, type, help);
    for (size_t i = 0; i < counters_listeners(); i++) {
        if (!is_kind(i, kind))
            continue;
        char labels[700];
        listener_labels(i, labels, sizeof(labels));
        int64_t value = counter == OPEN ? counters_open(i) : counters_sum(i, counter);
        appendf(w, "%s{%s} %lld\n", name, labels, (long long)value);
    }
}

/* A family with one sample per listener of kind and reason of table. */
static void per_reason(struct writer *w, enum kind kind, const char *name, const char *help,
                       const struct counter_reason *table)
{
    if (!any_of_kind(kind))
        return;
    family(w, name, "counter", help);
    for (size_t i = 0; i < counters_listeners(); i++) {
        if (!is_kind(i, kind))
            continue;
        char labels[700];
        listener_labels(i, labels, sizeof(labels));
        for (size_t r = 0; table[r].name; r++)
            appendf(w, "%s{%s,reason=\"%s\"} %lld\n", name, labels, table[r].name,
                    (long long)counters_sum(i, table[r].counter));
    }
}

static void label_number(int n, char *out, size_t outlen)
{
    if (n < 0)
        snprintf(out, outlen, "none");
    else
        snprintf(out, outlen, "%d", n);
}

static void per_loop(struct writer *w)
{
    /* On the stack: loops of --threads may answer at the same time. */
    struct counters_loop loops[LOOPS_MAX];
    size_t n = counters_open_by_loop(loops, LOOPS_MAX);
    family(w, "sockserv_loop_connections_open", "gauge",
           "TCP connections open now, per worker and event loop (none: no --workers, or a"
           " thread or process per connection).");
    for (size_t i = 0; i < n; i++) {
        char worker[16], loop[16];
        label_number(loops[i].worker, worker, sizeof(worker));
        label_number(loops[i].loop, loop, sizeof(loop));
        appendf(w, "sockserv_loop_connections_open{worker=\"%s\",loop=\"%s\"} %lld\n", worker, loop,
                (long long)loops[i].open);
    }
}

int prometheus_text(struct buffer *out)
{
    struct writer w = {out, 0};
    per_listener(&w, TCP, "sockserv_connections_open", "gauge", "TCP connections open now.", OPEN);
    per_listener(&w, TCP, "sockserv_connections_accepted_total", "counter",
                 "TCP clients accepted and served.", COUNTER_ACCEPTED);
    per_listener(&w, TCP, "sockserv_connections_closed_total", "counter",
                 "TCP connections ended, for whatever reason.", COUNTER_CLOSED);
    per_reason(&w, TCP, "sockserv_connections_refused_total",
               "TCP clients closed at once, by reason.", counters_refusals);
    per_reason(&w, TCP, "sockserv_connections_cut_total",
               "TCP connections the server cut, by reason.", counters_cuts);
    per_listener(&w, ANY, "sockserv_received_bytes_total", "counter",
                 "Bytes received from clients (TCP data and UDP payloads).", COUNTER_BYTES_IN);
    per_listener(&w, ANY, "sockserv_sent_bytes_total", "counter",
                 "Bytes sent to clients (TCP data and UDP payloads).", COUNTER_BYTES_OUT);
    per_listener(&w, UDP, "sockserv_datagrams_received_total", "counter",
                 "UDP requests received and served.", COUNTER_DATAGRAMS_IN);
    per_listener(&w, UDP, "sockserv_datagrams_sent_total", "counter", "UDP replies sent.",
                 COUNTER_DATAGRAMS_OUT);
    per_reason(&w, UDP, "sockserv_datagrams_dropped_total", "UDP datagrams dropped, by reason.",
               counters_drops);
    per_listener(&w, CHAT, "sockserv_chat_members", "gauge", "Chat members connected.",
                 COUNTER_CHAT_MEMBERS);
    per_listener(&w, CHAT, "sockserv_chat_rooms", "gauge", "Chat rooms with a member.",
                 COUNTER_CHAT_ROOMS);
    per_loop(&w);
    return w.failed;
}
