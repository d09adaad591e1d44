/* Placeholder until sockserv client lands; replaced whole by its implementation. */
#include <stdio.h>

#include "cli/commands.h"

int command_client(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fputs("sockserv client: not built yet\n", stderr);
    return EXIT_RUNTIME;
}
