/* test_store_cluster_scale.c — master memory per instance at scale: 1,000,000 instances of 1,000
 * apps over 5,000 agents, inserted through the real command path (encoded to JSON text, parsed,
 * applied by store_fsm_apply, as a Raft entry would be), then all set running and healthy.
 * Reports RSS growth per instance and checks it against the target of 1 KiB (indexes included).
 *
 * Not a timed test: nothing here asserts on speed. STRATA_SCALE_INSTANCES overrides the count
 * (sanitizer builds default to 50,000 and skip the RSS bound: redzones inflate it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/timeutil.h"
#include "model/app.h"
#include "store/cluster_state.h"
#include "store/snapshot.h"
#include "store/state.h"
#include "store/store_fsm.h"

#include <raft.h>

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

#define N_APPS 1000
#define N_AGENTS 5000
#define BATCH 2000
#define T0 INT64_C(1700000000000)

static size_t rss_bytes(void) {
        FILE *f = fopen("/proc/self/statm", "re");
        unsigned long size = 0, resident = 0;
        if (!f || fscanf(f, "%lu %lu", &size, &resident) != 2)
                fail_msg("cannot read /proc/self/statm");
        fclose(f);
        return resident * (size_t)sysconf(_SC_PAGESIZE);
}

static uint64_t parse_ns, apply_ns;

/* Applies cmd (ownership taken) the way a follower applies a Raft entry: from JSON text. */
static void apply_text(struct state *s, json_t *cmd) {
        char *text = json_dumps(cmd, JSON_COMPACT);
        json_decref(cmd);
        json_error_t jerr;
        uint64_t t0 = time_mono_ns();
        json_t *parsed = json_loads(text, 0, &jerr);
        uint64_t t1 = time_mono_ns();
        free(text);
        assert_non_null(parsed);
        struct err e = {0};
        int r = store_fsm_apply(s, parsed, NULL, &e);
        uint64_t t2 = time_mono_ns();
        parse_ns += t1 - t0;
        apply_ns += t2 - t1;
        if (r < 0)
                fail_msg("apply: %s", err_msg(&e));
        json_decref(parsed);
}

static void instance_id(size_t k, char buf[static 96]) {
        /* "<app>.instance-<uuid>._app" as Marathon names tasks; the uuid is made from k. */
        uint64_t h = (uint64_t)k * 0x9E3779B97F4A7C15ULL;
        snprintf(buf, 96, "/prod/app-%04zu.instance-%08x-%04x-4%03x-8%03x-%012llx._app", k % N_APPS,
                 (unsigned)(h >> 32), (unsigned)(h >> 16) & 0xffff, (unsigned)h & 0xfff,
                 (unsigned)(k & 0xfff), (unsigned long long)(k * 2654435761ULL) & 0xffffffffffffULL);
}

static void one_million_instances_cost_under_a_kib_each(void **unused) {
        size_t n = SANITIZED ? 50000 : 1000000;
        const char *env = getenv("STRATA_SCALE_INSTANCES");
        if (env && atol(env) > 0)
                n = (size_t)atol(env);
        struct state *s = state_new();
        char ts[25], id[96], app[32], agent[96];
        time_format_ms(T0, ts);

        for (int k = 0; k < N_AGENTS; k++) {
                snprintf(id, sizeof id, "host-%04d", k);
                apply_text(s, json_pack("{s:s,s:{s:s,s:s,s:{s:f,s:f,s:f,s:[[i,i]]},s:{s:s}},s:s,s:s}", "type",
                                        "agent_register", "agent", "hostname", id, "address", "10.1.2.3:5051",
                                        "resources", "cpus", 1000.0, "mem", 4096000.0, "disk", 1e6, "ports",
                                        1024, 65535, "attributes", "rack", "r1", "clusterId",
                                        "0c6f9f5e-1b2a-4c3d-8e4f-5a6b7c8d9e0f", "ts", ts));
        }
        for (int k = 0; k < N_APPS; k++) {
                snprintf(app, sizeof app, "/prod/app-%04d", k);
                json_t *in = json_pack("{s:s,s:i,s:s,s:f,s:f}", "id", app, "instances", 1000, "cmd",
                                       "sleep 1000", "cpus", 0.1, "mem", 64.0),
                       *doc = NULL;
                struct err e = {0};
                assert_int_equal(app_normalize(in, "/", &doc, &e), 0);
                json_decref(in);
                apply_text(s, json_pack("{s:s,s:o,s:s}", "type", "app_create", "app", doc, "ts", ts));
        }
        const char *version =
                json_string_value(json_object_get(state_app_get(s, "/prod/app-0000"), "version"));
        char version_buf[32];
        snprintf(version_buf, sizeof version_buf, "%s", version);

        size_t before = rss_bytes();
        uint64_t t_start = time_mono_ns();
        parse_ns = apply_ns = 0;
        for (size_t k = 0; k < n; k += BATCH) {
                json_t *items = json_array();
                for (size_t j = k; j < k + BATCH && j < n; j++) {
                        instance_id(j, id);
                        snprintf(app, sizeof app, "/prod/app-%04zu", j % N_APPS);
                        snprintf(agent, sizeof agent, "0c6f9f5e-1b2a-4c3d-8e4f-5a6b7c8d9e0f-S%zu",
                                 (j / 7) % N_AGENTS);
                        uint16_t port = (uint16_t)(10000 + j % 50000);
                        json_array_append_new(items,
                                              cluster_place_item(id, app, version_buf, agent, &port, 1));
                }
                apply_text(s, json_pack("{s:s,s:o,s:s}", "type", "instances_place", "instances", items, "ts",
                                        ts));
        }
        uint64_t t_placed = time_mono_ns();
        size_t placed = rss_bytes();
        uint64_t place_parse = parse_ns, place_apply = apply_ns;
        parse_ns = apply_ns = 0;
        assert_int_equal(state_instance_count(s), n);

        for (size_t k = 0; k < n; k += BATCH) {
                json_t *items = json_array();
                for (size_t j = k; j < k + BATCH && j < n; j++) {
                        instance_id(j, id);
                        json_array_append_new(items,
                                              cluster_status_item(id, TASK_RUNNING, T0 + 1000, NULL, 1));
                }
                apply_text(s, json_pack("{s:s,s:o,s:s}", "type", "instances_status", "updates", items, "ts",
                                        ts));
        }
        uint64_t t_running = time_mono_ns();
        size_t running = rss_bytes();
        struct state_app_counts k0;
        state_app_counts(s, "/prod/app-0000", &k0);
        assert_int_equal(k0.running, (n + N_APPS - 1) / N_APPS);
        assert_int_equal(k0.healthy, k0.running);

        double per_placed = (double)(placed - before) / (double)n;
        double per_running = (double)(running - before) / (double)n;
        print_message("instances: %zu of %d apps on %d agents (sanitized: %d)\n", n, N_APPS, N_AGENTS,
                      SANITIZED);
        print_message("RSS before: %.1f MiB; placed: +%.1f MiB (%.0f B/instance); running+healthy: +%.1f MiB "
                      "(%.0f B/instance)\n",
                      (double)before / 1048576, (double)(placed - before) / 1048576, per_placed,
                      (double)(running - before) / 1048576, per_running);
        print_message("place: %.2f s in all, of which JSON parse %.2f s, store_fsm_apply %.2f s (%.2f "
                      "us/instance)\n",
                      (double)(t_placed - t_start) / 1e9, (double)place_parse / 1e9,
                      (double)place_apply / 1e9, (double)place_apply / 1e3 / (double)n);
        print_message("status: %.2f s in all, of which JSON parse %.2f s, store_fsm_apply %.2f s (%.2f "
                      "us/instance)\n",
                      (double)(t_running - t_placed) / 1e9, (double)parse_ns / 1e9, (double)apply_ns / 1e9,
                      (double)apply_ns / 1e3 / (double)n);
        if (getenv("STRATA_SCALE_SNAPSHOT")) {
                void *buf;
                size_t len;
                uint64_t t0 = time_mono_ns();
                assert_int_equal(snapshot_encode(s, &buf, &len), 0);
                uint64_t t1 = time_mono_ns();
                size_t peak = rss_bytes();
                struct state *t = state_new();
                struct err e = {0};
                assert_int_equal(snapshot_restore(t, buf, len, &e), 0);
                uint64_t t2 = time_mono_ns();
                print_message(
                        "snapshot: %.1f MiB, encode %.2f s, restore %.2f s, RSS after encode %.1f MiB\n",
                        (double)len / 1048576, (double)(t1 - t0) / 1e9, (double)(t2 - t1) / 1e9,
                        (double)peak / 1048576);
                assert_int_equal(state_instance_count(t), n);
                raft_free(buf);
                state_free(t);
        }
        if (!SANITIZED && n >= 100000)
                assert_true(per_running <= 1024.0);
        state_free(s);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(one_million_instances_cost_under_a_kib_each),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
