/* cli_deployment.c — noun `deployment`: running deployments (/v2/deployments): list, watch one to
 * its end, roll one back, stop one. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_internal.h"
#include "cli/cli_output.h"
#include "cli/cli_wait.h"
#include "common/alloc.h"
#include "common/strbuf.h"

/* "a, b" from an array of strings. */
static char *join_strings(const json_t *array) {
        struct strbuf sb = { 0 };
        size_t i;
        const json_t *v;
        json_array_foreach(array, i, v)
                if (json_is_string(v))
                        strbuf_printf(&sb, "%s%s", sb.len ? ", " : "", json_string_value(v));
        if (sb.len == 0) {
                strbuf_release(&sb);
                return NULL;
        }
        return strbuf_steal(&sb);
}

struct cli_table *cli_deployment_list_table(const json_t *deployments) {
        static const char *const headers[] = { "ID", "VERSION", "STEP", "CURRENT ACTIONS", "APPS" };
        struct cli_table *t = cli_table_new(ELEMENTSOF(headers), headers);
        size_t i;
        const json_t *d;
        json_array_foreach(deployments, i, d) {
                struct cli_progress p = { 0 };
                cli_progress_find(&p, deployments, str_field(d, "id") ? str_field(d, "id") : "");
                _cleanup_free_ char *step = xasprintf("%" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT,
                                                      json_integer_value(json_object_get(d, "currentStep")),
                                                      json_integer_value(json_object_get(d, "totalSteps")));
                _cleanup_free_ char *apps = join_strings(json_object_get(d, "affectedApps"));
                _cleanup_free_ char *actions = p.actions ? cli_truncate(p.actions, 60) : NULL;
                cli_table_add(t, (const char *[]){ str_field(d, "id"), str_field(d, "version"), step, actions, apps });
                cli_progress_release(&p);
        }
        return t;
}

static int deployment_list(struct cli *c, const struct cli_args *a, struct err *err) {
        return cli_get_and_print(c, "/v2/deployments", NULL, JSON_ARRAY, "deployment array",
                                 cli_deployment_list_table, err);
}

static int deployment_watch(struct cli *c, const struct cli_args *a, struct err *err) {
        const char *timeout = cli_args_get(a, "timeout");
        double timeout_s = 0;
        if (timeout) {
                int r = cli_parse_seconds(timeout, &timeout_s, err);
                if (r < 0)
                        return r;
        }
        return cli_wait_existing(c, a->pos[0], timeout_s, err);
}

static char *deployment_path(const char *id, bool force) {
        _cleanup_free_ char *escaped = cli_url_escape(id, false);
        return xasprintf("/v2/deployments/%s%s", escaped, force ? "?force=true" : "");
}

static int deployment_rollback(struct cli *c, const struct cli_args *a, struct err *err) {
        _cleanup_free_ char *path = deployment_path(a->pos[0], false);
        _cleanup_free_ char *done = xasprintf("Rolling back deployment %s with a new one", a->pos[0]);
        /* The answer names the rollback deployment: --wait follows that one. */
        return cli_change_submit(c, a, &(struct cli_change){ .method = "DELETE", .path = path, .done = done },
                                 err);
}

static int deployment_stop(struct cli *c, const struct cli_args *a, struct err *err) {
        _cleanup_(http_reply_release) struct http_reply reply = { 0 };
        _cleanup_free_ char *path = deployment_path(a->pos[0], true);
        int r = cli_http_call(&c->http, "DELETE", path, NULL, &reply, err);
        if (r < 0)
                return r;
        /* Marathon answers 202 with an empty body: the apps stay as the deployment left them. */
        if (cli_structured(c)) {
                _cleanup_(json_decrefp) json_t *j = json_pack("{s:s,s:b}", "id", a->pos[0], "stopped", 1);
                cli_print_data(c, reply.json ? reply.json : j);
                return 0;
        }
        fprintf(c->out, "Stopped deployment %s (its apps stay as they are now)\n", a->pos[0]);
        return 0;
}

static const struct cli_flag watch_flags[] = {
        { "timeout", 0, "SECONDS", "give up after SECONDS (exit 4; default: no limit)" },
        { NULL },
};

static const struct cli_flag rollback_flags[] = {
        CLI_WAIT_FLAGS,
        { NULL },
};

static const struct cli_verb deployment_verbs[] = {
        {
                .name = "list",
                .examples = "strata deployment list\n",
                .summary = "List running deployments: step, current actions, affected apps",
                .description = "A deployment leaves the list when it ends; 'strata deployment watch ID' tells how.\n",
                .max_args = 0,
                .run = deployment_list,
        },
        {
                .name = "watch",
                .examples = "strata deployment watch 5bf3f4ce-66b8-41e4-9d46-595230e0a79f --timeout 600\n",
                .synopsis = "ID",
                .summary = "Show a running deployment's progress until it ends (exit 0 success, 3 failed)",
                .description =
                        "Follows the deployment through the master's event stream, polling its steps and its\n"
                        "apps' tasks twice a second. A line per change when the output is not a terminal.\n",
                .min_args = 1,
                .max_args = 1,
                .flags = watch_flags,
                .run = deployment_watch,
        },
        {
                .name = "rollback",
                .examples = "strata deployment rollback 5bf3f4ce-66b8-41e4-9d46-595230e0a79f --wait\n",
                .synopsis = "ID",
                .summary = "Cancel a deployment and deploy its apps' previous state",
                .description = "DELETE /v2/deployments/ID: the master answers with a new deployment that reverts\n"
                               "the change; --wait follows that one.\n",
                .min_args = 1,
                .max_args = 1,
                .flags = rollback_flags,
                .run = deployment_rollback,
        },
        {
                .name = "stop",
                .examples = "strata deployment stop 5bf3f4ce-66b8-41e4-9d46-595230e0a79f\n",
                .synopsis = "ID",
                .summary = "Cancel a deployment where it stands, without rolling back",
                .description = "DELETE /v2/deployments/ID?force=true: old and new tasks may stay mixed.\n",
                .min_args = 1,
                .max_args = 1,
                .run = deployment_stop,
        },
        { NULL },
};

const struct cli_noun cli_noun_deployment = {
        .name = "deployment",
        .summary = "Follow, roll back and stop deployments (Marathon /v2/deployments)",
        .verbs = deployment_verbs,
};
