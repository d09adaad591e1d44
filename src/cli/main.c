/* sockserv: dispatches to a subcommand. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"

static void print_usage(FILE *out)
{
    fputs("usage: sockserv COMMAND [OPTIONS] [ARGS]\n"
          "\n"
          "commands:\n"
          "  serve    serve the classic services under a chosen concurrency model\n"
          "  client   send a message to a TCP or UDP service and print the reply\n"
          "  bench    drive load at a server and report throughput and latency\n"
          "  chat     join a sockserv chat interactively (or scripted from stdin)\n"
          "\n"
          "Run 'sockserv COMMAND --help' for a command's options.\n"
          "  -h, --help     show this help\n"
          "  -V, --version  show the version\n",
          out);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_usage(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0) {
        print_usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "-V") == 0 || strcmp(cmd, "--version") == 0) {
        printf("sockserv %s\n", SOCKSERV_VERSION);
        return 0;
    }
    if (strcmp(cmd, "serve") == 0)
        return command_serve(argc - 1, argv + 1);
    if (strcmp(cmd, "client") == 0)
        return command_client(argc - 1, argv + 1);
    if (strcmp(cmd, "bench") == 0)
        return command_bench(argc - 1, argv + 1);
    if (strcmp(cmd, "chat") == 0)
        return command_chat(argc - 1, argv + 1);
    fprintf(stderr, "sockserv: unknown command '%s' (see sockserv --help)\n", cmd);
    return EXIT_USAGE;
}
