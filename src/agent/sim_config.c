/* sim_config.c — `strata agent-sim` flags and the per-agent host name / attribute templates. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent_resources.h"
#include "agent/sim.h"
#include "common/alloc.h"
#include "common/flags.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "common/util.h"

#define MAX_AGENTS 1000000

static const char usage[] =
        "usage: strata agent-sim --master URL[,URL…] --count N [options]\n"
        "\n"
        "Runs N simulated agents in one process: each subscribes to the leading master over its\n"
        "own connection with its own id, host name and attributes, accepts launches and kills and\n"
        "reports task states, but runs no processes. For sizing a cluster's control plane.\n"
        "\n"
        "  --master URL[,URL…]    masters' API URLs (any of them; each agent finds the leader)\n"
        "  --count N              agents to simulate (default 10)\n"
        "  --first I              index of the first agent (default 0; for several processes)\n"
        "  --classes K            give agent i the attribute class=c<i mod K> (default none)\n"
        "  --attributes TEMPLATE  more attributes, e.g. 'rack:r{i%10};zone:z{i/1000}'\n"
        "                         ({i}, {i%N}, {i/N}, {class} are replaced per agent)\n"
        "  --hostname TEMPLATE    host names (default 'sim-{i}')\n"
        "  --resources SPEC       every agent's (default 'cpus:8;mem:32768;disk:100000;gpus:0;\n"
        "                         ports:[31000-32000]')\n"
        "  --start-delay-ms MS    TASK_STARTING to TASK_RUNNING (default 0)\n"
        "  --fail-rate P          probability that a task fails instead of running (default 0)\n"
        "  --lose-rate P          probability that a task is lost instead of running (default 0)\n"
        "  --ramp N               agents started per second (default 2000; 0: all at once)\n"
        "  --max-posts N          status/heartbeat POSTs in flight at once (default 256)\n"
        "  --heartbeat-s S        heartbeat period (default: the master's interval)\n"
        "  --http ADDR:PORT       control API (stats, fail/lose tasks, stop/start agents)\n"
        "  --seed N               random seed for the rates (default 1)\n"
        "  --log-level LEVEL      debug, info, warn or error (default warn)\n"
        "  -h, --help             this help\n";

static const char default_resources[] = "cpus:8;mem:32768;disk:100000;gpus:0;ports:[31000-32000]";

void sim_config_release(struct sim_config *c) {
        flags_list_free(c->masters);
        free(c->attributes);
        free(c->hostname);
        free(c->http_addr);
        json_decref(c->resources);
        *c = (struct sim_config){ 0 };
}

static int parse_uint(const char *flag, const char *v, unsigned long max, unsigned *ret) {
        if (flags_uint(v, 0, max, ret) < 0) {
                fprintf(stderr, "strata agent-sim: %s must be an integer 0..%lu\n", flag, max);
                return -1;
        }
        return 0;
}

static int parse_rate(const char *flag, const char *v, double *ret) {
        char *end;
        double d = strtod(v, &end);
        if (end == v || *end || !(d >= 0 && d <= 1)) {
                fprintf(stderr, "strata agent-sim: %s must be a probability 0..1\n", flag);
                return -1;
        }
        *ret = d;
        return 0;
}

char *sim_expand(const char *tmpl, unsigned i, unsigned classes, struct err *err) {
        struct strbuf sb = { 0 };
        for (const char *p = tmpl; *p;) {
                if (*p != '{') {
                        const char *brace = strchr(p, '{');
                        size_t n = brace ? (size_t)(brace - p) : strlen(p);
                        strbuf_append(&sb, p, n);
                        p += n;
                        continue;
                }
                const char *close = strchr(p, '}');
                if (!close) {
                        strbuf_release(&sb);
                        err_set(err, -EINVAL, "unclosed '{' in '%s'", tmpl);
                        return NULL;
                }
                _cleanup_free_ char *ph = xstrndup(p + 1, (size_t)(close - p - 1));
                unsigned long v;
                if (streq(ph, "i")) {
                        v = i;
                } else if (streq(ph, "class")) {
                        v = classes ? i % classes : 0;
                } else if (ph[0] == 'i' && (ph[1] == '%' || ph[1] == '/')) {
                        char *end;
                        errno = 0;
                        unsigned long n = strtoul(ph + 2, &end, 10);
                        if (errno || end == ph + 2 || *end || n == 0) {
                                strbuf_release(&sb);
                                err_set(err, -EINVAL, "bad divisor in '{%s}' (expected a positive integer)", ph);
                                return NULL;
                        }
                        v = ph[1] == '%' ? i % n : i / n;
                } else {
                        strbuf_release(&sb);
                        err_set(err, -EINVAL, "unknown placeholder '{%s}' (use {i}, {i%%N}, {i/N}, {class})", ph);
                        return NULL;
                }
                strbuf_printf(&sb, "%lu", v);
                p = close + 1;
        }
        return strbuf_steal(&sb);
}

int sim_agent_attributes(const struct sim_config *c, unsigned i, json_t **ret, struct err *err) {
        json_t *attrs = NULL;
        if (c->attributes) {
                _cleanup_free_ char *text = sim_expand(c->attributes, i, c->classes, err);
                if (!text)
                        return err_wrap(err, "--attributes");
                int r = agent_attributes_parse(text, &attrs, err);
                if (r < 0)
                        return r;
        } else {
                attrs = json_object();
        }
        if (c->classes > 0) {
                char cls[32];
                snprintf(cls, sizeof cls, "c%u", i % c->classes);
                json_object_set_new(attrs, "class", json_string(cls));
        }
        *ret = attrs;
        return 0;
}

int sim_config_from_args(struct sim_config *c, int argc, char **argv) {
        enum { OPT_MASTER = 256, OPT_COUNT, OPT_FIRST, OPT_CLASSES, OPT_ATTRIBUTES, OPT_HOSTNAME, OPT_RESOURCES,
               OPT_DELAY, OPT_FAIL, OPT_LOSE, OPT_RAMP, OPT_POSTS, OPT_HEARTBEAT, OPT_HTTP, OPT_SEED, OPT_LOG };
        static const struct option opts[] = {
                { "master", required_argument, NULL, OPT_MASTER },
                { "count", required_argument, NULL, OPT_COUNT },
                { "first", required_argument, NULL, OPT_FIRST },
                { "classes", required_argument, NULL, OPT_CLASSES },
                { "attributes", required_argument, NULL, OPT_ATTRIBUTES },
                { "hostname", required_argument, NULL, OPT_HOSTNAME },
                { "resources", required_argument, NULL, OPT_RESOURCES },
                { "start-delay-ms", required_argument, NULL, OPT_DELAY },
                { "fail-rate", required_argument, NULL, OPT_FAIL },
                { "lose-rate", required_argument, NULL, OPT_LOSE },
                { "ramp", required_argument, NULL, OPT_RAMP },
                { "max-posts", required_argument, NULL, OPT_POSTS },
                { "heartbeat-s", required_argument, NULL, OPT_HEARTBEAT },
                { "http", required_argument, NULL, OPT_HTTP },
                { "seed", required_argument, NULL, OPT_SEED },
                { "log-level", required_argument, NULL, OPT_LOG },
                { "help", no_argument, NULL, 'h' },
                { 0 },
        };
        *c = (struct sim_config){ .count = 10, .ramp_per_s = 2000, .max_posts = 256, .seed = 1 };
        const char *resources = NULL;
        int opt, r = 0;
        optind = 1;
        log_set_level(LOG_WARN);
        while (r == 0 && (opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                switch (opt) {
                case OPT_MASTER:
                        flags_list_add_urls(&c->masters, &c->n_masters, optarg);
                        break;
                case OPT_COUNT:
                        r = parse_uint("--count", optarg, MAX_AGENTS, &c->count);
                        break;
                case OPT_FIRST:
                        r = parse_uint("--first", optarg, MAX_AGENTS * 100UL, &c->first);
                        break;
                case OPT_CLASSES:
                        r = parse_uint("--classes", optarg, 100000, &c->classes);
                        break;
                case OPT_ATTRIBUTES:
                        free(c->attributes);
                        c->attributes = xstrdup(optarg);
                        break;
                case OPT_HOSTNAME:
                        free(c->hostname);
                        c->hostname = xstrdup(optarg);
                        break;
                case OPT_RESOURCES:
                        resources = optarg;
                        break;
                case OPT_DELAY:
                        r = parse_uint("--start-delay-ms", optarg, 3600 * 1000, &c->start_delay_ms);
                        break;
                case OPT_FAIL:
                        r = parse_rate("--fail-rate", optarg, &c->fail_rate);
                        break;
                case OPT_LOSE:
                        r = parse_rate("--lose-rate", optarg, &c->lose_rate);
                        break;
                case OPT_RAMP:
                        r = parse_uint("--ramp", optarg, MAX_AGENTS, &c->ramp_per_s);
                        break;
                case OPT_POSTS:
                        r = parse_uint("--max-posts", optarg, 4096, &c->max_posts);
                        if (r == 0 && c->max_posts == 0)
                                c->max_posts = 1;
                        break;
                case OPT_HEARTBEAT:
                        r = parse_uint("--heartbeat-s", optarg, 3600, &c->heartbeat_s);
                        break;
                case OPT_HTTP:
                        free(c->http_addr);
                        c->http_addr = flags_listen_addr(optarg, "127.0.0.1");
                        break;
                case OPT_SEED:
                        r = parse_uint("--seed", optarg, 0xffffffffUL, &c->seed);
                        break;
                case OPT_LOG:
                        r = flags_log_level("strata agent-sim", optarg);
                        break;
                case 'h':
                        fputs(usage, stdout);
                        return 0;
                default:
                        fputs(usage, stderr);
                        return 2;
                }
        }
        if (r < 0)
                return 2;
        if (optind < argc) {
                fprintf(stderr, "strata agent-sim: unexpected argument '%s'\n%s", argv[optind], usage);
                return 2;
        }
        if (c->n_masters == 0) {
                fprintf(stderr, "strata agent-sim: --master is required\n");
                return 2;
        }
        if (c->fail_rate + c->lose_rate > 1) {
                fprintf(stderr, "strata agent-sim: --fail-rate and --lose-rate add up to more than 1\n");
                return 2;
        }
        if (!c->hostname)
                c->hostname = xstrdup("sim-{i}");
        struct err e = { 0 };
        _cleanup_free_ char *spec = xasprintf("%s;%s", default_resources, resources ? resources : "");
        _cleanup_free_ char *probe = sim_expand(c->hostname, 0, c->classes, &e);
        json_t *attrs = NULL;
        if (!probe || sim_agent_attributes(c, 0, &attrs, &e) < 0 ||
            agent_resources_parse(spec, "/", &c->resources, &e) < 0) {
                fprintf(stderr, "strata agent-sim: %s\n", err_msg(&e));
                err_release(&e);
                return 2;
        }
        json_decref(attrs);
        return -1;
}
