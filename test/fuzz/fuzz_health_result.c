/* fuzz_health_result.c — health results come from agents (status updates' "health") and from
 * replicated commands: the parser must reject garbage cleanly, and whatever it accepts must
 * encode and parse back to the same results. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/health_result.h"

static bool same(const struct health_result *a, const struct health_result *b) {
        return a->known == b->known && a->alive == b->alive && a->consecutive_failures == b->consecutive_failures &&
               a->first_success_ms == b->first_success_ms && a->last_success_ms == b->last_success_ms &&
               a->last_failure_ms == b->last_failure_ms && strcmp(a->cause, b->cause) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        json_t *doc = json_loadb((const char *)data, size, 0, NULL);
        if (!doc)
                return 0;
        struct health_result r[HEALTH_MAX_CHECKS], back[HEALTH_MAX_CHECKS];
        size_t n, m;
        struct err e = { 0 };
        if (health_results_from_json(doc, r, &n, &e) == 0) {
                json_t *arr = json_array();
                for (size_t i = 0; i < n; i++) {
                        json_array_append_new(arr, health_result_to_json(&r[i]));
                        json_decref(health_result_marathon_json(&r[i], "app.instance-x"));
                }
                if (health_results_from_json(arr, back, &m, NULL) != 0 || m != n)
                        abort();
                for (size_t i = 0; i < n; i++)
                        if (!same(&r[i], &back[i]))
                                abort();
                (void)health_results_healthy(r, n);
                json_decref(arr);
        }
        err_release(&e);
        json_decref(doc);
        return 0;
}
