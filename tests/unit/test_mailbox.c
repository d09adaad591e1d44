/* The mailbox: bytes posted from another thread keep their place ahead of
 * what the owning thread writes afterwards, posts racing the owner's writes
 * lose nothing and keep each writer's order, and an overflowing inbox drops
 * the connection as too slow. `make test-threads SANITIZE=thread` runs this
 * under ThreadSanitizer too. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/conn_model.h"
#include "core/mailbox.h"

#define MAX_OUTPUT 4096
/* Lines each side writes in the race, "p123\n" or "o123\n". */
#define RACE_LINES 300

static const struct service test_service = {.name = "test"};
static const struct service_config test_config = {.max_output = MAX_OUTPUT};

struct fixture {
    struct listener listener;
    struct mailbox_hub hub;
    struct conn *c;
    int peer_fd;
};

static int setup(void **state)
{
    static struct fixture f;
    memset(&f, 0, sizeof(f));
    f.listener.service = &test_service;
    f.listener.config = &test_config;
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds) != 0)
        return -1;
    struct address peer = {0};
    f.c = conn_create(fds[0], &peer, &f.listener, NULL);
    f.peer_fd = fds[1];
    if (!f.c || mailbox_hub_init(&f.hub) != 0)
        return -1;
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    mailbox_forget(&f->hub, f->c);
    conn_destroy(f->c);
    mailbox_hub_free(&f->hub);
    close(f->peer_fd);
    return 0;
}

/* What the peer can read now, as a string. */
static const char *peer_reads(struct fixture *f)
{
    static char got[256];
    ssize_t n = read(f->peer_fd, got, sizeof(got) - 1);
    got[n > 0 ? n : 0] = '\0';
    return got;
}

struct post {
    struct fixture *f;
    const char *text;
    int rc;
};

static void *post_from_thread(void *arg)
{
    struct post *p = arg;
    p->rc = mailbox_post(&p->f->hub, p->f->c, p->text, strlen(p->text));
    return NULL;
}

/* Posts text from a thread of its own, as another loop would. */
static int post_elsewhere(struct fixture *f, const char *text)
{
    struct post p = {f, text, -2};
    pthread_t thread;
    assert_int_equal(pthread_create(&thread, NULL, post_from_thread, &p), 0);
    assert_int_equal(pthread_join(thread, NULL), 0);
    return p.rc;
}

static void test_a_write_waits_behind_earlier_posts(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(post_elsewhere(f, "first\n"), 0);
    assert_int_equal(post_elsewhere(f, "second\n"), 0);
    assert_true(mailbox_waiting(f->c));
    assert_int_equal(conn_write(f->c, "reply\n", 6), 0);
    assert_false(mailbox_waiting(f->c));
    assert_string_equal(peer_reads(f), "first\nsecond\nreply\n");
}

static void test_mail_handed_over_early_is_not_sent_again(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(post_elsewhere(f, "posted\n"), 0);
    assert_int_equal(conn_write(f->c, "reply\n", 6), 0);
    /* The owner's wakeup still finds the connection listed. */
    mailbox_deliver(&f->hub);
    assert_int_equal(post_elsewhere(f, "later\n"), 0);
    mailbox_deliver(&f->hub);
    assert_string_equal(peer_reads(f), "posted\nreply\nlater\n");
}

static void test_a_connection_never_posted_to_has_no_mailbox(void **state)
{
    struct fixture *f = *state;
    assert_false(mailbox_waiting(f->c));
    assert_int_equal(conn_write(f->c, "plain\n", 6), 0);
    assert_null(f->c->mailbox);
    assert_string_equal(peer_reads(f), "plain\n");
}

static void *post_many(void *arg)
{
    struct fixture *f = arg;
    for (int i = 0; i < RACE_LINES; i++) {
        char line[8];
        snprintf(line, sizeof(line), "p%03d\n", i);
        assert_int_equal(mailbox_post(&f->hub, f->c, line, 5), 0);
    }
    return NULL;
}

/* The numbers of the lines starting with tag, in the order they came. */
static int in_order(const char *text, char tag)
{
    int next = 0;
    for (const char *line = text; *line; line += 5) {
        if (*line == tag) {
            if (atoi(line + 1) != next)
                return -1;
            next++;
        }
    }
    return next;
}

/* Reads what the peer can, and sends what the socket's full buffer held
 * back, as the owner's loop would on writable. */
static void pump(struct fixture *f, char *got, size_t *used, size_t size)
{
    for (;;) {
        ssize_t n;
        while (*used < size && (n = read(f->peer_fd, got + *used, size - *used)) > 0)
            *used += (size_t)n;
        if (conn_output_pending(f->c) == 0)
            return;
        conn_handle_writable(f->c);
    }
}

static void test_posts_racing_the_owners_writes_lose_nothing(void **state)
{
    struct fixture *f = *state;
    static char got[2 * RACE_LINES * 5 + 1];
    size_t used = 0;
    pthread_t poster;
    assert_int_equal(pthread_create(&poster, NULL, post_many, f), 0);
    for (int i = 0; i < RACE_LINES; i++) {
        char line[8];
        snprintf(line, sizeof(line), "o%03d\n", i);
        assert_int_equal(conn_write(f->c, line, 5), 0);
        if (i % 7 == 0)
            mailbox_deliver(&f->hub); /* As the owner's wakeup would. */
        pump(f, got, &used, sizeof(got) - 1);
    }
    assert_int_equal(pthread_join(poster, NULL), 0);
    mailbox_deliver(&f->hub);
    pump(f, got, &used, sizeof(got) - 1);
    got[used] = '\0';
    assert_int_equal(used, 2 * RACE_LINES * 5);
    assert_int_equal(in_order(got, 'p'), RACE_LINES);
    assert_int_equal(in_order(got, 'o'), RACE_LINES);
}

static void test_a_connection_forgotten_while_listed_is_not_visited(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(post_elsewhere(f, "posted\n"), 0);
    assert_int_equal(conn_write(f->c, "reply\n", 6), 0);
    /* Still on the hub's list after the early hand-over; forgetting it
     * must take it off, or the delivery below would touch freed memory
     * (AddressSanitizer catches that). */
    mailbox_forget(&f->hub, f->c);
    assert_null(f->c->mailbox);
    mailbox_deliver(&f->hub);
    assert_string_equal(peer_reads(f), "posted\nreply\n");
}

static void test_an_overflowing_inbox_drops_the_connection_on_next_write(void **state)
{
    struct fixture *f = *state;
    char big[MAX_OUTPUT + 2]; /* One byte over the limit, and the NUL. */
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(post_elsewhere(f, big), -1);
    /* Once too slow, always too slow: nothing more is taken. */
    assert_int_equal(post_elsewhere(f, "small\n"), -1);
    assert_int_equal(conn_write(f->c, "reply\n", 6), -1);
    assert_string_equal(conn_drop_reason(f->c), "too slow: output queue full");
    assert_string_equal(peer_reads(f), "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_a_write_waits_behind_earlier_posts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mail_handed_over_early_is_not_sent_again, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_connection_never_posted_to_has_no_mailbox, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_posts_racing_the_owners_writes_lose_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_connection_forgotten_while_listed_is_not_visited,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_an_overflowing_inbox_drops_the_connection_on_next_write, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
