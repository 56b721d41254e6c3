/* discovery.h — service discovery names and records, as pure functions: Mesos-DNS's label rules
 * (records/labels/labels.go), a task's Mesos-DNS and DC/OS records (records/generator.go,
 * dcos-net's dcos_dns), the cluster's own records (leader, masters, agents, ns1), and the wire
 * shapes of the discovery view the leader streams to every agent.
 *
 * Names are lower case, absolute (with the trailing dot). A record carries everything a DNS
 * answer needs (owner, type, TTL, data); the DNS server indexes them by owner name.
 *
 * Discovery view entries (JSON, master → agent, inside DISCOVERY_* agent-link events):
 * | entry  | shape                                                                               |
 * | task   | {"id", "app": "/prod/web", "agent": agent id, "ip"?: own IPv4 (container network),  |
 * |        |  "ports": [[number, hostPort, "name", "tcp"|"udp"|"udp,tcp"], …]}                    |
 * | agent  | {"id", "ip": IPv4 or host name, "port": API port, "hostname"}                       |
 * | masters| {"leader"?: "ip:port", "masters": ["ip:port", …]} (HTTP API addresses)              |
 * A task is in the view only while it serves (discovery_task_serves); leaving the view is how it
 * leaves the answers. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "model/task_state.h"

/* Mesos-DNS serves every record with TTL 60 (records/config.go: TTL, SOAMinttl) and SOA
 * refresh 60, retry 600, expire 86400, mname ns1.<domain>, rname root.ns1.<domain>. */
#define DISCOVERY_TTL 60
#define DISCOVERY_SOA_REFRESH 60
#define DISCOVERY_SOA_RETRY 600
#define DISCOVERY_SOA_EXPIRE 86400
/* dcos-net's zones (thisdcos.directory) use 5 s. */
#define DISCOVERY_DCOS_TTL 5

#define DISCOVERY_DOMAIN "mesos"
#define DISCOVERY_DCOS_ZONE "dcos.thisdcos.directory"
#define DISCOVERY_FRAMEWORK "marathon"

#define DISCOVERY_MAX_NAME 254     /* presentation form with the trailing dot */
#define DISCOVERY_MAX_PORTS 64
#define DISCOVERY_MAX_PORT_NAME 63
#define DISCOVERY_MAX_MASTERS 16
#define DISCOVERY_MAX_ID 256

enum discovery_rr_type { DISCOVERY_RR_A = 1, DISCOVERY_RR_SRV = 33 };

/* One port of a task's DiscoveryInfo, as Marathon fills it: number is the host port (host and
 * bridge networking) or the container port (a container network without a host port). */
struct discovery_port {
        uint16_t number;
        uint16_t host_port; /* 0: none */
        char name[DISCOVERY_MAX_PORT_NAME + 1]; /* "" if unnamed */
        bool tcp, udp;
};

/* A task in the view. Strings are borrowed (from the caller's entry or a decoded JSON). */
struct discovery_task {
        const char *id;
        const char *app_id;   /* "/prod/web" */
        const char *agent_id;
        uint32_t ip;          /* own IPv4 on a container network, network byte order; 0: none */
        const struct discovery_port *ports;
        size_t n_ports;
};

struct discovery_agent {
        const char *id;
        const char *host; /* the address masters know it by: an IPv4 or a host name */
        uint32_t ip;      /* host as IPv4 (network order), 0 if host is not an address */
        uint16_t port;    /* its API port (5051) */
        const char *hostname;
};

struct discovery_masters {
        uint32_t leader_ip; /* 0: no leader known */
        uint16_t leader_port;
        uint32_t ips[DISCOVERY_MAX_MASTERS];
        uint16_t ports[DISCOVERY_MAX_MASTERS];
        size_t n;
};

/* One record. Strings are valid during the emit callback only. */
struct discovery_rr {
        const char *name;   /* owner, lower case, absolute */
        uint16_t type;      /* enum discovery_rr_type */
        uint32_t ttl;
        uint32_t ip;        /* A: network byte order */
        uint16_t port;      /* SRV (priority 0, weight 1, as Mesos-DNS) */
        const char *target; /* SRV: absolute name */
};
typedef void (*discovery_emit_cb)(const struct discovery_rr *rr, void *data);

/* Mesos-DNS's RFC 1123 label (labels.RFC1123): A-Z lowered, '-', '.' and '_' become '-', every
 * other character dropped, leading '-' trimmed, cut at 63 and trailing '-' trimmed (refilled from
 * what follows the cut, as trimCut does). Writes at most 63 chars and a NUL into out; returns the
 * length (0: nothing valid was left). */
size_t discovery_label(const char *name, char out[static 64]);
/* labels.DomainFrag: each '.'-separated part through discovery_label, empty ones dropped,
 * joined with '.'. Returns the length written into out (at most outsz - 1). */
size_t discovery_domain_frag(const char *name, char *out, size_t outsz);
/* Marathon's Mesos task name (and DiscoveryInfo name) of an app: the path's segments reversed,
 * joined by '.' ("/prod/web" → "web.prod"). Returns the length (at most outsz - 1). */
size_t discovery_task_name(const char *app_id, char *out, size_t outsz);
/* The DNS label of an app: its task name through discovery_label ("/prod/web" → "web-prod"). */
size_t discovery_app_label(const char *app_id, char out[static 64]);
/* Mesos-DNS's per-task hash: the first 5 chars of z-base-32(SHA-1(task id)) ("test" → "iffe9"). */
void discovery_task_hash(const char *task_id, char out[static 6]);
/* The last '-'-separated field of an agent id, lower case ("…-S3" → "s3"), cut at 32 chars. */
void discovery_agent_tail(const char *agent_id, char out[static 33]);

/* Whether a task's addresses belong in the answers: Mesos-DNS serves TASK_RUNNING tasks only;
 * Strata also drops a task the moment its health check fails or the cluster decides to stop it
 * (goal not running), so clients stop getting it before TASK_KILLING reaches the agent. */
bool discovery_task_serves(enum task_state state, bool has_health, bool healthy, bool goal_running);

/* The DiscoveryInfo ports of a task of app (stored Marathon form) with its assigned host ports
 * (in portDefinitions / portMappings-with-hostPort order, as placement assigns them): one per
 * port definition, or per port mapping (container networking). Returns how many (≤ max). */
size_t discovery_ports_from_app(const json_t *app, const uint16_t *host_ports, size_t n_host,
                                struct discovery_port *out, size_t max);

/* Every record of a running task placed on agent (NULL: the agent is unknown, nothing at all, as
 * Mesos-DNS skips tasks of unknown agents), for names under <domain> (Mesos-DNS, TTL ttl) and the
 * DC/OS zone (TTL DISCOVERY_DCOS_TTL):
 *   {t}.marathon.mesos, {t}-{hash}-{tail}.marathon.mesos               A  own IP, else agent IP
 *   {t}.marathon.slave.mesos, {t}-{hash}-{tail}.marathon.slave.mesos   A  agent IP
 *   _{t}._tcp|_udp.marathon.slave.mesos   SRV {canonical}.marathon.slave.mesos.:{host port}
 *   _{t}._{proto}.marathon.mesos          SRV {canonical}.marathon.mesos.:{DiscoveryInfo port}
 *   _{port name}._{t}._{proto}.marathon.mesos  the same, for named ports
 *   {t}.marathon.autoip|agentip|containerip.dcos.thisdcos.directory    A
 * where {t} is the app's label ("web-prod") and, as Mesos-DNS also registers the DiscoveryInfo
 * name as is, the task name ("web.prod") when it differs and is a valid name. */
void discovery_task_records(const struct discovery_task *t, const struct discovery_agent *agent, uint32_t ttl,
                            discovery_emit_cb emit, void *data);
/* An agent's records: slave.mesos A, _slave._tcp.mesos SRV slave.mesos.:{port}. */
void discovery_agent_records(const struct discovery_agent *a, uint32_t ttl, discovery_emit_cb emit, void *data);
/* The masters' records: leader.mesos A, master.mesos A (each master), master{N}.mesos A (the
 * masters in order, the leader given the next index if it is not among them),
 * _leader._tcp|_udp.mesos SRV leader.mesos.:{port}, marathon.mesos A and
 * _framework._tcp.marathon.mesos SRV (Marathon runs on the leader). */
void discovery_master_records(const struct discovery_masters *m, uint32_t ttl, discovery_emit_cb emit, void *data);
/* ns1.mesos A: the DNS server's own address (SOA mname and NS target). */
void discovery_ns_records(uint32_t ip, uint32_t ttl, discovery_emit_cb emit, void *data);

/* --- the view's wire shapes (table above) ---------------------------------------------------- */

/* New JSON object for a task entry. */
json_t *discovery_task_to_json(const struct discovery_task *t);
/* Decodes a task entry: strings in *ret borrow from j, ports are written to ports. -EINVAL with
 * err for a malformed entry (*ret untouched). */
int discovery_task_from_json(const json_t *j, struct discovery_task *ret,
                             struct discovery_port ports[static DISCOVERY_MAX_PORTS], struct err *err);
json_t *discovery_agent_to_json(const struct discovery_agent *a);
int discovery_agent_from_json(const json_t *j, struct discovery_agent *ret, struct err *err);
json_t *discovery_masters_to_json(const struct discovery_masters *m);
int discovery_masters_from_json(const json_t *j, struct discovery_masters *ret, struct err *err);
/* "ip:port" (IPv4 only) → ip (network order) and port; false if it is not one. */
bool discovery_parse_ip_port(const char *s, uint32_t *ip, uint16_t *port);
/* Whether the app's tasks are reached at their own address (a container network, "container"
 * mode) rather than at their agent's (host and container/bridge networking). */
/* The app's networking mode: the last networks[].mode, "host" without one (borrowed from app). */
const char *discovery_network_mode(const json_t *app);
bool discovery_app_uses_own_ip(const json_t *app);
/* A queried name as the records are keyed: lower case, absolute, and dcos-net's mirror of the
 * Mesos-DNS zone (*.mesos.thisdcos.directory) mapped onto *.mesos. Returns the length, or 0 if it
 * does not fit in out (DISCOVERY_MAX_NAME + 1 bytes). */
size_t discovery_normalize_name(const char *name, char out[static DISCOVERY_MAX_NAME + 1]);
/* Whether a normalized name lies in a zone Strata answers for (mesos., thisdcos.directory.),
 * rather than one to forward. */
bool discovery_is_local_name(const char *normalized);
