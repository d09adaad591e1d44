/* Placeholder until sockserv chat lands; replaced whole by its implementation. */
#include <stdio.h>

#include "cli/commands.h"

int command_chat(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fputs("sockserv chat: not built yet\n", stderr);
    return EXIT_RUNTIME;
}
