/* master_main.c — placeholder until the master lands. */
#include "master/master.h"

int master_main(int argc, char **argv) {
        (void)argc;
        (void)argv;
        return 1;
}
