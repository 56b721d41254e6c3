/* cli.h — the command-line client: `strata <noun> <verb>` talking HTTP to a master. */
#pragma once

/* The version `strata --version` prints and the CLI's User-Agent carries. */
#define CLI_VERSION "0.1.0"

/* Runs the CLI with the process arguments (argv[0] is the program). Prints results on standard
 * output and one line "strata: <reason>" on standard error when it fails. Returns the exit code:
 * 0 success, 1 an error from the master or the network, 2 a usage error. */
int cli_main(int argc, char **argv);
