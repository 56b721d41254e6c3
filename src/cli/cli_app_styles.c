/* cli_app_styles.c — branches and blue-green for `strata app` (see cli_app_styles.h, docs/lb.md). */
#include "cli/cli_app_styles.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli_output.h"
#include "cli/cli_wait.h"
#include "common/alloc.h"
#include "common/strbuf.h"
#include "common/timeutil.h"

#define BLUE_GREEN_TIMEOUT_S 300.0
#define DRAIN_S 3 /* the balancer moves traffic within 1 s; connections finish */

static const char *label_of(const json_t *app, const char *key) {
        return json_string_value(json_object_get(json_object_get(app, "labels"), key));
}

static json_t *labels_of(json_t *def) {
        json_t *labels = json_object_get(def, "labels");
        if (!json_is_object(labels)) {
                labels = json_object();
                json_object_set_new(def, "labels", labels);
        }
        return labels;
}

/* Service ports auto-assigned and per-port balancer bindings dropped: a second copy of an app
 * beside the first must not claim its ports or its host names. */
static void release_ports(json_t *def, bool drop_vhosts) {
        size_t i;
        json_t *pd;
        json_array_foreach(json_object_get(def, "portDefinitions"), i, pd)
                if (json_is_object(pd))
                        json_object_set_new(pd, "port", json_integer(0));
        json_array_foreach(json_object_get(json_object_get(def, "container"), "portMappings"), i, pd)
                if (json_is_object(pd) && json_object_get(pd, "servicePort"))
                        json_object_set_new(pd, "servicePort", json_integer(0));
        json_t *labels = labels_of(def);
        const char *key;
        json_t *v;
        void *tmp;
        json_object_foreach_safe(labels, tmp, key, v) {
                size_t n = strlen(key);
                if (strncmp(key, "HAPROXY_", 8) == 0 && isdigit((unsigned char)key[8]) &&
                    ((n > 5 && strcmp(key + n - 5, "_PORT") == 0) ||
                     (drop_vhosts && n > 6 && strcmp(key + n - 6, "_VHOST") == 0)))
                        json_object_del(labels, key);
        }
}

int cli_app_branch(json_t *def, const char *branch, struct err *err) {
        if (!branch)
                branch = label_of(def, "STRATA_BRANCH");
        if (!branch)
                return 0;
        const char *raw = json_string_value(json_object_get(def, "id"));
        if (!raw)
                return err_set(err, -ERR_USAGE, "--branch: the definition has no id");
        _cleanup_free_ char *id = NULL;
        int r = cli_id_absolute(raw, &id, err);
        if (r < 0)
                return r;
        /* "feature/X_1" -> "feature-x-1": a branch name as an app id segment */
        _cleanup_free_ char *name = xstrdup(branch);
        for (char *p = name; *p; p++) {
                *p = (char)tolower((unsigned char)*p);
                if (!isalnum((unsigned char)*p))
                        *p = '-';
        }
        if (!*name || name[0] == '-' || name[strlen(name) - 1] == '-' || strlen(name) > 63)
                return err_set(err, -ERR_USAGE, "--branch '%s': a branch name needs letters or digits at both ends "
                               "(at most 63 characters)", branch);
        _cleanup_free_ char *suffix = xasprintf("-%s", name);
        size_t n = strlen(id), k = strlen(suffix);
        const char *of = label_of(def, "STRATA_BRANCH_OF");
        _cleanup_free_ char *base = of ? xstrdup(of) : (n > k && streq(id + n - k, suffix)) ? xstrndup(id, n - k)
                                                                                               : xstrdup(id);
        _cleanup_free_ char *branch_id = xasprintf("%s%s", base, suffix);
        json_object_set_new(def, "id", json_string(branch_id));
        json_t *labels = labels_of(def);
        json_object_set_new(labels, "STRATA_BRANCH", json_string(name));
        json_object_set_new(labels, "STRATA_BRANCH_OF", json_string(base));
        release_ports(def, true);
        return 0;
}

static int compare_ids(const void *a, const void *b) {
        return strcmp(json_string_value(json_object_get(*(json_t *const *)a, "id")) ?: "",
                      json_string_value(json_object_get(*(json_t *const *)b, "id")) ?: "");
}

int cli_app_list_branches(struct cli *c, struct err *err) {
        _cleanup_(http_reply_release) struct http_reply reply = { 0 };
        int r = cli_http_call(&c->http, "GET", "/v2/apps?label=STRATA_BRANCH", NULL, &reply, err);
        if (r < 0)
                return r;
        json_t *apps = json_object_get(reply.json, "apps");
        if (!json_is_array(apps))
                return err_set(err, -EBADMSG, "master sent no \"apps\" array");
        if (c->output == CLI_OUTPUT_JSON) {
                cli_print_json(c->out, apps);
                return 0;
        }
        size_t n = json_array_size(apps);
        json_t **sorted = xcalloc(n ? n : 1, sizeof(*sorted));
        for (size_t i = 0; i < n; i++)
                sorted[i] = json_array_get(apps, i);
        qsort(sorted, n, sizeof(*sorted), compare_ids);
        static const char *const headers[] = { "BRANCH OF", "BRANCH", "APP", "INSTANCES" };
        _cleanup_(cli_table_freep) struct cli_table *t = cli_table_new(4, headers);
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *inst = xasprintf(
                        "%lld/%lld", (long long)json_integer_value(json_object_get(sorted[i], "tasksRunning")),
                        (long long)json_integer_value(json_object_get(sorted[i], "instances")));
                cli_table_add(t, (const char *[]){ label_of(sorted[i], "STRATA_BRANCH_OF") ?: "-",
                                                   label_of(sorted[i], "STRATA_BRANCH"),
                                                   json_string_value(json_object_get(sorted[i], "id")), inst });
        }
        free(sorted);
        cli_table_print(t, c->out);
        return 0;
}

/* ---- blue-green ---- */

/* The app id, or NULL when it does not exist (404). */
static int get_app(struct cli *c, const char *id, json_t **ret, struct err *err) {
        _cleanup_free_ char *path = xasprintf("/v2/apps%s?embed=apps.tasks", id);
        _cleanup_(http_reply_release) struct http_reply reply = { 0 };
        *ret = NULL;
        int r = cli_http_call(&c->http, "GET", path, NULL, &reply, err);
        if (r < 0 && reply.status == 404) {
                err_release(err);
                return 0;
        }
        if (r < 0)
                return r;
        *ret = json_incref(json_object_get(reply.json, "app"));
        return 0;
}

/* All of the app's instances run and pass every health check. */
static bool healthy_at_full_size(const json_t *app) {
        json_int_t want = json_integer_value(json_object_get(app, "instances"));
        size_t checks = json_array_size(json_object_get(app, "healthChecks")), ok = 0, i;
        const json_t *t;
        json_array_foreach(json_object_get(app, "tasks"), i, t) {
                if (!streq(json_string_value(json_object_get(t, "state")) ?: "", "TASK_RUNNING"))
                        continue;
                const json_t *res = json_object_get(t, "healthCheckResults");
                bool alive = json_array_size(res) >= checks;
                size_t k;
                const json_t *h;
                json_array_foreach(res, k, h) alive &= json_is_true(json_object_get(h, "alive"));
                ok += alive;
        }
        return want > 0 && (json_int_t)ok >= want;
}

/* 1 while a deployment affects the app (its id stays locked), 0 when none does. */
static int deploying(struct cli *c, const char *id, struct err *err) {
        _cleanup_(http_reply_release) struct http_reply reply = { 0 };
        int r = cli_http_call(&c->http, "GET", "/v2/deployments", NULL, &reply, err);
        if (r < 0)
                return r;
        size_t i, k;
        const json_t *d, *app;
        json_array_foreach(reply.json, i, d)
                json_array_foreach(json_object_get(d, "affectedApps"), k, app)
                        if (streq(json_string_value(app) ?: "", id))
                                return 1;
        return 0;
}

/* Removes the app and waits until it is gone (its tasks stopped), so its id is free again. */
static int delete_app(struct cli *c, const char *id, struct err *err) {
        _cleanup_free_ char *path = xasprintf("/v2/apps%s?force=true", id);
        _cleanup_(http_reply_release) struct http_reply reply = { 0 };
        int r = cli_http_call(&c->http, "DELETE", path, NULL, &reply, err);
        if (r < 0)
                return r;
        for (int i = 0; i < 600; i++) {
                _cleanup_(json_decrefp) json_t *app = NULL;
                if ((r = get_app(c, id, &app, err)) < 0)
                        return r;
                if (!app && !(r = deploying(c, id, err)))
                        return 0;
                if (r < 0)
                        return r;
                usleep(100 * 1000);
        }
        return err_set(err, -ETIMEDOUT, "%s is still there 60 s after its removal", id);
}

/* Waits until app id has every instance healthy and no deployment running: 0, -ETIMEDOUT after
 * timeout_s (err not set), or another failure with err set (what names the step). */
static int wait_healthy(struct cli *c, const char *id, double timeout_s, const char *what, struct err *err) {
        int64_t deadline = time_now_ms() + (int64_t)(timeout_s * 1000);
        for (;;) {
                _cleanup_(json_decrefp) json_t *app = NULL;
                int r = get_app(c, id, &app, err);
                if (r < 0)
                        return r;
                if (!app)
                        return err_set(err, -ERR_NOT_FOUND, "%s was removed during the %s", id, what);
                if ((r = deploying(c, id, err)) < 0)
                        return r;
                if (!r && healthy_at_full_size(app))
                        return 0;
                if (time_now_ms() > deadline)
                        return -ETIMEDOUT;
                usleep(500 * 1000);
        }
}

const struct cli_flag cli_app_deploy_flags[] = {
        { "strategy", 0, "STYLE", "blue-green or canary" },
        { "weight", 0, "PERCENT", "canary: the share of requests for the new version (default 10)" },
        { "timeout", 0, "SECONDS", "give up on a new version not healthy by then (default 300)" },
        { NULL },
};

const struct cli_flag cli_app_promote_flags[] = {
        { "weight", 0, "PERCENT", "the canary's new share (default 100: it replaces the old version)" },
        { "timeout", 0, "SECONDS", "give up waiting for the canary to be healthy (default 300)" },
        { NULL },
};

static int parse_percent(const char *text, unsigned *ret, struct err *err) {
        char *end;
        long v = text ? strtol(text, &end, 10) : -1;
        if (!text || !*text || *end || v < 0 || v > 100)
                return err_set(err, -ERR_USAGE, "--weight: '%s' is not a percentage 0-100", text ? text : "");
        *ret = (unsigned)v;
        return 0;
}

/* Marathon's blue-green recipe with marathon-lb's zdd labels: the new version is a second app
 * /<id>-<colour> in the deployment group <id>; the balancer sends it nothing until all of its
 * instances are healthy, then everything (STRATA_DEPLOYMENT_STRATEGY=blue-green, docs/lb.md);
 * the old app is removed after a drain. Rerunning the command after an interruption resumes:
 * two colours present means the newer one is the deployment in progress. */
int cli_app_deploy(struct cli *c, const struct cli_args *a, struct err *err) {
        const char *strategy = cli_args_get(a, "strategy");
        if (!strategy || (!streq(strategy, "blue-green") && !streq(strategy, "canary")))
                return err_set(err, -ERR_USAGE, "--strategy: '%s' is not a deployment style (blue-green, canary)",
                               strategy ? strategy : "");
        bool canary = streq(strategy, "canary");
        unsigned share = 10;
        if (cli_args_get(a, "weight") && (!canary || parse_percent(cli_args_get(a, "weight"), &share, err) < 0))
                return canary ? -ERR_USAGE : err_set(err, -ERR_USAGE, "--weight is for --strategy canary");
        double timeout_s = BLUE_GREEN_TIMEOUT_S;
        if (cli_args_get(a, "timeout") && cli_parse_seconds(cli_args_get(a, "timeout"), &timeout_s, err) < 0)
                return -ERR_USAGE;
        _cleanup_(json_decrefp) json_t *def = NULL;
        int r = cli_read_json(a->pos[0], c->in, &def, err);
        if (r < 0)
                return r;
        const char *raw = json_is_object(def) ? json_string_value(json_object_get(def, "id")) : NULL;
        if (!raw)
                return err_set(err, -ERR_USAGE, "%s: an app definition with an id", a->pos[0]);
        _cleanup_free_ char *group = NULL;
        if ((r = cli_id_absolute(raw, &group, err)) < 0)
                return r;
        _cleanup_free_ char *blue = xasprintf("%s-blue", group), *green = xasprintf("%s-green", group);
        _cleanup_(json_decrefp) json_t *b = NULL, *g = NULL;
        if ((r = get_app(c, blue, &b, err)) < 0 || (r = get_app(c, green, &g, err)) < 0)
                return r;
        const char *old = NULL, *new = NULL;
        if (b && g) { /* interrupted: the newer one is in progress */
                bool green_newer = strcmp(label_of(g, "HAPROXY_DEPLOYMENT_STARTED_AT") ?: "",
                                          label_of(b, "HAPROXY_DEPLOYMENT_STARTED_AT") ?: "") > 0;
                old = green_newer ? blue : green;
                new = green_newer ? green : blue;
                fprintf(c->out, "Resuming the deployment of %s (%s serves meanwhile)\n", new, old);
        } else {
                old = b ? blue : g ? green : NULL;
                new = b ? green : blue;
                char now[25];
                time_format_ms(time_now_ms(), now);
                json_object_set_new(def, "id", json_string(new));
                json_t *labels = labels_of(def);
                json_object_set_new(labels, "HAPROXY_DEPLOYMENT_GROUP", json_string(group + 1));
                json_object_set_new(labels, "HAPROXY_DEPLOYMENT_COLOUR", json_string(b ? "green" : "blue"));
                json_object_set_new(labels, "HAPROXY_DEPLOYMENT_STARTED_AT", json_string(now));
                json_object_set_new(labels, "STRATA_DEPLOYMENT_STRATEGY", json_string(strategy));
                if (canary) {
                        char pct[8];
                        snprintf(pct, sizeof(pct), "%u", share);
                        json_object_set_new(labels, "STRATA_LB_SHARE", json_string(pct));
                }
                if (old)
                        release_ports(def, false); /* the old colour holds the service ports */
                _cleanup_(http_reply_release) struct http_reply reply = { 0 };
                if ((r = cli_http_call(&c->http, "POST", "/v2/apps", def, &reply, err)) < 0)
                        return err_wrap(err, "cannot start %s", new);
                fprintf(c->out, "Started %s beside %s\n", new, old ? old : "nothing");
        }
        r = wait_healthy(c, new, timeout_s, "deployment", err);
        if (r == -ETIMEDOUT) {
                if (delete_app(c, new, err) < 0)
                        return err_wrap(err, "%s is not healthy after %.0f s, and removing it failed", new, timeout_s);
                return err_set(err, -ERR_DEPLOYMENT_FAILED,
                               "%s is not healthy at full size after %.0f s: removed it; %s keeps serving", new,
                               timeout_s, old ? old : "nothing");
        }
        if (r < 0)
                return r;
        if (canary && old) {
                fprintf(c->out, "%s is healthy at full size: the balancers send it %u %% of the requests "
                                "(strata app promote|abort %s)\n", new, share, group);
                return 0;
        }
        fprintf(c->out, "%s is healthy at full size: the balancers send it all traffic\n", new);
        if (old) {
                sleep(DRAIN_S);
                if ((r = delete_app(c, old, err)) < 0)
                        return err_wrap(err, "cannot remove %s", old);
                fprintf(c->out, "Removed %s\n", old);
        }
        return 0;
}

/* The two colours of group: *old and *new (the newer by HAPROXY_DEPLOYMENT_STARTED_AT). */
static int canary_pair(struct cli *c, const char *raw, char **ret_group, json_t **ret_old, json_t **ret_new,
                       struct err *err) {
        _cleanup_free_ char *group = NULL;
        int r = cli_id_absolute(raw, &group, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *blue = xasprintf("%s-blue", group), *green = xasprintf("%s-green", group);
        json_t *b = NULL, *g = NULL;
        if ((r = get_app(c, blue, &b, err)) < 0 || (r = get_app(c, green, &g, err)) < 0) {
                json_decref(b);
                return r;
        }
        if (!b || !g) {
                json_decref(b);
                json_decref(g);
                return err_set(err, -ERR_NOT_FOUND, "%s has no canary: %s and %s are not both deployed", group, blue,
                               green);
        }
        bool green_newer = strcmp(label_of(g, "HAPROXY_DEPLOYMENT_STARTED_AT") ?: "",
                                  label_of(b, "HAPROXY_DEPLOYMENT_STARTED_AT") ?: "") > 0;
        *ret_old = green_newer ? b : g;
        *ret_new = green_newer ? g : b;
        *ret_group = TAKE_PTR(group);
        return 0;
}

/* `app promote ID [--weight P]`: the canary's share becomes P (a label change: its tasks roll to
 * the new version); at 100 the old version is removed once the canary is healthy again. */
int cli_app_promote(struct cli *c, const struct cli_args *a, struct err *err) {
        unsigned share = 100;
        double timeout_s = BLUE_GREEN_TIMEOUT_S;
        if (cli_args_get(a, "weight") && parse_percent(cli_args_get(a, "weight"), &share, err) < 0)
                return -ERR_USAGE;
        if (cli_args_get(a, "timeout") && cli_parse_seconds(cli_args_get(a, "timeout"), &timeout_s, err) < 0)
                return -ERR_USAGE;
        _cleanup_free_ char *group = NULL;
        _cleanup_(json_decrefp) json_t *old = NULL, *new = NULL;
        int r = canary_pair(c, a->pos[0], &group, &old, &new, err);
        if (r < 0)
                return r;
        const char *new_id = json_string_value(json_object_get(new, "id"));
        const char *old_id = json_string_value(json_object_get(old, "id"));
        _cleanup_(json_decrefp) json_t *labels = json_deep_copy(json_object_get(new, "labels"));
        char pct[8];
        snprintf(pct, sizeof(pct), "%u", share);
        json_object_set_new(labels, "STRATA_LB_SHARE", json_string(pct));
        _cleanup_(json_decrefp) json_t *body = json_pack("{s:O}", "labels", labels);
        _cleanup_free_ char *path = xasprintf("/v2/apps%s?force=true", new_id);
        _cleanup_(http_reply_release) struct http_reply reply = { 0 };
        if ((r = cli_http_call(&c->http, "PATCH", path, body, &reply, err)) < 0)
                return err_wrap(err, "cannot change the share of %s", new_id);
        r = wait_healthy(c, new_id, timeout_s, "promotion", err);
        if (r == -ETIMEDOUT)
                return err_set(err, -ERR_DEPLOYMENT_FAILED,
                               "%s is not healthy after %.0f s at share %u %%: strata app abort %s returns every "
                               "request to %s",
                               new_id, timeout_s, share, group, old_id);
        if (r < 0)
                return r;
        if (share < 100) {
                fprintf(c->out, "%s now gets %u %% of the requests\n", new_id, share);
                return 0;
        }
        sleep(DRAIN_S);
        if ((r = delete_app(c, old_id, err)) < 0)
                return err_wrap(err, "cannot remove %s", old_id);
        fprintf(c->out, "%s gets every request; removed %s\n", new_id, old_id);
        return 0;
}

/* `app abort ID`: removes the canary; the old version takes every request again. */
int cli_app_abort(struct cli *c, const struct cli_args *a, struct err *err) {
        _cleanup_free_ char *group = NULL;
        _cleanup_(json_decrefp) json_t *old = NULL, *new = NULL;
        int r = canary_pair(c, a->pos[0], &group, &old, &new, err);
        if (r < 0)
                return r;
        const char *new_id = json_string_value(json_object_get(new, "id"));
        if ((r = delete_app(c, new_id, err)) < 0)
                return err_wrap(err, "cannot remove %s", new_id);
        fprintf(c->out, "Removed %s: %s takes every request\n", new_id, json_string_value(json_object_get(old, "id")));
        return 0;
}
