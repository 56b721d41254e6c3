/* task_stats.h — Marathon's tasksStats (embed=apps.taskStats): task counts and life times of an
 * app's tasks, by how their version relates to the app's last scaling and config change. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* One placed task as Marathon's TaskForStatistics sees it. */
struct task_stat {
        const char *version; /* the app version it runs, ISO-8601 as Strata stores it (borrowed) */
        bool staging, running, healthy, unhealthy;
        double life_s; /* seconds since it started; < 0 if it has not started */
};

/* TaskStatsByVersion for tasks[0..n) (task.raml): totalSummary over all of them, and
 * startedAfterLastScaling (version >= last_scaling_at), withLatestConfig (version >=
 * last_config_change_at), withOutdatedConfig (version < last_config_change_at) when the app has
 * full version info (both timestamps non-NULL). Each is {"stats": {"counts", "lifeTime"?}} and is
 * left out when no task falls in it; lifeTime is left out when none of those tasks started.
 * Timestamps compare as strings: Strata writes every version in one fixed-width UTC form.
 * Returns a new object. */
json_t *task_stats_json(const struct task_stat *tasks, size_t n, const char *last_scaling_at,
                        const char *last_config_change_at);
