/* runtime.c — what every runtime shares: state names, task specs, the status queue and the
 * runtime_* wrappers that dispatch through struct runtime_ops. */
#include "agent/runtime.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/timeutil.h"
#include "common/util.h"

static char **strv_copy(char *const *v) {
        if (!v)
                return NULL;
        size_t n = 0;
        while (v[n])
                n++;
        char **c = xcalloc(n + 1, sizeof *c);
        for (size_t i = 0; i < n; i++)
                c[i] = xstrdup(v[i]);
        return c;
}

static char *strdup_or_null(const char *s) {
        return s ? xstrdup(s) : NULL;
}

void task_spec_release(struct task_spec *spec) {
        if (!spec)
                return;
        free(spec->task_id);
        free(spec->sandbox);
        free(spec->cmd);
        strv_free(spec->argv);
        strv_free(spec->env);
        free(spec->user);
        for (size_t i = 0; i < spec->n_fetch; i++) {
                free(spec->fetch[i].uri);
                free(spec->fetch[i].dest_path);
        }
        free(spec->fetch);
        if (spec->container) {
                struct task_container *c = spec->container;
                free(c->image);
                free(c->network_name);
                free(c->pull_secret);
                free(c->pull_config);
                for (size_t i = 0; i < c->n_ports; i++)
                        free(c->ports[i].protocol);
                free(c->ports);
                for (size_t i = 0; i < c->n_volumes; i++) {
                        free(c->volumes[i].host_path);
                        free(c->volumes[i].container_path);
                }
                free(c->volumes);
                free(c);
        }
        memset(spec, 0, sizeof *spec);
}

void task_spec_copy(struct task_spec *dst, const struct task_spec *src) {
        *dst = *src;
        dst->task_id = strdup_or_null(src->task_id);
        dst->sandbox = strdup_or_null(src->sandbox);
        dst->cmd = strdup_or_null(src->cmd);
        dst->argv = strv_copy(src->argv);
        dst->env = strv_copy(src->env);
        dst->user = strdup_or_null(src->user);
        dst->fetch = NULL;
        if (src->n_fetch) {
                dst->fetch = xcalloc(src->n_fetch, sizeof *dst->fetch);
                for (size_t i = 0; i < src->n_fetch; i++) {
                        dst->fetch[i] = src->fetch[i];
                        dst->fetch[i].uri = strdup_or_null(src->fetch[i].uri);
                        dst->fetch[i].dest_path = strdup_or_null(src->fetch[i].dest_path);
                }
        }
        if (src->container) {
                const struct task_container *s = src->container;
                struct task_container *c = xmalloc(sizeof *c);
                *c = *s;
                c->image = strdup_or_null(s->image);
                c->network_name = strdup_or_null(s->network_name);
                c->pull_secret = strdup_or_null(s->pull_secret);
                c->pull_config = strdup_or_null(s->pull_config);
                c->ports = s->n_ports ? xcalloc(s->n_ports, sizeof *c->ports) : NULL;
                for (size_t i = 0; i < s->n_ports; i++) {
                        c->ports[i] = s->ports[i];
                        c->ports[i].protocol = strdup_or_null(s->ports[i].protocol);
                }
                c->volumes = s->n_volumes ? xcalloc(s->n_volumes, sizeof *c->volumes) : NULL;
                for (size_t i = 0; i < s->n_volumes; i++) {
                        c->volumes[i] = s->volumes[i];
                        c->volumes[i].host_path = strdup_or_null(s->volumes[i].host_path);
                        c->volumes[i].container_path = strdup_or_null(s->volumes[i].container_path);
                }
                dst->container = c;
        }
}

static bool task_id_valid(const char *id) {
        size_t n = strlen(id);
        if (n == 0 || n > 200 || streq(id, ".") || streq(id, ".."))
                return false;
        for (const char *p = id; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                      *p == '.' || *p == '_' || *p == '-'))
                        return false;
        return true;
}

int task_spec_validate(const struct task_spec *spec, struct err *err) {
        if (!spec->task_id || !task_id_valid(spec->task_id))
                return err_set(err, -EINVAL, "invalid task id '%s': 1-200 characters of [A-Za-z0-9._-]",
                               spec->task_id ? spec->task_id : "");
        if (spec->container && (!spec->container->image || !*spec->container->image))
                return err_set(err, -EINVAL, "task '%s': the container has no image", spec->task_id);
        if (!spec->container && !spec->cmd && !(spec->argv && spec->argv[0]))
                return err_set(err, -EINVAL, "task '%s' has neither a command nor arguments", spec->task_id);
        if (spec->cmd && !*spec->cmd)
                return err_set(err, -EINVAL, "task '%s' has an empty command", spec->task_id);
        if (spec->sandbox && spec->sandbox[0] != '/')
                return err_set(err, -EINVAL, "task '%s': sandbox '%s' is not an absolute path", spec->task_id,
                               spec->sandbox);
        if (!(spec->cpus >= 0) || !(spec->mem_mib >= 0) || !(spec->disk_mib >= 0) || spec->pids_max < 0)
                return err_set(err, -EINVAL, "task '%s': negative resources", spec->task_id);
        if (spec->env)
                for (char **e = spec->env; *e; e++)
                        if (!strchr(*e, '=') || **e == '=')
                                return err_set(err, -EINVAL, "task '%s': malformed environment entry '%s'",
                                               spec->task_id, *e);
        for (size_t i = 0; i < spec->n_fetch; i++)
                if (!spec->fetch[i].uri || !*spec->fetch[i].uri)
                        return err_set(err, -EINVAL, "task '%s': fetch entry %zu has no uri", spec->task_id,
                                       i);
        return 0;
}

/* --- status queue --- */

struct runtime_pending {
        struct runtime_pending *next;
        struct task_status st;
        char *task_id, *message, *reason, *ip_address;
};

static void pending_free(struct runtime_pending *p) {
        free(p->task_id);
        free(p->message);
        free(p->reason);
        free(p->ip_address);
        free(p);
}

static void deliver_cb(uv_timer_t *t) {
        struct runtime *rt = t->data;
        /* Detach the queue first: callbacks may emit (and so queue) more statuses. */
        struct runtime_pending *p = rt->pending;
        rt->pending = rt->pending_tail = NULL;
        while (p) {
                struct runtime_pending *next = p->next;
                if (!rt->closing)
                        rt->status_cb(rt, &p->st, rt->userdata);
                pending_free(p);
                p = next;
        }
}

void runtime_base_init(struct runtime *rt, const struct runtime_ops *ops, const struct runtime_config *cfg) {
        rt->ops = ops;
        rt->loop = cfg->loop;
        rt->status_cb = cfg->status_cb;
        rt->userdata = cfg->userdata;
        uv_timer_init(cfg->loop, &rt->deliver);
        rt->deliver.data = rt;
}

void runtime_emit(struct runtime *rt, const struct task_status *status) {
        if (rt->closing)
                return;
        struct runtime_pending *p = xcalloc(1, sizeof *p);
        p->st = *status;
        p->st.task_id = p->task_id = xstrdup(status->task_id);
        p->st.message = p->message = strdup_or_null(status->message);
        p->st.reason = p->reason = strdup_or_null(status->reason);
        p->st.ip_address = p->ip_address = strdup_or_null(status->ip_address);
        if (!p->st.timestamp_ms)
                p->st.timestamp_ms = time_now_ms();
        if (rt->pending_tail)
                rt->pending_tail->next = p;
        else
                rt->pending = p;
        rt->pending_tail = p;
        if (!uv_is_active((uv_handle_t *)&rt->deliver))
                uv_timer_start(&rt->deliver, deliver_cb, 0, 0);
}

static void deliver_closed_cb(uv_handle_t *h) {
        struct runtime *rt = h->data;
        runtime_close_cb cb = rt->close_cb;
        void *userdata = rt->close_userdata;
        struct runtime_pending *p = rt->pending;
        while (p) {
                struct runtime_pending *next = p->next;
                pending_free(p);
                p = next;
        }
        rt->ops->free(rt);
        if (cb)
                cb(userdata);
}

void runtime_base_closed(struct runtime *rt) {
        uv_close((uv_handle_t *)&rt->deliver, deliver_closed_cb);
}

/* --- dispatch --- */

int runtime_launch(struct runtime *rt, const struct task_spec *spec, struct err *err) {
        int r = task_spec_validate(spec, err);
        if (r < 0)
                return r;
        return rt->ops->launch(rt, spec, err);
}

int runtime_kill(struct runtime *rt, const char *task_id, int64_t grace_ms, struct err *err) {
        return rt->ops->kill(rt, task_id, grace_ms, err);
}

int runtime_recover(struct runtime *rt, struct err *err) {
        return rt->ops->recover(rt, err);
}

int runtime_remove(struct runtime *rt, const char *task_id, struct err *err) {
        return rt->ops->remove(rt, task_id, err);
}

int runtime_get(struct runtime *rt, const char *task_id, struct runtime_task_info *ret) {
        return rt->ops->get(rt, task_id, ret);
}

void runtime_foreach(struct runtime *rt, runtime_task_cb cb, void *userdata) {
        rt->ops->foreach (rt, cb, userdata);
}

void runtime_close(struct runtime *rt, runtime_close_cb cb, void *userdata) {
        if (!rt || rt->closing)
                return;
        rt->closing = true;
        rt->close_cb = cb;
        rt->close_userdata = userdata;
        uv_timer_stop(&rt->deliver);
        rt->ops->close(rt);
}
