/* test_master_queue_offers.c — lastUnusedOffers: per agent, why the app's next instance does not
 * fit there now, from the committed state. */
#include "test_store_cluster.h"

#include "master/queue_offers.h"

static json_t *entry(const char *app_json, const char *declined) {
        char text[1024];
        snprintf(text, sizeof text,
                 "{\"app\":%s,\"processedOffersSummary\":{\"rejectSummaryLastOffers\":[%s]}}", app_json,
                 declined ? declined : "");
        json_t *e = json_loads(text, 0, NULL);
        assert_non_null(e);
        return e;
}

static const char *reasons_of(const json_t *offers, const char *agent) {
        static char buf[256];
        size_t i, j;
        const json_t *o, *r;
        json_array_foreach(offers, i, o) {
                if (strcmp(json_string_value(json_object_get(json_object_get(o, "offer"), "agentId")), agent) != 0)
                        continue;
                buf[0] = 0;
                json_array_foreach(json_object_get(o, "reason"), j, r) {
                        strcat(buf, j ? "," : "");
                        strcat(buf, json_string_value(r));
                }
                return buf;
        }
        return NULL;
}

static void each_agent_says_why(void **state) {
        struct state *s = state_new();
        const char *small = reg(s, NULL, "small", 1, 500);
        char small_id[128];
        snprintf(small_id, sizeof small_id, "%s", small);
        const char *big = reg(s, NULL, "big", 8, 4000);
        char big_id[128];
        snprintf(big_id, sizeof big_id, "%s", big);

        /* too big for the small agent only */
        json_t *e = entry("{\"id\":\"/web\",\"cpus\":2,\"mem\":1000,\"disk\":0}", NULL);
        json_t *offers = queue_offers_last_unused(s, e, "2026-01-01T00:00:00.000Z");
        assert_int_equal(json_array_size(offers), 1);
        assert_string_equal(reasons_of(offers, small_id), "InsufficientCpus,InsufficientMemory");
        json_t *o = json_array_get(offers, 0);
        assert_string_equal(json_string_value(json_object_get(json_object_get(o, "offer"), "hostname")), "small");
        assert_string_equal(json_string_value(json_object_get(o, "timestamp")), "2026-01-01T00:00:00.000Z");
        json_decref(offers);
        json_decref(e);

        /* the pass declined for constraints: agents that fit say so */
        e = entry("{\"id\":\"/web\",\"cpus\":0.5,\"mem\":100}",
                  "{\"reason\":\"UnfulfilledConstraint\",\"declined\":2,\"processed\":2}");
        offers = queue_offers_last_unused(s, e, "t");
        assert_string_equal(reasons_of(offers, small_id), "UnfulfilledConstraint");
        assert_string_equal(reasons_of(offers, big_id), "UnfulfilledConstraint");
        json_decref(offers);
        json_decref(e);

        /* a role no agent offers; a draining agent */
        assert_int_equal(apply(s, json_pack("{s:s,s:s,s:s,s:s}", "type", "agent_state", "id", big_id, "state",
                                            "draining", "ts", ts_iso(T0 + 10)),
                               NULL),
                         0);
        e = entry("{\"id\":\"/web\",\"cpus\":0.5,\"mem\":100,\"acceptedResourceRoles\":[\"slave_public\"]}", NULL);
        offers = queue_offers_last_unused(s, e, "t");
        assert_string_equal(reasons_of(offers, small_id), "UnfulfilledRole");
        assert_string_equal(reasons_of(offers, big_id), "AgentMaintenance,UnfulfilledRole");
        json_decref(offers);
        json_decref(e);

        /* fits everywhere and nothing was declined: no agent to blame */
        e = entry("{\"id\":\"/web\",\"cpus\":0.5,\"mem\":100}", NULL);
        assert_int_equal(apply(s, json_pack("{s:s,s:s,s:s,s:s}", "type", "agent_state", "id", big_id, "state",
                                            "active", "ts", ts_iso(T0 + 20)),
                               NULL),
                         0);
        offers = queue_offers_last_unused(s, e, "t");
        assert_int_equal(json_array_size(offers), 0);
        json_decref(offers);
        json_decref(e);
        state_free(s);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(each_agent_says_why),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
