/* cli_queue.c — noun `queue` (apps waiting to launch, with the reasons) and what `app show`,
 * `app why` and `app list` fetch to say why an app is in its state (cli_why.h prints it). */
#include <errno.h>
#include <string.h>

#include "cli/cli_internal.h"
#include "cli/cli_output.h"
#include "cli/cli_why.h"
#include "common/alloc.h"
#include "common/strbuf.h"

#define QUEUE_PATH "/v2/queue?embed=lastUnusedOffers"

/* GET /v2/queue (with lastUnusedOffers); on failure *ret stays empty and err is set. */
static int get_queue(struct cli *c, struct http_reply *ret, struct err *err) {
        return cli_http_call(&c->http, "GET", QUEUE_PATH, NULL, ret, err);
}

int cli_why_fetch(struct cli *c, const char *app_path, struct cli_why *w, struct err *err) {
        int r = cli_http_call(&c->http, "GET", app_path, NULL, &w->app, err);
        if (r < 0)
                return r;
        if (!json_is_object(json_object_get(w->app.json, "app")))
                return err_set(err, -EBADMSG, "master sent no \"app\" object for GET %s", app_path);
        r = get_queue(c, &w->queue, err);
        if (r < 0)
                return r;
        r = cli_http_call(&c->http, "GET", "/v2/deployments", NULL, &w->deployments, err);
        if (r < 0)
                return r;
        return 0;
}

void cli_why_release(struct cli_why *w) {
        http_reply_release(&w->app);
        http_reply_release(&w->queue);
        http_reply_release(&w->deployments);
}

void cli_why_show(struct cli *c, const struct cli_why *w) {
        const json_t *app = json_object_get(w->app.json, "app");
        cli_why_print(c->out, app, cli_queue_entry(w->queue.json, str_field(app, "id")), w->deployments.json);
}

json_t *cli_why_json(const struct cli_why *w) {
        const json_t *app = json_object_get(w->app.json, "app");
        const json_t *entry = cli_queue_entry(w->queue.json, str_field(app, "id"));
        _cleanup_free_ char *status = cli_app_status(app, entry);
        json_t *deps = json_array();
        size_t i, j;
        const json_t *d, *a;
        json_array_foreach(w->deployments.json, i, d)
                json_array_foreach(json_object_get(d, "affectedApps"), j, a)
                        if (streq(json_string_value(a) ?: "", str_field(app, "id") ?: ""))
                                json_array_append(deps, (json_t *)d);
        return json_pack("{s:s?,s:s,s:O?,s:O?,s:O,s:o}", "id", str_field(app, "id"), "status", status,
                         "queue", entry, "lastTaskFailure", json_object_get(app, "lastTaskFailure"), "tasks",
                         json_object_get(app, "tasks") ?: json_array(), "deployments", deps);
}

int cli_app_list_with_status(struct cli *c, const char *path, struct err *err) {
        _cleanup_(http_reply_release) struct http_reply apps = { 0 }, queue = { 0 };
        int r = cli_http_call(&c->http, "GET", path, NULL, &apps, err);
        if (r < 0)
                return r;
        const json_t *list = json_object_get(apps.json, "apps");
        if (!json_is_array(list))
                return err_set(err, -EBADMSG, "master sent no \"apps\" array for GET %s", path);
        if (cli_structured(c)) {
                cli_print_data(c, list);
                return 0;
        }
        /* The queue lives on the leader; without one the list still prints, statuses without it. */
        struct err qerr = { 0 };
        if (get_queue(c, &queue, &qerr) < 0)
                fprintf(stderr, "strata: statuses without the launch queue: %s\n", err_msg(&qerr));
        err_release(&qerr);
        _cleanup_(cli_table_freep) struct cli_table *t = cli_app_list_table(list, queue.json, c->output == CLI_OUTPUT_WIDE);
        cli_table_print(t, c->out);
        return 0;
}

/* --- noun `queue` ------------------------------------------------------------------------------ */

static struct cli_table *queue_table(const json_t *queue) {
        static const char *const headers[] = { "APP", "WAITING", "SINCE", "DELAY", "REASONS" };
        struct cli_table *t = cli_table_new(ELEMENTSOF(headers), headers);
        size_t i;
        const json_t *e;
        json_array_foreach(json_object_get(queue, "queue"), i, e) {
                _cleanup_free_ char *count = cli_json_cell(json_object_get(e, "count"));
                double left = json_number_value(json_object_get(json_object_get(e, "delay"), "timeLeftSeconds"));
                _cleanup_free_ char *delay = left > 0 ? xasprintf("%.0fs", left) : xstrdup("-");
                _cleanup_free_ char *reasons = cli_queue_reasons(e);
                cli_table_add(t, (const char *[]){ str_field(json_object_get(e, "app"), "id"), count,
                                                   str_field(e, "since"), delay, reasons });
        }
        return t;
}

static int queue_list(struct cli *c, const struct cli_args *a, struct err *err) {
        _cleanup_(http_reply_release) struct http_reply reply = { 0 };
        int r = get_queue(c, &reply, err);
        if (r < 0)
                return r;
        if (!json_is_array(json_object_get(reply.json, "queue")))
                return err_set(err, -EBADMSG, "master sent no \"queue\" array for GET " QUEUE_PATH);
        if (cli_structured(c)) {
                cli_print_data(c, json_object_get(reply.json, "queue"));
                return 0;
        }
        if (json_array_size(json_object_get(reply.json, "queue")) == 0) {
                fputs("No app is waiting to launch.\n", c->out);
                return 0;
        }
        _cleanup_(cli_table_freep) struct cli_table *t = queue_table(reply.json);
        cli_table_print(t, c->out);
        return 0;
}

static int queue_reset(struct cli *c, const struct cli_args *a, struct err *err) {
        _cleanup_free_ char *id = NULL;
        int r = cli_id_absolute(a->pos[0], &id, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *escaped = cli_url_escape(id, true);
        _cleanup_free_ char *path = xasprintf("/v2/queue%s/delay", escaped);
        _cleanup_(http_reply_release) struct http_reply reply = { 0 };
        r = cli_http_call(&c->http, "DELETE", path, NULL, &reply, err);
        if (r < 0)
                return r;
        fprintf(c->out, "Reset the launch delay of %s\n", id);
        return 0;
}

static const struct cli_verb queue_verbs[] = {
        {
                .name = "list",
                .summary = "List apps waiting to launch, with why the last placement pass declined",
                .description = "Reads GET /v2/queue. REASONS are Marathon's (InsufficientMemory, InsufficientCpus,\n"
                               "UnfulfilledConstraint, …), most declined first; DELAY is the launch backoff left\n"
                               "after failures. 'strata app why ID' shows the reasons per agent.\n",
                .examples = "strata queue\nstrata queue list -o json\n",
                .max_args = 0,
                .run = queue_list,
        },
        {
                .name = "reset",
                .synopsis = "APP",
                .summary = "Forget an app's launch backoff so it launches at the next pass",
                .description = "DELETE /v2/queue/APP/delay.\n",
                .examples = "strata queue reset /web\n",
                .min_args = 1,
                .max_args = 1,
                .run = queue_reset,
        },
        { NULL },
};

const struct cli_noun cli_noun_queue = {
        .name = "queue",
        .summary = "Apps waiting to launch and why (Marathon /v2/queue)",
        .verbs = queue_verbs,
        .default_verb = "list",
};
