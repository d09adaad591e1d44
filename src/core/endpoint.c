/*
 * The endpoint parser, for listeners and client targets alike. It reads left to right, one
 * field at a time, and stops at the first problem so that the reason it gives
 * names the field the user got wrong. Listeners and client endpoints share
 * every field reader; the few rules that differ hang on enum endpoint_use.
 */
#include "core/endpoint.h"
#include "core/error.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define SPEC_FORM "SCHEME://HOST:PORT/SERVICE"
#define ENDPOINT_FORM "SCHEME://HOST:PORT[/SERVICE]"
/* RFC 1035's limit on a name in text form. */
#define DNS_NAME_MAX 253
#define PORT_MAX 65535
/* Schemes longer than this are not echoed back, and neither is binary junk. */
#define SCHEME_ECHO_MAX 16

#define HOST_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-."
#define SERVICE_CHARS "abcdefghijklmnopqrstuvwxyz0123456789_-"
#define SERVICE_HELP "(use a-z, 0-9, '_' and '-')"

static bool is_printable(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (!isprint((unsigned char)s[i]))
            return false;
    }
    return true;
}

static const char *form_of(enum endpoint_use use)
{
    return use == ENDPOINT_CONNECT ? ENDPOINT_FORM : SPEC_FORM;
}

/* Reads "tcp://" or "udp://" and moves *p past it. */
static int parse_transport(const char **p, enum endpoint_use use, enum transport *t, char *err,
                           size_t errlen)
{
    const char *sep = strstr(*p, "://");
    if (sep == NULL)
        return error_set(err, errlen, "missing '://' (expected %s)", form_of(use));
    size_t len = (size_t)(sep - *p);
    if (len == 3 && memcmp(*p, "tcp", 3) == 0) {
        *t = TRANSPORT_TCP;
    } else if (len == 3 && memcmp(*p, "udp", 3) == 0) {
        *t = TRANSPORT_UDP;
    } else if (len == 0) {
        return error_set(err, errlen, "missing transport before '://' (use tcp or udp)");
    } else if (len <= SCHEME_ECHO_MAX && is_printable(*p, len)) {
        return error_set(err, errlen, "unknown transport '%.*s' (use tcp or udp)", (int)len, *p);
    } else {
        return error_set(err, errlen, "unknown transport (use tcp or udp)");
    }
    *p = sep + 3;
    return 0;
}

/* An IPv6 literal, optionally with a zone ("fe80::1%eth0"), as getaddrinfo takes it. */
static bool is_ipv6_literal(const char *host)
{
    char address[ENDPOINT_HOST_MAX];
    size_t len = strcspn(host, "%");
    if (len >= sizeof address)
        return false;
    memcpy(address, host, len);
    address[len] = '\0';
    struct in6_addr unused;
    if (inet_pton(AF_INET6, address, &unused) != 1)
        return false;
    if (host[len] == '\0')
        return true;
    const char *zone = host + len + 1;
    return zone[0] != '\0' && strspn(zone, HOST_CHARS "_") == strlen(zone);
}

/* Reads "[IPV6]", then expects the ':' before the port. */
static int parse_bracketed_host(const char **p, struct endpoint *spec, char *err, size_t errlen)
{
    const char *start = *p + 1;
    size_t len = strcspn(start, "]/");
    if (start[len] != ']')
        return error_set(err, errlen, "unterminated '[' in host");
    if (len == 0)
        return error_set(err, errlen, "empty host");
    if (len >= sizeof spec->host)
        return error_set(err, errlen, "IPv6 address too long");
    memcpy(spec->host, start, len);
    spec->host[len] = '\0';
    if (!is_ipv6_literal(spec->host))
        return error_set(err, errlen, "invalid IPv6 address in '[...]'");
    const char *after = start + len + 1;
    if (*after != ':' && *after != '/' && *after != '\0')
        return error_set(err, errlen, "unexpected text after ']' (expected ':PORT')");
    *p = after;
    return 0;
}

/* Reads a host name, an IPv4 literal or "*", up to the ':' before the port. */
static int parse_host(const char **p, enum endpoint_use use, struct endpoint *spec, char *err,
                      size_t errlen)
{
    if (**p == '[')
        return parse_bracketed_host(p, spec, err, errlen);

    const char *start = *p;
    size_t authority = strcspn(start, "/");
    size_t colons = 0;
    for (size_t i = 0; i < authority; i++)
        colons += start[i] == ':';
    if (colons > 1)
        return error_set(err, errlen, "IPv6 addresses must be in brackets, as in [::1]:7007");

    size_t len = strcspn(start, ":/");
    if (len == 0 && use == ENDPOINT_CONNECT)
        return error_set(err, errlen, "empty host");
    if (len == 0)
        return error_set(err, errlen, "empty host (use * for every address)");
    if (len == 1 && start[0] == '*' && use == ENDPOINT_CONNECT)
        return error_set(err, errlen, "cannot connect to * (name a host, such as 127.0.0.1)");
    if (len == 1 && start[0] == '*') {
        spec->wildcard = true;
        spec->host[0] = '\0';
    } else {
        if (len > DNS_NAME_MAX)
            return error_set(err, errlen, "host name longer than %d characters", DNS_NAME_MAX);
        if (strspn(start, HOST_CHARS) < len)
            return error_set(err, errlen,
                             "invalid character in host (use letters, digits, '-' and '.')");
        memcpy(spec->host, start, len);
        spec->host[len] = '\0';
    }
    *p = start + len;
    return 0;
}

/* Reads ":PORT", leaving *p at the '/' that starts the service. */
static int parse_port(const char **p, uint16_t *port, char *err, size_t errlen)
{
    if (**p != ':')
        return error_set(err, errlen, "missing port (expected HOST:PORT)");
    const char *digits = *p + 1;
    size_t len = strspn(digits, "0123456789");
    if (len == 0 && (digits[0] == '/' || digits[0] == '\0'))
        return error_set(err, errlen, "missing port number after ':'");
    if (len == 0 || (digits[len] != '/' && digits[len] != '\0'))
        return error_set(err, errlen, "port is not a number");
    unsigned long value = 0;
    for (size_t i = 0; i < len; i++) {
        /* Stop at the first digit past the range, so long inputs cannot overflow. */
        value = value * 10 + (unsigned long)(digits[i] - '0');
        if (value > PORT_MAX)
            return error_set(err, errlen, "port out of range (0-%d)", PORT_MAX);
    }
    *port = (uint16_t)value;
    *p = digits + len;
    return 0;
}

/* Reads "/SERVICE", which must end the text. */
static int parse_service(const char *p, char *service, char *err, size_t errlen)
{
    if (*p != '/')
        return error_set(err, errlen, "missing '/SERVICE' after the port");
    p++;
    size_t len = strspn(p, SERVICE_CHARS);
    if (len == 0 && p[0] == '\0')
        return error_set(err, errlen, "missing service name after '/'");
    if (p[len] != '\0') {
        /* Separators and spaces read as junk after a finished name; other
         * characters, such as capitals, as a name spelt wrong. */
        if (len > 0 && strchr("/?#;, \t\r\n", p[len]) != NULL)
            return error_set(err, errlen, "unexpected text after the service name");
        return error_set(err, errlen, "invalid character in service name " SERVICE_HELP);
    }
    if (len >= ENDPOINT_SERVICE_MAX)
        return error_set(err, errlen, "service name longer than %d characters",
                         ENDPOINT_SERVICE_MAX - 1);
    memcpy(service, p, len);
    service[len] = '\0';
    return 0;
}

/* Splits a listener's "/SERVICE?QUERY" at the '?', keeping the query, so
 * the service is read as if it ended the text. */
static int parse_service_and_query(const char *p, struct endpoint *spec, char *err, size_t errlen)
{
    const char *mark = strchr(p, '?');
    if (mark == NULL)
        return parse_service(p, spec->service, err, errlen);
    const char *query = mark + 1;
    size_t len = strlen(query);
    if (len == 0)
        return error_set(err, errlen, "empty settings after '?' (expected KEY=VALUE)");
    if (len >= sizeof spec->query)
        return error_set(err, errlen, "settings after '?' longer than %d characters",
                         ENDPOINT_QUERY_MAX - 1);
    for (size_t i = 0; i < len; i++)
        if (!isgraph((unsigned char)query[i]))
            return error_set(err, errlen, "space or control character in the settings after '?'");
    char service[ENDPOINT_SERVICE_MAX + 2];
    size_t service_len = (size_t)(mark - p);
    if (service_len >= sizeof service)
        return error_set(err, errlen, "service name longer than %d characters",
                         ENDPOINT_SERVICE_MAX - 1);
    memcpy(service, p, service_len);
    service[service_len] = '\0';
    if (parse_service(service, spec->service, err, errlen) != 0)
        return -1;
    memcpy(spec->query, query, len + 1);
    return 0;
}

int endpoint_parse(const char *text, enum endpoint_use use, struct endpoint *out, char *err,
                   size_t errlen)
{
    if (text == NULL || text[0] == '\0')
        return error_set(err, errlen, "empty %s (expected %s)",
                         use == ENDPOINT_CONNECT ? "URL" : "listener", form_of(use));

    /* Fill a copy, so that *out is untouched when the text is rejected. */
    struct endpoint spec;
    memset(&spec, 0, sizeof spec);
    const char *p = text;
    if (parse_transport(&p, use, &spec.transport, err, errlen) != 0 ||
        parse_host(&p, use, &spec, err, errlen) != 0 ||
        parse_port(&p, &spec.port, err, errlen) != 0)
        return -1;
    /* Port 0 asks a listener's kernel for any port; nothing answers on it. */
    if (use == ENDPOINT_CONNECT && spec.port == 0)
        return error_set(err, errlen, "cannot connect to port 0 (use 1-%d)", PORT_MAX);
    /* A client may leave the service to be inferred; "/" alone is still a mistake. */
    bool service_given = use == ENDPOINT_LISTEN || *p != '\0';
    if (use == ENDPOINT_LISTEN && parse_service_and_query(p, &spec, err, errlen) != 0)
        return -1;
    if (use == ENDPOINT_CONNECT && service_given &&
        parse_service(p, spec.service, err, errlen) != 0)
        return -1;
    *out = spec;
    return 0;
}

const char *transport_name(enum transport t)
{
    switch (t) {
    case TRANSPORT_TCP:
        return "tcp";
    case TRANSPORT_UDP:
        return "udp";
    }
    return "?";
}
