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
 * |               |  [cpus, mem, disk, gpus], staged_at, started_at, updated_at, message | null, |
 * |               |  ready, checks | null] — the last two are absent in older snapshots;      |
 * |               |  checks = [health result | null…] (model/health_result.h)                 |
 *
 * Derived data (used resources, counts, indexes) is rebuilt on restore, not stored. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/util.h"
#include "store/cluster_internal.h"
#include "common/jscan.h"

static json_t *agent_to_json(const struct agent *a) {
        json_t *ports = json_array();
        for (size_t i = 0; i < a->n_ports; i++)
                json_array_append_new(ports, json_pack("[i,i]", a->ports[i].begin, a->ports[i].end));
        json_t *o = json_pack("{s:s,s:s,s:{s:f,s:f,s:f,s:f,s:o},s:O,s:s,s:I,s:I}", "id", a->id, "hostname",
                              a->hostname, "resources", "cpus", a->cpus, "mem", a->mem, "disk", a->disk,
                              "gpus", a->gpus, "ports", ports, "attributes", a->attributes, "state",
                              agent_state_to_string(a->state), "registered_at", (json_int_t)a->registered_at,
                              "state_since", (json_int_t)a->state_since);
        if (a->address)
                json_object_set_new(o, "address", json_string(a->address));
        return o;
}

static json_t *checks_to_json(const struct instance *i) {
        if (!i->checks)
                return json_null();
        struct health_result r[HEALTH_MAX_CHECKS];
        size_t n = instance_health_results(i, r);
        json_t *arr = json_array();
        for (size_t k = 0; k < n; k++)
                json_array_append_new(arr, health_result_to_json(&r[k]));
        return arr;
}

static json_t *instance_to_json(const struct instance *i) {
        json_t *ports = json_array();
        for (size_t k = 0; k < i->n_ports; k++)
                json_array_append_new(ports, json_integer(i->ports[k]));
        char ip[16];
        json_t *row = json_pack("[s,s,s,o,s,s,i,[f,f,f,f],I,I,I,s?,b,o]", i->id, i->version, i->agent_id, ports,
                                task_state_to_string(i->state), instance_goal_to_string(i->goal),
                                i->has_health ? (int)i->healthy : -1, (double)i->cpus, (double)i->mem,
                                (double)i->disk, (double)i->gpus, (json_int_t)i->staged_at,
                                (json_int_t)i->started_at, (json_int_t)i->updated_at, i->message, i->ready,
                                checks_to_json(i));
        /* The task's own IP: a 15th element, only when there is one (older readers take 14). */
        if (i->ip)
                json_array_append_new(row, json_string(instance_ip(i, ip)));
        return row;
}

void cluster_to_json(const struct cluster *c, json_t *doc, bool with_instances) {
        json_object_set_new(
                doc, "cluster",
                json_pack("{s:s?,s:I}", "id", c->cluster_id, "next_agent", (json_int_t)c->next_agent));
        json_t *agents = json_array();
        for (struct agent_node *a = c->agents_first; a; a = a->next)
                json_array_append_new(agents, agent_to_json(&a->pub));
        json_object_set_new(doc, "agents", agents);
        if (!with_instances)
                return;
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
        if (!json_is_number(v) || !(d >= 0 && d <= CLUSTER_MAX_RESOURCE))
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
            cluster_get_str(json_object_get(o, "address"), CLUSTER_MAX_ADDRESS_LEN, true, &address) < 0 ||
            !json_is_object(res) || !resource_ok(json_object_get(res, "cpus"), &r[0]) ||
            !resource_ok(json_object_get(res, "mem"), &r[1]) ||
            !resource_ok(json_object_get(res, "disk"), &r[2]) ||
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

/* One instance as the snapshot lists it, decoded; strings borrowed. */
struct inst_row {
        const char *id, *version, *agent_id, *message;
        uint16_t ports[CLUSTER_MAX_INSTANCE_PORTS];
        size_t n_ports;
        int state, goal, health;
        double res[4];
        int64_t times[3];
        bool ready;
        const json_t *checks; /* borrowed; NULL or null: none */
        uint32_t ip;
};

static int row_restore(struct cluster *c, struct app_group *g, const struct inst_row *row, struct err *err) {
        if (row->state < 0 || row->state == TASK_UNKNOWN || row->goal < 0 || row->health < -1 ||
            row->health > 1)
                return -EINVAL;
        struct agent_node *agent = cluster_agent(c, row->agent_id);
        if (!agent)
                return err_set(err, -EINVAL, "state: instance '%s' is on unknown agent '%s'", row->id,
                               row->agent_id);
        if (cluster_instance(c, row->id))
                return err_set(err, -EINVAL, "state: duplicate instance '%s'", row->id);
        float fr[4] = {(float)row->res[0], (float)row->res[1], (float)row->res[2], (float)row->res[3]};
        struct inst_node *n =
                cluster_instance_add(c, row->id, g, agent, row->version, row->ports, row->n_ports, fr);
        cluster_instance_set_state(c, n, (enum task_state)row->state);
        if (row->health >= 0)
                cluster_instance_set_health(c, n, true, row->health == 1);
        cluster_instance_set_message(c, n, row->message);
        if (row->checks && !json_is_null(row->checks)) {
                struct health_result r[HEALTH_MAX_CHECKS];
                size_t k;
                if (health_results_from_json(row->checks, r, &k, NULL) < 0)
                        return err_set(err, -EINVAL, "state: instance '%s' has malformed health results", row->id);
                if (row->state == TASK_RUNNING)
                        cluster_instance_set_checks(c, n, r, k);
        }
        n->pub.ready = row->ready;
        n->pub.ip = row->ip;
        cluster_instance_set_goal(c, n, (enum instance_goal)row->goal);
        n->pub.staged_at = row->times[0];
        n->pub.started_at = row->times[1];
        n->pub.updated_at = row->times[2];
        return 0;
}

static int instance_from_json(struct cluster *c, struct app_group *g, const json_t *a, struct err *err) {
        struct inst_row row = {0};
        const json_t *ports = json_array_get(a, 3), *res = json_array_get(a, 7), *p;
        json_t *health = json_array_get(a, 6);
        size_t i;

        size_t na = json_array_size(a);
        if (!json_is_array(a) || (na != 12 && na != 14 && na != 15) || (na >= 14 && !json_is_boolean(json_array_get(a, 12))) ||
            (na == 15 && cluster_parse_ipv4(json_string_value(json_array_get(a, 14)), &row.ip) < 0) ||
            cluster_get_str(json_array_get(a, 0), CLUSTER_MAX_ID_LEN, false, &row.id) < 0 ||
            cluster_get_str(json_array_get(a, 1), CLUSTER_MAX_VERSION_LEN, false, &row.version) < 0 ||
            cluster_get_str(json_array_get(a, 2), CLUSTER_MAX_ID_LEN, false, &row.agent_id) < 0 ||
            cluster_get_str(json_array_get(a, 11), CLUSTER_MAX_MESSAGE_LEN, true, &row.message) < 0 ||
            !json_is_array(ports) || json_array_size(ports) > CLUSTER_MAX_INSTANCE_PORTS ||
            !json_is_integer(health) || !json_is_array(res) || json_array_size(res) != 4)
                return -EINVAL;
        row.state = task_state_from_string(json_string_value(json_array_get(a, 4)));
        row.goal = instance_goal_from_string(json_string_value(json_array_get(a, 5)));
        row.health = json_integer_value(health) < -1 || json_integer_value(health) > 1
                             ? 9
                             : (int)json_integer_value(health);
        for (int k = 0; k < 4; k++)
                if (!resource_ok(json_array_get(res, (size_t)k), &row.res[k]))
                        return -EINVAL;
        for (int k = 0; k < 3; k++) {
                json_t *t = json_array_get(a, 8 + (size_t)k);
                if (!json_is_integer(t))
                        return -EINVAL;
                row.times[k] = json_integer_value(t);
        }
        json_array_foreach(ports, i, p) {
                if (!json_is_integer(p) || json_integer_value(p) < 1 || json_integer_value(p) > 65535)
                        return -EINVAL;
                row.ports[i] = (uint16_t)json_integer_value(p);
        }
        row.n_ports = json_array_size(ports);
        row.ready = json_is_true(json_array_get(a, 12));
        row.checks = json_array_get(a, 13);
        return row_restore(c, g, &row, err);
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
                                err_set(err, r, "state: instance_apps[%zu] ('%s'): instances[%zu] malformed",
                                        idx, app_id, i);
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

        if ((cl && !json_is_object(cl)) || (agents && !json_is_array(agents)) ||
            (groups && !json_is_array(groups)))
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

/* ---- streamed encoding of "instance_apps" ---- */

struct out {
        int (*put)(const char *buf, size_t n, void *data);
        void *data;
        char buf[64 * 1024];
        size_t len;
        int status;
};

static void out_flush(struct out *o) {
        if (o->len && o->status == 0 && o->put(o->buf, o->len, o->data) < 0)
                o->status = -ENOMEM;
        o->len = 0;
}

static void out_put(struct out *o, const char *p, size_t n) {
        if (o->len + n > sizeof o->buf)
                out_flush(o);
        if (n > sizeof o->buf) {
                if (o->status == 0 && o->put(p, n, o->data) < 0)
                        o->status = -ENOMEM;
                return;
        }
        memcpy(o->buf + o->len, p, n);
        o->len += n;
}

static void out_str(struct out *o, const char *s) {
        if (!s) {
                out_put(o, "null", 4);
                return;
        }
        out_put(o, "\"", 1);
        const char *run = s;
        for (; *s; s++) {
                unsigned char c = (unsigned char)*s;
                if (c >= 0x20 && c != '"' && c != '\\')
                        continue;
                out_put(o, run, (size_t)(s - run));
                char esc[8];
                int n = c == '"'    ? snprintf(esc, sizeof esc, "\\\"")
                        : c == '\\' ? snprintf(esc, sizeof esc, "\\\\")
                                    : snprintf(esc, sizeof esc, "\\u%04x", c);
                out_put(o, esc, (size_t)n);
                run = s + 1;
        }
        out_put(o, run, (size_t)(s - run));
        out_put(o, "\"", 1);
}

static void out_fmt(struct out *o, const char *fmt, ...) _printf_(2, 3);
static void out_fmt(struct out *o, const char *fmt, ...) {
        char tmp[128];
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
        va_end(ap);
        out_put(o, tmp, (size_t)MIN(n, (int)sizeof tmp - 1));
}

static int json_put(const char *buf, size_t n, void *data) {
        out_put(data, buf, n);
        return 0;
}

/* A real as jansson writes one (17 significant digits, always with a '.' or an exponent), so
 * the streamed text and state_to_json hold the same JSON values. */
static void out_real(struct out *o, double d) {
        char tmp[40];
        int n = snprintf(tmp, sizeof tmp, "%.17g", d);
        if (!strpbrk(tmp, ".eE"))
                n += snprintf(tmp + n, sizeof tmp - (size_t)n, ".0");
        out_put(o, tmp, (size_t)n);
}

static void out_instance(struct out *o, const struct instance *i) {
        out_put(o, "[", 1);
        out_str(o, i->id);
        out_put(o, ",", 1);
        out_str(o, i->version);
        out_put(o, ",", 1);
        out_str(o, i->agent_id);
        out_put(o, ",[", 2);
        for (size_t k = 0; k < i->n_ports; k++)
                out_fmt(o, k ? ",%u" : "%u", i->ports[k]);
        out_fmt(o, "],\"%s\",\"%s\",%d,[", task_state_to_string(i->state), instance_goal_to_string(i->goal),
                i->has_health ? (int)i->healthy : -1);
        const float res[4] = {i->cpus, i->mem, i->disk, i->gpus};
        for (int k = 0; k < 4; k++) {
                if (k)
                        out_put(o, ",", 1);
                out_real(o, (double)res[k]);
        }
        out_fmt(o, "],%lld,%lld,%lld,", (long long)i->staged_at, (long long)i->started_at,
                (long long)i->updated_at);
        out_str(o, i->message);
        out_put(o, i->ready ? ",true," : ",false,", i->ready ? 6 : 7);
        if (i->checks) {
                _cleanup_(json_decrefp) json_t *checks = checks_to_json(i);
                _cleanup_free_ char *text = json_compact(checks);
                out_put(o, text, strlen(text));
        } else {
                out_put(o, "null", 4);
        }
        char ip[16];
        if (instance_ip(i, ip)) {
                out_put(o, ",", 1);
                out_str(o, ip);
        }
        out_put(o, "]", 1);
}

int cluster_dump_instance_apps(const struct cluster *c, int (*put)(const char *buf, size_t n, void *data),
                               void *data) {
        _cleanup_free_ struct out *o = xmalloc(sizeof *o);
        o->put = put;
        o->data = data;
        o->len = 0;
        o->status = 0;
        out_put(o, "[", 1);
        for (struct app_group *g = c->groups_first; g; g = g->next) {
                out_put(o, g == c->groups_first ? "{\"app_id\":" : ",{\"app_id\":",
                        g == c->groups_first ? 10 : 11);
                out_str(o, g->app_id);
                if (g->last_failure) {
                        out_put(o, ",\"last_failure\":", 16);
                        if (json_dump_callback(g->last_failure, json_put, o, JSON_COMPACT) < 0)
                                o->status = -ENOMEM;
                }
                out_put(o, ",\"instances\":[", 14);
                for (struct inst_node *n = g->first; n; n = n->app_next) {
                        if (n != g->first)
                                out_put(o, ",", 1);
                        out_instance(o, &n->pub);
                }
                out_put(o, "]}", 2);
        }
        out_put(o, "]", 1);
        out_flush(o);
        return o->status;
}

/* ---- streamed decoding of "instance_apps" ---- */

struct row_bufs {
        char id[CLUSTER_MAX_ID_LEN + 1], version[CLUSTER_MAX_VERSION_LEN + 1], agent[CLUSTER_MAX_ID_LEN + 1];
        char state[32], goal[32], message[CLUSTER_MAX_MESSAGE_LEN + 1];
        json_t *checks; /* the last row's, owned */
};

static int scan_int(struct jscan *sc, int64_t *ret) {
        double d;
        bool is_int;
        if (jscan_number(sc, &d, ret, &is_int) < 0 || !is_int)
                return -EINVAL;
        return 0;
}

static int scan_str(struct jscan *sc, char *buf, size_t cap, bool optional, const char **ret) {
        size_t len;
        int null = jscan_null(sc);
        if (null < 0 || (null && !optional))
                return -EINVAL;
        if (null) {
                *ret = NULL;
                return 0;
        }
        if (jscan_string(sc, buf, cap, &len) < 0 || len == 0)
                return -EINVAL;
        *ret = buf;
        return 0;
}

static int scan_row(struct jscan *sc, struct row_bufs *b, struct inst_row *row) {
        const char *st, *goal;
        int64_t v;
        double d;
        bool is_int;
        *row = (struct inst_row){0};
        if (jscan_expect(sc, '[') < 0 || scan_str(sc, b->id, sizeof b->id, false, &row->id) < 0 ||
            jscan_expect(sc, ',') < 0 ||
            scan_str(sc, b->version, sizeof b->version, false, &row->version) < 0 ||
            jscan_expect(sc, ',') < 0 || scan_str(sc, b->agent, sizeof b->agent, false, &row->agent_id) < 0 ||
            jscan_expect(sc, ',') < 0 || jscan_expect(sc, '[') < 0)
                return -EINVAL;
        int more = 1;
        if (jscan_peek(sc) == ']') {
                sc->p++;
                more = 0;
        }
        while (more == 1) {
                if (row->n_ports == CLUSTER_MAX_INSTANCE_PORTS || scan_int(sc, &v) < 0 || v < 1 || v > 65535)
                        return -EINVAL;
                row->ports[row->n_ports++] = (uint16_t)v;
                more = jscan_next(sc, ']');
        }
        if (more < 0)
                return -EINVAL;
        if (jscan_expect(sc, ',') < 0 || scan_str(sc, b->state, sizeof b->state, false, &st) < 0 ||
            jscan_expect(sc, ',') < 0 || scan_str(sc, b->goal, sizeof b->goal, false, &goal) < 0 ||
            jscan_expect(sc, ',') < 0 || scan_int(sc, &v) < 0 || jscan_expect(sc, ',') < 0 ||
            jscan_expect(sc, '[') < 0)
                return -EINVAL;
        row->state = task_state_from_string(st);
        row->goal = instance_goal_from_string(goal);
        row->health = v < -1 || v > 1 ? 9 : (int)v;
        for (int k = 0; k < 4; k++) {
                if ((k && jscan_expect(sc, ',') < 0) || jscan_number(sc, &d, &v, &is_int) < 0 ||
                    !(d >= 0 && d <= CLUSTER_MAX_RESOURCE))
                        return -EINVAL;
                row->res[k] = d;
        }
        if (jscan_expect(sc, ']') < 0)
                return -EINVAL;
        for (int k = 0; k < 3; k++)
                if (jscan_expect(sc, ',') < 0 || scan_int(sc, &row->times[k]) < 0)
                        return -EINVAL;
        if (jscan_expect(sc, ',') < 0 || scan_str(sc, b->message, sizeof b->message, true, &row->message) < 0)
                return -EINVAL;
        int more_fields = jscan_next(sc, ']');
        if (more_fields < 0)
                return -EINVAL;
        if (more_fields == 1) {
                /* ready, checks (absent in older snapshots) */
                json_decref(b->checks);
                b->checks = NULL;
                json_t *ready = NULL;
                if (jscan_value(sc, &ready) < 0 || !json_is_boolean(ready) || jscan_expect(sc, ',') < 0 ||
                    jscan_value(sc, &b->checks) < 0) {
                        json_decref(ready);
                        return -EINVAL;
                }
                int more_ip = jscan_next(sc, ']');
                char ip[16];
                const char *ips = NULL;
                if (more_ip < 0 ||
                    (more_ip == 1 && (scan_str(sc, ip, sizeof ip, false, &ips) < 0 || jscan_expect(sc, ']') < 0 ||
                                      cluster_parse_ipv4(ips, &row->ip) < 0))) {
                        json_decref(ready);
                        return -EINVAL;
                }
                row->ready = json_is_true(ready);
                row->checks = b->checks;
                json_decref(ready);
        }
        return 0;
}

static int scan_group(struct cluster *c, struct jscan *sc, struct row_bufs *b, size_t idx, struct err *err) {
        char key[32], app_id[CLUSTER_MAX_ID_LEN + 1];
        size_t len;
        struct app_group *g = NULL;
        if (jscan_expect(sc, '{') < 0)
                return -EINVAL;
        int more = jscan_peek(sc) == '}' ? 0 : 1;
        for (; more == 1; more = jscan_next(sc, '}')) {
                if (jscan_string(sc, key, sizeof key, &len) < 0 || jscan_expect(sc, ':') < 0)
                        return -EINVAL;
                if (streq(key, "app_id")) {
                        if (g || jscan_string(sc, app_id, sizeof app_id, &len) < 0 || len == 0)
                                return -EINVAL;
                        if (cluster_group(c, app_id))
                                return err_set(err, -EINVAL, "state: instance_apps[%zu]: duplicate app '%s'",
                                               idx, app_id);
                        g = cluster_group_get_or_add(c, app_id);
                } else if (streq(key, "last_failure")) {
                        json_t *lf = NULL;
                        /* The writer puts app_id first; a reader need not accept other orders. */
                        if (!g || jscan_value(sc, &lf) < 0 || !json_is_object(lf)) {
                                json_decref(lf);
                                return -EINVAL;
                        }
                        json_decref(g->last_failure);
                        g->last_failure = lf;
                } else if (streq(key, "instances")) {
                        if (!g || jscan_expect(sc, '[') < 0)
                                return -EINVAL;
                        int m = 1;
                        if (jscan_peek(sc) == ']') {
                                sc->p++;
                                m = 0;
                        }
                        while (m == 1) {
                                struct inst_row row;
                                int r = scan_row(sc, b, &row);
                                if (r >= 0)
                                        r = row_restore(c, g, &row, err);
                                if (r < 0)
                                        return r;
                                m = jscan_next(sc, ']');
                        }
                        if (m < 0)
                                return -EINVAL;
                } else if (jscan_skip(sc) < 0) {
                        return -EINVAL;
                }
        }
        return more == 0 && g ? 0 : -EINVAL;
}

static void row_bufs_free(struct row_bufs **b) {
        if (*b)
                json_decref((*b)->checks);
        free(*b);
}

int cluster_load_instance_apps(struct cluster *c, struct jscan *sc, struct err *err) {
        _cleanup_(row_bufs_free) struct row_bufs *b = xcalloc(1, sizeof *b);
        if (jscan_expect(sc, '[') < 0)
                goto bad;
        if (jscan_peek(sc) == ']') {
                sc->p++;
                return 0;
        }
        for (size_t idx = 0;; idx++) {
                int r = scan_group(c, sc, b, idx, err);
                if (r < 0) {
                        if (err && err->msg)
                                return r;
                        goto bad;
                }
                int more = jscan_next(sc, ']');
                if (more == 0)
                        return 0;
                if (more < 0)
                        goto bad;
        }
bad:
        return err_set(err, -EINVAL, "state: \"instance_apps\" malformed near byte %zu", jscan_offset(sc));
}
