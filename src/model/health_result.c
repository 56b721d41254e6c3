/* health_result.c — JSON codec of health check results (wire and Marathon forms). */
#include "model/health_result.h"

#include <errno.h>
#include <string.h>

#include "common/timeutil.h"

static json_t *ms_or_null(int64_t ms) {
        return ms > 0 ? json_integer((json_int_t)ms) : json_null();
}

json_t *health_result_to_json(const struct health_result *r) {
        if (!r->known)
                return json_null();
        return json_pack("{s:b,s:I,s:o,s:o,s:o,s:s?}", "alive", r->alive, "consecutiveFailures",
                         (json_int_t)r->consecutive_failures, "firstSuccess", ms_or_null(r->first_success_ms),
                         "lastSuccess", ms_or_null(r->last_success_ms), "lastFailure",
                         ms_or_null(r->last_failure_ms), "lastFailureCause", r->cause[0] ? r->cause : NULL);
}

/* A time member: absent or null is 0; otherwise a non-negative integer. */
static int get_ms(const json_t *o, const char *key, int64_t *ret) {
        const json_t *v = json_object_get(o, key);
        if (!v || json_is_null(v)) {
                *ret = 0;
                return 0;
        }
        if (!json_is_integer(v) || json_integer_value(v) < 0)
                return -EINVAL;
        *ret = json_integer_value(v);
        return 0;
}

static int parse_one(const json_t *o, struct health_result *r) {
        *r = (struct health_result){ 0 };
        if (json_is_null(o))
                return 0;
        if (!json_is_object(o))
                return -EINVAL;
        const json_t *alive = json_object_get(o, "alive");
        const json_t *cf = json_object_get(o, "consecutiveFailures");
        const json_t *cause = json_object_get(o, "lastFailureCause");
        if (!json_is_boolean(alive) || !json_is_integer(cf) || json_integer_value(cf) < 0 ||
            json_integer_value(cf) > UINT32_MAX)
                return -EINVAL;
        if (get_ms(o, "firstSuccess", &r->first_success_ms) < 0 || get_ms(o, "lastSuccess", &r->last_success_ms) < 0 ||
            get_ms(o, "lastFailure", &r->last_failure_ms) < 0)
                return -EINVAL;
        if (cause && !json_is_null(cause)) {
                if (!json_is_string(cause) || json_string_length(cause) > HEALTH_MAX_CAUSE_LEN ||
                    strlen(json_string_value(cause)) != json_string_length(cause))
                        return -EINVAL;
                memcpy(r->cause, json_string_value(cause), json_string_length(cause) + 1);
        }
        r->known = true;
        r->alive = json_is_true(alive);
        r->consecutive_failures = (uint32_t)json_integer_value(cf);
        return 0;
}

int health_results_from_json(const json_t *arr, struct health_result ret[static HEALTH_MAX_CHECKS], size_t *n,
                             struct err *err) {
        struct health_result tmp[HEALTH_MAX_CHECKS];
        size_t i;
        const json_t *o;
        if (!json_is_array(arr) || json_array_size(arr) > HEALTH_MAX_CHECKS)
                return err_set(err, -EINVAL, "health results must be an array of at most %d elements",
                               HEALTH_MAX_CHECKS);
        json_array_foreach(arr, i, o) {
                if (parse_one(o, &tmp[i]) < 0)
                        return err_set(err, -EINVAL,
                                       "health result %zu must be null or {alive, consecutiveFailures, firstSuccess?, "
                                       "lastSuccess?, lastFailure?, lastFailureCause? (at most %d bytes)}",
                                       i, HEALTH_MAX_CAUSE_LEN);
        }
        memset(ret, 0, HEALTH_MAX_CHECKS * sizeof *ret);
        memcpy(ret, tmp, json_array_size(arr) * sizeof *tmp);
        *n = json_array_size(arr);
        return 0;
}

static json_t *iso_or_null(int64_t ms) {
        if (ms <= 0)
                return json_null();
        char buf[25];
        time_format_ms(ms, buf);
        return json_string(buf);
}

json_t *health_result_marathon_json(const struct health_result *r, const char *instance_id) {
        return json_pack("{s:b,s:I,s:o,s:o,s:o,s:s?,s:s}", "alive", r->alive, "consecutiveFailures",
                         (json_int_t)r->consecutive_failures, "firstSuccess", iso_or_null(r->first_success_ms),
                         "lastSuccess", iso_or_null(r->last_success_ms), "lastFailure",
                         iso_or_null(r->last_failure_ms), "lastFailureCause", r->cause[0] ? r->cause : NULL,
                         "instanceId", instance_id);
}

int health_results_healthy(const struct health_result *r, size_t n) {
        int h = -1;
        for (size_t i = 0; i < n; i++) {
                if (!r[i].known)
                        continue;
                if (!r[i].alive)
                        return 0;
                h = 1;
        }
        return h;
}
