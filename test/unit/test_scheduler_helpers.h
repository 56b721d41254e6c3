/* test_scheduler_helpers.h — building clusters and requests tersely in the scheduler's tests. */
#pragma once

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/alloc.h"
#include "scheduler/sched_cluster.h"
#include "scheduler/sched_constraints.h"
#include "scheduler/sched_kill.h"
#include "scheduler/sched_place.h"

/* An agent: attrs "k=v,k=v" (with "@region=…" and "@zone=…" for the fault domain), ports "b-e,b-e". */
struct ta {
        const char *id, *host;
        double cpus, mem, disk, gpus;
        const char *ports, *attrs, *role;
        enum sched_agent_state state;
};

static inline int ta_spec_apply(struct sched_cluster *c, const struct ta *t, bool update) {
        struct sched_attr attrs[32];
        struct sched_port_range ranges[32];
        char abuf[512], pbuf[256];
        size_t na = 0, nr = 0;
        const char *region = NULL, *zone = NULL;
        snprintf(abuf, sizeof abuf, "%s", t->attrs ? t->attrs : "");
        for (char *save = NULL, *tok = strtok_r(abuf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                char *eq = strchr(tok, '=');
                assert_non_null(eq);
                *eq = '\0';
                if (strcmp(tok, "@region") == 0)
                        region = eq + 1;
                else if (strcmp(tok, "@zone") == 0)
                        zone = eq + 1;
                else
                        attrs[na++] = (struct sched_attr){tok, eq + 1};
        }
        snprintf(pbuf, sizeof pbuf, "%s", t->ports ? t->ports : "");
        for (char *save = NULL, *tok = strtok_r(pbuf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                unsigned b, e;
                assert_int_equal(sscanf(tok, "%u-%u", &b, &e), 2);
                ranges[nr++] = (struct sched_port_range){(uint16_t)b, (uint16_t)e};
        }
        struct sched_agent_spec spec = {
                .id = t->id,
                .hostname = t->host ? t->host : t->id,
                .role = t->role,
                .region = region,
                .zone = zone,
                .attrs = attrs,
                .n_attrs = na,
                .total = {t->cpus, t->mem, t->disk, t->gpus},
                .ranges = ranges,
                .n_ranges = nr,
                .state = t->state,
        };
        struct err e = {0};
        int r = update ? sched_agent_update(c, &spec, &e) : sched_agent_add(c, &spec, &e);
        err_release(&e);
        return r;
}

#define AGENT(c, ...) assert_int_equal(ta_spec_apply((c), &(struct ta){__VA_ARGS__}, false), 0)
#define AGENT_UPDATE(c, ...) assert_int_equal(ta_spec_apply((c), &(struct ta){__VA_ARGS__}, true), 0)

/* Constraints from their JSON text; fails the test on a parse error. */
static inline struct sched_constraints *cons(const char *json) {
        json_error_t jerr;
        json_t *j = json_loads(json, JSON_DECODE_ANY, &jerr);
        assert_non_null(j);
        struct sched_constraints *k = NULL;
        struct err e = {0};
        int r = sched_constraints_parse(j, &k, &e);
        if (r < 0)
                fail_msg("%s: %s", json, err_msg(&e));
        err_release(&e);
        json_decref(j);
        return k;
}

/* A request for count instances of app with cpus/mem (no ports, no constraints, seed 1). */
static inline struct sched_request req(const char *app, unsigned count, double cpus, double mem) {
        return (struct sched_request){.app_id = app, .count = count, .res = {cpus, mem, 0, 0}, .seed = 1};
}

/* Places and commits; returns the number placed. */
static inline int place_commit(struct sched_cluster *c, const struct sched_request *r, struct sched_plan *p) {
        struct err e = {0};
        int n = sched_place(c, r, SCHED_PLACE_COMMIT, p, &e);
        if (n < 0)
                fail_msg("sched_place: %s", err_msg(&e));
        err_release(&e);
        return n;
}

static inline int place_only(struct sched_cluster *c, const struct sched_request *r, struct sched_plan *p) {
        struct err e = {0};
        int n = sched_place(c, r, 0, p, &e);
        if (n < 0)
                fail_msg("sched_place: %s", err_msg(&e));
        err_release(&e);
        return n;
}

static inline size_t count_on(const struct sched_plan *p, const char *agent) {
        size_t n = 0;
        for (size_t i = 0; i < p->n; i++)
                n += strcmp(p->placements[i].agent_id, agent) == 0;
        return n;
}

static inline double used_cpus(struct sched_cluster *c, const char *agent) {
        struct sched_agent_info info;
        assert_int_equal(sched_agent_info(c, agent, &info), 0);
        return info.used.cpus;
}
