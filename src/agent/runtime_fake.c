/* runtime_fake.c — a runtime that launches nothing and reports scripted transitions, for the
 * agent daemon's tests (fault injection: failing launches, tasks ending on demand). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent/runtime.h"
#include "common/alloc.h"
#include "common/timeutil.h"

#define SCRIPT_MAX 8

struct ftask {
        struct ftask *next;
        struct task_spec spec;
        enum task_state state;
        int64_t launched_ms;
        pid_t pid;
};

struct recoverable {
        struct recoverable *next;
        char *id;
        enum task_state state;
};

struct runtime_fake {
        struct runtime base;
        struct ftask *tasks;
        struct recoverable *recoverables;
        enum task_state script[SCRIPT_MAX];
        size_t n_script;
        int fail_code;
        char *fail_message;
        unsigned launches, kills;
        pid_t next_pid;
};

static struct runtime_fake *fake(struct runtime *base) {
        return (struct runtime_fake *)base;
}

static struct ftask *find(struct runtime_fake *rt, const char *id) {
        for (struct ftask *t = rt->tasks; t; t = t->next)
                if (streq(t->spec.task_id, id))
                        return t;
        return NULL;
}

static void report(struct runtime_fake *rt, struct ftask *t, enum task_state state, int exit_code,
                   const char *message, const char *reason) {
        t->state = state;
        struct task_status st = {
                .task_id = t->spec.task_id,
                .state = state,
                .message = message,
                .reason = reason,
                .exit_code = exit_code,
                .pid = t->pid,
        };
        runtime_emit(&rt->base, &st);
}

static struct ftask *add_task(struct runtime_fake *rt, const char *id) {
        struct ftask *t = xcalloc(1, sizeof *t);
        t->spec.task_id = xstrdup(id);
        t->pid = rt->next_pid++;
        t->launched_ms = time_now_ms();
        t->state = TASK_STAGING;
        t->next = rt->tasks;
        rt->tasks = t;
        return t;
}

static int fake_launch(struct runtime *base, const struct task_spec *spec, struct err *err) {
        struct runtime_fake *rt = fake(base);
        if (rt->fail_code) {
                int code = rt->fail_code;
                rt->fail_code = 0;
                err_set(err, code, "%s", rt->fail_message ? rt->fail_message : "injected launch failure");
                free(rt->fail_message);
                rt->fail_message = NULL;
                return code;
        }
        if (find(rt, spec->task_id))
                return err_set(err, -EEXIST, "task '%s' already exists on this agent", spec->task_id);
        rt->launches++;
        struct ftask *t = add_task(rt, spec->task_id);
        free(t->spec.task_id);
        task_spec_copy(&t->spec, spec);
        for (size_t i = 0; i < rt->n_script && !task_state_is_terminal(t->state); i++) {
                enum task_state s = rt->script[i];
                int code = task_state_is_terminal(s) ? (s == TASK_FINISHED ? 0 : 1) : 0;
                report(rt, t, s, code, task_state_is_terminal(s) ? "scripted end" : NULL, NULL);
        }
        return 0;
}

static int fake_kill(struct runtime *base, const char *id, int64_t grace_ms, struct err *err) {
        struct runtime_fake *rt = fake(base);
        struct ftask *t = find(rt, id);
        if (!t)
                return err_set(err, -ENOENT, "no task '%s' on this agent", id);
        rt->kills++;
        if (task_state_is_terminal(t->state))
                return 0;
        report(rt, t, TASK_KILLED, -1, "Command terminated with signal Terminated", TASK_REASON_KILLED);
        return 0;
}

static int fake_recover(struct runtime *base, struct err *err) {
        struct runtime_fake *rt = fake(base);
        int n = 0;
        while (rt->recoverables) {
                struct recoverable *r = rt->recoverables;
                rt->recoverables = r->next;
                if (!find(rt, r->id)) {
                        struct ftask *t = add_task(rt, r->id);
                        t->spec.cmd = xstrdup("recovered");
                        report(rt, t, r->state, task_state_is_terminal(r->state) ? 0 : 0, NULL, NULL);
                        n++;
                }
                free(r->id);
                free(r);
        }
        return n;
}

static int fake_remove(struct runtime *base, const char *id, struct err *err) {
        struct runtime_fake *rt = fake(base);
        for (struct ftask **p = &rt->tasks; *p; p = &(*p)->next) {
                struct ftask *t = *p;
                if (!streq(t->spec.task_id, id))
                        continue;
                if (!task_state_is_terminal(t->state))
                        return err_set(err, -EBUSY, "task '%s' is still %s", id,
                                       task_state_to_string(t->state));
                *p = t->next;
                task_spec_release(&t->spec);
                free(t);
                return 0;
        }
        return err_set(err, -ENOENT, "no task '%s' on this agent", id);
}

static void fill(const struct ftask *t, struct runtime_task_info *info) {
        *info = (struct runtime_task_info){
                .task_id = t->spec.task_id,
                .state = t->state,
                .pid = t->pid,
                .sandbox = t->spec.sandbox ? t->spec.sandbox : "/nonexistent",
                .launched_ms = t->launched_ms,
        };
}

static int fake_get(struct runtime *base, const char *id, struct runtime_task_info *ret) {
        struct ftask *t = find(fake(base), id);
        if (!t)
                return -ENOENT;
        fill(t, ret);
        return 0;
}

static void fake_foreach(struct runtime *base, runtime_task_cb cb, void *userdata) {
        struct ftask *next;
        for (struct ftask *t = fake(base)->tasks; t; t = next) {
                next = t->next;
                struct runtime_task_info info;
                fill(t, &info);
                cb(&info, userdata);
        }
}

static void fake_close(struct runtime *base) {
        runtime_base_closed(base);
}

static void fake_free(struct runtime *base) {
        struct runtime_fake *rt = fake(base);
        while (rt->tasks) {
                struct ftask *t = rt->tasks;
                rt->tasks = t->next;
                task_spec_release(&t->spec);
                free(t);
        }
        while (rt->recoverables) {
                struct recoverable *r = rt->recoverables;
                rt->recoverables = r->next;
                free(r->id);
                free(r);
        }
        free(rt->fail_message);
        free(rt);
}

static const struct runtime_ops fake_ops = {
        .name = "fake",
        .launch = fake_launch,
        .kill = fake_kill,
        .recover = fake_recover,
        .remove = fake_remove,
        .get = fake_get,
        .foreach = fake_foreach,
        .close = fake_close,
        .free = fake_free,
};

int runtime_fake_new(const struct runtime_config *cfg, struct runtime **ret) {
        struct runtime_fake *rt = xcalloc(1, sizeof *rt);
        runtime_base_init(&rt->base, &fake_ops, cfg);
        rt->script[0] = TASK_STARTING;
        rt->script[1] = TASK_RUNNING;
        rt->n_script = 2;
        rt->next_pid = 10000;
        *ret = &rt->base;
        return 0;
}

void runtime_fake_set_script(struct runtime *base, const enum task_state *states, size_t n) {
        struct runtime_fake *rt = fake(base);
        rt->n_script = MIN(n, (size_t)SCRIPT_MAX);
        memcpy(rt->script, states, rt->n_script * sizeof *states);
}

void runtime_fake_fail_next_launch(struct runtime *base, int code, const char *message) {
        struct runtime_fake *rt = fake(base);
        rt->fail_code = code < 0 ? code : -EIO;
        free(rt->fail_message);
        rt->fail_message = message ? xstrdup(message) : NULL;
}

int runtime_fake_finish(struct runtime *base, const char *task_id, enum task_state state, int exit_code,
                        const char *message) {
        struct runtime_fake *rt = fake(base);
        struct ftask *t = find(rt, task_id);
        if (!t)
                return -ENOENT;
        if (task_state_is_terminal(t->state))
                return -EALREADY;
        report(rt, t, state, exit_code, message, NULL);
        return 0;
}

const struct task_spec *runtime_fake_spec(struct runtime *base, const char *task_id) {
        struct ftask *t = find(fake(base), task_id);
        return t ? &t->spec : NULL;
}

unsigned runtime_fake_launches(struct runtime *base) {
        return fake(base)->launches;
}

unsigned runtime_fake_kills(struct runtime *base) {
        return fake(base)->kills;
}

void runtime_fake_add_recoverable(struct runtime *base, const char *task_id, enum task_state state) {
        struct runtime_fake *rt = fake(base);
        struct recoverable *r = xcalloc(1, sizeof *r);
        r->id = xstrdup(task_id);
        r->state = state;
        r->next = rt->recoverables;
        rt->recoverables = r;
}
