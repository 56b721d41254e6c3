/* placement.h — the core's adapter to the scheduler library: keeps the scheduler's view of free
 * resources in step with the state (plus placements decided but not yet committed) and turns
 * "place N instances of this app" into placements. It also hands the view to victim selection
 * (sched_select_victims reads agents' attributes for GROUP_BY spreads).
 *
 * It uses the log (the state and the applied index that seeds plans) and the clock (a per-turn
 * budget and the timer that retries apps the budget turned away); it calls no other part: apps it
 * deferred are handed back through the wake callback. */
#pragma once

#include <jansson.h>

#include "master/clock.h"
#include "master/core_ports.h"

struct instance;
struct placement;
struct sched_cluster;
struct sched_constraints;

/* Called when an app the budget deferred may be placed now (the caller passes it again). */
typedef void (*placement_wake_cb)(const char *app_id, void *data);

/* The log and clock are borrowed and must outlive the placement. */
struct placement *placement_new(const struct core_log *log, struct clock *clock, placement_wake_cb wake, void *data);
void placement_free(struct placement *p);

/* Places up to need instances of app. Appends {"id","appId","version","agentId","ports":[…]} to
 * placements and, when fewer fit, adds Marathon reason counts to reasons
 * ({"InsufficientMemory": 3, …}). Returns how many were placed. It reads only "id", "version",
 * "cpus", "mem", "disk", "gpus", "portDefinitions", "requirePorts", "container.portMappings",
 * "constraints" and "acceptedResourceRoles", so anything shaped so (a job run's spec) can be
 * placed by the same call; the reservation lasts until placement_forget or the instance with
 * that id appears in the state. */
unsigned placement_plan(struct placement *p, const json_t *app, unsigned need, json_t *placements, json_t *reasons);
/* Observer hooks: keep the view in step (no-ops until the view is first built). */
void placement_agent_changed(struct placement *p, const char *agent_id);
void placement_instance_changed(struct placement *p, const struct instance *i, int old_state);
/* The state was restored from a snapshot: rebuild the view, keeping placements in flight. */
void placement_rebuild(struct placement *p);
/* Drops the view and everything pending (leadership lost). */
void placement_reset(struct placement *p);
/* Drops the reservation of a placement that will not be committed. */
void placement_forget(struct placement *p, const char *instance_id);

/* For victim selection: the scheduler's view (built on first use; valid until the next call into
 * the placement) and the app's parsed constraints (NULL when it has none or they are unusable). */
const struct sched_cluster *placement_cluster(struct placement *p);
const struct sched_constraints *placement_constraints(struct placement *p, const json_t *app);
