/* vip.h — DC/OS virtual IPs (dcos-net's l4lb) as pure functions: the VIP_<n> labels of an app's
 * portDefinitions / container.portMappings, the VIP CIDR, the DNS name of a named VIP, and the
 * wire shape of the VIP table the leader streams to agents.
 *
 * A label value is "/name:port" (a named VIP: the master allocates its address from --vip-cidr)
 * or "a.b.c.d:port" (the address is the label's own). Every VIP_<n> label of a port counts (DC/OS
 * reads the labels whose key starts with VIP_). A named VIP's address is shared by every port
 * and every app that names it, as in DC/OS.
 *
 * VIP table entry (JSON, master → agent in the discovery view's "vips", and GET /v1/vips):
 * {"vip": "/web:80" (the label), "name": "/web" | absent for an IP VIP, "ip": "11.0.0.1",
 *  "port": 80, "protocol": "tcp"|"udp", "backends": [{"ip", "port", "task"}…]} */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "model/discovery.h"

#define VIP_MAX_NAME 128 /* a named VIP's name, with its leading '/' */
#define VIP_MAX_PER_APP 64
/* dcos-net's named-VIP range (dcos_l4lb min_named_ip/max_named_ip: 11.0.0.0 – 11.255.255.254). */
#define VIP_DEFAULT_CIDR "11.0.0.0/8"
#define VIP_DNS_ZONE "l4lb.thisdcos.directory"

/* One VIP label of an app's port. */
struct vip_label {
        char name[VIP_MAX_NAME + 1]; /* "/web" for a named VIP, "" for an IP VIP */
        uint32_t ip;                 /* an IP VIP's address (network order); 0 for a named one */
        uint16_t port;               /* the VIP's port */
        bool tcp, udp;               /* the port's protocols */
        /* Where the backend's port comes from, for a task of the app: host_slot is the index
         * into the task's assigned host ports (-1: none), container_port the mapping's
         * containerPort (0: none); own_ip: the app is on a container network (the task's own
         * address and container port), else the agent's address and the host port. */
        int host_slot;
        uint16_t container_port;
        bool own_ip;
};

/* Parses a label value ("/name:port" or "a.b.c.d:port"). -EINVAL with a one-line err. */
int vip_parse(const char *value, struct vip_label *ret, struct err *err);
/* Every valid VIP label of the app (stored Marathon form), in port order; malformed ones are
 * skipped (the API checks them on write: vip_check_app). Returns how many (≤ max). */
size_t vip_labels_from_app(const json_t *app, struct vip_label *out, size_t max);
/* The first malformed VIP label of an app: -EINVAL with err naming it, else 0. */
int vip_check_app(const json_t *app, struct err *err);
/* The backend port of a task of the app for label l, given its assigned host ports; 0: none. */
uint16_t vip_backend_port(const struct vip_label *l, const uint16_t *host_ports, size_t n_host);

/* "a.b.c.d/len" (len 8..30) → base (network order, host bits cleared) and the number of usable
 * addresses (the network and broadcast addresses excluded). -EINVAL otherwise. */
int vip_cidr_parse(const char *s, uint32_t *base, uint32_t *count, struct err *err);
/* The n-th usable address of the CIDR (0-based; network order). */
uint32_t vip_cidr_at(uint32_t base, uint32_t n);

/* The DNS owner of a named VIP: "<label>.marathon.l4lb.thisdcos.directory." where label is the
 * name without its slashes through Mesos-DNS's label rule ("/my-group/web" → "my-groupweb", as
 * dcos-net strips them). Returns the length, 0 when nothing valid is left. */
size_t vip_dns_name(const char *name, char *out, size_t outsz);
/* The DNS records of a VIP table: one A record (TTL DISCOVERY_DCOS_TTL) per named VIP, at
 * vip_dns_name, answering its address; malformed entries are skipped. */
void vip_records(const json_t *vips, discovery_emit_cb emit, void *data);
