/* placement.h — the launcher's adapter to the scheduler: keeps the scheduler's view of free
 * resources in step with the state (plus placements decided but not yet committed) and turns
 * "place N instances of this app" into placements. */
#pragma once

#include <jansson.h>

struct launcher;
struct instance;

/* Places up to need instances of app. Appends {"id","appId","version","agentId","ports":[…]} to
 * placements and, when fewer fit, adds Marathon reason counts to reasons
 * ({"InsufficientMemory": 3, …}). Returns how many were placed. */
unsigned placement_plan(struct launcher *l, const json_t *app, unsigned need, json_t *placements, json_t *reasons);
void placement_agent_changed(struct launcher *l, const char *agent_id);
void placement_instance_changed(struct launcher *l, const struct instance *i, int old_state);
void placement_rebuild(struct launcher *l);
void placement_release(struct launcher *l);
/* Drops the reservation of a placement that will not be committed. */
void placement_forget(struct launcher *l, const char *instance_id);
