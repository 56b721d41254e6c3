/* cli_app_styles.h — deployment styles of `strata app` built on the edge balancer (docs/lb.md):
 * a hostname per branch (`app add --branch`, `app list --branch`) and blue-green
 * (`app deploy --strategy blue-green`). cli_app.c calls these from its verb rows. */
#pragma once

#include <jansson.h>

#include "cli/cli_internal.h"

/* `app add FILE --branch NAME` (or the definition's STRATA_BRANCH label): turns def into the
 * branch's app in place — id "<id>-<name>", labels STRATA_BRANCH=<name> and STRATA_BRANCH_OF=<id>,
 * service ports auto-assigned (0) and HAPROXY_{n}_VHOST/_PORT labels dropped, so the branch
 * answers only at its own name (`<id>-<name>.<domain>` on the balancer). branch NULL and no
 * label: def untouched. Returns 0 or -ERR_USAGE for a name that cannot be part of an app id. */
int cli_app_branch(json_t *def, const char *branch, struct err *err);

/* `app list --branch`: the apps that are branches, with the app each branches from. */
int cli_app_list_branches(struct cli *c, struct err *err);

/* `app deploy FILE --strategy blue-green|canary [--weight P] [--timeout S]`. */
int cli_app_deploy(struct cli *c, const struct cli_args *a, struct err *err);
extern const struct cli_flag cli_app_deploy_flags[];
/* `app promote ID [--weight P]` and `app abort ID`: a canary's share, or its removal. */
int cli_app_promote(struct cli *c, const struct cli_args *a, struct err *err);
int cli_app_abort(struct cli *c, const struct cli_args *a, struct err *err);
extern const struct cli_flag cli_app_promote_flags[];
