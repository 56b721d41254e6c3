/* fuzz_agent_link.c — what agents send the master: subscription bodies and status-update
 * batches go through the agent link (validation, the items it builds) and the state machine
 * (which must reject what the link let through cleanly, never crash). One fresh world per
 * input: a state with one agent and one placed task, the real master core, a log that applies
 * commands through store_fsm_apply. The first byte picks subscribe or updates. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/timeutil.h"
#include "common/util.h"
#include "master/master_core.h"
#include "model/app.h"
#include "store/store_fsm.h"

struct world {
        struct state *st;
        uint64_t applied;
        struct queued {
                json_t *cmd;
                store_submit_cb cb;
                void *data;
                struct queued *next;
        } *head, **tail;
};

static void w_submit(void *impl, json_t *cmd, store_submit_cb cb, void *data) {
        struct world *w = impl;
        struct queued *q = xcalloc(1, sizeof *q);
        *q = (struct queued){ cmd, cb, data, NULL };
        *w->tail = q;
        w->tail = &q->next;
}
static struct state *w_state(void *impl) {
        return ((struct world *)impl)->st;
}
static void w_position(void *impl, uint64_t *term, uint64_t *applied) {
        *term = 1;
        *applied = ((struct world *)impl)->applied;
}
static const struct core_log_ops w_ops = { w_submit, w_state, w_position };

static void flush(struct world *w) {
        for (int rounds = 0; rounds < 8 && w->head; rounds++) {
                struct queued *q = w->head;
                w->head = NULL;
                w->tail = &w->head;
                while (q) {
                        if (!json_object_get(q->cmd, "ts"))
                                json_object_set_new(q->cmd, "ts", json_string("2026-01-01T00:00:00.000Z"));
                        json_t *res = NULL;
                        struct err e = { 0 };
                        int r = store_fsm_apply(w->st, q->cmd, &res, &e);
                        w->applied++;
                        if (q->cb)
                                q->cb(q->data, r, res, &e);
                        json_decref(res);
                        err_release(&e);
                        json_decref(q->cmd);
                        struct queued *next = q->next;
                        free(q);
                        q = next;
                }
        }
}

static int s_write(void *impl, const char *h, size_t hl, const char *b, size_t bl) {
        return 0;
}
static void s_end(void *impl) {
}
static const struct agent_stream_ops s_ops = { s_write, s_end };
static int stream_token;

static struct agent_stream opened(void *data, int status, struct err *err, const char *agent_id) {
        if (status < 0)
                return (struct agent_stream){ 0 };
        return (struct agent_stream){ &s_ops, &stream_token };
}

static void updated(void *data, int status, json_t *ack, struct err *err) {
}

static int first_instance(const struct instance *i, void *data) {
        *(const struct instance **)data = i;
        return 1;
}

static void apply(struct world *w, json_t *cmd) {
        w_submit(w, cmd, NULL, NULL);
        flush(w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size < 1)
                return 0;
        json_t *body = json_loadb((const char *)data + 1, size - 1, 0, NULL);
        if (!body)
                return 0;
        struct world w = { .st = state_new() };
        w.tail = &w.head;
        struct clock *clock = clock_fake_new(INT64_C(1800000000000));
        struct core_log log = { &w_ops, &w };
        struct master_core core;
        struct agent_link_config cfg = { 0 };
        master_core_init(&core, &log, clock, NULL, NULL, &cfg);
        struct state_observer obs = master_core_observer(&core);
        state_set_observer(w.st, &obs);
        master_core_leadership(&core, true);
        /* agent "…-S0" with a task of /f on it */
        json_t *sub = json_pack("{s:s,s:s,s:{s:f,s:f,s:f,s:f,s:[[i,i]]},s:{}}", "hostname", "h", "address", "10.0.0.1:5051",
                                "resources", "cpus", 4.0, "mem", 1024.0, "disk", 0.0, "gpus", 0.0, "ports", 31000, 31010,
                                "attributes");
        struct err err = { 0 };
        agent_link_subscribe(&core.agents, sub, opened, NULL, &err);
        json_decref(sub);
        flush(&w);
        json_t *in = json_pack("{s:s,s:s,s:i,s:f,s:f}", "id", "/f", "cmd", "x", "instances", 1, "cpus", 0.1, "mem", 16.0);
        json_t *app = NULL;
        if (app_normalize(in, "/", &app, NULL) == 0)
                apply(&w, json_pack("{s:s,s:o,s:s}", "type", "app_create", "app", app, "ts", "2026-01-01T00:00:00.000Z"));
        json_decref(in);
        for (unsigned k = 0; k < 4; k++) {
                clock_fake_advance(clock, 0);
                flush(&w);
        }
        const char *agent_id = NULL;
        size_t pos = 0;
        const char *key;
        void *v;
        while (hashmap_next(&core.agents.conns, &pos, &key, &v))
                agent_id = key;
        /* "taskId": "*" names the task the world placed (ids are random per world) */
        const struct instance *task = NULL;
        state_instances_foreach(w.st, first_instance, &task);
        json_t *items = json_object_get(body, data[0] & 1 ? "tasks" : "updates");
        size_t i;
        json_t *item;
        json_array_foreach(items, i, item) {
                if (task && json_is_object(item) &&
                    streq(json_string_value(json_object_get(item, "taskId")) ?: "", "*"))
                        json_object_set_new(item, "taskId", json_string(task->id));
        }
        if (json_is_object(body) && (data[0] & 2) && agent_id)
                json_object_set_new(body, "agentId", json_string(agent_id)); /* a resubscription */
        err_release(&err);
        if (data[0] & 1)
                agent_link_subscribe(&core.agents, body, opened, NULL, &err);
        else if (agent_id)
                agent_link_updates(&core.agents, agent_id, body, updated, NULL, &err);
        err_release(&err);
        flush(&w);
        clock_fake_advance(clock, 0);
        flush(&w);
        json_decref(body);
        master_core_leadership(&core, false);
        master_core_release(&core);
        flush(&w);
        state_set_observer(w.st, NULL);
        state_free(w.st);
        clock_fake_free(clock);
        return 0;
}
