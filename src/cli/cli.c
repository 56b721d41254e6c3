/* cli.c — placeholder until the CLI lands. */
#include "cli/cli.h"

#include <stdio.h>

int cli_main(int argc, char **argv) {
        (void)argc;
        fprintf(stderr, "strata: usage: strata master|dev|<noun> <verb>\n");
        return 2;
}
