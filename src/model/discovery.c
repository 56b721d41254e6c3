/* discovery.c — Mesos-DNS and DC/OS names and records of tasks, agents and masters (pure). */
#include "model/discovery.h"

#include <arpa/inet.h>
#include <errno.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/macro.h"

/* labels.go mapping(): the DNS label counterpart of one character, or -1 to drop it. */
static int label_char(unsigned char c) {
        if (c >= 'A' && c <= 'Z')
                return c - 'A' + 'a';
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
                return c;
        if (c == '-' || c == '.' || c == '_')
                return '-';
        return -1;
}

size_t discovery_label(const char *name, char out[static 64]) {
        /* labels.go label(name, 63, "-", "-"): map, then trimCut. */
        size_t len = strlen(name);
        _cleanup_free_ char *mapped = xmalloc(len + 1);
        size_t n = 0;
        for (size_t i = 0; i < len; i++) {
                int c = label_char((unsigned char)name[i]);
                if (c >= 0)
                        mapped[n++] = (char)c;
        }
        const char *trim = mapped;
        while (n > 0 && *trim == '-') {
                trim++;
                n--;
        }
        size_t size = MIN(n, (size_t)63);
        size_t head = size;
        while (head > 0 && trim[head - 1] == '-')
                head--;
        memcpy(out, trim, head);
        if (head < size) {
                /* trimCut: "tail := TrimLeft(trim[size:], right); append(head, tail[:min(len(tail),
                 * size-len(head))]...)" — the cut is refilled from after it. */
                const char *tail = trim + size;
                size_t tn = n - size;
                while (tn > 0 && *tail == '-') {
                        tail++;
                        tn--;
                }
                size_t take = MIN(tn, size - head);
                memcpy(out + head, tail, take);
                head += take;
        }
        out[head] = '\0';
        return head;
}

size_t discovery_domain_frag(const char *name, char *out, size_t outsz) {
        size_t n = 0;
        out[0] = '\0';
        const char *p = name;
        for (;;) {
                const char *dot = strchr(p, '.');
                size_t plen = dot ? (size_t)(dot - p) : strlen(p);
                _cleanup_free_ char *part = xstrndup(p, plen);
                char lab[64];
                size_t ln = discovery_label(part, lab);
                if (ln > 0 && n + (n > 0) + ln < outsz) {
                        if (n > 0)
                                out[n++] = '.';
                        memcpy(out + n, lab, ln);
                        n += ln;
                        out[n] = '\0';
                }
                if (!dot)
                        break;
                p = dot + 1;
        }
        return n;
}

size_t discovery_task_name(const char *app_id, char *out, size_t outsz) {
        size_t n = 0, len = strlen(app_id);
        out[0] = '\0';
        /* segments from the last to the first */
        size_t end = len;
        while (end > 0) {
                size_t start = end;
                while (start > 0 && app_id[start - 1] != '/')
                        start--;
                size_t seg = end - start;
                if (seg > 0 && n + (n > 0) + seg < outsz) {
                        if (n > 0)
                                out[n++] = '.';
                        memcpy(out + n, app_id + start, seg);
                        n += seg;
                        out[n] = '\0';
                }
                end = start > 0 ? start - 1 : 0;
        }
        return n;
}

size_t discovery_app_label(const char *app_id, char out[static 64]) {
        char name[DISCOVERY_MAX_ID + 1];
        discovery_task_name(app_id, name, sizeof name);
        return discovery_label(name, out);
}

void discovery_task_hash(const char *task_id, char out[static 6]) {
        static const char alphabet[] = "ybndrfg8ejkmcpqxot1uwisza345h769"; /* z-base-32 */
        unsigned char md[SHA_DIGEST_LENGTH];
        SHA1((const unsigned char *)task_id, strlen(task_id), md);
        /* The first 25 bits, 5 at a time, most significant first. */
        uint32_t bits = ((uint32_t)md[0] << 24) | ((uint32_t)md[1] << 16) | ((uint32_t)md[2] << 8) | md[3];
        for (int i = 0; i < 5; i++)
                out[i] = alphabet[(bits >> (27 - 5 * i)) & 31];
        out[5] = '\0';
}

void discovery_agent_tail(const char *agent_id, char out[static 33]) {
        const char *dash = strrchr(agent_id, '-');
        const char *tail = dash ? dash + 1 : agent_id;
        size_t n = 0;
        for (; tail[n] && n < 32; n++)
                out[n] = (char)(tail[n] >= 'A' && tail[n] <= 'Z' ? tail[n] - 'A' + 'a' : tail[n]);
        out[n] = '\0';
}

bool discovery_task_serves(enum task_state state, bool has_health, bool healthy, bool goal_running) {
        return state == TASK_RUNNING && goal_running && (!has_health || healthy);
}

/* --- ports --------------------------------------------------------------------------------- */

static void port_protocols(const json_t *def, struct discovery_port *p) {
        const char *proto = json_string_value(json_object_get(def, "protocol"));
        p->tcp = !proto || strstr(proto, "tcp") != NULL;
        p->udp = proto && strstr(proto, "udp") != NULL;
        if (!p->tcp && !p->udp)
                p->tcp = true;
}

static void port_name(const json_t *def, struct discovery_port *p) {
        const char *name = json_string_value(json_object_get(def, "name"));
        snprintf(p->name, sizeof p->name, "%s", name ? name : "");
}

static int json_port(const json_t *v) {
        json_int_t n = json_integer_value(v);
        return n > 0 && n <= 65535 ? (int)n : 0;
}

const char *discovery_network_mode(const json_t *app) {
        const char *mode = "host";
        size_t i;
        json_t *d;
        json_array_foreach(json_object_get(app, "networks"), i, d) {
                const char *m = json_string_value(json_object_get(d, "mode"));
                if (m)
                        mode = m;
        }
        return mode;
}

bool discovery_app_uses_own_ip(const json_t *app) {
        return strcmp(discovery_network_mode(app), "container") == 0;
}

size_t discovery_ports_from_app(const json_t *app, const uint16_t *host_ports, size_t n_host,
                                struct discovery_port *out, size_t max) {
        const char *mode = discovery_network_mode(app);
        size_t i, n = 0, k = 0;
        json_t *d;
        if (strcmp(mode, "host") == 0) {
                json_array_foreach(json_object_get(app, "portDefinitions"), i, d) {
                        if (n == max)
                                break;
                        struct discovery_port *p = &out[n];
                        *p = (struct discovery_port){ 0 };
                        p->host_port = k < n_host ? host_ports[k] : 0;
                        k++;
                        p->number = p->host_port;
                        port_name(d, p);
                        port_protocols(d, p);
                        if (p->number)
                                n++;
                }
                return n;
        }
        /* A container network: the task's own address with the container port; a bridge: the
         * agent's address with the host port (what other machines can reach). */
        bool container = strcmp(mode, "container") == 0;
        json_array_foreach(json_object_get(json_object_get(app, "container"), "portMappings"), i, d) {
                if (n == max)
                        break;
                struct discovery_port *p = &out[n];
                *p = (struct discovery_port){ 0 };
                if (json_is_integer(json_object_get(d, "hostPort"))) {
                        p->host_port = k < n_host ? host_ports[k] : 0;
                        k++;
                }
                int cport = json_port(json_object_get(d, "containerPort"));
                p->number = container && cport ? (uint16_t)cport : p->host_port;
                port_name(d, p);
                port_protocols(d, p);
                if (p->number)
                        n++;
        }
        return n;
}

/* --- records ------------------------------------------------------------------------------- */

struct emitter {
        discovery_emit_cb emit;
        void *data;
        uint32_t ttl;
};

static void emit_a(const struct emitter *e, const char *name, uint32_t ip, uint32_t ttl) {
        if (!ip || strlen(name) > DISCOVERY_MAX_NAME - 1)
                return;
        struct discovery_rr rr = { .name = name, .type = DISCOVERY_RR_A, .ttl = ttl, .ip = ip };
        e->emit(&rr, e->data);
}

static void emit_srv(const struct emitter *e, const char *name, const char *target, uint16_t port) {
        if (!port || strlen(name) > DISCOVERY_MAX_NAME - 1 || strlen(target) > DISCOVERY_MAX_NAME - 1)
                return;
        struct discovery_rr rr = { .name = name, .type = DISCOVERY_RR_SRV, .ttl = e->ttl, .port = port,
                                   .target = target };
        e->emit(&rr, e->data);
}

/* A name made only of [a-z0-9-] labels of 1..63 chars (the raw DiscoveryInfo name pass). */
static bool valid_name(const char *s) {
        size_t lab = 0;
        if (!*s)
                return false;
        for (; *s; s++) {
                if (*s == '.') {
                        if (lab == 0)
                                return false;
                        lab = 0;
                        continue;
                }
                if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-') || ++lab > 63)
                        return false;
        }
        return lab > 0;
}

/* records/generator.go taskContextRecord for one task name (with DiscoveryInfo, as Marathon
 * always gives one): subdomains ["slave"] for the host ports, then one SRV per DI port. */
static void task_context(const struct emitter *e, const struct discovery_task *t, const struct discovery_agent *a,
                         const char *tname, const char *hash, const char *tail) {
        char canonical[400], arec[400], name[1200];
        char target[500];
        const char *fw = DISCOVERY_FRAMEWORK, *d = DISCOVERY_DOMAIN;
        snprintf(canonical, sizeof canonical, "%s-%s-%s.%s", tname, hash, tail, fw);
        snprintf(arec, sizeof arec, "%s.%s", tname, fw);
        uint32_t task_ip = t->ip ? t->ip : a->ip;

        snprintf(name, sizeof name, "%s.%s.", arec, d);
        emit_a(e, name, task_ip, e->ttl);
        snprintf(name, sizeof name, "%s.%s.", canonical, d);
        emit_a(e, name, task_ip, e->ttl);
        snprintf(name, sizeof name, "%s.slave.%s.", arec, d);
        emit_a(e, name, a->ip, e->ttl);
        snprintf(name, sizeof name, "%s.slave.%s.", canonical, d);
        emit_a(e, name, a->ip, e->ttl);

        snprintf(target, sizeof target, "%s.slave.%s.", canonical, d);
        for (size_t i = 0; i < t->n_ports; i++) {
                if (!t->ports[i].host_port)
                        continue;
                snprintf(name, sizeof name, "_%s._tcp.%s.slave.%s.", tname, fw, d);
                emit_srv(e, name, target, t->ports[i].host_port);
                snprintf(name, sizeof name, "_%s._udp.%s.slave.%s.", tname, fw, d);
                emit_srv(e, name, target, t->ports[i].host_port);
        }

        snprintf(target, sizeof target, "%s.%s.", canonical, d);
        for (size_t i = 0; i < t->n_ports; i++) {
                const struct discovery_port *p = &t->ports[i];
                char pname[64];
                size_t pn = discovery_label(p->name, pname);
                for (int proto = 0; proto < 2; proto++) {
                        if (!(proto == 0 ? p->tcp : p->udp))
                                continue;
                        const char *ps = proto == 0 ? "tcp" : "udp";
                        snprintf(name, sizeof name, "_%s._%s.%s.%s.", tname, ps, fw, d);
                        emit_srv(e, name, target, p->number);
                        if (pn > 0) {
                                snprintf(name, sizeof name, "_%s._%s._%s.%s.%s.", pname, tname, ps, fw, d);
                                emit_srv(e, name, target, p->number);
                        }
                }
        }
}

void discovery_task_records(const struct discovery_task *t, const struct discovery_agent *agent, uint32_t ttl,
                            discovery_emit_cb emit, void *data) {
        if (!agent)
                return;
        struct emitter e = { emit, data, ttl };
        char label[64], raw[DISCOVERY_MAX_ID + 1], hash[6], tail[33];
        if (discovery_app_label(t->app_id, label) == 0)
                return;
        discovery_task_name(t->app_id, raw, sizeof raw);
        discovery_task_hash(t->id, hash);
        discovery_agent_tail(t->agent_id, tail);
        /* generator.go: "if task.HasDiscoveryInfo() { ctx.taskName = task.DiscoveryInfo.Name …
         * ctx.taskName = spec(task.DiscoveryInfo.Name) … }" — both the name as is and its label. */
        if (strcmp(raw, label) != 0 && strlen(raw) <= 63 && valid_name(raw))
                task_context(&e, t, agent, raw, hash, tail);
        task_context(&e, t, agent, label, hash, tail);

        /* dcos-net: {task}.{framework}.agentip|containerip|autoip.dcos.thisdcos.directory */
        char name[400];
        const char *fw = DISCOVERY_FRAMEWORK, *z = DISCOVERY_DCOS_ZONE;
        snprintf(name, sizeof name, "%s.%s.autoip.%s.", label, fw, z);
        emit_a(&e, name, t->ip ? t->ip : agent->ip, DISCOVERY_DCOS_TTL);
        snprintf(name, sizeof name, "%s.%s.agentip.%s.", label, fw, z);
        emit_a(&e, name, agent->ip, DISCOVERY_DCOS_TTL);
        snprintf(name, sizeof name, "%s.%s.containerip.%s.", label, fw, z);
        emit_a(&e, name, t->ip, DISCOVERY_DCOS_TTL);
}

void discovery_agent_records(const struct discovery_agent *a, uint32_t ttl, discovery_emit_cb emit, void *data) {
        struct emitter e = { emit, data, ttl };
        emit_a(&e, "slave." DISCOVERY_DOMAIN ".", a->ip, ttl);
        if (a->ip)
                emit_srv(&e, "_slave._tcp." DISCOVERY_DOMAIN ".", "slave." DISCOVERY_DOMAIN ".", a->port);
}

void discovery_master_records(const struct discovery_masters *m, uint32_t ttl, discovery_emit_cb emit, void *data) {
        struct emitter e = { emit, data, ttl };
        const char *d = DISCOVERY_DOMAIN;
        char name[64];
        if (m->leader_ip) {
                snprintf(name, sizeof name, "leader.%s.", d);
                emit_a(&e, name, m->leader_ip, ttl);
                snprintf(name, sizeof name, "master.%s.", d);
                emit_a(&e, name, m->leader_ip, ttl);
                char target[64];
                snprintf(target, sizeof target, "leader.%s.", d);
                snprintf(name, sizeof name, "_leader._tcp.%s.", d);
                emit_srv(&e, name, target, m->leader_port);
                snprintf(name, sizeof name, "_leader._udp.%s.", d);
                emit_srv(&e, name, target, m->leader_port);
                /* frameworkRecords: Marathon's scheduler address. */
                snprintf(name, sizeof name, "%s.%s.", DISCOVERY_FRAMEWORK, d);
                emit_a(&e, name, m->leader_ip, ttl);
                snprintf(target, sizeof target, "%s.%s.", DISCOVERY_FRAMEWORK, d);
                snprintf(name, sizeof name, "_framework._tcp.%s.%s.", DISCOVERY_FRAMEWORK, d);
                emit_srv(&e, name, target, m->leader_port);
        }
        /* masterRecord: master.domain for each, masterN in list order; the leader gets the next
         * index when it is not listed. */
        bool leader_listed = false;
        size_t idx = 0;
        for (size_t i = 0; i < m->n && i < DISCOVERY_MAX_MASTERS; i++) {
                bool is_leader = m->ips[i] == m->leader_ip && m->ports[i] == m->leader_port;
                if (is_leader && leader_listed)
                        continue;
                snprintf(name, sizeof name, "master.%s.", d);
                if (!is_leader)
                        emit_a(&e, name, m->ips[i], ttl);
                snprintf(name, sizeof name, "master%zu.%s.", idx++, d);
                emit_a(&e, name, m->ips[i], ttl);
                leader_listed |= is_leader;
        }
        if (!leader_listed && m->leader_ip) {
                snprintf(name, sizeof name, "master%zu.%s.", idx, d);
                emit_a(&e, name, m->leader_ip, ttl);
        }
}

void discovery_ns_records(uint32_t ip, uint32_t ttl, discovery_emit_cb emit, void *data) {
        struct emitter e = { emit, data, ttl };
        emit_a(&e, "ns1." DISCOVERY_DOMAIN ".", ip, ttl);
}

/* --- wire shapes --------------------------------------------------------------------------- */

bool discovery_parse_ip_port(const char *s, uint32_t *ip, uint16_t *port) {
        const char *colon = s ? strrchr(s, ':') : NULL;
        if (!colon || colon == s || colon - s > 15)
                return false;
        char host[16];
        memcpy(host, s, (size_t)(colon - s));
        host[colon - s] = '\0';
        struct in_addr a;
        char *end;
        long p = strtol(colon + 1, &end, 10);
        if (inet_pton(AF_INET, host, &a) != 1 || *end || p < 1 || p > 65535 || end == colon + 1)
                return false;
        *ip = a.s_addr;
        *port = (uint16_t)p;
        return true;
}

static json_t *ip_json(uint32_t ip) {
        char buf[INET_ADDRSTRLEN];
        struct in_addr a = { .s_addr = ip };
        return json_string(inet_ntop(AF_INET, &a, buf, sizeof buf));
}

static bool ip_from_json(const json_t *v, uint32_t *ip) {
        struct in_addr a;
        if (!json_is_string(v) || inet_pton(AF_INET, json_string_value(v), &a) != 1)
                return false;
        *ip = a.s_addr;
        return true;
}

json_t *discovery_task_to_json(const struct discovery_task *t) {
        json_t *ports = json_array();
        for (size_t i = 0; i < t->n_ports; i++) {
                const struct discovery_port *p = &t->ports[i];
                json_array_append_new(ports, json_pack("[i,i,s,s]", p->number, p->host_port, p->name,
                                                       p->tcp && p->udp ? "udp,tcp" : p->udp ? "udp" : "tcp"));
        }
        json_t *j = json_pack("{s:s,s:s,s:s,s:o}", "id", t->id, "app", t->app_id, "agent", t->agent_id, "ports", ports);
        if (t->ip)
                json_object_set_new(j, "ip", ip_json(t->ip));
        return j;
}

static bool short_string(const json_t *v, size_t max) {
        return json_is_string(v) && json_string_length(v) > 0 && json_string_length(v) <= max &&
               strlen(json_string_value(v)) == json_string_length(v);
}

int discovery_task_from_json(const json_t *j, struct discovery_task *ret,
                             struct discovery_port ports[static DISCOVERY_MAX_PORTS], struct err *err) {
        const json_t *id = json_object_get(j, "id"), *app = json_object_get(j, "app"),
                     *agent = json_object_get(j, "agent"), *ip = json_object_get(j, "ip"),
                     *jp = json_object_get(j, "ports");
        if (!short_string(id, DISCOVERY_MAX_ID) || !short_string(app, DISCOVERY_MAX_ID) ||
            !short_string(agent, DISCOVERY_MAX_ID))
                return err_set(err, -EINVAL, "discovery task: expected \"id\", \"app\" and \"agent\" strings");
        struct discovery_task t = { .id = json_string_value(id), .app_id = json_string_value(app),
                                    .agent_id = json_string_value(agent), .ports = ports };
        if (ip && !ip_from_json(ip, &t.ip))
                return err_set(err, -EINVAL, "discovery task '%s': \"ip\" is not an IPv4 address", t.id);
        if (jp && (!json_is_array(jp) || json_array_size(jp) > DISCOVERY_MAX_PORTS))
                return err_set(err, -EINVAL, "discovery task '%s': \"ports\" is not an array of at most %d",
                               t.id, DISCOVERY_MAX_PORTS);
        size_t i;
        json_t *p;
        json_array_foreach(jp, i, p) {
                json_t *num = json_array_get(p, 0), *host = json_array_get(p, 1), *name = json_array_get(p, 2),
                       *proto = json_array_get(p, 3);
                if (!json_is_array(p) || json_array_size(p) != 4 || !json_is_integer(num) || !json_is_integer(host) ||
                    json_integer_value(num) < 1 || json_integer_value(num) > 65535 || json_integer_value(host) < 0 ||
                    json_integer_value(host) > 65535 || !json_is_string(name) ||
                    json_string_length(name) > DISCOVERY_MAX_PORT_NAME || !json_is_string(proto))
                        return err_set(err, -EINVAL, "discovery task '%s': port #%zu is not [number, hostPort, name, protocol]",
                                       t.id, i);
                struct discovery_port *dp = &ports[i];
                *dp = (struct discovery_port){ .number = (uint16_t)json_integer_value(num),
                                               .host_port = (uint16_t)json_integer_value(host) };
                snprintf(dp->name, sizeof dp->name, "%s", json_string_value(name));
                const char *ps = json_string_value(proto);
                dp->tcp = strstr(ps, "tcp") != NULL;
                dp->udp = strstr(ps, "udp") != NULL;
                if (!dp->tcp && !dp->udp)
                        dp->tcp = true;
                t.n_ports = i + 1;
        }
        *ret = t;
        return 0;
}

json_t *discovery_agent_to_json(const struct discovery_agent *a) {
        return json_pack("{s:s,s:s,s:i,s:s}", "id", a->id, "ip", a->host, "port", a->port, "hostname",
                         a->hostname ? a->hostname : a->host);
}

int discovery_agent_from_json(const json_t *j, struct discovery_agent *ret, struct err *err) {
        const json_t *id = json_object_get(j, "id"), *host = json_object_get(j, "ip"),
                     *port = json_object_get(j, "port"), *hostname = json_object_get(j, "hostname");
        if (!short_string(id, DISCOVERY_MAX_ID) || !short_string(host, 255) || !json_is_integer(port) ||
            json_integer_value(port) < 0 || json_integer_value(port) > 65535 || (hostname && !short_string(hostname, 255)))
                return err_set(err, -EINVAL, "discovery agent: expected \"id\", \"ip\" and \"port\"");
        struct discovery_agent a = { .id = json_string_value(id), .host = json_string_value(host),
                                     .port = (uint16_t)json_integer_value(port),
                                     .hostname = hostname ? json_string_value(hostname) : json_string_value(host) };
        ip_from_json(host, &a.ip);
        *ret = a;
        return 0;
}

static json_t *ip_port_json(uint32_t ip, uint16_t port) {
        char buf[INET_ADDRSTRLEN], out[32];
        struct in_addr a = { .s_addr = ip };
        snprintf(out, sizeof out, "%s:%u", inet_ntop(AF_INET, &a, buf, sizeof buf), port);
        return json_string(out);
}

json_t *discovery_masters_to_json(const struct discovery_masters *m) {
        json_t *list = json_array();
        for (size_t i = 0; i < m->n && i < DISCOVERY_MAX_MASTERS; i++)
                json_array_append_new(list, ip_port_json(m->ips[i], m->ports[i]));
        json_t *j = json_pack("{s:o}", "masters", list);
        if (m->leader_ip)
                json_object_set_new(j, "leader", ip_port_json(m->leader_ip, m->leader_port));
        return j;
}

int discovery_masters_from_json(const json_t *j, struct discovery_masters *ret, struct err *err) {
        struct discovery_masters m = { 0 };
        const json_t *leader = json_object_get(j, "leader"), *list = json_object_get(j, "masters");
        if (!json_is_object(j) || (leader && !discovery_parse_ip_port(json_string_value(leader), &m.leader_ip,
                                                                        &m.leader_port)) ||
            !json_is_array(list) || json_array_size(list) > DISCOVERY_MAX_MASTERS)
                return err_set(err, -EINVAL, "discovery masters: expected {\"leader\"?: \"ip:port\", \"masters\": [\"ip:port\"…]}");
        size_t i;
        json_t *v;
        json_array_foreach(list, i, v) {
                if (!discovery_parse_ip_port(json_string_value(v), &m.ips[m.n], &m.ports[m.n]))
                        return err_set(err, -EINVAL, "discovery masters: #%zu is not \"ip:port\"", i);
                m.n++;
        }
        *ret = m;
        return 0;
}

/* --- names --------------------------------------------------------------------------------- */

static bool ends_with(const char *s, size_t n, const char *suffix) {
        size_t k = strlen(suffix);
        return n >= k && memcmp(s + n - k, suffix, k) == 0 && (n == k || s[n - k - 1] == '.');
}

size_t discovery_normalize_name(const char *name, char out[static DISCOVERY_MAX_NAME + 1]) {
        size_t n = strlen(name);
        if (n == 0 || n + (name[n - 1] != '.') > DISCOVERY_MAX_NAME)
                return 0;
        for (size_t i = 0; i < n; i++)
                out[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] - 'A' + 'a' : name[i]);
        if (out[n - 1] != '.')
                out[n++] = '.';
        out[n] = '\0';
        static const char mirror[] = "mesos.thisdcos.directory.";
        if (ends_with(out, n, mirror)) {
                /* "web.marathon.mesos.thisdcos.directory." → "web.marathon.mesos." */
                n -= strlen(mirror) - strlen(DISCOVERY_DOMAIN ".");
                out[n] = '\0';
        }
        return n;
}

bool discovery_is_local_name(const char *normalized) {
        size_t n = strlen(normalized);
        return ends_with(normalized, n, DISCOVERY_DOMAIN ".") || ends_with(normalized, n, "thisdcos.directory.");
}
