/* api_tasks.h — task and node JSON shared by the API files. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "store/cluster_state.h"

struct master;

/* Marathon's task object; servicePorts only in /v2/tasks. */
json_t *task_to_json(const struct state *st, const struct instance *i, bool service_ports);
/* [task…] of one app. */
json_t *app_tasks_json(const struct state *st, const char *app_id);
/* Strata's node object (GET /v1/nodes). */
json_t *node_to_json(struct master *m, const struct agent *a);
/* Mesos' agent object (GET /master/slaves). */
json_t *mesos_slave_json(const struct agent *a);
