/* agent_metrics.c — the agent's Prometheus metrics (see agent_metrics.h). */
#include "agent/agent_metrics.h"

#include <assert.h>
#include <string.h>

#include "common/alloc.h"
#include "common/prom.h"
#include "common/util.h"
#include "model/task_state.h"
#include "net/http_metrics.h"

#define MAX_FAMILIES 32
#define MAX_REASONS 64 /* distinct failure reasons kept; more count as "other" */

struct family {
        agent_metrics_family_cb cb;
        void *data;
};

struct agent_metrics {
        unsigned long long launches;
        unsigned long long changes[_TASK_STATE_MAX];
        unsigned long long healthy, unhealthy;
        struct {
                char *reason;
                unsigned long long n;
        } failures[MAX_REASONS + 1]; /* the last is "other" */
        size_t n_failures;
        struct family families[MAX_FAMILIES];
        size_t n_families;
};

struct agent_metrics *agent_metrics_new(void) {
        return xcalloc(1, sizeof(struct agent_metrics));
}

void agent_metrics_free(struct agent_metrics *m) {
        if (!m)
                return;
        for (size_t i = 0; i < m->n_failures; i++)
                free(m->failures[i].reason);
        free(m->failures[MAX_REASONS].reason);
        free(m);
}

void agent_metrics_add_family(struct agent_metrics *m, agent_metrics_family_cb cb, void *data) {
        /* A fixed table: families are registered at start by a handful of parts. */
        assert(m->n_families < MAX_FAMILIES);
        m->families[m->n_families++] = (struct family){ cb, data };
}

void agent_metrics_remove_family(struct agent_metrics *m, agent_metrics_family_cb cb, void *data) {
        for (size_t i = 0; i < m->n_families; i++)
                if (m->families[i].cb == cb && m->families[i].data == data) {
                        memmove(&m->families[i], &m->families[i + 1], (m->n_families - i - 1) * sizeof m->families[0]);
                        m->n_families--;
                        return;
                }
}

/* Label values are the runtime's reason constants (REASON_…, TASK_…): letters, digits and '_'
 * only, so they need no escaping; anything else is "other". */
static bool label_safe(const char *s) {
        if (!*s || strlen(s) > 64)
                return false;
        for (const char *p = s; *p; p++)
                if (!(((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
                        return false;
        return true;
}

static void count_failure(struct agent_metrics *m, const char *reason) {
        if (!label_safe(reason))
                reason = "other";
        for (size_t i = 0; i < m->n_failures; i++)
                if (streq(m->failures[i].reason, reason)) {
                        m->failures[i].n++;
                        return;
                }
        if (m->n_failures < MAX_REASONS) {
                m->failures[m->n_failures].reason = xstrdup(reason);
                m->failures[m->n_failures++].n = 1;
                return;
        }
        if (!m->failures[MAX_REASONS].reason)
                m->failures[MAX_REASONS].reason = xstrdup("other");
        m->failures[MAX_REASONS].n++;
}

void agent_metrics_task_status(struct agent_metrics *m, const struct task_status *st) {
        if (!m || st->state >= _TASK_STATE_MAX)
                return;
        m->changes[st->state]++;
        if (st->state == TASK_STARTING)
                m->launches++;
        if (task_state_is_terminal(st->state) && st->state != TASK_FINISHED && st->state != TASK_KILLED &&
            task_state_is_failure(st->state))
                count_failure(m, st->reason && *st->reason ? st->reason : task_state_to_string(st->state));
}

void agent_metrics_health_result(struct agent_metrics *m, bool healthy) {
        if (!m)
                return;
        if (healthy)
                m->healthy++;
        else
                m->unhealthy++;
}

static void count_state(const struct runtime_task_info *info, void *data) {
        size_t *by_state = data;
        if (info->state < _TASK_STATE_MAX)
                by_state[info->state]++;
}

void agent_metrics_render(struct agent_metrics *m, struct runtime *rt, const struct http_metrics *http,
                          bool subscribed, size_t pending, struct strbuf *out) {
        prom_process_metrics(out, "agent");
        if (http)
                http_metrics_render(http, out);
        size_t by_state[_TASK_STATE_MAX] = { 0 };
        if (rt)
                runtime_foreach(rt, count_state, by_state);
        strbuf_puts(out, "# HELP strata_agent_tasks Tasks the agent's runtime holds, by state.\n"
                         "# TYPE strata_agent_tasks gauge\n");
        for (int s = 0; s < _TASK_STATE_MAX; s++)
                strbuf_printf(out, "strata_agent_tasks{state=\"%s\"} %zu\n", task_state_to_string((enum task_state)s),
                              by_state[s]);
        strbuf_printf(out,
                      "# HELP strata_agent_task_launches_total Tasks launched (reported TASK_STARTING).\n"
                      "# TYPE strata_agent_task_launches_total counter\nstrata_agent_task_launches_total %llu\n",
                      m->launches);
        strbuf_puts(out, "# HELP strata_agent_task_failures_total Tasks that failed, by reason.\n"
                         "# TYPE strata_agent_task_failures_total counter\n");
        for (size_t i = 0; i <= MAX_REASONS; i++)
                if (i < m->n_failures || (i == MAX_REASONS && m->failures[i].reason))
                        strbuf_printf(out, "strata_agent_task_failures_total{reason=\"%s\"} %llu\n",
                                      m->failures[i].reason, m->failures[i].n);
        strbuf_puts(out, "# HELP strata_agent_task_state_changes_total Task status updates, by state reported.\n"
                         "# TYPE strata_agent_task_state_changes_total counter\n");
        for (int s = 0; s < _TASK_STATE_MAX; s++)
                strbuf_printf(out, "strata_agent_task_state_changes_total{state=\"%s\"} %llu\n",
                              task_state_to_string((enum task_state)s), m->changes[s]);
        strbuf_printf(out,
                      "# HELP strata_agent_health_results_total Health results that changed a task's health.\n"
                      "# TYPE strata_agent_health_results_total counter\n"
                      "strata_agent_health_results_total{result=\"healthy\"} %llu\n"
                      "strata_agent_health_results_total{result=\"unhealthy\"} %llu\n"
                      "# HELP strata_agent_subscribed 1 while the agent's stream from the leader is open.\n"
                      "# TYPE strata_agent_subscribed gauge\nstrata_agent_subscribed %d\n"
                      "# HELP strata_agent_pending_updates Status updates not yet acknowledged by the master.\n"
                      "# TYPE strata_agent_pending_updates gauge\nstrata_agent_pending_updates %zu\n",
                      m->healthy, m->unhealthy, subscribed ? 1 : 0, pending);
        for (size_t i = 0; i < m->n_families; i++)
                m->families[i].cb(out, m->families[i].data);
}
