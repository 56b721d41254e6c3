/* cli_node.c — noun `node`: the agents of the cluster (GET /v1/nodes). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli_internal.h"
#include "cli/cli_output.h"
#include "common/alloc.h"

static char *amount(const json_t *res, const json_t *used, const char *key) {
        _cleanup_free_ char *u = cli_json_cell(json_object_get(used, key));
        _cleanup_free_ char *t = cli_json_cell(json_object_get(res, key));
        return xasprintf("%s/%s", u, t);
}

struct cli_table *cli_node_list_table(const json_t *nodes) {
        static const char *const headers[] = { "ID", "HOSTNAME", "ADDRESS", "STATE", "CPUS", "MEM", "DISK", "TASKS" };
        struct cli_table *t = cli_table_new(ELEMENTSOF(headers), headers);
        size_t i;
        const json_t *n;
        json_array_foreach(nodes, i, n) {
                const json_t *res = json_object_get(n, "resources"), *used = json_object_get(n, "used");
                _cleanup_free_ char *cpus = amount(res, used, "cpus");
                _cleanup_free_ char *mem = amount(res, used, "mem");
                _cleanup_free_ char *disk = amount(res, used, "disk");
                _cleanup_free_ char *tasks = cli_json_cell(json_object_get(n, "tasks"));
                cli_table_add(t, (const char *[]){ json_string_value(json_object_get(n, "id")),
                                                   json_string_value(json_object_get(n, "hostname")),
                                                   json_string_value(json_object_get(n, "address")),
                                                   json_string_value(json_object_get(n, "state")), cpus, mem, disk,
                                                   tasks });
        }
        return t;
}

static int node_list(struct cli *c, const struct cli_args *a, struct err *err) {
        return cli_get_and_print(c, "/v1/nodes", "nodes", JSON_ARRAY, "node list", cli_node_list_table, err);
}

/* The id of the node whose hostname is name (a gone one only if nothing else has it), or whose
 * id starts with name; -ERR_NOT_FOUND or -ERR_USAGE (ambiguous) with err set. */
static int node_by_name(struct cli *c, const char *name, char **ret, struct err *err) {
        _cleanup_(http_reply_release) struct http_reply reply = { 0 };
        int r = cli_http_call(&c->http, "GET", "/v1/nodes", NULL, &reply, err);
        if (r < 0)
                return r;
        const char *host_match = NULL, *gone_match = NULL, *prefix_match = NULL;
        size_t hosts = 0, prefixes = 0, i;
        const json_t *n;
        json_array_foreach(json_object_get(reply.json, "nodes"), i, n) {
                const char *id = str_field(n, "id") ?: "", *host = str_field(n, "hostname") ?: "";
                bool gone = streq(str_field(n, "state") ?: "", "gone");
                if (streq(host, name)) {
                        if (gone) {
                                gone_match = id;
                        } else {
                                host_match = id;
                                hosts++;
                        }
                }
                if (strncmp(id, name, strlen(name)) == 0) {
                        prefix_match = id;
                        prefixes++;
                }
        }
        if (hosts > 1)
                return err_set(err, -ERR_USAGE, "%zu agents run on host '%s': name one by its id ('strata node list')",
                               hosts, name);
        const char *id = host_match ? host_match : gone_match ? gone_match : prefixes == 1 ? prefix_match : NULL;
        if (!id)
                return err_set(err, -ERR_NOT_FOUND, "no node with the id or hostname '%s' ('strata node list')", name);
        *ret = xstrdup(id);
        return 0;
}

static int node_show(struct cli *c, const struct cli_args *a, struct err *err) {
        _cleanup_free_ char *id = cli_url_escape(a->pos[0], false);
        _cleanup_free_ char *path = xasprintf("/v1/nodes/%s", id);
        _cleanup_(http_reply_release) struct http_reply reply = { 0 };
        int r = cli_http_call(&c->http, "GET", path, NULL, &reply, err);
        if (r == -ERR_NOT_FOUND) {
                /* Not an id: a hostname, or the start of an id. */
                _cleanup_free_ char *found = NULL;
                err_release(err);
                r = node_by_name(c, a->pos[0], &found, err);
                if (r < 0)
                        return r;
                free(id);
                free(path);
                id = cli_url_escape(found, false);
                path = xasprintf("/v1/nodes/%s", id);
                http_reply_release(&reply);
                r = cli_http_call(&c->http, "GET", path, NULL, &reply, err);
        }
        if (r < 0)
                return r;
        const json_t *n = json_object_get(reply.json, "node");
        if (!json_is_object(n))
                return err_set(err, -EBADMSG, "master sent no node for GET %s", path);
        if (cli_structured(c)) {
                cli_print_data(c, n);
                return 0;
        }
        const json_t *res = json_object_get(n, "resources"), *used = json_object_get(n, "used");
        _cleanup_free_ char *cpus = amount(res, used, "cpus");
        _cleanup_free_ char *mem = amount(res, used, "mem");
        _cleanup_free_ char *disk = amount(res, used, "disk");
        _cleanup_free_ char *gpus = amount(res, used, "gpus");
        _cleanup_free_ char *ports = cli_json_cell(json_object_get(res, "ports"));
        _cleanup_free_ char *attrs = cli_json_cell(json_object_get(n, "attributes"));
        _cleanup_free_ char *tasks = cli_json_cell(json_object_get(n, "tasks"));
        _cleanup_(cli_table_freep) struct cli_table *t = cli_table_new(2, NULL);
        const char *rows[][2] = {
                { "id:", json_string_value(json_object_get(n, "id")) },
                { "hostname:", json_string_value(json_object_get(n, "hostname")) },
                { "address:", json_string_value(json_object_get(n, "address")) },
                { "state:", json_string_value(json_object_get(n, "state")) },
                { "cpus (used/total):", cpus },
                { "mem MiB (used/total):", mem },
                { "disk MiB (used/total):", disk },
                { "gpus (used/total):", gpus },
                { "ports:", ports },
                { "attributes:", attrs },
                { "tasks:", tasks },
                { "registered:", json_string_value(json_object_get(n, "registeredAt")) },
                { "last heartbeat:", json_string_value(json_object_get(n, "lastHeartbeat")) },
        };
        for (size_t i = 0; i < ELEMENTSOF(rows); i++)
                cli_table_add(t, rows[i]);
        cli_table_print(t, c->out);
        return 0;
}

static const struct cli_verb node_verbs[] = {
        {
                .name = "list",
                .examples = "strata node list\nstrata nodes ls -o json\n",
                .summary = "List the agents: state, resources used/total, tasks",
                .max_args = 0,
                .run = node_list,
        },
        {
                .name = "show",
                .examples = "strata node show node-1.example.com\nstrata node show 0e4c2a1d-dba7-4515-89c9-4f6ab7cad512-S0\n",
                .synopsis = "ID|HOSTNAME",
                .summary = "Show one agent",
                .min_args = 1,
                .max_args = 1,
                .run = node_show,
        },
        { NULL },
};

const struct cli_noun cli_noun_node = {
        .name = "node",
        .summary = "Inspect the machines (agents) of the cluster",
        .verbs = node_verbs,
};
