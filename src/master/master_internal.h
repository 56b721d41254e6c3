/* master_internal.h — the master daemon's owner object and the API plumbing its files share. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <uv.h>

#include "common/err.h"
#include "master/master.h"
#include "master/auth.h"
#include "master/app_text_cache.h"
#include "master/events.h"
#include "master/master_core.h"
#include "net/http_client.h"
#include "master/cluster_net.h"
#include "master/discovery.h"
#include "master/discovery.h"
#include "net/http_server.h"
#include "store/store.h"

/* Largest request body the API accepts (413 beyond). */
#define MASTER_MAX_BODY (1024 * 1024)

struct master_config {
        char *data_dir;
        char *http_addr;      /* bind address, "0.0.0.0:8080" */
        char *raft_addr;      /* bind/advertised raft address "host:port" */
        char *advertise;      /* host other masters and clients reach us at */
        char **masters;       /* initial voters (raft addresses); NULL-terminated, may be empty */
        size_t n_masters;
        unsigned agent_timeout_s; /* 0 = default */
        char *agent_http;         /* dev: the built-in agent's API address */
        unsigned snapshot_threshold; /* 0 = the store's default */
        unsigned event_max_outstanding; /* per /v2/events subscriber; 0 = the bus's default */
        struct cluster_net networks[CLUSTER_NET_MAX]; /* --network NAME=CIDR */
        size_t n_networks;
        char *vip_cidr; /* --vip-cidr (master/vip.h); NULL: VIP_DEFAULT_CIDR */
        bool dev;
        struct auth_config auth; /* --auth, --bootstrap-admin-key, --token-ttl, --metrics-auth */
};

struct master {
        uv_loop_t *loop;
        struct master_config cfg;
        char *http_advertised; /* "host:port" of our API as others reach it */
        struct store *store;
        struct http_server *http;
        struct http_client *client;
        uv_signal_t sigint, sigterm;
        struct clock *clock;      /* libuv's (clock_uv_new) */
        struct master_core core;  /* the leader's control loop: agent link, launcher, … */
        struct state_observer core_obs; /* the core's observer, chained before the discovery view's */
        struct discovery discovery; /* the view streamed to agents' DNS (discovery.c) */
        struct events *events;  /* Marathon event bus (events.c) */
        struct app_text_cache *app_texts; /* GET /v2/apps: encoded app documents (made on first list) */
        uv_timer_t registry_timer; /* retries announcing this master to the leader */
        bool registering;
        bool stopping;
        const struct master_hooks *hooks;
        struct master_auth *auth; /* auth.c */
        struct job_scheduler *jobs; /* Metronome jobs on the leader (job_scheduler.c) */
};

/* One API call in flight: the request plus what the router parsed out of its path. */
struct api_call {
        struct master *m;
        struct http_request *req;
        const char *path;  /* with any /marathon or /service/marathon prefix removed */
        char *id;          /* resource id parsed from the path (owned), e.g. "/prod/web" */
        char *sub;         /* trailing segment after the id: "versions/<ts>" … (owned), or NULL */
        json_t *body;      /* parsed JSON body when the route wants one (owned) */
        struct auth_who *who; /* the authenticated caller (owned), NULL without a token */
        bool audit;           /* a write that passed the permission check: audited when answered */
};

/* Route handler: must end in exactly one api_reply*. */
typedef void (*api_handler_fn)(struct api_call *call);

/* Entry point for every HTTP request (http_handler_cb). */
void api_dispatch(struct http_request *req, void *data);

/* Frees the call without answering: the request was handed to a stream owner. */
void api_call_release(struct api_call *call);

/* Responses. Each frees the call. */
void api_reply_json(struct api_call *call, int status, json_t *body);          /* steals body */
void api_reply_text(struct api_call *call, int status, const char *ct, const char *text);
/* Marathon error body {"message":…} (+ "details" when err has them), status from err. */
void api_reply_err(struct api_call *call, struct err *err);
void api_reply_error(struct api_call *call, int status, const char *fmt, ...) _printf_(3, 4);

/* Query helpers. */
bool api_arg_bool(struct api_call *call, const char *name, bool dflt);

/* Handlers, one file per resource. */
void api_apps_list(struct api_call *call);
void api_apps_create(struct api_call *call);
void api_apps_bulk_update(struct api_call *call);
void api_app_get(struct api_call *call);
void api_app_put(struct api_call *call);
void api_app_patch(struct api_call *call);
void api_app_delete(struct api_call *call);
void api_app_versions(struct api_call *call);
void api_app_version(struct api_call *call);
void api_app_tasks(struct api_call *call);
void api_deployments_list(struct api_call *call);
void api_deployment_delete(struct api_call *call);
void api_app_restart(struct api_call *call);
/* api_groups.c */
void api_groups_get(struct api_call *call);
void api_group_apps(struct api_call *call);
void api_group_versions(struct api_call *call);
void api_groups_create(struct api_call *call);
void api_groups_put(struct api_call *call);
void api_groups_delete(struct api_call *call);
void api_groups_patch(struct api_call *call);
/* api_apps.c, for the groups API: the app embeds the request names ("group.apps.tasks"…), and
 * AppInfo with exactly those (counts and deployments only when embedded; 0: the plain
 * definition). New reference. */
unsigned api_apps_embed(struct api_call *call);
json_t *api_app_info_embedded(const struct state *st, const json_t *app, unsigned embed);
void api_tasks_list(struct api_call *call);
void api_tasks_delete(struct api_call *call);
void api_app_tasks_kill(struct api_call *call);
void api_queue_list(struct api_call *call);
void api_queue_delay_reset(struct api_call *call);
void api_nodes_list(struct api_call *call);
void api_node_get(struct api_call *call);
void api_mesos_slaves(struct api_call *call);
void api_mesos_state(struct api_call *call);
void api_info(struct api_call *call);
void api_leader(struct api_call *call);
void api_leader_abdicate(struct api_call *call);
void api_plugins_list(struct api_call *call);
void api_plugin_request(struct api_call *call);
void api_ping(struct api_call *call);
void api_cluster(struct api_call *call);
void api_metrics(struct api_call *call);
void api_cluster_register(struct api_call *call);
void api_events(struct api_call *call);
/* api_auth.c: identities and grants */
void api_auth_login(struct api_call *call);
void api_auth_logout(struct api_call *call);
void api_auth_whoami(struct api_call *call);
void api_auth_revoke(struct api_call *call);
void api_auth_routes(struct api_call *call);
void api_audit(struct api_call *call); /* audit.c */
void api_acs_users_list(struct api_call *call);
void api_acs_user_get(struct api_call *call);
void api_acs_user_put(struct api_call *call);
void api_acs_user_delete(struct api_call *call);
void api_acs_groups_list(struct api_call *call);
void api_acs_group_put(struct api_call *call);
void api_acs_group_delete(struct api_call *call);
void api_acs_acl_put(struct api_call *call);
void api_acs_acl_delete(struct api_call *call);
/* The route table as JSON: [{"method", "pattern", "match", "suffix"?, "permission"}] (api.c). */
json_t *api_routes_json(void);
/* api_agents.c: the agent protocol's HTTP side (POST /internal/v1/agents/subscribe,
 * POST /internal/v1/agents/{id}/updates) over master/agent_link.h. */
void api_agents_subscribe(struct api_call *call);
void api_agents_updates(struct api_call *call);
/* api_jobs.c (Metronome v1; "/v1/jobs/" + "<job>[/runs|schedules|ticks[/…]]" routed inside). */
void api_jobs_list(struct api_call *call);
void api_jobs_create(struct api_call *call);
void api_jobs_get_sub(struct api_call *call);
void api_jobs_post_sub(struct api_call *call);
void api_jobs_put_sub(struct api_call *call);
void api_jobs_delete_sub(struct api_call *call);
/* api_jobs_chronos.c (Chronos /v1/scheduler/…). */
void api_chronos_jobs(struct api_call *call);
void api_chronos_iso8601(struct api_call *call);
void api_chronos_dependency(struct api_call *call);
void api_chronos_job_run(struct api_call *call);
void api_chronos_job_delete(struct api_call *call);

/* Makes sure this master's HTTP address is in the replicated masters registry (registry.c). */
void registry_check(struct master *m);

/* Forwards the call unchanged to the leader's API and relays the answer (forward.c). */
void forward_to_leader(struct api_call *call);
/* Answers 307 with Location: the same path and query on the leader; 503 without a leader. */
void redirect_to_leader(struct api_call *call);
