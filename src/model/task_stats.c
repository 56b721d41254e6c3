/* task_stats.c — tasksStats as Marathon computes them (core/appinfo/TaskStatsByVersion.scala,
 * TaskCounts.scala, TaskLifeTime.scala). */
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "model/task_stats.h"

enum which { ALL, AFTER_SCALING, LATEST_CONFIG, OUTDATED_CONFIG };

static bool selected(const struct task_stat *t, enum which w, const char *scaling, const char *config) {
        switch (w) {
        case ALL:
                return true;
        case AFTER_SCALING:
                return strcmp(t->version, scaling) >= 0;
        case LATEST_CONFIG:
                return strcmp(t->version, config) >= 0;
        case OUTDATED_CONFIG:
                return strcmp(t->version, config) < 0;
        }
        return false;
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *)a, y = *(const double *)b;
        return (x > y) - (x < y);
}

/* TaskStats.forSomeTasks: NULL when no task is selected. */
static json_t *stats_for(const struct task_stat *tasks, size_t n, enum which w, const char *scaling,
                         const char *config) {
        json_int_t staged = 0, running = 0, healthy = 0, unhealthy = 0;
        size_t selected_n = 0, n_life = 0;
        _cleanup_free_ double *life = xmalloc((n ? n : 1) * sizeof *life);
        for (size_t i = 0; i < n; i++) {
                const struct task_stat *t = &tasks[i];
                if (!t->version || !selected(t, w, scaling, config))
                        continue;
                selected_n++;
                staged += t->staging;
                running += t->running;
                healthy += t->healthy;
                unhealthy += t->unhealthy;
                if (t->life_s >= 0)
                        life[n_life++] = t->life_s;
        }
        if (selected_n == 0)
                return NULL;
        json_t *stats = json_pack("{s:{s:I,s:I,s:I,s:I}}", "counts", "staged", staged, "running", running, "healthy",
                                  healthy, "unhealthy", unhealthy);
        if (n_life > 0) {
                /* "averageSeconds = lifeTimes.sum / lifeTimes.size, medianSeconds = lifeTimes(lifeTimes.size / 2)"
                 * over the sorted life times. */
                qsort(life, n_life, sizeof *life, cmp_double);
                double sum = 0;
                for (size_t i = 0; i < n_life; i++)
                        sum += life[i];
                json_object_set_new(stats, "lifeTime", json_pack("{s:f,s:f}", "averageSeconds", sum / (double)n_life,
                                                                 "medianSeconds", life[n_life / 2]));
        }
        return json_pack("{s:o}", "stats", stats);
}

json_t *task_stats_json(const struct task_stat *tasks, size_t n, const char *last_scaling_at,
                        const char *last_config_change_at) {
        static const struct {
                const char *key;
                enum which w;
        } parts[] = {
                { "startedAfterLastScaling", AFTER_SCALING },
                { "withLatestConfig", LATEST_CONFIG },
                { "withOutdatedConfig", OUTDATED_CONFIG },
                { "totalSummary", ALL },
        };
        json_t *out = json_object();
        bool full = last_scaling_at && last_config_change_at;
        for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
                if (parts[i].w != ALL && !full)
                        continue;
                json_t *s = stats_for(tasks, n, parts[i].w, last_scaling_at, last_config_change_at);
                if (s)
                        json_object_set_new(out, parts[i].key, s);
        }
        return out;
}
