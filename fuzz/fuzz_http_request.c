/*
 * The metrics service's request parser (services/http_request.h), fed as
 * the service feeds it: the bytes received so far, after each read, with
 * reads cut as the input's first byte says.
 *
 * Properties: the status is 0 or one the header lists; a verdict, once
 * given, never changes as more bytes arrive; nothing past
 * HTTP_REQUEST_MAX changes it; at the bound there is always a verdict; a
 * 200 is a GET or HEAD of /metrics whose length ends at its blank line and
 * which alone gets the same 200.
 */
#include "fuzz.h"

#include "services/http_request.h"

static bool known_status(int status)
{
    static const int known[] = {0, 200, 400, 404, 405, 414, 431, 505};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (status == known[i])
            return true;
    return false;
}

static void check_accepted(const char *text, size_t len, const struct http_request *req)
{
    FUZZ_CHECK(req->length > 0 && req->length <= len && req->length <= HTTP_REQUEST_MAX);
    FUZZ_CHECK(text[req->length - 1] == '\n');
    if (req->head)
        FUZZ_CHECK(memcmp(text, "HEAD /metrics", 13) == 0);
    else
        FUZZ_CHECK(memcmp(text, "GET /metrics", 12) == 0);
    struct http_request alone;
    http_request_parse(text, req->length, &alone);
    FUZZ_CHECK(alone.status == 200 && alone.length == req->length && alone.head == req->head);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = {data, size};
    struct fuzz_splitter split;
    fuzz_splitter_init(&split, fuzz_byte(&in));
    char *text = fuzz_string(in.data, in.len);
    struct http_request first = {0};
    size_t received = 0, n;
    while ((n = fuzz_splitter_next(&split, in.len - received)) > 0) {
        received += n;
        struct http_request req;
        http_request_parse(text, received, &req);
        FUZZ_CHECK(known_status(req.status));
        if (first.status != 0)
            FUZZ_CHECK(req.status == first.status && req.head == first.head &&
                       req.length == first.length);
        else
            first = req;
        if (received >= HTTP_REQUEST_MAX)
            FUZZ_CHECK(req.status != 0);
    }
    if (first.status == 200)
        check_accepted(text, in.len, &first);
    /* Bytes past the bound are never read. */
    if (in.len > HTTP_REQUEST_MAX) {
        struct http_request bounded;
        http_request_parse(text, HTTP_REQUEST_MAX, &bounded);
        FUZZ_CHECK(bounded.status == first.status);
    }
    free(text);
    return 0;
}
