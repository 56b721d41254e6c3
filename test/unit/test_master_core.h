/* test_master_core.h — the master core's in-process integration tier: the real state machine
 * (store_fsm_apply), the real parts wired by master_core_init, and fakes at every edge:
 * - a log whose submit queues commands and applies them, a batch at a time, when the test lets
 *   the "loop" turn (ct_settle), recording every command it applied;
 * - the fake clock (clock.h), moved only by ct_advance;
 * - agents' event streams that keep every RecordIO frame the agent link wrote;
 * - an event sink that keeps every Marathon event.
 * So a scenario runs deterministically in milliseconds with no process, socket or timer, and
 * asserts the exact commands, frames and events the core produced. */
#pragma once

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/strbuf.h"
#include "common/timeutil.h"
#include "common/util.h"
#include "master/master_core.h"
#include "model/app.h"
#include "store/cluster_state.h"
#include "store/deployments.h"
#include "store/state.h"
#include "store/store_fsm.h"

#define CT_T0 INT64_C(1800000000000)
#define CT_CLUSTER "0c6f9f5e-1b2a-4c3d-8e4f-5a6b7c8d9e0f"
#define CT_MAX_AGENTS 8

struct ct_queued {
        json_t *cmd;
        store_submit_cb cb;
        void *data;
        struct ct_queued *next;
};

struct ct_stream {
        struct core_test *t;
        char agent_id[128];
        bool open;
};

struct core_test {
        struct state *st;
        struct clock *clock;
        struct master_core core;
        struct ct_queued *head, *tail;
        uint64_t term, applied;
        json_t *cmds;    /* every command applied, in order (with "status" when it failed) */
        json_t *events;  /* [{"type", "fields"}] */
        json_t *frames;  /* agent id → [frame, …] */
        struct ct_stream streams[CT_MAX_AGENTS];
        size_t n_streams;
        struct ct_stream *last_opened;
        bool refuse_writes;
};

/* --- the fake log ---------------------------------------------------------------------------- */

static inline void ct_log_submit(void *impl, json_t *cmd, store_submit_cb cb, void *data) {
        struct core_test *t = impl;
        struct ct_queued *q = xcalloc(1, sizeof *q);
        *q = (struct ct_queued){ .cmd = cmd, .cb = cb, .data = data };
        if (t->tail)
                t->tail->next = q;
        else
                t->head = q;
        t->tail = q;
}

static inline struct state *ct_log_state(void *impl) {
        return ((struct core_test *)impl)->st;
}

static inline void ct_log_position(void *impl, uint64_t *term, uint64_t *applied) {
        *term = ((struct core_test *)impl)->term;
        *applied = ((struct core_test *)impl)->applied;
}

static const struct core_log_ops ct_log_ops = { ct_log_submit, ct_log_state, ct_log_position };

/* Applies what is queued as one batch (observers fire during the applies), then delivers the
 * outcomes, as the store does after a commit. Returns how many commands it applied. */
static inline size_t ct_flush(struct core_test *t) {
        struct ct_queued *batch = t->head;
        t->head = t->tail = NULL;
        size_t n = 0;
        struct outcome {
                int status;
                json_t *result;
                struct err err;
        };
        struct ct_queued *q;
        for (q = batch; q; q = q->next)
                n++;
        struct outcome *out = xcalloc(n + 1, sizeof *out);
        size_t k = 0;
        for (q = batch; q; q = q->next, k++) {
                if (!json_object_get(q->cmd, "ts")) {
                        char ts[25];
                        time_format_ms(clock_now_ms(t->clock), ts);
                        json_object_set_new(q->cmd, "ts", json_string(ts));
                }
                out[k].status = store_fsm_apply(t->st, q->cmd, &out[k].result, &out[k].err);
                t->applied++;
                json_t *rec = json_deep_copy(q->cmd);
                if (out[k].status < 0)
                        json_object_set_new(rec, "status", json_integer(out[k].status));
                json_array_append_new(t->cmds, rec);
        }
        k = 0;
        for (q = batch; q;) {
                if (q->cb)
                        q->cb(q->data, out[k].status, out[k].result, &out[k].err);
                json_decref(out[k].result);
                err_release(&out[k].err);
                json_decref(q->cmd);
                struct ct_queued *next = q->next;
                free(q);
                q = next;
                k++;
        }
        free(out);
        return n;
}

/* Lets the loop turn until nothing is due now: zero-delay timers fire, the log applies. */
static inline void ct_settle(struct core_test *t) {
        for (int guard = 0; guard < 10000; guard++) {
                unsigned fired = clock_fake_run(t->clock);
                size_t applied = ct_flush(t);
                if (!fired && !applied)
                        return;
        }
        fail_msg("the core never settles");
}

/* Moves time forward by ms, letting the loop turn at every timer on the way. */
static inline void ct_advance(struct core_test *t, uint64_t ms) {
        ct_settle(t);
        uint64_t left = ms, in;
        while (left > 0) {
                if (clock_fake_next(t->clock, &in) && in <= left) {
                        clock_fake_advance(t->clock, in);
                        left -= in;
                } else {
                        clock_fake_advance(t->clock, left);
                        left = 0;
                }
                ct_settle(t);
        }
}

/* --- the fake event sink --------------------------------------------------------------------- */

static inline bool ct_wanted(void *impl, const char *type) {
        return true;
}

static inline void ct_emit(void *impl, const char *type, json_t *fields) {
        struct core_test *t = impl;
        json_array_append_new(t->events, json_pack("{s:s,s:o}", "type", type, "fields", fields));
}

static const struct event_sink_ops ct_sink_ops = { ct_wanted, ct_emit };

/* --- fake agent streams ---------------------------------------------------------------------- */

static inline int ct_stream_write(void *impl, const char *head, size_t head_len, const char *body, size_t body_len) {
        struct ct_stream *s = impl;
        if (s->t->refuse_writes)
                return -EPIPE;
        /* the record's head is the body's length */
        char want[32];
        snprintf(want, sizeof want, "%zu\n", body_len);
        assert_int_equal(head_len, strlen(want));
        assert_memory_equal(head, want, head_len);
        json_error_t jerr;
        json_t *frame = json_loadb(body, body_len, 0, &jerr);
        if (!frame)
                fail_msg("agent %s got a frame that is not JSON: %s", s->agent_id, jerr.text);
        json_t *list = json_object_get(s->t->frames, s->agent_id);
        if (!list) {
                list = json_array();
                json_object_set_new(s->t->frames, s->agent_id, list);
        }
        json_array_append_new(list, frame);
        return 0;
}

static inline void ct_stream_end(void *impl) {
        ((struct ct_stream *)impl)->open = false;
}

static const struct agent_stream_ops ct_stream_ops = { ct_stream_write, ct_stream_end };

static inline struct agent_stream ct_open(void *data, int status, struct err *err, const char *agent_id) {
        struct core_test *t = data;
        if (status < 0)
                fail_msg("subscription failed: %s", err_msg(err));
        struct ct_stream *s = NULL;
        for (size_t i = 0; i < t->n_streams; i++)
                if (streq(t->streams[i].agent_id, agent_id))
                        s = &t->streams[i];
        if (!s) {
                assert_true(t->n_streams < CT_MAX_AGENTS);
                s = &t->streams[t->n_streams++];
                s->t = t;
                snprintf(s->agent_id, sizeof s->agent_id, "%s", agent_id);
        }
        s->open = true;
        t->last_opened = s;
        return (struct agent_stream){ &ct_stream_ops, s };
}

/* --- set-up ---------------------------------------------------------------------------------- */

static inline struct core_test *ct_new(void) {
        struct core_test *t = xcalloc(1, sizeof *t);
        t->st = state_new();
        t->clock = clock_fake_new(CT_T0);
        t->term = 1;
        t->cmds = json_array();
        t->events = json_array();
        t->frames = json_object();
        struct core_log log = { &ct_log_ops, t };
        struct event_sink sink = { &ct_sink_ops, t };
        struct agent_link_config cfg = { .heartbeat_interval_s = 2, .agent_timeout_s = 15 };
        master_core_init(&t->core, &log, t->clock, &sink, NULL, &cfg);
        struct state_observer obs = master_core_observer(&t->core);
        state_set_observer(t->st, &obs);
        master_core_leadership(&t->core, true);
        ct_settle(t);
        return t;
}

static inline void ct_free(struct core_test *t) {
        master_core_leadership(&t->core, false);
        master_core_release(&t->core);
        ct_flush(t); /* outcomes nobody waits for any more */
        state_set_observer(t->st, NULL);
        state_free(t->st);
        clock_fake_free(t->clock);
        json_decref(t->cmds);
        json_decref(t->events);
        json_decref(t->frames);
        free(t);
}

/* --- what happened --------------------------------------------------------------------------- */

/* The commands applied since the last call (new reference), as [type, …] in *types. */
static inline json_t *ct_take_cmds(struct core_test *t) {
        json_t *c = t->cmds;
        t->cmds = json_array();
        return c;
}

static inline json_t *ct_take_events(struct core_test *t) {
        json_t *e = t->events;
        t->events = json_array();
        return e;
}

/* The frames agent got since the last call (new reference, [] when none). */
static inline json_t *ct_take_frames(struct core_test *t, const char *agent) {
        json_t *f = json_object_get(t->frames, agent);
        json_t *r = f ? json_incref(f) : json_array();
        json_object_del(t->frames, agent);
        return r;
}

/* "type,type,…" of an array of objects with a "type" member. */
static inline char *ct_types(const json_t *arr) {
        struct strbuf sb = { 0 };
        size_t i;
        json_t *x;
        json_array_foreach(arr, i, x) {
                if (i)
                        strbuf_puts(&sb, ",");
                strbuf_puts(&sb, json_string_value(json_object_get(x, "type")) ?: "?");
        }
        return sb.buf ? sb.buf : xstrdup("");
}

#define assert_types(arr, want)                                                                     \
        do {                                                                                      \
                char *got_ = ct_types(arr);                                                       \
                if (strcmp(got_, want) != 0)                                                      \
                        fail_msg("got [%s], want [%s]", got_, want);                             \
                free(got_);                                                                       \
        } while (0)

/* Takes the commands (frames of agent) since the last take and asserts their types. */
#define ct_expect_cmds(t, want)                                                                     \
        do {                                                                                      \
                json_t *c_ = ct_take_cmds(t);                                                     \
                assert_types(c_, want);                                                           \
                json_decref(c_);                                                                  \
        } while (0)
#define ct_expect_frames(t, agent, want)                                                            \
        do {                                                                                      \
                json_t *f_ = ct_take_frames(t, agent);                                            \
                assert_types(f_, want);                                                           \
                json_decref(f_);                                                                  \
        } while (0)

/* The placements of the instances_place commands in cmds: ids and agents borrowed from cmds
 * (either array may be NULL); returns how many. */
static inline size_t ct_placed(const json_t *cmds, const char **ids, const char **agents, size_t max) {
        size_t i, n = 0;
        json_t *c;
        json_array_foreach(cmds, i, c) {
                if (!streq(json_string_value(json_object_get(c, "type")) ?: "", "instances_place"))
                        continue;
                size_t k;
                json_t *pl;
                json_array_foreach(json_object_get(c, "instances"), k, pl) {
                        assert_true(n < max);
                        if (ids)
                                ids[n] = json_string_value(json_object_get(pl, "id"));
                        if (agents)
                                agents[n] = json_string_value(json_object_get(pl, "agentId"));
                        n++;
                }
        }
        return n;
}

/* --- driving it ------------------------------------------------------------------------------ */

/* An agent subscribes (reporting tasks, NULL for none); returns its id (static, per slot). */
static inline const char *ct_agent(struct core_test *t, const char *host, const char *attrs_json, double cpus,
                                   json_t *tasks) {
        static char ids[CT_MAX_AGENTS][128];
        static int slot;
        json_t *body = json_pack("{s:s,s:s,s:{s:f,s:f,s:f,s:f,s:[[i,i]]},s:o,s:o}", "hostname", host, "address",
                                 "10.0.0.1:5051", "resources", "cpus", cpus, "mem", 4096.0, "disk", 10000.0, "gpus",
                                 0.0, "ports", 31000, 32000, "attributes",
                                 attrs_json ? json_loads(attrs_json, 0, NULL) : json_object(), "tasks",
                                 tasks ? tasks : json_array());
        struct err err = { 0 };
        assert_int_equal(agent_link_subscribe(&t->core.agents, body, ct_open, t, &err), 0);
        json_decref(body);
        t->last_opened = NULL;
        ct_settle(t);
        assert_non_null(t->last_opened);
        char *out = ids[slot++ % CT_MAX_AGENTS];
        snprintf(out, 128, "%s", t->last_opened->agent_id);
        return out;
}

static inline void ct_updates_cb(void *data, int status, json_t *ack, struct err *err) {
        if (status < 0)
                fail_msg("status updates failed: %s", err_msg(err));
        *(size_t *)data = json_array_size(ack);
}

/* The agent posts status updates (items [{"taskId","state",…}], stolen; uuids added). */
static inline void ct_post(struct core_test *t, const char *agent, json_t *items) {
        static unsigned n;
        size_t i;
        json_t *u;
        json_array_foreach(items, i, u) {
                char uuid[40];
                snprintf(uuid, sizeof uuid, "u-%u", ++n);
                json_object_set_new(u, "uuid", json_string(uuid));
        }
        size_t want = json_array_size(items);
        json_t *body = json_pack("{s:o}", "updates", items);
        struct err err = { 0 };
        size_t acked = SIZE_MAX;
        int r = agent_link_updates(&t->core.agents, agent, body, ct_updates_cb, &acked, &err);
        if (r < 0)
                fail_msg("updates refused: %s", err_msg(&err));
        json_decref(body);
        ct_settle(t);
        assert_int_equal(acked, want);
}

/* One status update of one task. */
static inline void ct_status(struct core_test *t, const char *agent, const char *task, const char *state) {
        ct_post(t, agent, json_pack("[{s:s,s:s,s:I}]", "taskId", task, "state", state, "timestamp",
                                   (json_int_t)clock_now_ms(t->clock)));
}

/* Submits cmd (stolen) as the API would and lets the core react; returns its status. */
struct ct_outcome {
        int status;
        bool done;
};
static inline void ct_outcome_cb(void *data, int status, json_t *result, struct err *err) {
        struct ct_outcome *o = data;
        o->status = status;
        o->done = true;
}
static inline int ct_submit(struct core_test *t, json_t *cmd) {
        struct ct_outcome o = { 0 };
        ct_log_submit(t, cmd, ct_outcome_cb, &o);
        ct_settle(t);
        assert_true(o.done);
        return o.status;
}

/* Creates an app from a Marathon definition, as POST /v2/apps does (with a deployment). */
static inline void ct_create_app(struct core_test *t, const char *def, const char *deployment_id) {
        json_t *in = json_loads(def, 0, NULL);
        assert_non_null(in);
        json_t *app = NULL;
        struct err e = { 0 };
        if (app_normalize(in, "/", &app, &e) < 0)
                fail_msg("app_normalize: %s", err_msg(&e));
        json_decref(in);
        char ts[25];
        time_format_ms(clock_now_ms(t->clock), ts);
        assert_int_equal(ct_submit(t, json_pack("{s:s,s:i,s:o,s:s,s:s}", "type", "app_create", "v", 1, "app", app,
                                                "ts", ts, "deploymentId", deployment_id)),
                         0);
}

/* PATCH-like update of an app (a deployment). */
static inline void ct_update_app(struct core_test *t, const char *id, const char *update_json,
                                 const char *deployment_id) {
        char ts[25];
        time_format_ms(clock_now_ms(t->clock), ts);
        assert_int_equal(ct_submit(t, json_pack("{s:s,s:i,s:s,s:o,s:b,s:s,s:s}", "type", "app_update", "v", 1, "id", id,
                                                "update", json_loads(update_json, 0, NULL), "partial", 1, "ts", ts,
                                                "deploymentId", deployment_id)),
                         0);
}

/* The ids of the instances of app_id on agent (or anywhere, agent NULL) in state s, oldest
 * first, with goal running and not terminal; returns how many (at most max). */
struct ct_collect {
        const char *agent;
        const char **ids;
        size_t n, max;
};
static inline int ct_collect_cb(const struct instance *i, void *data) {
        struct ct_collect *c = data;
        if (task_state_is_terminal((enum task_state)i->state) || i->goal != GOAL_RUNNING)
                return 0;
        if (c->agent && (!i->agent_id || !streq(c->agent, i->agent_id)))
                return 0;
        if (c->n < c->max)
                c->ids[c->n] = i->id;
        c->n++;
        return 0;
}
static inline size_t ct_live(struct core_test *t, const char *app_id, const char *agent, const char **ids, size_t max) {
        struct ct_collect c = { agent, ids, 0, max };
        state_app_instances_foreach(t->st, app_id, ct_collect_cb, &c);
        return c.n;
}
