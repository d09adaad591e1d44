/* Cutting each chat member's stream into lines and checking them. */
#include "loadgen/chat_tally.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WELCOME "*** welcome"
#define NOTICE "*** "
#define TOO_SLOW "too slow"
#define MESSAGE_MARK ": M "

struct chat_tally *chat_tally_create(uint32_t receivers, uint64_t *published)
{
    struct chat_tally *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->receivers = receivers;
    t->published = published;
    for (unsigned p = 0; p < CHAT_PHASES; p++)
        histogram_init(&t->phases[p].latency);
    size_t slots = (size_t)receivers * CHAT_PHASES * CHAT_SENDERS_MAX;
    t->next_due = calloc(slots ? slots : 1, sizeof(*t->next_due));
    t->heads = malloc((size_t)(receivers ? receivers : 1) * CHAT_LINE_HEAD);
    t->head_len = calloc(receivers ? receivers : 1, sizeof(*t->head_len));
    t->skipping = calloc(receivers ? receivers : 1, sizeof(*t->skipping));
    t->welcomed_by = calloc(receivers ? receivers : 1, sizeof(*t->welcomed_by));
    if (!t->next_due || !t->heads || !t->head_len || !t->skipping || !t->welcomed_by) {
        chat_tally_free(t);
        return NULL;
    }
    return t;
}

void chat_tally_free(struct chat_tally *t)
{
    if (!t)
        return;
    for (unsigned p = 0; p < CHAT_PHASES; p++) {
        for (unsigned s = 0; s < CHAT_SENDERS_MAX; s++)
            free(t->phases[p].senders[s].spans);
    }
    free(t->next_due);
    free(t->heads);
    free(t->head_len);
    free(t->skipping);
    free(t->welcomed_by);
    free(t);
}

/* ---- One line ----------------------------------------------------------- */

/* Reads a decimal number ending at a space; advances *p past the space. */
static bool take_number(const char **p, const char *end, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    int digits = 0;
    while (s < end && *s >= '0' && *s <= '9' && digits < 19) {
        v = v * 10 + (uint64_t)(*s - '0');
        s++;
        digits++;
    }
    if (digits == 0 || s >= end || *s != ' ')
        return false;
    *p = s + 1;
    *out = v;
    return true;
}

static void note_anomaly(struct chat_tally *t, uint32_t receiver, uint64_t phase, uint64_t sender,
                         uint64_t seq, uint32_t due)
{
    if (t->first_anomaly[0] != '\0')
        return;
    snprintf(t->first_anomaly, sizeof(t->first_anomaly),
             "receiver %u: sender %llu phase %llu seq %llu %s (next due %u)", (unsigned)receiver,
             (unsigned long long)sender, (unsigned long long)phase, (unsigned long long)seq,
             seq >= due ? "skipped ahead" : "again or late", due);
}

/* Keeps the line's first and last delivery latency, while there is room. */
static void note_span(struct chat_sender_tally *s, uint64_t seq, int64_t latency)
{
    if (seq >= CHAT_SPAN_LINES_MAX)
        return;
    if (seq >= s->span_cap) {
        uint32_t cap = s->span_cap ? s->span_cap : 1024;
        while (cap <= seq)
            cap *= 2;
        struct chat_span *grown = realloc(s->spans, (size_t)cap * sizeof(*grown));
        if (!grown)
            return; /* The span is lost; the counts are not. */
        s->spans = grown;
        s->span_cap = cap;
    }
    while (s->span_len <= seq)
        s->spans[s->span_len++] = (struct chat_span){.first_ns = -1, .last_ns = -1};
    struct chat_span *span = &s->spans[seq];
    if (span->first_ns < 0 || latency < span->first_ns)
        span->first_ns = latency;
    if (latency > span->last_ns)
        span->last_ns = latency;
}

static void take_message(struct chat_tally *t, uint32_t receiver, const char *p, const char *end,
                         int64_t now)
{
    uint64_t phase, sender, seq, sent_ns;
    if (!take_number(&p, end, &phase) || !take_number(&p, end, &sender) ||
        !take_number(&p, end, &seq) || !take_number(&p, end, &sent_ns) || phase >= CHAT_PHASES ||
        sender >= CHAT_SENDERS_MAX || seq >= UINT32_MAX) {
        t->unchecked_lines++;
        return;
    }
    struct chat_phase_tally *ph = &t->phases[phase];
    struct chat_sender_tally *s = &ph->senders[sender];
    uint32_t *due =
        &t->next_due[((size_t)receiver * CHAT_PHASES + phase) * CHAT_SENDERS_MAX + sender];
    if (seq == *due) {
        *due = (uint32_t)seq + 1;
        s->next_due_sum++;
    } else if (seq > *due) {
        ph->gaps += seq - *due;
        note_anomaly(t, receiver, phase, sender, seq, *due);
        s->next_due_sum += seq + 1 - *due;
        *due = (uint32_t)seq + 1;
    } else {
        ph->duplicates++;
        note_anomaly(t, receiver, phase, sender, seq, *due);
    }
    if (*due > s->lines_seen)
        s->lines_seen = *due;
    int64_t latency = now - (int64_t)sent_ns;
    histogram_record(&ph->latency, latency);
    note_span(s, seq, latency);
    ph->deliveries++;
    ph->last_ns = now;
    t->delivered++;
}

static bool starts_with(const char *line, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    return len >= n && memcmp(line, prefix, n) == 0;
}

/* One line's head (its end may have been cut off); true for the welcome. */
static bool take_line(struct chat_tally *t, uint32_t receiver, const char *line, size_t len,
                      int64_t now)
{
    if (starts_with(line, len, NOTICE)) {
        if (starts_with(line, len, WELCOME) && !t->welcomed_by[receiver]) {
            t->welcomed_by[receiver] = true;
            t->welcomed++;
            return true;
        }
        if (memmem(line, len, TOO_SLOW, strlen(TOO_SLOW)))
            t->too_slow_notices++;
        return false;
    }
    const char *mark = memmem(line, len, MESSAGE_MARK, strlen(MESSAGE_MARK));
    if (mark)
        take_message(t, receiver, mark + strlen(MESSAGE_MARK), line + len, now);
    return false;
}

/* ---- The stream --------------------------------------------------------- */

bool chat_tally_take(struct chat_tally *t, uint32_t receiver, const uint8_t *data, size_t n,
                     int64_t now)
{
    char *head = t->heads + (size_t)receiver * CHAT_LINE_HEAD;
    uint16_t *head_len = &t->head_len[receiver];
    bool welcomed = false;
    const char *p = (const char *)data, *end = p + n;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *stop = nl ? nl : end;
        size_t len = (size_t)(stop - p);
        if (*head_len == 0 && !t->skipping[receiver] && nl) {
            /* The whole line is here: no copy. */
            welcomed |= take_line(t, receiver, p, len, now);
        } else {
            size_t room = CHAT_LINE_HEAD - *head_len;
            size_t keep = len < room ? len : room;
            memcpy(head + *head_len, p, keep);
            *head_len = (uint16_t)(*head_len + keep);
            if (keep < len)
                t->skipping[receiver] = true;
            if (nl) {
                welcomed |= take_line(t, receiver, head, *head_len, now);
                *head_len = 0;
                t->skipping[receiver] = false;
            }
        }
        p = nl ? nl + 1 : end;
    }
    if (t->published)
        __atomic_store_n(t->published, t->delivered, __ATOMIC_RELEASE);
    return welcomed;
}

/* ---- After the run ------------------------------------------------------ */

uint32_t chat_tally_receivers_complete(const struct chat_tally *t, unsigned phase)
{
    const struct chat_phase_tally *ph = &t->phases[phase];
    uint32_t complete = 0;
    for (uint32_t r = 0; r < t->receivers; r++) {
        const uint32_t *due = &t->next_due[((size_t)r * CHAT_PHASES + phase) * CHAT_SENDERS_MAX];
        bool all = true;
        for (unsigned s = 0; s < CHAT_SENDERS_MAX && all; s++)
            all = due[s] == ph->senders[s].lines_seen;
        complete += all;
    }
    return complete;
}

void chat_tally_spans(const struct chat_tally *t, unsigned phase, struct histogram *first,
                      struct histogram *last)
{
    histogram_init(first);
    histogram_init(last);
    const struct chat_phase_tally *ph = &t->phases[phase];
    for (unsigned s = 0; s < CHAT_SENDERS_MAX; s++) {
        const struct chat_sender_tally *st = &ph->senders[s];
        for (uint32_t i = 0; i < st->span_len; i++) {
            if (st->spans[i].first_ns < 0)
                continue;
            histogram_record(first, st->spans[i].first_ns);
            histogram_record(last, st->spans[i].last_ns);
        }
    }
}
