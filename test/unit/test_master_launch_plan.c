/* test_master_launch_plan.c — one launcher pass as data: scale-down victims by killSelection
 * and GROUP_BY spread, deleted apps, deployment gating, the rolling restart, backoff, expunge
 * and unreachable replacement, and a restart's minimum healthy time. */
#include <errno.h>

#include "test_scheduler_helpers.h"

#include "master/launch_plan.h"
#include "store/cluster_state.h"

#define V1 "2026-01-01T00:00:00.000Z"
#define V2 "2026-01-02T00:00:00.000Z"
#define NOW INT64_C(1800000000000)

static json_t *app_doc(const char *extra_json, int instances) {
        json_t *a = json_pack("{s:s,s:i,s:s,s:{s:s}}", "id", "/web", "instances", instances, "version", V2,
                              "versionInfo", "lastConfigChangeAt", V2);
        if (extra_json) {
                json_t *x = json_loads(extra_json, 0, NULL);
                assert_non_null(x);
                json_object_update(a, x);
                json_decref(x);
        }
        return a;
}

/* A running instance of version v on agent, started at t. */
#define RUN(id_, agent_, t_, v_)                                                                    \
        { .id = id_, .app_id = "/web", .version = v_, .agent_id = agent_, .state = TASK_RUNNING,       \
          .goal = GOAL_RUNNING, .staged_at = (t_) - 1, .started_at = t_, .updated_at = t_ }

static void decide(const json_t *app, const struct instance *v, size_t n, struct launch_plan_input *in,
                   struct launch_plan *out) {
        static const struct instance *ptrs[64];
        for (size_t i = 0; i < n; i++)
                ptrs[i] = &v[i];
        in->app = app;
        in->instances = ptrs;
        in->n = n;
        if (!in->now_ms)
                in->now_ms = NOW;
        launch_plan_decide(in, out);
}

static void kills_are(const struct launch_plan *p, const char *const *ids, size_t n, enum launch_kill_reason why) {
        assert_int_equal(p->n_kills, n);
        for (size_t i = 0; i < n; i++) {
                assert_string_equal(p->kills[i].instance->id, ids[i]);
                assert_int_equal(p->kills[i].reason, why);
        }
}

static void scale_down_kills_the_youngest_by_default(void **state) {
        json_t *app = app_doc(NULL, 2);
        struct instance v[] = { RUN("i1", "a1", 1000, V2), RUN("i2", "a1", 3000, V2), RUN("i3", "a1", 2000, V2),
                                RUN("i4", "a1", 4000, V2) };
        struct launch_plan_input in = { 0 };
        struct launch_plan p;
        decide(app, v, 4, &in, &p);
        kills_are(&p, (const char *[]){ "i4", "i2" }, 2, LAUNCH_KILL_SCALE_DOWN);
        assert_string_equal(p.goal, "stopped");
        assert_int_equal(p.grace_s, 3);
        assert_int_equal(p.want, 0);
        assert_false(p.converged);
        launch_plan_release(&p);
        json_decref(app);
}

static void oldest_first_and_not_running_yet_first(void **state) {
        json_t *app = app_doc("{\"killSelection\": \"OLDEST_FIRST\", \"taskKillGracePeriodSeconds\": 9}", 2);
        struct instance v[] = { RUN("i1", "a1", 1000, V2), RUN("i2", "a1", 3000, V2), RUN("i3", "a1", 2000, V2),
                                RUN("i4", "a1", 4000, V2) };
        v[3].state = TASK_STAGING;
        v[3].started_at = 0;
        struct launch_plan_input in = { 0 };
        struct launch_plan p;
        decide(app, v, 4, &in, &p);
        /* the staging one first, then the oldest running */
        kills_are(&p, (const char *[]){ "i4", "i1" }, 2, LAUNCH_KILL_SCALE_DOWN);
        assert_int_equal(p.grace_s, 9);
        launch_plan_release(&p);
        json_decref(app);
}

/* Marathon keeps a GROUP_BY spread on scale-down: victims come from the value holding the most
 * instances, even when killSelection alone would pick elsewhere. */
static void group_by_scale_down_spreads_as_marathon_does(void **state) {
        _cleanup_(sched_cluster_freep) struct sched_cluster *c = sched_cluster_new();
        AGENT(c, .id = "a1", .cpus = 10, .mem = 1000, .attrs = "rack=r1");
        AGENT(c, .id = "a2", .cpus = 10, .mem = 1000, .attrs = "rack=r1");
        AGENT(c, .id = "a3", .cpus = 10, .mem = 1000, .attrs = "rack=r2");
        AGENT(c, .id = "a4", .cpus = 10, .mem = 1000, .attrs = "rack=r3");
        _cleanup_(sched_constraints_freep) struct sched_constraints *k = cons("[[\"rack\",\"GROUP_BY\"]]");
        /* r1: 4 (the oldest), r2: 2, r3: 2 (the youngest) */
        struct instance v[] = { RUN("i1", "a1", 100, V2), RUN("i2", "a2", 200, V2), RUN("i3", "a1", 300, V2),
                                RUN("i4", "a2", 400, V2), RUN("i5", "a3", 500, V2), RUN("i6", "a3", 600, V2),
                                RUN("i7", "a4", 700, V2), RUN("i8", "a4", 800, V2) };
        json_t *app = app_doc("{\"constraints\": [[\"rack\", \"GROUP_BY\"]]}", 6);
        struct launch_plan_input in = { .cluster = c, .constraints = k };
        struct launch_plan p;
        decide(app, v, 8, &in, &p);
        /* youngest-first alone would take i8 and i7 (rack r3 down to 0) */
        kills_are(&p, (const char *[]){ "i4", "i3" }, 2, LAUNCH_KILL_SCALE_DOWN);
        launch_plan_release(&p);
        /* down to 3: one per rack is left */
        json_object_set_new(app, "instances", json_integer(3));
        decide(app, v, 8, &in, &p);
        kills_are(&p, (const char *[]){ "i4", "i3", "i8", "i6", "i2" }, 5, LAUNCH_KILL_SCALE_DOWN);
        launch_plan_release(&p);
        /* without the constraint's view: plain youngest first */
        in.constraints = NULL;
        json_object_set_new(app, "instances", json_integer(6));
        decide(app, v, 8, &in, &p);
        kills_are(&p, (const char *[]){ "i8", "i7" }, 2, LAUNCH_KILL_SCALE_DOWN);
        launch_plan_release(&p);
        json_decref(app);
}

static void a_deleted_app_loses_everything_alive(void **state) {
        struct instance v[] = { RUN("i1", "a1", 1000, V2), RUN("i2", "a1", 2000, V1), RUN("i3", "a1", 3000, V2),
                                RUN("i4", "a1", 4000, V2) };
        v[2].goal = GOAL_STOPPED; /* being killed already */
        v[3].state = TASK_FINISHED;
        struct launch_plan_input in = { 0 };
        struct launch_plan p;
        decide(NULL, v, 4, &in, &p);
        assert_string_equal(p.goal, "decommissioned");
        assert_int_equal(p.n_kills, 2);
        assert_int_equal(p.kills[0].reason, LAUNCH_KILL_APP_DELETED);
        assert_int_equal(p.n_expunge, 1);
        assert_string_equal(p.expunge[0]->id, "i4");
        assert_false(p.converged);
        assert_int_equal(p.want, 0);
        launch_plan_release(&p);
        decide(NULL, &v[3], 1, &in, &p);
        assert_true(p.converged);
        launch_plan_release(&p);
}

static void a_later_deployment_step_waits(void **state) {
        json_t *app = app_doc(NULL, 3);
        struct instance v[] = { RUN("i1", "a1", 1000, V2), RUN("i2", "a1", 2000, V2) };
        v[1].state = TASK_FAILED;
        struct launch_plan_input in = { .gated = true };
        struct launch_plan p;
        decide(app, v, 2, &in, &p);
        assert_int_equal(p.want, 0);
        assert_int_equal(p.n_kills, 0);
        assert_int_equal(p.n_expunge, 1); /* expunges go on */
        launch_plan_release(&p);
        in.gated = false;
        decide(app, v, 2, &in, &p);
        assert_int_equal(p.want, 2);
        assert_false(p.backoff);
        launch_plan_release(&p);
        json_decref(app);
}

static void backoff_holds_the_launch(void **state) {
        json_t *app = app_doc(NULL, 2);
        struct launch_plan_input in = { .launch_after_ms = NOW + 5000, .in_flight = 1 };
        struct launch_plan p;
        decide(app, NULL, 0, &in, &p);
        assert_int_equal(p.want, 1); /* the in-flight one counts */
        assert_true(p.backoff);
        launch_plan_release(&p);
        in.now_ms = NOW + 5000;
        decide(app, NULL, 0, &in, &p);
        assert_false(p.backoff);
        launch_plan_release(&p);
        /* the caller's fast path: unlisted current instances are counted */
        in.n_unlisted = 1;
        decide(app, NULL, 0, &in, &p);
        assert_int_equal(p.want, 0);
        assert_false(p.converged); /* it cannot tell their health */
        launch_plan_release(&p);
        /* at the target, the counts tell: converged once every unlisted one is good */
        in.in_flight = 0;
        in.n_unlisted = 2;
        in.n_unlisted_good = 1;
        decide(app, NULL, 0, &in, &p);
        assert_int_equal(p.want, 0);
        assert_false(p.converged);
        launch_plan_release(&p);
        in.n_unlisted_good = 2;
        decide(app, NULL, 0, &in, &p);
        assert_true(p.converged);
        assert_int_equal(p.n_kills, 0);
        launch_plan_release(&p);
        json_decref(app);
}

static void unreachable_past_inactive_after_is_replaced(void **state) {
        json_t *app = app_doc("{\"unreachableStrategy\": {\"inactiveAfterSeconds\": 300, \"expungeAfterSeconds\": 600}}", 2);
        struct instance v[] = { RUN("i1", "a1", 1000, V2), RUN("i2", "a2", 2000, V2) };
        v[1].state = TASK_UNREACHABLE;
        v[1].updated_at = NOW - 299 * 1000;
        struct launch_plan_input in = { 0 };
        struct launch_plan p;
        decide(app, v, 2, &in, &p);
        assert_int_equal(p.want, 0); /* not yet */
        launch_plan_release(&p);
        v[1].updated_at = NOW - 300 * 1000;
        decide(app, v, 2, &in, &p);
        assert_int_equal(p.want, 1);
        assert_int_equal(p.n_kills, 0); /* kept until it returns or is expunged */
        launch_plan_release(&p);
        /* "disabled": never replaced */
        json_object_set_new(app, "unreachableStrategy", json_string("disabled"));
        decide(app, v, 2, &in, &p);
        assert_int_equal(p.want, 0);
        launch_plan_release(&p);
        json_decref(app);
}

/* n = 4, minimumHealthCapacity 0.5, maximumOverCapacity 0: minHealthy 2, maxCapacity 4. With
 * 4 healthy old instances, 2 may go now and nothing new fits yet; an unhealthy old one goes at
 * once without counting. */
static void rolling_restart_kills_unhealthy_old_first_then_within_budget(void **state) {
        json_t *app = app_doc("{\"upgradeStrategy\": {\"minimumHealthCapacity\": 0.5, \"maximumOverCapacity\": 0}}", 4);
        struct instance v[] = { RUN("o1", "a1", 1000, V1), RUN("o2", "a1", 2000, V1), RUN("o3", "a1", 3000, V1),
                                RUN("o4", "a1", 4000, V1), RUN("o5", "a1", 500, V1) };
        v[4].state = TASK_STAGING; /* not healthy */
        v[4].started_at = 0;
        struct launch_plan_input in = { 0 };
        struct launch_plan p;
        decide(app, v, 5, &in, &p);
        assert_int_equal(p.n_kills, 3);
        assert_string_equal(p.kills[0].instance->id, "o5");
        assert_int_equal(p.kills[0].reason, LAUNCH_KILL_UNHEALTHY_OLD);
        /* healthy old ones: oldest first */
        assert_string_equal(p.kills[1].instance->id, "o1");
        assert_string_equal(p.kills[2].instance->id, "o2");
        assert_int_equal(p.kills[1].reason, LAUNCH_KILL_ROLLING);
        assert_int_equal(p.want, 0); /* 5 old active: no room under maxCapacity 4 */
        assert_false(p.clean);
        launch_plan_release(&p);
        /* two of them dying: they still count against maxCapacity, nothing new yet */
        v[0].goal = v[1].goal = GOAL_STOPPED;
        decide(app, v, 4, &in, &p);
        assert_int_equal(p.want, 0);
        assert_int_equal(p.n_kills, 0); /* H = 2 = minHealthy */
        launch_plan_release(&p);
        /* once they ended: room for two new ones */
        v[0].state = v[1].state = TASK_KILLED;
        decide(app, v, 4, &in, &p);
        assert_int_equal(p.want, 2);
        assert_int_equal(p.n_expunge, 2);
        assert_int_equal(p.n_kills, 0);
        launch_plan_release(&p);
        json_decref(app);
}

static void converged_when_n_new_are_healthy_and_nothing_else_lives(void **state) {
        json_t *app = app_doc(NULL, 2);
        struct instance v[] = { RUN("i1", "a1", 1000, V2), RUN("i2", "a1", 2000, V2), RUN("i3", "a1", 3000, V2) };
        v[2].state = TASK_KILLED;
        struct launch_plan_input in = { 0 };
        struct launch_plan p;
        decide(app, v, 3, &in, &p);
        assert_true(p.converged);
        assert_true(p.clean);
        assert_int_equal(p.n_expunge, 1);
        launch_plan_release(&p);
        json_decref(app);
}

/* min_healthy_ms (a restart's STRATA_DEPLOY_MIN_HEALTHY_SECONDS): a new instance that has run less
 * than that is not healthy for the rolling rule nor for convergence, and the plan says when it
 * will be. n = 1, one old and one new running 1 s. */
static void a_new_instance_counts_after_min_healthy(void **state) {
        json_t *app = app_doc(NULL, 1);
        struct instance v[] = { RUN("o1", "a1", 1000, V1), RUN("n1", "a1", NOW - 1000, V2),
                                RUN("n2", "a1", NOW - 500, V2) };
        struct launch_plan_input in = { .min_healthy_ms = 3000 };
        struct launch_plan p;
        decide(app, v, 2, &in, &p);
        assert_int_equal(p.n_kills, 0); /* minimumHealthCapacity 1: the old one stays */
        assert_int_equal(p.want, 0);    /* maximumOverCapacity 1: no room for another */
        assert_false(p.converged);
        assert_int_equal(p.settle_at_ms, NOW + 2000); /* when to look again */
        launch_plan_release(&p);
        in.now_ms = NOW + 2000;
        decide(app, v, 2, &in, &p);
        kills_are(&p, (const char *const[]){ "o1" }, 1, LAUNCH_KILL_ROLLING);
        assert_int_equal(p.settle_at_ms, 0);
        launch_plan_release(&p);
        /* converged only when every new one has run long enough; without the rule at once */
        v[0].state = TASK_KILLED;
        app = (json_decref(app), app_doc(NULL, 2));
        decide(app, v, 3, &in, &p);
        assert_false(p.converged);
        assert_int_equal(p.settle_at_ms, NOW + 2500); /* the earliest still held back */
        launch_plan_release(&p);
        in.now_ms = NOW + 2500;
        decide(app, v, 3, &in, &p);
        assert_true(p.converged);
        launch_plan_release(&p);
        in.now_ms = NOW;
        in.min_healthy_ms = 0;
        decide(app, v, 3, &in, &p);
        assert_true(p.converged);
        launch_plan_release(&p);
        json_decref(app);
        /* no restart deployment (it failed), but still rolling: rolling_min_healthy_ms holds the
         * old one until the new one has run that long; nothing old left, it plays no part */
        app = app_doc(NULL, 1);
        v[0].state = TASK_RUNNING;
        in = (struct launch_plan_input){ .rolling_min_healthy_ms = 3000 };
        decide(app, v, 2, &in, &p);
        assert_int_equal(p.n_kills, 0);
        assert_int_equal(p.settle_at_ms, NOW + 2000);
        launch_plan_release(&p);
        in.now_ms = NOW + 2000;
        decide(app, v, 2, &in, &p);
        kills_are(&p, (const char *const[]){ "o1" }, 1, LAUNCH_KILL_ROLLING);
        launch_plan_release(&p);
        in.now_ms = NOW;
        decide(app, v + 1, 1, &in, &p);
        assert_true(p.converged);
        assert_int_equal(p.settle_at_ms, 0);
        launch_plan_release(&p);
        json_decref(app);
}

static void reasons_round_trip(void **state) {
        for (int r = 0; r < _LAUNCH_KILL_REASON_MAX; r++)
                assert_int_equal(launch_kill_reason_from_string(launch_kill_reason_to_string(r)), r);
        assert_int_equal(launch_kill_reason_from_string("nope"), -EINVAL);
        assert_null(launch_kill_reason_to_string(_LAUNCH_KILL_REASON_MAX));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(scale_down_kills_the_youngest_by_default),
                cmocka_unit_test(oldest_first_and_not_running_yet_first),
                cmocka_unit_test(group_by_scale_down_spreads_as_marathon_does),
                cmocka_unit_test(a_deleted_app_loses_everything_alive),
                cmocka_unit_test(a_later_deployment_step_waits),
                cmocka_unit_test(backoff_holds_the_launch),
                cmocka_unit_test(unreachable_past_inactive_after_is_replaced),
                cmocka_unit_test(rolling_restart_kills_unhealthy_old_first_then_within_budget),
                cmocka_unit_test(converged_when_n_new_are_healthy_and_nothing_else_lives),
                cmocka_unit_test(a_new_instance_counts_after_min_healthy),
                cmocka_unit_test(reasons_round_trip),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
