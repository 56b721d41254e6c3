/* registry.c — every master announces its HTTP address in the replicated masters registry, so
 * that followers can forward to the leader and `GET /v1/cluster` can show every master.
 *
 * The leader's store announces the leader itself on election. A follower cannot write, so it
 * asks the leader (POST /v1/cluster/masters); the leader checks that the id and address belong to
 * a member of the Raft configuration before committing master_set. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/log.h"
#include "common/util.h"
#include "master/master_internal.h"

#define RETRY_MS 1000

static void registry_timer_cb(uv_timer_t *t);

static bool registered(struct master *m, const struct store_status *st) {
        const struct state_master *sm = state_master_by_id(store_state(m->store), st->id);
        return sm && sm->http_addr && streq(sm->http_addr, m->http_advertised);
}

static void register_done(void *data, int status, const struct http_client_response *resp, struct err *err) {
        struct master *m = data;
        if (status < 0)
                log_debug("announcing this master to the leader failed: %s", err_msg(err));
        else if (resp->status >= 300)
                log_debug("announcing this master to the leader failed: %ld %s", resp->status, resp->body);
        m->registering = false;
        if (!m->stopping)
                uv_timer_start(&m->registry_timer, registry_timer_cb, RETRY_MS, 0);
}

void registry_check(struct master *m) {
        if (m->stopping || m->registering)
                return;
        struct store_status st;
        store_status(m->store, &st);
        if (st.is_leader || registered(m, &st))
                return;
        if (!st.leader_http) {
                uv_timer_start(&m->registry_timer, registry_timer_cb, RETRY_MS, 0);
                return;
        }
        _cleanup_free_ char *url = xasprintf("http://%s/v1/cluster/masters", st.leader_http);
        char id[32];
        snprintf(id, sizeof id, "%" PRIu64, st.id);
        _cleanup_(json_decrefp) json_t *body = json_pack("{s:s,s:s,s:s}", "id", id, "raftAddress",
                                                         m->cfg.raft_addr, "httpAddress", m->http_advertised);
        _cleanup_free_ char *text = json_compact(body);
        _cleanup_free_ char *auth = auth_master_header(m); /* the leader checks it like any caller's */
        const char *const headers[] = { "Content-Type: application/json", auth, NULL };
        m->registering = true;
        http_client_request(m->client, "POST", url, headers, text, strlen(text), 5000, register_done, m);
}

static void registry_timer_cb(uv_timer_t *t) {
        registry_check(t->data);
}

struct member_ctx {
        uint64_t id;
        bool found;
};

static void find_member(uint64_t id, const char *raft_addr, bool voter, void *data) {
        struct member_ctx *c = data;
        if (id == c->id)
                c->found = true;
}

static void register_committed(void *data, int status, json_t *result, struct err *err) {
        struct api_call *call = data;
        if (status < 0) {
                api_reply_err(call, err);
                return;
        }
        api_reply_json(call, 200, json_pack("{s:b}", "registered", 1));
}

/* POST /v1/cluster/masters {"id":"<raft id>","raftAddress":"h:p","httpAddress":"h:p"} */
void api_cluster_register(struct api_call *call) {
        const char *id_s = json_string_value(json_object_get(call->body, "id"));
        const char *raft = json_string_value(json_object_get(call->body, "raftAddress"));
        const char *http = json_string_value(json_object_get(call->body, "httpAddress"));
        if (!id_s || !raft || !http || strlen(raft) > 256 || strlen(http) > 256) {
                api_reply_error(call, 422, "Expected {\"id\", \"raftAddress\", \"httpAddress\"} strings");
                return;
        }
        char *end;
        uint64_t id = strtoull(id_s, &end, 10);
        struct member_ctx c = { id, false };
        store_servers_foreach(call->m->store, find_member, &c);
        if (*end || id == 0 || !c.found) {
                api_reply_error(call, 422, "Master %s is not a member of this cluster", id_s);
                return;
        }
        store_submit(call->m->store,
                     json_pack("{s:s,s:i,s:I,s:s,s:s}", "type", "master_set", "v", 1, "raft_id", (json_int_t)id,
                               "raft_addr", raft, "http_addr", http),
                     register_committed, call);
}
