#include "core/counters.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Enough for every event loop of every worker, and the thread model's
 * threads up to its default --max-conns; beyond, threads share slot 0. */
#define SLOTS 2048

struct slot_label {
    int owner_tid; /* 0: free. Claimed with a compare-and-swap. */
    int owner_pid;
    int worker;
    int loop;
    bool used; /* Ever claimed: shown in per-loop figures. */
};

struct region {
    size_t listeners;
    struct slot_label labels[SLOTS];
    /* SLOTS blocks of listeners * COUNTER_COUNT values follow. */
    int64_t values[];
};

static struct region *region;
static size_t region_bytes;
/* Listener names, in process memory: written before any fork, and only
 * read after. */
static char **names;

/* The calling thread's block of values, and whether it writes it alone. */
static __thread int64_t *my_values;
static __thread size_t my_slot;
static __thread bool my_slot_exclusive;

static size_t block_values(void)
{
    return region->listeners * COUNTER_COUNT;
}

static int64_t *slot_values(size_t slot)
{
    return region->values + slot * block_values();
}

int counters_init(size_t listeners)
{
    size_t bytes =
        sizeof(struct region) + (size_t)SLOTS * listeners * COUNTER_COUNT * sizeof(int64_t);
    /* Shared, so workers forked later add to the same memory; anonymous
     * pages cost nothing until a slot is first written. */
    void *mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED)
        return -1;
    region = mem;
    region_bytes = bytes;
    region->listeners = listeners;
    region->labels[0] = (struct slot_label){.worker = -1, .loop = -1, .used = true};
    return 0;
}

void counters_free(void)
{
    for (size_t i = 0; region && names && i < region->listeners; i++)
        free(names[i]);
    free(names);
    names = NULL;
    if (region)
        munmap(region, region_bytes);
    region = NULL;
    my_values = NULL;
    my_slot = 0;
    my_slot_exclusive = false;
}

void counters_set_name(size_t listener, const char *name)
{
    if (!region || listener >= region->listeners)
        return;
    if (!names)
        names = calloc(region->listeners, sizeof(*names));
    if (!names)
        return;
    free(names[listener]);
    names[listener] = strdup(name);
}

const char *counters_name(size_t listener)
{
    if (!names || !region || listener >= region->listeners || !names[listener])
        return "";
    return names[listener];
}

void counters_claim_slot(int worker, int loop)
{
    /* A forked child inherits its parent's thread's slot, which the parent
     * goes on writing: never write it from here. */
    my_values = NULL;
    my_slot = 0;
    my_slot_exclusive = false;
    if (!region)
        return;
    int tid = gettid();
    for (size_t i = 1; i < SLOTS; i++) {
        int free_tid = 0;
        struct slot_label *l = &region->labels[i];
        if (__atomic_compare_exchange_n(&l->owner_tid, &free_tid, tid, false, __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED)) {
            __atomic_store_n(&l->owner_pid, getpid(), __ATOMIC_RELAXED);
            __atomic_store_n(&l->worker, worker, __ATOMIC_RELAXED);
            __atomic_store_n(&l->loop, loop, __ATOMIC_RELAXED);
            __atomic_store_n(&l->used, true, __ATOMIC_RELEASE);
            my_slot = i;
            my_values = slot_values(i);
            my_slot_exclusive = true;
            return;
        }
    }
}

void counters_release_slot(void)
{
    if (!region || !my_slot_exclusive)
        return;
    /* The pid first: once the tid is 0 another thread may claim the slot,
     * and counters_release_process must not take it, mid-claim, for this
     * process's should this process die. */
    __atomic_store_n(&region->labels[my_slot].owner_pid, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&region->labels[my_slot].owner_tid, 0, __ATOMIC_RELEASE);
    my_values = NULL;
    my_slot = 0;
    my_slot_exclusive = false;
}

void counters_release_process(pid_t pid)
{
    if (!region)
        return;
    for (size_t i = 1; i < SLOTS; i++) {
        struct slot_label *l = &region->labels[i];
        if (__atomic_load_n(&l->owner_tid, __ATOMIC_ACQUIRE) == 0 ||
            __atomic_load_n(&l->owner_pid, __ATOMIC_RELAXED) != pid)
            continue;
        /* Nobody writes the slot of a dead process until it is released
         * below, so these plain updates race with no writer. */
        int64_t *v = slot_values(i);
        for (size_t k = 0; k < region->listeners; k++) {
            int64_t *at = &v[k * COUNTER_COUNT];
            int64_t accepted = __atomic_load_n(&at[COUNTER_ACCEPTED], __ATOMIC_RELAXED);
            int64_t closed = __atomic_load_n(&at[COUNTER_CLOSED], __ATOMIC_RELAXED);
            int64_t died = __atomic_load_n(&at[COUNTER_CUT_PROCESS_DIED], __ATOMIC_RELAXED);
            __atomic_store_n(&at[COUNTER_CLOSED], accepted, __ATOMIC_RELAXED);
            __atomic_store_n(&at[COUNTER_CUT_PROCESS_DIED], died + accepted - closed,
                             __ATOMIC_RELAXED);
        }
        __atomic_store_n(&l->owner_pid, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&l->owner_tid, 0, __ATOMIC_RELEASE);
    }
}

void counters_add(size_t listener, enum counter counter, int64_t n)
{
    if (!region || listener >= region->listeners)
        return;
    size_t at = listener * COUNTER_COUNT + counter;
    if (my_slot_exclusive) {
        /* The only writer: a plain add. Relaxed atomics only so that a
         * reader's load is not a data race; they compile to plain moves. */
        int64_t *v = &my_values[at];
        __atomic_store_n(v, __atomic_load_n(v, __ATOMIC_RELAXED) + n, __ATOMIC_RELAXED);
        return;
    }
    __atomic_fetch_add(&slot_values(0)[at], n, __ATOMIC_RELAXED);
}

int64_t counters_sum(size_t listener, enum counter counter)
{
    if (!region || listener >= region->listeners)
        return 0;
    int64_t sum = 0;
    for (size_t i = 0; i < SLOTS; i++)
        if (__atomic_load_n(&region->labels[i].used, __ATOMIC_ACQUIRE))
            sum += __atomic_load_n(&slot_values(i)[listener * COUNTER_COUNT + counter],
                                   __ATOMIC_RELAXED);
    return sum;
}

size_t counters_listeners(void)
{
    return region ? region->listeners : 0;
}

size_t counters_slots(void)
{
    return region ? SLOTS : 0;
}

bool counters_slot_used(size_t slot, int *worker, int *loop)
{
    if (!region || slot >= SLOTS || !__atomic_load_n(&region->labels[slot].used, __ATOMIC_ACQUIRE))
        return false;
    *worker = __atomic_load_n(&region->labels[slot].worker, __ATOMIC_RELAXED);
    *loop = __atomic_load_n(&region->labels[slot].loop, __ATOMIC_RELAXED);
    return true;
}

int64_t counters_slot_sum(size_t slot, enum counter counter)
{
    if (!region || slot >= SLOTS)
        return 0;
    int64_t sum = 0;
    for (size_t l = 0; l < region->listeners; l++)
        sum += __atomic_load_n(&slot_values(slot)[l * COUNTER_COUNT + counter], __ATOMIC_RELAXED);
    return sum;
}

const struct counter_reason counters_refusals[] = {
    {COUNTER_REFUSED_DENIED, "denied"},
    {COUNTER_REFUSED_NOT_ALLOWED, "not_allowed"},
    {COUNTER_REFUSED_PER_SOURCE, "per_source"},
    {COUNTER_REFUSED_CONNECT_RATE, "connect_rate"},
    {COUNTER_REFUSED_FULL, "full"},
    {COUNTER_REFUSED_NO_DESCRIPTORS, "no_descriptors"},
    {COUNTER_COUNT, NULL},
};

const struct counter_reason counters_cuts[] = {
    {COUNTER_CUT_IDLE, "idle"},
    {COUNTER_CUT_REQUEST_TIMEOUT, "request_timeout"},
    {COUNTER_CUT_SLOW_READER, "slow_reader"},
    {COUNTER_CUT_GRACE, "grace"},
    {COUNTER_CUT_PROCESS_DIED, "process_died"},
    {COUNTER_COUNT, NULL},
};

const struct counter_reason counters_drops[] = {
    {COUNTER_DATAGRAMS_DENIED, "denied"},
    {COUNTER_DATAGRAMS_RATE, "rate"},
    {COUNTER_DATAGRAMS_OWN_PORT, "port"},
    {COUNTER_DATAGRAMS_BAD_SOURCE, "bad_source"},
    {COUNTER_DATAGRAMS_BUSY, "busy"},
    {COUNTER_DATAGRAMS_AMPLIFICATION, "amplification"},
    {COUNTER_COUNT, NULL},
};

int64_t counters_sum_reasons(size_t listener, const struct counter_reason *table)
{
    int64_t sum = 0;
    for (size_t i = 0; table[i].name; i++)
        sum += counters_sum(listener, table[i].counter);
    return sum;
}

/* A connection is counted accepted before it is counted closed, so reading
 * the closed count first can only miss closes, never show more closes
 * than accepts. */
int64_t counters_open(size_t listener)
{
    int64_t closed = counters_sum(listener, COUNTER_CLOSED);
    int64_t open = counters_sum(listener, COUNTER_ACCEPTED) - closed;
    return open > 0 ? open : 0;
}

size_t counters_open_by_loop(struct counters_loop *out, size_t max)
{
    size_t n = 0;
    for (size_t slot = 0; slot < counters_slots(); slot++) {
        int worker, loop;
        if (!counters_slot_used(slot, &worker, &loop))
            continue;
        int64_t closed = counters_slot_sum(slot, COUNTER_CLOSED);
        int64_t accepted = counters_slot_sum(slot, COUNTER_ACCEPTED);
        if (accepted == 0)
            continue;
        size_t i = 0;
        while (i < n && (out[i].worker != worker || out[i].loop != loop))
            i++;
        if (i == n) {
            if (n == max)
                continue;
            out[n++] = (struct counters_loop){worker, loop, 0};
        }
        out[i].open += accepted - closed;
    }
    for (size_t i = 0; i < n; i++)
        if (out[i].open < 0)
            out[i].open = 0;
    return n;
}
