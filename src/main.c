/* main.c — the one binary: daemons (master, dev, agent), the task supervisor, the CLI nouns. */
#include <string.h>

#include "agent/agent.h"
#include "agent/shim.h"
#include "cli/cli.h"
#include "common/macro.h"
#include "master/master.h"

/* argv[1] → entry point (called with argv shifted by one); everything else is the CLI. */
static const struct {
        const char *name;
        int (*main)(int argc, char **argv);
} daemons[] = {
        { "master", master_main },
        { "dev", master_main },
        { "agent", agent_main },
        { SHIM_ARG, shim_main },
};

int main(int argc, char **argv) {
        for (size_t i = 0; argc >= 2 && i < ELEMENTSOF(daemons); i++)
                if (strcmp(argv[1], daemons[i].name) == 0)
                        return daemons[i].main(argc - 1, argv + 1);
        return cli_main(argc, argv);
}
