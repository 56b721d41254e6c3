/* queue_offers.c — per-agent reasons why a waiting app does not fit (see queue_offers.h). */
#include "master/queue_offers.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "common/timeutil.h"
#include "common/util.h"
#include "store/cluster_state.h"

/* Amounts are compared to a thousandth, as the scheduler keeps them. */
#define EPS 0.0005

struct offers_ctx {
        const struct state *st;
        const json_t *app;
        const char *ts;
        bool constraint_declined, role_unfulfilled;
        size_t host_ports;
        json_t *out;
        size_t listed;
};

static int count_ports(const struct instance *i, void *data) {
        size_t *used = data;
        if (!task_state_is_terminal((enum task_state)i->state))
                *used += i->n_ports;
        return 0;
}

static void add_scalar(json_t *resources, const char *name, double v) {
        json_array_append_new(resources, json_pack("{s:s,s:s,s:f}", "name", name, "role", "*", "scalar", v));
}

static json_t *offer_json(const struct agent *a) {
        json_t *res = json_array();
        add_scalar(res, "cpus", a->cpus - a->used_cpus);
        add_scalar(res, "mem", a->mem - a->used_mem);
        add_scalar(res, "disk", a->disk - a->used_disk);
        if (a->gpus > 0)
                add_scalar(res, "gpus", a->gpus - a->used_gpus);
        json_t *ranges = json_array();
        for (size_t i = 0; i < a->n_ports; i++)
                json_array_append_new(ranges, json_pack("{s:i,s:i}", "begin", a->ports[i].begin, "end", a->ports[i].end));
        json_array_append_new(res, json_pack("{s:s,s:s,s:o}", "name", "ports", "role", "*", "ranges", ranges));
        json_t *attrs = json_array();
        const char *k;
        json_t *v;
        json_object_foreach(a->attributes, k, v)
                if (json_is_string(v))
                        json_array_append_new(attrs, json_pack("{s:s,s:O}", "name", k, "text", v));
        return json_pack("{s:s,s:s,s:s,s:o,s:o}", "id", a->id, "agentId", a->id, "hostname",
                         a->hostname ? a->hostname : "", "resources", res, "attributes", attrs);
}

static int visit_agent(const struct agent *a, void *data) {
        struct offers_ctx *c = data;
        if (c->listed >= QUEUE_OFFERS_MAX_AGENTS)
                return 1;
        if (a->state == AGENT_GONE || a->state == AGENT_UNREACHABLE)
                return 0;
        json_t *reasons = json_array();
        if (a->state == AGENT_DRAINING)
                json_array_append_new(reasons, json_string("AgentMaintenance"));
        if (c->role_unfulfilled)
                json_array_append_new(reasons, json_string("UnfulfilledRole"));
        static const struct {
                const char *field, *reason;
                size_t total, used;
        } scalars[] = {
                { "cpus", "InsufficientCpus", offsetof(struct agent, cpus), offsetof(struct agent, used_cpus) },
                { "mem", "InsufficientMemory", offsetof(struct agent, mem), offsetof(struct agent, used_mem) },
                { "disk", "InsufficientDisk", offsetof(struct agent, disk), offsetof(struct agent, used_disk) },
                { "gpus", "InsufficientGpus", offsetof(struct agent, gpus), offsetof(struct agent, used_gpus) },
        };
        for (size_t i = 0; i < ELEMENTSOF(scalars); i++) {
                double want = json_number_value(json_object_get(c->app, scalars[i].field));
                double total = *(const double *)((const char *)a + scalars[i].total);
                double used = *(const double *)((const char *)a + scalars[i].used);
                if (want > EPS && total - used + EPS < want)
                        json_array_append_new(reasons, json_string(scalars[i].reason));
        }
        if (c->host_ports > 0) {
                size_t total = 0, used = 0;
                for (size_t i = 0; i < a->n_ports; i++)
                        total += (size_t)a->ports[i].end - a->ports[i].begin + 1;
                state_agent_instances_foreach(c->st, a->id, count_ports, &used);
                if (used + c->host_ports > total)
                        json_array_append_new(reasons, json_string("InsufficientPorts"));
        }
        if (json_array_size(reasons) == 0 && c->constraint_declined)
                json_array_append_new(reasons, json_string("UnfulfilledConstraint"));
        if (json_array_size(reasons) == 0) {
                json_decref(reasons);
                return 0;
        }
        json_array_append_new(c->out, json_pack("{s:o,s:o,s:s}", "offer", offer_json(a), "reason", reasons,
                                                "timestamp", c->ts));
        c->listed++;
        return 0;
}

/* Host ports an instance takes: one per port definition (0 = any), or per port mapping with a
 * hostPort in bridge networking. */
static size_t host_ports(const json_t *app) {
        const json_t *defs = json_object_get(app, "portDefinitions");
        if (json_array_size(defs) > 0)
                return json_array_size(defs);
        size_t n = 0, i;
        const json_t *m;
        json_array_foreach(json_object_get(json_object_get(app, "container"), "portMappings"), i, m)
                if (json_object_get(m, "hostPort"))
                        n++;
        return n;
}

json_t *queue_offers_last_unused(const struct state *st, const json_t *entry, const char *ts) {
        const json_t *app = json_object_get(entry, "app");
        struct offers_ctx c = { .st = st, .app = app, .ts = ts, .out = json_array(), .host_ports = host_ports(app) };
        size_t i;
        const json_t *step;
        json_array_foreach(json_object_get(json_object_get(entry, "processedOffersSummary"), "rejectSummaryLastOffers"),
                           i, step)
                if (streq(json_string_value(json_object_get(step, "reason")) ?: "", "UnfulfilledConstraint") &&
                    json_integer_value(json_object_get(step, "declined")) > 0)
                        c.constraint_declined = true;
        const json_t *roles = json_object_get(app, "acceptedResourceRoles");
        if (json_array_size(roles) > 0) {
                c.role_unfulfilled = true;
                const json_t *r;
                json_array_foreach(roles, i, r)
                        if (streq(json_string_value(r) ?: "", "*"))
                                c.role_unfulfilled = false;
        }
        if (app)
                state_agents_foreach(st, visit_agent, &c);
        return c.out;
}

void queue_offers_embed(const struct state *st, json_t *queue_body) {
        char ts[25];
        time_format_ms(time_now_ms(), ts);
        size_t i;
        json_t *entry;
        json_array_foreach(json_object_get(queue_body, "queue"), i, entry)
                json_object_set_new(entry, "lastUnusedOffers", queue_offers_last_unused(st, entry, ts));
}
