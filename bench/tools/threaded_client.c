/*
 * threaded_client: the reference load generator that sockserv bench must
 * outrun. One thread per connection, each a plain blocking loop: write the
 * message, read until the whole echo is back, compare, count. This is how a
 * load generator is usually first written, and so the baseline the issue
 * names: one bench event loop must drive at least as many requests/s as
 * this does against the same server.
 *
 * usage: threaded_client [-c CONNECTIONS] [-d SECONDS] [-s BYTES] HOST PORT
 * Prints one JSON object on stdout. Exit status 0 when any request
 * succeeded, 1 when none did, 2 for a usage error.
 *
 * A bench-only tool: built by `make bench`, not part of sockserv.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNECTIONS 10000
#define MAX_SIZE (1024 * 1024)
#define IO_TIMEOUT_S 5

struct shared {
    struct sockaddr_storage addr;
    socklen_t addr_len;
    const uint8_t *message;
    size_t size;
    volatile int stop; /* Read with __atomic; set once by main. */
};

struct worker {
    pthread_t thread;
    struct shared *shared;
    uint64_t requests;
    uint64_t errors;
    int first_errno;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool stopping(const struct shared *s)
{
    return __atomic_load_n(&s->stop, __ATOMIC_RELAXED) != 0;
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int read_all(int fd, uint8_t *p, size_t len)
{
    while (len > 0) {
        ssize_t n = read(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = ECONNRESET;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int open_connection(const struct shared *s)
{
    int fd = socket(s->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    struct timeval tv = {.tv_sec = IO_TIMEOUT_S};
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0 ||
        connect(fd, (const struct sockaddr *)&s->addr, s->addr_len) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

static void fail(struct worker *w)
{
    w->errors++;
    if (w->first_errno == 0)
        w->first_errno = errno ? errno : EIO;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    const struct shared *s = w->shared;
    uint8_t *reply = malloc(s->size);
    if (!reply) {
        fail(w);
        return NULL;
    }
    while (!stopping(s)) {
        int fd = open_connection(s);
        if (fd < 0) {
            fail(w);
            usleep(100 * 1000);
            continue;
        }
        while (!stopping(s)) {
            if (write_all(fd, s->message, s->size) != 0 || read_all(fd, reply, s->size) != 0) {
                fail(w);
                break;
            }
            if (memcmp(reply, s->message, s->size) != 0) {
                errno = EBADMSG;
                fail(w);
                break;
            }
            w->requests++;
        }
        close(fd);
    }
    free(reply);
    return NULL;
}

static int usage(const char *why)
{
    fprintf(stderr,
            "threaded_client: %s\n"
            "usage: threaded_client [-c CONNECTIONS] [-d SECONDS] [-s BYTES] HOST PORT\n",
            why);
    return 2;
}

static int parse_number(const char *text, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int resolve(const char *host, const char *port, struct shared *s)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        fprintf(stderr, "threaded_client: cannot resolve %s: %s\n", host, gai_strerror(rc));
        return -1;
    }
    memcpy(&s->addr, res->ai_addr, res->ai_addrlen);
    s->addr_len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

int main(int argc, char **argv)
{
    long connections = 50, seconds = 5, size = 128;
    int ch;
    while ((ch = getopt(argc, argv, "c:d:s:")) != -1) {
        long *target = ch == 'c' ? &connections : ch == 'd' ? &seconds : ch == 's' ? &size : NULL;
        long max = ch == 'c' ? MAX_CONNECTIONS : ch == 'd' ? 3600 : MAX_SIZE;
        if (!target || parse_number(optarg, 1, max, target) != 0)
            return usage("bad option");
    }
    if (argc - optind != 2)
        return usage("expected HOST and PORT");

    struct shared s = {.size = (size_t)size};
    if (resolve(argv[optind], argv[optind + 1], &s) != 0)
        return 1;
    uint8_t *message = malloc(s.size);
    struct worker *workers = calloc((size_t)connections, sizeof(*workers));
    if (!message || !workers) {
        fputs("threaded_client: out of memory\n", stderr);
        return 1;
    }
    /* The same message sockserv bench -s makes: letters, then a newline. */
    for (size_t i = 0; i + 1 < s.size; i++)
        message[i] = (uint8_t)('a' + i % 26);
    message[s.size - 1] = '\n';
    s.message = message;

    double start = now_s();
    long started = 0;
    for (; started < connections; started++) {
        workers[started].shared = &s;
        int e = pthread_create(&workers[started].thread, NULL, worker_main, &workers[started]);
        if (e != 0) {
            fprintf(stderr, "threaded_client: cannot start thread %ld: %s\n", started + 1,
                    strerror(e));
            break;
        }
    }
    struct timespec pause = {.tv_sec = seconds};
    while (nanosleep(&pause, &pause) != 0 && errno == EINTR)
        ;
    __atomic_store_n(&s.stop, 1, __ATOMIC_RELAXED);
    double elapsed = now_s() - start;
    uint64_t requests = 0, errors = 0;
    int first_errno = 0;
    for (long i = 0; i < started; i++) {
        pthread_join(workers[i].thread, NULL);
        requests += workers[i].requests;
        errors += workers[i].errors;
        if (!first_errno)
            first_errno = workers[i].first_errno;
    }
    printf("{\"tool\": \"threaded_client\", \"connections\": %ld, \"threads\": %ld, "
           "\"message_bytes\": %ld, \"elapsed_s\": %.3f, \"requests\": %llu, "
           "\"requests_per_s\": %.1f, \"errors\": %llu, \"first_error\": \"%s\"}\n",
           connections, started, size, elapsed, (unsigned long long)requests,
           (double)requests / elapsed, (unsigned long long)errors,
           first_errno ? strerror(first_errno) : "");
    free(workers);
    free(message);
    return requests > 0 ? 0 : 1;
}
