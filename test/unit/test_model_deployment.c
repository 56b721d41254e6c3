/* test_model_deployment.c — the rolling-restart rule on api.md §2.11's worked examples, run to
 * completion in a small simulation; plan steps and dependency layers (cycles rejected). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/util.h"
#include "model/deployment.h"

/* --- a simulated app under the rule ---------------------------------------------------------- */

enum { MAXI = 64 };
struct sim_inst {
        bool is_new, healthy, goal_running, terminal;
};
struct sim {
        struct sim_inst in[MAXI];
        int n_in;
        unsigned n;
        double mh, mo;
        unsigned max_total, min_healthy_seen; /* extremes observed */
        unsigned first_kill, first_launch;    /* what the first decision did */
        int decisions;
};

static unsigned count(const struct sim *s, bool (*pred)(const struct sim_inst *)) {
        unsigned c = 0;
        for (int i = 0; i < s->n_in; i++)
                c += pred(&s->in[i]);
        return c;
}
static bool p_alive(const struct sim_inst *i) { return !i->terminal; }
static bool p_healthy(const struct sim_inst *i) { return !i->terminal && i->goal_running && i->healthy; }
static bool p_old_active(const struct sim_inst *i) { return !i->terminal && !i->is_new; }
static bool p_new_started(const struct sim_inst *i) { return !i->terminal && i->is_new && i->goal_running; }
static bool p_new_healthy(const struct sim_inst *i) { return p_new_started(i) && i->healthy; }

/* One pass of the launcher: decide, kill, launch (what launcher.c does with the rule). */
static void pass(struct sim *s) {
        struct rolling_input in = {
                .n = s->n, .min_health = s->mh, .max_over = s->mo, .healthy = count(s, p_healthy),
                .old_active = count(s, p_old_active), .new_started = count(s, p_new_started),
        };
        struct rolling_decision d;
        rolling_decide(&in, &d);
        unsigned killed = 0;
        /* Unhealthy old ones first (they cost nothing), then healthy ones within the budget. */
        for (int i = 0; i < s->n_in; i++)
                if (!s->in[i].is_new && s->in[i].goal_running && !s->in[i].terminal && !s->in[i].healthy) {
                        s->in[i].goal_running = false;
                        killed++;
                }
        for (int i = 0, b = (int)d.kill_healthy_old; i < s->n_in && b > 0; i++)
                if (!s->in[i].is_new && s->in[i].goal_running && !s->in[i].terminal && s->in[i].healthy) {
                        s->in[i].goal_running = false;
                        killed++;
                        b--;
                }
        for (unsigned k = 0; k < d.launch; k++) {
                assert_true(s->n_in < MAXI);
                s->in[s->n_in++] = (struct sim_inst){ .is_new = true, .goal_running = true };
        }
        if (s->decisions++ == 0) {
                s->first_kill = killed;
                s->first_launch = d.launch;
        }
        unsigned alive = count(s, p_alive);
        if (alive > s->max_total)
                s->max_total = alive;
}

/* One thing happens in the cluster: a killed instance ends, else a new one becomes healthy. */
static bool event(struct sim *s) {
        for (int i = 0; i < s->n_in; i++)
                if (!s->in[i].terminal && !s->in[i].goal_running) {
                        s->in[i].terminal = true;
                        return true;
                }
        for (int i = 0; i < s->n_in; i++)
                if (p_new_started(&s->in[i]) && !s->in[i].healthy) {
                        s->in[i].healthy = true;
                        return true;
                }
        return false;
}

static void run(struct sim *s, unsigned n, unsigned old_healthy, unsigned old_unhealthy, double mh, double mo) {
        *s = (struct sim){ .n = n, .mh = mh, .mo = mo, .min_healthy_seen = 1000 };
        for (unsigned i = 0; i < old_healthy + old_unhealthy; i++)
                s->in[s->n_in++] = (struct sim_inst){ .healthy = i < old_healthy, .goal_running = true };
        for (int guard = 0; guard < 1000; guard++) {
                pass(s);
                unsigned h = count(s, p_healthy);
                if (h < s->min_healthy_seen)
                        s->min_healthy_seen = h;
                if (!event(s))
                        break;
        }
}

static void n3_full_capacity_starts_three_then_kills_one_by_one(void **state) {
        struct sim s;
        run(&s, 3, 3, 0, 1.0, 1.0);
        assert_int_equal(s.first_launch, 3);
        assert_int_equal(s.first_kill, 0);
        assert_int_equal(s.max_total, 6);
        assert_int_equal(s.min_healthy_seen, 3);
        assert_int_equal(count(&s, p_new_healthy), 3);
        assert_int_equal(count(&s, p_old_active), 0);
}

static void n3_zero_capacity_kills_everything_first(void **state) {
        struct sim s;
        run(&s, 3, 3, 0, 0.0, 0.0);
        assert_int_equal(s.first_kill, 3);
        assert_int_equal(s.first_launch, 0);
        assert_int_equal(s.max_total, 3);
        assert_int_equal(count(&s, p_new_healthy), 3);
        assert_int_equal(count(&s, p_old_active), 0);
}

static void n4_half_health_no_overcapacity_kills_two_then_one_per_ready(void **state) {
        struct sim s;
        run(&s, 4, 4, 0, 0.5, 0.0);
        assert_int_equal(s.first_kill, 2);
        assert_int_equal(s.first_launch, 0);
        assert_int_equal(s.max_total, 4);
        assert_int_equal(s.min_healthy_seen, 2);
        assert_int_equal(count(&s, p_new_healthy), 4);
        assert_int_equal(count(&s, p_old_active), 0);
}

static void n1_full_health_no_overcapacity_runs_one_extra(void **state) {
        struct sim s;
        run(&s, 1, 1, 0, 1.0, 0.0);
        assert_int_equal(s.first_launch, 1);
        assert_int_equal(s.first_kill, 0);
        assert_int_equal(s.max_total, 2); /* the one-extra exception */
        assert_int_equal(s.min_healthy_seen, 1);
        assert_int_equal(count(&s, p_new_healthy), 1);
}

static void unhealthy_old_instances_go_first_and_bounds_hold(void **state) {
        struct sim s;
        run(&s, 5, 3, 2, 0.6, 0.2); /* minHealthy 3, maxCapacity 6 */
        assert_int_equal(s.first_kill, 2); /* the two unhealthy ones, none of the healthy */
        assert_true(s.max_total <= 6);
        assert_true(s.min_healthy_seen >= 3);
        assert_int_equal(count(&s, p_new_healthy), 5);
        assert_int_equal(count(&s, p_old_active), 0);
}

static void new_version_that_never_gets_healthy_keeps_the_old_ones(void **state) {
        struct rolling_input in = { .n = 3, .min_health = 1.0, .max_over = 0.0, .healthy = 3, .old_active = 3,
                                    .new_started = 1 };
        struct rolling_decision d;
        rolling_decide(&in, &d);
        assert_int_equal(d.min_healthy, 3);
        assert_int_equal(d.max_capacity, 4);
        assert_int_equal(d.kill_healthy_old, 0);
        assert_int_equal(d.launch, 0);
}

static void resident_apps_kill_instead_of_growing(void **state) {
        struct rolling_input in = { .n = 2, .min_health = 0.5, .max_over = 0.0, .healthy = 2, .old_active = 2,
                                    .resident = true };
        struct rolling_decision d;
        rolling_decide(&in, &d);
        assert_int_equal(d.max_capacity, 2);
        assert_int_equal(d.kill_healthy_old, 1);
        in = (struct rolling_input){ .n = 1, .min_health = 1.0, .max_over = 0.0, .healthy = 1, .old_active = 1,
                                     .resident = true };
        rolling_decide(&in, &d);
        assert_int_equal(d.max_capacity, 1);
        assert_int_equal(d.kill_healthy_old, 1);
}

/* --- actions and steps ----------------------------------------------------------------------- */

static void actions_follow_what_changed(void **state) {
        json_t *a = json_pack("{s:s,s:s,s:i,s:s}", "id", "/a", "cmd", "x", "instances", 1, "version", "v1");
        json_t *scaled = json_pack("{s:s,s:s,s:i,s:s}", "id", "/a", "cmd", "x", "instances", 3, "version", "v2");
        json_t *same = json_pack("{s:s,s:s,s:i,s:s}", "id", "/a", "cmd", "x", "instances", 1, "version", "v3");
        json_t *changed = json_pack("{s:s,s:s,s:i}", "id", "/a", "cmd", "y", "instances", 1);
        assert_int_equal(deploy_action_for(NULL, a), DEPLOY_SCALE);
        assert_int_equal(deploy_action_for(a, NULL), DEPLOY_STOP);
        assert_int_equal(deploy_action_for(a, scaled), DEPLOY_SCALE);
        assert_int_equal(deploy_action_for(a, same), -1);
        assert_int_equal(deploy_action_for(a, changed), DEPLOY_RESTART);
        assert_string_equal(deploy_action_to_string(DEPLOY_RESTART), "RestartApplication");
        assert_int_equal(deploy_action_from_string("StopApplication"), DEPLOY_STOP);
        assert_int_equal(deploy_action_from_string("Nope"), -EINVAL);
        json_decref(a);
        json_decref(scaled);
        json_decref(same);
        json_decref(changed);
}

static void steps_are_stop_start_then_layers(void **state) {
        json_t *items = json_pack("[{s:s,s:s,s:i},{s:s,s:s,s:i,s:b},{s:s,s:s,s:i,s:b},{s:s,s:s,s:i}]",
                                  "app", "/old", "action", "StopApplication", "layer", 0,
                                  "app", "/web", "action", "ScaleApplication", "layer", 2, "new", 1,
                                  "app", "/db", "action", "ScaleApplication", "layer", 0, "new", 1,
                                  "app", "/cache", "action", "RestartApplication", "layer", 1);
        json_t *steps = deploy_steps(items);
        char *got = json_dumps(steps, JSON_COMPACT);
        assert_string_equal(got,
                            "[{\"actions\":[{\"action\":\"StopApplication\",\"app\":\"/old\"}]},"
                            "{\"actions\":[{\"action\":\"StartApplication\",\"app\":\"/web\"},"
                            "{\"action\":\"StartApplication\",\"app\":\"/db\"}]},"
                            "{\"actions\":[{\"action\":\"ScaleApplication\",\"app\":\"/db\"}]},"
                            "{\"actions\":[{\"action\":\"RestartApplication\",\"app\":\"/cache\"}]},"
                            "{\"actions\":[{\"action\":\"ScaleApplication\",\"app\":\"/web\"}]}]");
        free(got);
        json_decref(steps);
        json_decref(items);
}

/* A tiny state: object id → app. */
static const json_t *g_get(const char *id, void *data) {
        return json_object_get(data, id);
}
static int g_group(const char *group, int (*cb)(const char *, void *), void *cbdata, void *data) {
        const char *k;
        json_t *v;
        size_t n = strlen(group);
        json_object_foreach((json_t *)data, k, v) {
                if (strncmp(k, group, n) == 0 && k[n] == '/') {
                        int r = cb(k, cbdata);
                        if (r)
                                return r;
                }
        }
        return 0;
}

static void layers_follow_the_longest_chain_and_groups(void **state) {
        json_t *apps = json_pack("{s:{s:[]},s:{s:[s]},s:{s:[s]},s:{s:[s,s]}}", "/prod/db", "dependencies",
                                 "/prod/cache", "dependencies", "db", "/prod/web", "dependencies", "/prod/cache",
                                 "/front/lb", "dependencies", "../prod", "/nowhere");
        struct deploy_graph_ops ops = { .app_get = g_get, .group_apps_foreach = g_group, .data = apps };
        unsigned l = 99;
        struct err e = { 0 };
        assert_int_equal(deploy_layer("/prod/db", &ops, &l, &e), 0);
        assert_int_equal(l, 0);
        assert_int_equal(deploy_layer("/prod/cache", &ops, &l, &e), 0); /* relative "db" */
        assert_int_equal(l, 1);
        assert_int_equal(deploy_layer("/prod/web", &ops, &l, &e), 0);
        assert_int_equal(l, 2);
        assert_int_equal(deploy_layer("/front/lb", &ops, &l, &e), 0); /* the group /prod, max 2 */
        assert_int_equal(l, 3);
        json_decref(apps);
}

static void cycles_are_rejected(void **state) {
        json_t *apps = json_pack("{s:{s:[s]},s:{s:[s]},s:{s:[s]},s:{s:[s]}}", "/a", "dependencies", "/b", "/b",
                                 "dependencies", "/c", "/c", "dependencies", "/a", "/self", "dependencies", "/self");
        struct deploy_graph_ops ops = { .app_get = g_get, .group_apps_foreach = g_group, .data = apps };
        unsigned l = 99;
        struct err e = { 0 };
        assert_int_equal(deploy_layer("/a", &ops, &l, &e), -ERR_INVALID);
        assert_string_equal(err_msg(&e), "Dependency graph has cyclic dependencies.");
        assert_int_equal(l, 99);
        err_release(&e);
        assert_int_equal(deploy_layer("/self", &ops, &l, &e), -ERR_INVALID);
        err_release(&e);
        json_decref(apps);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(n3_full_capacity_starts_three_then_kills_one_by_one),
                cmocka_unit_test(n3_zero_capacity_kills_everything_first),
                cmocka_unit_test(n4_half_health_no_overcapacity_kills_two_then_one_per_ready),
                cmocka_unit_test(n1_full_health_no_overcapacity_runs_one_extra),
                cmocka_unit_test(unhealthy_old_instances_go_first_and_bounds_hold),
                cmocka_unit_test(new_version_that_never_gets_healthy_keeps_the_old_ones),
                cmocka_unit_test(resident_apps_kill_instead_of_growing),
                cmocka_unit_test(actions_follow_what_changed),
                cmocka_unit_test(steps_are_stop_start_then_layers),
                cmocka_unit_test(layers_follow_the_longest_chain_and_groups),
                cmocka_unit_test(cycles_are_rejected),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
