/* vip.c — the VIP table from the replicated state, allocations, and GET /v1/vips (vip.h). */
#include "master/vip.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/log.h"
#include "master/discovery_view.h"
#include "master/master_internal.h"
#include "model/vip.h"
#include "store/cluster_state.h"
#include "store/store.h"
#include "store/vips.h"

struct build {
        const struct state *st;
        json_t *by_key; /* "tcp /web:80" → entry */
        json_t *missing;
        json_t *missing_set;
};

/* The entry of label l for protocol proto, created on first sight; NULL for a named VIP without
 * an address (noted in missing). */
static json_t *entry_for(struct build *b, const struct vip_label *l, const char *proto) {
        char vip[VIP_MAX_NAME + 24], ipbuf[INET_ADDRSTRLEN], key[VIP_MAX_NAME + 32];
        const char *ip;
        if (l->name[0]) {
                ip = state_vip_address(b->st, l->name);
                if (!ip) {
                        if (b->missing && !json_object_get(b->missing_set, l->name)) {
                                json_object_set_new(b->missing_set, l->name, json_true());
                                json_array_append_new(b->missing, json_string(l->name));
                        }
                        return NULL;
                }
                snprintf(vip, sizeof vip, "%s:%u", l->name, l->port);
        } else {
                struct in_addr a = { .s_addr = l->ip };
                ip = inet_ntop(AF_INET, &a, ipbuf, sizeof ipbuf);
                snprintf(vip, sizeof vip, "%s:%u", ip, l->port);
        }
        snprintf(key, sizeof key, "%s %s", proto, vip);
        json_t *e = json_object_get(b->by_key, key);
        if (!e) {
                e = json_pack("{s:s,s:s,s:i,s:s,s:[]}", "vip", vip, "ip", ip, "port", l->port, "protocol", proto,
                              "backends");
                if (l->name[0])
                        json_object_set_new(e, "name", json_string(l->name));
                json_object_set_new(b->by_key, key, e);
        }
        return e;
}

static void each_proto(struct build *b, const struct vip_label *l, json_t *backend) {
        const char *protos[2] = { l->tcp ? "tcp" : NULL, l->udp ? "udp" : NULL };
        for (int k = 0; k < 2; k++) {
                if (!protos[k])
                        continue;
                json_t *e = entry_for(b, l, protos[k]);
                if (e && backend)
                        json_array_append(json_object_get(e, "backends"), backend);
        }
}

static int from_app(const json_t *app, void *data) {
        struct vip_label l[VIP_MAX_PER_APP];
        size_t n = vip_labels_from_app(app, l, VIP_MAX_PER_APP);
        for (size_t i = 0; i < n; i++)
                each_proto(data, &l[i], NULL);
        return 0;
}

static int from_instance(const struct instance *i, void *data) {
        struct build *b = data;
        if (!discovery_view_serves(i))
                return 0;
        const json_t *app = state_app_at_version(b->st, i->app_id, i->version);
        if (!app)
                app = state_app_get(b->st, i->app_id);
        /* An app with health checks: only instances whose checks passed (dcos-net waits for
         * them too), not one that merely runs — it may not be listening yet. */
        if (!app || (json_array_size(json_object_get(app, "healthChecks")) && !(i->has_health && i->healthy)))
                return 0;
        struct vip_label l[VIP_MAX_PER_APP];
        size_t n = vip_labels_from_app(app, l, VIP_MAX_PER_APP);
        if (!n)
                return 0;
        uint32_t agent_ip = 0;
        const struct agent *a = state_agent_get(b->st, i->agent_id);
        struct discovery_agent da;
        char host[256];
        if (a && discovery_view_agent(a, &da, host))
                agent_ip = da.ip; /* 0 when the agent is known by a host name: no backend */
        for (size_t k = 0; k < n; k++) {
                uint32_t ip = l[k].own_ip ? i->ip : agent_ip;
                uint16_t port = vip_backend_port(&l[k], i->ports, i->n_ports);
                if (!ip || !port)
                        continue;
                char ipbuf[INET_ADDRSTRLEN];
                struct in_addr in = { .s_addr = ip };
                json_t *backend = json_pack("{s:s,s:i,s:s}", "ip", inet_ntop(AF_INET, &in, ipbuf, sizeof ipbuf),
                                            "port", port, "task", i->id);
                each_proto(b, &l[k], backend);
                json_decref(backend);
        }
        return 0;
}

json_t *vip_table(const struct state *st, json_t *missing) {
        struct build b = { st, json_object(), missing, json_object() };
        state_apps_foreach(st, from_app, &b);
        state_instances_foreach(st, from_instance, &b);
        json_t *out = json_array();
        const char *key;
        json_t *e;
        json_object_foreach(b.by_key, key, e)
                json_array_append(out, e);
        json_decref(b.by_key);
        json_decref(b.missing_set);
        return out;
}

struct alloc_ctx {
        bool *busy;
        void (*done)(void *data);
        void *data;
};

static void alloc_done(void *data, int status, json_t *result, struct err *err) {
        struct alloc_ctx *c = data;
        *c->busy = false;
        if (status < 0)
                log_warn("VIP addresses not allocated: %s", err_msg(err));
        else
                c->done(c->data);
        free(c);
}

void vip_allocate(struct store *store, const char *cidr, json_t *missing, bool *busy, void (*done)(void *data),
                  void *data) {
        struct store_status ss;
        store_status(store, &ss);
        if (*busy || !ss.is_leader || json_array_size(missing) == 0) {
                json_decref(missing);
                return;
        }
        struct alloc_ctx *c = malloc(sizeof *c);
        if (!c) {
                json_decref(missing);
                return;
        }
        *c = (struct alloc_ctx){ busy, done, data };
        *busy = true;
        store_submit(store, json_pack("{s:s,s:i,s:s,s:o}", "type", "vip_alloc", "v", 1, "cidr", cidr, "names", missing),
                     alloc_done, c);
}

int vip_cidr_flag(const char *arg, char **ret) {
        uint32_t base, count;
        struct err e = { 0 };
        if (vip_cidr_parse(arg, &base, &count, &e) < 0) {
                fprintf(stderr, "strata: --vip-cidr: %s\n", err_msg(&e));
                err_release(&e);
                return -EINVAL;
        }
        free(*ret);
        *ret = xstrdup(arg);
        return 0;
}

void api_vips_list(struct api_call *call) {
        json_t *pending = json_array();
        json_t *vips = vip_table(store_state(call->m->store), pending);
        api_reply_json(call, 200, json_pack("{s:o,s:o}", "vips", vips, "pending", pending));
}
