/* discovery_api.c — GET /v1/dns/lookup: what the agents' DNS answers for a name, from this
 * master's state with the same record builder (model/discovery.h). */
#include <arpa/inet.h>
#include <string.h>

#include "common/alloc.h"
#include "master/discovery.h"
#include "master/discovery_view.h"
#include "master/master_internal.h"
#include "master/vip.h"
#include "model/vip.h"
#include "store/cluster_state.h"

struct lookup {
        const char *name; /* normalized */
        int type;         /* DISCOVERY_RR_A, _SRV, or 0 for any */
        json_t *records;
        const struct state *st;
};

static void match(const struct discovery_rr *rr, void *data) {
        struct lookup *l = data;
        if (strcmp(rr->name, l->name) != 0 || (l->type && rr->type != l->type))
                return;
        json_t *j;
        if (rr->type == DISCOVERY_RR_A) {
                char ip[INET_ADDRSTRLEN];
                struct in_addr a = { .s_addr = rr->ip };
                j = json_pack("{s:s,s:s,s:i,s:s}", "name", rr->name, "type", "A", "ttl", (int)rr->ttl, "ip",
                              inet_ntop(AF_INET, &a, ip, sizeof ip));
        } else {
                j = json_pack("{s:s,s:s,s:i,s:s,s:i}", "name", rr->name, "type", "SRV", "ttl", (int)rr->ttl, "target",
                              rr->target, "port", rr->port);
        }
        /* the same record from two passes (the zone would keep one) */
        size_t i;
        json_t *have;
        json_array_foreach(l->records, i, have) {
                if (json_equal(have, j)) {
                        json_decref(j);
                        return;
                }
        }
        json_array_append_new(l->records, j);
}

static int lookup_task(const struct instance *i, void *data) {
        struct lookup *l = data;
        if (!discovery_view_serves(i))
                return 0;
        const struct agent *a = state_agent_get(l->st, i->agent_id);
        struct discovery_agent da;
        char host[256];
        if (!a || !discovery_view_agent(a, &da, host))
                return 0;
        struct discovery_task t;
        struct discovery_port ports[DISCOVERY_MAX_PORTS];
        discovery_view_task(l->st, i, &t, ports);
        discovery_task_records(&t, &da, DISCOVERY_TTL, match, l);
        return 0;
}

static int lookup_agent(const struct agent *a, void *data) {
        struct discovery_agent da;
        char host[256];
        if (discovery_view_agent(a, &da, host))
                discovery_agent_records(&da, DISCOVERY_TTL, match, data);
        return 0;
}

void api_dns_lookup(struct api_call *call) {
        const char *name = http_request_arg(call->req, "name");
        const char *type = http_request_arg(call->req, "type");
        char norm[DISCOVERY_MAX_NAME + 1];
        if (!name || !discovery_normalize_name(name, norm)) {
                api_reply_error(call, 400, "Expected ?name=<DNS name> (at most %d characters)", DISCOVERY_MAX_NAME - 1);
                return;
        }
        int t = 0;
        if (type && strcasecmp(type, "A") == 0)
                t = DISCOVERY_RR_A;
        else if (type && strcasecmp(type, "SRV") == 0)
                t = DISCOVERY_RR_SRV;
        else if (type && strcasecmp(type, "ANY") != 0) {
                api_reply_error(call, 400, "type must be A, SRV or ANY");
                return;
        }
        struct lookup l = { .name = norm, .type = t, .records = json_array(), .st = store_state(call->m->store) };
        if (discovery_is_local_name(norm)) {
                struct discovery_masters m;
                discovery_view_masters(call->m->store, &m);
                discovery_master_records(&m, DISCOVERY_TTL, match, &l);
                state_agents_foreach(l.st, lookup_agent, &l);
                state_instances_foreach(l.st, lookup_task, &l);
                json_t *vips = vip_table(l.st, NULL);
                vip_records(vips, match, &l);
                json_decref(vips);
        }
        if (json_array_size(l.records) == 0) {
                json_decref(l.records);
                api_reply_error(call, 404, "No %s%srecords for '%s'%s", type ? type : "", type ? " " : "", norm,
                                discovery_is_local_name(norm) ? "" : " (not a cluster name: agents forward it)");
                return;
        }
        api_reply_json(call, 200, json_pack("{s:s,s:o}", "name", norm, "records", l.records));
}
