/* master_main.c — `strata master` and `strata dev`: flags, start-up and shutdown. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/flags.h"
#include "common/log.h"
#include "common/util.h"
#include "master/job_scheduler.h"
#include "master/master.h"
#include "master/master_internal.h"
#include "store/cluster_state.h"
#include "master/vip.h"

static const char usage_master[] =
        "usage: strata master [options]\n"
        "\n"
        "Runs a master: the REST API (Marathon, Strata), the replicated state (Raft) and the scheduler.\n"
        "\n"
        "  --data-dir DIR        where the Raft log and snapshots live (default ./strata-master)\n"
        "  --http ADDR:PORT      API listen address (default 0.0.0.0:8080)\n"
        "  --raft ADDR:PORT      Raft listen address (default :8090, on the advertised host)\n"
        "  --masters A:P,A:P,... Raft addresses of the initial voters, this master included;\n"
        "                        absent = a cluster of one that bootstraps itself\n"
        "  --advertise ADDR      host or IP other masters and clients use to reach this one\n"
        "                        (default: the --http host, or this machine's hostname)\n"
        "  --agent-timeout SECS  silence after which an agent is unreachable (default 15)\n"
        "  --network NAME=CIDR   a named cluster network, a /24 of it per agent (repeatable)\n"
        "  --vip-cidr CIDR       where named VIPs (VIP_0 labels) get addresses (default 11.0.0.0/8)\n"
        "  --snapshot-threshold N  Raft entries between snapshots (default 8192)\n"
        "  --event-stream-max-outstanding N  events queued per /v2/events subscriber before it is\n"
        "                        dropped as too slow (default 1024)\n"
        AUTH_FLAGS_USAGE
        "  --log-level LEVEL     debug, info, warn or error (default info)\n"
        "  --log-format FORMAT   text (default) or json: one object per line, with request ids\n"
        "  --config FILE         flags from FILE (key = value, keys the flags' names); then\n"
        "                        $STRATA_MASTER_<FLAG>; the command line wins\n"
        "  -h, --help            this help\n";

static const char usage_dev[] =
        "usage: strata dev [options]\n"
        "\n"
        "Runs a one-machine cluster in one process: a master (cluster of one) with its data in ./.strata.\n"
        "\n"
        "  --data-dir DIR        data directory (default ./.strata)\n"
        "  --http ADDR:PORT      API listen address (default 0.0.0.0:8080)\n"
        "  --raft ADDR:PORT      Raft listen address (default 127.0.0.1:8090)\n"
        "  --agent-http ADDR:PORT  the built-in agent's API (default 127.0.0.1:5051)\n"
        "  --cgroup-parent, --resources, --attributes, --hostname, --sandbox-keep, --sandbox-max-age,\n"
        "  --oci-runtime, --registry-config, --insecure-registry  as 'strata agent --help' says,\n"
        "                        for the built-in agent\n"
        AUTH_FLAGS_USAGE
        "  --dns ADDR:PORT       the built-in agent's DNS, UDP and TCP (default 127.0.0.1:8053; off: none)\n"
        "  --dns-upstream IP[:PORT][,…]  resolvers for other names (default: /etc/resolv.conf)\n"
        "  --log-level LEVEL     debug, info, warn or error (default info)\n"
        "  --log-format FORMAT   text (default) or json: one object per line, with request ids\n"
        "  -h, --help            this help\n";

static void config_release(struct master_config *c) {
        free(c->data_dir);
        free(c->http_addr);
        free(c->raft_addr);
        free(c->advertise);
        free(c->agent_http);
        free(c->vip_cidr);
        flags_list_free(c->masters);
        auth_config_release(&c->auth);
}

/* host part of "host:port" ("" for ":port"). */
static char *addr_host(const char *addr) {
        const char *colon = strrchr(addr, ':');
        return colon ? xstrndup(addr, (size_t)(colon - addr)) : xstrdup(addr);
}

static const char *addr_port(const char *addr) {
        const char *colon = strrchr(addr, ':');
        return colon ? colon + 1 : "";
}

static int parse_flags(int argc, char **argv, struct master_config *c) {
        enum { OPT_DATA = 256, OPT_HTTP, OPT_RAFT, OPT_MASTERS, OPT_ADVERTISE, OPT_LOG, OPT_AGENT_TIMEOUT, OPT_AGENT_HTTP,
               OPT_SNAPSHOT, OPT_EVENT_MAX, OPT_NETWORK, OPT_LOG_FORMAT, OPT_AUTH, OPT_AUTH_KEY, OPT_AUTH_TTL,
               OPT_AUTH_METRICS, OPT_VIP_CIDR };
        static const struct option opts[] = {
                { "data-dir", required_argument, NULL, OPT_DATA },
                { "http", required_argument, NULL, OPT_HTTP },
                { "raft", required_argument, NULL, OPT_RAFT },
                { "masters", required_argument, NULL, OPT_MASTERS },
                { "advertise", required_argument, NULL, OPT_ADVERTISE },
                { "log-level", required_argument, NULL, OPT_LOG },
                { "log-format", required_argument, NULL, OPT_LOG_FORMAT },
                { "agent-timeout", required_argument, NULL, OPT_AGENT_TIMEOUT },
                { "agent-http", required_argument, NULL, OPT_AGENT_HTTP },
                { "snapshot-threshold", required_argument, NULL, OPT_SNAPSHOT },
                { "event-stream-max-outstanding", required_argument, NULL, OPT_EVENT_MAX },
                { "network", required_argument, NULL, OPT_NETWORK },
                { "vip-cidr", required_argument, NULL, OPT_VIP_CIDR },
                { "auth", required_argument, NULL, OPT_AUTH },
                { "bootstrap-admin-key", required_argument, NULL, OPT_AUTH_KEY },
                { "token-ttl", required_argument, NULL, OPT_AUTH_TTL },
                { "metrics-auth", no_argument, NULL, OPT_AUTH_METRICS },
                { "help", no_argument, NULL, 'h' },
                { 0 },
        };
        const char *usage = c->dev ? usage_dev : usage_master;
        char *raft = NULL;
        int opt;
        optind = 1;
        while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                switch (opt) {
                case OPT_DATA:
                        free(c->data_dir);
                        c->data_dir = xstrdup(optarg);
                        break;
                case OPT_HTTP:
                        free(c->http_addr);
                        c->http_addr = flags_listen_addr(optarg, "0.0.0.0");
                        break;
                case OPT_RAFT:
                        free(raft);
                        raft = xstrdup(optarg);
                        break;
                case OPT_MASTERS:
                        if (c->dev) {
                                fprintf(stderr, "strata dev: --masters is for `strata master`\n");
                                return 2;
                        }
                        flags_list_add(&c->masters, &c->n_masters, optarg);
                        break;
                case OPT_ADVERTISE:
                        free(c->advertise);
                        c->advertise = xstrdup(optarg);
                        break;
                case OPT_AGENT_HTTP:
                        if (!c->dev) {
                                fprintf(stderr, "strata master: --agent-http is for `strata dev`\n");
                                free(raft);
                                return 2;
                        }
                        free(c->agent_http);
                        c->agent_http = xstrdup(optarg);
                        break;
                case OPT_NETWORK: {
                        struct err e = { 0 };
                        if (c->n_networks == CLUSTER_NET_MAX) {
                                fprintf(stderr, "strata: at most %d --network flags\n", CLUSTER_NET_MAX);
                                free(raft);
                                return 2;
                        }
                        if (cluster_net_parse(optarg, &c->networks[c->n_networks], &e) < 0) {
                                fprintf(stderr, "strata: --network: %s\n", err_msg(&e));
                                err_release(&e);
                                free(raft);
                                return 2;
                        }
                        c->n_networks++;
                        break;
                }
                case OPT_VIP_CIDR:
                        if (vip_cidr_flag(optarg, &c->vip_cidr) < 0) {
                                free(raft);
                                return 2;
                        }
                        break;
                case OPT_AGENT_TIMEOUT:
                        if (flags_uint(optarg, 1, 86400, &c->agent_timeout_s) < 0) {
                                fprintf(stderr, "strata: --agent-timeout must be 1..86400 seconds\n");
                                free(raft);
                                return 2;
                        }
                        break;
                case OPT_SNAPSHOT:
                        if (flags_uint(optarg, 16, 10000000, &c->snapshot_threshold) < 0) {
                                fprintf(stderr, "strata: --snapshot-threshold must be 16..10000000\n");
                                free(raft);
                                return 2;
                        }
                        break;
                case OPT_EVENT_MAX:
                        if (flags_uint(optarg, 1, 1000000, &c->event_max_outstanding) < 0) {
                                fprintf(stderr, "strata: --event-stream-max-outstanding must be 1..1000000\n");
                                free(raft);
                                return 2;
                        }
                        break;
                case OPT_AUTH:
                case OPT_AUTH_KEY:
                case OPT_AUTH_TTL:
                case OPT_AUTH_METRICS:
                        if (auth_config_flag(&c->auth, opt - OPT_AUTH, optarg) < 0) {
                                free(raft);
                                return 2;
                        }
                        break;
                case OPT_LOG:
                        if (flags_log_level("strata", optarg) < 0) {
                                free(raft);
                                return 2;
                        }
                        break;
                case OPT_LOG_FORMAT:
                        if (log_format_flag("strata", optarg) < 0) {
                                free(raft);
                                return 2;
                        }
                        break;
                case 'h':
                        fputs(usage, stdout);
                        free(raft);
                        return 0;
                default:
                        fputs(usage, stderr);
                        free(raft);
                        return 2;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "strata: unexpected argument '%s'\n%s", argv[optind], usage);
                free(raft);
                return 2;
        }
        if (!c->advertise) {
                _cleanup_free_ char *h = addr_host(c->http_addr);
                if (h[0] && !streq(h, "0.0.0.0") && !streq(h, "::")) {
                        c->advertise = xstrdup(h);
                } else if (c->dev) {
                        c->advertise = xstrdup("127.0.0.1");
                } else {
                        char name[256] = "localhost";
                        gethostname(name, sizeof name - 1);
                        c->advertise = xstrdup(name);
                }
        }
        if (!raft)
                raft = xstrdup(c->dev ? "127.0.0.1:8090" : ":8090");
        _cleanup_free_ char *rh = addr_host(raft);
        c->raft_addr = rh[0] ? xstrdup(raft) : xasprintf("%s:%s", c->advertise, addr_port(raft));
        free(raft);
        if (c->n_masters > 0) {
                bool self = false;
                for (size_t i = 0; i < c->n_masters; i++)
                        self |= streq(c->masters[i], c->raft_addr);
                if (!self) {
                        fprintf(stderr, "strata: --masters must include this master's raft address %s\n",
                                c->raft_addr);
                        return 2;
                }
        }
        return -1; /* continue */
}

static void on_signal(uv_signal_t *h, int signum) {
        struct master *m = h->data;
        if (m->stopping)
                return;
        m->stopping = true;
        log_info("signal %d: stopping", signum);
        if (m->hooks && m->hooks->stopping)
                m->hooks->stopping(m->hooks->data);
        /* The bus first: it lets go of its streams before the server closes them. */
        events_free(m->events);
        m->events = NULL;
        http_server_free(m->http);
        m->http = NULL;
        auth_stop(m);
        http_client_free(m->client);
        m->client = NULL;
        job_scheduler_free(m->jobs);
        m->jobs = NULL;
        master_core_release(&m->core);
        discovery_release(&m->discovery);
        uv_close((uv_handle_t *)&m->registry_timer, NULL);
        uv_close((uv_handle_t *)&m->sigint, NULL);
        uv_close((uv_handle_t *)&m->sigterm, NULL);
        store_close(m->store, NULL, NULL);
        m->store = NULL;
}

/* A job run's tasks are not instances: the agent link asks the job scheduler about them. */
static bool job_task_owned(void *data, const char *agent_id, const char *task_id) {
        return job_scheduler_owns_task(data, agent_id, task_id);
}

static bool job_task_status(void *data, const char *agent_id, const char *task_id, const char *state,
                            const char *message, int64_t ts_ms) {
        return job_scheduler_task_status(data, agent_id, task_id, state, message, ts_ms);
}

static void job_agent_reconciled(void *data, const char *agent_id, const json_t *reported) {
        job_scheduler_agent_reconciled(data, agent_id, reported);
}

static void on_store_change(struct store *s, void *data) {
        struct master *m = data;
        struct store_status st;
        store_status(s, &st);
        log_info("raft: %s, term %llu, leader %s", st.state, (unsigned long long)st.term,
                 st.leader_http ? st.leader_http : st.leader_raft ? st.leader_raft : "unknown");
        if (m->client) {
                master_core_leadership(&m->core, st.is_leader);
                job_scheduler_leadership(m->jobs, st.is_leader);
                events_leadership(m->events, st.is_leader);
                discovery_masters_changed(&m->discovery);
                registry_check(m);
                auth_leadership(m);
        }
}

/* Marathon's event bus as the core's event sink (the bus goes first at shutdown: NULL then). */
static bool sink_wanted(void *impl, const char *type) {
        return events_wanted(*(struct events **)impl, type);
}
static void sink_emit(void *impl, const char *type, json_t *fields) {
        struct events *ev = *(struct events **)impl;
        if (ev)
                events_emit(ev, type, fields);
        else
                json_decref(fields);
}
static const struct event_sink_ops sink_ops = { .wanted = sink_wanted, .emit = sink_emit };

/* The state machine's changes go to the core's parts first, then to the discovery view. */
static void obs_app_changed(const char *app_id, void *data) {
        struct master *m = data;
        if (m->core_obs.app_changed)
                m->core_obs.app_changed(app_id, m->core_obs.data);
        discovery_app_changed(&m->discovery);
}
static void obs_agent_changed(const char *agent_id, void *data) {
        struct master *m = data;
        if (m->core_obs.agent_changed)
                m->core_obs.agent_changed(agent_id, m->core_obs.data);
        discovery_agent_changed(&m->discovery, agent_id);
}
static void obs_instance_changed(const struct instance *i, enum task_state old, void *data) {
        struct master *m = data;
        if (m->core_obs.instance_changed)
                m->core_obs.instance_changed(i, old, m->core_obs.data);
        discovery_instance_changed(&m->discovery, i);
}
static void obs_instance_removed(const char *instance_id, const char *app_id, void *data) {
        struct master *m = data;
        if (m->core_obs.instance_removed)
                m->core_obs.instance_removed(instance_id, app_id, m->core_obs.data);
        discovery_instance_removed(&m->discovery, instance_id);
}
static void obs_restored(void *data) {
        struct master *m = data;
        if (m->core_obs.restored)
                m->core_obs.restored(m->core_obs.data);
        discovery_restored(&m->discovery);
}
static void obs_deployment_changed(const json_t *record, const char *what, void *data) {
        struct master *m = data;
        if (m->core_obs.deployment_changed)
                m->core_obs.deployment_changed(record, what, m->core_obs.data);
}

static void agent_subscribed(const char *agent_id, void *data) {
        discovery_agent_subscribed(data, agent_id);
}

static void raise_fd_limit(void) {
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max;
                setrlimit(RLIMIT_NOFILE, &rl);
        }
}

int master_main(int argc, char **argv) {
        return master_run(argc, argv, NULL);
}

int master_run(int argc, char **argv, const struct master_hooks *hooks) {
        struct master m = { 0 };
        m.hooks = hooks;
        m.cfg.dev = streq(argv[0], "dev");
        m.cfg.data_dir = xstrdup(m.cfg.dev ? ".strata" : "strata-master");
        m.cfg.http_addr = xstrdup("0.0.0.0:8080");
        if (m.cfg.dev)
                m.cfg.agent_http = xstrdup("127.0.0.1:5051");
        int r = parse_flags(argc, argv, &m.cfg);
        if (r >= 0) {
                config_release(&m.cfg);
                return r;
        }
        signal(SIGPIPE, SIG_IGN);
        raise_fd_limit();
        struct err e = { 0 };
        if (mkdir_p(m.cfg.data_dir, &e) < 0) {
                fprintf(stderr, "strata: %s\n", err_msg(&e));
                err_release(&e);
                config_release(&m.cfg);
                return 1;
        }
        m.loop = uv_default_loop();
        m.http_advertised = xasprintf("%s:%s", m.cfg.advertise, addr_port(m.cfg.http_addr));
        _cleanup_free_ char *raft_dir = xasprintf("%s/master", m.cfg.data_dir);
        struct store_config sc = {
                .loop = m.loop,
                .data_dir = raft_dir,
                .raft_addr = m.cfg.raft_addr,
                .http_addr = m.http_advertised,
                .masters = (const char *const *)m.cfg.masters,
                .n_masters = m.cfg.n_masters,
                .on_change = on_store_change,
                .snapshot_threshold = m.cfg.snapshot_threshold,
                .data = &m,
        };
        r = store_new(&sc, &m.store, &e);
        if (r < 0) {
                fprintf(stderr, "strata: cannot start the replicated store: %s\n", err_msg(&e));
                goto fail;
        }
        struct http_server_config hc = {
                .loop = m.loop,
                .addr = m.cfg.http_addr,
                .max_body = MASTER_MAX_BODY,
                .handler = api_dispatch,
                .data = &m,
        };
        r = http_server_new(&hc, &m.http, &e);
        if (r < 0) {
                fprintf(stderr, "strata: %s\n", err_msg(&e));
                store_close(m.store, NULL, NULL);
                uv_run(m.loop, UV_RUN_DEFAULT);
                goto fail;
        }
        m.client = http_client_new(m.loop);
        struct agent_link_config alc = { .agent_timeout_s = m.cfg.agent_timeout_s, .networks = m.cfg.networks,
                                         .n_networks = m.cfg.n_networks };
        m.clock = clock_uv_new(m.loop);
        struct core_log log = core_log_store(m.store);
        struct event_sink sink = { &sink_ops, &m.events };
        master_core_init(&m.core, &log, m.clock, &sink, NULL, &alc);
        m.jobs = job_scheduler_new(&m);
        struct agent_link_task_owner job_tasks = { job_task_owned, job_task_status, job_agent_reconciled, m.jobs };
        agent_link_set_task_owner(&m.core.agents, &job_tasks);
        m.events = events_new(&m);
        discovery_init(&m.discovery, m.loop, m.store, &m.core.agents);
        m.discovery.vip_cidr = m.cfg.vip_cidr;
        agent_link_set_subscribed_hook(&m.core.agents, agent_subscribed, &m.discovery);
        m.core_obs = master_core_observer(&m.core);
        struct state_observer obs = {
                .app_changed = obs_app_changed,
                .agent_changed = obs_agent_changed,
                .instance_changed = obs_instance_changed,
                .instance_removed = obs_instance_removed,
                .restored = obs_restored,
                .deployment_changed = obs_deployment_changed,
                .data = &m,
        };
        state_set_observer(store_state(m.store), &obs);
        uv_timer_init(m.loop, &m.registry_timer);
        m.registry_timer.data = &m;
        auth_start(&m);
        registry_check(&m);
        uv_signal_init(m.loop, &m.sigint);
        uv_signal_init(m.loop, &m.sigterm);
        m.sigint.data = m.sigterm.data = &m;
        uv_signal_start(&m.sigint, on_signal, SIGINT);
        uv_signal_start(&m.sigterm, on_signal, SIGTERM);
        log_info("strata %s: API on http://%s (listening %s), raft %s, data %s", m.cfg.dev ? "dev" : "master",
                 m.http_advertised, m.cfg.http_addr, m.cfg.raft_addr, m.cfg.data_dir);
        if (hooks && hooks->started) {
                _cleanup_free_ char *url = xasprintf("http://%s", m.http_advertised);
                if (hooks->started(m.loop, url, m.cfg.data_dir, m.cfg.agent_http, auth_local_agent_secret(&m),
                                   hooks->data) < 0)
                        on_signal(&m.sigterm, SIGTERM);
        }
        uv_run(m.loop, UV_RUN_DEFAULT);
        app_text_cache_free(m.app_texts);
        uv_loop_close(m.loop);
        clock_uv_free(m.clock);
        free(m.http_advertised);
        config_release(&m.cfg);
        return 0;
fail:
        err_release(&e);
        free(m.http_advertised);
        config_release(&m.cfg);
        return 1;
}
