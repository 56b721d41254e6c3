/* cli_why.c — an app's status and the answer to "why is it not running" (see cli_why.h). */
#include "cli/cli_why.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_internal.h"
#include "cli/cli_output.h"
#include "common/alloc.h"
#include "common/strbuf.h"

const json_t *cli_queue_entry(const json_t *queue, const char *app_id) {
        size_t i;
        const json_t *e;
        json_array_foreach(json_object_get(queue, "queue"), i, e) {
                const char *id = str_field(json_object_get(e, "app"), "id");
                if (id && app_id && streq(id, app_id))
                        return e;
        }
        return NULL;
}

static int by_declined(const void *a, const void *b) {
        json_int_t x = json_integer_value(json_object_get(*(const json_t *const *)a, "declined"));
        json_int_t y = json_integer_value(json_object_get(*(const json_t *const *)b, "declined"));
        return x < y ? 1 : x > y ? -1 : 0;
}

char *cli_queue_reasons(const json_t *entry) {
        const json_t *steps = json_object_get(json_object_get(entry, "processedOffersSummary"), "rejectSummaryLastOffers");
        size_t n = json_array_size(steps), k = 0;
        if (n == 0)
                return NULL;
        _cleanup_free_ const json_t **sorted = xcalloc(n, sizeof *sorted);
        for (size_t i = 0; i < n; i++) {
                const json_t *s = json_array_get(steps, i);
                if (json_integer_value(json_object_get(s, "declined")) > 0 && str_field(s, "reason"))
                        sorted[k++] = s;
        }
        if (k == 0)
                return NULL;
        qsort(sorted, k, sizeof *sorted, by_declined); /* stable enough: reasons are distinct */
        struct strbuf sb = { 0 };
        for (size_t i = 0; i < k; i++)
                strbuf_printf(&sb, "%s%s", i ? ", " : "", str_field(sorted[i], "reason"));
        return strbuf_steal(&sb);
}

static json_int_t int_field(const json_t *o, const char *key) {
        return json_integer_value(json_object_get(o, key));
}

char *cli_app_status(const json_t *app, const json_t *queue_entry) {
        json_int_t want = int_field(app, "instances"), running = int_field(app, "tasksRunning");
        _cleanup_free_ char *reasons = queue_entry ? cli_queue_reasons(queue_entry) : NULL;
        if (reasons)
                return xasprintf("Waiting: %s", reasons);
        if (!json_is_integer(json_object_get(app, "tasksRunning")))
                return xstrdup("-"); /* the master sent no counts (a group's apps) */
        const json_t *failure = json_object_get(app, "lastTaskFailure");
        const char *fv = str_field(failure, "version"), *v = str_field(app, "version");
        if (running < want && fv && v && streq(fv, v))
                return xstrdup("Crash-looping");
        if (json_array_size(json_object_get(app, "deployments")) > 0)
                return xstrdup("Deploying");
        if (queue_entry)
                return xstrdup("Waiting");
        if (int_field(app, "tasksUnhealthy") > 0)
                return xstrdup("Unhealthy");
        if (want == 0 && running == 0)
                return xstrdup("Suspended");
        if (running >= want)
                return xstrdup("Running");
        return xstrdup("Starting");
}

/* "exit code 3" or "signal Killed" when the agent's message names one ("Command exited with
 * status 3: …", "Command terminated with signal Killed"), else NULL. */
static char *exit_of(const char *message) {
        const char *p;
        if (!message)
                return NULL;
        if ((p = strstr(message, "exited with status "))) {
                int code = atoi(p + strlen("exited with status "));
                return xasprintf("exit code %d", code);
        }
        if ((p = strstr(message, "with signal "))) {
                p += strlen("with signal ");
                size_t n = strcspn(p, ":,;");
                return xasprintf("signal %.*s", (int)n, p);
        }
        return NULL;
}

static void print_queue(FILE *f, const json_t *entry) {
        const json_t *delay = json_object_get(entry, "delay");
        double left = json_number_value(json_object_get(delay, "timeLeftSeconds"));
        json_int_t count = int_field(entry, "count");
        fprintf(f, "Queue:        %" JSON_INTEGER_FORMAT " instance%s waiting since %s", count, count == 1 ? "" : "s",
                str_field(entry, "since") ?: "?");
        if (left > 0)
                fprintf(f, ", next launch in %.0fs (backoff after failures)", left);
        fputc('\n', f);
        _cleanup_free_ char *reasons = cli_queue_reasons(entry);
        fprintf(f, "Declined by:  %s\n", reasons ? reasons : "- (no offer declined at the last pass)");
        const json_t *offers = json_object_get(entry, "lastUnusedOffers");
        if (json_array_size(offers) == 0)
                return;
        static const char *const headers[] = { "", "AGENT", "HOSTNAME", "FREE CPUS", "FREE MEM", "REASONS" };
        _cleanup_(cli_table_freep) struct cli_table *t = cli_table_new(ELEMENTSOF(headers), headers);
        size_t i, j;
        const json_t *o, *r;
        json_array_foreach(offers, i, o) {
                const json_t *offer = json_object_get(o, "offer");
                _cleanup_free_ char *cpus = NULL, *mem = NULL;
                json_array_foreach(json_object_get(offer, "resources"), j, r) {
                        const char *name = str_field(r, "name") ?: "";
                        if (streq(name, "cpus"))
                                cpus = cli_json_cell(json_object_get(r, "scalar"));
                        else if (streq(name, "mem"))
                                mem = cli_json_cell(json_object_get(r, "scalar"));
                }
                struct strbuf sb = { 0 };
                json_array_foreach(json_object_get(o, "reason"), j, r)
                        strbuf_printf(&sb, "%s%s", j ? ", " : "", json_string_value(r) ?: "?");
                _cleanup_free_ char *why = strbuf_steal(&sb);
                cli_table_add(t, (const char *[]){ "", str_field(offer, "agentId"), str_field(offer, "hostname"), cpus,
                                                   mem, why });
        }
        cli_table_print(t, f);
}

static void print_failure(FILE *f, const json_t *failure) {
        const char *msg = str_field(failure, "message");
        _cleanup_free_ char *exit = exit_of(msg);
        _cleanup_free_ char *one_line = msg ? cli_truncate(msg, 400) : NULL;
        fprintf(f, "Last failure: %s at %s on %s%s%s\n", str_field(failure, "state") ?: "?",
                str_field(failure, "timestamp") ?: "?", str_field(failure, "host") ?: "?", exit ? ", " : "",
                exit ? exit : "");
        fprintf(f, "  task:       %s (version %s)\n", str_field(failure, "taskId") ?: "?",
                str_field(failure, "version") ?: "?");
        if (one_line)
                fprintf(f, "  message:    %s\n", one_line);
}

static void print_health(FILE *f, const json_t *app) {
        if (json_array_size(json_object_get(app, "healthChecks")) == 0)
                return;
        static const char *const headers[] = { "", "TASK", "STATE", "HEALTH", "FAILURES", "LAST FAILURE CAUSE" };
        _cleanup_(cli_table_freep) struct cli_table *t = cli_table_new(ELEMENTSOF(headers), headers);
        size_t i, j;
        const json_t *task, *hc;
        json_array_foreach(json_object_get(app, "tasks"), i, task) {
                const json_t *results = json_object_get(task, "healthCheckResults");
                if (json_array_size(results) == 0) {
                        cli_table_add(t, (const char *[]){ "", str_field(task, "id"), str_field(task, "state"),
                                                           "unknown", NULL, NULL });
                        continue;
                }
                json_array_foreach(results, j, hc) {
                        _cleanup_free_ char *fails = cli_json_cell(json_object_get(hc, "consecutiveFailures"));
                        const char *cause = str_field(hc, "lastFailureCause");
                        _cleanup_free_ char *cause_cut = cause ? cli_truncate(cause, 80) : NULL;
                        cli_table_add(t, (const char *[]){ "", str_field(task, "id"), str_field(task, "state"),
                                                           json_is_true(json_object_get(hc, "alive")) ? "healthy"
                                                                                                      : "unhealthy",
                                                           fails, cause_cut });
                }
        }
        fputs("Health:\n", f);
        if (cli_table_rows(t) == 0)
                fputs("  no tasks\n", f);
        else
                cli_table_print(t, f);
}

static bool deployment_names(const json_t *d, const char *app_id) {
        size_t i;
        const json_t *a;
        json_array_foreach(json_object_get(d, "affectedApps"), i, a)
                if (streq(json_string_value(a) ?: "", app_id))
                        return true;
        return false;
}

static void print_deployment(FILE *f, const json_t *d) {
        fprintf(f, "Deployment:   %s, step %" JSON_INTEGER_FORMAT " of %" JSON_INTEGER_FORMAT "\n",
                str_field(d, "id") ?: "?", int_field(d, "currentStep"), int_field(d, "totalSteps"));
        size_t i;
        const json_t *a;
        json_array_foreach(json_object_get(d, "currentActions"), i, a) {
                const char *rc = str_field(json_object_get(a, "readinessCheckResults"), "name");
                fprintf(f, "  action:     %s %s%s%s\n", str_field(a, "action") ?: "?", str_field(a, "app") ?: "",
                        rc ? ", readiness " : "", rc ? rc : "");
        }
}

void cli_why_print(FILE *f, const json_t *app, const json_t *queue_entry, const json_t *deployments) {
        const char *id = str_field(app, "id") ?: "?";
        _cleanup_free_ char *status = cli_app_status(app, queue_entry);
        fprintf(f, "Status:       %s (%" JSON_INTEGER_FORMAT " of %" JSON_INTEGER_FORMAT " running", status,
                int_field(app, "tasksRunning"), int_field(app, "instances"));
        if (int_field(app, "tasksStaged") > 0)
                fprintf(f, ", %" JSON_INTEGER_FORMAT " staged", int_field(app, "tasksStaged"));
        if (int_field(app, "tasksUnhealthy") > 0)
                fprintf(f, ", %" JSON_INTEGER_FORMAT " unhealthy", int_field(app, "tasksUnhealthy"));
        fputs(")\n", f);
        if (queue_entry)
                print_queue(f, queue_entry);
        const json_t *failure = json_object_get(app, "lastTaskFailure");
        if (json_is_object(failure))
                print_failure(f, failure);
        print_health(f, app);
        size_t i;
        const json_t *d;
        bool deploying = false;
        json_array_foreach(deployments, i, d)
                if (deployment_names(d, id)) {
                        print_deployment(f, d);
                        deploying = true;
                }
        if (!deploying)
                fputs("Deployment:   none\n", f);
}
