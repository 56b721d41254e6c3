/* cli.h — the command-line client: `strata <noun> <verb>` talking HTTP to a master. */
#pragma once

/* Runs the CLI with the process arguments (argv[0] is the program). Returns the exit code. */
int cli_main(int argc, char **argv);
