/* Per-source limits in a shared, bounded table (see source_limits.h). */
#include "core/source_limits.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>

#include "core/token_bucket.h"

/* Tables made by this process, for source_limits_forget_column. */
#define TABLES_MAX 1024

struct source_entry {
    uint8_t key[16]; /* The source: IPv4 in the first 4 bytes, or an IPv6 prefix. */
    bool used;
    bool v6;
    uint32_t total; /* Open connections: the sum of counts[]. */
    struct token_bucket bucket;
    uint16_t counts[]; /* Per column. */
};

struct source_table {
    pthread_mutex_t lock; /* Process-shared and robust. */
    struct source_settings settings;
    unsigned columns;
    size_t stride; /* Bytes per entry, counts included. */
    size_t mapped; /* Bytes of the whole mapping. */
    uint64_t seed; /* Keeps the slots a source lands in unguessable. */
    unsigned char entries[];
};

static struct source_table *tables[TABLES_MAX];
static size_t table_count;
static unsigned process_column;

bool source_settings_active(const struct source_settings *s)
{
    return s->max_per_source > 0 || s->rate_per_second > 0;
}

static struct source_entry *entry_at(struct source_table *t, size_t i)
{
    return (struct source_entry *)(void *)(t->entries + i * t->stride);
}

struct source_table *source_table_create(const struct source_settings *settings, unsigned columns)
{
    if (table_count == TABLES_MAX || columns == 0) {
        errno = ENOSPC;
        return NULL;
    }
    size_t stride = sizeof(struct source_entry) + columns * sizeof(uint16_t);
    stride = (stride + 7) & ~(size_t)7;
    size_t size = sizeof(struct source_table) + SOURCE_TABLE_CAPACITY * stride;
    /* Shared, so every worker forked later sees one table; the kernel
     * gives zeroed pages, touched only as sources arrive. */
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    struct source_table *t = p;
    t->settings = *settings;
    t->columns = columns;
    t->stride = stride;
    t->mapped = size;
    if (getrandom(&t->seed, sizeof t->seed, GRND_NONBLOCK) != (ssize_t)sizeof t->seed)
        t->seed = (uint64_t)(uintptr_t)p ^ 0x9E3779B97F4A7C15u;
    pthread_mutexattr_t attr;
    int rc = pthread_mutexattr_init(&attr);
    if (rc == 0) {
        rc = pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
        if (rc == 0)
            rc = pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
        if (rc == 0)
            rc = pthread_mutex_init(&t->lock, &attr);
        pthread_mutexattr_destroy(&attr);
    }
    if (rc != 0) {
        munmap(p, size);
        errno = rc;
        return NULL;
    }
    tables[table_count++] = t;
    return t;
}

void source_limits_free_all(void)
{
    for (size_t i = 0; i < table_count; i++) {
        pthread_mutex_destroy(&tables[i]->lock);
        munmap(tables[i], tables[i]->mapped);
        tables[i] = NULL;
    }
    table_count = 0;
    process_column = 0;
}

void source_limits_set_column(unsigned column)
{
    process_column = column;
}

/* Locks t; a holder that died leaves the table as it was mid-update,
 * which at worst is one count off: take it as consistent. */
static bool lock_table(struct source_table *t)
{
    int rc = pthread_mutex_lock(&t->lock);
    if (rc == EOWNERDEAD)
        rc = pthread_mutex_consistent(&t->lock);
    return rc == 0;
}

static void unlock_table(struct source_table *t)
{
    pthread_mutex_unlock(&t->lock);
}

/* The source peer belongs to: an IPv4 address (a mapped one too), or an
 * IPv6 address cut to the table's prefix; false for a family without one. */
static bool source_key(const struct source_table *t, const struct address *peer, uint8_t key[16],
                       bool *v6)
{
    uint8_t host[16];
    if (!address_host_bytes(peer, host, v6))
        return false;
    memset(key, 0, 16);
    unsigned bits = !*v6 ? 32 : t->settings.prefix6 ? t->settings.prefix6 : SOURCE_PREFIX6_DEFAULT;
    memcpy(key, host, bits / 8);
    if (bits % 8)
        key[bits / 8] = (uint8_t)(host[bits / 8] & (0xffu << (8 - bits % 8)));
    return true;
}

static size_t slot_of(const struct source_table *t, const uint8_t key[16], bool v6)
{
    uint64_t h = 0xcbf29ce484222325u ^ t->seed; /* FNV-1a, seeded. */
    for (int i = 0; i < 16; i++)
        h = (h ^ key[i]) * 0x100000001b3u;
    h = (h ^ v6) * 0x100000001b3u;
    h ^= h >> 29;
    return (size_t)(h % SOURCE_TABLE_CAPACITY);
}

static bool same_source(const struct source_entry *e, const uint8_t key[16], bool v6)
{
    return e->used && e->v6 == v6 && memcmp(e->key, key, 16) == 0;
}

/* Nothing left to remember: no connection open and a full bucket. */
static bool forgettable(const struct source_table *t, const struct source_entry *e, int64_t now)
{
    if (!e->used)
        return true;
    if (e->total > 0)
        return false;
    const struct token_bucket *b = &e->bucket;
    uint32_t rate = t->settings.rate_per_second;
    if (rate == 0 || !b->started)
        return true;
    double refilled = b->tokens + (double)(now - b->last_ms) * rate / 1000.0;
    return refilled >= (double)t->settings.burst;
}

/* The entry of key's source; with now >= 0, made if new. NULL when it is
 * not there (or, when making, no slot of its window can take it). */
static struct source_entry *find(struct source_table *t, const uint8_t key[16], bool v6,
                                 int64_t now)
{
    size_t start = slot_of(t, key, v6);
    struct source_entry *spare = NULL;
    for (size_t i = 0; i < SOURCE_TABLE_PROBE; i++) {
        struct source_entry *e = entry_at(t, (start + i) % SOURCE_TABLE_CAPACITY);
        if (same_source(e, key, v6))
            return e;
        if (now >= 0 && !spare && forgettable(t, e, now))
            spare = e;
    }
    if (!spare)
        return NULL;
    memset(spare, 0, t->stride);
    memcpy(spare->key, key, 16);
    spare->v6 = v6;
    spare->used = true;
    return spare;
}

enum source_verdict source_table_admit(struct source_table *t, const struct address *peer,
                                       int64_t now_ms)
{
    uint8_t key[16];
    bool v6;
    if (!source_key(t, peer, key, &v6))
        return SOURCE_OK; /* Not an IP peer: nothing to group it by. */
    if (now_ms < 0)
        now_ms = 0;
    if (!lock_table(t))
        return SOURCE_TABLE_FULL;
    enum source_verdict verdict = SOURCE_OK;
    struct source_entry *e = find(t, key, v6, now_ms);
    const struct source_settings *s = &t->settings;
    unsigned column = process_column < t->columns ? process_column : 0;
    if (!e)
        verdict = SOURCE_TABLE_FULL;
    else if (s->max_per_source > 0 && e->total >= s->max_per_source)
        verdict = SOURCE_TOO_MANY;
    else if (e->counts[column] == UINT16_MAX)
        verdict = SOURCE_TOO_MANY;
    else if (s->rate_per_second > 0 &&
             !token_bucket_take(&e->bucket, s->rate_per_second, s->burst, now_ms))
        verdict = SOURCE_TOO_FAST;
    if (verdict == SOURCE_OK) {
        e->counts[column]++;
        e->total++;
    }
    unlock_table(t);
    return verdict;
}

void source_table_release(struct source_table *t, const struct address *peer)
{
    uint8_t key[16];
    bool v6;
    if (!source_key(t, peer, key, &v6) || !lock_table(t))
        return;
    struct source_entry *e = find(t, key, v6, -1);
    unsigned column = process_column < t->columns ? process_column : 0;
    /* A zero count here was forgotten with a dead worker: nothing to undo. */
    if (e && e->counts[column] > 0) {
        e->counts[column]--;
        e->total--;
    }
    unlock_table(t);
}

uint32_t source_table_open(struct source_table *t, const struct address *peer)
{
    uint8_t key[16];
    bool v6;
    if (!source_key(t, peer, key, &v6) || !lock_table(t))
        return 0;
    struct source_entry *e = find(t, key, v6, -1);
    uint32_t open = e ? e->total : 0;
    unlock_table(t);
    return open;
}

void source_limits_forget_column(unsigned column)
{
    for (size_t i = 0; i < table_count; i++) {
        struct source_table *t = tables[i];
        if (column >= t->columns || !lock_table(t))
            continue;
        for (size_t j = 0; j < SOURCE_TABLE_CAPACITY; j++) {
            struct source_entry *e = entry_at(t, j);
            if (e->used && e->counts[column] > 0) {
                e->total -= e->counts[column];
                e->counts[column] = 0;
            }
        }
        unlock_table(t);
    }
}
