/* agent.h — the agent daemon: subscribes to the leading master (docs/AGENT_PROTOCOL.md),
 * launches and kills tasks through a runtime, reports their status at least once, serves
 * sandbox files. One owner object, one loop. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "agent/agent_proto.h"
#include "agent/health.h"
#include "agent/image_store.h"
#include "agent/runtime.h"
#include "agent/agent_metrics.h"
#include "agent/task_history.h"
#include "common/hashmap.h"
#include "net/auth_client.h"
#include "net/http_client.h"
#include "net/http_server.h"
#include "net/recordio.h"

struct agent_config {
        char **masters;       /* master base URLs ("http://h:p"), NULL-terminated */
        size_t n_masters;
        char *data_dir;       /* agent id, checkpoints, sandboxes */
        char *http_addr;      /* listen "0.0.0.0:5051" */
        char *advertise;      /* host masters and clients reach this agent at */
        char *hostname;       /* reported host name */
        json_t *resources;    /* {"cpus","mem","disk","gpus","ports":[[b,e]…]} */
        json_t *attributes;   /* {"k":"v"} */
        char *cgroup_parent;  /* NULL: "strata" */
        bool fake_runtime;    /* tests only: no processes */
        char *registry_config; /* Docker config.json with registry credentials, absolute, or NULL */
        char **insecure_registries; /* host[:port] spoken to over HTTP, NULL-terminated (may be NULL) */
        char *oci_runtime;    /* "runc" (default) or "crun": runs container tasks */
        char *cni_bridge;     /* container/bridge: the bridge (NULL: strata0) */
        char *cni_subnet;     /* container/bridge: the agent's subnet (NULL: 172.31.0.0/16) */
        int64_t container_pids_max; /* default pids limit of containers (0: 4096) */
        struct task_history_policy history; /* finished sandboxes kept (task_history.h) */
        char *token, *service_account, *private_key; /* credentials for the masters (net/auth_client.h) */
        char *dns_addr;       /* --dns ADDR:PORT or "off"; NULL: AGENT_DNS_DEFAULT (dns_agent.h) */
        char **dns_upstreams; /* --dns-upstream IP[:PORT],…; NULL: /etc/resolv.conf */
        char *vip;            /* --vip on|off; NULL: on when nftables can be programmed (vip_agent.h) */
};

struct agent {
        uv_loop_t *loop;
        struct agent_config cfg;
        char *address;        /* "advertise:port" of our HTTP API */
        char *agent_id;       /* from the master, persisted; NULL before the first subscribe */
        uint64_t max_term;    /* highest leader term seen, persisted */
        struct runtime *rt;
        struct image_store *images; /* the OCI runtime's (borrowed; NULL with the fake runtime and
                                     * once stopping) */
        struct health *health; /* health and readiness checks of the tasks */
        struct task_history *history; /* finished tasks' sandboxes and ends (task_history.c) */
        struct agent_metrics *metrics; /* GET /metrics (agent_metrics.c); families can be added */
        struct http_client *client;
        struct http_server *http;
        struct auth_client auth; /* what the agent presents to the masters */
        struct agent_auth_cache *auth_cache; /* who may call our API (agent_auth.c) */

        /* subscription */
        size_t master_idx;
        char *leader_url;     /* from a 503's X-Marathon-Leader; tried first */
        struct transfer *sub; /* the event stream in flight */
        struct recordio rio;
        struct agent_event ev; /* decode buffer, reused */
        bool subscribed;
        unsigned backoff_ms;
        unsigned heartbeat_s;
        int64_t last_event_ms;
        uv_timer_t reconnect_timer;
        uv_timer_t heartbeat_timer;

        /* status updates: checkpointed, sent in batches, resent until acknowledged */
        json_t *pending;      /* array of update objects in order */
        bool sending;
        uv_timer_t flush_timer;
        uint64_t update_seq;
        bool stopping;
        uv_signal_t sigint, sigterm;

        /* named networks (agent_net.c) */
        json_t *net_pending;  /* the latest NETWORKS event not yet programmed */
        bool net_working;     /* a programming work is in flight */

        struct dns_server *dns; /* DNS from the discovery view (dns_agent.c); NULL: none */
        struct agent_vip *vip;  /* VIPs in nftables (vip_agent.c); NULL: none */
};

int agent_main(int argc, char **argv);
/* Parses `strata agent` flags into c (returns -1 to go on, else an exit code). */
int agent_config_from_args(struct agent_config *c, int argc, char **argv);
/* Starts an agent whose cfg is filled in, on loop (shared with a master in `strata dev`). */
int agent_start(struct agent *a, uv_loop_t *loop, struct err *err);
/* Closes the agent's handles (tasks keep running); the loop ends once everything is closed. */
void agent_stop(struct agent *a);
/* Frees what agent_start allocated, after the loop ended. */
void agent_release(struct agent *a);

/* agent_updates.c */
void agent_updates_init(struct agent *a);
/* Loads checkpointed, unacknowledged updates from DATA/updates (after an agent restart). */
void agent_updates_load(struct agent *a);
/* Records a status (checkpoint first) and schedules sending. */
void agent_updates_push(struct agent *a, const char *task_id, enum task_state state, const char *message,
                        const char *reason, int exit_code);
/* The same with health: healthy (-1 unknown, 0, 1), ready (readiness passed), the per-check
 * results (n of them; NULL leaves the master's as they are) and the task's container IP (NULL:
 * none) carried as "ipAddress". */
void agent_updates_push_health(struct agent *a, const char *task_id, enum task_state state, const char *message,
                               const char *reason, int exit_code, int healthy, bool ready,
                               const struct health_result *checks, size_t n, const char *ip_address);
/* Sends what is pending now (also the heartbeat when nothing is). */
void agent_updates_flush(struct agent *a);

/* agent_net.c: a NETWORKS event (named cluster networks): subnets to the runtime, routes to
 * the other agents' subnets and the isolation rules programmed (thread pool). */
void agent_net_update(struct agent *a, const json_t *ev);

/* agent_link.c */
void agent_subscribe(struct agent *a);
void agent_resubscribe_later(struct agent *a);

/* agent_exec.c: POST /v1/tasks/{id}/exec (format in the file) */
void agent_exec_handle(struct agent *a, struct http_request *req, const char *task_id);

/* agent_api.c */
void agent_api_dispatch(struct http_request *req, void *data);
/* The API's route table with each route's permission: [{"method","pattern","match","permission"}]. */
json_t *agent_api_routes_json(void);
