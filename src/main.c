/* main.c — the one binary: daemons (master, dev, agent) and the CLI nouns. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "master/master.h"

int main(int argc, char **argv) {
        if (argc >= 2 && (strcmp(argv[1], "master") == 0 || strcmp(argv[1], "dev") == 0))
                return master_main(argc - 1, argv + 1);
        return cli_main(argc, argv);
}
