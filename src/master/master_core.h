/* master_core.h — the leader's control loop wired in one place: the agent link, placement,
 * deployer, launcher and health monitor, fed by the state machine's observer.
 *
 * Calls go one way (checked by test/unit/test_master_core_layers.c):
 *
 *     master_core ──► health_monitor ──► launcher ──► deployer
 *          │                               │ └──────► placement ──► scheduler
 *          └──► agent_link ◄── (agent_tx) ─┘
 *
 * Parts call upward only through callbacks set here (placement's and deployer's wake, the
 * agent_tx table). The core takes the log, the clock and the event bus as tables, so the
 * integration tier (test/unit/test_master_core*.c) runs it on the real state machine with fakes
 * of each. */
#pragma once

#include <stdbool.h>

#include "master/agent_link.h"
#include "master/clock.h"
#include "master/core_ports.h"
#include "master/deploy_watch.h"
#include "master/deployer.h"
#include "master/health_monitor.h"
#include "master/launcher.h"
#include "master/placement.h"
#include "store/cluster_state.h"

struct master_core {
        struct core_log log;
        struct clock *clock;       /* borrowed */
        struct event_sink events;
        struct agent_tx tx;        /* the launcher's channel to agents */
        struct agent_link agents;
        struct placement *placement;
        struct deployer *deployer;
        struct deploy_watch *watch; /* fails deployments whose new version keeps failing */
        struct launcher launcher;
        struct health_monitor health;
};

/* Wires the parts. log and events are copied; clock is borrowed. tx NULL: the launcher talks to
 * the agent link (agent_link_tx); tests may pass a recording fake instead. The core must not
 * move afterwards (the parts hold pointers into it). */
void master_core_init(struct master_core *c, const struct core_log *log, struct clock *clock,
                      const struct event_sink *events, const struct agent_tx *tx,
                      const struct agent_link_config *link_cfg);
void master_core_release(struct master_core *c);
/* A role change, in the order the parts need it. */
void master_core_leadership(struct master_core *c, bool leading);
/* The observer that feeds the parts; pass it to state_set_observer. */
struct state_observer master_core_observer(struct master_core *c);
