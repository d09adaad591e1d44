/* The bench's summary, its JSON object and its live line. */
#include "loadgen/report.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "loadgen/clock_ns.h"

static double seconds(int64_t ns)
{
    return (double)ns / (double)NS_PER_S;
}

static double micros(int64_t ns)
{
    return (double)ns / (double)NS_PER_US;
}

static double per_second(uint64_t n, int64_t elapsed_ns)
{
    return elapsed_ns > 0 ? (double)n / seconds(elapsed_ns) : 0.0;
}

static double megabytes_per_second(const struct bench_stats *s)
{
    return per_second(s->bytes_sent + s->bytes_received, s->elapsed_ns) / 1e6;
}

/* "850ns", "45.3us", "1.25ms", "5.00s": three significant digits or so. */
static void format_latency(int64_t ns, char *buf, size_t len)
{
    if (ns < NS_PER_US)
        snprintf(buf, len, "%" PRId64 "ns", ns);
    else if (ns < NS_PER_MS)
        snprintf(buf, len, "%.1fus", micros(ns));
    else if (ns < NS_PER_S)
        snprintf(buf, len, "%.2fms", (double)ns / (double)NS_PER_MS);
    else
        snprintf(buf, len, "%.2fs", seconds(ns));
}

static void describe_length(FILE *out, const struct bench_config *cfg)
{
    if (cfg->duration_ns > 0 && cfg->requests > 0)
        fprintf(out, "%.3gs or %" PRIu64 " requests", seconds(cfg->duration_ns), cfg->requests);
    else if (cfg->duration_ns > 0)
        fprintf(out, "%.3gs", seconds(cfg->duration_ns));
    else
        fprintf(out, "%" PRIu64 " requests", cfg->requests);
    if (cfg->warmup_ns > 0)
        fprintf(out, " after %.3gs warmup", seconds(cfg->warmup_ns));
}

/* --chat-receive: a line per phase that delivered anything. */
static void chat_text(FILE *out, const struct chat_tally *t)
{
    fprintf(out,
            "chat         %" PRIu64 " of %u members welcomed, %" PRIu64
            " too-slow notices, %" PRIu64 " lines unchecked\n",
            t->welcomed, t->receivers, t->too_slow_notices, t->unchecked_lines);
    for (unsigned p = 0; p < CHAT_PHASES; p++) {
        const struct chat_phase_tally *ph = &t->phases[p];
        if (ph->deliveries == 0)
            continue;
        char p50[32], p99[32];
        format_latency(histogram_percentile(&ph->latency, 50), p50, sizeof(p50));
        format_latency(histogram_percentile(&ph->latency, 99), p99, sizeof(p99));
        fprintf(out,
                "phase %u      %" PRIu64 " delivered, %" PRIu64 " gaps, %" PRIu64
                " duplicate or reordered, %u members complete, p50 %s p99 %s\n",
                p, ph->deliveries, ph->gaps, ph->duplicates, chat_tally_receivers_complete(t, p),
                p50, p99);
    }
    if (t->first_anomaly[0])
        fprintf(out, "first anomaly  %s\n", t->first_anomaly);
}

/* --chat-receive: members listening, lines received; their latencies
 * follow per phase. */
static void chat_header_text(FILE *out, const struct bench_config *cfg, const struct bench_stats *s)
{
    fprintf(out, "target       %s, chat\n", cfg->target.text);
    fprintf(out, "load         %u members listening, ", cfg->connections);
    describe_length(out, cfg);
    fputc('\n', out);
    fprintf(out, "lines        %" PRIu64 " received in %.2fs: %.1f lines/s, %.2f MB/s\n", s->ok,
            seconds(s->elapsed_ns), per_second(s->ok, s->elapsed_ns), megabytes_per_second(s));
}

static void header_text(FILE *out, const struct bench_config *cfg, const struct bench_stats *s)
{
    fprintf(out, "target       %s, expect %s, %zu-byte messages\n", cfg->target.text,
            bench_expect_name(cfg->expect), cfg->message_bytes);
    fprintf(out, "load         %u connections on %u thread%s, pipeline %u, ", cfg->connections,
            cfg->threads, cfg->threads == 1 ? "" : "s", cfg->pipeline);
    if (cfg->rate > 0)
        fprintf(out, "open loop at %.0f req/s, ", cfg->rate);
    if (cfg->dribble_ns > 0)
        fprintf(out, "dribbling a byte per %.3gs, ", seconds(cfg->dribble_ns));
    describe_length(out, cfg);
    fputc('\n', out);
    fprintf(out, "requests     %" PRIu64 " ok in %.2fs: %.1f req/s, %.2f MB/s\n", s->ok,
            seconds(s->elapsed_ns), per_second(s->ok, s->elapsed_ns), megabytes_per_second(s));
}

static void latency_text(FILE *out, const struct bench_stats *s)
{
    static const struct {
        const char *name;
        double percent;
    } points[] = {{"min", 0}, {"p50", 50}, {"p90", 90}, {"p99", 99}, {"p99.9", 99.9}, {"max", 100}};
    if (s->ok == 0) {
        fputs("latency      none: no request succeeded\n", out);
        return;
    }
    fputs("latency     ", out);
    for (size_t i = 0; i < sizeof(points) / sizeof(points[0]); i++) {
        char text[32];
        format_latency(histogram_percentile(&s->latency, points[i].percent), text, sizeof(text));
        fprintf(out, " %s %s", points[i].name, text);
    }
    fputc('\n', out);
}

void bench_report_text(FILE *out, const struct bench_config *cfg, const struct bench_stats *s)
{
    /* A chat run's latencies are per phase, at the end. */
    if (cfg->chat) {
        chat_header_text(out, cfg, s);
    } else {
        header_text(out, cfg, s);
        latency_text(out, s);
    }
    fprintf(out, "connections  %" PRIu64 " made, %" PRIu64 " failed\n", s->connections_made,
            s->connections_failed);
    fprintf(out, "errors       %" PRIu64, bench_stats_errors(s));
    for (int k = 0; k < BENCH_ERROR_COUNT; k++)
        fprintf(out, "%s%s %" PRIu64, k == 0 ? " (" : ", ", bench_error_name(k), s->errors[k]);
    fputc(')', out);
    if (s->first_other_errno)
        fprintf(out, "; the first other was: %s", strerror(s->first_other_errno));
    fputc('\n', out);
    if (cfg->rate > 0)
        fprintf(out, "schedule     %" PRIu64 " requests started over 1 ms late\n",
                s->behind_schedule);
    if (s->late_replies > 0)
        fprintf(out, "late         %" PRIu64 " replies came after their request timed out\n",
                s->late_replies);
    if (cfg->chat)
        bench_report_joined(out, &s->held, false);
    else if (cfg->hold)
        bench_report_held(out, &s->held, false);
    if (cfg->chat)
        chat_text(out, cfg->chat);
}

/* ---- JSON --------------------------------------------------------------- */

static void json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(out, "\\u%04x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

/* A duration in seconds, or null when the option was not given. */
static void json_seconds_or_null(FILE *out, const char *name, int64_t ns)
{
    if (ns > 0)
        fprintf(out, "  \"%s\": %.6f,\n", name, seconds(ns));
    else
        fprintf(out, "  \"%s\": null,\n", name);
}

static void json_rate_or_null(FILE *out, const char *name, double rate)
{
    if (rate > 0)
        fprintf(out, "  \"%s\": %.3f,\n", name, rate);
    else
        fprintf(out, "  \"%s\": null,\n", name);
}

/* A histogram's summary in microseconds, or null when it is empty. */
static void json_latency_value(FILE *out, const struct histogram *h)
{
    if (h->total == 0) {
        fputs("null", out);
        return;
    }
    fprintf(out,
            "{\"min\": %.3f, \"p50\": %.3f, \"p90\": %.3f, \"p99\": %.3f, "
            "\"p99_9\": %.3f, \"max\": %.3f, \"mean\": %.3f}",
            micros(histogram_percentile(h, 0)), micros(histogram_percentile(h, 50)),
            micros(histogram_percentile(h, 90)), micros(histogram_percentile(h, 99)),
            micros(histogram_percentile(h, 99.9)), micros(histogram_percentile(h, 100)),
            histogram_mean(h) / (double)NS_PER_US);
}

static void json_latency(FILE *out, const struct histogram *h)
{
    fputs("  \"latency_us\": ", out);
    json_latency_value(out, h);
    fputs(",\n", out);
}

/* One phase of a --chat-receive run, as an element of "phases". */
static void json_chat_phase(FILE *out, const struct chat_tally *t, unsigned p)
{
    const struct chat_phase_tally *ph = &t->phases[p];
    fprintf(out,
            "{\"phase\": %u, \"deliveries\": %" PRIu64 ", \"gaps\": %" PRIu64
            ", \"duplicates_or_reordered\": %" PRIu64 ", \"receivers_complete\": %u"
            ", \"last_ns\": %" PRId64 ",\n      \"senders\": [",
            p, ph->deliveries, ph->gaps, ph->duplicates, chat_tally_receivers_complete(t, p),
            ph->last_ns);
    unsigned shown = 0;
    for (unsigned s = 0; s < CHAT_SENDERS_MAX; s++) {
        const struct chat_sender_tally *st = &ph->senders[s];
        if (st->lines_seen == 0)
            continue;
        fprintf(out, "%s{\"sender\": %u, \"lines_seen\": %u, \"next_due_sum\": %" PRIu64 "}",
                shown++ ? ", " : "", s, st->lines_seen, st->next_due_sum);
    }
    fputs("],\n      \"latency_us\": ", out);
    json_latency_value(out, &ph->latency);
    struct histogram *spans = malloc(2 * sizeof(*spans));
    if (spans) {
        chat_tally_spans(t, p, &spans[0], &spans[1]);
        fputs(",\n      \"first_receiver_latency_us\": ", out);
        json_latency_value(out, &spans[0]);
        fputs(",\n      \"last_receiver_latency_us\": ", out);
        json_latency_value(out, &spans[1]);
        free(spans);
    }
    fputs("}", out);
}

static void json_chat(FILE *out, const struct chat_tally *t)
{
    fprintf(out,
            ",\n  \"chat\": {\"receivers\": %u, \"welcomed\": %" PRIu64
            ", \"too_slow_notices\": %" PRIu64 ", \"unchecked_lines\": %" PRIu64
            ", \"first_anomaly\": ",
            t->receivers, t->welcomed, t->too_slow_notices, t->unchecked_lines);
    if (t->first_anomaly[0])
        json_string(out, t->first_anomaly);
    else
        fputs("null", out);
    fputs(",\n    \"phases\": [", out);
    unsigned shown = 0;
    for (unsigned p = 0; p < CHAT_PHASES; p++) {
        if (t->phases[p].deliveries == 0)
            continue;
        fputs(shown++ ? ",\n     " : "\n     ", out);
        json_chat_phase(out, t, p);
    }
    fputs("]}", out);
}

void bench_report_json(FILE *out, const struct bench_config *cfg, const struct bench_stats *s)
{
    fputs("{\n  \"schema\": ", out);
    json_string(out, BENCH_JSON_SCHEMA);
    fputs(",\n  \"target\": ", out);
    json_string(out, cfg->target.text);
    fprintf(out, ",\n  \"transport\": \"%s\",\n", transport_name(cfg->target.spec.transport));
    fprintf(out, "  \"expect\": \"%s\",\n", bench_expect_name(cfg->expect));
    fprintf(out, "  \"message_bytes\": %zu,\n", cfg->message_bytes);
    fprintf(out, "  \"connections\": %u,\n  \"threads\": %u,\n  \"pipeline\": %u,\n",
            cfg->connections, cfg->threads, cfg->pipeline);
    json_seconds_or_null(out, "duration_s", cfg->duration_ns);
    if (cfg->requests > 0)
        fprintf(out, "  \"requests_limit\": %" PRIu64 ",\n", cfg->requests);
    else
        fputs("  \"requests_limit\": null,\n", out);
    json_rate_or_null(out, "rate", cfg->rate);
    json_rate_or_null(out, "connect_rate", cfg->connect_rate);
    json_seconds_or_null(out, "dribble_s", cfg->dribble_ns);
    fprintf(out, "  \"timeout_s\": %.6f,\n  \"warmup_s\": %.6f,\n", seconds(cfg->timeout_ns),
            seconds(cfg->warmup_ns));
    fprintf(out, "  \"elapsed_s\": %.6f,\n", seconds(s->elapsed_ns));
    fprintf(out, "  \"requests\": %" PRIu64 ",\n", s->ok);
    fprintf(out, "  \"requests_failed\": %" PRIu64 ",\n", bench_stats_errors(s));
    fprintf(out, "  \"requests_per_s\": %.3f,\n", per_second(s->ok, s->elapsed_ns));
    fprintf(out, "  \"bytes_sent\": %" PRIu64 ",\n  \"bytes_received\": %" PRIu64 ",\n",
            s->bytes_sent, s->bytes_received);
    fprintf(out, "  \"mb_per_s\": %.3f,\n", megabytes_per_second(s));
    json_latency(out, &s->latency);
    fprintf(out, "  \"connections_made\": %" PRIu64 ",\n  \"connections_failed\": %" PRIu64 ",\n",
            s->connections_made, s->connections_failed);
    fputs("  \"errors\": {", out);
    for (int k = 0; k < BENCH_ERROR_COUNT; k++)
        fprintf(out, "%s\"%s\": %" PRIu64, k ? ", " : "", bench_error_name(k), s->errors[k]);
    fputs("},\n  \"first_other_error\": ", out);
    if (s->first_other_errno)
        json_string(out, strerror(s->first_other_errno));
    else
        fputs("null", out);
    fprintf(out, ",\n  \"behind_schedule\": %" PRIu64 ",\n  \"late_replies\": %" PRIu64,
            s->behind_schedule, s->late_replies);
    if (cfg->hold)
        fprintf(out,
                ",\n  \"hold_requests\": %u,\n  \"held\": %" PRIu64 ",\n  \"held_failed\": %" PRIu64
                ",\n  \"held_after_s\": %.6f",
                cfg->hold_requests, s->held.open, s->held.failed, seconds(s->held.after_ns));
    if (cfg->chat)
        json_chat(out, cfg->chat);
    fputs("\n}\n", out);
}

void bench_report_held(FILE *out, const struct bench_held *held, bool json)
{
    if (json)
        fprintf(out,
                "{\"event\": \"held\", \"held\": %" PRIu64 ", \"failed\": %" PRIu64
                ", \"after_s\": %.6f}\n",
                held->open, held->failed, seconds(held->after_ns));
    else
        fprintf(out, "held         %" PRIu64 " connections (%" PRIu64 " failed) after %.2fs\n",
                held->open, held->failed, seconds(held->after_ns));
}

void bench_report_joined(FILE *out, const struct bench_held *held, bool json)
{
    if (json)
        fprintf(out,
                "{\"event\": \"joined\", \"joined\": %" PRIu64 ", \"failed\": %" PRIu64
                ", \"after_s\": %.6f}\n",
                held->open, held->failed, seconds(held->after_ns));
    else
        fprintf(out, "joined       %" PRIu64 " members (%" PRIu64 " failed) after %.2fs\n",
                held->open, held->failed, seconds(held->after_ns));
}

/* ---- The live line ------------------------------------------------------ */

void bench_report_live(FILE *out, const struct bench_live *live)
{
    char p99[32];
    format_latency(live->p99_ns, p99, sizeof(p99));
    /* \r and erase-to-end-of-line: the line is rewritten where it stands. */
    fprintf(out,
            "\r%6.1fs  %10.0f req/s  p99 %-9s  %" PRIu64 "/%u connections up  %" PRIu64
            " errors\033[K",
            live->elapsed_s, live->requests_per_s, live->p99_ns ? p99 : "-", live->connections_up,
            live->connections, live->errors);
    fflush(out);
}

void bench_report_live_clear(FILE *out)
{
    fputs("\r\033[K", out);
    fflush(out);
}
