/* cli_audit.c — noun `audit`: the newest writes and denied requests a master recorded. */
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli_internal.h"
#include "cli/cli_output.h"
#include "common/alloc.h"

static struct cli_table *audit_table(const json_t *entries) {
        static const char *const headers[] = {"TIME", "UID", "FROM", "METHOD", "PATH", "STATUS", "RESULT"};
        struct cli_table *t = cli_table_new(ELEMENTSOF(headers), headers);
        size_t i;
        const json_t *e;
        json_array_foreach(entries, i, e) {
                _cleanup_free_ char *status = cli_json_cell(json_object_get(e, "status"));
                cli_table_add(t, (const char *[]){str_field(e, "ts"), str_field(e, "uid") ?: "-", str_field(e, "from"),
                                                  str_field(e, "method"), str_field(e, "path"), status,
                                                  str_field(e, "result")});
        }
        return t;
}

static int audit_list(struct cli *c, const struct cli_args *a, struct err *err) {
        const char *limit = cli_args_get(a, "limit");
        if (limit && (atol(limit) <= 0 || atol(limit) > 10000))
                return err_set(err, -ERR_USAGE, "--limit must be 1..10000");
        _cleanup_free_ char *path = xasprintf("/v1/audit?limit=%s", limit ? limit : "100");
        return cli_get_and_print(c, path, "entries", JSON_ARRAY, "audit entries", audit_table, err);
}

static const struct cli_flag audit_flags[] = {
        {"limit", 'n', "N", "how many of the newest entries (default 100)"},
        {NULL},
};

static const struct cli_verb audit_verbs[] = {
        {.name = "list", .summary = "Show the newest writes and denied requests (who, what, from where, result)",
         .max_args = 0, .flags = audit_flags, .run = audit_list},
        {NULL},
};

const struct cli_noun cli_noun_audit = {
        .name = "audit",
        .summary = "The master's audit trail",
        .verbs = audit_verbs,
};
