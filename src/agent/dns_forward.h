/* dns_forward.h — asynchronous forwarding of the names Strata does not own to the host's
 * resolvers: one UDP socket on the loop, a fresh random id per forwarded query (the client's id
 * is put back on the reply), a timeout per upstream, the next upstream on timeout, and a failure
 * (the server answers SERVFAIL) once every upstream has had its try. Nothing blocks the loop. */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "common/err.h"

#define DNS_FORWARD_MAX_UPSTREAMS 3
#define DNS_FORWARD_MAX_PENDING 4096

/* reply is NULL when every upstream failed or timed out; else the reply (n bytes) with the
 * client's id, valid during the call. */
typedef void (*dns_forward_cb)(void *data, const uint8_t *reply, size_t n);

struct dns_forwarder;

/* upstreams: "ip" or "ip:port" strings (IPv4; NULL-terminated); n 0..3. */
int dns_forwarder_new(uv_loop_t *loop, char **upstreams, unsigned timeout_ms, struct dns_forwarder **ret,
                      struct err *err);
/* Forwards query (copied). cb fires exactly once, never from inside this call; false (and no
 * callback) if there are no upstreams or too many queries are in flight. */
bool dns_forwarder_send(struct dns_forwarder *f, const uint8_t *query, size_t n, dns_forward_cb cb, void *data);
/* Fails (cb with NULL) every query in flight for data, e.g. a TCP client that went away. */
void dns_forwarder_cancel(struct dns_forwarder *f, void *data);
/* Closes the socket; pending queries get cb(NULL). Freed once closed. */
void dns_forwarder_free(struct dns_forwarder *f);
size_t dns_forwarder_upstreams(const struct dns_forwarder *f, char out[][24], size_t max);

/* Reads "nameserver" lines of a resolv.conf (IPv4 only), at most max, skipping skip_ip:53
 * (ourselves). Returns a NULL-terminated list (strv_free) — empty if the file has none. */
char **dns_resolv_conf_upstreams(const char *path, uint32_t skip_ip, uint16_t our_port, size_t max);

struct dns_forward_stats {
        uint64_t sent, answered, timeouts, failed, latency_us_sum;
};
void dns_forwarder_stats(const struct dns_forwarder *f, struct dns_forward_stats *ret);
