/* fsm_agents.c — the agent registry commands: register (and re-register), state changes, removal.
 *
 * Agent ids are "<cluster id>-S<n>", like Mesos's "<master id>-S<n>": the cluster id is fixed by
 * the first registration ever committed, n counts registrations. Both live in the replicated
 * state, so every master hands out the same ids. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "store/cluster_internal.h"
#include "store/state_internal.h"
#include "store/store_fsm.h"

#define MAX_CLUSTER_ID_LEN 64

struct agent_info {
        const char *id, *hostname, *address, *cluster_id;
        double res[4];
        struct port_range *ports;
        size_t n_ports;
        const json_t *attributes;
};

static int parse_resources(const json_t *r, struct agent_info *ai, struct err *err) {
        static const char *const names[4] = {"cpus", "mem", "disk", "gpus"};
        if (!r)
                return 0;
        if (!json_is_object(r))
                return err_set(err, -EINVAL, "agent_register: \"resources\" must be an object");
        for (int k = 0; k < 4; k++) {
                json_t *v = json_object_get(r, names[k]);
                if (!v)
                        continue;
                double d = json_number_value(v);
                if (!json_is_number(v) || !isfinite(d) || d < 0 || d > CLUSTER_MAX_RESOURCE)
                        return err_set(err, -EINVAL, "agent_register: resources.%s must be a number in 0..%g",
                                       names[k], CLUSTER_MAX_RESOURCE);
                ai->res[k] = d;
        }
        json_t *ports = json_object_get(r, "ports"), *range;
        size_t i;
        if (!ports)
                return 0;
        if (!json_is_array(ports) || json_array_size(ports) > CLUSTER_MAX_AGENT_RANGES)
                return err_set(err, -EINVAL,
                               "agent_register: resources.ports must be at most %d [begin, end] ranges",
                               CLUSTER_MAX_AGENT_RANGES);
        ai->ports = xcalloc(json_array_size(ports) + 1, sizeof *ai->ports);
        json_array_foreach(ports, i, range) {
                json_t *b = json_array_get(range, 0), *e = json_array_get(range, 1);
                if (!json_is_array(range) || json_array_size(range) != 2 || !json_is_integer(b) ||
                    !json_is_integer(e) || json_integer_value(b) < 1 || json_integer_value(e) > 65535 ||
                    json_integer_value(b) > json_integer_value(e))
                        return err_set(
                                err, -EINVAL,
                                "agent_register: resources.ports[%zu] must be [begin, end] within 1..65535",
                                i);
                ai->ports[i] =
                        (struct port_range){(uint16_t)json_integer_value(b), (uint16_t)json_integer_value(e)};
        }
        ai->n_ports = json_array_size(ports);
        return 0;
}

static int parse_attributes(const json_t *attrs, struct err *err) {
        const char *k;
        json_t *v;
        if (!attrs)
                return 0;
        if (!json_is_object(attrs) || json_object_size(attrs) > CLUSTER_MAX_ATTRIBUTES)
                return err_set(err, -EINVAL,
                               "agent_register: \"attributes\" must be an object of at most %d strings",
                               CLUSTER_MAX_ATTRIBUTES);
        json_object_foreach((json_t *)attrs, k, v) {
                if (strlen(k) == 0 || strlen(k) > CLUSTER_MAX_ATTR_KEY_LEN || !json_is_string(v) ||
                    json_string_length(v) > CLUSTER_MAX_ATTR_VALUE_LEN ||
                    strlen(json_string_value(v)) != json_string_length(v))
                        return err_set(
                                err, -EINVAL,
                                "agent_register: attribute '%.128s' must be a string of at most %d bytes", k,
                                CLUSTER_MAX_ATTR_VALUE_LEN);
        }
        return 0;
}

static bool cluster_id_ok(const char *id) {
        for (const char *p = id; *p; p++)
                if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                      *p == '-'))
                        return false;
        return true;
}

static int parse(const json_t *cmd, struct agent_info *ai, struct err *err) {
        const json_t *a = json_object_get(cmd, "agent");
        if (!json_is_object(a))
                return err_set(err, -EINVAL, "agent_register: expected an \"agent\" object");
        if (cluster_get_str(json_object_get(a, "id"), CLUSTER_MAX_ID_LEN, true, &ai->id) < 0)
                return err_set(err, -EINVAL,
                               "agent_register: \"id\" must be null or a string of at most %d bytes",
                               CLUSTER_MAX_ID_LEN);
        if (cluster_get_str(json_object_get(a, "hostname"), CLUSTER_MAX_HOST_LEN, false, &ai->hostname) < 0)
                return err_set(err, -EINVAL, "agent_register: \"hostname\" must be a string of 1..%d bytes",
                               CLUSTER_MAX_HOST_LEN);
        const json_t *address = json_object_get(a, "address");
        if (json_is_string(address) && json_string_length(address) == 0)
                address = NULL; /* "" is no address */
        if (cluster_get_str(address, CLUSTER_MAX_ADDRESS_LEN, true, &ai->address) < 0)
                return err_set(err, -EINVAL,
                               "agent_register: \"address\" must be a string of at most %d bytes",
                               CLUSTER_MAX_ADDRESS_LEN);
        if (cluster_get_str(json_object_get(cmd, "clusterId"), MAX_CLUSTER_ID_LEN, true, &ai->cluster_id) <
                    0 ||
            (ai->cluster_id && !cluster_id_ok(ai->cluster_id)))
                return err_set(err, -EINVAL, "agent_register: \"clusterId\" must be a uuid");
        int r = parse_resources(json_object_get(a, "resources"), ai, err);
        if (r < 0)
                return r;
        ai->attributes = json_object_get(a, "attributes");
        return parse_attributes(ai->attributes, err);
}

/* A uuid-shaped id derived from the first registration, for a log whose first agent_register
 * carries no "clusterId": the same on every master. */
static char *derive_cluster_id(const json_t *cmd, const char *hostname) {
        const char *ts = json_string_value(json_object_get(cmd, "ts")) ?: "";
        uint64_t h[2] = {0xcbf29ce484222325ULL, 0x84222325cbf29ce4ULL};
        for (int k = 0; k < 2; k++) {
                for (const char *p = ts; *p; p++)
                        h[k] = (h[k] ^ (unsigned char)*p) * 0x100000001b3ULL;
                h[k] = (h[k] ^ '/') * 0x100000001b3ULL;
                for (const char *p = hostname; *p; p++)
                        h[k] = (h[k] ^ (unsigned char)*p) * 0x100000001b3ULL;
        }
        return xasprintf("%08" PRIx64 "-%04" PRIx64 "-4%03" PRIx64 "-8%03" PRIx64 "-%012" PRIx64, h[0] >> 32,
                         (h[0] >> 16) & 0xffff, h[0] & 0xfff, h[1] >> 52, h[1] & UINT64_C(0xffffffffffff));
}

/* {"type":"agent_register","v":1,"agent":{…},"clusterId"?,"ts"} → {"agentId", "created"}. */
int fsm_agent_register(struct state *s, const json_t *cmd, json_t **ret_result, struct err *err) {
        struct cluster *c = state_cluster(s);
        struct agent_info ai = {0};
        int64_t ts;
        int r;

        if (cluster_cmd_ts(cmd, &ts) < 0)
                return err_set(err, -EINVAL, "agent_register: command has no valid \"ts\"");
        r = parse(cmd, &ai, err);
        if (r < 0) {
                free(ai.ports);
                return r;
        }

        if (!c->cluster_id)
                c->cluster_id = ai.cluster_id ? xstrdup(ai.cluster_id) : derive_cluster_id(cmd, ai.hostname);
        struct agent_node *a = cluster_agent(c, ai.id);
        /* A gone agent never comes back under its old id (Mesos: a gone agent must not re-register). */
        if (a && a->pub.state == AGENT_GONE)
                a = NULL;
        bool created = !a;
        if (!a) {
                _cleanup_free_ char *id = NULL;
                do {
                        free(id);
                        id = xasprintf("%s-S%" PRIu64, c->cluster_id, c->next_agent++);
                } while (cluster_agent(c, id));
                a = cluster_agent_add(c, id);
                a->pub.registered_at = ts;
        } else {
                cluster_agent_reset(a);
        }
        if (created || a->pub.state != AGENT_ACTIVE)
                a->pub.state_since = ts;
        a->pub.state = AGENT_ACTIVE;
        a->pub.hostname = xstrdup(ai.hostname);
        a->pub.address = ai.address ? xstrdup(ai.address) : NULL;
        a->pub.cpus = ai.res[0];
        a->pub.mem = ai.res[1];
        a->pub.disk = ai.res[2];
        a->pub.gpus = ai.res[3];
        a->pub.ports = ai.ports;
        a->pub.n_ports = ai.n_ports;
        a->pub.attributes = ai.attributes ? json_deep_copy(ai.attributes) : json_object();
        cluster_note_agent(c, a->pub.id);
        if (ret_result)
                *ret_result = json_pack("{s:s,s:b}", "agentId", a->pub.id, "created", created);
        return 0;
}

/* {"type":"agent_state","v":1,"id","state","ts"} → no result. Gone is final. */
int fsm_agent_state(struct state *s, const json_t *cmd, json_t **ret_result, struct err *err) {
        struct cluster *c = state_cluster(s);
        const char *id = json_string_value(json_object_get(cmd, "id"));
        int st = agent_state_from_string(json_string_value(json_object_get(cmd, "state")));
        int64_t ts;

        if (!id || st < 0 || cluster_cmd_ts(cmd, &ts) < 0)
                return err_set(err, -EINVAL,
                               "agent_state: expected \"id\", a \"state\" "
                               "(active, unreachable, draining, gone) and \"ts\"");
        struct agent_node *a = cluster_agent(c, id);
        if (!a)
                return err_set(err, -ERR_NOT_FOUND, "Agent '%s' does not exist", id);
        if (a->pub.state == (enum agent_state)st)
                return 0;
        if (a->pub.state == AGENT_GONE)
                return err_set(err, -ERR_CONFLICT, "Agent '%s' is gone", id);
        a->pub.state = (enum agent_state)st;
        a->pub.state_since = ts;
        cluster_note_agent(c, a->pub.id);
        return 0;
}

/* {"type":"agent_remove","v":1,"id"} → no result: forgets a gone agent once its instances are
 * expunged, so the registry stays bounded. */
int fsm_agent_remove(struct state *s, const json_t *cmd, json_t **ret_result, struct err *err) {
        struct cluster *c = state_cluster(s);
        const char *id = json_string_value(json_object_get(cmd, "id"));
        if (!id)
                return err_set(err, -EINVAL, "agent_remove: expected \"id\"");
        struct agent_node *a = cluster_agent(c, id);
        if (!a)
                return err_set(err, -ERR_NOT_FOUND, "Agent '%s' does not exist", id);
        if (a->pub.state != AGENT_GONE || a->first)
                return err_set(err, -ERR_CONFLICT, "Agent '%s' is not gone or still has instances", id);
        cluster_note_agent(c, id);
        cluster_agent_remove(c, a);
        return 0;
}
