/* cli_cluster.c — noun `cluster`: the masters, the leader and Raft progress (GET /v1/cluster). */
#include <errno.h>
#include <string.h>

#include "cli/cli_internal.h"
#include "cli/cli_output.h"
#include "common/alloc.h"

char *cli_cluster_header(const json_t *cluster) {
        const char *leader = json_string_value(json_object_get(cluster, "leader"));
        _cleanup_free_ char *term = cli_json_cell(json_object_get(cluster, "term"));
        _cleanup_free_ char *commit = cli_json_cell(json_object_get(cluster, "commitIndex"));
        return xasprintf("leader: %s  term: %s  commit index: %s", leader ? leader : "none", term, commit);
}

/* Raft's view of a master: the leader, a voting follower, or a non-voting member. */
static const char *role(const json_t *m) {
        if (json_is_true(json_object_get(m, "leader")))
                return "leader";
        if (json_is_false(json_object_get(m, "voter")))
                return "non-voter";
        return "follower";
}

struct cli_table *cli_cluster_table(const json_t *cluster, const json_t *seen) {
        static const char *const headers[] = { "MASTER", "RAFT", "HTTP", "ROLE", "STATE" };
        struct cli_table *t = cli_table_new(seen ? ELEMENTSOF(headers) : ELEMENTSOF(headers) - 1, headers);
        size_t i;
        const json_t *m;

        json_array_foreach(json_object_get(cluster, "masters"), i, m) {
                _cleanup_free_ char *id = cli_json_cell(json_object_get(m, "id"));
                cli_table_add(t, (const char *[]){ id, json_string_value(json_object_get(m, "raftAddress")),
                                                   json_string_value(json_object_get(m, "httpAddress")),
                                                   role(m), json_string_value(json_array_get(seen, i)) });
        }
        return t;
}

/* Asks each master with an HTTP address for its own view (GET /v1/cluster?stale=true, 3 s at
 * most): its state ("leader", "follower", "candidate"), or "unreachable: why". One string per
 * entry of the masters array (NULL entries as JSON null). */
static json_t *probe_masters(struct cli *c, const json_t *cluster) {
        json_t *seen = json_array();
        size_t i;
        const json_t *m;
        json_array_foreach(json_object_get(cluster, "masters"), i, m) {
                const char *addr = json_string_value(json_object_get(m, "httpAddress"));
                if (!addr) {
                        json_array_append_new(seen, json_null());
                        continue;
                }
                struct cli_http h = { 0 };
                struct err e = { 0 };
                _cleanup_(http_reply_release) struct http_reply reply = { 0 };
                _cleanup_free_ char *url = xasprintf("http://%s", addr);
                int r = cli_http_init(&h, url, &e);
                if (r >= 0) {
                        h.send = c->http.send;
                        h.auth_base = c->http.base; /* one cluster, one token */
                        h.data = c->http.data;
                        h.timeout_s = 3;
                        r = cli_http_call(&h, "GET", "/v1/cluster?stale=true", NULL, &reply, &e);
                }
                cli_http_release(&h);
                const char *state = json_string_value(json_object_get(reply.json, "state"));
                if (r >= 0)
                        json_array_append_new(seen, json_string(state ? state : "up"));
                else
                        json_array_append_new(seen, json_sprintf("unreachable: %s", err_msg(&e)));
                err_release(&e);
        }
        return seen;
}

static int cluster_status(struct cli *c, const struct cli_args *a, struct err *err) {
        _cleanup_(http_reply_release) struct http_reply reply = { 0 };
        int r;

        r = cli_http_call(&c->http, "GET", "/v1/cluster", NULL, &reply, err);
        if (r < 0)
                return r;
        if (!json_is_object(reply.json))
                return err_set(err, -EBADMSG, "master sent no cluster object for GET /v1/cluster");
        if (cli_structured(c)) {
                cli_print_data(c, reply.json);
                return 0;
        }
        _cleanup_free_ char *header = cli_cluster_header(reply.json);
        _cleanup_(json_decrefp) json_t *seen = probe_masters(c, reply.json);
        _cleanup_(cli_table_freep) struct cli_table *t = cli_cluster_table(reply.json, seen);
        fprintf(c->out, "%s\n\n", header);
        cli_table_print(t, c->out);
        return 0;
}

static const struct cli_verb cluster_verbs[] = {
        {
                .name = "status",
                .examples = "strata cluster status\nstrata --master http://10.0.0.2:8080 cluster status -o json\n",
                .summary = "Show the masters, which one leads, the Raft term and commit index",
                .description = "Reads GET /v1/cluster from the master it talks to (that master's view of the "
                               "cluster).\n",
                .max_args = 0,
                .run = cluster_status,
        },
        { NULL },
};

const struct cli_noun cli_noun_cluster = {
        .name = "cluster",
        .summary = "Inspect the masters' Raft cluster",
        .verbs = cluster_verbs,
};
