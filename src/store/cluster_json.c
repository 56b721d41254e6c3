/* cluster_json.c — the snapshot encoding of agents and instances, and its inverse.
 *
 * Keys of the snapshot's "state" object (all absent in snapshots older than agents; then the
 * cluster part is empty):
 * | key           | value                                                                    |
 * | cluster       | {"id": cluster id | null, "next_agent": n}                                 |
 * | agents        | [{"id", "hostname", "address"?, "resources": {cpus, mem, disk, gpus, ports: [[b,e]…]}, |
 * |               |   "attributes": {k: v}, "state", "registered_at", "state_since"}] in registration order |
 * | instance_apps | [{"app_id", "last_failure"?: {…}, "instances": [inst…]}] in group order   |
 * | inst          | [id, version, agent id, [ports…], state, goal, health (-1 none, 0, 1),    |
 * |               |  [cpus, mem, disk, gpus], staged_at, started_at, updated_at, message | null] |
 *
 * Derived data (used resources, counts, indexes) is rebuilt on restore, not stored. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "common/alloc.h"
#include "store/cluster_internal.h"

static json_t *agent_to_json(const struct agent *a) {
        json_t *ports = json_array();
        for (size_t i = 0; i < a->n_ports; i++)
                json_array_append_new(ports, json_pack("[i,i]", a->ports[i].begin, a->ports[i].end));
        json_t *o = json_pack("{s:s,s:s,s:{s:f,s:f,s:f,s:f,s:o},s:O,s:s,s:I,s:I}", "id", a->id, "hostname",
                              a->hostname, "resources", "cpus", a->cpus, "mem", a->mem, "disk", a->disk, "gpus",
                              a->gpus, "ports", ports, "attributes", a->attributes, "state",
                              agent_state_to_string(a->state), "registered_at", (json_int_t)a->registered_at,
                              "state_since", (json_int_t)a->state_since);
        if (a->address)
                json_object_set_new(o, "address", json_string(a->address));
        return o;
}

static json_t *instance_to_json(const struct instance *i) {
        json_t *ports = json_array();
        for (size_t k = 0; k < i->n_ports; k++)
                json_array_append_new(ports, json_integer(i->ports[k]));
        return json_pack("[s,s,s,o,s,s,i,[f,f,f,f],I,I,I,s?]", i->id, i->version, i->agent_id, ports,
                         task_state_to_string(i->state), instance_goal_to_string(i->goal),
                         i->has_health ? (int)i->healthy : -1, (double)i->cpus, (double)i->mem,
                         (double)i->disk, (double)i->gpus, (json_int_t)i->staged_at, (json_int_t)i->started_at,
                         (json_int_t)i->updated_at, i->message);
}

void cluster_to_json(const struct cluster *c, json_t *doc) {
        json_object_set_new(doc, "cluster",
                            json_pack("{s:s?,s:I}", "id", c->cluster_id, "next_agent", (json_int_t)c->next_agent));
        json_t *agents = json_array();
        for (struct agent_node *a = c->agents_first; a; a = a->next)
                json_array_append_new(agents, agent_to_json(&a->pub));
        json_object_set_new(doc, "agents", agents);
        json_t *groups = json_array();
        for (struct app_group *g = c->groups_first; g; g = g->next) {
                json_t *insts = json_array();
                for (struct inst_node *n = g->first; n; n = n->app_next)
                        json_array_append_new(insts, instance_to_json(&n->pub));
                json_t *o = json_pack("{s:s,s:o}", "app_id", g->app_id, "instances", insts);
                if (g->last_failure)
                        json_object_set(o, "last_failure", g->last_failure);
                json_array_append_new(groups, o);
        }
        json_object_set_new(doc, "instance_apps", groups);
}

/* ---- restore ---- */

static bool resource_ok(const json_t *v, double *ret) {
        double d = json_number_value(v);
        if (!json_is_number(v) || !(d >= 0 && d <= 1e9))
                return false;
        *ret = d;
        return true;
}

static int agent_from_json(struct cluster *c, const json_t *o, size_t idx, struct err *err) {
        const char *id, *hostname, *address;
        const json_t *res = json_object_get(o, "resources"), *attrs = json_object_get(o, "attributes");
        const json_t *ports = json_object_get(res, "ports"), *range;
        double r[4];
        int st = agent_state_from_string(json_string_value(json_object_get(o, "state")));
        json_t *reg = json_object_get(o, "registered_at"), *since = json_object_get(o, "state_since");
        size_t i;

        if (cluster_get_str(json_object_get(o, "id"), CLUSTER_MAX_ID_LEN, false, &id) < 0 ||
            cluster_get_str(json_object_get(o, "hostname"), CLUSTER_MAX_HOST_LEN, false, &hostname) < 0 ||
            cluster_get_str(json_object_get(o, "address"), CLUSTER_MAX_HOST_LEN, true, &address) < 0 ||
            !json_is_object(res) || !resource_ok(json_object_get(res, "cpus"), &r[0]) ||
            !resource_ok(json_object_get(res, "mem"), &r[1]) || !resource_ok(json_object_get(res, "disk"), &r[2]) ||
            !resource_ok(json_object_get(res, "gpus"), &r[3]) || !json_is_array(ports) ||
            json_array_size(ports) > CLUSTER_MAX_AGENT_RANGES || !json_is_object(attrs) || st < 0 ||
            !json_is_integer(reg) || !json_is_integer(since))
                return err_set(err, -EINVAL, "state: agents[%zu] malformed", idx);
        if (cluster_agent(c, id))
                return err_set(err, -EINVAL, "state: agents[%zu]: duplicate id '%s'", idx, id);
        json_array_foreach(ports, i, range) {
                json_t *b = json_array_get(range, 0), *e = json_array_get(range, 1);
                if (!json_is_integer(b) || !json_is_integer(e) || json_integer_value(b) < 1 ||
                    json_integer_value(e) > 65535 || json_integer_value(b) > json_integer_value(e))
                        return err_set(err, -EINVAL, "state: agents[%zu]: bad port range", idx);
        }
        struct agent_node *a = cluster_agent_add(c, id);
        a->pub.hostname = xstrdup(hostname);
        a->pub.address = address ? xstrdup(address) : NULL;
        a->pub.cpus = r[0];
        a->pub.mem = r[1];
        a->pub.disk = r[2];
        a->pub.gpus = r[3];
        a->pub.n_ports = json_array_size(ports);
        a->pub.ports = xcalloc(a->pub.n_ports + 1, sizeof *a->pub.ports);
        json_array_foreach(ports, i, range) {
                a->pub.ports[i] = (struct port_range){(uint16_t)json_integer_value(json_array_get(range, 0)),
                                                      (uint16_t)json_integer_value(json_array_get(range, 1))};
        }
        a->pub.attributes = json_deep_copy(attrs);
        a->pub.state = (enum agent_state)st;
        a->pub.registered_at = json_integer_value(reg);
        a->pub.state_since = json_integer_value(since);
        return 0;
}

static int instance_from_json(struct cluster *c, struct app_group *g, const json_t *a, struct err *err) {
        const char *id, *version, *agent_id, *message;
        const json_t *ports = json_array_get(a, 3), *res = json_array_get(a, 7), *p;
        int st = task_state_from_string(json_string_value(json_array_get(a, 4)));
        int goal = instance_goal_from_string(json_string_value(json_array_get(a, 5)));
        json_t *health = json_array_get(a, 6);
        json_t *times[3] = {json_array_get(a, 8), json_array_get(a, 9), json_array_get(a, 10)};
        uint16_t port_buf[CLUSTER_MAX_INSTANCE_PORTS];
        double r[4];
        size_t i;

        if (!json_is_array(a) || json_array_size(a) != 12 ||
            cluster_get_str(json_array_get(a, 0), CLUSTER_MAX_ID_LEN, false, &id) < 0 ||
            cluster_get_str(json_array_get(a, 1), CLUSTER_MAX_VERSION_LEN, false, &version) < 0 ||
            cluster_get_str(json_array_get(a, 2), CLUSTER_MAX_ID_LEN, false, &agent_id) < 0 ||
            cluster_get_str(json_array_get(a, 11), CLUSTER_MAX_MESSAGE_LEN, true, &message) < 0 ||
            !json_is_array(ports) || json_array_size(ports) > CLUSTER_MAX_INSTANCE_PORTS || st < 0 ||
            st == TASK_UNKNOWN || goal < 0 || !json_is_integer(health) || json_integer_value(health) < -1 ||
            json_integer_value(health) > 1 || !json_is_array(res) || json_array_size(res) != 4)
                return -EINVAL;
        for (int k = 0; k < 4; k++)
                if (!resource_ok(json_array_get(res, (size_t)k), &r[k]))
                        return -EINVAL;
        for (int k = 0; k < 3; k++)
                if (!json_is_integer(times[k]))
                        return -EINVAL;
        json_array_foreach(ports, i, p) {
                if (!json_is_integer(p) || json_integer_value(p) < 1 || json_integer_value(p) > 65535)
                        return -EINVAL;
                port_buf[i] = (uint16_t)json_integer_value(p);
        }
        struct agent_node *agent = cluster_agent(c, agent_id);
        if (!agent)
                return err_set(err, -EINVAL, "state: instance '%s' is on unknown agent '%s'", id, agent_id);
        if (cluster_instance(c, id))
                return err_set(err, -EINVAL, "state: duplicate instance '%s'", id);
        float fr[4] = {(float)r[0], (float)r[1], (float)r[2], (float)r[3]};
        struct inst_node *n = cluster_instance_add(c, id, g, agent, version, port_buf, json_array_size(ports), fr);
        cluster_instance_set_state(c, n, (enum task_state)st);
        if (json_integer_value(health) >= 0)
                cluster_instance_set_health(c, n, true, json_integer_value(health) == 1);
        cluster_instance_set_message(c, n, message);
        n->pub.goal = (uint8_t)goal;
        n->pub.staged_at = json_integer_value(times[0]);
        n->pub.started_at = json_integer_value(times[1]);
        n->pub.updated_at = json_integer_value(times[2]);
        return 0;
}

static int group_from_json(struct cluster *c, const json_t *o, size_t idx, struct err *err) {
        const char *app_id;
        const json_t *insts = json_object_get(o, "instances"), *lf = json_object_get(o, "last_failure"), *a;
        size_t i;
        if (cluster_get_str(json_object_get(o, "app_id"), CLUSTER_MAX_ID_LEN, false, &app_id) < 0 ||
            !json_is_array(insts) || (lf && !json_is_object(lf)))
                return err_set(err, -EINVAL, "state: instance_apps[%zu] malformed", idx);
        if (cluster_group(c, app_id))
                return err_set(err, -EINVAL, "state: instance_apps[%zu]: duplicate app '%s'", idx, app_id);
        struct app_group *g = cluster_group_get_or_add(c, app_id);
        if (lf)
                g->last_failure = json_deep_copy(lf);
        json_array_foreach(insts, i, a) {
                int r = instance_from_json(c, g, a, err);
                if (r < 0) {
                        if (!err || !err->msg)
                                err_set(err, r, "state: instance_apps[%zu] ('%s'): instances[%zu] malformed", idx,
                                        app_id, i);
                        return r;
                }
        }
        return 0;
}

int cluster_from_json(struct cluster *out, const json_t *doc, struct err *err) {
        const json_t *cl = json_object_get(doc, "cluster"), *agents = json_object_get(doc, "agents");
        const json_t *groups = json_object_get(doc, "instance_apps"), *o;
        size_t i;
        int r = 0;

        if ((cl && !json_is_object(cl)) || (agents && !json_is_array(agents)) || (groups && !json_is_array(groups)))
                return err_set(err, -EINVAL, "state: \"cluster\", \"agents\" or \"instance_apps\" malformed");
        if (cl) {
                const char *id;
                json_t *next = json_object_get(cl, "next_agent");
                if (cluster_get_str(json_object_get(cl, "id"), 64, true, &id) < 0 || !json_is_integer(next) ||
                    json_integer_value(next) < 0)
                        return err_set(err, -EINVAL, "state: \"cluster\" malformed");
                out->cluster_id = id ? xstrdup(id) : NULL;
                out->next_agent = (uint64_t)json_integer_value(next);
        }
        json_array_foreach(agents, i, o) {
                r = agent_from_json(out, o, i, err);
                if (r < 0)
                        goto fail;
        }
        json_array_foreach(groups, i, o) {
                r = group_from_json(out, o, i, err);
                if (r < 0)
                        goto fail;
        }
        return 0;
fail:
        cluster_release(out);
        return r;
}
