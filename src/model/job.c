/* job.c — Metronome job and schedule documents: semantic rules and canonical forms (job.h). */
#include "model/job.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/alloc.h"
#include "model/cron.h"
#include "model/iso8601.h"
#include "model/job_internal.h"

/* "name(.name)*", name = [a-z0-9]+(-+[a-z0-9]+)*. */
bool job_id_valid(const char *id) {
        if (!id || !*id || strlen(id) > JOB_ID_MAX)
                return false;
        const char *p = id;
        for (;;) {
                if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p))
                        return false;
                while (islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '-') {
                        if (*p == '-' && (p[1] == 0 || p[1] == '.'))
                                return false; /* a name may not end with '-' */
                        p++;
                }
                if (*p == 0)
                        return true;
                if (*p != '.')
                        return false;
                p++;
        }
}

bool job_schedule_id_valid(const char *id) {
        size_t n = id ? strlen(id) : 0;
        if (n < 2 || n > JOB_ID_MAX || id[0] == '-' || id[n - 1] == '-')
                return false;
        for (size_t i = 0; i < n; i++)
                if (!islower((unsigned char)id[i]) && !isdigit((unsigned char)id[i]) && id[i] != '-')
                        return false;
        return true;
}

static json_t *copy_or(const json_t *v, json_t *dflt) {
        if (v && !json_is_null(v)) {
                json_decref(dflt);
                return json_deep_copy(v);
        }
        return dflt;
}

static void set_if(json_t *o, const char *key, const json_t *v) {
        if (v && !json_is_null(v))
                json_object_set_new(o, key, json_deep_copy(v));
}

/* Semantic rules of the run spec; the schema has passed. */
static void check_run(const json_t *run, struct verrs *v) {
        const json_t *docker = json_object_get(run, "docker"), *ucr = json_object_get(run, "ucr");
        if (!json_object_get(run, "cmd") && !docker && !ucr)
                verr(v, "/run", "Cmd, Docker or UCR image must be specified");
        if (docker && ucr)
                verr(v, "/run", "Either docker or ucr may be specified, not both");
        if (docker && json_integer_value(json_object_get(run, "gpus")) > 0)
                verr(v, "/run/gpus", "GPUs are not supported with Docker");
        const json_t *secrets = json_object_get(run, "secrets");
        json_t *used = json_object();
        const char *key;
        json_t *val;
        json_object_foreach((json_t *)json_object_get(run, "env"), key, val) {
                const char *ref = json_string_value(json_object_get(val, "secret"));
                if (!json_is_object(val))
                        continue;
                _cleanup_free_ char *p = xasprintf("/run/env/%s", key);
                if (!ref)
                        verr(v, p, "Secret reference must name a secret");
                else if (!json_object_get(secrets, ref))
                        verr(v, p, "references an undefined secret named '%s'", ref);
                else
                        json_object_set_new(used, ref, json_true());
        }
        size_t i;
        json_t *vol;
        bool has_container = docker || ucr;
        json_array_foreach(json_object_get(run, "volumes"), i, vol) {
                _cleanup_free_ char *p = xasprintf("/run/volumes/%zu", i);
                const char *secret = json_string_value(json_object_get(vol, "secret"));
                bool host = json_object_get(vol, "hostPath") || json_object_get(vol, "mode");
                if (secret && host)
                        verr(v, p, "A volume is either a host volume (hostPath, mode) or a secret volume (secret)");
                else if (secret) {
                        if (!ucr)
                                verr(v, p, "Secret volumes are only supported with UCR");
                        if (!json_object_get(secrets, secret))
                                verr(v, p, "references an undefined secret named '%s'", secret);
                        else
                                json_object_set_new(used, secret, json_true());
                } else if (!json_object_get(vol, "hostPath") || !json_object_get(vol, "mode"))
                        verr(v, p, "A host volume needs containerPath, hostPath and mode");
        }
        json_object_foreach((json_t *)secrets, key, val) {
                if (!json_object_get(used, key)) {
                        _cleanup_free_ char *p = xasprintf("/run/secrets/%s", key);
                        verr(v, p, "Secret '%s' is not referenced by an environment variable or a volume", key);
                }
        }
        json_decref(used);
        bool host_net = false, container_net = false;
        json_t *net;
        json_array_foreach(json_object_get(run, "networks"), i, net) {
                _cleanup_free_ char *p = xasprintf("/run/networks/%zu", i);
                const char *mode = json_string_value(json_object_get(net, "mode"));
                if (streq(mode, "host")) {
                        host_net = true;
                        if (json_object_get(net, "name"))
                                verr(v, p, "Network name is only allowed for mode container");
                } else {
                        container_net = true;
                        if (!has_container)
                                verr(v, p, "Container networks need a docker or ucr container");
                        if (streq(mode, "container") && !json_object_get(net, "name"))
                                verr(v, p, "Network name is required for mode container");
                        if (streq(mode, "container/bridge") && json_object_get(net, "name"))
                                verr(v, p, "Network name is only allowed for mode container");
                }
        }
        if (host_net && container_net)
                verr(v, "/run/networks", "host networking may not be combined with container networks");
        const json_t *restart = json_object_get(run, "restart");
        const json_t *ads = json_object_get(restart, "activeDeadlineSeconds");
        if (ads && json_integer_value(ads) < 0)
                verr(v, "/run/restart/activeDeadlineSeconds", "must be positive");
        const json_t *grace = json_object_get(run, "taskKillGracePeriodSeconds");
        if (grace && json_number_value(grace) < 0)
                verr(v, "/run/taskKillGracePeriodSeconds", "must be positive");
}

static json_t *canonical_run(const json_t *run) {
        json_t *c = json_object();
        json_object_set_new(c, "cpus", json_deep_copy(json_object_get(run, "cpus")));
        json_object_set_new(c, "mem", json_deep_copy(json_object_get(run, "mem")));
        json_object_set_new(c, "disk", json_deep_copy(json_object_get(run, "disk")));
        json_object_set_new(c, "gpus", copy_or(json_object_get(run, "gpus"), json_integer(0)));
        set_if(c, "cmd", json_object_get(run, "cmd"));
        set_if(c, "args", json_object_get(run, "args"));
        set_if(c, "user", json_object_get(run, "user"));
        json_object_set_new(c, "env", copy_or(json_object_get(run, "env"), json_object()));
        json_t *constraints = json_array();
        size_t i;
        json_t *el;
        json_array_foreach(json_object_get(json_object_get(run, "placement"), "constraints"), i, el) {
                json_t *x = json_deep_copy(el);
                if (streq(json_string_value(json_object_get(x, "operator")), "EQ"))
                        json_object_set_new(x, "operator", json_string("IS")); /* api.md: EQ is read as IS */
                json_array_append_new(constraints, x);
        }
        json_object_set_new(c, "placement", json_pack("{s:o}", "constraints", constraints));
        json_t *artifacts = json_array();
        json_array_foreach(json_object_get(run, "artifacts"), i, el) {
                const json_t *ex = json_object_get(el, "extract"), *exe = json_object_get(el, "executable"),
                             *cache = json_object_get(el, "cache");
                json_array_append_new(artifacts, json_pack("{s:O,s:b,s:b,s:b}", "uri", json_object_get(el, "uri"),
                                                           "extract", ex ? json_is_true(ex) : 1, "executable",
                                                           exe ? json_is_true(exe) : 0, "cache",
                                                           cache ? json_is_true(cache) : 0));
        }
        json_object_set_new(c, "artifacts", artifacts);
        json_object_set_new(c, "maxLaunchDelay", copy_or(json_object_get(run, "maxLaunchDelay"), json_integer(3600)));
        const json_t *docker = json_object_get(run, "docker");
        if (docker) {
                json_t *d = json_pack("{s:O,s:b,s:b}", "image", json_object_get(docker, "image"), "forcePullImage",
                                      json_is_true(json_object_get(docker, "forcePullImage")), "privileged",
                                      json_is_true(json_object_get(docker, "privileged")));
                json_object_set_new(d, "parameters", copy_or(json_object_get(docker, "parameters"), json_array()));
                json_object_set_new(c, "docker", d);
        }
        const json_t *ucr = json_object_get(run, "ucr");
        if (ucr) {
                const json_t *img = json_object_get(ucr, "image");
                const json_t *kind = json_object_get(img, "kind");
                json_object_set_new(c, "ucr",
                                    json_pack("{s:{s:O,s:s,s:b},s:b}", "image", "id", json_object_get(img, "id"), "kind",
                                              kind ? json_string_value(kind) : "docker", "forcePull",
                                              json_is_true(json_object_get(img, "forcePull")), "privileged",
                                              json_is_true(json_object_get(ucr, "privileged"))));
        }
        json_object_set_new(c, "volumes", copy_or(json_object_get(run, "volumes"), json_array()));
        json_object_set_new(c, "restart", copy_or(json_object_get(run, "restart"), json_pack("{s:s}", "policy", "NEVER")));
        set_if(c, "taskKillGracePeriodSeconds", json_object_get(run, "taskKillGracePeriodSeconds"));
        json_object_set_new(c, "secrets", copy_or(json_object_get(run, "secrets"), json_object()));
        json_object_set_new(c, "networks", copy_or(json_object_get(run, "networks"), json_array()));
        return c;
}

/* Semantic rules of a schedule (schema passed) and its canonical form; path is its prefix. */
static json_t *check_schedule(const json_t *s, const char *path, struct verrs *v) {
        const char *cron = json_string_value(json_object_get(s, "cron"));
        const char *tz = json_string_value(json_object_get(s, "timezone"));
        struct cron c;
        struct err e = { 0 };
        _cleanup_free_ char *pc = xasprintf("%s/cron", path), *pt = xasprintf("%s/timezone", path),
                            *pd = xasprintf("%s/startingDeadlineSeconds", path);
        if (cron && cron_parse(cron, &c, &e) < 0)
                verr(v, pc, "Cron is not valid: %s", err_msg(&e));
        err_release(&e);
        if (tz && !cron_tz_valid(tz))
                verr(v, pt, "No time zone found with this id");
        const json_t *deadline = json_object_get(s, "startingDeadlineSeconds");
        if (deadline && json_integer_value(deadline) < 60)
                verr(v, pd, "startingDeadlineSeconds must be at least 60 seconds");
        const json_t *policy = json_object_get(s, "concurrencyPolicy"), *enabled = json_object_get(s, "enabled");
        return json_pack("{s:O,s:s,s:s,s:I,s:s,s:b}", "id", json_object_get(s, "id"), "cron", cron ? cron : "",
                         "timezone", tz ? tz : "UTC", "startingDeadlineSeconds",
                         deadline ? json_integer_value(deadline) : (json_int_t)900, "concurrencyPolicy",
                         policy ? json_string_value(policy) : "ALLOW", "enabled", enabled ? json_is_true(enabled) : 1);
}

int job_from_json(const json_t *body, const char *path_id, json_t **ret_job, json_t **ret_schedules, struct err *err) {
        struct verrs v;
        verrs_init(&v);
        _cleanup_(json_decrefp) json_t *doc = NULL;
        if (path_id && json_is_object(body)) {
                /* PUT: the id from the path wins. */
                doc = json_deep_copy(body);
                json_object_set_new(doc, "id", json_string(path_id));
                body = doc;
        }
        job_schema_validate(body, JOB_SCHEMA_JOB, &v);
        if (verrs_any(&v)) {
                int r = verrs_fail(&v, err, -ERR_INVALID, "Object is not valid");
                verrs_release(&v);
                return r;
        }
        const json_t *run = json_object_get(body, "run");
        check_run(run, &v);
        const json_t *schedules = json_object_get(body, "schedules");
        const json_t *deps = json_object_get(body, "dependencies");
        json_t *canon_schedules = json_array();
        if (json_array_size(schedules) > JOB_MAX_SCHEDULES)
                verr(&v, "/schedules", "Only one schedule supported at the moment");
        if (json_array_size(schedules) > 0 && json_array_size(deps) > 0)
                verr(&v, "/", "A job may not have both dependencies and schedules");
        size_t i;
        json_t *el;
        json_array_foreach(schedules, i, el) {
                _cleanup_free_ char *p = xasprintf("/schedules/%zu", i);
                json_array_append_new(canon_schedules, check_schedule(el, p, &v));
        }
        json_t *seen = json_object();
        json_array_foreach(deps, i, el) {
                const char *id = json_string_value(json_object_get(el, "id"));
                _cleanup_free_ char *p = xasprintf("/dependencies/%zu", i);
                if (!id)
                        verr(&v, p, "object has missing required properties ([\"id\"])");
                else if (json_object_get(seen, id))
                        verr(&v, p, "Dependency '%s' is listed twice", id);
                else if (streq(id, json_string_value(json_object_get(body, "id"))))
                        verr(&v, p, "A job may not depend on itself");
                else
                        json_object_set_new(seen, id, json_true());
        }
        json_decref(seen);
        if (verrs_any(&v)) {
                json_decref(canon_schedules);
                int r = verrs_fail(&v, err, -ERR_INVALID, "Object is not valid");
                verrs_release(&v);
                return r;
        }
        verrs_release(&v);
        json_t *job = json_pack("{s:O}", "id", json_object_get(body, "id"));
        set_if(job, "description", json_object_get(body, "description"));
        json_object_set_new(job, "labels", copy_or(json_object_get(body, "labels"), json_object()));
        if (json_array_size(deps) > 0) {
                json_t *d = json_array();
                json_array_foreach(deps, i, el) json_array_append_new(d, json_pack("{s:O}", "id", json_object_get(el, "id")));
                json_object_set_new(job, "dependencies", d);
        }
        json_object_set_new(job, "run", canonical_run(run));
        *ret_job = job;
        if (ret_schedules)
                *ret_schedules = canon_schedules;
        else
                json_decref(canon_schedules);
        return 0;
}

int job_schedule_from_json(const json_t *body, json_t **ret, struct err *err) {
        struct verrs v;
        verrs_init(&v);
        job_schema_validate(body, JOB_SCHEMA_SCHEDULE, &v);
        json_t *s = NULL;
        if (!verrs_any(&v))
                s = check_schedule(body, "", &v);
        if (verrs_any(&v)) {
                json_decref(s);
                int r = verrs_fail(&v, err, -ERR_INVALID, "Object is not valid");
                verrs_release(&v);
                return r;
        }
        verrs_release(&v);
        *ret = s;
        return 0;
}

void job_format_time(int64_t ms, char buf[static 29]) {
        time_t s = (time_t)(ms / 1000 - (ms % 1000 < 0));
        int frac = (int)(ms - (int64_t)s * 1000);
        struct tm tm;
        gmtime_r(&s, &tm);
        char head[20];
        strftime(head, sizeof head, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(buf, 29, "%.19s.%03u+0000", head, (unsigned)frac % 1000u);
}

int job_schedule_next(const json_t *schedule, int64_t after_ms, int64_t *ret_ms) {
        const char *iso = json_string_value(json_object_get(schedule, "iso8601"));
        if (iso) {
                const char *tz = json_string_value(json_object_get(schedule, "timezone"));
                struct iso8601_schedule s;
                int64_t at, k;
                if (iso8601_schedule_parse(iso, tz, &s, NULL) < 0)
                        return -EINVAL;
                int r = iso8601_next(&s, after_ms + 1, &at, &k);
                if (r < 0)
                        return r;
                *ret_ms = at;
                return 0;
        }
        struct cron c;
        if (cron_parse(json_string_value(json_object_get(schedule, "cron")), &c, NULL) < 0)
                return -EINVAL;
        int64_t after_s = after_ms / 1000 - (after_ms % 1000 < 0), next;
        int r = cron_next(&c, json_string_value(json_object_get(schedule, "timezone")), after_s, &next, NULL);
        if (r < 0)
                return r;
        *ret_ms = next * 1000;
        return 0;
}
