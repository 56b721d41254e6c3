/* sched_kill.h — which instances a scale-down kills (api.md §2.11, §2.13): killSelection
 * YOUNGEST_FIRST or OLDEST_FIRST, adjusted to keep GROUP_BY spreads. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "scheduler/sched_cluster.h"
#include "scheduler/sched_constraints.h"

#define SCHED_KILL_SELECTIONS(X)                                                                             \
        X(SCHED_KILL_YOUNGEST_FIRST, "YOUNGEST_FIRST")                                                       \
        X(SCHED_KILL_OLDEST_FIRST, "OLDEST_FIRST")

/* clang-format off */
enum sched_kill_selection {
#define X(e, s) e,
        SCHED_KILL_SELECTIONS(X)
#undef X
        _SCHED_KILL_SELECTION_MAX,
};
/* clang-format on */
const char *sched_kill_selection_to_string(enum sched_kill_selection s);
/* Returns the selection or -EINVAL. */
int sched_kill_selection_from_string(const char *s);

/* One live instance of the app, as the caller knows it. */
struct sched_instance_ref {
        const char *agent_id; /* may be NULL or an agent the cluster no longer knows */
        int64_t started_at;   /* ms; 0 while not running yet */
};

/* Chooses n_kill of the n instances to kill and writes their indices into ret_idx (room for
 * MIN(n_kill, n)), in kill order; returns how many were chosen.
 *
 * Order: instances not running yet first, then by started_at per selection (ties: lower index
 * first). With a GROUP_BY constraint (the first one, when several), each next victim comes from
 * the field value that holds the most remaining instances (ties: the value whose candidate
 * comes first in that order), so the spread stays even; instances whose agent lacks the value
 * go first. constraints may be NULL. O(n log n + n_kill × values). */
size_t sched_select_victims(const struct sched_cluster *c, const struct sched_constraints *constraints,
                            enum sched_kill_selection sel, const struct sched_instance_ref *inst, size_t n,
                            size_t n_kill, size_t *ret_idx);
