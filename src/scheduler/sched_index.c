/* sched_index.c — per-class max segment tree over the free resources of the active agents. */
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "scheduler/sched_internal.h"

/* An empty leaf covers no demand (demands are >= 0). */
static const struct ivec EMPTY = {{-1, -1, -1, -1}, -1};

static struct ivec vmax(const struct ivec *a, const struct ivec *b) {
        struct ivec m;
        for (int i = 0; i < R_N; i++)
                m.r[i] = a->r[i] > b->r[i] ? a->r[i] : b->r[i];
        m.ports = a->ports > b->ports ? a->ports : b->ports;
        return m;
}

static bool covers(const struct ivec *have, const struct ivec *want) {
        for (int i = 0; i < R_N; i++)
                if (have->r[i] < want->r[i])
                        return false;
        return have->ports >= want->ports;
}

void index_release(struct sched_index *x) {
        free(x->leaf);
        free(x->node);
        *x = (struct sched_index){0};
}

static void rebuild(struct sched_index *x) {
        for (uint32_t i = 0; i < x->cap; i++)
                x->node[x->cap + i] = i < x->n ? agent_free(x->leaf[i]) : EMPTY;
        for (uint32_t i = x->cap - 1; i >= 1; i--)
                x->node[i] = vmax(&x->node[2 * i], &x->node[2 * i + 1]);
}

static void update_pos(struct sched_index *x, uint32_t pos) {
        uint32_t i = x->cap + pos;
        x->node[i] = pos < x->n ? agent_free(x->leaf[pos]) : EMPTY;
        for (i /= 2; i >= 1; i /= 2)
                x->node[i] = vmax(&x->node[2 * i], &x->node[2 * i + 1]);
}

void index_add(struct sched_index *x, struct sched_agent *a) {
        if (x->n == x->cap) {
                x->cap = x->cap ? 2 * x->cap : 8;
                x->leaf = xrealloc(x->leaf, x->cap * sizeof *x->leaf);
                free(x->node);
                x->node = xmalloc(2 * (size_t)x->cap * sizeof *x->node);
                a->member_pos = x->n;
                x->leaf[x->n++] = a;
                rebuild(x);
                return;
        }
        a->member_pos = x->n;
        x->leaf[x->n++] = a;
        update_pos(x, a->member_pos);
}

void index_remove(struct sched_index *x, struct sched_agent *a) {
        uint32_t pos = a->member_pos, last = x->n - 1;
        if (pos != last) {
                x->leaf[pos] = x->leaf[last];
                x->leaf[pos]->member_pos = pos;
        }
        x->leaf[last] = NULL;
        x->n--;
        a->member_pos = NO_POS;
        update_pos(x, pos);
        if (pos != last)
                update_pos(x, last);
}

void index_update(struct sched_index *x, struct sched_agent *a) {
        if (a->member_pos != NO_POS)
                update_pos(x, a->member_pos);
}

struct find {
        const struct sched_index *x;
        const struct ivec *demand;
        uint32_t a, b; /* leaf window [a, b) */
        index_pred_cb pred;
        void *data;
};

static struct sched_agent *find_rec(const struct find *f, uint32_t node, uint32_t lo, uint32_t hi) {
        if (hi <= f->a || lo >= f->b || !covers(&f->x->node[node], f->demand))
                return NULL;
        if (hi - lo == 1) {
                struct sched_agent *a = f->x->leaf[lo];
                return !f->pred || f->pred(a, f->data) ? a : NULL;
        }
        uint32_t mid = lo + (hi - lo) / 2;
        struct sched_agent *r = find_rec(f, 2 * node, lo, mid);
        return r ? r : find_rec(f, 2 * node + 1, mid, hi);
}

struct sched_agent *index_find(const struct sched_index *x, const struct ivec *demand, uint32_t from,
                               index_pred_cb pred, void *data) {
        if (x->n == 0)
                return NULL;
        if (from >= x->n)
                from = 0;
        struct find f = {x, demand, from, x->n, pred, data};
        struct sched_agent *r = find_rec(&f, 1, 0, x->cap);
        if (r || from == 0)
                return r;
        f.a = 0;
        f.b = from;
        return find_rec(&f, 1, 0, x->cap);
}
