/* lb_haproxy.h — one HAProxy process in master-worker mode, supervised on the loop: start,
 * hitless reload (SIGUSR2 to the master; the new worker takes the listening sockets from the old
 * one through the stats socket's `expose-fd listeners`), and the Runtime API on that socket.
 *
 * A configuration change goes: write <config>.new, `haproxy -c` it (a child process, not on the
 * loop), rename it over <config>, signal the master, then ask the stats socket `show info` until a
 * worker with a new pid answers. Runtime API commands given meanwhile are held and sent to the new
 * worker once it answers (they are changes made after the configuration it loaded was written).
 * Commands go one batch per connection, in order, joined with ';' (HAProxy's non-interactive
 * mode), at most LB_HAPROXY_BATCH bytes per connection. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "common/strbuf.h"

#define LB_HAPROXY_BATCH 8000

struct lb_haproxy;

/* Asked for the configuration to load, when a (re)load can start: the materialized text (owned by
 * the callee, freed by lb_haproxy). */
typedef char *(*lb_haproxy_render_cb)(void *data);

struct lb_haproxy_config {
        uv_loop_t *loop;
        const char *bin;         /* haproxy executable */
        const char *config_path; /* where the configuration is written */
        const char *socket_path; /* the stats socket named in the configuration */
        lb_haproxy_render_cb render;
        void *data;
};

struct lb_haproxy_status {
        bool running;          /* a worker answers on the socket */
        int master_pid, worker_pid;
        unsigned reloads;      /* completed reloads (not counting the start) */
        unsigned failed;       /* reloads or checks that failed */
        uint64_t commands;     /* Runtime API commands sent */
        double last_reload_ms; /* signal to new worker answering, last reload */
        const char *last_error; /* or NULL */
};

struct lb_haproxy *lb_haproxy_new(const struct lb_haproxy_config *cfg);
/* Stops HAProxy (SIGTERM to the master) and frees h once its handles are closed. */
void lb_haproxy_free(struct lb_haproxy *h);
/* Asks for a (re)load with a fresh render: started now, or after the one in progress. Starts
 * HAProxy the first time. */
void lb_haproxy_reload(struct lb_haproxy *h);
/* Queues Runtime API commands (one per line). */
void lb_haproxy_commands(struct lb_haproxy *h, const char *cmds, size_t len);
void lb_haproxy_status(const struct lb_haproxy *h, struct lb_haproxy_status *ret);
