/* agent_main.c — `strata agent`: flags, recovery, start-up and shutdown. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/agent_auth.h"
#include "agent/agent_resources.h"
#include "agent/dns_agent.h"
#include "agent/vip_agent.h"
#include "agent/runtime_oci.h"
#include "common/alloc.h"
#include "common/flags.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "common/util.h"

static const char usage[] =
        "usage: strata agent --master URL[,URL…] [options]\n"
        "\n"
        "Runs an agent: offers this machine's resources to the cluster and runs its tasks.\n"
        "\n"
        "  --master URL[,URL…]   masters' API URLs (any of them; the agent finds the leader)\n"
        "  --data-dir DIR        agent id, checkpoints and task sandboxes (default ./strata-agent)\n"
        "  --http ADDR:PORT      agent API (sandbox files) listen address (default 0.0.0.0:5051)\n"
        "  --advertise ADDR      host masters and clients reach this agent at (default: hostname)\n"
        "  --hostname NAME       host name reported to the cluster (default: this machine's)\n"
        "  --resources SPEC      e.g. 'cpus:4;mem:8192;disk:20000;ports:[31000-32000]'\n"
        "                        (missing kinds are detected; default: detect all)\n"
        "  --attributes SPEC     e.g. 'rack:r1;zone:a'\n"
        "  --cgroup-parent NAME  cgroup under which tasks get theirs (default strata); agents\n"
        "                        sharing a machine need different ones\n"
        "  --registry-config FILE  Docker config.json (\"auths\") with image registry credentials\n"
        "  --insecure-registry HOST[:PORT][,…]  registries spoken to over plain HTTP (loopback\n"
        "                        always is)\n"
        "  --oci-runtime NAME    runc (default) or crun (or a path to either): runs containers\n"
        "  --cni-bridge NAME     bridge of container/bridge tasks (default strata0)\n"
        "  --cni-subnet CIDR     this agent's subnet for container/bridge (default 172.31.0.0/16)\n"
        "  --container-pids-max N  default pids limit of a container (default 4096)\n"
        "  --sandbox-keep N      finished tasks' sandboxes (logs) kept per app (default 5)\n"
        "  --sandbox-max-age SECS  finished sandboxes older than this are removed (default 604800)\n"
        "  --service-account NAME, --private-key FILE  log in to the masters as this service\n"
        "                        account (default: $STRATA_SERVICE_ACCOUNT, $STRATA_PRIVATE_KEY)\n"
        "  --token TOKEN         present this token to the masters instead\n"
        "  --dns ADDR:PORT       DNS for the cluster's names, UDP and TCP (default 0.0.0.0:53; off: none)\n"
        "  --dns-upstream IP[:PORT][,…]  resolvers for other names (default: /etc/resolv.conf)\n"
        "  --vip on|off          program VIPs with nftables (default: on when root with nftables; off removes them)\n"
        "  --log-level LEVEL     debug, info, warn or error (default info)\n"
        "  --log-format FORMAT   text (default) or json: one object per line, with request ids\n"
        "  --config FILE         flags from FILE (key = value, keys the flags' names); then\n"
        "                        $STRATA_AGENT_<FLAG>; the command line wins\n"
        "  -h, --help            this help\n";

static void config_release(struct agent_config *c) {
        flags_list_free(c->masters);
        free(c->data_dir);
        free(c->http_addr);
        free(c->advertise);
        free(c->hostname);
        free(c->cgroup_parent);
        free(c->registry_config);
        flags_list_free(c->insecure_registries);
        free(c->oci_runtime);
        free(c->cni_bridge);
        free(c->cni_subnet);
        free(c->token);
        free(c->service_account);
        free(c->private_key);
        free(c->dns_addr);
        flags_list_free(c->dns_upstreams);
        free(c->vip);
        json_decref(c->resources);
        json_decref(c->attributes);
}

static int parse_flags(int argc, char **argv, struct agent_config *c) {
        enum { OPT_MASTER = 256, OPT_DATA, OPT_HTTP, OPT_ADVERTISE, OPT_HOSTNAME, OPT_RESOURCES, OPT_ATTRIBUTES,
               OPT_LOG, OPT_FAKE, OPT_CGROUP, OPT_REGCFG, OPT_INSECURE, OPT_OCI, OPT_CNI_BRIDGE, OPT_CNI_SUBNET,
               OPT_PIDS, OPT_SANDBOX_KEEP, OPT_SANDBOX_AGE, OPT_DNS, OPT_DNS_UPSTREAM,
               OPT_LOG_FORMAT, OPT_TOKEN, OPT_SA, OPT_KEY, OPT_VIP };
        static const struct option opts[] = {
                { "master", required_argument, NULL, OPT_MASTER },
                { "data-dir", required_argument, NULL, OPT_DATA },
                { "http", required_argument, NULL, OPT_HTTP },
                { "advertise", required_argument, NULL, OPT_ADVERTISE },
                { "hostname", required_argument, NULL, OPT_HOSTNAME },
                { "resources", required_argument, NULL, OPT_RESOURCES },
                { "attributes", required_argument, NULL, OPT_ATTRIBUTES },
                { "log-level", required_argument, NULL, OPT_LOG },
                { "log-format", required_argument, NULL, OPT_LOG_FORMAT },
                { "fake-runtime", no_argument, NULL, OPT_FAKE },
                { "cgroup-parent", required_argument, NULL, OPT_CGROUP },
                { "registry-config", required_argument, NULL, OPT_REGCFG },
                { "insecure-registry", required_argument, NULL, OPT_INSECURE },
                { "oci-runtime", required_argument, NULL, OPT_OCI },
                { "cni-bridge", required_argument, NULL, OPT_CNI_BRIDGE },
                { "cni-subnet", required_argument, NULL, OPT_CNI_SUBNET },
                { "container-pids-max", required_argument, NULL, OPT_PIDS },
                { "sandbox-keep", required_argument, NULL, OPT_SANDBOX_KEEP },
                { "sandbox-max-age", required_argument, NULL, OPT_SANDBOX_AGE },
                { "token", required_argument, NULL, OPT_TOKEN },
                { "service-account", required_argument, NULL, OPT_SA },
                { "private-key", required_argument, NULL, OPT_KEY },
                { "dns", required_argument, NULL, OPT_DNS },
                { "dns-upstream", required_argument, NULL, OPT_DNS_UPSTREAM },
                { "vip", required_argument, NULL, OPT_VIP },
                { "help", no_argument, NULL, 'h' },
                { 0 },
        };
        const char *resources = NULL, *attributes = NULL;
        int opt;
        optind = 1;
        while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                switch (opt) {
                case OPT_MASTER:
                        flags_list_add_urls(&c->masters, &c->n_masters, optarg);
                        break;
                case OPT_DATA:
                        free(c->data_dir);
                        c->data_dir = xstrdup(optarg);
                        break;
                case OPT_HTTP:
                        free(c->http_addr);
                        c->http_addr = flags_listen_addr(optarg, "0.0.0.0");
                        break;
                case OPT_ADVERTISE:
                        free(c->advertise);
                        c->advertise = xstrdup(optarg);
                        break;
                case OPT_HOSTNAME:
                        free(c->hostname);
                        c->hostname = xstrdup(optarg);
                        break;
                case OPT_RESOURCES:
                        resources = optarg;
                        break;
                case OPT_ATTRIBUTES:
                        attributes = optarg;
                        break;
                case OPT_CGROUP:
                        if (!*optarg || strchr(optarg, '.') || strlen(optarg) > 100) {
                                fprintf(stderr, "strata: --cgroup-parent must be a cgroup path without '.'\n");
                                return 2;
                        }
                        free(c->cgroup_parent);
                        c->cgroup_parent = xstrdup(optarg);
                        break;
                case OPT_FAKE:
                        c->fake_runtime = true;
                        break;
                case OPT_REGCFG: {
                        /* checked now: a typo should stop the agent, not fail every pull later */
                        json_error_t jerr;
                        json_t *doc = json_load_file(optarg, 0, &jerr);
                        bool ok = json_is_object(json_object_get(doc, "auths"));
                        json_decref(doc);
                        char *abs = ok ? realpath(optarg, NULL) : NULL;
                        if (!abs) {
                                fprintf(stderr, "strata: --registry-config '%s' is not a Docker config.json with \"auths\"\n",
                                        optarg);
                                return 2;
                        }
                        free(c->registry_config);
                        c->registry_config = abs;
                        break;
                }
                case OPT_INSECURE:
                        flags_list_add(&c->insecure_registries, NULL, optarg);
                        break;
                case OPT_OCI: {
                        const char *base = strrchr(optarg, '/') ? strrchr(optarg, '/') + 1 : optarg;
                        if (strcmp(base, "runc") != 0 && strcmp(base, "crun") != 0) {
                                fprintf(stderr, "strata: --oci-runtime must be runc or crun (or a path to one)\n");
                                return 2;
                        }
                        free(c->oci_runtime);
                        c->oci_runtime = xstrdup(optarg);
                        break;
                }
                case OPT_CNI_BRIDGE:
                        if (!*optarg || strlen(optarg) > 15) {
                                fprintf(stderr, "strata: --cni-bridge must be an interface name (1-15 chars)\n");
                                return 2;
                        }
                        free(c->cni_bridge);
                        c->cni_bridge = xstrdup(optarg);
                        break;
                case OPT_CNI_SUBNET:
                        if (!strchr(optarg, '/')) {
                                fprintf(stderr, "strata: --cni-subnet must be a CIDR (e.g. 172.31.0.0/16)\n");
                                return 2;
                        }
                        free(c->cni_subnet);
                        c->cni_subnet = xstrdup(optarg);
                        break;
                case OPT_PIDS: {
                        char *end;
                        long long v = strtoll(optarg, &end, 10);
                        if (*end || v < 1) {
                                fprintf(stderr, "strata: --container-pids-max must be a positive number\n");
                                return 2;
                        }
                        c->container_pids_max = v;
                        break;
                }
                case OPT_SANDBOX_KEEP:
                case OPT_SANDBOX_AGE:
                        if (task_history_flag(&c->history, opt == OPT_SANDBOX_KEEP ? "sandbox-keep" : "sandbox-max-age",
                                              optarg) < 0)
                                return 2;
                        break;
                case OPT_TOKEN:
                case OPT_SA:
                case OPT_KEY: {
                        char **slot = opt == OPT_TOKEN ? &c->token : opt == OPT_SA ? &c->service_account : &c->private_key;
                        free(*slot);
                        *slot = xstrdup(optarg);
                        break;
                }
                case OPT_DNS:
                        free(c->dns_addr);
                        c->dns_addr = xstrdup(optarg);
                        break;
                case OPT_DNS_UPSTREAM:
                        flags_list_add(&c->dns_upstreams, NULL, optarg);
                        break;
                case OPT_LOG_FORMAT:
                        if (log_format_flag("strata", optarg) < 0)
                                return 2;
                        break;
                case OPT_VIP:
                        if (!streq(optarg, "on") && !streq(optarg, "off")) {
                                fprintf(stderr, "strata: --vip must be on or off\n");
                                return 2;
                        }
                        free(c->vip);
                        c->vip = xstrdup(optarg);
                        break;
                case OPT_LOG:
                        if (flags_log_level("strata", optarg) < 0)
                                return 2;
                        break;
                case 'h':
                        fputs(usage, stdout);
                        return 0;
                default:
                        fputs(usage, stderr);
                        return 2;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "strata: unexpected argument '%s'\n%s", argv[optind], usage);
                return 2;
        }
        if (c->n_masters == 0) {
                fprintf(stderr, "strata agent: --master is required\n");
                return 2;
        }
        struct err e = { 0 };
        if (mkdir_p(c->data_dir, &e) < 0) {
                fprintf(stderr, "strata: %s\n", err_msg(&e));
                err_release(&e);
                return 1;
        }
        /* Checkpoints name paths that must stay valid whatever the cwd of a later run. */
        char *abs = realpath(c->data_dir, NULL);
        if (!abs) {
                fprintf(stderr, "strata: cannot resolve '%s': %s\n", c->data_dir, strerror(errno));
                return 1;
        }
        free(c->data_dir);
        c->data_dir = abs;
        if (resources ? agent_resources_parse(resources, c->data_dir, &c->resources, &e) < 0 : 0) {
                fprintf(stderr, "strata: %s\n", err_msg(&e));
                err_release(&e);
                return 2;
        }
        if (!c->resources)
                c->resources = agent_resources_detect(c->data_dir);
        if (attributes ? agent_attributes_parse(attributes, &c->attributes, &e) < 0 : 0) {
                fprintf(stderr, "strata: %s\n", err_msg(&e));
                err_release(&e);
                return 2;
        }
        if (!c->attributes)
                c->attributes = json_object();
        if (!c->hostname) {
                char name[256] = "localhost";
                gethostname(name, sizeof name - 1);
                c->hostname = xstrdup(name);
        }
        if (!c->advertise) {
                const char *colon = strrchr(c->http_addr, ':');
                _cleanup_free_ char *h = xstrndup(c->http_addr, (size_t)(colon - c->http_addr));
                c->advertise = xstrdup(h[0] && !streq(h, "0.0.0.0") ? h : c->hostname);
        }
        return -1;
}

static void status_cb(struct runtime *rt, const struct task_status *st, void *userdata) {
        struct agent *a = userdata;
        int healthy = -1;
        bool ready = false;
        const char *message = st->message;
        char why[HEALTH_MAX_CAUSE_LEN + 128];
        if (st->state == TASK_RUNNING) {
                struct runtime_task_info info;
                const char *sandbox = runtime_get(rt, st->task_id, &info) == 0 ? info.sandbox : NULL;
                health_task_running(a->health, st->task_id, sandbox, st->pid, &healthy, &ready);
        } else if (task_state_is_terminal(st->state)) {
                /* A task killed after failing its health checks says so (the master's kill). */
                if (health_task_ended(a->health, st->task_id, why, sizeof why) && st->state == TASK_KILLED)
                        message = why;
        }
        task_history_status(a->history, st);
        agent_metrics_task_status(a->metrics, st);
        agent_updates_push_health(a, st->task_id, st->state, message, st->reason, st->exit_code, healthy, ready,
                                  NULL, 0, st->ip_address);
}

/* A health check's result changed: a TASK_RUNNING update carries it (DESIGN §7). */
static void health_cb(void *data, const char *task_id, int healthy, bool ready, const struct health_result *results,
                      size_t n) {
        struct agent *a = data;
        struct runtime_task_info info;
        if (runtime_get(a->rt, task_id, &info) < 0 || info.state != TASK_RUNNING)
                return;
        agent_metrics_health_result(a->metrics, healthy == 1);
        agent_updates_push_health(a, task_id, TASK_RUNNING, NULL, NULL, -1, healthy, ready, results, n, NULL);
}

static void heartbeat_cb(uv_timer_t *t) {
        struct agent *a = t->data;
        if (!a->subscribed)
                return;
        if (time_now_ms() - a->last_event_ms > (int64_t)a->heartbeat_s * 3000) {
                log_warn("no event from the master for %u s: resubscribing", a->heartbeat_s * 3);
                agent_resubscribe_later(a);
                return;
        }
        agent_updates_flush(a);
}

void agent_link_load_identity(struct agent *a);

/* A login finished: subscribe now rather than after the reconnect backoff. */
static void on_token(void *data, bool ok) {
        struct agent *a = data;
        if (ok && !a->stopping && !a->sub && !a->subscribed)
                agent_subscribe(a);
}

void agent_stop(struct agent *a) {
        if (a->stopping)
                return;
        a->stopping = true;
        log_info("agent stopping (tasks keep running)");
        /* First: the OCI runtime frees its image store, whose pulls use the HTTP client. */
        a->images = NULL;
        runtime_close(a->rt, NULL, NULL);
        http_client_free(a->client);
        http_server_free(a->http);
        uv_close((uv_handle_t *)&a->reconnect_timer, NULL);
        uv_close((uv_handle_t *)&a->heartbeat_timer, NULL);
        uv_close((uv_handle_t *)&a->flush_timer, NULL);
        health_free(a->health);
        a->health = NULL;
        task_history_free(a->history);
        a->history = NULL;
        agent_dns_stop(a);
        agent_vip_stop(a);
}

int agent_start(struct agent *a, uv_loop_t *loop, struct err *e) {
        a->loop = loop;
        a->metrics = agent_metrics_new();
        const char *colon = strrchr(a->cfg.http_addr, ':');
        a->address = xasprintf("%s:%s", a->cfg.advertise, colon + 1);
        agent_link_load_identity(a);
        agent_updates_init(a);
        struct runtime_config rc = { .loop = loop, .work_dir = a->cfg.data_dir, .status_cb = status_cb,
                                     .userdata = a, .cgroup_parent = a->cfg.cgroup_parent };
        struct runtime_oci_config oc = { .oci_runtime = a->cfg.oci_runtime, .pids_max = a->cfg.container_pids_max,
                                         .cni_bridge = a->cfg.cni_bridge, .cni_subnet = a->cfg.cni_subnet };
        _cleanup_free_ char *resolv = agent_dns_resolv_conf_path(a);
        oc.resolv_conf = resolv;
        a->client = http_client_new(loop);
        int r = auth_client_init(&a->auth, a->client, a->cfg.token, a->cfg.service_account, a->cfg.private_key, e);
        if (r < 0) {
                http_client_free(a->client);
                return err_wrap(e, "cannot authenticate to the masters");
        }
        a->auth.on_token = on_token;
        a->auth.on_token_data = a;
        if (!a->cfg.fake_runtime) {
                /* handed to the OCI runtime, which owns it */
                r = image_store_open_configured(loop, a->client, a->cfg.data_dir, a->cfg.registry_config,
                                                a->cfg.insecure_registries, &oc.images, e);
                if (r < 0) {
                        http_client_free(a->client);
                        return r;
                }
        }
        r = a->cfg.fake_runtime ? runtime_fake_new(&rc, &a->rt) : runtime_oci_new(&rc, &oc, &a->rt, e);
        if (r < 0) {
                image_store_free(oc.images);
                http_client_free(a->client);
                return err_wrap(e, "cannot start the task runtime");
        }
        a->images = oc.images;
        _cleanup_free_ char *health_dir = xasprintf("%s/health", a->cfg.data_dir);
        struct health_config hcfg = { .loop = loop, .dir = health_dir, .simulate = a->cfg.fake_runtime,
                                      .cb = health_cb, .data = a };
        r = health_new(&hcfg, &a->health, e);
        if (r < 0) {
                runtime_close(a->rt, NULL, NULL);
                http_client_free(a->client);
                return err_wrap(e, "cannot start health checks");
        }
        struct http_server_config hc = { .loop = loop, .addr = a->cfg.http_addr, .max_body = 64 * 1024,
                                         .handler = agent_api_dispatch, .data = a };
        r = http_server_new(&hc, &a->http, e);
        if (r < 0) {
                runtime_close(a->rt, NULL, NULL);
                http_client_free(a->client);
                health_free(a->health);
                a->health = NULL;
                return r;
        }
        r = agent_dns_start(a, e);
        if (r >= 0 && (r = agent_vip_start(a, e)) < 0)
                agent_dns_stop(a);
        if (r < 0) {
                runtime_close(a->rt, NULL, NULL);
                http_client_free(a->client);
                http_server_free(a->http);
                health_free(a->health);
                a->health = NULL;
                return r;
        }
        uv_timer_init(loop, &a->reconnect_timer);
        uv_timer_init(loop, &a->heartbeat_timer);
        uv_timer_init(loop, &a->flush_timer);
        a->reconnect_timer.data = a->heartbeat_timer.data = a->flush_timer.data = a;
        a->history = task_history_new(loop, a->cfg.data_dir, &a->cfg.history, a->rt);
        /* Unacknowledged updates first, then what the checkpoints say about every task. */
        agent_updates_load(a);
        r = runtime_recover(a->rt, e);
        if (r < 0) {
                log_error("recovery failed: %s", err_msg(e));
                err_release(e);
        } else if (r > 0) {
                log_info("recovered %d task(s)", r);
        }
        a->heartbeat_s = 2;
        uv_timer_start(&a->heartbeat_timer, heartbeat_cb, 1000, 1000);
        log_info("strata agent %s: API on http://%s, masters %s, data %s", a->cfg.hostname, a->address,
                 a->cfg.masters[0], a->cfg.data_dir);
        agent_subscribe(a);
        return 0;
}

void agent_release(struct agent *a) {
        auth_client_release(&a->auth);
        agent_auth_release(a);
        recordio_release(&a->rio);
        agent_event_release(&a->ev);
        json_decref(a->pending);
        json_decref(a->net_pending);
        free(a->address);
        free(a->agent_id);
        free(a->leader_url);
        agent_metrics_free(a->metrics);
        a->metrics = NULL;
        config_release(&a->cfg);
}

int agent_config_from_args(struct agent_config *c, int argc, char **argv) {
        c->data_dir = xstrdup("strata-agent");
        c->http_addr = xstrdup("0.0.0.0:5051");
        return parse_flags(argc, argv, c);
}

static void on_signal(uv_signal_t *h, int signum) {
        struct agent *a = h->data;
        uv_close((uv_handle_t *)h == (uv_handle_t *)&a->sigint ? (uv_handle_t *)&a->sigterm : (uv_handle_t *)&a->sigint,
                 NULL);
        uv_close((uv_handle_t *)h, NULL);
        log_info("signal %d", signum);
        agent_stop(a);
}

int agent_main(int argc, char **argv) {
        struct agent a = { 0 };
        int r = agent_config_from_args(&a.cfg, argc, argv);
        if (r >= 0) {
                config_release(&a.cfg);
                return r;
        }
        signal(SIGPIPE, SIG_IGN);
        struct err e = { 0 };
        uv_loop_t *loop = uv_default_loop();
        if (agent_start(&a, loop, &e) < 0) {
                fprintf(stderr, "strata: %s\n", err_msg(&e));
                err_release(&e);
                uv_run(loop, UV_RUN_DEFAULT);
                agent_release(&a);
                return 1;
        }
        uv_signal_init(loop, &a.sigint);
        uv_signal_init(loop, &a.sigterm);
        a.sigint.data = a.sigterm.data = &a;
        uv_signal_start(&a.sigint, on_signal, SIGINT);
        uv_signal_start(&a.sigterm, on_signal, SIGTERM);
        uv_run(loop, UV_RUN_DEFAULT);
        uv_loop_close(loop);
        agent_release(&a);
        return 0;
}
