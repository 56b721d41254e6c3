/* main.c — the one binary: daemons (master, dev, agent), the task supervisor, the CLI nouns. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/dns_agent.h"
#include "agent/image_cmd.h"
#include "agent/shim.h"
#include "agent/sim.h"
#include "cli/cli.h"
#include "common/alloc.h"
#include "common/log.h"
#include "common/macro.h"
#include "common/util.h"
#include "agent/agent_flags.h"
#include "common/config_file.h"
#include "lb/lb.h"
#include "master/master.h"

/* `strata dev`: a master (cluster of one) and an agent on one loop, data under one directory. */
static struct agent dev_agent;
static bool dev_agent_started;
static char **dev_dns_flags; /* --dns/--dns-upstream given to `strata dev` (dns_agent.h) */
static char **dev_agent_flags; /* --cgroup-parent, --resources… given to `strata dev` (agent_flags.h) */
static char **dev_lb_args; /* `strata dev --lb`: a balancer on the same loop */
static struct lb *dev_lb;

static int dev_started(uv_loop_t *loop, const char *api_url, const char *data_dir, const char *agent_http,
                       const char *agent_token, void *data) {
        _cleanup_free_ char *agent_dir = xasprintf("%s/agent", data_dir);
        char *argv[48] = { "agent", "--master", (char *)api_url, "--data-dir", agent_dir, "--http", (char *)agent_http,
                           "--dns", AGENT_DNS_DEV_DEFAULT };
        int argc = 9;
        if (agent_token) {
                argv[argc++] = "--token";
                argv[argc++] = (char *)agent_token;
        }
        for (size_t i = 0; dev_dns_flags && dev_dns_flags[i] && argc < 17; i++)
                argv[argc++] = dev_dns_flags[i];
        for (size_t i = 0; dev_agent_flags && dev_agent_flags[i] && argc < 47; i++)
                argv[argc++] = dev_agent_flags[i];
        int r = agent_config_from_args(&dev_agent.cfg, argc, argv);
        if (r >= 0)
                return -1;
        struct err e = { 0 };
        if (agent_start(&dev_agent, loop, &e) < 0) {
                log_error("cannot start the built-in agent: %s", err_msg(&e));
                err_release(&e);
                return -1;
        }
        dev_agent_started = true;
        int n_lb = 0;
        while (dev_lb_args && dev_lb_args[n_lb])
                n_lb++;
        /* The built-in balancer presents the same in-process secret as the built-in agent. */
        _cleanup_free_ char **lb_argv = xcalloc((size_t)n_lb + 3, sizeof(char *));
        for (int i = 0; i < n_lb; i++)
                lb_argv[i] = dev_lb_args[i];
        if (agent_token) {
                lb_argv[n_lb++] = "--token";
                lb_argv[n_lb++] = (char *)agent_token;
        }
        if (dev_lb_args && lb_start(loop, n_lb, lb_argv, api_url, data_dir, &dev_lb, &e) < 0) {
                log_error("cannot start the built-in balancer: %s", err_msg(&e));
                err_release(&e);
                return -1;
        }
        return 0;
}

static void dev_stopping(void *data) {
        lb_stop(dev_lb);
        if (dev_agent_started)
                agent_stop(&dev_agent);
}

static int dev_main(int argc, char **argv) {
        static const struct master_hooks hooks = { dev_started, dev_stopping, NULL };
        dev_dns_flags = agent_dns_take_flags(&argc, argv);
        static const char *const agent_names[] = { AGENT_DEV_FLAGS };
        dev_agent_flags = agent_take_flags(&argc, argv, agent_names, ELEMENTSOF(agent_names));
        dev_lb_args = lb_dev_args(&argc, argv);
        int r = master_run(argc, argv, &hooks);
        lb_dev_args_free(dev_lb_args);
        strv_free(dev_dns_flags);
        free(dev_agent_flags); /* the strings are argv's */
        if (dev_agent.address)
                agent_release(&dev_agent);
        return r;
}

/* `strata lb status|config` is the CLI noun; `strata lb --master …` the daemon. */
static int lb_cmd_main(int argc, char **argv) {
        if (argc >= 2 && argv[1][0] != '-')
                return cli_main(argc + 1, argv - 1);
        return lb_main(argc, argv);
}

/* argv[1] → entry point (called with argv shifted by one); everything else is the CLI. */
static const struct {
        const char *name;
        int (*main)(int argc, char **argv);
        bool config; /* takes --config FILE and STRATA_<NAME>_* (common/config_file.h) */
} daemons[] = {
        { "master", master_main, true },
        { "dev", dev_main, true },
        { "agent", agent_main, true },
        { "agent-sim", sim_main, false },
        { SHIM_ARG, shim_main, false },
        { "image", image_main, false },
        { "lb", lb_cmd_main, false },
};

int main(int argc, char **argv) {
        for (size_t i = 0; argc >= 2 && i < ELEMENTSOF(daemons); i++) {
                if (strcmp(argv[1], daemons[i].name) != 0)
                        continue;
                if (!daemons[i].config)
                        return daemons[i].main(argc - 1, argv + 1);
                char **full = NULL;
                int n = 0;
                struct err e = { 0 };
                if (config_file_argv(daemons[i].name, NULL, argc - 1, argv + 1, &n, &full, &e) < 0) {
                        fprintf(stderr, "strata: %s\n", err_msg(&e));
                        err_release(&e);
                        return 2;
                }
                int r = daemons[i].main(n, full);
                config_argv_free(full);
                return r;
        }
        return cli_main(argc, argv);
}
