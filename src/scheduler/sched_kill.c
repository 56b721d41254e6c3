/* sched_kill.c — scale-down victims: killSelection order, adjusted to keep GROUP_BY spreads. */
#include "scheduler/sched_kill.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/hashmap.h"
#include "scheduler/sched_internal.h"

static const char *const selection_names[] = {
#define X(e, s) [e] = s,
        SCHED_KILL_SELECTIONS(X)
#undef X
};

const char *sched_kill_selection_to_string(enum sched_kill_selection s) {
        return (unsigned)s < _SCHED_KILL_SELECTION_MAX ? selection_names[s] : NULL;
}

int sched_kill_selection_from_string(const char *s) {
        for (int i = 0; s && i < _SCHED_KILL_SELECTION_MAX; i++)
                if (streq(s, selection_names[i]))
                        return i;
        return -EINVAL;
}

struct order_ctx {
        const struct sched_instance_ref *inst;
        enum sched_kill_selection sel;
};

/* Kill first: instances not running yet, then by killSelection; ties by index. */
static int cmp_victim(const void *pa, const void *pb, void *data) {
        const struct order_ctx *o = data;
        size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
        int64_t sa = o->inst[a].started_at, sb = o->inst[b].started_at;
        if ((sa == 0) != (sb == 0))
                return sa == 0 ? -1 : 1;
        if (sa != sb) {
                bool a_first = o->sel == SCHED_KILL_YOUNGEST_FIRST ? sa > sb : sa < sb;
                return a_first ? -1 : 1;
        }
        return a < b ? -1 : a > b;
}

struct group {
        size_t *members; /* ranks, in kill order */
        size_t n, head;
};

size_t sched_select_victims(const struct sched_cluster *c, const struct sched_constraints *constraints,
                            enum sched_kill_selection sel, const struct sched_instance_ref *inst, size_t n,
                            size_t n_kill, size_t *ret_idx) {
        if (n_kill > n)
                n_kill = n;
        if (n_kill == 0)
                return 0;
        _cleanup_free_ size_t *order = xmalloc(n * sizeof *order);
        for (size_t i = 0; i < n; i++)
                order[i] = i;
        struct order_ctx o = {inst, sel};
        qsort_r(order, n, sizeof *order, cmp_victim, &o);

        const struct sched_constraint *gb = NULL;
        for (size_t i = 0; constraints && i < constraints->n && !gb; i++)
                if (constraints->items[i].op == SCHED_OP_GROUP_BY)
                        gb = &constraints->items[i];
        if (!gb) {
                memcpy(ret_idx, order, n_kill * sizeof *ret_idx);
                return n_kill;
        }

        /* Groups by value; instances without a value are outside every group: they go first. */
        struct hashmap ids;
        hashmap_init(&ids);
        _cleanup_free_ struct group *groups = xcalloc(n, sizeof *groups);
        _cleanup_free_ size_t *group_of = xmalloc(n * sizeof *group_of);
        size_t n_groups = 0, done = 0;
        for (size_t r = 0; r < n; r++) {
                const struct sched_agent *a = cluster_agent_by_id(c, inst[order[r]].agent_id);
                const char *v = a ? agent_field_value(a, gb->kind, gb->field) : NULL;
                if (!v) {
                        group_of[r] = SIZE_MAX;
                        if (done < n_kill)
                                ret_idx[done++] = order[r];
                        continue;
                }
                uintptr_t g = (uintptr_t)hashmap_get(&ids, v);
                if (!g) {
                        g = ++n_groups;
                        hashmap_put(&ids, v, (void *)g);
                }
                group_of[r] = g - 1;
                groups[g - 1].n++;
        }
        hashmap_release(&ids);
        for (size_t g = 0; g < n_groups; g++)
                groups[g].members = xmalloc(groups[g].n * sizeof *groups[g].members), groups[g].n = 0;
        for (size_t r = 0; r < n; r++)
                if (group_of[r] != SIZE_MAX) {
                        struct group *g = &groups[group_of[r]];
                        g->members[g->n++] = r;
                }
        /* each next victim from the value holding the most (ties: whose candidate ranks first) */
        while (done < n_kill) {
                struct group *best = NULL;
                for (size_t g = 0; g < n_groups; g++) {
                        struct group *x = &groups[g];
                        size_t left = x->n - x->head;
                        if (!left)
                                continue;
                        size_t best_left = best ? best->n - best->head : 0;
                        if (!best || left > best_left ||
                            (left == best_left && x->members[x->head] < best->members[best->head]))
                                best = x;
                }
                ret_idx[done++] = order[best->members[best->head++]];
        }
        for (size_t g = 0; g < n_groups; g++)
                free(groups[g].members);
        return n_kill;
}
