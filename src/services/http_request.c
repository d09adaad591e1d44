#include "services/http_request.h"

#include <string.h>
#include <strings.h>

/* RFC 9110 5.6.2: the characters of a token (methods, header names). */
static bool is_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return true;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* A byte no request line or header may hold: controls other than HTAB. */
static bool is_control(unsigned char c)
{
    return (c < 0x20 && c != '\t') || c == 0x7f;
}

/* One line without its ending (LF, or CRLF). */
struct line {
    const char *at;
    size_t len;
};

/* The line starting at data[*pos], if its end is among the first len
 * bytes; advances *pos past it. */
static bool next_line(const char *data, size_t len, size_t *pos, struct line *out)
{
    const char *nl = memchr(data + *pos, '\n', len - *pos);
    if (!nl)
        return false;
    out->at = data + *pos;
    out->len = (size_t)(nl - out->at);
    if (out->len > 0 && out->at[out->len - 1] == '\r')
        out->len--;
    *pos = (size_t)(nl - data) + 1;
    return true;
}

/* What the request line says, once it is known to be well formed. */
struct request_line {
    bool get, head, other_method;
    bool metrics_path;
    bool http10, http11; /* Neither: another version, refused with 505. */
};

static bool all_tchars(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!is_tchar((unsigned char)s[i]))
            return false;
    return len > 0;
}

/* method SP request-target SP HTTP/DIGIT.DIGIT, each part non-empty and
 * single spaces between (RFC 9112 3). Returns false when malformed. */
static bool parse_request_line(struct line l, struct request_line *out)
{
    const char *end = l.at + l.len;
    const char *sp1 = memchr(l.at, ' ', l.len);
    if (!sp1)
        return false;
    const char *target = sp1 + 1;
    const char *sp2 = memchr(target, ' ', (size_t)(end - target));
    if (!sp2)
        return false;
    const char *version = sp2 + 1;
    size_t method_len = (size_t)(sp1 - l.at), target_len = (size_t)(sp2 - target);
    size_t version_len = (size_t)(end - version);
    if (!all_tchars(l.at, method_len) || target_len == 0)
        return false;
    for (size_t i = 0; i < target_len; i++)
        if ((unsigned char)target[i] <= ' ' || (unsigned char)target[i] >= 0x7f)
            return false;
    if (version_len != 8 || memcmp(version, "HTTP/", 5) != 0 || version[5] < '0' ||
        version[5] > '9' || version[6] != '.' || version[7] < '0' || version[7] > '9')
        return false;
    *out = (struct request_line){0};
    out->get = method_len == 3 && memcmp(l.at, "GET", 3) == 0;
    out->head = method_len == 4 && memcmp(l.at, "HEAD", 4) == 0;
    out->other_method = !out->get && !out->head;
    /* The path is what comes before a query; origin-form only. */
    const char *query = memchr(target, '?', target_len);
    size_t path_len = query ? (size_t)(query - target) : target_len;
    out->metrics_path = path_len == 8 && memcmp(target, "/metrics", 8) == 0;
    out->http10 = version[5] == '1' && version[7] == '0';
    out->http11 = version[5] == '1' && version[7] == '1';
    return true;
}

/* name ":" OWS value OWS (RFC 9112 5). Returns false when malformed; a
 * line that starts with whitespace is an obsolete fold, refused too. */
static bool parse_header(struct line l, bool *is_host)
{
    const char *colon = memchr(l.at, ':', l.len);
    if (!colon)
        return false;
    size_t name_len = (size_t)(colon - l.at);
    if (!all_tchars(l.at, name_len))
        return false;
    for (const char *p = colon + 1; p < l.at + l.len; p++)
        if (is_control((unsigned char)*p))
            return false;
    *is_host = name_len == 4 && strncasecmp(l.at, "host", 4) == 0;
    return true;
}

static int verdict(const struct request_line *rl, size_t hosts, size_t length,
                   struct http_request *out)
{
    if (!rl->http10 && !rl->http11)
        return 505;
    /* RFC 9112 3.2: HTTP/1.1 needs exactly one Host; none may send two. */
    if ((rl->http11 && hosts != 1) || hosts > 1)
        return 400;
    if (rl->other_method)
        return 405;
    if (!rl->metrics_path)
        return 404;
    out->head = rl->head;
    out->length = length;
    return 200;
}

static int parse(const char *data, size_t len, struct http_request *out)
{
    size_t pos = 0;
    struct line l;
    if (!next_line(data, len, &pos, &l)) {
        /* A control byte already rules the request line out. */
        for (size_t i = 0; i < len; i++)
            if (is_control((unsigned char)data[i]) && !(data[i] == '\r' && i + 1 == len))
                return 400;
        return len >= HTTP_REQUEST_MAX ? 414 : 0;
    }
    for (size_t i = 0; i < l.len; i++)
        if (is_control((unsigned char)l.at[i]) || l.at[i] == '\t')
            return 400;
    struct request_line rl;
    if (!parse_request_line(l, &rl))
        return 400;
    size_t hosts = 0;
    while (next_line(data, len, &pos, &l)) {
        if (l.len == 0)
            return verdict(&rl, hosts, pos, out);
        bool is_host = false;
        if (!parse_header(l, &is_host))
            return 400;
        hosts += is_host;
    }
    return len >= HTTP_REQUEST_MAX ? 431 : 0;
}

void http_request_parse(const char *data, size_t len, struct http_request *out)
{
    *out = (struct http_request){0};
    out->status = parse(data, len < HTTP_REQUEST_MAX ? len : HTTP_REQUEST_MAX, out);
}

const char *http_status_text(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 414:
        return "URI Too Long";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Error";
    }
}
