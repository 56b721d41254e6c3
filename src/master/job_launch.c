/* job_launch.c — job runs on the app launch path (job_launch.h). The only places this file
 * touches the launcher are placement_plan/placement_forget and agent_link_launch_text/kill. */
#include "master/job_launch.h"

#include <string.h>

#include "common/alloc.h"
#include "common/timeutil.h"
#include "common/util.h"
#include "master/master_internal.h"
#include "master/placement.h"
#include "model/app.h"

/* Metronome's run spec → Marathon's app fields (api.md §5.2 ↔ §2). Secrets are not carried:
 * env values that name a secret are dropped (Strata has no secret store yet). */
static json_t *app_body(const json_t *job) {
        const json_t *run = json_object_get(job, "run");
        const char *id = json_string_value(json_object_get(job, "id"));
        _cleanup_free_ char *app_id = xasprintf("/metronome/%s", id);
        json_t *app = json_pack("{s:s,s:i,s:O,s:O,s:O,s:O,s:[],s:O}", "id", app_id, "instances", 1, "cpus",
                                json_object_get(run, "cpus"), "mem", json_object_get(run, "mem"), "disk",
                                json_object_get(run, "disk"), "gpus", json_object_get(run, "gpus"), "portDefinitions",
                                "labels", json_object_get(job, "labels"));
        const char *keys[] = { "cmd", "args", "user" };
        for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                const json_t *v = json_object_get(run, keys[i]);
                if (v)
                        json_object_set(app, keys[i], (json_t *)v);
        }
        json_t *env = json_object();
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)json_object_get(run, "env"), k, v) {
                if (json_is_string(v))
                        json_object_set(env, k, v);
        }
        json_object_set_new(app, "env", env);
        json_t *fetch = json_array();
        size_t i;
        json_t *a;
        json_array_foreach(json_object_get(run, "artifacts"), i, a) json_array_append(fetch, a);
        json_object_set_new(app, "fetch", fetch);
        json_t *constraints = json_array();
        json_array_foreach(json_object_get(json_object_get(run, "placement"), "constraints"), i, a) {
                json_t *c = json_pack("[O,O]", json_object_get(a, "attribute"), json_object_get(a, "operator"));
                if (json_object_get(a, "value"))
                        json_array_append(c, json_object_get(a, "value"));
                json_array_append_new(constraints, c);
        }
        json_object_set_new(app, "constraints", constraints);
        if (json_object_get(run, "maxLaunchDelay"))
                json_object_set(app, "maxLaunchDelaySeconds", json_object_get(run, "maxLaunchDelay"));
        if (json_object_get(run, "taskKillGracePeriodSeconds"))
                json_object_set(app, "taskKillGracePeriodSeconds", json_object_get(run, "taskKillGracePeriodSeconds"));
        const json_t *docker = json_object_get(run, "docker"), *ucr = json_object_get(run, "ucr");
        json_t *volumes = json_array();
        json_array_foreach(json_object_get(run, "volumes"), i, a) {
                if (json_object_get(a, "hostPath"))
                        json_array_append(volumes, a);
        }
        if (docker) {
                json_object_set_new(app, "container",
                                    json_pack("{s:s,s:{s:O,s:O,s:O,s:O},s:o}", "type", "DOCKER", "docker", "image",
                                              json_object_get(docker, "image"), "forcePullImage",
                                              json_object_get(docker, "forcePullImage"), "privileged",
                                              json_object_get(docker, "privileged"), "parameters",
                                              json_object_get(docker, "parameters"), "volumes", volumes));
        } else if (ucr) {
                const json_t *img = json_object_get(ucr, "image");
                json_object_set_new(app, "container",
                                    json_pack("{s:s,s:{s:O,s:O},s:o}", "type", "MESOS", "docker", "image",
                                              json_object_get(img, "id"), "forcePullImage", json_object_get(img, "forcePull"),
                                              "volumes", volumes));
        } else {
                json_decref(volumes);
        }
        if (json_array_size(json_object_get(run, "networks")) > 0)
                json_object_set(app, "networks", json_object_get(run, "networks"));
        return app;
}

int job_launch_app(const json_t *job, int64_t created_ms, json_t **ret, struct err *err) {
        _cleanup_(json_decrefp) json_t *body = app_body(job);
        json_t *app = NULL;
        int r = app_normalize(body, "/", &app, err);
        if (r < 0)
                return err_wrap(err, "job '%s' cannot run as a task", json_string_value(json_object_get(job, "id")));
        char version[25];
        time_format_ms(created_ms, version);
        json_object_set_new(app, "version", json_string(version));
        *ret = app;
        return 0;
}

char *job_launch_place(struct master *m, const json_t *app, char **ret_reservation, json_t **ret_reasons) {
        _cleanup_(json_decrefp) json_t *placements = json_array();
        json_t *reasons = json_object();
        if (placement_plan(m->core.placement, app, 1, placements, reasons) == 0) {
                if (json_object_size(reasons) == 0)
                        json_object_set_new(reasons, "Deferred", json_integer(1)); /* the turn's budget */
                *ret_reasons = reasons;
                return NULL;
        }
        json_decref(reasons);
        const json_t *pl = json_array_get(placements, 0);
        *ret_reservation = xstrdup(json_string_value(json_object_get(pl, "id")));
        return xstrdup(json_string_value(json_object_get(pl, "agentId")));
}

void job_launch_release(struct master *m, const char *reservation) {
        if (reservation && m->core.placement)
                placement_forget(m->core.placement, reservation);
}

bool job_launch_send(struct master *m, const char *agent_id, const json_t *app, const char *task_id) {
        const char *id = json_string_value(json_object_get(app, "id"));
        const char *version = json_string_value(json_object_get(app, "version"));
        _cleanup_free_ char *key = xasprintf("%s@%s", id, version);
        json_t *apps = json_pack("{s:O}", key, (json_t *)app);
        _cleanup_free_ char *text = json_compact(apps);
        json_decref(apps);
        json_t *tasks = json_pack("[{s:s,s:s,s:[]}]", "taskId", task_id, "app", key, "ports");
        bool ok = agent_link_launch_text(&m->core.agents, agent_id, text, tasks);
        json_decref(tasks);
        return ok;
}

bool job_launch_kill(struct master *m, const char *agent_id, const char *task_id, unsigned grace_s) {
        json_t *ids = json_pack("[s]", task_id);
        bool ok = agent_link_kill(&m->core.agents, agent_id, ids, grace_s);
        json_decref(ids);
        return ok;
}
