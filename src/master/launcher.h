/* launcher.h — the leader's control loop that makes running instances match the apps: places
 * missing instances (through the placement), kills surplus and outdated ones, replaces failed
 * and unreachable ones with Marathon's launch backoff, and keeps the launch queue that
 * GET /v2/queue shows.
 *
 * It reacts to state changes (the store's observer marks apps dirty) and runs one pass over
 * the dirty apps per loop turn; nothing rescans the whole cluster on the hot path.
 *
 * What it uses, all borrowed (struct launcher_deps): the log (state, submissions), the clock
 * (the pass and backoff timers, now), the agents' command channel (LAUNCH, KILL), the placement
 * (where new instances go, victim selection's view) and the deployer (which apps a deployment
 * holds back, when a step is done). Nothing calls back into it but through these headers'
 * callbacks, wired in master_core.c. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/hashmap.h"
#include "master/clock.h"
#include "master/core_ports.h"
#include "master/deployer.h"
#include "master/due_heap.h"
#include "master/placement.h"

struct instance;

struct launcher_deps {
        const struct core_log *log;
        struct clock *clock;
        const struct agent_tx *agents;
        struct placement *placement;
        struct deployer *deployer;
};

struct launcher {
        struct launcher_deps d;
        struct hashmap queues;  /* app id → struct app_queue */
        struct hashmap dirty;   /* app id → app id copy: apps that need a pass */
        struct hashmap killing; /* instance id → id copy: a goal submitted for it, not applied yet */
        struct clock_timer *pass;    /* zero-delay: one pass over dirty apps per loop turn */
        struct clock_timer *backoff; /* next backoff expiry or settle time */
        struct hashmap waiting; /* app id → struct app_queue: apps with instances wanted, not placed */
        struct due_heap backoffs; /* apps waiting on their launch backoff, by next launch time */
        struct due_heap settles;  /* apps whose held-back new instance counts from then on
                                   * (launch_plan.settle_at_ms), by that time */
        bool leading;
};

void launcher_init(struct launcher *l, const struct launcher_deps *deps);
void launcher_release(struct launcher *l);
/* Becoming leader marks every app (and every orphaned instance's app) dirty. */
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
/* Kills specific instances (DELETE /v2/apps/{id}/tasks…, a failed health check): their goal
 * becomes stopped (or decommissioned when wipe), committed, and the agents are told. */
void launcher_kill(struct launcher *l, json_t *instance_ids, bool wipe);
/* Counts one failure of the app for its launch backoff (a task killed for failing its health
 * checks: its goal is stopped, so its end does not count by itself). */
void launcher_count_failure(struct launcher *l, const char *app_id);
