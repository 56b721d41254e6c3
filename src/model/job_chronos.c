/* job_chronos.c — Chronos job JSON (POST /v1/scheduler/iso8601 and …/dependency, GET
 * /v1/scheduler/jobs) mapped onto Metronome's canonical job, schedule and Chronos's own extras
 * (job.h). */
#include <errno.h>
#include <string.h>

#include "common/alloc.h"
#include "model/iso8601.h"
#include "model/job.h"

/* Chronos's defaults (chronos/src/main/scala/…/JobUtils): cpus 0.1, mem 128, disk 256,
 * retries 2, epsilon PT60S, shell true. */
int job_chronos_from_json(const json_t *body, bool dependency, json_t **ret_job, json_t **ret_schedule,
                          json_t **ret_extras, struct err *err) {
        if (!json_is_object(body))
                return err_set(err, -ERR_INVALID, "a Chronos job is a JSON object");
        const char *name = json_string_value(json_object_get(body, "name"));
        if (!name)
                return err_set(err, -ERR_INVALID, "\"name\" is required");
        if (!job_id_valid(name))
                return err_set(err, -ERR_INVALID,
                               "job name '%s' must be a Metronome id here: lowercase letters, digits, '-' and '.'", name);
        const char *command = json_string_value(json_object_get(body, "command"));
        const json_t *args = json_object_get(body, "arguments");
        const json_t *shell = json_object_get(body, "shell");
        const json_t *container = json_object_get(body, "container");
        if ((!command || !*command) && !json_array_size(args) && !container)
                return err_set(err, -ERR_INVALID, "\"command\" is required");
        if (args && !json_is_array(args))
                return err_set(err, -ERR_INVALID, "\"arguments\" must be an array of strings");
        const char *numbers[][2] = { { "cpus", "0.1" }, { "mem", "128" }, { "disk", "256" } };
        json_t *run = json_object();
        for (size_t i = 0; i < 3; i++) {
                const json_t *v = json_object_get(body, numbers[i][0]);
                if (v && !json_is_number(v)) {
                        json_decref(run);
                        return err_set(err, -ERR_INVALID, "\"%s\" must be a number", numbers[i][0]);
                }
                double d = v ? json_number_value(v) : strtod(numbers[i][1], NULL);
                json_object_set_new(run, numbers[i][0], json_real(d));
        }
        if (json_number_value(json_object_get(run, "mem")) < 32 || json_number_value(json_object_get(run, "cpus")) < 0.01) {
                json_decref(run);
                return err_set(err, -ERR_INVALID, "\"cpus\" must be at least 0.01 and \"mem\" at least 32");
        }
        /* shell false: the command is the executable, "arguments" its argv (Mesos CommandInfo). */
        if (shell && json_is_false(shell)) {
                json_t *argv = json_array();
                if (command && *command)
                        json_array_append_new(argv, json_string(command));
                size_t i;
                json_t *a;
                json_array_foreach(args, i, a) if (json_is_string(a)) json_array_append(argv, a);
                json_object_set_new(run, "args", argv);
        } else if (command && *command) {
                json_object_set_new(run, "cmd", json_string(command));
        }
        json_t *env = json_object();
        size_t i;
        json_t *ev;
        json_array_foreach(json_object_get(body, "environmentVariables"), i, ev) {
                const char *k = json_string_value(json_object_get(ev, "name"));
                const char *v = json_string_value(json_object_get(ev, "value"));
                if (k && v)
                        json_object_set_new(env, k, json_string(v));
        }
        json_object_set_new(run, "env", env);
        json_t *artifacts = json_array();
        json_t *u;
        json_array_foreach(json_object_get(body, "uris"), i, u) {
                if (json_is_string(u))
                        json_array_append_new(artifacts, json_pack("{s:O}", "uri", u));
        }
        json_array_foreach(json_object_get(body, "fetch"), i, u) {
                if (json_is_string(json_object_get(u, "uri")))
                        json_array_append_new(artifacts, json_pack("{s:O,s:b,s:b,s:b}", "uri", json_object_get(u, "uri"),
                                                                   "extract", !json_is_false(json_object_get(u, "extract")),
                                                                   "executable", json_is_true(json_object_get(u, "executable")),
                                                                   "cache", json_is_true(json_object_get(u, "cache"))));
        }
        json_object_set_new(run, "artifacts", artifacts);
        const char *image = json_string_value(json_object_get(container, "image"));
        if (image)
                json_object_set_new(run, "docker", json_pack("{s:s}", "image", image));
        const char *user = json_string_value(json_object_get(body, "runAsUser"));
        if (user)
                json_object_set_new(run, "user", json_string(user));
        const json_t *retries = json_object_get(body, "retries");
        if (retries && (!json_is_integer(retries) || json_integer_value(retries) < 0)) {
                json_decref(run);
                return err_set(err, -ERR_INVALID, "\"retries\" must be a number >= 0");
        }
        json_int_t n_retries = retries ? json_integer_value(retries) : 2;
        json_object_set_new(run, "restart", json_pack("{s:s}", "policy", n_retries > 0 ? "ON_FAILURE" : "NEVER"));

        /* Through Metronome's own validation: the same canonical form as /v1/jobs. */
        json_t *mdoc = json_pack("{s:s,s:o}", "id", name, "run", run);
        const char *desc = json_string_value(json_object_get(body, "description"));
        if (desc && *desc)
                json_object_set_new(mdoc, "description", json_string(desc));
        const json_t *parents = json_object_get(body, "parents");
        if (dependency) {
                if (!json_is_array(parents) || json_array_size(parents) == 0) {
                        json_decref(mdoc);
                        return err_set(err, -ERR_INVALID, "a dependent job needs \"parents\"");
                }
                json_t *deps = json_array();
                json_t *p;
                json_array_foreach(parents, i, p) {
                        if (!json_is_string(p) || !job_id_valid(json_string_value(p))) {
                                json_decref(deps);
                                json_decref(mdoc);
                                return err_set(err, -ERR_INVALID, "\"parents\" must name jobs");
                        }
                        json_array_append_new(deps, json_pack("{s:O}", "id", p));
                }
                json_object_set_new(mdoc, "dependencies", deps);
        }
        json_t *job = NULL;
        int r = job_from_json(mdoc, NULL, &job, NULL, err);
        json_decref(mdoc);
        if (r < 0)
                return r;

        const char *eps_text = json_string_value(json_object_get(body, "epsilon"));
        struct iso8601_duration eps = { .ms = 60000 };
        if (eps_text && iso8601_duration_parse(eps_text, &eps, err) < 0) {
                json_decref(job);
                return err_wrap(err, "\"epsilon\"");
        }
        int64_t eps_s = iso8601_add(NULL, 0, &eps) / 1000;
        if (eps_s < 1)
                eps_s = 1;
        json_t *sched = NULL;
        if (!dependency) {
                const char *text = json_string_value(json_object_get(body, "schedule"));
                const char *tz = json_string_value(json_object_get(body, "scheduleTimeZone"));
                if (tz && !*tz)
                        tz = NULL;
                struct iso8601_schedule s;
                if (!text || iso8601_schedule_parse(text, tz, &s, err) < 0) {
                        json_decref(job);
                        if (!text)
                                return err_set(err, -ERR_INVALID, "\"schedule\" is required");
                        return err_wrap(err, "\"schedule\"");
                }
                sched = json_pack("{s:s,s:s,s:s,s:I,s:s,s:b}", "id", "chronos", "iso8601", text, "timezone", tz ? tz : "UTC",
                                  "startingDeadlineSeconds", (json_int_t)eps_s, "concurrencyPolicy", "ALLOW", "enabled",
                                  !json_is_true(json_object_get(body, "disabled")));
        }
        *ret_job = job;
        *ret_schedule = sched;
        *ret_extras = json_pack("{s:I,s:s,s:s,s:b,s:b}", "retries", n_retries, "epsilon", eps_text ? eps_text : "PT60S",
                                "owner", json_string_value(json_object_get(body, "owner")) ?: "", "async",
                                json_is_true(json_object_get(body, "async")), "disabled",
                                json_is_true(json_object_get(body, "disabled")));
        return 0;
}

static json_t *iso_or_empty(const json_t *ms) {
        if (!json_is_integer(ms))
                return json_string("");
        char buf[29];
        job_format_time(json_integer_value(ms), buf);
        /* Chronos writes "2014-03-08T16:57:17.507Z". */
        buf[23] = 'Z';
        buf[24] = 0;
        return json_string(buf);
}

json_t *job_chronos_to_json(const json_t *record) {
        const json_t *job = json_object_get(record, "job"), *run = json_object_get(job, "run");
        const json_t *extras = json_object_get(record, "chronos"), *h = json_object_get(record, "history");
        const json_t *sched = json_object_get(json_object_get(record, "schedules"), "chronos");
        json_t *out = json_pack("{s:O,s:s,s:s,s:s,s:O,s:O,s:O,s:O,s:O,s:o,s:o,s:b}", "name", json_object_get(job, "id"),
                                "command", json_string_value(json_object_get(run, "cmd")) ?: "", "description",
                                json_string_value(json_object_get(job, "description")) ?: "", "owner",
                                json_string_value(json_object_get(extras, "owner")) ?: "", "cpus",
                                json_object_get(run, "cpus"), "mem", json_object_get(run, "mem"), "disk",
                                json_object_get(run, "disk"), "successCount", json_object_get(h, "successCount"),
                                "errorCount", json_object_get(h, "failureCount"), "lastSuccess",
                                iso_or_empty(json_object_get(h, "lastSuccessAt")), "lastError",
                                iso_or_empty(json_object_get(h, "lastFailureAt")), "shell",
                                json_object_get(run, "cmd") != NULL);
        json_object_set_new(out, "retries", json_integer(extras ? json_integer_value(json_object_get(extras, "retries")) : 0));
        json_object_set_new(out, "epsilon", json_string(json_string_value(json_object_get(extras, "epsilon")) ?: "PT60S"));
        json_object_set_new(out, "async", json_boolean(json_is_true(json_object_get(extras, "async"))));
        json_object_set_new(out, "disabled", json_boolean(sched && json_is_false(json_object_get(sched, "enabled"))));
        if (sched) {
                json_object_set(out, "schedule", json_object_get(sched, "iso8601"));
                const char *tz = json_string_value(json_object_get(sched, "timezone"));
                json_object_set_new(out, "scheduleTimeZone", json_string(tz && strcmp(tz, "UTC") ? tz : ""));
        }
        const json_t *deps = json_object_get(job, "dependencies");
        if (deps) {
                json_t *parents = json_array();
                size_t i;
                json_t *d;
                json_array_foreach(deps, i, d) json_array_append(parents, json_object_get(d, "id"));
                json_object_set_new(out, "parents", parents);
        }
        json_t *env = json_array();
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)json_object_get(run, "env"), k, v) {
                if (json_is_string(v))
                        json_array_append_new(env, json_pack("{s:s,s:O}", "name", k, "value", v));
        }
        json_object_set_new(out, "environmentVariables", env);
        json_t *uris = json_array();
        size_t i;
        json_t *a;
        json_array_foreach(json_object_get(run, "artifacts"), i, a) json_array_append(uris, json_object_get(a, "uri"));
        json_object_set_new(out, "uris", uris);
        return out;
}
