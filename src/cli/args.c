#include "cli/args.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "core/duration.h"

int cli_vusage_error(const char *command, const char *fmt, va_list ap)
{
    fprintf(stderr, "sockserv %s: ", command);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (see sockserv %s --help)\n", command);
    return EXIT_USAGE;
}

int cli_usage_error(const char *command, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cli_vusage_error(command, fmt, ap);
    va_end(ap);
    return EXIT_USAGE;
}

int cli_option_error(const char *command, int getopt_result, char **argv)
{
    /* getopt_long has moved optind past the offending argument. */
    extern int optind;
    const char *arg = argv[optind - 1];
    if (getopt_result == ':')
        return cli_usage_error(command, "option '%s' needs a value", arg);
    return cli_usage_error(command, "unknown option '%s'", arg);
}

int cli_parse_number(const char *text, unsigned long long min, unsigned long long max,
                     unsigned long long *out)
{
    if (text[0] < '0' || text[0] > '9')
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int cli_parse_duration(const char *command, const char *option, const char *text, int64_t *out_ms)
{
    char why[128];
    if (duration_parse(text, out_ms, why, sizeof(why)) == 0)
        return 0;
    cli_usage_error(command, "bad %s '%s': %s", option, text, why);
    return -1;
}

int cli_parse_timeout(const char *command, const char *option, const char *text, int64_t *out_ms)
{
    if (cli_parse_duration(command, option, text, out_ms) != 0)
        return -1;
    if (*out_ms == 0) {
        cli_usage_error(command, "bad %s '%s': must be more than 0", option, text);
        return -1;
    }
    return 0;
}

int cli_ignore_sigpipe(const char *command)
{
    struct sigaction ignore = {.sa_handler = SIG_IGN};
    sigemptyset(&ignore.sa_mask);
    if (sigaction(SIGPIPE, &ignore, NULL) == 0)
        return 0;
    fprintf(stderr, "sockserv %s: cannot ignore SIGPIPE: %s\n", command, strerror(errno));
    return EXIT_RUNTIME;
}
