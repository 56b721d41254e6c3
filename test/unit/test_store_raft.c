/* test_store_raft.c — the store on real libraft: one master on a temp dir (batching, restart from
 * log and from snapshot), and three masters on one loop over 127.0.0.1 (election, replication,
 * follower errors, failover, catch-up). */
#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <uv.h>

#include "common/alloc.h"
#include "common/timeutil.h"
#include "model/app.h"
#include "store/store.h"

/* ---- helpers ---- */

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void)st;
        (void)flag;
        (void)ftw;
        return remove(path);
}

static void rm_rf(const char *path) {
        nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static char *make_tmpdir(void) {
        char *d = xstrdup("/tmp/strata-store-test-XXXXXX");
        assert_non_null(mkdtemp(d));
        return d;
}

/* A port nobody listens on right now. */
static int free_port(void) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t len = sizeof a;
        assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
        assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
        close(fd);
        return ntohs(a.sin_port);
}

static bool run_until(uv_loop_t *loop, bool (*pred)(void *), void *data, int timeout_ms) {
        uint64_t deadline = time_mono_ns() + (uint64_t)timeout_ms * 1000000;
        while (!pred(data)) {
                if (time_mono_ns() > deadline)
                        return false;
                uv_run(loop, UV_RUN_NOWAIT);
                usleep(1000);
        }
        return true;
}

struct outcome {
        int calls;
        int status;
        json_t *result;
        char *msg;
};

static void outcome_release(struct outcome *o) {
        json_decref(o->result);
        free(o->msg);
        *o = (struct outcome){0};
}

static void submit_cb(void *data, int status, json_t *result, struct err *err) {
        struct outcome *o = data;
        o->calls++;
        o->status = status;
        if (result)
                o->result = json_incref(result);
        if (err)
                o->msg = xstrdup(err_msg(err));
        if (status < 0)
                assert_non_null(err);
}

static void read_cb(void *data, int status, struct err *err) {
        struct outcome *o = data;
        o->calls++;
        o->status = status;
        if (err)
                o->msg = xstrdup(err_msg(err));
}

static bool outcomes_done(void *data) {
        struct outcome *o = data;
        for (; o->calls >= 0 && o->status != 12345; o++)
                if (o->calls == 0)
                        return false;
        return true;
}

/* An array of n outcomes terminated by a sentinel (status 12345, calls -1). */
static struct outcome *outcomes_new(size_t n) {
        struct outcome *o = xcalloc(n + 1, sizeof *o);
        o[n].calls = -1;
        o[n].status = 12345;
        return o;
}

static void outcomes_free(struct outcome *o, size_t n) {
        for (size_t i = 0; i < n; i++)
                outcome_release(&o[i]);
        free(o);
}

static json_t *app_create_cmd(const char *id, int ports) {
        json_t *in = json_pack("{s:s,s:s,s:f,s:i,s:i}", "id", id, "cmd", "sleep 1000", "cpus", 0.1, "mem", 16,
                               "instances", 1);
        json_t *pds = json_array();
        for (int i = 0; i < ports; i++)
                json_array_append_new(pds, json_pack("{s:i}", "port", 0));
        json_object_set_new(in, "portDefinitions", pds);
        json_t *app = NULL;
        struct err e = {0};
        if (app_normalize(in, "/", &app, &e) < 0)
                fail_msg("app_normalize: %s", err_msg(&e));
        json_decref(in);
        return json_pack("{s:s,s:i,s:o}", "type", "app_create", "v", 1, "app", app);
}

struct node {
        struct store *store;
        char *dir;
        char addr[32];
        char http[32];
        int changes;
        bool closed;
};

static void on_change(struct store *s, void *data) {
        struct node *n = data;
        n->changes++;
}

static void closed_cb(void *data) {
        ((struct node *)data)->closed = true;
}

static bool node_closed(void *data) {
        return ((struct node *)data)->closed;
}

static void node_open(uv_loop_t *loop, struct node *n, const char *const *masters, size_t n_masters,
                      unsigned snapshot_threshold, unsigned election_ms) {
        struct store_config cfg = {
                .loop = loop,
                .data_dir = n->dir,
                .raft_addr = n->addr,
                .http_addr = n->http,
                .masters = masters,
                .n_masters = n_masters,
                .election_timeout_ms = election_ms,
                .heartbeat_timeout_ms = election_ms ? election_ms / 10 : 0,
                .snapshot_threshold = snapshot_threshold,
                .snapshot_trailing = snapshot_threshold ? 2 : 0,
                .on_change = on_change,
                .data = n,
        };
        struct err e = {0};
        n->closed = false;
        int r = store_new(&cfg, &n->store, &e);
        if (r < 0)
                fail_msg("store_new: %s", err_msg(&e));
}

static void node_close(uv_loop_t *loop, struct node *n) {
        store_close(n->store, closed_cb, n);
        n->store = NULL;
        assert_true(run_until(loop, node_closed, n, 5000));
}

/* Leader, and its own master_set committed and applied. */
static bool is_leader(void *data) {
        struct node *n = data;
        struct store_status st;
        store_status(n->store, &st);
        return st.is_leader && st.leader_http != NULL && state_master_by_id(store_state(n->store), st.id) &&
               n->changes > 0;
}

static void loop_drain(uv_loop_t *loop) {
        /* Everything the stores opened is closed: the loop ends by itself. A snapshot's collector
         * may still be finishing on the thread pool (a loaded machine: the ASan run of make check),
         * so give it up to 5 s of turns rather than a fixed count. */
        for (int i = 0; i < 5000 && uv_run(loop, UV_RUN_NOWAIT); i++)
                usleep(1000);
        assert_int_equal(uv_loop_alive(loop), 0);
        assert_int_equal(uv_loop_close(loop), 0);
}

/* ---- single master ---- */

static void single_node_batches_and_restarts(void **unused) {
        uv_loop_t loop;
        uv_loop_init(&loop);
        struct node n = {.dir = make_tmpdir()};
        snprintf(n.addr, sizeof n.addr, "127.0.0.1:%d", free_port());
        snprintf(n.http, sizeof n.http, "127.0.0.1:8080");
        node_open(&loop, &n, NULL, 0, 0, 0);
        /* A single voter elects itself at once; its own master_set makes its HTTP address known. */
        assert_true(run_until(&loop, is_leader, &n, 5000));
        assert_true(n.changes > 0);
        struct store_status st;
        store_status(n.store, &st);
        assert_string_equal(st.state, "leader");
        assert_string_equal(st.leader_http, "127.0.0.1:8080");
        assert_int_equal(st.id, store_id_from_address(n.addr));
        assert_int_equal(st.leader_id, st.id);
        assert_int_equal(st.last_applied, st.last_index);
        const struct state_master *m = state_master_by_id(store_state(n.store), st.id);
        assert_non_null(m);
        assert_string_equal(m->raft_addr, n.addr);
        uint64_t before = st.last_index;

        /* 40 creates and a duplicate, in one loop turn: one Raft entry, one outcome each. */
        enum { N = 40 };
        struct outcome *o = outcomes_new(N + 1);
        char id[32];
        for (int i = 0; i < N; i++) {
                snprintf(id, sizeof id, "/batch/app%d", i);
                store_submit(n.store, app_create_cmd(id, 1), submit_cb, &o[i]);
        }
        store_submit(n.store, app_create_cmd("/batch/app3", 0), submit_cb, &o[N]);
        /* Nothing is answered from inside store_submit. */
        assert_int_equal(o[0].calls, 0);
        assert_true(run_until(&loop, outcomes_done, o, 5000));
        for (int i = 0; i < N; i++) {
                snprintf(id, sizeof id, "/batch/app%d", i);
                assert_int_equal(o[i].calls, 1);
                assert_int_equal(o[i].status, 0);
                assert_string_equal(json_string_value(json_object_get(o[i].result, "id")), id);
                /* The store stamped the leader's clock. */
                assert_non_null(json_string_value(json_object_get(o[i].result, "version")));
        }
        assert_int_equal(o[N].status, -ERR_CONFLICT);
        assert_string_equal(o[N].msg, "An app with id [/batch/app3] already exists.");
        outcomes_free(o, N + 1);
        store_status(n.store, &st);
        assert_int_equal(st.last_index, before + 1);
        assert_int_equal(st.last_applied, st.last_index);

        /* Reads on a single voter need no barrier entry, and are never answered from inside the call. */
        struct outcome *rds = outcomes_new(2);
        store_read_barrier(n.store, read_cb, &rds[0]);
        store_read_barrier(n.store, read_cb, &rds[1]);
        assert_int_equal(rds[0].calls, 0);
        assert_true(run_until(&loop, outcomes_done, rds, 2000));
        assert_int_equal(rds[0].status, 0);
        assert_int_equal(rds[1].status, 0);
        outcomes_free(rds, 2);
        store_status(n.store, &st);
        assert_int_equal(st.last_index, before + 1);

        /* Over 1024 commands in one turn: split into two entries. */
        o = outcomes_new(1500);
        for (int i = 0; i < 1500; i++)
                store_submit(n.store, json_pack("{s:s,s:s}", "type", "app_delete", "id", "/none"), submit_cb,
                             &o[i]);
        assert_true(run_until(&loop, outcomes_done, o, 5000));
        for (int i = 0; i < 1500; i++)
                assert_int_equal(o[i].status, -ERR_NOT_FOUND);
        outcomes_free(o, 1500);
        store_status(n.store, &st);
        assert_int_equal(st.last_index, before + 3);

        /* A command over the entry limit is refused up front. */
        struct outcome *big = outcomes_new(1);
        char *huge = xmalloc(5 << 20);
        memset(huge, 'a', (5 << 20) - 1);
        huge[(5 << 20) - 1] = 0;
        store_submit(n.store, json_pack("{s:s,s:s,s:s}", "type", "app_delete", "id", "/x", "pad", huge),
                     submit_cb, &big[0]);
        free(huge);
        assert_true(run_until(&loop, outcomes_done, big, 2000));
        assert_int_equal(big[0].status, -ERR_TOO_LARGE);
        outcomes_free(big, 1);

        json_t *saved = state_to_json(store_state(n.store));
        node_close(&loop, &n);

        /* Restart: the log is replayed before store_new returns. */
        node_open(&loop, &n, NULL, 0, 0, 0);
        json_t *now = state_to_json(store_state(n.store));
        assert_true(json_equal(saved, now));
        json_decref(now);
        assert_int_equal(state_app_count(store_state(n.store)), N);
        assert_true(run_until(&loop, is_leader, &n, 5000));
        node_close(&loop, &n);

        json_decref(saved);
        loop_drain(&loop);
        rm_rf(n.dir);
        free(n.dir);
}

static void single_node_restarts_from_snapshot(void **unused) {
        uv_loop_t loop;
        uv_loop_init(&loop);
        struct node n = {.dir = make_tmpdir()};
        snprintf(n.addr, sizeof n.addr, "127.0.0.1:%d", free_port());
        snprintf(n.http, sizeof n.http, "127.0.0.1:8080");
        node_open(&loop, &n, NULL, 0, 4, 0);
        assert_true(run_until(&loop, is_leader, &n, 5000));

        /* One entry per turn, well past the snapshot threshold of 4. */
        char id[32];
        for (int i = 0; i < 30; i++) {
                struct outcome *o = outcomes_new(1);
                snprintf(id, sizeof id, "/snap/app%d", i);
                store_submit(n.store, app_create_cmd(id, 2), submit_cb, &o[0]);
                assert_true(run_until(&loop, outcomes_done, o, 5000));
                assert_int_equal(o[0].status, 0);
                outcomes_free(o, 1);
                if (i % 3 == 0) {
                        o = outcomes_new(1);
                        store_submit(n.store,
                                     json_pack("{s:s,s:s,s:{s:i},s:b}", "type", "app_update", "id", id,
                                               "update", "instances", 3, "partial", 1),
                                     submit_cb, &o[0]);
                        assert_true(run_until(&loop, outcomes_done, o, 5000));
                        assert_int_equal(o[0].status, 0);
                        outcomes_free(o, 1);
                }
        }
        struct outcome *o = outcomes_new(1);
        store_submit(n.store, json_pack("{s:s,s:s}", "type", "app_delete", "id", "/snap/app7"), submit_cb,
                     &o[0]);
        assert_true(run_until(&loop, outcomes_done, o, 5000));
        assert_int_equal(o[0].status, 0);
        outcomes_free(o, 1);

        /* libraft wrote at least one snapshot. */
        _cleanup_free_ char *raft_dir = xasprintf("%s/raft", n.dir);
        _cleanup_free_ char *cmd = xasprintf("ls %s | grep -q '^snapshot-'", raft_dir);
        assert_int_equal(system(cmd), 0);

        json_t *saved = state_to_json(store_state(n.store));
        node_close(&loop, &n);
        node_open(&loop, &n, NULL, 0, 4, 0);
        json_t *now = state_to_json(store_state(n.store));
        assert_true(json_equal(saved, now));
        assert_int_equal(state_app_count(store_state(n.store)), 29);
        json_t *versions = state_app_versions(store_state(n.store), "/snap/app9");
        assert_int_equal(json_array_size(versions), 2);
        json_decref(versions);
        json_decref(now);
        json_decref(saved);

        /* And it keeps working: a new app gets a service port no restored app holds. */
        o = outcomes_new(1);
        store_submit(n.store, app_create_cmd("/snap/after", 1), submit_cb, &o[0]);
        assert_true(run_until(&loop, outcomes_done, o, 5000));
        assert_int_equal(o[0].status, 0);
        int port = (int)json_integer_value(
                json_object_get(json_array_get(json_object_get(o[0].result, "portDefinitions"), 0), "port"));
        assert_true(port >= 10000);
        outcomes_free(o, 1);
        node_close(&loop, &n);
        loop_drain(&loop);
        rm_rf(n.dir);
        free(n.dir);
}

static void bad_configurations(void **unused) {
        uv_loop_t loop;
        uv_loop_init(&loop);
        char *dir = make_tmpdir();
        const char *masters[] = {"127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3"};
        struct store_config cfg = {
                .loop = &loop,
                .data_dir = dir,
                .raft_addr = "127.0.0.1:4",
                .masters = masters,
                .n_masters = 3,
        };
        struct store *s = NULL;
        struct err e = {0};
        assert_true(store_new(&cfg, &s, &e) < 0);
        assert_non_null(strstr(err_msg(&e), "must include"));
        assert_null(s);
        err_release(&e);

        const char *dup[] = {"127.0.0.1:4", "127.0.0.1:4"};
        cfg.masters = dup;
        cfg.n_masters = 2;
        assert_true(store_new(&cfg, &s, &e) < 0);
        assert_null(s);
        err_release(&e);

        cfg.masters = NULL;
        cfg.n_masters = 0;
        cfg.raft_addr = "no-port";
        assert_true(store_new(&cfg, &s, &e) < 0);
        assert_null(s);
        err_release(&e);
        loop_drain(&loop);
        rm_rf(dir);
        free(dir);
}

static void ids_are_stable(void **unused) {
        assert_int_equal(store_id_from_address("10.0.0.1:8090"), store_id_from_address("10.0.0.1:8090"));
        assert_int_not_equal(store_id_from_address("10.0.0.1:8090"), store_id_from_address("10.0.0.2:8090"));
        assert_true(store_id_from_address("") > 0);
        assert_true(store_id_from_address("10.0.0.1:8090") < (UINT64_C(1) << 53));
}

/* ---- three masters ---- */

struct cluster {
        struct node n[3];
        const char *masters[3];
        bool up[3];
};

/* Exactly one leader among the live nodes, all of them agree on it and know its HTTP address. */
static bool one_leader(void *data) {
        struct cluster *c = data;
        int leaders = 0;
        uint64_t leader = 0;
        for (int i = 0; i < 3; i++) {
                if (!c->up[i])
                        continue;
                struct store_status st;
                store_status(c->n[i].store, &st);
                if (st.is_leader)
                        leaders++;
                if (!st.leader_id || !st.leader_http || (leader && st.leader_id != leader))
                        return false;
                leader = st.leader_id;
        }
        return leaders == 1;
}

static int leader_index(struct cluster *c) {
        for (int i = 0; i < 3; i++) {
                struct store_status st;
                if (!c->up[i])
                        continue;
                store_status(c->n[i].store, &st);
                if (st.is_leader)
                        return i;
        }
        return -1;
}

struct has_app {
        struct cluster *c;
        const char *id;
};

static bool all_have(void *data) {
        struct has_app *h = data;
        for (int i = 0; i < 3; i++)
                if (h->c->up[i] && !state_app_get(store_state(h->c->n[i].store), h->id))
                        return false;
        return true;
}

static void count_servers(uint64_t id, const char *addr, bool voter, void *data) {
        struct cluster *c = data;
        bool known = false;
        for (int i = 0; i < 3; i++)
                known |= streq(addr, c->n[i].addr) && id == store_id_from_address(c->n[i].addr);
        assert_true(known);
        assert_true(voter);
}

static void submit_and_wait(uv_loop_t *loop, struct node *n, json_t *cmd, int want) {
        struct outcome *o = outcomes_new(1);
        store_submit(n->store, cmd, submit_cb, &o[0]);
        assert_true(run_until(loop, outcomes_done, o, 10000));
        if (o[0].status != want)
                fail_msg("status %d (%s), want %d", o[0].status, o[0].msg ? o[0].msg : "", want);
        outcomes_free(o, 1);
}

static void three_nodes_elect_replicate_fail_over(void **unused) {
        uv_loop_t loop;
        uv_loop_init(&loop);
        struct cluster c = {0};
        for (int i = 0; i < 3; i++) {
                c.n[i].dir = make_tmpdir();
                snprintf(c.n[i].addr, sizeof c.n[i].addr, "127.0.0.1:%d", free_port());
                snprintf(c.n[i].http, sizeof c.n[i].http, "127.0.0.1:%d", 18080 + i);
                c.masters[i] = c.n[i].addr;
        }
        for (int i = 0; i < 3; i++) {
                node_open(&loop, &c.n[i], c.masters, 3, 0, 300);
                c.up[i] = true;
        }
        assert_true(run_until(&loop, one_leader, &c, 10000));
        int l = leader_index(&c);
        assert_true(l >= 0);
        store_servers_foreach(c.n[l].store, count_servers, &c);
        int f = (l + 1) % 3;

        /* Followers refuse writes and reads, naming the leader. */
        struct outcome *o = outcomes_new(2);
        store_submit(c.n[f].store, app_create_cmd("/refused", 0), submit_cb, &o[0]);
        store_read_barrier(c.n[f].store, read_cb, &o[1]);
        assert_true(run_until(&loop, outcomes_done, o, 5000));
        assert_int_equal(o[0].status, -ERR_NO_LEADER);
        assert_int_equal(o[1].status, -ERR_NO_LEADER);
        _cleanup_free_ char *want = xasprintf("leader is http://%s", c.n[l].http);
        assert_non_null(strstr(o[0].msg, want));
        outcomes_free(o, 2);

        /* The leader commits; every master applies. */
        submit_and_wait(&loop, &c.n[l], app_create_cmd("/replicated", 1), 0);
        struct has_app h = {&c, "/replicated"};
        assert_true(run_until(&loop, all_have, &h, 5000));
        o = outcomes_new(3);
        for (int i = 0; i < 3; i++)
                store_read_barrier(c.n[l].store, read_cb, &o[i]);
        assert_true(run_until(&loop, outcomes_done, o, 5000));
        for (int i = 0; i < 3; i++)
                assert_int_equal(o[i].status, 0);
        outcomes_free(o, 3);
        /* Same bytes in, same state out. */
        json_t *ref = state_to_json(store_state(c.n[l].store));
        for (int i = 0; i < 3; i++) {
                json_t *other = state_to_json(store_state(c.n[i].store));
                assert_true(json_equal(ref, other));
                json_decref(other);
        }
        json_decref(ref);

        /* The leader goes away: the other two elect a new one that takes writes. */
        uint64_t t0 = time_mono_ns();
        node_close(&loop, &c.n[l]);
        c.up[l] = false;
        assert_true(run_until(&loop, one_leader, &c, 10000));
        int l2 = leader_index(&c);
        assert_true(l2 >= 0 && l2 != l);
        submit_and_wait(&loop, &c.n[l2], app_create_cmd("/after-failover", 0), 0);
        double secs = (double)(time_mono_ns() - t0) / 1e9;
        print_message("failover to a committed write took %.2f s (election timeout 300 ms)\n", secs);
        h.id = "/after-failover";
        assert_true(run_until(&loop, all_have, &h, 5000));

        /* The old leader comes back as a follower and catches up. */
        node_open(&loop, &c.n[l], c.masters, 3, 0, 300);
        c.up[l] = true;
        assert_true(run_until(&loop, all_have, &h, 10000));
        assert_true(run_until(&loop, one_leader, &c, 10000));
        assert_int_equal(state_app_count(store_state(c.n[l].store)), 2);

        for (int i = 0; i < 3; i++) {
                node_close(&loop, &c.n[i]);
                rm_rf(c.n[i].dir);
                free(c.n[i].dir);
        }
        loop_drain(&loop);
}

static bool all_equal(void *data) {
        struct cluster *c = data;
        json_t *ref = state_to_json(store_state(c->n[0].store));
        bool same = true;
        for (int i = 1; i < 3 && same; i++) {
                json_t *other = state_to_json(store_state(c->n[i].store));
                same = json_equal(ref, other);
                json_decref(other);
        }
        json_decref(ref);
        return same;
}

/* A follower that missed more than the leader keeps in its log gets the leader's snapshot. */
static void lagging_follower_installs_snapshot(void **unused) {
        uv_loop_t loop;
        uv_loop_init(&loop);
        struct cluster c = {0};
        for (int i = 0; i < 3; i++) {
                c.n[i].dir = make_tmpdir();
                snprintf(c.n[i].addr, sizeof c.n[i].addr, "127.0.0.1:%d", free_port());
                snprintf(c.n[i].http, sizeof c.n[i].http, "127.0.0.1:%d", 19080 + i);
                c.masters[i] = c.n[i].addr;
        }
        for (int i = 0; i < 3; i++) {
                node_open(&loop, &c.n[i], c.masters, 3, 4, 300);
                c.up[i] = true;
        }
        assert_true(run_until(&loop, one_leader, &c, 10000));
        int l = leader_index(&c);
        int f = (l + 1) % 3;
        node_close(&loop, &c.n[f]);
        c.up[f] = false;

        char id[32];
        for (int i = 0; i < 25; i++) {
                snprintf(id, sizeof id, "/lag/app%d", i);
                submit_and_wait(&loop, &c.n[l], app_create_cmd(id, 1), 0);
        }
        submit_and_wait(&loop, &c.n[l], json_pack("{s:s,s:s}", "type", "app_delete", "id", "/lag/app3"), 0);
        _cleanup_free_ char *ls = xasprintf("ls %s/raft | grep -q '^snapshot-'", c.n[l].dir);
        assert_int_equal(system(ls), 0);

        node_open(&loop, &c.n[f], c.masters, 3, 4, 300);
        c.up[f] = true;
        assert_true(run_until(&loop, all_equal, &c, 10000));
        assert_int_equal(state_app_count(store_state(c.n[f].store)), 24);
        assert_null(state_app_get(store_state(c.n[f].store), "/lag/app3"));

        /* It serves on: a new write reaches it too. */
        l = leader_index(&c);
        submit_and_wait(&loop, &c.n[l], app_create_cmd("/lag/after", 1), 0);
        struct has_app h = {&c, "/lag/after"};
        assert_true(run_until(&loop, all_have, &h, 5000));
        assert_true(run_until(&loop, all_equal, &c, 5000));

        for (int i = 0; i < 3; i++) {
                node_close(&loop, &c.n[i]);
                rm_rf(c.n[i].dir);
                free(c.n[i].dir);
        }
        loop_drain(&loop);
}

/* Closing with work in flight answers everything with -ERR_NO_LEADER. */
static void close_answers_pending(void **unused) {
        uv_loop_t loop;
        uv_loop_init(&loop);
        struct node n = {.dir = make_tmpdir()};
        snprintf(n.addr, sizeof n.addr, "127.0.0.1:%d", free_port());
        snprintf(n.http, sizeof n.http, "127.0.0.1:8080");
        node_open(&loop, &n, NULL, 0, 0, 0);
        assert_true(run_until(&loop, is_leader, &n, 5000));
        struct outcome *o = outcomes_new(3);
        store_submit(n.store, app_create_cmd("/late", 0), submit_cb, &o[0]);
        store_read_barrier(n.store, read_cb, &o[1]);
        store_submit(n.store, app_create_cmd("/late2", 0), submit_cb, &o[2]);
        node_close(&loop, &n);
        assert_true(outcomes_done(o));
        for (int i = 0; i < 3; i++) {
                assert_int_equal(o[i].calls, 1);
                assert_int_equal(o[i].status, -ERR_NO_LEADER);
        }
        outcomes_free(o, 3);
        loop_drain(&loop);
        rm_rf(n.dir);
        free(n.dir);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(ids_are_stable),
                cmocka_unit_test(bad_configurations),
                cmocka_unit_test(single_node_batches_and_restarts),
                cmocka_unit_test(single_node_restarts_from_snapshot),
                cmocka_unit_test(close_answers_pending),
                cmocka_unit_test(three_nodes_elect_replicate_fail_over),
                cmocka_unit_test(lagging_follower_installs_snapshot),
        };
        /* Like the daemons: a peer that went away must not kill the process mid-write. */
        signal(SIGPIPE, SIG_IGN);
        if (getenv("STORE_TEST_FILTER"))
                cmocka_set_test_filter(getenv("STORE_TEST_FILTER"));
        return cmocka_run_group_tests(tests, NULL, NULL);
}
