/* vip_nft.c — the agent's nftables ruleset for the VIP table (vip_nft.h). */
#include "model/vip_nft.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/strbuf.h"

static bool parse_ip(const json_t *j, uint32_t *ip) {
        struct in_addr a;
        const char *s = json_string_value(j);
        if (!s || inet_pton(AF_INET, s, &a) != 1 || a.s_addr == 0)
                return false;
        *ip = a.s_addr;
        return true;
}

static bool parse_port(const json_t *j, unsigned *port) {
        json_int_t p = json_integer_value(j);
        if (!json_is_integer(j) || p < 1 || p > 65535)
                return false;
        *port = (unsigned)p;
        return true;
}

static void put_ip(struct strbuf *sb, uint32_t ip) {
        char buf[INET_ADDRSTRLEN];
        struct in_addr a = { .s_addr = ip };
        strbuf_printf(sb, "%s", inet_ntop(AF_INET, &a, buf, sizeof buf));
}

char *vip_nft_ruleset(const json_t *vips, size_t *programmed, size_t *skipped) {
        struct strbuf chains = { 0 }, elems = { 0 }, out = { 0 };
        json_t *seen = json_object();
        size_t n = 0, bad = 0, i;
        json_t *e;
        json_array_foreach(vips, i, e) {
                uint32_t ip;
                unsigned port;
                const char *proto = json_string_value(json_object_get(e, "protocol"));
                const json_t *backends = json_object_get(e, "backends");
                if (!parse_ip(json_object_get(e, "ip"), &ip) || !parse_port(json_object_get(e, "port"), &port) || !proto ||
                    (strcmp(proto, "tcp") != 0 && strcmp(proto, "udp") != 0) || !json_is_array(backends)) {
                        bad++;
                        continue;
                }
                bool udp = proto[0] == 'u';
                char key[40];
                snprintf(key, sizeof key, "%08x.%s.%u", ip, udp ? "udp" : "tcp", port);
                if (json_object_get(seen, key)) {
                        bad++; /* two entries for one address, protocol and port: the first wins */
                        continue;
                }
                struct strbuf map = { 0 };
                size_t k = 0, j;
                json_t *b;
                json_array_foreach(backends, j, b) {
                        uint32_t bip;
                        unsigned bport;
                        if (!parse_ip(json_object_get(b, "ip"), &bip) || !parse_port(json_object_get(b, "port"), &bport))
                                continue;
                        strbuf_printf(&map, "%s%zu : ", k ? ", " : "", k);
                        put_ip(&map, bip);
                        strbuf_printf(&map, " . %u", bport);
                        k++;
                }
                if (k == 0) {
                        strbuf_release(&map);
                        continue;
                }
                json_object_set_new(seen, key, json_true());
                strbuf_printf(&chains, "  chain v%zu {\n    meta l4proto %s dnat ip to numgen random mod %zu map { %s }\n  }\n",
                              n, udp ? "udp" : "tcp", k, map.buf);
                strbuf_release(&map);
                strbuf_printf(&elems, "%s", n ? ",\n      " : "");
                put_ip(&elems, ip);
                strbuf_printf(&elems, " . %s . %u : goto v%zu", udp ? "udp" : "tcp", port, n);
                n++;
        }
        json_decref(seen);
        strbuf_printf(&out, "%stable ip " VIP_NFT_TABLE " {\n  map vips {\n    type ipv4_addr . inet_proto . inet_service : verdict\n",
                      vip_nft_remove());
        if (n)
                strbuf_printf(&out, "    elements = { %s }\n", elems.buf);
        strbuf_printf(&out, "  }\n%s"
                            "  chain prerouting {\n    type nat hook prerouting priority dstnat; policy accept;\n"
                            "    ip daddr . meta l4proto . th dport vmap @vips\n  }\n"
                            "  chain output {\n    type nat hook output priority -100; policy accept;\n"
                            "    ip daddr . meta l4proto . th dport vmap @vips\n  }\n}\n",
                      chains.buf ? chains.buf : "");
        strbuf_release(&chains);
        strbuf_release(&elems);
        if (programmed)
                *programmed = n;
        if (skipped)
                *skipped = bad;
        return strbuf_steal(&out);
}

const char *vip_nft_remove(void) {
        return "add table ip " VIP_NFT_TABLE "\ndelete table ip " VIP_NFT_TABLE "\n";
}
