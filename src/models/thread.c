/*
 * The thread model: a thread per connection, each blocked on its own
 * socket. The main thread only accepts. At --max-conns threads it stops
 * accepting until one ends, so a burst of clients waits in the backlog
 * instead of exhausting memory. Threads are detached and count themselves
 * out through an eventfd, which also wakes the main thread to accept again.
 *
 * Over UDP it is a thread per datagram, under a bound of its own
 * (--max-datagrams), so slow datagrams never take TCP's threads, rather
 * than a pool: that is the model the tutorials measure (a request handed to a
 * fresh thread), and it keeps TCP and UDP on one code path here. Its cost,
 * a thread creation per request, is exactly what the benchmarks show.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/counters.h"
#include "core/error.h"
#include "core/grace.h"
#include "core/log.h"
#include "models/blocking.h"

/* Connection threads need little stack: a 64 KiB read chunk and shallow
 * calls. A small stack lets thousands of threads fit. */
#define THREAD_STACK_SIZE (256 * 1024)

/* How many connection threads are running: each counts itself out and
 * writes ended_fd as it ends, which wakes the accepting thread. */
struct thread_counter {
    atomic_size_t active;
    atomic_size_t datagrams; /* Of active, those serving a datagram. */
    int ended_fd;            /* eventfd: a thread ended. */
    int64_t grace_ms;
    int worker; /* The server's, to label each thread's counts. */
};

struct job {
    struct thread_counter *counter;
    struct accepted client;
    uint8_t datagram[]; /* The thread's own copy of a UDP request. */
};

static void *serve_thread(void *arg)
{
    struct job *job = arg;
    struct thread_counter *counter = job->counter;
    bool datagram = job->client.fd < 0;
    counters_claim_slot(counter->worker, -1);
    blocking_serve(&job->client, counter->grace_ms, NULL);
    counters_release_slot();
    free(job);
    if (datagram)
        atomic_fetch_sub(&counter->datagrams, 1);
    atomic_fetch_sub(&counter->active, 1);
    uint64_t one = 1;
    ssize_t ignored = write(counter->ended_fd, &one, sizeof(one));
    (void)ignored; /* The counter is the truth; the write only wakes. */
    return NULL;
}

static void drain_eventfd(int fd)
{
    uint64_t count;
    ssize_t ignored = read(fd, &count, sizeof(count));
    (void)ignored; /* Non-blocking; EAGAIN just means nothing to drain. */
}

/* What the accept loop needs to start connection threads. */
struct spawner {
    struct thread_counter *counter;
    const pthread_attr_t *attr;
    size_t max_threads;   /* Serving TCP clients. */
    size_t max_datagrams; /* Serving datagrams. */
};

static bool below_limit(void *ctx, enum transport transport)
{
    struct spawner *sp = ctx;
    if (transport == TRANSPORT_UDP)
        return atomic_load(&sp->counter->datagrams) < sp->max_datagrams;
    /* A thread counts itself out of datagrams before active, so reading
     * active first can only overstate the TCP threads, never understate. */
    size_t active = atomic_load(&sp->counter->active);
    size_t datagrams = atomic_load(&sp->counter->datagrams);
    return (active > datagrams ? active - datagrams : 0) < sp->max_threads;
}

static void thread_ended(void *ctx)
{
    struct spawner *sp = ctx;
    drain_eventfd(sp->counter->ended_fd);
}

static void start_thread(void *ctx, const struct accepted *a)
{
    struct spawner *sp = ctx;
    struct thread_counter *counter = sp->counter;
    const pthread_attr_t *attr = sp->attr;
    struct job *job = malloc(sizeof(*job) + a->datagram_len);
    if (!job) {
        log_warn("out of memory: dropping a client of %s", a->listener->name);
        if (a->fd >= 0) {
            close(a->fd);
            admission_release(a->listener->admission, &a->peer);
        }
        return;
    }
    job->counter = counter;
    job->client = *a;
    if (a->datagram) {
        memcpy(job->datagram, a->datagram, a->datagram_len);
        job->client.datagram = job->datagram;
    }
    bool datagram = a->fd < 0;
    if (datagram)
        atomic_fetch_add(&counter->datagrams, 1);
    atomic_fetch_add(&counter->active, 1);
    pthread_t tid;
    int rc = pthread_create(&tid, attr, serve_thread, job);
    if (rc != 0) {
        log_warn("cannot start a thread for a client of %s: %s", a->listener->name, strerror(rc));
        if (datagram)
            atomic_fetch_sub(&counter->datagrams, 1);
        atomic_fetch_sub(&counter->active, 1);
        if (a->fd >= 0) {
            close(a->fd);
            admission_release(a->listener->admission, &a->peer);
        }
        free(job);
    }
}

/* After a stop: wait for the connection threads, which end by themselves
 * within the grace period. The margin covers a thread finishing its last
 * write as the grace period ends. A thread cannot be killed alone, so what
 * is left then ends with the process. */
static void wait_for_threads(struct thread_counter *counter)
{
    int64_t deadline = clock_now_ms() + counter->grace_ms + GRACE_MARGIN_MS;
    while (atomic_load(&counter->active) > 0) {
        int timeout = clock_timeout_until(deadline);
        if (timeout == 0) {
            log_warn("%zu connection threads still running at exit", atomic_load(&counter->active));
            return;
        }
        struct pollfd pfd = {.fd = counter->ended_fd, .events = POLLIN};
        if (poll(&pfd, 1, timeout) > 0)
            drain_eventfd(counter->ended_fd);
    }
}

static int run_thread(struct server *srv, char *err, size_t errlen)
{
    /* Static: a thread still running past the grace period when this
     * returns must not touch a dead stack frame. */
    static struct thread_counter counter;
    counter.grace_ms = srv->grace_ms;
    counter.worker = srv->worker;
    atomic_init(&counter.active, 0);
    atomic_init(&counter.datagrams, 0);
    counter.ended_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (counter.ended_fd < 0)
        return error_set(err, errlen, "eventfd: %s", strerror(errno));
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, THREAD_STACK_SIZE);
    struct spawner spawner = {&counter, &attr, srv->max_conns, server_max_datagrams(srv)};
    struct accept_hooks hooks = {
        .ctx = &spawner,
        .accepting = below_limit,
        .client = start_thread,
        .extra_fd = counter.ended_fd,
        .extra = thread_ended,
    };
    int rc = blocking_accept_loop(srv, &hooks, err, errlen);
    wait_for_threads(&counter);
    pthread_attr_destroy(&attr);
    /* ended_fd stays open: a thread writes to it just after its count
     * drops, so no moment is safe to close it, and a closed number could
     * already belong to another file. The process ends after this. */
    return rc;
}

const struct model model_thread = {
    .name = "thread",
    .summary = "a thread per connection, bounded by --max-conns",
    .default_max_conns = 1024,
    .run = run_thread,
};
