/* cli_app.c — noun `app`: Marathon apps over /v2/apps (add, list, show, update, remove, versions). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_app_styles.h"
#include "cli/cli_internal.h"
#include "cli/cli_output.h"
#include "cli/cli_wait.h"
#include "cli/cli_why.h"
#include "common/alloc.h"
#include "common/strbuf.h"

/* The CMD/IMAGE column of `app list` is cut to this many characters. */
#define LIST_CMD_WIDTH 40
/* …and STATUS ("Waiting: InsufficientMemory, InsufficientCpus") to this many. */
#define LIST_STATUS_WIDTH 48

/* "/v2/apps/<id>[/<sub>][?force=true]" for a user-typed id ("web" means "/web"). */
static int app_path(const char *raw_id, const char *sub, bool force, char **ret_path, char **ret_id,
                    struct err *err) {
        _cleanup_free_ char *id = NULL;
        int r = cli_id_absolute(raw_id, &id, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *escaped = cli_url_escape(id, true);
        *ret_path = xasprintf("/v2/apps%s%s%s%s", escaped, sub ? "/" : "", sub ? sub : "",
                              force ? "?force=true" : "");
        if (ret_id)
                *ret_id = TAKE_PTR(id);
        return 0;
}

/* --- add ------------------------------------------------------------------------------------- */

static int app_add(struct cli *c, const struct cli_args *a, struct err *err) {
        _cleanup_(json_decrefp) json_t *def = NULL;
        _cleanup_free_ char *id = NULL, *done = NULL;
        int r;

        r = cli_read_json(a->pos[0], c->in, &def, err);
        if (r < 0)
                return r;
        if (!json_is_object(def))
                return err_set(err, -ERR_BAD_JSON, "%s: an app definition is a JSON object",
                               streq(a->pos[0], "-") ? "standard input" : a->pos[0]);
        if (cli_args_get(a, "strict") && cli_app_check_strict(def, err) < 0)
                return err_wrap(err, "%s", streq(a->pos[0], "-") ? "standard input" : a->pos[0]);
        if ((r = cli_app_branch(def, cli_args_get(a, "branch"), err)) < 0) /* --branch: cli_app_styles.c */
                return r;
        const char *raw_id = str_field(def, "id");
        if (raw_id && cli_id_absolute(raw_id, &id, err) < 0)
                return err_wrap(err, "%s", streq(a->pos[0], "-") ? "standard input" : a->pos[0]);

        done = xasprintf("Created app %s", id ? id : "?");
        return cli_change_submit(c, a,
                                 &(struct cli_change){ .method = "POST", .path = "/v2/apps", .body = def,
                                                       .done = done, .app_id = id },
                                 err);
}

/* --- list ------------------------------------------------------------------------------------ */

static int compare_ids(const void *a, const void *b) {
        const char *x = str_field(*(const json_t *const *)a, "id");
        const char *y = str_field(*(const json_t *const *)b, "id");
        return strcmp(x ? x : "", y ? y : "");
}

/* What an app runs, for one cell: its image, else its cmd, else its args. */
static char *app_runs(const json_t *app) {
        const json_t *container = json_object_get(app, "container");
        const char *image = str_field(json_object_get(container, "docker"), "image");
        if (!image) /* Marathon 1.5+ MESOS containers with an image: container.docker.image too, or appc */
                image = str_field(json_object_get(container, "appc"), "image");
        if (image)
                return xstrdup(image);
        const char *cmd = str_field(app, "cmd");
        if (cmd)
                return xstrdup(cmd);
        const json_t *args = json_object_get(app, "args");
        if (json_array_size(args) == 0)
                return NULL;
        struct strbuf sb = { 0 };
        size_t i;
        const json_t *arg;
        json_array_foreach(args, i, arg)
                strbuf_printf(&sb, "%s%s", i ? " " : "",
                              json_string_value(arg) ? json_string_value(arg) : "?");
        return strbuf_steal(&sb);
}

static char *join_map(const json_t *obj);
static char *constraints_cell(const json_t *app);

/* "running/instances" when the master reports counts, else the instances alone. */
static char *instances_cell(const json_t *app) {
        const json_t *running = json_object_get(app, "tasksRunning");
        _cleanup_free_ char *want = cli_json_cell(json_object_get(app, "instances"));
        if (!json_is_integer(running))
                return TAKE_PTR(want);
        return xasprintf("%" JSON_INTEGER_FORMAT "/%s", json_integer_value(running), want);
}

struct cli_table *cli_app_list_table(const json_t *apps, const json_t *queue, bool wide) {
        static const char *const headers[] = {
                "ID", "STATUS", "INSTANCES", "CPUS", "MEM", "DISK", "CMD/IMAGE", "VERSION", "LABELS", "CONSTRAINTS",
        };
        struct cli_table *t = cli_table_new(wide ? ELEMENTSOF(headers) : ELEMENTSOF(headers) - 2, headers);
        size_t n = json_array_size(apps);
        _cleanup_free_ const json_t **sorted = xcalloc(n ? n : 1, sizeof *sorted);

        for (size_t i = 0; i < n; i++)
                sorted[i] = json_array_get(apps, i);
        qsort(sorted, n, sizeof *sorted, compare_ids);
        for (size_t i = 0; i < n; i++) {
                const json_t *app = sorted[i];
                _cleanup_free_ char *instances = instances_cell(app);
                _cleanup_free_ char *cpus = cli_json_cell(json_object_get(app, "cpus"));
                _cleanup_free_ char *mem = cli_json_cell(json_object_get(app, "mem"));
                _cleanup_free_ char *disk = cli_json_cell(json_object_get(app, "disk"));
                _cleanup_free_ char *runs = app_runs(app);
                _cleanup_free_ char *runs_cut = runs ? cli_truncate(runs, wide ? SIZE_MAX : LIST_CMD_WIDTH) : NULL;
                _cleanup_free_ char *status = cli_app_status(app, cli_queue_entry(queue, str_field(app, "id")));
                _cleanup_free_ char *status_cut = cli_truncate(status, wide ? SIZE_MAX : LIST_STATUS_WIDTH);
                _cleanup_free_ char *labels = wide ? join_map(json_object_get(app, "labels")) : NULL;
                _cleanup_free_ char *constraints = wide ? constraints_cell(app) : NULL;
                cli_table_add(t, (const char *[]){ str_field(app, "id"), status_cut, instances, cpus, mem, disk,
                                                   runs_cut, str_field(app, "version"), labels, constraints });
        }
        return t;
}

static void append_query(struct strbuf *sb, const char *name, const char *value) {
        if (!value)
                return;
        _cleanup_free_ char *escaped = cli_url_escape(value, false);
        strbuf_printf(sb, "%c%s=%s", strchr(sb->buf, '?') ? '&' : '?', name, escaped);
}

static int app_list(struct cli *c, const struct cli_args *a, struct err *err) {
        if (cli_args_get(a, "branch")) /* cli_app_styles.c */
                return cli_app_list_branches(c, err);
        _cleanup_(strbuf_release) struct strbuf path = { 0 };
        /* The counts, deployments and last failures are what STATUS is made of. */
        strbuf_puts(&path, "/v2/apps?embed=apps.counts&embed=apps.deployments&embed=apps.lastTaskFailure");
        append_query(&path, "id", cli_args_get(a, "id"));
        append_query(&path, "cmd", cli_args_get(a, "cmd"));
        append_query(&path, "label", cli_args_get(a, "label"));
        return cli_app_list_with_status(c, path.buf, err);
}

/* --- show ------------------------------------------------------------------------------------ */

/* The built text, or NULL when nothing was written: the row is then left out. */
static char *steal_or_null(struct strbuf *sb) {
        if (sb->len == 0) {
                strbuf_release(sb);
                return NULL;
        }
        return strbuf_steal(sb);
}

/* "k=v, k=v" for an object of strings (env values may be objects such as {"secret": "x"}). */
static char *join_map(const json_t *obj) {
        struct strbuf sb = { 0 };
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)obj, k, v) {
                _cleanup_free_ char *cell = cli_json_cell(v);
                strbuf_printf(&sb, "%s%s=%s", sb.len ? ", " : "", k, cell);
        }
        return steal_or_null(&sb);
}

/* Service ports: portDefinitions[].port, else container.portMappings[].servicePort. */
static char *ports_cell(const json_t *app) {
        const json_t *defs = json_object_get(app, "portDefinitions");
        const char *key = "port";
        if (json_array_size(defs) == 0) {
                defs = json_object_get(json_object_get(app, "container"), "portMappings");
                key = "servicePort";
        }
        struct strbuf sb = { 0 };
        size_t i;
        const json_t *d;
        json_array_foreach(defs, i, d) {
                _cleanup_free_ char *port = cli_json_cell(json_object_get(d, key));
                const char *name = str_field(d, "name");
                strbuf_printf(&sb, "%s%s%s%s", i ? ", " : "", port, name ? "/" : "", name ? name : "");
        }
        return steal_or_null(&sb);
}

/* "hostname:UNIQUE, rack:GROUP_BY:3" from [["hostname","UNIQUE"],…]. */
static char *constraints_cell(const json_t *app) {
        struct strbuf sb = { 0 };
        size_t i, j;
        const json_t *con, *part;
        json_array_foreach(json_object_get(app, "constraints"), i, con) {
                strbuf_puts(&sb, i ? ", " : "");
                json_array_foreach(con, j, part) {
                        _cleanup_free_ char *cell = cli_json_cell(part);
                        strbuf_printf(&sb, "%s%s", j ? ":" : "", cell);
                }
        }
        return steal_or_null(&sb);
}

static char *health_checks_cell(const json_t *app) {
        struct strbuf sb = { 0 };
        size_t i;
        const json_t *hc;
        json_array_foreach(json_object_get(app, "healthChecks"), i, hc) {
                const char *protocol = str_field(hc, "protocol");
                const char *path = str_field(hc, "path");
                const char *command = str_field(json_object_get(hc, "command"), "value");
                const char *what = path ? path : command;
                strbuf_printf(&sb, "%s%s%s%s", i ? ", " : "", protocol ? protocol : "HTTP", what ? " " : "",
                              what ? what : "");
        }
        return steal_or_null(&sb);
}

static char *deployments_cell(const json_t *app) {
        struct strbuf sb = { 0 };
        size_t i;
        const json_t *d;
        json_array_foreach(json_object_get(app, "deployments"), i, d)
                strbuf_printf(&sb, "%s%s", i ? ", " : "", str_field(d, "id") ? str_field(d, "id") : "?");
        return steal_or_null(&sb);
}

struct cli_table *cli_app_show_table(const json_t *app) {
        struct cli_table *t = cli_table_new(2, NULL);
        const json_t *container = json_object_get(app, "container");
        const json_t *version_info = json_object_get(app, "versionInfo");
        _cleanup_free_ char *instances = cli_json_cell(json_object_get(app, "instances"));
        if (json_is_integer(json_object_get(app, "tasksRunning"))) {
                char *full =
                        xasprintf("%s (running %" JSON_INTEGER_FORMAT ", staged %" JSON_INTEGER_FORMAT
                                  ", healthy %" JSON_INTEGER_FORMAT ", unhealthy %" JSON_INTEGER_FORMAT ")",
                                  instances, json_integer_value(json_object_get(app, "tasksRunning")),
                                  json_integer_value(json_object_get(app, "tasksStaged")),
                                  json_integer_value(json_object_get(app, "tasksHealthy")),
                                  json_integer_value(json_object_get(app, "tasksUnhealthy")));
                free(instances);
                instances = full;
        }
        _cleanup_free_ char *cpus = cli_json_cell(json_object_get(app, "cpus"));
        _cleanup_free_ char *mem = cli_json_cell(json_object_get(app, "mem"));
        _cleanup_free_ char *disk = cli_json_cell(json_object_get(app, "disk"));
        const json_t *gpus_json = json_object_get(app, "gpus");
        _cleanup_free_ char *gpus = json_number_value(gpus_json) > 0 ? cli_json_cell(gpus_json) : NULL;
        _cleanup_free_ char *args = json_array_size(json_object_get(app, "args")) > 0
                                            ? cli_json_cell(json_object_get(app, "args"))
                                            : NULL;
        _cleanup_free_ char *ports = ports_cell(app);
        _cleanup_free_ char *constraints = constraints_cell(app);
        _cleanup_free_ char *labels = join_map(json_object_get(app, "labels"));
        _cleanup_free_ char *env = join_map(json_object_get(app, "env"));
        _cleanup_free_ char *health = health_checks_cell(app);
        _cleanup_free_ char *deployments = deployments_cell(app);
        const char *image = str_field(json_object_get(container, "docker"), "image");

        const struct {
                const char *key, *value;
                bool always;
        } rows[] = {
                { "id:", str_field(app, "id"), true },
                { "version:", str_field(app, "version"), true },
                { "instances:", instances, true },
                { "cpus:", cpus, true },
                { "mem:", mem, true },
                { "disk:", disk, true },
                { "gpus:", gpus, false },
                { "cmd:", str_field(app, "cmd"), false },
                { "args:", args, false },
                { "container:", str_field(container, "type"), false },
                { "image:", image, false },
                { "ports:", ports, false },
                { "constraints:", constraints, false },
                { "labels:", labels, false },
                { "env:", env, false },
                { "health checks:", health, false },
                { "deployments:", deployments, true },
                { "last config change:", str_field(version_info, "lastConfigChangeAt"), false },
                { "last scaling:", str_field(version_info, "lastScalingAt"), false },
        };
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                if (!rows[i].value && !rows[i].always)
                        continue;
                _cleanup_free_ char *value = rows[i].value ? cli_truncate(rows[i].value, 200) : NULL;
                cli_table_add(t, (const char *[]){ rows[i].key, value });
        }
        return t;
}

static int app_show(struct cli *c, const struct cli_args *a, struct err *err) {
        _cleanup_free_ char *path = NULL;
        int r = app_path(a->pos[0], NULL, false, &path, NULL, err);
        if (r < 0)
                return r;
        if (cli_structured(c))
                return cli_get_and_print(c, path, "app", JSON_OBJECT, "\"app\" object", cli_app_show_table, err);
        _cleanup_(cli_why_release) struct cli_why w = { 0 };
        r = cli_why_fetch(c, path, &w, err);
        if (r < 0)
                return r;
        _cleanup_(cli_table_freep) struct cli_table *t = cli_app_show_table(json_object_get(w.app.json, "app"));
        cli_table_print(t, c->out);
        fputc('\n', c->out);
        cli_why_show(c, &w);
        return 0;
}

static int app_why(struct cli *c, const struct cli_args *a, struct err *err) {
        _cleanup_free_ char *path = NULL;
        int r = app_path(a->pos[0], NULL, false, &path, NULL, err);
        if (r < 0)
                return r;
        _cleanup_(cli_why_release) struct cli_why w = { 0 };
        r = cli_why_fetch(c, path, &w, err);
        if (r < 0)
                return r;
        if (cli_structured(c)) {
                _cleanup_(json_decrefp) json_t *j = cli_why_json(&w);
                cli_print_data(c, j);
                return 0;
        }
        fprintf(c->out, "App %s\n", str_field(json_object_get(w.app.json, "app"), "id") ?: a->pos[0]);
        cli_why_show(c, &w);
        return 0;
}

/* --- update ---------------------------------------------------------------------------------- */

/* The body of `app update`: the file's JSON, or the KEY=VALUE assignments applied to the
 * current definition (fetched only when a dotted key needs it). */
static int update_body(struct cli *c, const char *path, char *const *args, int n, bool strict, json_t **ret,
                       struct err *err) {
        int r;

        if (n == 1 && !cli_is_assignment(args[0])) {
                json_t *body = NULL;
                r = cli_read_json(args[0], c->in, &body, err);
                if (r < 0)
                        return r;
                if (!json_is_object(body)) {
                        json_decref(body);
                        return err_set(err, -ERR_BAD_JSON, "%s: an app update is a JSON object",
                                       streq(args[0], "-") ? "standard input" : args[0]);
                }
                if (strict && cli_app_check_strict(body, err) < 0) {
                        json_decref(body);
                        return err_wrap(err, "%s", streq(args[0], "-") ? "standard input" : args[0]);
                }
                *ret = body;
                return 0;
        }
        for (int i = 0; i < n; i++)
                if (!cli_is_assignment(args[i]))
                        return err_set(err, -ERR_USAGE,
                                       "'%s' is not KEY=VALUE (give one FILE, '-', or KEY=VALUE arguments)",
                                       args[i]);

        /* Check the keys before asking the master anything: a typo is a usage error, not a GET
         * (Marathon would ignore an unknown field and report success). */
        r = cli_assignments_check_keys(args, n, err);
        if (r < 0)
                return r;
        _cleanup_(json_decrefp) json_t *dry_run = json_object();
        r = cli_assignments_apply(dry_run, NULL, args, n, err);
        if (r < 0)
                return r;

        _cleanup_(http_reply_release) struct http_reply current = { 0 };
        if (cli_assignments_need_current(args, n)) {
                r = cli_http_call(&c->http, "GET", path, NULL, &current, err);
                if (r < 0)
                        return r;
        }
        _cleanup_(json_decrefp) json_t *body = json_object();
        r = cli_assignments_apply(body, json_object_get(current.json, "app"), args, n, err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(body);
        return 0;
}

static int app_update(struct cli *c, const struct cli_args *a, struct err *err) {
        _cleanup_(json_decrefp) json_t *body = NULL;
        _cleanup_free_ char *get_path = NULL, *put_path = NULL, *id = NULL;
        int r;

        r = app_path(a->pos[0], NULL, false, &get_path, &id, err);
        if (r < 0)
                return r;
        r = app_path(a->pos[0], NULL, cli_args_get(a, "force") != NULL, &put_path, NULL, err);
        if (r < 0)
                return r;
        r = update_body(c, get_path, a->pos + 1, a->n_pos - 1, cli_args_get(a, "strict") != NULL, &body, err);
        if (r < 0)
                return r;

        _cleanup_free_ char *done = xasprintf("Updated app %s", id);
        _cleanup_free_ char *created = xasprintf("Created app %s", id);
        return cli_change_submit(c, a,
                                 &(struct cli_change){ .method = "PUT", .path = put_path, .body = body,
                                                       .done = done, .done_created = created, .app_id = id },
                                 err);
}

/* --- remove, restart, scale, rollback: one request each, then the shared wait --------------------- */

static int app_remove(struct cli *c, const struct cli_args *a, struct err *err) {
        _cleanup_free_ char *path = NULL, *id = NULL;
        int r = app_path(a->pos[0], NULL, cli_args_get(a, "force") != NULL, &path, &id, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *done = xasprintf("Removed app %s", id);
        return cli_change_submit(
                c, a, &(struct cli_change){ .method = "DELETE", .path = path, .done = done, .app_id = id }, err);
}

static int app_restart(struct cli *c, const struct cli_args *a, struct err *err) {
        _cleanup_free_ char *path = NULL, *id = NULL;
        int r = app_path(a->pos[0], "restart", cli_args_get(a, "force") != NULL, &path, &id, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *done = xasprintf("Restarting app %s", id);
        return cli_change_submit(
                c, a, &(struct cli_change){ .method = "POST", .path = path, .done = done, .app_id = id }, err);
}

static int app_scale(struct cli *c, const struct cli_args *a, struct err *err) {
        _cleanup_free_ char *path = NULL, *id = NULL;
        const char *text = a->pos[1];
        char *end;
        errno = 0;
        long long n = strtoll(text, &end, 10);
        if (errno || end == text || *end || n < 0 || n > INT32_MAX)
                return err_set(err, -ERR_USAGE, "instances must be a whole number from 0, not '%s'", text);

        int r = app_path(a->pos[0], NULL, cli_args_get(a, "force") != NULL, &path, &id, err);
        if (r < 0)
                return r;
        _cleanup_(json_decrefp) json_t *body = json_pack("{s:I}", "instances", (json_int_t)n);
        _cleanup_free_ char *done = xasprintf("Scaling app %s to %lld instance%s", id, n, n == 1 ? "" : "s");
        return cli_change_submit(
                c, a,
                &(struct cli_change){ .method = "PUT", .path = path, .body = body, .done = done, .app_id = id },
                err);
}

/* The version before the current one: GET /v2/apps/{id}/versions lists them newest first. */
static int previous_version(struct cli *c, const char *raw_id, const char *id, char **ret, struct err *err) {
        _cleanup_(http_reply_release) struct http_reply reply = { 0 };
        _cleanup_free_ char *path = NULL;
        int r = app_path(raw_id, "versions", false, &path, NULL, err);
        if (r < 0)
                return r;
        r = cli_http_call(&c->http, "GET", path, NULL, &reply, err);
        if (r < 0)
                return r;
        const json_t *versions = json_object_get(reply.json, "versions");
        if (!json_is_array(versions))
                return err_set(err, -EBADMSG, "master sent no \"versions\" array for GET %s", path);
        const char *previous = json_string_value(json_array_get(versions, 1));
        if (!previous)
                return err_set(err, -ERR_NOT_FOUND, "app %s has no earlier version to roll back to", id);
        *ret = xstrdup(previous);
        return 0;
}

static int app_rollback(struct cli *c, const struct cli_args *a, struct err *err) {
        _cleanup_free_ char *path = NULL, *id = NULL, *version = NULL;
        int r = app_path(a->pos[0], NULL, cli_args_get(a, "force") != NULL, &path, &id, err);
        if (r < 0)
                return r;
        if (a->n_pos > 1)
                version = xstrdup(a->pos[1]);
        else {
                r = previous_version(c, a->pos[0], id, &version, err);
                if (r < 0)
                        return r;
        }
        /* "body containing only version = rollback to that version" (api.md §1.2) */
        _cleanup_(json_decrefp) json_t *body = json_pack("{s:s}", "version", version);
        if (!body)
                return err_set(err, -ERR_USAGE, "the version is not valid UTF-8");
        _cleanup_free_ char *done = xasprintf("Rolling back app %s to version %s", id, version);
        return cli_change_submit(
                c, a,
                &(struct cli_change){ .method = "PUT", .path = path, .body = body, .done = done, .app_id = id },
                err);
}

/* --- versions -------------------------------------------------------------------------------- */

static int app_versions(struct cli *c, const struct cli_args *a, struct err *err) {
        _cleanup_(http_reply_release) struct http_reply reply = { 0 };
        _cleanup_free_ char *path = NULL;
        int r;

        r = app_path(a->pos[0], "versions", false, &path, NULL, err);
        if (r < 0)
                return r;
        r = cli_http_call(&c->http, "GET", path, NULL, &reply, err);
        if (r < 0)
                return r;
        const json_t *versions = json_object_get(reply.json, "versions");
        if (!json_is_array(versions))
                return err_set(err, -EBADMSG, "master sent no \"versions\" array for GET %s", path);
        if (cli_structured(c)) {
                cli_print_data(c, versions);
                return 0;
        }
        size_t i;
        const json_t *v;
        json_array_foreach(versions, i, v) {
                _cleanup_free_ char *cell = cli_json_cell(v);
                fprintf(c->out, "%s\n", cell);
        }
        return 0;
}

/* --- the noun -------------------------------------------------------------------------------- */

static const struct cli_flag list_flags[] = {
        { "label", 'l', "SELECTOR",
          "only apps whose labels match: k, k==v, k!=v, k in (a,b), k notin (a,b); ',' = and" },
        { "id", 0, "TEXT", "only apps whose id contains TEXT (case-insensitive)" },
        { "cmd", 0, "TEXT", "only apps whose cmd contains TEXT (case-insensitive)" },
        { "branch", 0, NULL, "list the apps that are branches (app add --branch) instead" },
        { NULL },
};

#define STRICT_FLAG { "strict", 0, NULL, "reject fields Marathon does not know (it ignores them otherwise)" }

static const struct cli_flag add_flags[] = {
        { "branch", 0, "NAME", "deploy as branch NAME: /<id>-NAME beside /<id>, at <id>-NAME.<domain> on the edge" },
        STRICT_FLAG,
        CLI_WAIT_FLAGS,
        { NULL },
};

#define FORCE_FLAG { "force", 'f', NULL, "override a deployment that holds the app (Marathon's ?force=true)" }

#define ROLLBACK_FLAG                                                                                       \
        { "rollback-on-failure", 0, NULL,                                                                    \
          "with --wait: when the deployment fails, put the app back at its version from before" }

static const struct cli_flag update_flags[] = {
        FORCE_FLAG,
        STRICT_FLAG,
        CLI_WAIT_FLAGS,
        ROLLBACK_FLAG,
        { NULL },
};

static const struct cli_flag force_wait_flags[] = {
        FORCE_FLAG,
        CLI_WAIT_FLAGS,
        { NULL },
};

static const struct cli_flag change_flags[] = {
        FORCE_FLAG,
        CLI_WAIT_FLAGS,
        ROLLBACK_FLAG,
        { NULL },
};

static const struct cli_verb app_verbs[] = {
        {
                .name = "add",
                .examples = "strata app add web.json --wait\ncat web.json | strata app add - --strict\n",
                .synopsis = "FILE|-",
                .summary = "Create an app from a JSON definition (a file, or - for standard input)",
                .description = "POSTs the definition to /v2/apps. The id may be relative (\"web\" means "
                               "\"/web\").\n",
                .min_args = 1,
                .max_args = 1,
                .flags = add_flags,
                .run = app_add,
        },
        {
                .name = "list",
                .examples = "strata app list\nstrata app ls -l team==web -o wide\nstrata -o yaml app list --id web\n",
                .summary = "List apps with their instances, resources and command or image",
                .description =
                        "INSTANCES shows running/wanted. CMD/IMAGE shows the container image, else the cmd,\n"
                        "else the args, cut to 40 characters.\n",
                .max_args = 0,
                .flags = list_flags,
                .run = app_list,
        },
        {
                .name = "show",
                .examples = "strata app show /prod/web\nstrata app get web -o yaml\n",
                .synopsis = "ID",
                .summary = "Show one app's definition and status",
                .min_args = 1,
                .max_args = 1,
                .run = app_show,
        },
        {
                .name = "why",
                .synopsis = "ID",
                .summary = "Explain an app's state: queue reasons per agent, last failure, health, deployment",
                .description =
                        "Reads the app, GET /v2/queue?embed=lastUnusedOffers and GET /v2/deployments. The reasons\n"
                        "per agent compare the app's cpus/mem/disk/gpus/ports with what each agent has free\n"
                        "now; 'Declined by' lists what the scheduler's last pass declined for.\n",
                .examples = "strata app why /web\nstrata app why web -o json\n",
                .min_args = 1,
                .max_args = 1,
                .run = app_why,
        },
        {
                .name = "update",
                .examples = "strata app update /web instances=3 --wait\nstrata app update /web env.LOG=debug container.docker.image=nginx:2\nstrata app update /web web.json --wait --timeout 600 --rollback-on-failure\n",
                .synopsis = "ID FILE|-|KEY=VALUE...",
                .summary = "Change an app from a partial definition or KEY=VALUE pairs",
                .description =
                        "PUTs a partial update to /v2/apps/ID: the fields given replace the stored ones, the "
                        "others stay.\n"
                        "\n"
                        "  FILE or -          a JSON object with the fields to change\n"
                        "  KEY=VALUE...       VALUE is JSON when it parses as JSON (3, true, [\"a\"], {...}, "
                        "\"42\"),\n"
                        "                     else the text itself: instances=3 cmd='sleep 100'\n"
                        "  env.NAME=VALUE     adds or changes one variable, keeping the others (always a "
                        "string)\n"
                        "  labels.NAME=VALUE  adds or changes one label, keeping the others (always a "
                        "string)\n"
                        "  a.b.c=VALUE        changes one member of an object field: "
                        "container.docker.image=nginx:2\n"
                        "  version=TIMESTAMP  alone: roll back to that version (see 'strata app versions')\n",
                .min_args = 2,
                .max_args = -1,
                .flags = update_flags,
                .run = app_update,
        },
        {
                .name = "remove",
                .examples = "strata app remove /web\nstrata app rm /web --force --wait\n",
                .synopsis = "ID",
                .summary = "Remove an app and kill its tasks",
                .min_args = 1,
                .max_args = 1,
                .flags = force_wait_flags,
                .run = app_remove,
        },
        {
                .name = "restart",
                .examples = "strata app restart /web --wait\n",
                .synopsis = "ID",
                .summary = "Replace every task of an app, rolling, by its upgradeStrategy",
                .description = "POSTs to /v2/apps/ID/restart: a new version of the same definition, deployed like an\n"
                               "update (minimumHealthCapacity and maximumOverCapacity decide the pace).\n",
                .min_args = 1,
                .max_args = 1,
                .flags = change_flags,
                .run = app_restart,
        },
        {
                .name = "scale",
                .examples = "strata app scale /web 5 --wait\n",
                .synopsis = "ID INSTANCES",
                .summary = "Set how many instances an app runs",
                .description = "PUTs {\"instances\": INSTANCES} to /v2/apps/ID (Marathon's scale call).\n",
                .min_args = 2,
                .max_args = 2,
                .flags = change_flags,
                .run = app_scale,
        },
        {
                .name = "rollback",
                .examples = "strata app rollback /web --wait\nstrata app rollback /web 2024-05-01T10:00:00.000Z\n",
                .synopsis = "ID [VERSION]",
                .summary = "Go back to an earlier version of an app (default: the one before the current)",
                .description = "PUTs {\"version\": VERSION} to /v2/apps/ID. Without VERSION, the second entry of\n"
                               "GET /v2/apps/ID/versions (newest first) is used. See 'strata app versions ID'.\n",
                .min_args = 1,
                .max_args = 2,
                .flags = force_wait_flags,
                .run = app_rollback,
        },
        {
                .name = "versions",
                .examples = "strata app versions /web\n",
                .synopsis = "ID",
                .summary = "List an app's stored versions, newest first",
                .min_args = 1,
                .max_args = 1,
                .run = app_versions,
        },
        {
                .name = "deploy",
                .synopsis = "FILE|-",
                .summary = "Deploy a new version in a deployment style (--strategy blue-green|canary)",
                .description = "See docs/lb.md: the new version starts beside the old one as /<id>-blue or "
                               "/<id>-green; the edge moves all traffic when it is healthy at full size, then "
                               "the old one is removed. Rerun to resume after an interruption.\n",
                .min_args = 1,
                .max_args = 1,
                .flags = cli_app_deploy_flags,
                .run = cli_app_deploy,
                .examples = "strata app deploy web.json --strategy blue-green\n",
        },
        { "promote", "ID", "Raise a canary's share of requests (--weight, default 100: replace the old version)", NULL,
          1, 1, cli_app_promote_flags, cli_app_promote, "strata app promote /web --weight 50\nstrata app promote /web\n" },
        { "abort", "ID", "Remove a canary: the old version takes every request again", NULL, 1, 1, NULL,
          cli_app_abort, "strata app abort /web\n" },
        { NULL },
};

const struct cli_noun cli_noun_app = {
        .name = "app",
        .summary = "Manage long-running apps (Marathon /v2/apps)",
        .verbs = app_verbs,
};
