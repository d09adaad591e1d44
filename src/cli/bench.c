/* Placeholder until sockserv bench lands; replaced whole by its implementation. */
#include <stdio.h>

#include "cli/commands.h"

int command_bench(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fputs("sockserv bench: not built yet\n", stderr);
    return EXIT_RUNTIME;
}
