/* master_core.c — wiring the core's parts (master_core.h) and the real log. */
#include "master/master_core.h"

#include "master/event_json.h"
#include "store/cluster_state.h"

/* --- the Raft store as the core's log --------------------------------------------------------- */

static void store_log_submit(void *impl, json_t *cmd, store_submit_cb cb, void *data) {
        store_submit(impl, cmd, cb, data);
}

static struct state *store_log_state(void *impl) {
        return store_state(impl);
}

static void store_log_position(void *impl, uint64_t *ret_term, uint64_t *ret_applied) {
        struct store_status st;
        store_status(impl, &st);
        *ret_term = st.term;
        *ret_applied = st.last_applied;
}

struct core_log core_log_store(struct store *s) {
        static const struct core_log_ops ops = {
                .submit = store_log_submit,
                .state = store_log_state,
                .position = store_log_position,
        };
        return (struct core_log){&ops, s};
}

/* --- wiring ------------------------------------------------------------------------------------ */

static void wake_app(const char *app_id, void *data) {
        launcher_app_changed(data, app_id);
}

void master_core_init(struct master_core *c, const struct core_log *log, struct clock *clock,
                      const struct event_sink *events, const struct agent_tx *tx,
                      const struct agent_link_config *link_cfg) {
        *c = (struct master_core){.log = *log, .clock = clock};
        if (events)
                c->events = *events;
        agent_link_init(&c->agents, &c->log, clock, link_cfg);
        c->tx = tx ? *tx : agent_link_tx(&c->agents);
        c->placement = placement_new(&c->log, clock, wake_app, &c->launcher);
        c->deployer = deployer_new(&c->log, clock, &c->events, wake_app, &c->launcher);
        c->watch = deploy_watch_new(&c->log, clock);
        deployer_set_failure_hook(c->deployer, deploy_watch_failure, c->watch);
        deployer_set_reason_hook(c->deployer, deploy_watch_reason, c->watch);
        struct launcher_deps deps = {
                .log = &c->log,
                .clock = clock,
                .agents = &c->tx,
                .placement = c->placement,
                .deployer = c->deployer,
        };
        launcher_init(&c->launcher, &deps);
        health_monitor_init(&c->health, &c->log, &c->events, &c->launcher);
}

void master_core_release(struct master_core *c) {
        health_monitor_release(&c->health);
        launcher_release(&c->launcher);
        deployer_free(c->deployer);
        deploy_watch_free(c->watch);
        c->watch = NULL;
        placement_free(c->placement);
        agent_link_release(&c->agents);
        c->deployer = NULL;
        c->placement = NULL;
}

void master_core_leadership(struct master_core *c, bool leading) {
        /* The link first: a new leader gives every agent a full timeout from now. The deployer
         * before the launcher, whose first passes ask it which apps are held back. */
        agent_link_leadership(&c->agents, leading);
        deployer_leadership(c->deployer, leading);
        deploy_watch_leadership(c->watch, leading);
        launcher_leadership(&c->launcher, leading);
        health_monitor_leadership(&c->health, leading);
}

/* --- the state observer ------------------------------------------------------------------------ */

static void obs_app_changed(const char *app_id, void *data) {
        struct master_core *c = data;
        launcher_app_changed(&c->launcher, app_id);
}

static void obs_agent_changed(const char *agent_id, void *data) {
        struct master_core *c = data;
        launcher_agent_changed(&c->launcher, agent_id);
}

static void obs_instance_changed(const struct instance *i, enum task_state old, void *data) {
        struct master_core *c = data;
        launcher_instance_changed(&c->launcher, i, (int)old);
        health_monitor_instance_changed(&c->health, i);
        enum task_state now = (enum task_state)i->state;
        if (task_state_is_terminal(now) && !task_state_is_terminal(old) && task_state_is_failure(now) &&
            i->goal == GOAL_RUNNING)
                deployer_instance_failed(c->deployer, i);
        /* Only the leader has subscribers (events_wanted is false elsewhere). A change of health
         * or readiness alone is not a status update. */
        if (i->state == old)
                return;
        const struct state *st = core_state(&c->log);
        if (event_wanted(&c->events, "status_update_event"))
                event_emit(&c->events, "status_update_event", event_status_update(st, i));
        if (event_wanted(&c->events, "instance_changed_event"))
                event_emit(&c->events, "instance_changed_event", event_instance_changed(st, i));
}

static void obs_instance_removed(const char *instance_id, const char *app_id, void *data) {
        struct master_core *c = data;
        launcher_instance_removed(&c->launcher, instance_id, app_id);
        health_monitor_instance_removed(&c->health, instance_id);
}

static void obs_deployment_changed(const json_t *record, const char *what, void *data) {
        struct master_core *c = data;
        deployer_deployment_changed(c->deployer, record, what);
}

static void obs_restored(void *data) {
        struct master_core *c = data;
        launcher_state_restored(&c->launcher);
}

struct state_observer master_core_observer(struct master_core *c) {
        return (struct state_observer){
                .app_changed = obs_app_changed,
                .agent_changed = obs_agent_changed,
                .instance_changed = obs_instance_changed,
                .instance_removed = obs_instance_removed,
                .restored = obs_restored,
                .deployment_changed = obs_deployment_changed,
                .data = c,
        };
}
