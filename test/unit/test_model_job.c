/* test_model_job.c — Metronome job and schedule validation: every Metronome fixture of the shared
 * research folder is accepted or rejected as Metronome does, plus the schema's and the semantic
 * rules' error bodies, canonical defaults and run documents. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model/job.h"

static char root[4096];

static int find_fixtures(void **state) {
        const char *env = getenv("STRATA_FIXTURES");
        const char *roots[] = { env ? env : "", "../shared/research/fixtures", "../../shared/research/fixtures",
                                "/work/shared/research/fixtures" };
        for (size_t i = 0; i < sizeof roots / sizeof roots[0]; i++) {
                char probe[4200];
                snprintf(probe, sizeof probe, "%s/MANIFEST.tsv", roots[i]);
                if (roots[i][0] && fopen(probe, "r")) {
                        snprintf(root, sizeof root, "%s", roots[i]);
                        return 0;
                }
        }
        fail_msg("shared fixtures not found: set STRATA_FIXTURES to .../shared/research/fixtures");
        return -1;
}

/* What Metronome does with each JSON fixture. */
enum expect {
        JOB_OK,        /* POST /v1/jobs accepts it */
        JOB_BAD,       /* 422 */
        JOBS_MIXED,    /* an array of jobs: per element, see `elements` */
        SCHEDULE_OK,   /* POST /v1/jobs/{id}/schedules accepts it (an array: every element) */
        BAD_JSON,      /* 400: not JSON */
        RUN_SHAPE,     /* a JobRun response (or an array of them): our JSON has exactly its keys */
        NOT_A_JOB,     /* a response or config file: rejected as a job body */
};

static const struct {
        const char *path;
        enum expect expect;
        const char *elements; /* JOBS_MIXED: "+-" per element; JOB_BAD: a path the details name */
} fixtures[] = {
        { "metronome/api/src/main/resources/public/api/v1/examples/job.json", JOB_OK, NULL },
        /* The upstream example omits "disk", which the schema requires. */
        { "metronome/api/src/main/resources/public/api/v1/examples/job_docker_param.json", JOB_BAD, "/run" },
        { "metronome/api/src/main/resources/public/api/v1/examples/job_file_based_secrets.json", JOB_OK, NULL },
        /* The second job's id "cleanDb --force" breaks the id pattern. */
        { "metronome/api/src/main/resources/public/api/v1/examples/job_list.json", JOBS_MIXED, "+-" },
        { "metronome/api/src/main/resources/public/api/v1/examples/job_secrets.json", JOB_OK, NULL },
        { "metronome/api/src/main/resources/public/api/v1/examples/job_ucr.json", JOB_OK, NULL },
        { "metronome/api/src/main/resources/public/api/v1/examples/queue_job_list.json", NOT_A_JOB, NULL },
        { "metronome/api/src/main/resources/public/api/v1/examples/run.json", RUN_SHAPE, NULL },
        { "metronome/api/src/main/resources/public/api/v1/examples/run_list.json", RUN_SHAPE, NULL },
        { "metronome/api/src/main/resources/public/api/v1/examples/schedule.json", SCHEDULE_OK, NULL },
        { "metronome/api/src/main/resources/public/api/v1/examples/schedule_list.json", SCHEDULE_OK, NULL },
        { "metronome/api/src/main/resources/public/api/v0/examples/job.json", JOB_OK, NULL },
        { "metronome/api/src/main/resources/public/api/general/examples/info.json", NOT_A_JOB, NULL },
        { "metronome/api/src/main/resources/public/api/general/schema/info.schema.json", NOT_A_JOB, NULL },
        { "metronome/api/src/main/resources/public/api/v0/schema/jobspec_v0.schema.json", NOT_A_JOB, NULL },
        { "metronome/api/src/main/resources/public/api/v1/schema/jobspec.schema.json", NOT_A_JOB, NULL },
        { "metronome/api/src/main/resources/public/api/v1/schema/schedulespec.schema.json", NOT_A_JOB, NULL },
        { "dcos-core-cli/python/lib/dcoscli/tests/data/metronome/jobs/bad.json", BAD_JSON, NULL },
        { "dcos-core-cli/python/lib/dcoscli/tests/data/metronome/jobs/gyarados.json", JOB_OK, NULL },
        { "dcos-core-cli/python/lib/dcoscli/tests/data/metronome/jobs/job-env.json", JOB_OK, NULL },
        { "dcos-core-cli/python/lib/dcoscli/tests/data/metronome/jobs/missing-desc.json", JOB_OK, NULL },
        { "dcos-core-cli/python/lib/dcoscli/tests/data/metronome/jobs/pikachu.json", JOB_OK, NULL },
        { "dcos-core-cli/python/lib/dcoscli/tests/data/metronome/jobs/sch-1.json", SCHEDULE_OK, NULL },
        { "dcos-core-cli/python/lib/dcoscli/tests/data/metronome/jobs/sch-2.json", SCHEDULE_OK, NULL },
        { "dcos-core-cli/python/lib/dcoscli/tests/data/metronome/jobs/schema-config.json", NOT_A_JOB, NULL },
        { "dcos-core-cli/python/lib/dcoscli/tests/data/metronome/jobs/snorlax.json", JOB_OK, NULL },
        { "dcos-core-cli/python/lib/dcoscli/tests/data/metronome/jobs/update-pikachu.json", JOB_OK, NULL },
};

static int job_check(const json_t *doc, struct err *e) {
        json_t *job = NULL, *scheds = NULL;
        int r = job_from_json(doc, NULL, &job, &scheds, e);
        json_decref(job);
        json_decref(scheds);
        return r;
}

static void same_keys(const json_t *want, const json_t *got, const char *what) {
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)want, k, v) if (!json_object_get(got, k)) fail_msg("%s: we lack '%s'", what, k);
        json_object_foreach((json_t *)got, k, v) if (!json_object_get(want, k)) fail_msg("%s: we add '%s'", what, k);
}

static void check_fixture(size_t i) {
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", root, fixtures[i].path);
        json_error_t jerr;
        json_t *doc = json_load_file(path, 0, &jerr);
        struct err e = { 0 };
        if (fixtures[i].expect == BAD_JSON) {
                assert_null(doc);
                return;
        }
        if (!doc)
                fail_msg("%s: %s", fixtures[i].path, jerr.text);
        switch (fixtures[i].expect) {
        case JOB_OK:
                if (job_check(doc, &e) < 0) {
                        char *d = json_dumps(e.details, 0);
                        fail_msg("%s rejected: %s %s", fixtures[i].path, err_msg(&e), d);
                }
                break;
        case JOB_BAD: {
                assert_int_equal(job_check(doc, &e), -ERR_INVALID);
                assert_string_equal(err_msg(&e), "Object is not valid");
                char *d = json_dumps(e.details, 0);
                char needle[128];
                snprintf(needle, sizeof needle, "\"path\": \"%s\"", fixtures[i].elements);
                if (!strstr(d, needle))
                        fail_msg("%s: details %s lack %s", fixtures[i].path, d, needle);
                free(d);
                break;
        }
        case JOBS_MIXED: {
                size_t k;
                json_t *el;
                assert_int_equal(json_array_size(doc), strlen(fixtures[i].elements));
                json_array_foreach(doc, k, el) {
                        int r = job_check(el, &e);
                        if ((fixtures[i].elements[k] == '+') != (r == 0))
                                fail_msg("%s[%zu]: got %d (%s)", fixtures[i].path, k, r, err_msg(&e));
                        err_release(&e);
                }
                break;
        }
        case SCHEDULE_OK: {
                json_t *list = json_is_array(doc) ? json_incref(doc) : json_pack("[O]", doc);
                size_t k;
                json_t *el;
                json_array_foreach(list, k, el) {
                        json_t *s = NULL;
                        if (job_schedule_from_json(el, &s, &e) < 0) {
                                char *d = json_dumps(e.details, 0);
                                fail_msg("%s[%zu] rejected: %s", fixtures[i].path, k, d);
                        }
                        json_decref(s);
                }
                json_decref(list);
                break;
        }
        case RUN_SHAPE: {
                json_t *list = json_is_array(doc) ? json_incref(doc) : json_pack("[O]", doc);
                size_t k;
                json_t *el;
                json_array_foreach(list, k, el) {
                        json_t *rec = json_pack("{s:O,s:O,s:O,s:I,s:[]}", "id", json_object_get(el, "id"), "jobId",
                                                json_object_get(el, "jobId"), "status", json_object_get(el, "status"),
                                                "createdAt", (json_int_t)1468587779735, "tasks");
                        json_t *ours = job_run_to_api(rec);
                        same_keys(el, ours, fixtures[i].path);
                        if (k == 0 && json_is_object(doc))
                                assert_string_equal(json_string_value(json_object_get(ours, "createdAt")),
                                                    json_string_value(json_object_get(el, "createdAt")));
                        json_decref(ours);
                        json_decref(rec);
                }
                json_decref(list);
                break;
        }
        case NOT_A_JOB:
                assert_int_equal(job_check(doc, &e), -ERR_INVALID);
                break;
        default:
                break;
        }
        err_release(&e);
        json_decref(doc);
}

/* Every JSON fixture MANIFEST.tsv lists for Metronome (and the DC/OS CLI's Metronome data) has an
 * expectation here, so a new fixture cannot slip by unchecked. */
static void every_metronome_fixture_as_metronome_does(void **state) {
        char path[4200], line[4096];
        snprintf(path, sizeof path, "%s/MANIFEST.tsv", root);
        FILE *f = fopen(path, "r");
        assert_non_null(f);
        size_t listed = 0;
        while (fgets(line, sizeof line, f)) {
                char repo[256], commit[64], file[2048];
                if (sscanf(line, "%255[^\t]\t%63[^\t]\t%2047[^\t\n]", repo, commit, file) != 3)
                        continue;
                if (!strstr(file, ".json") || (strcmp(repo, "metronome") != 0 && !strstr(file, "/metronome/")))
                        continue;
                char full[2400];
                snprintf(full, sizeof full, "%s/%s", repo, file);
                size_t i;
                for (i = 0; i < sizeof fixtures / sizeof fixtures[0]; i++)
                        if (strcmp(fixtures[i].path, full) == 0)
                                break;
                if (i == sizeof fixtures / sizeof fixtures[0])
                        fail_msg("fixture %s has no expectation in this test", full);
                check_fixture(i);
                listed++;
        }
        fclose(f);
        assert_int_equal(listed, sizeof fixtures / sizeof fixtures[0]);
}

static json_t *load(const char *text) {
        json_error_t e;
        json_t *j = json_loads(text, 0, &e);
        if (!j)
                fail_msg("bad test JSON: %s", e.text);
        return j;
}

static void rejected_with(const char *text, const char *path, const char *msg) {
        json_t *doc = load(text);
        struct err e = { 0 };
        assert_int_equal(job_check(doc, &e), -ERR_INVALID);
        assert_string_equal(err_msg(&e), "Object is not valid");
        size_t i;
        json_t *d;
        json_array_foreach(e.details, i, d) {
                if (strcmp(json_string_value(json_object_get(d, "path")), path) != 0)
                        continue;
                size_t j;
                json_t *m;
                json_array_foreach(json_object_get(d, "errors"), j, m) if (strstr(json_string_value(m), msg)) goto found;
        }
        fail_msg("%s: details %s lack %s: %s", text, json_dumps(e.details, 0), path, msg);
found:
        err_release(&e);
        json_decref(doc);
}

static void schema_errors_read_like_metronome(void **state) {
        rejected_with("{\"id\":\"a\"}", "/", "object has missing required properties ([\"run\"])");
        rejected_with("{\"id\":\"a\",\"run\":{\"cmd\":\"x\"}}", "/run",
                      "object has missing required properties ([\"cpus\",\"disk\",\"mem\"])");
        rejected_with("{\"id\":\"a\",\"foo\":1,\"run\":{\"cmd\":\"x\",\"cpus\":1,\"mem\":32,\"disk\":0}}", "/",
                      "object instance has properties which are not allowed by the schema: [\"foo\"]");
        rejected_with("{\"id\":\"a\",\"run\":{\"cmd\":\"x\",\"cpus\":1,\"mem\":16,\"disk\":0}}", "/run/mem",
                      "numeric instance is lower than the required minimum (minimum: 32, found: 16)");
        rejected_with("{\"id\":\"a\",\"run\":{\"cmd\":\"x\",\"cpus\":\"1\",\"mem\":32,\"disk\":0}}", "/run/cpus",
                      "instance type (string) does not match any allowed primitive type (allowed: [\"number\"])");
        rejected_with("{\"id\":\"Bad_Id\",\"run\":{\"cmd\":\"x\",\"cpus\":1,\"mem\":32,\"disk\":0}}", "/id",
                      "does not match input string \"Bad_Id\"");
        rejected_with("{\"id\":\"a\",\"run\":{\"cmd\":\"\",\"cpus\":1,\"mem\":32,\"disk\":0}}", "/run/cmd",
                      "is too short (length: 0, required minimum: 1)");
        rejected_with("{\"id\":\"a\",\"run\":{\"cmd\":\"x\",\"cpus\":1,\"mem\":32,\"disk\":0,\"restart\":{\"policy\":\"ALWAYS\"}}}",
                      "/run/restart/policy", "instance value (\"ALWAYS\") not found in enum");
        rejected_with("{\"id\":\"a\",\"run\":{\"cmd\":\"x\",\"cpus\":1,\"mem\":32,\"disk\":0,\"env\":{\"A\":1}}}", "/run/env/A",
                      "instance failed to match exactly one schema (matched 0 out of 2)");
        rejected_with("{\"id\":\"a\",\"labels\":{\"a\":1},\"run\":{\"cmd\":\"x\",\"cpus\":1,\"mem\":32,\"disk\":0}}", "/labels/a",
                      "instance type (integer)");
        rejected_with("{\"id\":\"a\",\"run\":{\"cmd\":\"x\",\"cpus\":1,\"mem\":32,\"disk\":0,\"artifacts\":[{}]}}",
                      "/run/artifacts/0", "missing required properties ([\"uri\"])");
        rejected_with("{\"id\":\"a\",\"schedules\":[{\"id\":\"s\",\"cron\":\"* * * * *\",\"concurrencyPolicy\":\"REPLACE\"}],"
                      "\"run\":{\"cmd\":\"x\",\"cpus\":1,\"mem\":32,\"disk\":0}}",
                      "/schedules/0/concurrencyPolicy", "not found in enum");
        rejected_with("[]", "/", "instance type (array) does not match any allowed primitive type (allowed: [\"object\"])");
}

static void semantic_rules(void **state) {
        rejected_with("{\"id\":\"a\",\"run\":{\"cpus\":1,\"mem\":32,\"disk\":0}}", "/run",
                      "Cmd, Docker or UCR image must be specified");
        rejected_with("{\"id\":\"a\",\"run\":{\"cpus\":1,\"mem\":32,\"disk\":0,\"docker\":{\"image\":\"x\"},\"ucr\":{\"image\":{\"id\":\"x\"}}}}",
                      "/run", "not both");
        rejected_with("{\"id\":\"a\",\"run\":{\"cmd\":\"x\",\"cpus\":1,\"mem\":32,\"disk\":0,\"env\":{\"S\":{\"secret\":\"nope\"}}}}",
                      "/run/env/S", "references an undefined secret named 'nope'");
        rejected_with("{\"id\":\"a\",\"run\":{\"cmd\":\"x\",\"cpus\":1,\"mem\":32,\"disk\":0,\"secrets\":{\"s\":{\"source\":\"/x\"}}}}",
                      "/run/secrets/s", "is not referenced");
        rejected_with("{\"id\":\"a\",\"run\":{\"cmd\":\"x\",\"cpus\":1,\"mem\":32,\"disk\":0,\"networks\":[{\"mode\":\"container\",\"name\":\"n\"}]}}",
                      "/run/networks/0", "need a docker or ucr container");
        rejected_with("{\"id\":\"a\",\"schedules\":[{\"id\":\"s1\",\"cron\":\"* * * * *\"},{\"id\":\"s2\",\"cron\":\"* * * * *\"}],"
                      "\"run\":{\"cmd\":\"x\",\"cpus\":1,\"mem\":32,\"disk\":0}}",
                      "/schedules", "Only one schedule supported at the moment");
        rejected_with("{\"id\":\"a\",\"schedules\":[{\"id\":\"s1\",\"cron\":\"61 * * * *\"}],\"run\":{\"cmd\":\"x\",\"cpus\":1,\"mem\":32,\"disk\":0}}",
                      "/schedules/0/cron", "Cron is not valid");
        rejected_with("{\"id\":\"a\",\"schedules\":[{\"id\":\"s1\",\"cron\":\"* * * * *\",\"timezone\":\"Mars/Base\"}],"
                      "\"run\":{\"cmd\":\"x\",\"cpus\":1,\"mem\":32,\"disk\":0}}",
                      "/schedules/0/timezone", "No time zone found with this id");
        rejected_with("{\"id\":\"a\",\"schedules\":[{\"id\":\"s1\",\"cron\":\"* * * * *\",\"startingDeadlineSeconds\":30}],"
                      "\"run\":{\"cmd\":\"x\",\"cpus\":1,\"mem\":32,\"disk\":0}}",
                      "/schedules/0/startingDeadlineSeconds", "at least 60");
        rejected_with("{\"id\":\"a\",\"dependencies\":[{\"id\":\"b\"}],\"schedules\":[{\"id\":\"s1\",\"cron\":\"* * * * *\"}],"
                      "\"run\":{\"cmd\":\"x\",\"cpus\":1,\"mem\":32,\"disk\":0}}",
                      "/", "both dependencies and schedules");
        rejected_with("{\"id\":\"a\",\"dependencies\":[{\"id\":\"a\"}],\"run\":{\"cmd\":\"x\",\"cpus\":1,\"mem\":32,\"disk\":0}}",
                      "/dependencies/0", "may not depend on itself");
}

static void canonical_forms(void **state) {
        json_t *doc = load("{\"id\":\"prod.x\",\"run\":{\"cmd\":\"true\",\"cpus\":0.5,\"mem\":64,\"disk\":0,"
                           "\"placement\":{\"constraints\":[{\"attribute\":\"rack\",\"operator\":\"EQ\",\"value\":\"r1\"}]},"
                           "\"artifacts\":[{\"uri\":\"http://x/a.tgz\"}]},"
                           "\"schedules\":[{\"id\":\"every-minute\",\"cron\":\"* * * * *\"}]}");
        json_t *job = NULL, *scheds = NULL;
        struct err e = { 0 };
        assert_int_equal(job_from_json(doc, NULL, &job, &scheds, &e), 0);
        json_t *want = load("{\"id\":\"prod.x\",\"labels\":{},\"run\":{\"cpus\":0.5,\"mem\":64,\"disk\":0,\"gpus\":0,"
                            "\"cmd\":\"true\",\"env\":{},\"placement\":{\"constraints\":[{\"attribute\":\"rack\","
                            "\"operator\":\"IS\",\"value\":\"r1\"}]},\"artifacts\":[{\"uri\":\"http://x/a.tgz\","
                            "\"extract\":true,\"executable\":false,\"cache\":false}],\"maxLaunchDelay\":3600,"
                            "\"volumes\":[],\"restart\":{\"policy\":\"NEVER\"},\"secrets\":{},\"networks\":[]}}");
        if (!json_equal(job, want))
                fail_msg("got %s", json_dumps(job, JSON_SORT_KEYS));
        json_t *want_s = load("[{\"id\":\"every-minute\",\"cron\":\"* * * * *\",\"timezone\":\"UTC\","
                              "\"startingDeadlineSeconds\":900,\"concurrencyPolicy\":\"ALLOW\",\"enabled\":true}]");
        assert_true(json_equal(scheds, want_s));
        json_decref(job);
        json_decref(scheds);
        /* PUT: the path's id wins. */
        assert_int_equal(job_from_json(doc, "other.id", &job, NULL, &e), 0);
        assert_string_equal(json_string_value(json_object_get(job, "id")), "other.id");
        json_decref(job);
        json_decref(want);
        json_decref(want_s);
        json_decref(doc);
}

static void ids_and_runs(void **state) {
        assert_true(job_id_valid("prod.example.app"));
        assert_true(job_id_valid("a--b.c"));
        assert_false(job_id_valid("a-"));
        assert_false(job_id_valid("-a"));
        assert_false(job_id_valid("a..b"));
        assert_false(job_id_valid("a.b."));
        assert_false(job_id_valid("A"));
        assert_false(job_id_valid(""));
        assert_true(job_schedule_id_valid("nightly"));
        assert_false(job_schedule_id_valid("a"));
        assert_false(job_schedule_id_valid("a-"));
        char id[20];
        const uint8_t rnd[5] = { 0, 1, 26, 52, 61 };
        job_run_id(1468587779735, rnd, id);
        assert_string_equal(id, "20160715130259ABa09");
        char *task = job_run_task_id("prod.x", id, 2);
        assert_string_equal(task, "prod.x_20160715130259ABa09.2");
        char *j = NULL, *r = NULL;
        assert_int_equal(job_run_task_parse(task, &j, &r), 0);
        assert_string_equal(j, "prod.x");
        assert_string_equal(r, id);
        free(j);
        free(r);
        free(task);
        assert_int_equal(job_run_task_parse("web.instance-6c1d2f0e-1234-4abc-9def-0123456789ab._app", &j, &r), -EINVAL);
        assert_int_equal(job_run_task_parse("a_b.1", &j, &r), -EINVAL);
        char buf[29];
        job_format_time(1468587779735, buf);
        assert_string_equal(buf, "2016-07-15T13:02:59.735+0000");
        assert_true(job_run_status_final("SUCCESS"));
        assert_false(job_run_status_final("ACTIVE"));
        json_t *sched = load("{\"cron\":\"0 9 * * *\",\"timezone\":\"America/New_York\"}");
        int64_t next;
        assert_int_equal(job_schedule_next(sched, 1768435200000 /* 2026-01-15T00:00Z */, &next), 0);
        assert_int_equal(next, 1768485600000); /* 14:00Z */
        json_decref(sched);
}

static void chronos_jobs_map_onto_metronome(void **state) {
        json_t *body = load("{\"name\":\"etl.load\",\"command\":\"run.sh\",\"schedule\":\"R5/2026-01-01T09:00:00/P1D\","
                            "\"scheduleTimeZone\":\"America/New_York\",\"epsilon\":\"PT5M\",\"retries\":1,"
                            "\"environmentVariables\":[{\"name\":\"A\",\"value\":\"b\"}],\"uris\":[\"http://x/a.tgz\"],"
                            "\"owner\":\"ops@example.com\",\"disabled\":true}");
        json_t *job = NULL, *sched = NULL, *extras = NULL;
        struct err e = { 0 };
        if (job_chronos_from_json(body, false, &job, &sched, &extras, &e) < 0)
                fail_msg("%s", err_msg(&e));
        const json_t *run = json_object_get(job, "run");
        assert_string_equal(json_string_value(json_object_get(run, "cmd")), "run.sh");
        assert_true(json_number_value(json_object_get(run, "mem")) == 128); /* Chronos's defaults */
        assert_true(json_number_value(json_object_get(run, "disk")) == 256);
        assert_string_equal(json_string_value(json_object_get(json_object_get(run, "env"), "A")), "b");
        assert_string_equal(json_string_value(json_object_get(json_object_get(run, "restart"), "policy")), "ON_FAILURE");
        assert_string_equal(json_string_value(json_object_get(sched, "iso8601")), "R5/2026-01-01T09:00:00/P1D");
        assert_string_equal(json_string_value(json_object_get(sched, "timezone")), "America/New_York");
        assert_int_equal(json_integer_value(json_object_get(sched, "startingDeadlineSeconds")), 300);
        assert_true(json_is_false(json_object_get(sched, "enabled")));
        assert_int_equal(json_integer_value(json_object_get(extras, "retries")), 1);
        /* The schedule's next tick: 09:00 New York is 14:00Z in January. */
        int64_t next;
        assert_int_equal(job_schedule_next(sched, 1767225600000 /* 2026-01-01T00:00Z */, &next), 0);
        assert_int_equal(next, 1767276000000);
        /* Back in Chronos's shape. */
        json_t *rec = json_pack("{s:O,s:{s:O},s:O,s:{s:i,s:i,s:n,s:I}}", "job", job, "schedules", "chronos", sched, "chronos",
                                extras, "history", "successCount", 3, "failureCount", 1, "lastSuccessAt", "lastFailureAt",
                                (json_int_t)1767276000000);
        json_t *out = job_chronos_to_json(rec);
        assert_string_equal(json_string_value(json_object_get(out, "name")), "etl.load");
        assert_string_equal(json_string_value(json_object_get(out, "schedule")), "R5/2026-01-01T09:00:00/P1D");
        assert_string_equal(json_string_value(json_object_get(out, "scheduleTimeZone")), "America/New_York");
        assert_int_equal(json_integer_value(json_object_get(out, "successCount")), 3);
        assert_int_equal(json_integer_value(json_object_get(out, "errorCount")), 1);
        assert_string_equal(json_string_value(json_object_get(out, "lastError")), "2026-01-01T14:00:00.000Z");
        assert_string_equal(json_string_value(json_object_get(out, "lastSuccess")), "");
        assert_true(json_is_true(json_object_get(out, "disabled")));
        json_decref(out);
        json_decref(rec);
        json_decref(job);
        json_decref(sched);
        json_decref(extras);
        json_decref(body);

        const char *bad[][2] = {
                { "{\"command\":\"x\",\"schedule\":\"R/2026-01-01T00:00:00Z/PT1H\"}", "\"name\" is required" },
                { "{\"name\":\"Big Job\",\"command\":\"x\",\"schedule\":\"R/2026-01-01T00:00:00Z/PT1H\"}", "Metronome id" },
                { "{\"name\":\"a\",\"schedule\":\"R/2026-01-01T00:00:00Z/PT1H\"}", "\"command\" is required" },
                { "{\"name\":\"a\",\"command\":\"x\"}", "\"schedule\" is required" },
                { "{\"name\":\"a\",\"command\":\"x\",\"schedule\":\"every day\"}", "must start with 'R'" },
                { "{\"name\":\"a\",\"command\":\"x\",\"schedule\":\"R/2026-01-01T00:00:00Z/PT1H\",\"epsilon\":\"5m\"}", "epsilon" },
                { "{\"name\":\"a\",\"command\":\"x\",\"schedule\":\"R/2026-01-01T00:00:00Z/PT1H\",\"retries\":-1}", "retries" },
                { "{\"name\":\"a\",\"command\":\"x\",\"schedule\":\"R/2026-01-01T00:00:00Z/PT1H\",\"mem\":8}", "at least 32" },
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                json_t *b = load(bad[i][0]);
                assert_int_equal(job_chronos_from_json(b, false, &job, &sched, &extras, &e), -ERR_INVALID);
                if (!strstr(err_msg(&e), bad[i][1]))
                        fail_msg("%s: '%s' lacks '%s'", bad[i][0], err_msg(&e), bad[i][1]);
                err_release(&e);
                json_decref(b);
        }
        /* A dependent job: parents, no schedule. */
        json_t *dep = load("{\"name\":\"child\",\"command\":\"x\",\"parents\":[\"etl.load\"]}");
        assert_int_equal(job_chronos_from_json(dep, true, &job, &sched, &extras, &e), 0);
        assert_null(sched);
        assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(job, "dependencies"), 0), "id")),
                            "etl.load");
        json_decref(job);
        json_decref(extras);
        json_object_del(dep, "parents");
        assert_int_equal(job_chronos_from_json(dep, true, &job, &sched, &extras, &e), -ERR_INVALID);
        err_release(&e);
        json_decref(dep);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(every_metronome_fixture_as_metronome_does),
                cmocka_unit_test(schema_errors_read_like_metronome),
                cmocka_unit_test(semantic_rules),
                cmocka_unit_test(canonical_forms),
                cmocka_unit_test(ids_and_runs),
                cmocka_unit_test(chronos_jobs_map_onto_metronome),
        };
        return cmocka_run_group_tests(tests, find_fixtures, NULL);
}
