/* deploy_failure.c — the "this version keeps failing" rule (see deploy_failure.h). */
#include "model/deploy_failure.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/util.h"

static int label_uint(const json_t *labels, const char *name, unsigned max, unsigned *v, struct err *err) {
        const char *s = json_string_value(json_object_get(labels, name));
        if (!s)
                return 0;
        char *end;
        errno = 0;
        long long n = strtoll(s, &end, 10);
        if (errno || end == s || *end || n < 0 || n > max)
                return err_set(err, -EINVAL, "label %s: '%s' is not a whole number from 0 to %u", name, s, max);
        *v = (unsigned)n;
        return 0;
}

int deploy_failure_policy_of(const json_t *app, struct deploy_failure_policy *ret, struct err *err) {
        struct deploy_failure_policy p = { .max_failures = DEPLOY_FAILURE_DEFAULT_MAX,
                                           .min_healthy_s = DEPLOY_FAILURE_DEFAULT_MIN_HEALTHY_S,
                                           .on_failure = DEPLOY_ON_FAILURE_FAIL };
        const json_t *labels = json_object_get(app, "labels");
        int r = label_uint(labels, "STRATA_DEPLOY_MAX_FAILURES", 1000000, &p.max_failures, err);
        if (r == 0)
                r = label_uint(labels, "STRATA_DEPLOY_MIN_HEALTHY_SECONDS", 86400, &p.min_healthy_s, err);
        const char *on = json_string_value(json_object_get(labels, "STRATA_DEPLOY_ON_FAILURE"));
        if (r == 0 && on) {
                if (streq(on, "rollback"))
                        p.on_failure = DEPLOY_ON_FAILURE_ROLLBACK;
                else if (!streq(on, "fail"))
                        r = err_set(err, -EINVAL, "label STRATA_DEPLOY_ON_FAILURE: '%s' is not fail or rollback", on);
        }
        *ret = p;
        return r;
}

int64_t deploy_failure_min_healthy_ms(const json_t *app) {
        struct deploy_failure_policy p;
        struct err e = { 0 };
        (void)deploy_failure_policy_of(app, &p, &e); /* logged where failures are counted */
        err_release(&e);
        return (int64_t)p.min_healthy_s * 1000;
}

bool deploy_task_proves(const struct deploy_failure_policy *p, const struct deploy_task *t, int64_t now_ms) {
        if (t->started_ms <= 0)
                return false;
        int64_t need = (int64_t)p->min_healthy_s * 1000;
        if (t->ended_ms > 0)
                return t->ended_ms - t->started_ms >= need;
        return t->running && t->healthy && now_ms - t->started_ms >= need;
}

bool deploy_failure_note(const struct deploy_failure_policy *p, struct deploy_failure_count *c,
                         const struct deploy_task *failed, int64_t now_ms) {
        if (c->proven)
                return false;
        if (deploy_task_proves(p, failed, now_ms)) {
                c->proven = true;
                return false;
        }
        c->failures++;
        return p->max_failures > 0 && c->failures >= p->max_failures;
}

char *deploy_failure_reason(const struct deploy_failure_policy *p, const struct deploy_failure_count *c,
                            const char *app_id, const char *message) {
        return xasprintf("%u task%s of %s failed before one ran %u s%s%s%s", c->failures, c->failures == 1 ? "" : "s",
                         app_id, p->min_healthy_s, " healthy", message && *message ? "; last: " : "",
                         message && *message ? message : "");
}
