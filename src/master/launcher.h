/* launcher.h — the leader's control loop that makes running instances match the apps: places
 * missing instances (through the scheduler), kills surplus and outdated ones, replaces failed
 * and unreachable ones with Marathon's launch backoff, and keeps the launch queue that
 * GET /v2/queue shows.
 *
 * It reacts to state changes (the store's observer marks apps dirty) and runs one pass over
 * the dirty apps per loop turn; nothing rescans the whole cluster on the hot path. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "common/hashmap.h"
#include "master/due_heap.h"

struct master;
struct instance;

struct launcher {
        struct master *m;
        struct hashmap queues;  /* app id → struct app_queue */
        struct hashmap dirty;   /* app id → app id copy: apps that need a pass */
        struct hashmap deploy_pending; /* deployment id → struct pending: the step whose end was submitted (deployer.c) */
        json_t *deploy_announce;       /* deployment ids whose deployment_info is due (deployer.c) */
        uv_timer_t deploy_timer;       /* zero-delay: announces new plans after their Raft entry */
        uv_timer_t pass;        /* zero-delay: one pass over dirty apps per loop turn */
        uv_timer_t backoff;     /* next backoff expiry */
        struct hashmap waiting; /* app id → struct app_queue: apps with instances wanted, not placed */
        struct due_heap backoffs; /* apps waiting on their launch backoff, by next launch time */
        struct placement *placement; /* placement.c's scheduler view; leader only, NULL until used */
        struct deploy_watch *deploy_watch; /* deploy_watch.c: failures of new versions; NULL until used */
        bool leading;
};

void launcher_init(struct launcher *l, struct master *m);
void launcher_release(struct launcher *l);
void launcher_leadership(struct launcher *l, bool leading);

/* Observer hooks (wired to the store's state observer). */
void launcher_app_changed(struct launcher *l, const char *app_id);
void launcher_agent_changed(struct launcher *l, const char *agent_id);
void launcher_instance_changed(struct launcher *l, const struct instance *i, int old_state);
void launcher_instance_removed(struct launcher *l, const char *instance_id, const char *app_id);
void launcher_state_restored(struct launcher *l);

/* GET /v2/queue's entries ({"queue":[…]}), new reference. */
json_t *launcher_queue_json(struct launcher *l);
/* DELETE /v2/queue/{id}/delay: forgets the app's backoff. Returns false if it is not queued. */
bool launcher_reset_delay(struct launcher *l, const char *app_id);
/* Kills specific instances (DELETE /v2/apps/{id}/tasks…): their goal becomes stopped (or
 * decommissioned when wipe) and the agents are told. scale=true also lowers the app's instance
 * count (the caller submits that change). */
void launcher_kill(struct launcher *l, json_t *instance_ids, bool wipe);
/* Counts one failure of the app for its launch backoff (a task killed for failing its health
 * checks: its goal is stopped, so its end does not count by itself). */
void launcher_count_failure(struct launcher *l, const char *app_id);
