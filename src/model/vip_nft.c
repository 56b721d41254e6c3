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

json_t *vip_nft_rules(const json_t *vips, size_t *skipped) {
        json_t *rules = json_object();
        size_t bad = 0, i;
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
                /* The chain's name is the map key's: stable across views, unique per key. */
                char chain[40];
                unsigned char *o = (unsigned char *)&ip;
                snprintf(chain, sizeof chain, "v_%u_%u_%u_%u_%s_%u", o[0], o[1], o[2], o[3], udp ? "udp" : "tcp", port);
                if (json_object_get(rules, chain)) {
                        bad++; /* two entries for one address, protocol and port: the first wins */
                        continue;
                }
                struct strbuf map = { 0 }, rule = { 0 }, elem = { 0 };
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
                strbuf_printf(&rule, "meta l4proto %s dnat ip to numgen random mod %zu map { %s }", udp ? "udp" : "tcp", k,
                              map.buf);
                put_ip(&elem, ip);
                strbuf_printf(&elem, " . %s . %u", udp ? "udp" : "tcp", port);
                json_object_set_new(rules, chain, json_pack("{s:s,s:s}", "elem", elem.buf, "rule", rule.buf));
                strbuf_release(&map);
                strbuf_release(&rule);
                strbuf_release(&elem);
        }
        if (skipped)
                *skipped = bad;
        return rules;
}

static const char *str(const json_t *r, const char *key) {
        return json_string_value(json_object_get(r, key));
}

char *vip_nft_full(const json_t *rules) {
        struct strbuf out = { 0 };
        const char *chain;
        json_t *r;
        strbuf_printf(&out, "%stable ip " VIP_NFT_TABLE " {\n  map vips {\n    type ipv4_addr . inet_proto . inet_service : verdict\n",
                      vip_nft_remove());
        if (json_object_size(rules)) {
                strbuf_printf(&out, "    elements = { ");
                size_t n = 0;
                json_object_foreach((json_t *)rules, chain, r)
                        strbuf_printf(&out, "%s%s : goto %s", n++ ? ",\n      " : "", str(r, "elem"), chain);
                strbuf_printf(&out, " }\n");
        }
        strbuf_printf(&out, "  }\n");
        json_object_foreach((json_t *)rules, chain, r)
                strbuf_printf(&out, "  chain %s {\n    %s\n  }\n", chain, str(r, "rule"));
        strbuf_printf(&out, "  chain prerouting {\n    type nat hook prerouting priority dstnat; policy accept;\n"
                            "    ip daddr . meta l4proto . th dport vmap @vips\n  }\n"
                            "  chain output {\n    type nat hook output priority -100; policy accept;\n"
                            "    ip daddr . meta l4proto . th dport vmap @vips\n  }\n}\n");
        return strbuf_steal(&out);
}

char *vip_nft_delta(const json_t *old, const json_t *rules) {
        struct strbuf out = { 0 };
        const char *chain;
        json_t *r;
        /* gone first (their map element before their chain: the element jumps to it) */
        json_object_foreach((json_t *)old, chain, r) {
                if (json_object_get(rules, chain))
                        continue;
                strbuf_printf(&out, "delete element ip " VIP_NFT_TABLE " vips { %s }\nflush chain ip " VIP_NFT_TABLE
                                    " %s\ndelete chain ip " VIP_NFT_TABLE " %s\n",
                              str(r, "elem"), chain, chain);
        }
        json_object_foreach((json_t *)rules, chain, r) {
                const json_t *was = json_object_get(old, chain);
                if (was && json_equal(was, r))
                        continue;
                if (was)
                        strbuf_printf(&out, "flush chain ip " VIP_NFT_TABLE " %s\n", chain);
                else
                        strbuf_printf(&out, "add chain ip " VIP_NFT_TABLE " %s\n", chain);
                strbuf_printf(&out, "add rule ip " VIP_NFT_TABLE " %s %s\n", chain, str(r, "rule"));
                if (!was)
                        strbuf_printf(&out, "add element ip " VIP_NFT_TABLE " vips { %s : goto %s }\n", str(r, "elem"), chain);
        }
        return out.len ? strbuf_steal(&out) : NULL;
}

const char *vip_nft_remove(void) {
        return "add table ip " VIP_NFT_TABLE "\ndelete table ip " VIP_NFT_TABLE "\n";
}
