/* bench_scheduler.c — placement throughput and latency of the scheduler layer alone.
 *
 * Fills a cluster of --agents agents in --classes attribute classes (class=c0…) with --apps apps
 * × --instances instances each (0.1 cpus, 256 MiB, one dynamic host port), every app constrained
 * to one class ([["class","IS","cN"]] for even apps, [["class","LIKE","cN"]] for odd ones), then
 * churns: --churn times, one random instance ends (sched_release) and a replacement is submitted
 * and placed alone (count 1, committed): the submit→placed latency.
 *
 *   --agents=5000 --classes=5 --apps=1000 --instances=1000 --batch=1000 --cpus=21 --churn=200000
 *   --racks=0 --extra='["hostname","UNIQUE"]'
 *
 * --racks=N gives agents a rack attribute too (N racks per class: N × classes agent classes);
 * --extra appends one constraint to every app's (e.g. '["rack","GROUP_BY"]').
 *
 * --batch is how many instances one request carries while filling (1 times every placement
 * alone). --cpus sizes the agents: 21 leaves 5% free at the end, 20 fills the cluster exactly
 * (the last placements need the exhaustive search).
 *
 * Build (meson: executable('bench_scheduler', 'bench/bench_scheduler.c',
 * dependencies: [scheduler_dep], build_by_default: false)), or by hand after building the layer:
 *   cc -O2 -D_GNU_SOURCE -Isrc bench/bench_scheduler.c build-sched/libscheduler.a \
 *      build-sched/libcommon.a -ljansson -lm -o build-sched/bench_scheduler */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scheduler/sched_cluster.h"
#include "scheduler/sched_constraints.h"
#include "scheduler/sched_place.h"

static double now(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *)a, y = *(const double *)b;
        return x < y ? -1 : x > y;
}

/* Percentile of a sorted array. */
static double pct(const double *v, size_t n, double p) {
        if (!n)
                return 0;
        size_t i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
        return v[i < n ? i : n - 1];
}

static long rss_kib(void) {
        FILE *f = fopen("/proc/self/status", "r");
        char line[256];
        long kib = -1;
        while (f && fgets(line, sizeof line, f))
                if (sscanf(line, "VmRSS: %ld", &kib) == 1)
                        break;
        if (f)
                fclose(f);
        return kib;
}

static uint64_t rng = 0x1234567;
static uint64_t next(void) {
        uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
}

static const char *sarg(int argc, char **argv, const char *name, const char *def) {
        size_t n = strlen(name);
        for (int i = 1; i < argc; i++)
                if (strncmp(argv[i], name, n) == 0 && argv[i][n] == '=')
                        return argv[i] + n + 1;
        return def;
}

static long arg(int argc, char **argv, const char *name, long def) {
        size_t n = strlen(name);
        for (int i = 1; i < argc; i++)
                if (strncmp(argv[i], name, n) == 0 && argv[i][n] == '=')
                        return strtol(argv[i] + n + 1, NULL, 10);
        return def;
}

struct inst {
        uint32_t agent; /* index into agent ids */
        uint16_t port;
};

int main(int argc, char **argv) {
        long n_agents = arg(argc, argv, "--agents", 5000), n_classes = arg(argc, argv, "--classes", 5);
        long n_apps = arg(argc, argv, "--apps", 1000), per_app = arg(argc, argv, "--instances", 1000);
        long batch = arg(argc, argv, "--batch", 1000), cpus = arg(argc, argv, "--cpus", 21);
        long churn = arg(argc, argv, "--churn", 200000), racks = arg(argc, argv, "--racks", 0);
        const char *extra = sarg(argc, argv, "--extra", NULL);
        if (batch < 1)
                batch = 1;

        struct sched_cluster *c = sched_cluster_new();
        char **ids = calloc((size_t)n_agents, sizeof *ids);
        double t0 = now();
        for (long i = 0; i < n_agents; i++) {
                char id[64], host[64], cls[32], rack[32];
                snprintf(id, sizeof id, "agent-%05ld", i);
                snprintf(host, sizeof host, "node-%05ld.dc1", i);
                snprintf(cls, sizeof cls, "c%ld", i % n_classes);
                snprintf(rack, sizeof rack, "r%ld", racks ? i / n_classes % racks : 0);
                struct sched_attr attrs[] = {{"class", cls}, {"os", "linux"}, {"rack", rack}};
                struct sched_port_range ports = {31000, 32000};
                struct sched_agent_spec spec = {
                        .id = id,
                        .hostname = host,
                        .attrs = attrs,
                        .n_attrs = racks ? 3 : 2,
                        .total = {(double)cpus, 65536, 100000, 0},
                        .ranges = &ports,
                        .n_ranges = 1,
                };
                if (sched_agent_add(c, &spec, NULL) < 0)
                        return 1;
                ids[i] = strdup(id);
        }
        double t_agents = now() - t0;

        char(*app_ids)[32] = calloc((size_t)n_apps, sizeof *app_ids);
        struct sched_constraints **cons = calloc((size_t)n_apps, sizeof *cons);
        for (long a = 0; a < n_apps; a++) {
                snprintf(app_ids[a], sizeof app_ids[a], "/bench/app-%04ld", a);
                char json[512];
                snprintf(json, sizeof json, "[[\"class\",\"%s\",\"c%ld\"]%s%s]", a % 2 ? "LIKE" : "IS",
                         a % n_classes, extra ? "," : "", extra ? extra : "");
                json_t *j = json_loads(json, 0, NULL);
                if (!j) {
                        fprintf(stderr, "bad --extra: %s\n", json);
                        return 1;
                }
                struct err e = {0};
                if (sched_constraints_parse(j, &cons[a], &e) < 0)
                        return 1;
                json_decref(j);
        }

        /* instances of each app, in order, for the churn */
        struct inst *inst = calloc((size_t)(n_apps * per_app), sizeof *inst);
        size_t n_calls = (size_t)(n_apps * ((per_app + batch - 1) / batch));
        double *call_s = calloc(n_calls, sizeof *call_s);
        size_t calls = 0, placed = 0, missed = 0;
        struct sched_plan plan;
        sched_plan_init(&plan);
        uint16_t dyn[] = {0};
        struct sched_request r = {.res = {0.1, 256, 0, 0}, .ports = dyn, .n_ports = 1};
        uint64_t seed = 1;

        double t_fill = now();
        for (long a = 0; a < n_apps; a++) {
                r.app_id = app_ids[a];
                r.constraints = cons[a];
                for (long done = 0; done < per_app;) {
                        r.count = (unsigned)(per_app - done < batch ? per_app - done : batch);
                        r.seed = seed++;
                        double s = now();
                        int n = sched_place(c, &r, SCHED_PLACE_COMMIT, &plan, NULL);
                        call_s[calls++] = now() - s;
                        for (int k = 0; k < n; k++) {
                                struct inst *x = &inst[a * per_app + done + k];
                                x->agent = (uint32_t)strtoul(plan.placements[k].agent_id + 6, NULL, 10);
                                x->port = plan.placements[k].ports[0];
                        }
                        placed += (size_t)(n > 0 ? n : 0);
                        if (n < (int)r.count) {
                                missed += r.count - (size_t)(n > 0 ? n : 0);
                                for (long k = done + (n > 0 ? n : 0); k < done + (long)r.count; k++)
                                        inst[a * per_app + k].agent = UINT32_MAX;
                        }
                        done += r.count;
                }
        }
        t_fill = now() - t_fill;
        long rss_full = rss_kib();

        qsort(call_s, calls, sizeof *call_s, cmp_double);
        printf("cluster: %ld agents in %zu classes (added in %.3f s), %ld apps x %ld instances, batch %ld, "
               "agent cpus %ld, extra constraint %s\n",
               n_agents, sched_class_count(c), t_agents, n_apps, per_app, batch, cpus,
               extra ? extra : "none");
        printf("fill: %zu placed, %zu unplaced, %.3f s, %.0f placements/s, %.3f us/placement\n", placed,
               missed, t_fill, (double)placed / t_fill, t_fill / (double)(placed ? placed : 1) * 1e6);
        printf("fill: per request of %ld: p50 %.1f us, p99 %.1f us, max %.1f us; RSS %ld MiB\n", batch,
               pct(call_s, calls, 50) * 1e6, pct(call_s, calls, 99) * 1e6, call_s[calls - 1] * 1e6,
               rss_full / 1024);

        /* consistency: nothing over-committed, ports accounted */
        size_t over = 0, used_ports = 0;
        for (long i = 0; i < n_agents; i++) {
                struct sched_agent_info info;
                sched_agent_info(c, ids[i], &info);
                over += info.used.cpus > info.total.cpus + 1e-9 || info.used.mem > info.total.mem + 1e-9;
                used_ports += info.ports_used;
        }
        printf("check: %zu agents over-committed, %zu ports in use\n", over, used_ports);

        /* churn: one instance ends, its replacement is placed alone */
        double *lat = calloc((size_t)(churn ? churn : 1), sizeof *lat);
        struct sched_resources res = r.res;
        size_t churn_missed = 0;
        double t_churn = now();
        for (long i = 0; i < churn; i++) {
                long a = (long)(next() % (uint64_t)n_apps);
                long k = (long)(next() % (uint64_t)per_app);
                struct inst *x = &inst[a * per_app + k];
                if (x->agent != UINT32_MAX)
                        sched_release(c, ids[x->agent], app_ids[a], &res, &x->port, 1);
                r.app_id = app_ids[a];
                r.constraints = cons[a];
                r.count = 1;
                r.seed = seed++;
                double s = now();
                int n = sched_place(c, &r, SCHED_PLACE_COMMIT, &plan, NULL);
                lat[i] = now() - s;
                if (n == 1) {
                        x->agent = (uint32_t)strtoul(plan.placements[0].agent_id + 6, NULL, 10);
                        x->port = plan.placements[0].ports[0];
                } else {
                        x->agent = UINT32_MAX;
                        churn_missed++;
                }
        }
        t_churn = now() - t_churn;
        if (churn) {
                qsort(lat, (size_t)churn, sizeof *lat, cmp_double);
                printf("churn: %ld release+place cycles in %.3f s (%.0f/s), %zu unplaced; submit->placed p50 "
                       "%.2f us, "
                       "p99 %.2f us, p99.9 %.2f us, max %.1f us\n",
                       churn, t_churn, (double)churn / t_churn, churn_missed,
                       pct(lat, (size_t)churn, 50) * 1e6, pct(lat, (size_t)churn, 99) * 1e6,
                       pct(lat, (size_t)churn, 99.9) * 1e6, lat[churn - 1] * 1e6);
        }

        sched_plan_release(&plan);
        for (long a = 0; a < n_apps; a++)
                sched_constraints_free(cons[a]);
        double t_free = now();
        sched_cluster_free(c);
        printf("teardown: %.3f s\n", now() - t_free);
        for (long i = 0; i < n_agents; i++)
                free(ids[i]);
        free(ids);
        free(app_ids);
        free(cons);
        free(inst);
        free(call_s);
        free(lat);
        return 0;
}
