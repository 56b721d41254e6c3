/* cli_dns.c — noun `dns`: the cluster's DNS names as the agents answer them (GET /v1/dns/lookup
 * on a master, computed with the agents' record builder). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli_internal.h"
#include "cli/cli_output.h"
#include "common/alloc.h"

static struct cli_table *records_table(const json_t *records) {
        static const char *const headers[] = { "NAME", "TYPE", "TTL", "DATA" };
        struct cli_table *t = cli_table_new(ELEMENTSOF(headers), headers);
        size_t i;
        const json_t *r;
        json_array_foreach(records, i, r) {
                _cleanup_free_ char *ttl = cli_json_cell(json_object_get(r, "ttl"));
                const char *type = json_string_value(json_object_get(r, "type"));
                _cleanup_free_ char *data =
                        type && streq(type, "SRV")
                                ? xasprintf("0 1 %lld %s", (long long)json_integer_value(json_object_get(r, "port")),
                                            json_string_value(json_object_get(r, "target")))
                                : xstrdup(json_string_value(json_object_get(r, "ip")) ?: "");
                cli_table_add(t, (const char *[]){ json_string_value(json_object_get(r, "name")), type, ttl, data });
        }
        return t;
}

static int dns_lookup(struct cli *c, const struct cli_args *a, struct err *err) {
        const char *type = a->n_pos > 1 ? a->pos[1] : "ANY";
        if (strcasecmp(type, "A") != 0 && strcasecmp(type, "SRV") != 0 && strcasecmp(type, "ANY") != 0)
                return err_set(err, -ERR_USAGE, "TYPE must be A, SRV or ANY");
        _cleanup_free_ char *name = cli_url_escape(a->pos[0], false);
        _cleanup_free_ char *path = xasprintf("/v1/dns/lookup?name=%s&type=%s", name, type);
        return cli_get_and_print(c, path, "records", JSON_ARRAY, "records", records_table, err);
}

static const struct cli_verb dns_verbs[] = {
        {
                .name = "lookup",
                .synopsis = "NAME [A|SRV|ANY]",
                .summary = "Show the records the cluster's DNS serves for a name",
                .description = "Names: <app>.marathon.mesos (A), _<app>._tcp.marathon.mesos (SRV), leader.mesos,\n"
                               "master.mesos, slave.mesos, <app>.marathon.autoip|agentip|containerip.dcos.thisdcos.directory.\n"
                               "A group path is flattened the Mesos-DNS way: /prod/web is web-prod.marathon.mesos.\n"
                               "Exits non-zero when the name has no records (what DNS answers as NXDOMAIN).",
                .min_args = 1,
                .max_args = 2,
                .run = dns_lookup,
        },
        { NULL },
};

const struct cli_noun cli_noun_dns = {
        .name = "dns",
        .summary = "Look up the cluster's service discovery names",
        .verbs = dns_verbs,
};
