/* The metrics service's request parser: GET and HEAD of /metrics pass,
 * everything else gets the 4xx its header promises, as soon as the bytes
 * decide it, and nothing past HTTP_REQUEST_MAX is read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "services/http_request.h"

static struct http_request parse(const char *text)
{
    struct http_request req;
    http_request_parse(text, strlen(text), &req);
    return req;
}

static void expect(const char *text, int status)
{
    int got = parse(text).status;
    if (got != status)
        fail_msg("\"%s\": status %d, wanted %d", text, got, status);
}

static void test_get_and_head_of_metrics_pass(void **state)
{
    (void)state;
    const char *get = "GET /metrics HTTP/1.1\r\nHost: localhost:9464\r\nAccept: */*\r\n\r\n";
    struct http_request req = parse(get);
    assert_int_equal(req.status, 200);
    assert_false(req.head);
    assert_int_equal(req.length, strlen(get));
    req = parse("HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_int_equal(req.status, 200);
    assert_true(req.head);
    /* HTTP/1.0 needs no Host; bare LF ends lines too; a query is ignored. */
    expect("GET /metrics HTTP/1.0\r\n\r\n", 200);
    expect("GET /metrics HTTP/1.1\nHost: x\n\n", 200);
    expect("GET /metrics?name[]=up HTTP/1.1\r\nhOsT:x\r\n\r\n", 200);
}

static void test_what_follows_the_request_is_not_part_of_it(void **state)
{
    (void)state;
    struct http_request req = parse("GET /metrics HTTP/1.0\r\n\r\nGET /metrics HTTP/1.0\r\n\r\n");
    assert_int_equal(req.status, 200);
    assert_int_equal(req.length, strlen("GET /metrics HTTP/1.0\r\n\r\n"));
}

static void test_a_valid_beginning_waits_for_more(void **state)
{
    (void)state;
    const char *partial[] = {"",
                             "G",
                             "GET /metr",
                             "GET /metrics HTTP/1.1\r",
                             "GET /metrics HTTP/1.1\r\n",
                             "GET /metrics HTTP/1.1\r\nHost: x\r\n",
                             "GET /metrics HTTP/1.1\r\nHost: x\r\n\r",
                             "POST /other HTTP/1.1\r\nHost: x\r\n"};
    for (size_t i = 0; i < sizeof partial / sizeof partial[0]; i++)
        expect(partial[i], 0);
}

static void test_malformed_requests_get_400(void **state)
{
    (void)state;
    const char *bad[] = {
        "garbage\r\n",
        "\x16\x03\x01\x02",              /* A TLS hello: refused before any line ends. */
        "GET\r\n",                       /* No target. */
        "GET /metrics\r\n",              /* No version. */
        "GET  /metrics HTTP/1.1\r\n",    /* Two spaces. */
        "GET /metrics HTTP/1.1 \r\n",    /* Trailing space. */
        "GET /metrics HTTP/1.x\r\n",     /* Not a version. */
        "GET /metrics http/1.1\r\n",     /* The name is case-sensitive. */
        "G(T /metrics HTTP/1.1\r\n",     /* Not a token. */
        "GET /met\x01rics HTTP/1.1\r\n", /* A control byte. */
        "GET /metrics HTTP/1.1\r\r\n",   /* A bare CR. */
        "GET\t/metrics HTTP/1.1\r\n",    /* A tab is no separator. */
        "GET /metrics HTTP/1.1\r\n\r\n", /* 1.1 without Host. */
        "GET /metrics HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        "GET /metrics HTTP/1.1\r\nHost: x\r\nNo colon\r\n",
        "GET /metrics HTTP/1.1\r\nHost: x\r\nBad name: y\r\n",
        "GET /metrics HTTP/1.1\r\nHost : x\r\n", /* Space before the colon. */
        "GET /metrics HTTP/1.1\r\nHost: x\r\n folded\r\n",
        "GET /metrics HTTP/1.1\r\nHost: x\r\nA: \x7f\r\n",
        "\r\nGET /metrics HTTP/1.1\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect(bad[i], 400);
}

static void test_other_paths_methods_and_versions(void **state)
{
    (void)state;
    expect("GET / HTTP/1.1\r\nHost: x\r\n\r\n", 404);
    expect("GET /metricsx HTTP/1.1\r\nHost: x\r\n\r\n", 404);
    expect("GET /metrics/ HTTP/1.1\r\nHost: x\r\n\r\n", 404);
    expect("GET http://x/metrics HTTP/1.1\r\nHost: x\r\n\r\n", 404);
    expect("POST /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 405);
    expect("get /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 405); /* Methods are case-sensitive. */
    expect("DELETE / HTTP/1.1\r\nHost: x\r\n\r\n", 405);
    expect("GET /metrics HTTP/2.0\r\nHost: x\r\n\r\n", 505);
    expect("GET /metrics HTTP/0.9\r\n\r\n", 505);
}

static void test_too_long_is_414_or_431_and_reads_no_further(void **state)
{
    (void)state;
    size_t size = HTTP_REQUEST_MAX + 100;
    char *text = malloc(size + 1);
    assert_non_null(text);
    /* A request line that never ends within the bound. */
    memset(text, 'a', size);
    memcpy(text, "GET /", 5);
    text[size] = '\0';
    expect(text, 414);
    /* A header that passes it; the byte past the bound that would have
     * ended the head is never looked at. */
    memset(text, 'a', size);
    const char *start = "GET /metrics HTTP/1.1\r\nHost: x\r\nX: ";
    memcpy(text, start, strlen(start));
    memcpy(text + HTTP_REQUEST_MAX, "\r\n\r\n", 4);
    struct http_request req;
    http_request_parse(text, size, &req);
    assert_int_equal(req.status, 431);
    /* One byte short of the bound still waits. */
    http_request_parse(text, HTTP_REQUEST_MAX - 1, &req);
    assert_int_equal(req.status, 0);
    free(text);
}

static void test_status_texts(void **state)
{
    (void)state;
    assert_string_equal(http_status_text(200), "OK");
    assert_string_equal(http_status_text(404), "Not Found");
    assert_string_equal(http_status_text(431), "Request Header Fields Too Large");
    assert_string_equal(http_status_text(505), "HTTP Version Not Supported");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_and_head_of_metrics_pass),
        cmocka_unit_test(test_what_follows_the_request_is_not_part_of_it),
        cmocka_unit_test(test_a_valid_beginning_waits_for_more),
        cmocka_unit_test(test_malformed_requests_get_400),
        cmocka_unit_test(test_other_paths_methods_and_versions),
        cmocka_unit_test(test_too_long_is_414_or_431_and_reads_no_further),
        cmocka_unit_test(test_status_texts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
