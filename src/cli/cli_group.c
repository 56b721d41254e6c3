/* cli_group.c — noun `group`: Marathon groups over /v2/groups (add, list, show, update, scale,
 * remove); writes go through the shared change-and-wait helper. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_internal.h"
#include "cli/cli_output.h"
#include "cli/cli_wait.h"
#include "common/alloc.h"
#include "common/strbuf.h"

/* "/v2/groups<id>[?query]" for a user-typed id; "/" is the root group. *ret_id gets the
 * absolute id. */
static int group_path(const char *raw_id, const char *query, char **ret_path, char **ret_id, struct err *err) {
        _cleanup_free_ char *id = NULL;
        if (streq(raw_id, "/"))
                id = xstrdup("/");
        else {
                int r = cli_id_absolute(raw_id, &id, err);
                if (r < 0)
                        return r;
        }
        _cleanup_free_ char *escaped = streq(id, "/") ? xstrdup("") : cli_url_escape(id, true);
        *ret_path = xasprintf("/v2/groups%s%s%s", escaped, query ? "?" : "", query ? query : "");
        if (ret_id)
                *ret_id = TAKE_PTR(id);
        return 0;
}

static const char *input_name(const char *arg) {
        return streq(arg, "-") ? "standard input" : arg;
}

/* "a, b" from an array of ids (strings or objects with an "id"); NULL when empty. */
static char *id_list(const json_t *array) {
        struct strbuf sb = { 0 };
        size_t i;
        const json_t *x;
        json_array_foreach(array, i, x) {
                const char *id = json_is_string(x) ? json_string_value(x) : str_field(x, "id");
                strbuf_printf(&sb, "%s%s", sb.len ? ", " : "", id ? id : "?");
        }
        if (sb.len == 0) {
                strbuf_release(&sb);
                return NULL;
        }
        return strbuf_steal(&sb);
}

/* --- list and show ----------------------------------------------------------------------------- */

struct cli_table *cli_group_list_table(const json_t *root) {
        static const char *const headers[] = { "ID", "APPS", "GROUPS", "DEPENDENCIES", "VERSION" };
        struct cli_table *t = cli_table_new(ELEMENTSOF(headers), headers);
        /* Depth first, children in the master's order: an explicit stack, the nesting is the
         * master's to choose. */
        _cleanup_(json_decrefp) json_t *stack = json_array();
        if (json_is_object(root))
                json_array_append(stack, (json_t *)root);
        while (json_array_size(stack) > 0) {
                size_t top = json_array_size(stack) - 1;
                _cleanup_(json_decrefp) json_t *g = json_incref(json_array_get(stack, top));
                json_array_remove(stack, top);
                const json_t *groups = json_object_get(g, "groups");
                _cleanup_free_ char *apps = xasprintf("%zu", json_array_size(json_object_get(g, "apps")));
                _cleanup_free_ char *subgroups = xasprintf("%zu", json_array_size(groups));
                _cleanup_free_ char *deps = id_list(json_object_get(g, "dependencies"));
                cli_table_add(t, (const char *[]){ str_field(g, "id"), apps, subgroups, deps, str_field(g, "version") });
                for (size_t i = json_array_size(groups); i > 0; i--)
                        if (json_is_object(json_array_get(groups, i - 1)))
                                json_array_append(stack, json_array_get(groups, i - 1));
        }
        return t;
}

static int group_list(struct cli *c, const struct cli_args *a, struct err *err) {
        return cli_get_and_print(c, "/v2/groups", NULL, JSON_OBJECT, "group object", cli_group_list_table, err);
}

static int group_show(struct cli *c, const struct cli_args *a, struct err *err) {
        _cleanup_(http_reply_release) struct http_reply reply = { 0 };
        _cleanup_free_ char *path = NULL;
        int r = group_path(a->pos[0], NULL, &path, NULL, err);
        if (r < 0)
                return r;
        r = cli_http_call(&c->http, "GET", path, NULL, &reply, err);
        if (r < 0)
                return r;
        if (!json_is_object(reply.json))
                return err_set(err, -EBADMSG, "master sent no group object for GET %s", path);
        if (cli_structured(c)) {
                cli_print_data(c, reply.json);
                return 0;
        }
        const json_t *g = reply.json;
        _cleanup_free_ char *groups = id_list(json_object_get(g, "groups"));
        _cleanup_free_ char *deps = id_list(json_object_get(g, "dependencies"));
        _cleanup_(cli_table_freep) struct cli_table *kv = cli_table_new(2, NULL);
        cli_table_add(kv, (const char *[]){ "id:", str_field(g, "id") });
        cli_table_add(kv, (const char *[]){ "version:", str_field(g, "version") });
        cli_table_add(kv, (const char *[]){ "dependencies:", deps });
        cli_table_add(kv, (const char *[]){ "groups:", groups });
        cli_table_print(kv, c->out);
        const json_t *apps = json_object_get(g, "apps");
        fprintf(c->out, "\napps:%s\n", json_array_size(apps) ? "" : " -");
        if (json_array_size(apps)) {
                _cleanup_(cli_table_freep) struct cli_table *t = cli_app_list_table(apps, NULL, c->output == CLI_OUTPUT_WIDE);
                cli_table_print(t, c->out);
        }
        return 0;
}

/* --- writes ------------------------------------------------------------------------------------ */

static int read_group(const char *arg, FILE *in, json_t **ret, struct err *err) {
        json_t *body = NULL;
        int r = cli_read_json(arg, in, &body, err);
        if (r < 0)
                return r;
        if (!json_is_object(body)) {
                json_decref(body);
                return err_set(err, -ERR_BAD_JSON, "%s: a group definition is a JSON object", input_name(arg));
        }
        *ret = body;
        return 0;
}

static int group_add(struct cli *c, const struct cli_args *a, struct err *err) {
        _cleanup_(json_decrefp) json_t *body = NULL;
        _cleanup_free_ char *id = NULL;
        int r = read_group(a->pos[0], c->in, &body, err);
        if (r < 0)
                return r;
        const char *raw_id = str_field(body, "id");
        if (!raw_id)
                return err_set(err, -ERR_BAD_JSON, "%s: a new group needs an \"id\"", input_name(a->pos[0]));
        r = cli_id_absolute(raw_id, &id, err);
        if (r < 0)
                return err_wrap(err, "%s", input_name(a->pos[0]));
        _cleanup_free_ char *path = xstrdup(cli_args_get(a, "force") ? "/v2/groups?force=true" : "/v2/groups");
        _cleanup_free_ char *done = xasprintf("Created group %s", id);
        return cli_change_submit(
                c, a,
                &(struct cli_change){ .method = "POST", .path = path, .body = body, .done = done, .group_id = id },
                err);
}

/* `group update --dry-run`: the plan's steps, one per line. */
static int print_plan(struct cli *c, const json_t *answer) {
        if (cli_structured(c)) {
                cli_print_data(c, answer);
                return 0;
        }
        const json_t *steps = json_object_get(answer, "steps");
        if (json_array_size(steps) == 0)
                fputs("No changes.\n", c->out);
        size_t i, j;
        const json_t *step, *action;
        json_array_foreach(steps, i, step) {
                fprintf(c->out, "step %zu:", i + 1);
                json_array_foreach(json_object_get(step, "actions"), j, action) {
                        const char *name = str_field(action, "action");
                        const char *target = str_field(action, "app") ? str_field(action, "app") : str_field(action, "pod");
                        fprintf(c->out, "%s %s %s", j ? "," : "", name ? name : "?", target ? target : "?");
                }
                fputc('\n', c->out);
        }
        return 0;
}

static int group_update(struct cli *c, const struct cli_args *a, struct err *err) {
        _cleanup_(json_decrefp) json_t *body = NULL;
        _cleanup_free_ char *path = NULL, *id = NULL;
        bool force = cli_args_get(a, "force") != NULL, dry_run = cli_args_get(a, "dry-run") != NULL;
        int r;

        if (dry_run && cli_args_get(a, "wait"))
                return err_set(err, -ERR_USAGE, "--dry-run changes nothing: there is nothing to --wait for");
        r = read_group(a->pos[1], c->in, &body, err);
        if (r < 0)
                return r;
        const char *query = dry_run ? (force ? "force=true&dryRun=true" : "dryRun=true") : force ? "force=true" : NULL;
        r = group_path(a->pos[0], query, &path, &id, err);
        if (r < 0)
                return r;
        if (dry_run) {
                _cleanup_(http_reply_release) struct http_reply reply = { 0 };
                r = cli_http_call(&c->http, "PUT", path, body, &reply, err);
                if (r < 0)
                        return r;
                return print_plan(c, reply.json);
        }
        _cleanup_free_ char *done = xasprintf("Updated group %s", id);
        _cleanup_free_ char *created = xasprintf("Created group %s", id);
        return cli_change_submit(c, a,
                                 &(struct cli_change){ .method = "PUT", .path = path, .body = body, .done = done,
                                                       .done_created = created, .group_id = id },
                                 err);
}

static int group_scale(struct cli *c, const struct cli_args *a, struct err *err) {
        _cleanup_free_ char *path = NULL, *id = NULL;
        const char *text = a->pos[1];
        char *end;
        errno = 0;
        double factor = strtod(text, &end);
        if (errno || end == text || *end || !(factor >= 0) || !isfinite(factor))
                return err_set(err, -ERR_USAGE, "the factor must be a number from 0 (1.5 = half again), not '%s'", text);
        int r = group_path(a->pos[0], cli_args_get(a, "force") ? "force=true" : NULL, &path, &id, err);
        if (r < 0)
                return r;
        /* "every transitive app's instances = ceil(instances × f)" (api.md §3.1) */
        _cleanup_(json_decrefp) json_t *body = json_pack("{s:f}", "scaleBy", factor);
        _cleanup_free_ char *done = xasprintf("Scaling group %s by %g", id, factor);
        return cli_change_submit(
                c, a,
                &(struct cli_change){ .method = "PUT", .path = path, .body = body, .done = done, .group_id = id },
                err);
}

static int group_remove(struct cli *c, const struct cli_args *a, struct err *err) {
        _cleanup_free_ char *path = NULL, *id = NULL;
        int r = group_path(a->pos[0], cli_args_get(a, "force") ? "force=true" : NULL, &path, &id, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *done = xasprintf("Removed group %s", id);
        return cli_change_submit(
                c, a, &(struct cli_change){ .method = "DELETE", .path = path, .done = done, .group_id = id }, err);
}

/* --- the noun -------------------------------------------------------------------------------- */

static const struct cli_flag force_wait_flags[] = {
        { "force", 'f', NULL, "override a deployment that holds an app of the group (?force=true)" },
        CLI_WAIT_FLAGS,
        { NULL },
};

static const struct cli_flag update_flags[] = {
        { "force", 'f', NULL, "override a deployment that holds an app of the group (?force=true)" },
        { "dry-run", 0, NULL, "print the deployment's steps without changing anything (?dryRun=true)" },
        CLI_WAIT_FLAGS,
        { NULL },
};

static const struct cli_verb group_verbs[] = {
        {
                .name = "add",
                .examples = "strata group add prod.json --wait\n",
                .synopsis = "FILE|-",
                .summary = "Create a group (with its apps and subgroups) from a JSON definition",
                .description = "POSTs the definition to /v2/groups; it needs an \"id\". Ids inside it may be\n"
                               "relative to the group.\n",
                .min_args = 1,
                .max_args = 1,
                .flags = force_wait_flags,
                .run = group_add,
        },
        {
                .name = "list",
                .examples = "strata group list\n",
                .summary = "List every group, depth first: apps, subgroups, dependencies, version",
                .max_args = 0,
                .run = group_list,
        },
        {
                .name = "show",
                .examples = "strata group show /prod\n",
                .synopsis = "ID",
                .summary = "Show one group and its apps ('/' is the root group)",
                .min_args = 1,
                .max_args = 1,
                .run = group_show,
        },
        {
                .name = "update",
                .examples = "strata group update /prod prod.json --dry-run\nstrata group update /prod prod.json --wait\n",
                .synopsis = "ID FILE|-",
                .summary = "Change a group from a JSON definition (creates it if missing)",
                .description =
                        "PUTs the definition to /v2/groups/ID. An \"apps\" array replaces the group's apps (those\n"
                        "not listed are removed), a \"groups\" array its subgroups; absent, they stay.\n"
                        "{\"version\": TIMESTAMP} alone rolls the group back to that version.\n",
                .min_args = 2,
                .max_args = 2,
                .flags = update_flags,
                .run = group_update,
        },
        {
                .name = "scale",
                .examples = "strata group scale /prod 2 --wait\n",
                .synopsis = "ID FACTOR",
                .summary = "Multiply the instances of every app in a group (rounded up)",
                .description = "PUTs {\"scaleBy\": FACTOR} to /v2/groups/ID: 2 doubles, 0.5 halves, 0 stops all.\n",
                .min_args = 2,
                .max_args = 2,
                .flags = force_wait_flags,
                .run = group_scale,
        },
        {
                .name = "remove",
                .examples = "strata group remove /prod --force\n",
                .synopsis = "ID",
                .summary = "Remove a group with its apps and subgroups",
                .min_args = 1,
                .max_args = 1,
                .flags = force_wait_flags,
                .run = group_remove,
        },
        { NULL },
};

const struct cli_noun cli_noun_group = {
        .name = "group",
        .summary = "Manage groups of apps (Marathon /v2/groups)",
        .verbs = group_verbs,
};
