/* test_store_cluster.h — helpers shared by the cluster state tests: commands built the way the
 * master builds them, applied through store_fsm_apply. */
#pragma once

#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/timeutil.h"
#include "model/app.h"
#include "store/cluster_state.h"
#include "store/snapshot.h"
#include "store/state.h"
#include "store/store_fsm.h"

#include <raft.h>

#define T0 INT64_C(1700000000000)
#define CLUSTER "0c6f9f5e-1b2a-4c3d-8e4f-5a6b7c8d9e0f"

static inline json_t *canonical(const char *id, double cpus, double mem) {
        json_t *in = json_pack("{s:s,s:i,s:s,s:f,s:f}", "id", id, "instances", 1, "cmd", "sleep 100", "cpus",
                               cpus, "mem", mem);
        json_t *out = NULL;
        struct err e = {0};
        if (app_normalize(in, "/", &out, &e) < 0)
                fail_msg("app_normalize: %s", err_msg(&e));
        json_decref(in);
        return out;
}

static inline const char *ts_iso(int64_t ms) {
        static char buf[25];
        time_format_ms(ms, buf);
        return buf;
}

/* Applies cmd (ownership taken) with a result; returns the status. */
static inline int apply(struct state *s, json_t *cmd, json_t **result) {
        struct err e = {0};
        json_t *res = NULL;
        assert_non_null(cmd);
        int r = store_fsm_apply(s, cmd, &res, &e);
        json_decref(cmd);
        err_release(&e);
        if (result)
                *result = res;
        else
                json_decref(res);
        return r;
}

static inline void app(struct state *s, const char *id, double cpus, double mem) {
        assert_int_equal(apply(s,
                               json_pack("{s:s,s:o,s:s}", "type", "app_create", "app",
                                         canonical(id, cpus, mem), "ts", ts_iso(T0)),
                               NULL),
                         0);
}

static inline const char *version_of(struct state *s, const char *app_id) {
        return json_string_value(json_object_get(state_app_get(s, app_id), "version"));
}

/* Registers an agent (id NULL for a new one); returns its id (static storage per call slot). */
static inline const char *reg(struct state *s, const char *id, const char *host, double cpus, double mem) {
        static char ids[8][128];
        static int slot;
        json_t *res = NULL;
        json_t *agent =
                json_pack("{s:s?,s:s,s:s,s:{s:f,s:f,s:f,s:f,s:[[i,i]]},s:{s:s}}", "id", id, "hostname", host,
                          "address", "10.0.0.1:5051", "resources", "cpus", cpus, "mem", mem, "disk", 1000.0,
                          "gpus", 0.0, "ports", 31000, 32000, "attributes", "rack", "r1");
        assert_int_equal(apply(s,
                               json_pack("{s:s,s:o,s:s,s:s}", "type", "agent_register", "agent", agent,
                                         "clusterId", CLUSTER, "ts", ts_iso(T0 + 5)),
                               &res),
                         0);
        char *out = ids[slot++ % 8];
        snprintf(out, 128, "%s", json_string_value(json_object_get(res, "agentId")));
        json_decref(res);
        return out;
}

static inline int place(struct state *s, const char *id, const char *app_id, const char *agent, int port) {
        json_t *res = NULL;
        uint16_t ports[1] = {(uint16_t)port};
        int r = apply(s,
                      json_pack("{s:s,s:[o],s:s}", "type", "instances_place", "instances",
                                cluster_place_item(id, app_id, version_of(s, app_id) ?: "v", agent, ports,
                                                   port ? 1 : 0),
                                "ts", ts_iso(T0 + 10)),
                      &res);
        int placed = r < 0 ? r : (int)json_integer_value(json_object_get(res, "placed"));
        json_decref(res);
        return placed;
}

static inline int status(struct state *s, const char *id, enum task_state st, int64_t ts, const char *msg,
                         int healthy) {
        return apply(s,
                     json_pack("{s:s,s:[o],s:s}", "type", "instances_status", "updates",
                               cluster_status_item(id, st, ts, msg, healthy), "ts", ts_iso(T0 + 20)),
                     NULL);
}

static inline int expunge(struct state *s, const char *id, bool force) {
        json_t *res = NULL;
        int r = apply(s, json_pack("{s:s,s:[s],s:b}", "type", "instances_expunge", "ids", id, "force", force),
                      &res);
        int removed = r < 0 ? r : (int)json_integer_value(json_object_get(res, "removed"));
        json_decref(res);
        return removed;
}

static inline enum task_state state_of(struct state *s, const char *id) {
        const struct instance *i = state_instance_get(s, id);
        assert_non_null(i);
        return (enum task_state)i->state;
}
