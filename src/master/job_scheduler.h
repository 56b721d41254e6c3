/* job_scheduler.h — the leader's job duties: schedule ticks (model/tick.h's decision, committed
 * before anything runs), and each run's life: place and launch its task, follow its status,
 * relaunch it under ON_FAILURE until activeDeadlineSeconds, stop it.
 *
 * A pass looks at the jobs something happened to (its own commits, the jobs API, status updates
 * of their tasks) one loop turn later, and at each job again at the wake time its decisions asked
 * for (a heap of wake times); every job only after a leadership change or a reconciliation. Every action is a committed command first: "tick T
 * started run R" (job_tick) before the run's task is placed, the task's agent (job_run_update)
 * before its LAUNCH is sent. A command that fails (leadership lost, a tick another leader
 * handled) changes nothing and the next pass decides again from the committed state. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct master;
struct job_scheduler;

struct job_scheduler *job_scheduler_new(struct master *m);
void job_scheduler_free(struct job_scheduler *js); /* NULL: nothing */
void job_scheduler_leadership(struct job_scheduler *js, bool leading);
/* Something about many jobs changed: look at all of them on the next loop turn. */
void job_scheduler_poke(struct job_scheduler *js);
/* Job job_id changed (a commit about it): look at it (and at jobs with dependencies) on the
 * next loop turn. */
void job_scheduler_poke_job(struct job_scheduler *js, const char *job_id);

/* A run was stopped by a user (committed): kill its live task. */
void job_scheduler_stop_run(struct job_scheduler *js, const char *job_id, const char *run_id);

/* Agent-link hooks, for task ids that are not instances (a job run's tasks are not). A status
 * update: returns true if the task belongs to an active job run (the update is then applied
 * here). */
bool job_scheduler_task_status(struct job_scheduler *js, const char *agent_id, const char *task_id,
                               const char *state, const char *message, int64_t ts_ms);
/* True if an agent that reports this task should keep running it (an active run's live task). */
bool job_scheduler_owns_task(struct job_scheduler *js, const char *agent_id, const char *task_id);

/* An agent (re)subscribed and reported the tasks it runs (the agent link's reported array of
 * {"taskId", "state"}): active runs' tasks on it that it does not report are lost, or, if they
 * were never seen starting, their LAUNCH is sent again (the agent launches a task id once). */
void job_scheduler_agent_reconciled(struct job_scheduler *js, const char *agent_id, const void *reported_json);

/* When the schedule fires next (ms), or -1 (disabled, never). For GET …/schedules' nextRunAt. */
int64_t job_scheduler_next_run(const void *schedule_json, int64_t after_ms);
