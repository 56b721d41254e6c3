/* dns_api.c — Mesos-DNS's HTTP API (resolver/resolver.go RestVersion, RestConfig, RestHost,
 * RestService, RestEnumerate) on the agent's HTTP port, answered from the same zone as DNS. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "agent/dns_server.h"
#include "common/alloc.h"
#include "common/util.h"
#include "net/http_server.h"

static void reply(struct http_request *req, int status, json_t *body) {
        _cleanup_free_ char *s = json_compact(body);
        json_decref(body);
        http_respond(req, status, "application/json", s, strlen(s));
}

static json_t *ip_string(uint32_t ip) {
        char buf[INET_ADDRSTRLEN];
        struct in_addr a = { .s_addr = ip };
        return json_string(inet_ntop(AF_INET, &a, buf, sizeof buf));
}

/* RestHost: [{"host": "<name>.", "ip"}…], or [{"host": "", "ip": ""}] when there are none. */
static void hosts(struct dns_server *s, struct http_request *req, const char *host) {
        char name[DISCOVERY_MAX_NAME + 1];
        json_t *out = json_array();
        const struct dns_rrset *set = discovery_normalize_name(host, name) ? dns_zone_lookup(dns_server_zone(s), name) : NULL;
        for (size_t i = 0; set && i < set->n; i++) {
                if (set->rr[i].type != DISCOVERY_RR_A)
                        continue;
                json_t *ip = ip_string(set->rr[i].ip);
                bool dup = false;
                size_t k;
                json_t *have;
                json_array_foreach(out, k, have) dup |= json_equal(json_object_get(have, "ip"), ip);
                if (dup)
                        json_decref(ip);
                else
                        json_array_append_new(out, json_pack("{s:s,s:o}", "host", name, "ip", ip));
        }
        if (json_array_size(out) == 0)
                json_array_append_new(out, json_pack("{s:s,s:s}", "host", "", "ip", ""));
        reply(req, 200, out);
}

/* RestService: [{"service", "host", "ip", "port"}…] (port as a string, as Mesos-DNS). */
static void services(struct dns_server *s, struct http_request *req, const char *service) {
        char name[DISCOVERY_MAX_NAME + 1];
        const struct dns_zone *z = dns_server_zone(s);
        json_t *out = json_array();
        const struct dns_rrset *set = discovery_normalize_name(service, name) ? dns_zone_lookup(z, name) : NULL;
        for (size_t i = 0; set && i < set->n; i++) {
                const struct dns_record *r = &set->rr[i];
                if (r->type != DISCOVERY_RR_SRV)
                        continue;
                const struct dns_rrset *t = dns_zone_lookup(z, r->target);
                for (size_t k = 0; t && k < t->n; k++) {
                        if (t->rr[k].type != DISCOVERY_RR_A)
                                continue;
                        char port[8];
                        snprintf(port, sizeof port, "%u", r->port);
                        json_t *row = json_pack("{s:s,s:s,s:o,s:s}", "service", service, "host", r->target, "ip",
                                                ip_string(t->rr[k].ip), "port", port);
                        size_t j;
                        json_t *have;
                        bool dup = false;
                        json_array_foreach(out, j, have) dup |= json_equal(have, row);
                        if (dup)
                                json_decref(row);
                        else
                                json_array_append_new(out, row);
                        break;
                }
        }
        if (json_array_size(out) == 0)
                json_array_append_new(out, json_pack("{s:s,s:s,s:s,s:s}", "service", "", "host", "", "ip", "", "port", ""));
        reply(req, 200, out);
}

struct enum_ctx {
        json_t *records;
};

static void enum_rr(const struct discovery_rr *rr, void *data) {
        struct enum_ctx *c = data;
        char host[300];
        if (rr->type == DISCOVERY_RR_A) {
                struct in_addr a = { .s_addr = rr->ip };
                inet_ntop(AF_INET, &a, host, sizeof host);
        } else {
                snprintf(host, sizeof host, "%s:%u", rr->target, rr->port);
        }
        json_array_append_new(c->records, json_pack("{s:s,s:s,s:s}", "name", rr->name, "host", host, "rtype",
                                                    rr->type == DISCOVERY_RR_A ? "A" : "SRV"));
}

static void enum_task(const struct discovery_task *t, const struct discovery_agent *a, void *data) {
        const struct dns_zone *z = ((void **)data)[0];
        json_t *tasks = ((void **)data)[1];
        char label[64];
        discovery_app_label(t->app_id, label);
        struct enum_ctx c = { json_array() };
        discovery_task_records(t, a, z->ttl, enum_rr, &c);
        json_array_append_new(tasks, json_pack("{s:s,s:s,s:o}", "name", label, "id", t->id, "records", c.records));
}

/* RestEnumerate: {"frameworks": [{"name": "marathon", "tasks": [{"name", "id", "records"}…]}]}. */
static void enumerate(struct dns_server *s, struct http_request *req) {
        const struct dns_zone *z = dns_server_zone(s);
        json_t *tasks = json_array();
        void *ctx[2] = { (void *)z, tasks };
        dns_zone_foreach_task(z, enum_task, ctx);
        reply(req, 200, json_pack("{s:[{s:s,s:o}]}", "frameworks", "name", DISCOVERY_FRAMEWORK, "tasks", tasks));
}

bool dns_api_handle(struct dns_server *s, struct http_request *req, const char *path) {
        if (strncmp(path, "/mesos_dns", 10) == 0)
                path += 10;
        if (!s || strncmp(path, "/v1/", 4) != 0)
                return false;
        const char *p = path + 4;
        if (strcmp(p, "version") == 0) {
                reply(req, 200, json_pack("{s:s,s:s,s:s}", "Service", "Mesos-DNS", "Version", "strata-0.1.0", "URL",
                                          "https://github.com/mesosphere/mesos-dns"));
        } else if (strcmp(p, "config") == 0) {
                const struct dns_zone *z = dns_server_zone(s);
                json_t *cfg = json_pack("{s:i,s:i,s:i,s:i,s:s,s:s,s:i,s:i,s:i,s:i,s:b,s:b,s:b,s:[s,s,s]}",
                                        "RefreshSeconds", 0, "TTL", (int)z->ttl, "SRVRecordDefaultWeight", 1,
                                        "Timeout", 5, "Domain", DISCOVERY_DOMAIN, "SOAMname", "ns1.mesos.",
                                        "SOASerial", (int)(z->serial & 0x7fffffff), "SOARefresh", DISCOVERY_SOA_REFRESH,
                                        "SOARetry", DISCOVERY_SOA_RETRY, "SOAExpire", DISCOVERY_SOA_EXPIRE, "DNSOn",
                                        1, "HTTPOn", 1, "ExternalOn", 1, "IPSources", "netinfo", "mesos", "host");
                json_object_set_new(cfg, "SOARname", json_string("root.ns1.mesos."));
                json_object_set_new(cfg, "SOAMinttl", json_integer(z->ttl));
                dns_server_config_json(s, cfg);
                reply(req, 200, cfg);
        } else if (strncmp(p, "hosts/", 6) == 0 && p[6]) {
                hosts(s, req, p + 6);
        } else if (strncmp(p, "services/", 9) == 0 && p[9]) {
                services(s, req, p + 9);
        } else if (strcmp(p, "enumerate") == 0) {
                enumerate(s, req);
        } else {
                return false;
        }
        return true;
}
