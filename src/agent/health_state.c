/* health_state.c — the pure health state machine (health_state.h). */
#include "agent/health_state.h"

#include <stdio.h>
#include <string.h>

int64_t health_first_check_ms(const struct health_policy *p, int64_t started_ms) {
        return started_ms + (p->mesos ? p->delay_ms : 0);
}

unsigned health_apply(struct health_result *r, const struct health_policy *p, int64_t started_ms, int64_t now_ms,
                      enum health_outcome o, const char *cause) {
        unsigned changed = 0;
        switch (o) {
        case HEALTH_IGNORED:
                return 0;
        case HEALTH_SUCCESS:
                if (!r->known || !r->alive)
                        changed |= HEALTH_CHANGED_ALIVE;
                if (r->consecutive_failures)
                        changed |= HEALTH_CHANGED_FAILURES;
                r->known = r->alive = true;
                r->consecutive_failures = 0;
                if (!r->first_success_ms)
                        r->first_success_ms = now_ms;
                r->last_success_ms = now_ms;
                return changed;
        case HEALTH_FAILURE:
                /* "failures ignored until first success or grace elapsed" */
                if (!r->first_success_ms && now_ms < started_ms + p->grace_ms)
                        return 0;
                if (!r->known || r->alive)
                        changed |= HEALTH_CHANGED_ALIVE;
                r->known = true;
                r->alive = false;
                r->consecutive_failures++;
                r->last_failure_ms = now_ms;
                snprintf(r->cause, sizeof r->cause, "%s", cause ? cause : "");
                return changed | HEALTH_CHANGED_FAILURES;
        }
        return 0;
}

enum health_outcome health_http_outcome(long status, bool ignore_1xx, char *cause, size_t cap) {
        if (status >= 200 && status <= 399)
                return HEALTH_SUCCESS;
        if (status >= 100 && status <= 199 && ignore_1xx)
                return HEALTH_IGNORED;
        snprintf(cause, cap, "HTTP %ld", status);
        return HEALTH_FAILURE;
}

bool health_failed(const struct health_result *r, const struct health_policy *p) {
        return p->max_failures > 0 && r->consecutive_failures >= p->max_failures;
}
