/*
 * The subcommands of the sockserv binary. Each takes the arguments after
 * its name (argv[0] is the subcommand) and returns the process exit status:
 * 0 success, 1 a runtime failure, 2 a usage error. Only code under cli/
 * decides exit statuses or prints usage.
 */
#ifndef SOCKSERV_COMMANDS_H
#define SOCKSERV_COMMANDS_H

#define EXIT_RUNTIME 1
#define EXIT_USAGE 2

#define SOCKSERV_VERSION "0.1.0"

int command_serve(int argc, char **argv);
int command_client(int argc, char **argv);
int command_bench(int argc, char **argv);
int command_chat(int argc, char **argv);

#endif
