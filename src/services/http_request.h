/*
 * The one HTTP request the metrics service understands: GET or HEAD of
 * /metrics, over HTTP/1.0 or 1.1 (RFC 9110, 9112). A pure function of the
 * bytes received so far, so the service calls it again as more arrive and
 * a fuzzer can drive it alone.
 *
 * Everything is bounded: the request line and headers together may take at
 * most HTTP_REQUEST_MAX bytes. The verdict comes as soon as the bytes can
 * decide it: a malformed request line is refused without waiting for the
 * headers. Lines end in CRLF or a bare LF (RFC 9112 2.2 lets a server take
 * LF). Refusals:
 *   400  malformed request line or header line, a control byte, a folded
 *        header, HTTP/1.1 without exactly one Host header
 *   404  any path but /metrics (a query string is ignored)
 *   405  a well-formed method other than GET and HEAD
 *   414  the request line alone passes the bound
 *   431  the request line and headers pass the bound
 *   505  a version other than HTTP/1.0 and HTTP/1.1
 * A body is never read: the server answers once and closes.
 */
#ifndef SOCKSERV_HTTP_REQUEST_H
#define SOCKSERV_HTTP_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

/* The most bytes of request line and headers, blank line included. */
#define HTTP_REQUEST_MAX 8192

struct http_request {
    /* 0 while more bytes are needed; otherwise the status to answer with:
     * 200 for GET or HEAD of /metrics, or one of the refusals above. */
    int status;
    bool head; /* HEAD: answer with the headers alone. */
    /* With status 200: the request's bytes, its blank line included;
     * whatever follows them is not part of it. */
    size_t length;
};

/*
 * Looks at the first len bytes of a connection. Returns the verdict in
 * out->status, 0 when the bytes so far are a valid beginning and fewer
 * than HTTP_REQUEST_MAX (call again with more). Bytes beyond
 * HTTP_REQUEST_MAX are never looked at.
 */
void http_request_parse(const char *data, size_t len, struct http_request *out);

/* The reason phrase of a status this module returns ("Not Found"), or of
 * 500, which a server answers when it cannot build the answer. */
const char *http_status_text(int status);

#endif
