/* vip.c — VIP labels, CIDRs and names (vip.h). */
#include "model/vip.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/discovery.h"

int vip_parse(const char *value, struct vip_label *ret, struct err *err) {
        if (!value || !*value)
                return err_set(err, -EINVAL, "VIP label is empty (expected /name:port or ip:port)");
        const char *colon = strrchr(value, ':');
        if (!colon || colon == value)
                return err_set(err, -EINVAL, "VIP label '%s' has no port (expected /name:port or ip:port)", value);
        char *end;
        errno = 0;
        long port = strtol(colon + 1, &end, 10);
        if (colon[1] == '\0' || *end != '\0' || errno || port < 1 || port > 65535)
                return err_set(err, -EINVAL, "VIP label '%s': port must be 1..65535", value);
        size_t len = (size_t)(colon - value);
        struct vip_label l = { .port = (uint16_t)port, .host_slot = -1 };
        if (value[0] == '/') {
                if (len < 2 || len > VIP_MAX_NAME)
                        return err_set(err, -EINVAL, "VIP label '%s': name must be 1..%d characters", value,
                                       VIP_MAX_NAME - 1);
                memcpy(l.name, value, len);
                l.name[len] = '\0';
                char dns[DISCOVERY_MAX_NAME + 1];
                if (!vip_dns_name(l.name, dns, sizeof dns))
                        return err_set(err, -EINVAL, "VIP label '%s': the name has no valid DNS characters", value);
        } else {
                char ip[16];
                struct in_addr a;
                if (len >= sizeof ip)
                        return err_set(err, -EINVAL, "VIP label '%s': expected /name:port or an IPv4 ip:port", value);
                memcpy(ip, value, len);
                ip[len] = '\0';
                if (inet_pton(AF_INET, ip, &a) != 1 || a.s_addr == 0)
                        return err_set(err, -EINVAL, "VIP label '%s': expected /name:port or an IPv4 ip:port", value);
                l.ip = a.s_addr;
        }
        *ret = l;
        return 0;
}

static void protocols(const json_t *d, struct vip_label *l) {
        const char *p = json_string_value(json_object_get(d, "protocol"));
        if (!p)
                p = "tcp";
        l->tcp = strstr(p, "tcp") != NULL;
        l->udp = strstr(p, "udp") != NULL;
}

typedef int (*label_cb)(const char *key, const char *value, const struct vip_label *proto, void *data);

/* Calls cb for every VIP_* label of every port, with proto filled but for the parsed part. */
static int each_label(const json_t *app, label_cb cb, void *data) {
        const char *mode = discovery_network_mode(app);
        bool host = strcmp(mode, "host") == 0, container = strcmp(mode, "container") == 0;
        const json_t *ports = host ? json_object_get(app, "portDefinitions")
                                   : json_object_get(json_object_get(app, "container"), "portMappings");
        size_t i;
        int slot = 0;
        json_t *d;
        json_array_foreach(ports, i, d) {
                struct vip_label proto = { .host_slot = -1, .own_ip = container };
                if (host || json_is_integer(json_object_get(d, "hostPort")))
                        proto.host_slot = slot++;
                json_int_t cport = json_integer_value(json_object_get(d, "containerPort"));
                if (!host && cport > 0 && cport <= 65535)
                        proto.container_port = (uint16_t)cport;
                protocols(d, &proto);
                const char *key;
                json_t *v;
                json_object_foreach(json_object_get(d, "labels"), key, v) {
                        if (strncmp(key, "VIP_", 4) != 0)
                                continue;
                        int r = cb(key, json_string_value(v), &proto, data);
                        if (r)
                                return r;
                }
        }
        return 0;
}

struct collect {
        struct vip_label *out;
        size_t n, max;
};

static int collect_cb(const char *key, const char *value, const struct vip_label *proto, void *data) {
        struct collect *c = data;
        struct vip_label l;
        if (c->n == c->max)
                return 1;
        if (vip_parse(value, &l, NULL) < 0)
                return 0;
        l.tcp = proto->tcp;
        l.udp = proto->udp;
        l.host_slot = proto->host_slot;
        l.container_port = proto->container_port;
        l.own_ip = proto->own_ip;
        c->out[c->n++] = l;
        return 0;
}

size_t vip_labels_from_app(const json_t *app, struct vip_label *out, size_t max) {
        struct collect c = { out, 0, max };
        each_label(app, collect_cb, &c);
        return c.n;
}

static int check_cb(const char *key, const char *value, const struct vip_label *proto, void *data) {
        struct vip_label l;
        struct err e = { 0 };
        if (vip_parse(value, &l, &e) < 0) {
                err_set(data, -EINVAL, "label %s: %s", key, err_msg(&e));
                err_release(&e);
                return -EINVAL;
        }
        return 0;
}

int vip_check_app(const json_t *app, struct err *err) {
        return each_label(app, check_cb, err) < 0 ? -EINVAL : 0;
}

uint16_t vip_backend_port(const struct vip_label *l, const uint16_t *host_ports, size_t n_host) {
        if (l->own_ip && l->container_port)
                return l->container_port;
        if (l->host_slot >= 0 && (size_t)l->host_slot < n_host)
                return host_ports[l->host_slot];
        return 0;
}

int vip_cidr_parse(const char *s, uint32_t *base, uint32_t *count, struct err *err) {
        char ip[16];
        const char *slash = s ? strchr(s, '/') : NULL;
        if (!slash || (size_t)(slash - s) >= sizeof ip)
                return err_set(err, -EINVAL, "VIP CIDR '%s': expected a.b.c.d/len", s ? s : "");
        memcpy(ip, s, (size_t)(slash - s));
        ip[slash - s] = '\0';
        char *end;
        long len = strtol(slash + 1, &end, 10);
        struct in_addr a;
        if (inet_pton(AF_INET, ip, &a) != 1 || slash[1] == '\0' || *end || len < 8 || len > 30)
                return err_set(err, -EINVAL, "VIP CIDR '%s': expected a.b.c.d/len with len 8..30", s);
        uint32_t mask = len == 32 ? 0xffffffffu : ~((1u << (32 - len)) - 1);
        *base = htonl(ntohl(a.s_addr) & mask);
        *count = (1u << (32 - len)) - 2;
        return 0;
}

uint32_t vip_cidr_at(uint32_t base, uint32_t n) {
        return htonl(ntohl(base) + 1 + n);
}

size_t vip_dns_name(const char *name, char *out, size_t outsz) {
        char flat[VIP_MAX_NAME + 1], label[64];
        size_t n = 0;
        for (const char *p = name; *p && n < VIP_MAX_NAME; p++)
                if (*p != '/')
                        flat[n++] = *p;
        flat[n] = '\0';
        if (!discovery_label(flat, label))
                return 0;
        int w = snprintf(out, outsz, "%s.%s.%s.", label, DISCOVERY_FRAMEWORK, VIP_DNS_ZONE);
        return w > 0 && (size_t)w < outsz ? (size_t)w : 0;
}

void vip_records(const json_t *vips, discovery_emit_cb emit, void *data) {
        json_t *seen = json_object();
        size_t i;
        const json_t *e;
        json_array_foreach(vips, i, e) {
                const char *name = json_string_value(json_object_get(e, "name"));
                const char *ip = json_string_value(json_object_get(e, "ip"));
                char owner[DISCOVERY_MAX_NAME + 1];
                struct in_addr a;
                if (!name || name[0] != '/' || strlen(name) > VIP_MAX_NAME || !ip || inet_pton(AF_INET, ip, &a) != 1 ||
                    !vip_dns_name(name, owner, sizeof owner) || json_object_get(seen, owner))
                        continue;
                json_object_set_new(seen, owner, json_true());
                struct discovery_rr rr = { .name = owner, .type = DISCOVERY_RR_A, .ttl = DISCOVERY_DCOS_TTL, .ip = a.s_addr };
                emit(&rr, data);
        }
        json_decref(seen);
}
