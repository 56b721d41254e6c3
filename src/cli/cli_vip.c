/* cli_vip.c — noun `vip`: the cluster's virtual IPs with their backends (GET /v1/vips). */
#include <stdio.h>
#include <string.h>

#include "cli/cli_internal.h"
#include "cli/cli_output.h"
#include "common/alloc.h"
#include "common/strbuf.h"

static struct cli_table *vips_table(const json_t *vips) {
        static const char *const headers[] = { "VIP", "ADDRESS", "PROTOCOL", "BACKENDS" };
        struct cli_table *t = cli_table_new(ELEMENTSOF(headers), headers);
        size_t i, j;
        const json_t *v, *b;
        json_array_foreach(vips, i, v) {
                _cleanup_free_ char *addr = xasprintf("%s:%lld", json_string_value(json_object_get(v, "ip")) ?: "",
                                                      (long long)json_integer_value(json_object_get(v, "port")));
                struct strbuf sb = { 0 };
                json_array_foreach(json_object_get(v, "backends"), j, b)
                        strbuf_printf(&sb, "%s%s:%lld", j ? "," : "", json_string_value(json_object_get(b, "ip")) ?: "",
                                      (long long)json_integer_value(json_object_get(b, "port")));
                _cleanup_free_ char *backends = sb.buf ? strbuf_steal(&sb) : xstrdup("-");
                cli_table_add(t, (const char *[]){ json_string_value(json_object_get(v, "vip")), addr,
                                                   json_string_value(json_object_get(v, "protocol")), backends });
        }
        return t;
}

static int vip_list(struct cli *c, const struct cli_args *a, struct err *err) {
        return cli_get_and_print(c, "/v1/vips", "vips", JSON_ARRAY, "vips", vips_table, err);
}

static const struct cli_verb vip_verbs[] = {
        {
                .name = "list",
                .synopsis = "",
                .summary = "Show every VIP with its address and backends",
                .description = "VIPs come from VIP_<n> labels of apps' portDefinitions or container.portMappings\n"
                               "(\"/name:port\": an address from the masters' --vip-cidr; \"ip:port\": that address).\n"
                               "Backends are the app's running, healthy tasks; every agent balances new connections\n"
                               "over them. A named VIP is also <name>.marathon.l4lb.thisdcos.directory in DNS.",
                .min_args = 0,
                .max_args = 0,
                .run = vip_list,
        },
        { NULL },
};

const struct cli_noun cli_noun_vip = {
        .name = "vip",
        .summary = "List the cluster's virtual IPs and their backends",
        .verbs = vip_verbs,
};
