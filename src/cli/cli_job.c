/* cli_job.c — noun `job`: Metronome jobs (/v1/jobs): add, list (next run, last result), show,
 * update, remove, run (--wait streams the run's output and exits with its result), kill,
 * history (finished runs and skipped ticks), schedule (list, set, remove). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli_internal.h"
#include "cli/cli_output.h"
#include "cli/cli_wait.h"
#include "common/alloc.h"
#include "common/strbuf.h"

static char *job_path(const char *id, const char *suffix) {
        _cleanup_free_ char *e = cli_url_escape(id, false);
        return xasprintf("/v1/jobs/%s%s", e, suffix ? suffix : "");
}

static const char *schedule_text(const json_t *job, const char *key) {
        const json_t *s = json_array_get(json_object_get(job, "schedules"), 0);
        return s ? str_field(s, key) : NULL;
}

static const char *last_result(const json_t *summary, char *buf, size_t n) {
        const char *ok = str_field(summary, "lastSuccessAt"), *bad = str_field(summary, "lastFailureAt");
        if (!ok && !bad)
                return NULL;
        if (ok && (!bad || strcmp(ok, bad) > 0))
                snprintf(buf, n, "SUCCESS %s", ok);
        else
                snprintf(buf, n, "FAILED %s", bad);
        return buf;
}

static struct cli_table *list_table(const json_t *jobs) {
        static const char *const headers[] = { "ID", "SCHEDULE", "NEXT RUN", "ACTIVE", "LAST RESULT" };
        struct cli_table *t = cli_table_new(ELEMENTSOF(headers), headers);
        size_t i;
        const json_t *j;
        json_array_foreach(jobs, i, j) {
                char active[16], last[96];
                snprintf(active, sizeof active, "%zu", json_array_size(json_object_get(j, "activeRuns")));
                const char *cron = schedule_text(j, "cron");
                const json_t *s = json_array_get(json_object_get(j, "schedules"), 0);
                _cleanup_free_ char *sched =
                        cron ? xasprintf("%s %s%s", cron, str_field(s, "timezone") ?: "UTC",
                                         json_is_false(json_object_get(s, "enabled")) ? " (disabled)" : "")
                             : NULL;
                cli_table_add(t, (const char *[]){ str_field(j, "id"), sched, schedule_text(j, "nextRunAt"), active,
                                                   last_result(json_object_get(j, "historySummary"), last, sizeof last) });
        }
        return t;
}

static int job_list(struct cli *c, const struct cli_args *a, struct err *err) {
        return cli_get_and_print(c, "/v1/jobs?embed=schedules&embed=activeRuns&embed=historySummary", NULL, JSON_ARRAY,
                                 "job array", list_table, err);
}

static struct cli_table *show_table(const json_t *j) {
        static const char *const headers[] = { "", "" };
        struct cli_table *t = cli_table_new(2, headers);
        const json_t *run = json_object_get(j, "run");
        char res[128], counts[64], last[96];
        snprintf(res, sizeof res, "cpus %g, mem %g MiB, disk %g MiB", json_number_value(json_object_get(run, "cpus")),
                 json_number_value(json_object_get(run, "mem")), json_number_value(json_object_get(run, "disk")));
        const json_t *h = json_object_get(j, "historySummary");
        snprintf(counts, sizeof counts, "%lld succeeded, %lld failed",
                 (long long)json_integer_value(json_object_get(h, "successCount")),
                 (long long)json_integer_value(json_object_get(h, "failureCount")));
        const char *image = str_field(json_object_get(run, "docker"), "image");
        if (!image)
                image = str_field(json_object_get(json_object_get(run, "ucr"), "image"), "id");
        const char *rows[][2] = {
                { "ID", str_field(j, "id") },
                { "Description", str_field(j, "description") },
                { "Command", str_field(run, "cmd") },
                { "Image", image },
                { "Resources", res },
                { "Restart", str_field(json_object_get(run, "restart"), "policy") },
                { "Schedule", schedule_text(j, "cron") },
                { "Time zone", schedule_text(j, "timezone") },
                { "Concurrency", schedule_text(j, "concurrencyPolicy") },
                { "Next run", schedule_text(j, "nextRunAt") },
                { "Runs", counts },
                { "Last result", last_result(h, last, sizeof last) },
        };
        for (size_t i = 0; i < ELEMENTSOF(rows); i++)
                if (rows[i][1])
                        cli_table_add(t, (const char *[]){ rows[i][0], rows[i][1] });
        return t;
}

static int job_show(struct cli *c, const struct cli_args *a, struct err *err) {
        _cleanup_free_ char *path = job_path(a->pos[0], "?embed=schedules&embed=activeRuns&embed=historySummary");
        return cli_get_and_print(c, path, NULL, JSON_OBJECT, "job", show_table, err);
}

/* POST or PUT a job definition read from a file (or "-"). */
static int send_definition(struct cli *c, const char *method, const char *path, const char *file, const char *done,
                           struct err *err) {
        _cleanup_(json_decrefp) json_t *body = NULL;
        int r = cli_read_json(file, c->in, &body, err);
        if (r < 0)
                return r;
        _cleanup_(http_reply_release) struct http_reply reply = { 0 };
        r = cli_http_call(&c->http, method, path ? path : "/v1/jobs", body, &reply, err);
        if (r < 0)
                return r;
        if (c->output == CLI_OUTPUT_JSON)
                cli_print_json(c->out, reply.json);
        else
                fprintf(c->out, "%s %s\n", done, str_field(reply.json, "id") ?: "");
        return 0;
}

static int job_add(struct cli *c, const struct cli_args *a, struct err *err) {
        return send_definition(c, "POST", NULL, a->pos[0], "Added job", err);
}

static int job_update(struct cli *c, const struct cli_args *a, struct err *err) {
        _cleanup_free_ char *path = job_path(a->pos[0], NULL);
        return send_definition(c, "PUT", path, a->pos[1], "Updated job", err);
}

static int job_remove(struct cli *c, const struct cli_args *a, struct err *err) {
        _cleanup_free_ char *path = job_path(a->pos[0], cli_args_get(a, "stop") ? "?stopCurrentJobRuns=true" : NULL);
        _cleanup_(http_reply_release) struct http_reply reply = { 0 };
        int r = cli_http_call(&c->http, "DELETE", path, NULL, &reply, err);
        if (r < 0)
                return r;
        if (c->output == CLI_OUTPUT_JSON)
                cli_print_json(c->out, reply.json);
        else
                fprintf(c->out, "Removed job %s\n", a->pos[0]);
        return 0;
}

/* --- run --wait ------------------------------------------------------------------------------ */

static void sleep_ms(long ms) {
        struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
        nanosleep(&ts, NULL);
}

/* Prints new stdout of task_id from whichever agent has it (the run's JSON names no agent:
 * Metronome's shape; clusters are asked agent by agent until one knows the task). */
struct tail {
        char *task_id;
        char *agent_url; /* found */
        long long offset;
};

static void tail_release(struct tail *t) {
        free(t->task_id);
        free(t->agent_url);
        *t = (struct tail){ 0 };
}

static void tail_find(struct cli *c, struct tail *t) {
        _cleanup_(http_reply_release) struct http_reply nodes = { 0 };
        struct err e = { 0 };
        if (cli_http_call(&c->http, "GET", "/v1/nodes", NULL, &nodes, &e) < 0) {
                err_release(&e);
                return;
        }
        size_t i;
        const json_t *n;
        json_array_foreach(json_object_get(nodes.json, "nodes"), i, n) {
                const char *addr = str_field(n, "address");
                if (!addr)
                        continue;
                _cleanup_free_ char *url = xasprintf("http://%s", addr);
                struct cli_http agent = { 0 };
                if (cli_http_init(&agent, url, &e) < 0) {
                        err_release(&e);
                        continue;
                }
                agent.send = c->http.send;
                agent.data = c->http.data;
                agent.auth_base = c->http.base; /* the agent checks the master's tokens */
                agent.timeout_s = 5;
                _cleanup_free_ char *tid = cli_url_escape(t->task_id, false);
                _cleanup_free_ char *p = xasprintf("/files/read?task=%s&file=stdout&offset=-1", tid);
                _cleanup_(http_reply_release) struct http_reply r = { 0 };
                int ok = cli_http_call(&agent, "GET", p, NULL, &r, &e);
                err_release(&e);
                cli_http_release(&agent);
                if (ok >= 0) {
                        t->agent_url = TAKE_PTR(url);
                        return;
                }
        }
}

static void tail_print(struct cli *c, struct tail *t) {
        if (!t->agent_url)
                tail_find(c, t);
        if (!t->agent_url)
                return;
        struct cli_http agent = { 0 };
        struct err e = { 0 };
        if (cli_http_init(&agent, t->agent_url, &e) < 0) {
                err_release(&e);
                return;
        }
        agent.send = c->http.send;
        agent.data = c->http.data;
        agent.auth_base = c->http.base; /* the agent checks the master's tokens */
        agent.timeout_s = 5;
        _cleanup_free_ char *tid = cli_url_escape(t->task_id, false);
        for (;;) {
                _cleanup_free_ char *p =
                        xasprintf("/files/read?task=%s&file=stdout&offset=%lld&length=65536", tid, t->offset);
                _cleanup_(http_reply_release) struct http_reply r = { 0 };
                if (cli_http_call(&agent, "GET", p, NULL, &r, &e) < 0)
                        break;
                const char *data = str_field(r.json, "data") ?: "";
                size_t n = strlen(data);
                fwrite(data, 1, n, stderr); /* the run's output; stdout keeps the result line */
                t->offset += (long long)n;
                if (n < 65536)
                        break;
        }
        err_release(&e);
        cli_http_release(&agent);
}

/* The finished run's status from the job's history, or NULL; *ret_task gets its last task id
 * (new string) when the caller has none yet. */
static const char *finished_status(struct cli *c, const char *job, const char *run_id, char **ret_task) {
        _cleanup_free_ char *path = job_path(job, "?embed=history");
        _cleanup_(http_reply_release) struct http_reply reply = { 0 };
        struct err e = { 0 };
        if (cli_http_call(&c->http, "GET", path, NULL, &reply, &e) < 0) {
                err_release(&e);
                return NULL;
        }
        const json_t *h = json_object_get(reply.json, "history");
        const char *lists[][2] = { { "successfulFinishedRuns", "SUCCESS" }, { "failedFinishedRuns", "FAILED" } };
        for (size_t k = 0; k < 2; k++) {
                size_t i;
                const json_t *r;
                json_array_foreach(json_object_get(h, lists[k][0]), i, r) {
                        if (!streq(str_field(r, "id") ?: "", run_id))
                                continue;
                        const json_t *tasks = json_object_get(r, "tasks");
                        const char *last = json_string_value(json_array_get(tasks, json_array_size(tasks) - 1));
                        if (!*ret_task && last)
                                *ret_task = xstrdup(last);
                        return lists[k][1];
                }
        }
        return NULL;
}

static int wait_run(struct cli *c, const char *job, const char *run_id, double timeout_s, struct err *err) {
        _cleanup_free_ char *rid = cli_url_escape(run_id, false);
        _cleanup_free_ char *suffix = xasprintf("/runs/%s", rid);
        _cleanup_free_ char *path = job_path(job, suffix);
        struct timespec start;
        clock_gettime(CLOCK_MONOTONIC, &start);
        struct tail t = { 0 };
        const char *status = NULL;
        for (;;) {
                _cleanup_(http_reply_release) struct http_reply reply = { 0 };
                struct err e = { 0 };
                int r = cli_http_call(&c->http, "GET", path, NULL, &reply, &e);
                if (r == -ERR_NOT_FOUND) {
                        /* Finished: active runs only are served; the result is in the history. */
                        err_release(&e);
                        status = finished_status(c, job, run_id, &t.task_id);
                        if (t.task_id)
                                tail_print(c, &t); /* what the task wrote since the last look */
                        if (status)
                                break;
                } else if (r < 0) {
                        tail_release(&t);
                        *err = e;
                        return r;
                } else {
                        const json_t *tasks = json_object_get(reply.json, "tasks");
                        const char *task = str_field(json_array_get(tasks, json_array_size(tasks) - 1), "id");
                        if (task && (!t.task_id || !streq(t.task_id, task))) {
                                if (t.task_id)
                                        tail_print(c, &t); /* the rest of the previous attempt */
                                tail_release(&t);
                                t.task_id = xstrdup(task);
                        }
                        if (t.task_id)
                                tail_print(c, &t);
                }
                struct timespec now;
                clock_gettime(CLOCK_MONOTONIC, &now);
                double elapsed = (double)(now.tv_sec - start.tv_sec) + (double)(now.tv_nsec - start.tv_nsec) / 1e9;
                if (timeout_s > 0 && elapsed > timeout_s) {
                        tail_release(&t);
                        return err_set(err, -ERR_WAIT_TIMEOUT, "run %s of job %s still running after %g s", run_id, job,
                                       timeout_s);
                }
                sleep_ms(250);
        }
        tail_release(&t);
        if (c->output == CLI_OUTPUT_JSON) {
                _cleanup_(json_decrefp) json_t *j = json_pack("{s:s,s:s,s:s}", "jobId", job, "id", run_id, "status", status);
                cli_print_json(c->out, j);
        } else {
                fprintf(c->out, "Run %s of job %s: %s\n", run_id, job, status);
        }
        if (!streq(status, "SUCCESS"))
                return err_set(err, -ERR_DEPLOYMENT_FAILED, "run %s of job %s failed", run_id, job); /* exit 3 */
        return 0;
}

static int job_run(struct cli *c, const struct cli_args *a, struct err *err) {
        bool wait;
        double timeout_s;
        int r = cli_wait_options(a, &wait, &timeout_s, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *path = job_path(a->pos[0], "/runs");
        _cleanup_(http_reply_release) struct http_reply reply = { 0 };
        r = cli_http_call(&c->http, "POST", path, NULL, &reply, err);
        if (r < 0)
                return r;
        const char *run_id = str_field(reply.json, "id");
        if (!run_id)
                return err_set(err, -EBADMSG, "master sent no run id for POST %s", path);
        if (wait)
                return wait_run(c, a->pos[0], run_id, timeout_s, err);
        if (c->output == CLI_OUTPUT_JSON)
                cli_print_json(c->out, reply.json);
        else
                fprintf(c->out, "Started run %s of job %s\n", run_id, a->pos[0]);
        return 0;
}

static int job_kill(struct cli *c, const struct cli_args *a, struct err *err) {
        _cleanup_free_ char *rid = cli_url_escape(a->pos[1], false);
        _cleanup_free_ char *suffix = xasprintf("/runs/%s/actions/stop", rid);
        _cleanup_free_ char *path = job_path(a->pos[0], suffix);
        _cleanup_(http_reply_release) struct http_reply reply = { 0 };
        int r = cli_http_call(&c->http, "POST", path, NULL, &reply, err);
        if (r < 0)
                return r;
        if (c->output == CLI_OUTPUT_JSON)
                cli_print_json(c->out, reply.json);
        else
                fprintf(c->out, "Stopping run %s of job %s\n", a->pos[1], a->pos[0]);
        return 0;
}

/* --- history --------------------------------------------------------------------------------- */

static int job_history(struct cli *c, const struct cli_args *a, struct err *err) {
        _cleanup_free_ char *path = job_path(a->pos[0], "?embed=history");
        _cleanup_(http_reply_release) struct http_reply reply = { 0 };
        int r = cli_http_call(&c->http, "GET", path, NULL, &reply, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *tpath = job_path(a->pos[0], "/ticks");
        _cleanup_(http_reply_release) struct http_reply ticks = { 0 };
        r = cli_http_call(&c->http, "GET", tpath, NULL, &ticks, err);
        if (r < 0)
                return r;
        const json_t *h = json_object_get(reply.json, "history");
        if (c->output == CLI_OUTPUT_JSON) {
                _cleanup_(json_decrefp) json_t *j = json_pack("{s:O,s:O}", "history", h ? h : json_null(), "skipped",
                                                              json_object_get(ticks.json, "skipped"));
                cli_print_json(c->out, j);
                return 0;
        }
        static const char *const headers[] = { "RUN", "RESULT", "CREATED", "FINISHED" };
        struct cli_table *t = cli_table_new(ELEMENTSOF(headers), headers);
        const char *lists[][2] = { { "successfulFinishedRuns", "SUCCESS" }, { "failedFinishedRuns", "FAILED" } };
        for (size_t k = 0; k < 2; k++) {
                size_t i;
                const json_t *run;
                json_array_foreach(json_object_get(h, lists[k][0]), i, run)
                        cli_table_add(t, (const char *[]){ str_field(run, "id"), lists[k][1], str_field(run, "createdAt"),
                                                           str_field(run, "finishedAt") });
        }
        cli_table_print(t, c->out);
        cli_table_free(t);
        const json_t *skipped = json_object_get(ticks.json, "skipped");
        if (json_array_size(skipped) > 0) {
                static const char *const sh[] = { "SCHEDULE", "SKIPPED TICKS", "FIRST", "LAST", "REASON" };
                struct cli_table *st = cli_table_new(ELEMENTSOF(sh), sh);
                size_t i;
                const json_t *s;
                json_array_foreach(skipped, i, s) {
                        char count[24], first[32], last[32];
                        snprintf(count, sizeof count, "%lld", (long long)json_integer_value(json_object_get(s, "count")));
                        time_t f = (time_t)(json_integer_value(json_object_get(s, "first")) / 1000);
                        time_t l = (time_t)(json_integer_value(json_object_get(s, "last")) / 1000);
                        struct tm tm;
                        strftime(first, sizeof first, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&f, &tm));
                        strftime(last, sizeof last, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&l, &tm));
                        cli_table_add(st, (const char *[]){ str_field(s, "schedule"), count, first, last, str_field(s, "reason") });
                }
                fprintf(c->out, "\n");
                cli_table_print(st, c->out);
                cli_table_free(st);
        }
        return 0;
}

/* --- schedule -------------------------------------------------------------------------------- */

static struct cli_table *schedules_table(const json_t *list) {
        static const char *const headers[] = { "ID", "CRON", "TIME ZONE", "POLICY", "DEADLINE", "ENABLED", "NEXT RUN" };
        struct cli_table *t = cli_table_new(ELEMENTSOF(headers), headers);
        size_t i;
        const json_t *s;
        json_array_foreach(list, i, s) {
                char deadline[24];
                snprintf(deadline, sizeof deadline, "%llds",
                         (long long)json_integer_value(json_object_get(s, "startingDeadlineSeconds")));
                cli_table_add(t, (const char *[]){ str_field(s, "id"), str_field(s, "cron"), str_field(s, "timezone"),
                                                   str_field(s, "concurrencyPolicy"), deadline,
                                                   json_is_true(json_object_get(s, "enabled")) ? "yes" : "no",
                                                   str_field(s, "nextRunAt") });
        }
        return t;
}

/* `job schedule ID`: list; `job schedule ID CRON [flags]`: set (create, or replace the one with
 * --id); `job schedule ID --remove SID`. */
static int job_schedule(struct cli *c, const struct cli_args *a, struct err *err) {
        const char *job = a->pos[0];
        const char *remove = cli_args_get(a, "remove");
        if (remove) {
                if (a->n_pos > 1)
                        return err_set(err, -ERR_USAGE, "--remove takes no CRON");
                _cleanup_free_ char *sid = cli_url_escape(remove, false);
                _cleanup_free_ char *suffix = xasprintf("/schedules/%s", sid);
                _cleanup_free_ char *path = job_path(job, suffix);
                _cleanup_(http_reply_release) struct http_reply reply = { 0 };
                int r = cli_http_call(&c->http, "DELETE", path, NULL, &reply, err);
                if (r < 0)
                        return r;
                fprintf(c->out, "Removed schedule %s of job %s\n", remove, job);
                return 0;
        }
        if (a->n_pos == 1) {
                _cleanup_free_ char *path = job_path(job, "/schedules");
                return cli_get_and_print(c, path, NULL, JSON_ARRAY, "schedule array", schedules_table, err);
        }
        const char *sid = cli_args_get(a, "id") ?: "default";
        _cleanup_(json_decrefp) json_t *body =
                json_pack("{s:s,s:s,s:s,s:s,s:b}", "id", sid, "cron", a->pos[1], "timezone", cli_args_get(a, "tz") ?: "UTC",
                          "concurrencyPolicy", cli_args_get(a, "forbid") ? "FORBID" : "ALLOW", "enabled",
                          cli_args_get(a, "disabled") == NULL);
        const char *deadline = cli_args_get(a, "deadline");
        if (deadline) {
                char *end;
                long v = strtol(deadline, &end, 10);
                if (*end || v < 1)
                        return err_set(err, -ERR_USAGE, "--deadline wants a number of seconds, not '%s'", deadline);
                json_object_set_new(body, "startingDeadlineSeconds", json_integer(v));
        }
        /* Replace the schedule if the job has it, else create it. */
        _cleanup_free_ char *esid = cli_url_escape(sid, false);
        _cleanup_free_ char *one = xasprintf("/schedules/%s", esid);
        _cleanup_free_ char *one_path = job_path(job, one);
        _cleanup_(http_reply_release) struct http_reply probe = { 0 };
        struct err e = { 0 };
        int r = cli_http_call(&c->http, "GET", one_path, NULL, &probe, &e);
        err_release(&e);
        _cleanup_free_ char *list_path = job_path(job, "/schedules");
        _cleanup_(http_reply_release) struct http_reply reply = { 0 };
        r = r >= 0 ? cli_http_call(&c->http, "PUT", one_path, body, &reply, err)
                   : cli_http_call(&c->http, "POST", list_path, body, &reply, err);
        if (r < 0)
                return r;
        if (c->output == CLI_OUTPUT_JSON)
                cli_print_json(c->out, reply.json);
        else
                fprintf(c->out, "Schedule %s of job %s: '%s' (%s), next run %s\n", sid, job, a->pos[1],
                        str_field(reply.json, "timezone") ?: "UTC", str_field(reply.json, "nextRunAt") ?: "never");
        return 0;
}

static const struct cli_flag remove_flags[] = {
        { "stop", 0, NULL, "stop its active runs too (stopCurrentJobRuns=true)" },
        { NULL },
};

static const struct cli_flag run_flags[] = {
        { "wait", 'w', NULL, "stream the run's output (to stderr) and exit with its result: 0 success, 3 failed" },
        { "timeout", 0, "SECONDS", "with --wait: give up after SECONDS (exit 4)" },
        { NULL },
};

static const struct cli_flag schedule_flags[] = {
        { "id", 0, "SID", "the schedule's id (default: \"default\")" },
        { "tz", 0, "ZONE", "time zone of the tz database (default UTC)" },
        { "forbid", 0, NULL, "concurrencyPolicy FORBID: skip a tick while a run is active" },
        { "deadline", 0, "SECONDS", "startingDeadlineSeconds (default 900, at least 60)" },
        { "disabled", 0, NULL, "keep the schedule but do not fire it" },
        { "remove", 0, "SID", "remove schedule SID instead" },
        { NULL },
};

static const struct cli_verb job_verbs[] = {
        { .name = "add", .synopsis = "FILE|-", .summary = "Create a job from a Metronome job definition",
          .min_args = 1, .max_args = 1, .run = job_add },
        { .name = "list", .summary = "List jobs: schedule, next run, active runs, last result", .max_args = 0,
          .run = job_list },
        { .name = "show", .synopsis = "ID", .summary = "Show one job", .min_args = 1, .max_args = 1, .run = job_show },
        { .name = "update", .synopsis = "ID FILE|-", .summary = "Replace a job's definition (its schedules stay)",
          .min_args = 2, .max_args = 2, .run = job_update },
        { .name = "remove", .synopsis = "ID", .summary = "Remove a job", .min_args = 1, .max_args = 1,
          .flags = remove_flags, .run = job_remove },
        { .name = "run", .synopsis = "ID", .summary = "Start a run now (--wait: follow it to its end)",
          .description = "With --wait the run's output is streamed to stderr as the task writes it, and the\n"
                         "exit code is the run's result: 0 SUCCESS, 3 FAILED, 4 --timeout passed first.\n",
          .min_args = 1, .max_args = 1, .flags = run_flags, .run = job_run },
        { .name = "kill", .synopsis = "ID RUN", .summary = "Stop an active run (it ends FAILED)", .min_args = 2,
          .max_args = 2, .run = job_kill },
        { .name = "history", .synopsis = "ID", .summary = "Finished runs and skipped schedule ticks", .min_args = 1,
          .max_args = 1, .run = job_history },
        { .name = "schedule", .synopsis = "ID [CRON]",
          .summary = "List a job's schedules, or set one to CRON",
          .description = "CRON has five fields (minute hour day-of-month month day-of-week) or is one of\n"
                         "@hourly @daily @weekly @monthly @yearly. See docs/jobs.md for the DST rule.\n",
          .min_args = 1, .max_args = 2, .flags = schedule_flags, .run = job_schedule },
        { NULL },
};

const struct cli_noun cli_noun_job = {
        .name = "job",
        .summary = "Scheduled and one-off jobs (Metronome /v1/jobs)",
        .verbs = job_verbs,
};
