/* fsm_instances.c — the instance commands: placements, observed status, goals, expunge.
 *
 * Each handler checks the whole command first and only then changes the state, so a bad item
 * fails the command with nothing applied. Items come as objects or as compact arrays (see
 * cluster_state.h); both parse to the same thing. */
#include <errno.h>
#include <string.h>

#include "common/alloc.h"
#include "common/timeutil.h"
#include "store/cluster_internal.h"
#include "store/state_internal.h"
#include "store/store_fsm.h"

/* The items array of a command, bounded. */
static int get_items(const json_t *cmd, const char *key, const char *type, const json_t **ret,
                     struct err *err) {
        const json_t *items = json_object_get(cmd, key);
        if (!json_is_array(items))
                return err_set(err, -EINVAL, "%s: expected a \"%s\" array", type, key);
        if (json_array_size(items) > CLUSTER_MAX_ITEMS)
                return err_set(err, -EINVAL, "%s: more than %d items", type, CLUSTER_MAX_ITEMS);
        *ret = items;
        return 0;
}

/* ---- instances_place ---- */

struct place_item {
        const char *id, *app_id, *version, *agent_id;
        uint32_t ports_at; /* into the command's port scratch */
        uint8_t n_ports;
        bool has_res;
        float res[4];
};

static int parse_ports(const json_t *ports, uint16_t *out, uint8_t *ret_n) {
        size_t i;
        json_t *p;
        if (!ports || json_is_null(ports)) {
                *ret_n = 0;
                return 0;
        }
        if (!json_is_array(ports) || json_array_size(ports) > CLUSTER_MAX_INSTANCE_PORTS)
                return -EINVAL;
        json_array_foreach(ports, i, p) {
                if (!json_is_integer(p) || json_integer_value(p) < 1 || json_integer_value(p) > 65535)
                        return -EINVAL;
                out[i] = (uint16_t)json_integer_value(p);
        }
        *ret_n = (uint8_t)json_array_size(ports);
        return 0;
}

static int parse_res(const json_t *item, struct place_item *pi) {
        static const char *const names[4] = {"cpus", "mem", "disk", "gpus"};
        for (int k = 0; k < 4; k++) {
                json_t *v = json_object_get(item, names[k]);
                if (!v)
                        continue;
                double d = json_number_value(v);
                if (!json_is_number(v) || !(d >= 0 && d <= CLUSTER_MAX_RESOURCE))
                        return -EINVAL;
                pi->has_res = true;
                pi->res[k] = (float)d;
        }
        return 0;
}

static int parse_place_item(const json_t *item, struct place_item *pi, uint16_t *ports) {
        const json_t *id, *app, *version, *agent, *p;
        bool obj = json_is_object(item);
        if (obj) {
                id = json_object_get(item, "id");
                app = json_object_get(item, "appId");
                version = json_object_get(item, "version");
                agent = json_object_get(item, "agentId");
                p = json_object_get(item, "ports");
        } else if (json_is_array(item) && json_array_size(item) >= 4 && json_array_size(item) <= 5) {
                id = json_array_get(item, 0);
                app = json_array_get(item, 1);
                version = json_array_get(item, 2);
                agent = json_array_get(item, 3);
                p = json_array_get(item, 4);
        } else {
                return -EINVAL;
        }
        if (cluster_get_str(id, CLUSTER_MAX_ID_LEN, false, &pi->id) < 0 ||
            cluster_get_str(app, CLUSTER_MAX_ID_LEN, false, &pi->app_id) < 0 ||
            cluster_get_str(version, CLUSTER_MAX_VERSION_LEN, false, &pi->version) < 0 ||
            cluster_get_str(agent, CLUSTER_MAX_ID_LEN, false, &pi->agent_id) < 0 ||
            parse_ports(p, ports, &pi->n_ports) < 0 || (obj && parse_res(item, pi) < 0))
                return -EINVAL;
        return 0;
}

/* What an instance of app_id at version reserves: the app at that version, or the current app
 * when that version is no longer stored. The last lookup is cached: a batch is mostly one app. */
struct res_cache {
        const char *app_id, *version;
        float res[4];
};

static float app_number(const json_t *doc, const char *key) {
        double d = json_number_value(json_object_get(doc, key));
        return d >= 0 && d <= CLUSTER_MAX_RESOURCE ? (float)d : 0;
}

static void app_resources(const struct state *s, const struct place_item *pi, struct res_cache *rc) {
        if (rc->app_id && streq(rc->app_id, pi->app_id) && streq(rc->version, pi->version))
                return;
        const json_t *doc = state_app_at_version(s, pi->app_id, pi->version) ?: state_app_get(s, pi->app_id);
        rc->app_id = pi->app_id;
        rc->version = pi->version;
        rc->res[0] = app_number(doc, "cpus");
        rc->res[1] = app_number(doc, "mem");
        rc->res[2] = app_number(doc, "disk");
        rc->res[3] = app_number(doc, "gpus");
}

/* {"type":"instances_place","v":1,"instances":[item…],"ts"} → {"placed": n, "skipped": [id…]}. */
int fsm_instances_place(struct state *s, const json_t *cmd, json_t **ret_result, struct err *err) {
        struct cluster *c = state_cluster(s);
        const json_t *items, *item;
        int64_t ts;
        size_t i, n_ports = 0;
        int r = get_items(cmd, "instances", "instances_place", &items, err);
        if (r < 0)
                return r;
        if (cluster_cmd_ts(cmd, &ts) < 0)
                return err_set(err, -EINVAL, "instances_place: command has no valid \"ts\"");

        size_t n = json_array_size(items);
        _cleanup_free_ struct place_item *pis = xcalloc(n ? n : 1, sizeof *pis);
        _cleanup_free_ uint16_t *ports = NULL;
        size_t ports_cap = 0;
        json_array_foreach(items, i, item) {
                if (ports_cap - n_ports < CLUSTER_MAX_INSTANCE_PORTS) {
                        ports_cap = ports_cap ? 2 * ports_cap : 4 * CLUSTER_MAX_INSTANCE_PORTS;
                        ports = xrealloc(ports, ports_cap * sizeof *ports);
                }
                if (parse_place_item(item, &pis[i], ports + n_ports) < 0)
                        return err_set(
                                err, -EINVAL,
                                "instances_place: instances[%zu] must be {id, appId, version, agentId, "
                                "ports (at most %d)} or [id, appId, version, agentId, [ports]] within bounds",
                                i, CLUSTER_MAX_INSTANCE_PORTS);
                pis[i].ports_at = (uint32_t)n_ports;
                n_ports += pis[i].n_ports;
        }

        json_t *skipped = ret_result ? json_array() : NULL;
        size_t placed = 0;
        struct res_cache rc = {0};
        for (i = 0; i < n; i++) {
                const struct place_item *pi = &pis[i];
                struct agent_node *a = cluster_agent(c, pi->agent_id);
                if (cluster_instance(c, pi->id) || !a || a->pub.state != AGENT_ACTIVE ||
                    !state_app_get(s, pi->app_id)) {
                        if (skipped)
                                json_array_append_new(skipped, json_string(pi->id));
                        continue;
                }
                const float *res = pi->res;
                if (!pi->has_res) {
                        app_resources(s, pi, &rc);
                        res = rc.res;
                }
                struct app_group *g = cluster_group_get_or_add(c, pi->app_id);
                struct inst_node *node = cluster_instance_add(c, pi->id, g, a, pi->version,
                                                              ports + pi->ports_at, pi->n_ports, res);
                node->pub.staged_at = node->pub.updated_at = ts;
                cluster_note_instance(c, node, TASK_UNKNOWN);
                placed++;
        }
        if (ret_result)
                *ret_result = json_pack("{s:I,s:o}", "placed", (json_int_t)placed, "skipped", skipped);
        return 0;
}

/* ---- instances_status ---- */

struct status_item {
        const char *id, *message;
        int64_t ts;
        uint8_t state;
        int8_t healthy; /* -1: no health result */
        bool ready;
        bool has_checks;
        uint32_t ip; /* the task's IPv4 (network order), 0: not reported */
        size_t n_checks;
        struct health_result *checks; /* has_checks: n_checks results (owned by the caller) */
};

static int parse_status_item(const json_t *item, int64_t cmd_ts, struct status_item *si) {
        const json_t *id, *state, *ts, *msg, *healthy, *ready, *checks, *ip;
        if (json_is_object(item)) {
                id = json_object_get(item, "id");
                state = json_object_get(item, "state");
                ts = json_object_get(item, "ts");
                msg = json_object_get(item, "message");
                healthy = json_object_get(item, "healthy");
                ready = json_object_get(item, "ready");
                checks = json_object_get(item, "checks");
                ip = json_object_get(item, "ip");
        } else if (json_is_array(item) && json_array_size(item) >= 2 && json_array_size(item) <= 8) {
                /* Items of older masters have 5 elements or fewer: the rest is absent. */
                id = json_array_get(item, 0);
                state = json_array_get(item, 1);
                ts = json_array_get(item, 2);
                msg = json_array_get(item, 3);
                healthy = json_array_get(item, 4);
                ready = json_array_get(item, 5);
                checks = json_array_get(item, 6);
                ip = json_array_get(item, 7);
        } else {
                return -EINVAL;
        }
        int st = task_state_from_string(json_string_value(state));
        if (cluster_get_str(id, CLUSTER_MAX_ID_LEN, false, &si->id) < 0 || st < 0)
                return -EINVAL;
        si->state = (uint8_t)st;
        /* An empty message is no message. */
        if (json_is_string(msg) && json_string_length(msg) == 0)
                msg = NULL;
        if (cluster_get_str(msg, CLUSTER_MAX_MESSAGE_LEN, true, &si->message) < 0)
                return -EINVAL;
        if (!ts || json_is_null(ts))
                si->ts = cmd_ts;
        else if (json_is_integer(ts) && json_integer_value(ts) >= 0)
                si->ts = json_integer_value(ts);
        else
                return -EINVAL;
        if (si->ts < 0)
                return -EINVAL;
        if (!healthy || json_is_null(healthy))
                si->healthy = -1;
        else if (json_is_boolean(healthy))
                si->healthy = json_is_true(healthy);
        else
                return -EINVAL;
        if (ready && !json_is_null(ready) && !json_is_boolean(ready))
                return -EINVAL;
        si->ready = json_is_true(ready);
        if (ip && !json_is_null(ip) && cluster_parse_ipv4(json_string_value(ip), &si->ip) < 0)
                return -EINVAL;
        si->has_checks = checks && !json_is_null(checks);
        if (si->has_checks) {
                struct health_result tmp[HEALTH_MAX_CHECKS];
                if (health_results_from_json(checks, tmp, &si->n_checks, NULL) < 0)
                        return -EINVAL;
                si->checks = xmalloc(MAX(si->n_checks, (size_t)1) * sizeof *tmp);
                memcpy(si->checks, tmp, si->n_checks * sizeof *tmp);
        }
        return 0;
}

static void status_items_free(struct status_item *sis, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(sis[i].checks);
        free(sis);
}

/* STAGING < STARTING < everything else: an update that goes back is stale. */
static int rank(enum task_state st) {
        return st == TASK_STAGING ? 0 : st == TASK_STARTING ? 1 : 2;
}

static void record_failure(struct state *s, struct inst_node *n, int64_t ts) {
        /* Only for an app that exists: a deleted app's instances being killed must not leave a
         * failure behind for a later app with the same id. */
        if (!state_app_get(s, n->pub.app_id))
                return;
        char when[25];
        time_format_ms(ts, when);
        json_t *f = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "appId", n->pub.app_id, "host",
                              n->agent->pub.hostname ?: "", "message", n->pub.message ?: "", "state",
                              task_state_to_string(n->pub.state), "taskId", n->pub.id, "timestamp", when,
                              "version", n->pub.version, "slaveId", n->pub.agent_id);
        json_decref(n->group->last_failure);
        n->group->last_failure = f;
}

/* {"type":"instances_status","v":1,"updates":[item…],"ts"} → {"changed": n}. */
int fsm_instances_status(struct state *s, const json_t *cmd, json_t **ret_result, struct err *err) {
        struct cluster *c = state_cluster(s);
        const json_t *items, *item;
        int64_t cmd_ts = -1;
        size_t i;
        int r = get_items(cmd, "updates", "instances_status", &items, err);
        if (r < 0)
                return r;
        (void)cluster_cmd_ts(cmd, &cmd_ts);

        size_t n = json_array_size(items);
        struct status_item *sis = xcalloc(n ? n : 1, sizeof *sis);
        json_array_foreach(items, i, item) {
                if (parse_status_item(item, cmd_ts, &sis[i]) < 0) {
                        status_items_free(sis, n);
                        return err_set(err, -EINVAL,
                                       "instances_status: updates[%zu] must be {id, state, ts, message (at "
                                       "most %d bytes), healthy, ready, checks, ip} with a valid TASK_ state and a "
                                       "time",
                                       i, CLUSTER_MAX_MESSAGE_LEN);
                }
        }

        size_t changed = 0;
        for (i = 0; i < n; i++) {
                const struct status_item *si = &sis[i];
                struct inst_node *node = cluster_instance(c, si->id);
                /* TASK_UNKNOWN says nothing about the task (Mesos answers it to reconciliation). */
                if (!node || si->state == TASK_UNKNOWN)
                        continue;
                enum task_state old = node->pub.state, st = si->state;
                if (task_state_is_terminal(old) || rank(st) < rank(old))
                        continue;
                bool state_changes = st != old;
                bool health_changes =
                        st == TASK_RUNNING && si->healthy >= 0 &&
                        (state_changes || !node->pub.has_health || node->pub.healthy != (si->healthy == 1));
                bool checks_change = st == TASK_RUNNING && si->has_checks &&
                                     !cluster_instance_checks_equal(node, si->checks, si->n_checks);
                bool ready_changes = si->ready && !node->pub.ready && !task_state_is_terminal(st);
                bool ip_changes = si->ip && si->ip != node->pub.ip;
                /* Remembered before the state change clears it: a task killed while unhealthy
                 * (killed for failing its health checks, normally) is a failure of its app. */
                bool was_unhealthy = (node->pub.has_health && !node->pub.healthy) || node->pub.left_unhealthy;
                if (state_changes || health_changes || checks_change || ready_changes || ip_changes) {
                        cluster_note_instance(c, node, old);
                        changed++;
                }
                if (si->message || state_changes)
                        cluster_instance_set_message(c, node, si->message);
                if (state_changes)
                        cluster_instance_set_state(c, node, st);
                if (health_changes)
                        cluster_instance_set_health(c, node, true, si->healthy == 1);
                if (checks_change)
                        cluster_instance_set_checks(c, node, si->checks, si->n_checks);
                if (ready_changes)
                        node->pub.ready = true;
                if (ip_changes)
                        node->pub.ip = si->ip;
                if (st == TASK_RUNNING && node->pub.started_at == 0)
                        node->pub.started_at = si->ts;
                node->pub.updated_at = si->ts;
                if (state_changes && (st == TASK_FAILED || st == TASK_ERROR || st == TASK_LOST ||
                                      (st == TASK_KILLED && was_unhealthy)))
                        record_failure(s, node, si->ts);
        }
        status_items_free(sis, n);
        if (ret_result)
                *ret_result = json_pack("{s:I}", "changed", (json_int_t)changed);
        return 0;
}

/* ---- instances_goal, instances_expunge ---- */

static int check_ids(const json_t *ids, const char *type, struct err *err) {
        size_t i;
        json_t *id;
        const char *str;
        json_array_foreach(ids, i, id) {
                if (cluster_get_str(id, CLUSTER_MAX_ID_LEN, false, &str) < 0)
                        return err_set(err, -EINVAL, "%s: ids[%zu] must be a string of at most %d bytes",
                                       type, i, CLUSTER_MAX_ID_LEN);
        }
        return 0;
}

/* {"type":"instances_goal","v":1,"ids":[…],"goal"} → no result. Unknown ids are ignored. */
int fsm_instances_goal(struct state *s, const json_t *cmd, json_t **ret_result, struct err *err) {
        struct cluster *c = state_cluster(s);
        const json_t *ids, *id;
        size_t i;
        int r = get_items(cmd, "ids", "instances_goal", &ids, err);
        if (r < 0)
                return r;
        int goal = instance_goal_from_string(json_string_value(json_object_get(cmd, "goal")));
        if (goal < 0)
                return err_set(err, -EINVAL,
                               "instances_goal: \"goal\" must be running, stopped or decommissioned");
        r = check_ids(ids, "instances_goal", err);
        if (r < 0)
                return r;
        json_array_foreach(ids, i, id) {
                struct inst_node *n = cluster_instance(c, json_string_value(id));
                if (!n || n->pub.goal == goal)
                        continue;
                cluster_note_instance(c, n, n->pub.state);
                cluster_instance_set_goal(c, n, (enum instance_goal)goal);
        }
        return 0;
}

/* {"type":"instances_expunge","v":1,"ids":[…],"force"?} → {"removed": n}. */
int fsm_instances_expunge(struct state *s, const json_t *cmd, json_t **ret_result, struct err *err) {
        struct cluster *c = state_cluster(s);
        const json_t *ids, *id;
        size_t i, removed = 0;
        bool force = json_is_true(json_object_get(cmd, "force"));
        int r = get_items(cmd, "ids", "instances_expunge", &ids, err);
        if (r < 0)
                return r;
        r = check_ids(ids, "instances_expunge", err);
        if (r < 0)
                return r;
        json_array_foreach(ids, i, id) {
                struct inst_node *n = cluster_instance(c, json_string_value(id));
                if (!n || (!force && !task_state_is_terminal(n->pub.state)))
                        continue;
                cluster_instance_remove(c, n);
                removed++;
        }
        if (ret_result)
                *ret_result = json_pack("{s:I}", "removed", (json_int_t)removed);
        return 0;
}
