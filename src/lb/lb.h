/* lb.h — `strata lb`: the edge balancer daemon. It follows the cluster through a master's
 * /v2/events (any event of interest triggers a resync of /v2/apps?embed=apps.tasks and
 * /v2/deployments, coalesced; a full resync on every (re)connect, failing over across the
 * --master list), renders the view (lb_view.h) and keeps one HAProxy (lb_haproxy.h) equal to it:
 * backend changes through the Runtime API, structural changes by a hitless reload.
 *
 * Its own HTTP endpoint (--http, default 127.0.0.1:9090):
 *   GET /_strata/lb/config   the status: masters, HAProxy, services with their slots and servers,
 *                            issues (labels not supported or not valid), the configuration text
 *   GET /_strata/lb/health   200 once HAProxy serves, else 503 */
#pragma once

#include <uv.h>

#include "common/err.h"

struct lb;

/* Runs `strata lb …` (argv[0] is "lb") on its own loop until SIGTERM/SIGINT. Returns the exit code. */
int lb_main(int argc, char **argv);

/* Starts a balancer on an existing loop with the flags of `strata lb` (argv[0] is "lb"); with
 * master_url set, --master may be left out; with data_dir set, --data-dir defaults to
 * <data_dir>/lb. Returns 0 with *ret set, or a negative code with err. */
int lb_start(uv_loop_t *loop, int argc, char **argv, const char *master_url, const char *data_dir, struct lb **ret,
             struct err *err);
/* Stops HAProxy and closes the balancer's handles; it is freed once they are closed. */
void lb_stop(struct lb *lb);

/* `strata dev --lb [--lb-FLAG VALUE…]`: removes those from argv (updating *argc) and returns the
 * argv of the balancer to start ("lb", "--FLAG", "VALUE", …; NULL-terminated, caller frees with
 * lb_dev_args_free), or NULL without --lb. */
char **lb_dev_args(int *argc, char **argv);
void lb_dev_args_free(char **args);
