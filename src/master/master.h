/* master.h — the master daemon: API, replicated state, leader duties. */
#pragma once

/* Runs `strata master …` or `strata dev …` (argv[0] is "master" or "dev"). Returns the exit code. */
int master_main(int argc, char **argv);

#include <uv.h>

/* Lets `strata dev` run an agent on the master's loop without the master knowing agents
 * (the layer rule keeps master and agent apart; src/main.c composes them). */
struct master_hooks {
        /* Called once the master serves its API; < 0 stops the master. agent_http is the
         * `--agent-http` flag of `strata dev` (NULL for `strata master`); agent_token what the
         * in-process agent presents to this master (a per-process secret; NULL with --auth off). */
        int (*started)(uv_loop_t *loop, const char *api_url, const char *data_dir, const char *agent_http,
                       const char *agent_token, void *data);
        /* Called when the master begins shutting down. */
        void (*stopping)(void *data);
        void *data;
};
/* master_main with hooks. */
int master_run(int argc, char **argv, const struct master_hooks *hooks);
