/* store_fsm.c — the one dispatch table every state mutation goes through (DESIGN.md §4). */
#include "store/store_fsm.h"

#include <errno.h>
#include <string.h>

#include "common/macro.h"
#include "store/auth_store.h"
#include "store/cluster_internal.h"
#include "store/deployments.h"
#include "store/groups.h"
#include "store/jobs.h"
#include "store/vips.h"

/* What to do with a command whose version this master does not implement. */
enum fsm_unknown_version {
        FSM_VERSION_STRICT,         /* always an error */
        FSM_VERSION_SKIP_IF_FLAGGED /* skipped when the command says "ignorable": true */
};

struct fsm_command {
        const char *type;
        int min_version, max_version;
        int (*apply)(struct state *s, const json_t *cmd, json_t **ret_result, struct err *err);
        enum fsm_unknown_version unknown_version;
};

/* clang-format off */
static const struct fsm_command commands[] = {
        { "app_create",   1, 1, fsm_app_create,   FSM_VERSION_SKIP_IF_FLAGGED },
        { "app_update",   1, 1, fsm_app_update,   FSM_VERSION_SKIP_IF_FLAGGED },
        { "app_rollback", 1, 1, fsm_app_rollback, FSM_VERSION_SKIP_IF_FLAGGED },
        { "app_delete",   1, 1, fsm_app_delete,   FSM_VERSION_SKIP_IF_FLAGGED },
        { "app_restart",  1, 1, fsm_app_restart,  FSM_VERSION_SKIP_IF_FLAGGED },
        { "deployment_step",     1, 1, fsm_deployment_step,     FSM_VERSION_SKIP_IF_FLAGGED },
        { "deployment_finish",   1, 1, fsm_deployment_finish,   FSM_VERSION_SKIP_IF_FLAGGED },
        { "deployment_rollback", 1, 1, fsm_deployment_rollback, FSM_VERSION_SKIP_IF_FLAGGED },
        { "group_update",  1, 1, fsm_group_update,  FSM_VERSION_SKIP_IF_FLAGGED },
        { "group_delete",  1, 1, fsm_group_delete,  FSM_VERSION_SKIP_IF_FLAGGED },
        { "group_version", 1, 1, fsm_group_version, FSM_VERSION_SKIP_IF_FLAGGED },
        { "master_set",   1, 1, fsm_master_set,   FSM_VERSION_SKIP_IF_FLAGGED },
        { "agent_register",    1, 1, fsm_agent_register,    FSM_VERSION_SKIP_IF_FLAGGED },
        { "agent_state",       1, 1, fsm_agent_state,       FSM_VERSION_SKIP_IF_FLAGGED },
        { "agent_remove",      1, 1, fsm_agent_remove,      FSM_VERSION_SKIP_IF_FLAGGED },
        { "instances_place",   1, 1, fsm_instances_place,   FSM_VERSION_SKIP_IF_FLAGGED },
        { "instances_status",  1, 1, fsm_instances_status,  FSM_VERSION_SKIP_IF_FLAGGED },
        { "instances_goal",    1, 1, fsm_instances_goal,    FSM_VERSION_SKIP_IF_FLAGGED },
        { "instances_expunge", 1, 1, fsm_instances_expunge, FSM_VERSION_SKIP_IF_FLAGGED },
        { "auth",              1, 1, fsm_auth,              FSM_VERSION_SKIP_IF_FLAGGED },
        { "job_create",          1, 1, fsm_job_create,          FSM_VERSION_SKIP_IF_FLAGGED },
        { "job_update",          1, 1, fsm_job_update,          FSM_VERSION_SKIP_IF_FLAGGED },
        { "job_delete",          1, 1, fsm_job_delete,          FSM_VERSION_SKIP_IF_FLAGGED },
        { "job_schedule_put",    1, 1, fsm_job_schedule_put,    FSM_VERSION_SKIP_IF_FLAGGED },
        { "job_schedule_delete", 1, 1, fsm_job_schedule_delete, FSM_VERSION_SKIP_IF_FLAGGED },
        { "job_tick",            1, 1, fsm_job_tick,            FSM_VERSION_SKIP_IF_FLAGGED },
        { "job_run_start",       1, 1, fsm_job_run_start,       FSM_VERSION_SKIP_IF_FLAGGED },
        { "job_run_update",      1, 1, fsm_job_run_update,      FSM_VERSION_SKIP_IF_FLAGGED },
        { "vip_alloc",           1, 1, fsm_vip_alloc,           FSM_VERSION_SKIP_IF_FLAGGED },
        { "vip_release",         1, 1, fsm_vip_release,         FSM_VERSION_SKIP_IF_FLAGGED },
};
/* clang-format on */

static const struct fsm_command *find(const char *type) {
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                if (streq(commands[i].type, type))
                        return &commands[i];
        return NULL;
}

int store_fsm_apply(struct state *s, const json_t *cmd, json_t **ret_result, struct err *err) {
        const char *type = json_string_value(json_object_get(cmd, "type"));
        json_t *v = json_object_get(cmd, "v");
        bool ignorable = json_is_true(json_object_get(cmd, "ignorable"));

        if (ret_result)
                *ret_result = NULL;
        if (!json_is_object(cmd) || !type)
                return err_set(err, -EINVAL, "command without a \"type\"");
        if (v && !json_is_integer(v))
                return err_set(err, -EINVAL, "command '%s': \"v\" is not an integer", type);
        json_int_t version = v ? json_integer_value(v) : 1;

        const struct fsm_command *c = find(type);
        if (!c) {
                if (ignorable)
                        return 0;
                return err_set(err, -ENOTSUP, "unknown command '%s' (version %lld)", type,
                               (long long)version);
        }
        if (version < c->min_version || version > c->max_version) {
                if (ignorable && c->unknown_version == FSM_VERSION_SKIP_IF_FLAGGED)
                        return 0;
                return err_set(err, -ENOTSUP, "command '%s' version %lld is not supported (%d..%d)", type,
                               (long long)version, c->min_version, c->max_version);
        }
        int r = c->apply(s, cmd, ret_result, err);
        /* The observer hears about the command once it is wholly applied (nothing on failure:
         * handlers are atomic). */
        cluster_notify(state_cluster(s), r >= 0);
        return r;
}
