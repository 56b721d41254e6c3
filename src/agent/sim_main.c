/* sim_main.c — `strata agent-sim`: the process that hosts the simulated agents (start-up ramp,
 * the start-delay queue, POST slots, signals) and its control API. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "agent/sim.h"
#include "common/alloc.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "common/timeutil.h"
#include "common/util.h"
#include "model/task_state.h"

struct sim_delay {
        struct sim_task *task;
        int64_t due_ms;
};

/* --- randomness (xorshift64*: reproducible with --seed, no global state) --------------------- */

double sim_random(struct sim *s) {
        s->rng ^= s->rng >> 12;
        s->rng ^= s->rng << 25;
        s->rng ^= s->rng >> 27;
        return (double)((s->rng * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

/* --- start delay: one FIFO, since every task waits the same time ----------------------------- */

static void delay_cb(uv_timer_t *t) {
        struct sim *s = t->data;
        int64_t now = time_now_ms();
        while (s->delay_len > 0) {
                struct sim_delay *d = &s->delay[s->delay_head];
                if (d->due_ms > now)
                        break;
                struct sim_task *task = d->task;
                s->delay_head = (s->delay_head + 1) % s->delay_cap;
                s->delay_len--;
                sim_task_started(task);
        }
        if (s->delay_len > 0)
                uv_timer_start(&s->delay_timer, delay_cb, (uint64_t)(s->delay[s->delay_head].due_ms - now), 0);
}

void sim_delay_push(struct sim *s, struct sim_task *t) {
        if (s->delay_len == s->delay_cap) {
                size_t cap = s->delay_cap ? 2 * s->delay_cap : 1024;
                struct sim_delay *d = xmalloc(cap * sizeof *d);
                for (size_t i = 0; i < s->delay_len; i++)
                        d[i] = s->delay[(s->delay_head + i) % s->delay_cap];
                free(s->delay);
                s->delay = d;
                s->delay_cap = cap;
                s->delay_head = 0;
        }
        s->delay[(s->delay_head + s->delay_len) % s->delay_cap] =
                (struct sim_delay){ t, time_now_ms() + s->cfg.start_delay_ms };
        s->delay_len++;
        /* A zero delay still waits for the next loop turn, so STARTING and RUNNING of a batch of
         * launches travel together when the master is slower than the agent. */
        if (!uv_is_active((uv_handle_t *)&s->delay_timer))
                uv_timer_start(&s->delay_timer, delay_cb, s->cfg.start_delay_ms, 0);
}

/* --- POST slots: bounded connections to the master, agents queue for a turn ------------------- */

void sim_post_request(struct sim_agent *a) {
        struct sim *s = a->sim;
        if (a->queued || a->posting)
                return; /* posting: post_done asks again for what is left */
        if (s->posts_in_flight < s->cfg.max_posts) {
                if (sim_agent_post(a))
                        s->posts_in_flight++;
                return;
        }
        a->queued = true;
        a->post_next = NULL;
        if (s->post_tail)
                s->post_tail->post_next = a;
        else
                s->post_head = a;
        s->post_tail = a;
}

void sim_post_done(struct sim *s) {
        s->posts_in_flight--;
        while (s->post_head && s->posts_in_flight < s->cfg.max_posts) {
                struct sim_agent *a = s->post_head;
                s->post_head = a->post_next;
                if (!s->post_head)
                        s->post_tail = NULL;
                a->queued = false;
                if (sim_agent_post(a))
                        s->posts_in_flight++;
        }
}

/* --- start-up ramp ------------------------------------------------------------------------- */

static void ramp_cb(uv_timer_t *t) {
        struct sim *s = t->data;
        /* Every 10 ms, a hundredth of the per-second rate. */
        unsigned n = s->cfg.ramp_per_s ? MAX(1u, s->cfg.ramp_per_s / 100) : s->cfg.count;
        for (unsigned k = 0; k < n && s->started < s->cfg.count; k++)
                sim_agent_start(&s->agents[s->started++]);
        if (s->started < s->cfg.count)
                uv_timer_start(&s->ramp_timer, ramp_cb, 10, 0);
        else
                log_info("all %u simulated agents started", s->cfg.count);
}

static const char *startswith(const char *s, const char *prefix) {
        size_t n = strlen(prefix);
        return strncmp(s, prefix, n) == 0 ? s + n : NULL;
}

/* --- control API --------------------------------------------------------------------------- */

static long rss_kib(void) {
        FILE *f = fopen("/proc/self/statm", "re");
        long pages = 0, rss = 0;
        if (f) {
                if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
                        rss = 0;
                fclose(f);
        }
        return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

static void reply(struct http_request *req, int status, json_t *body) {
        _cleanup_free_ char *text = json_compact(body);
        json_decref(body);
        http_respond(req, status, "application/json", text, strlen(text));
}

static void reply_error(struct http_request *req, int status, const char *msg) {
        reply(req, status, json_pack("{s:s}", "message", msg));
}

static json_t *stats_json(struct sim *s) {
        uint64_t counts[_TASK_STATE_MAX + 1] = { 0 };
        sim_count_tasks(s, counts);
        json_t *by_state = json_object();
        uint64_t total = 0;
        for (int k = 0; k < _TASK_STATE_MAX; k++) {
                total += counts[k];
                if (counts[k])
                        json_object_set_new(by_state, task_state_to_string((enum task_state)k),
                                            json_integer((json_int_t)counts[k]));
        }
        unsigned running = 0, subscribed = 0;
        int64_t min_sub = 0, max_sub = 0;
        size_t pending = 0;
        for (unsigned k = 0; k < s->cfg.count; k++) {
                struct sim_agent *a = &s->agents[k];
                pending += a->n_pending + a->n_inflight;
                if (!a->running)
                        continue;
                running++;
                if (!a->subscribed)
                        continue;
                subscribed++;
                if (!min_sub || a->subscribed_at_ms < min_sub)
                        min_sub = a->subscribed_at_ms;
                if (a->subscribed_at_ms > max_sub)
                        max_sub = a->subscribed_at_ms;
        }
        const struct sim_stats *st = &s->stats;
        return json_pack("{s:i,s:i,s:i,s:I,s:o,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:i,s:I}",
                         "agents", (int)s->cfg.count, "running", (int)running, "subscribed", (int)subscribed,
                         "tasks", (json_int_t)total, "tasksByState", by_state, "launches", (json_int_t)st->launches,
                         "kills", (json_int_t)st->kills, "updatesSent", (json_int_t)st->updates_sent,
                         "updatesAcked", (json_int_t)st->updates_acked, "updatesPending", (json_int_t)pending,
                         "posts", (json_int_t)st->posts, "postErrors", (json_int_t)st->post_errors,
                         "heartbeats", (json_int_t)st->heartbeats,
                         "subscribes", (json_int_t)st->subscribes, "streamErrors", (json_int_t)st->stream_errors,
                         "events", (json_int_t)st->events, "badEvents", (json_int_t)st->bad_events,
                         "firstSubscribedAt", (json_int_t)min_sub, "lastSubscribedAt", (json_int_t)max_sub,
                         "postsInFlight", (int)s->posts_in_flight, "rssKiB", (json_int_t)rss_kib());
}

static json_t *agents_json(struct sim *s) {
        json_t *list = json_array();
        for (unsigned k = 0; k < s->cfg.count; k++) {
                struct sim_agent *a = &s->agents[k];
                json_array_append_new(
                        list, json_pack("{s:i,s:s,s:s?,s:b,s:b,s:I,s:i,s:I,s:O}", "index", (int)a->index, "hostname",
                                        a->hostname, "agentId", a->agent_id, "running", a->running, "subscribed",
                                        a->subscribed, "subscribedAt", (json_int_t)a->subscribed_at_ms,
                                        "subscriptions", (int)a->subscriptions, "tasks",
                                        (json_int_t)a->n_active, "attributes", a->attributes));
        }
        return list;
}

/* "/v1/sim/agents/<index|hostname>/<verb>" → the agent, or NULL. */
static struct sim_agent *find_agent(struct sim *s, const char *key, size_t len) {
        char *end;
        unsigned long idx = strtoul(key, &end, 10);
        if (end == key + len && len > 0 && idx >= s->cfg.first && idx - s->cfg.first < s->cfg.count)
                return &s->agents[idx - s->cfg.first];
        for (unsigned k = 0; k < s->cfg.count; k++)
                if (strlen(s->agents[k].hostname) == len && memcmp(s->agents[k].hostname, key, len) == 0)
                        return &s->agents[k];
        return NULL;
}

static const struct {
        const char *verb;
        enum task_state state;
} task_verbs[] = {
        { "fail", TASK_FAILED }, { "lose", TASK_LOST }, { "finish", TASK_FINISHED }, { "kill", TASK_KILLED },
};

static void api_dispatch(struct http_request *req, void *data) {
        struct sim *s = data;
        const char *method = http_request_method(req);
        const char *path = http_request_path(req);
        bool post = streq(method, "POST");
        if (streq(method, "GET") && streq(path, "/v1/sim/stats")) {
                reply(req, 200, stats_json(s));
                return;
        }
        if (streq(method, "GET") && streq(path, "/v1/sim/agents")) {
                reply(req, 200, agents_json(s));
                return;
        }
        const char *rest = startswith(path, "/v1/sim/agents/");
        const char *slash = rest ? strrchr(rest, '/') : NULL;
        if (post && slash) {
                struct sim_agent *a = find_agent(s, rest, (size_t)(slash - rest));
                if (!a) {
                        reply_error(req, 404, "no such simulated agent");
                } else if (streq(slash + 1, "stop")) {
                        sim_agent_stop(a);
                        log_info("agent %s stopped on request", a->hostname);
                        reply(req, 200, json_pack("{s:s,s:b}", "hostname", a->hostname, "running", false));
                } else if (streq(slash + 1, "start")) {
                        if (!a->running)
                                sim_agent_start(a);
                        reply(req, 200, json_pack("{s:s,s:b}", "hostname", a->hostname, "running", true));
                } else {
                        reply_error(req, 404, "unknown agent action (stop, start)");
                }
                return;
        }
        rest = startswith(path, "/v1/sim/tasks/");
        slash = rest ? strrchr(rest, '/') : NULL;
        if (post && slash) {
                _cleanup_free_ char *id = xstrndup(rest, (size_t)(slash - rest));
                int state = -1;
                for (size_t k = 0; k < ELEMENTSOF(task_verbs); k++)
                        if (streq(slash + 1, task_verbs[k].verb))
                                state = (int)task_verbs[k].state;
                if (state < 0) {
                        reply_error(req, 404, "unknown task action (fail, lose, finish, kill)");
                        return;
                }
                for (unsigned k = 0; k < s->cfg.count; k++) {
                        struct sim_agent *a = &s->agents[k];
                        if (a->running && sim_agent_end_task(a, id, state) == 0) {
                                reply(req, 200, json_pack("{s:s,s:s,s:s}", "taskId", id, "state",
                                                          task_state_to_string((enum task_state)state), "hostname",
                                                          a->hostname));
                                return;
                        }
                }
                reply_error(req, 404, "no simulated agent runs this task");
                return;
        }
        reply_error(req, 404, "not found (GET /v1/sim/stats, GET /v1/sim/agents, POST /v1/sim/agents/{i}/stop|start, "
                              "POST /v1/sim/tasks/{id}/fail|lose|finish|kill)");
}

/* --- process ------------------------------------------------------------------------------- */

static void raise_nofile(unsigned count) {
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
                return;
        rlim_t want = (rlim_t)count * 2 + 1024;
        if (rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max;
                setrlimit(RLIMIT_NOFILE, &rl);
        }
        if (rl.rlim_cur < want)
                log_warn("open file limit %llu is below the %llu that %u agents need (one stream and a share of "
                         "the POST connections each): raise it (ulimit -n)",
                         (unsigned long long)rl.rlim_cur, (unsigned long long)want, count);
}

static void close_cb(uv_handle_t *h) {
        (void)h;
}

static void sim_stop(struct sim *s) {
        if (s->stopping)
                return;
        s->stopping = true;
        uv_close((uv_handle_t *)&s->sigint, close_cb);
        uv_close((uv_handle_t *)&s->sigterm, close_cb);
        uv_close((uv_handle_t *)&s->ramp_timer, close_cb);
        uv_close((uv_handle_t *)&s->delay_timer, close_cb);
        for (unsigned k = 0; k < s->cfg.count; k++)
                uv_close((uv_handle_t *)&s->agents[k].timer, close_cb);
        http_client_free(s->streams);
        http_client_free(s->posts);
        http_client_free(s->beats);
        s->streams = s->posts = s->beats = NULL;
        if (s->http)
                http_server_free(s->http);
        s->http = NULL;
}

static void on_signal(uv_signal_t *h, int signum) {
        log_info("signal %d: stopping", signum);
        sim_stop(h->data);
}

static void ramp_cb(uv_timer_t *t);

static void login_retry_cb(uv_timer_t *t) {
        struct sim *s = t->data;
        if (!s->stopping)
                (void)auth_client_header(&s->auth, s->cfg.masters[0]);
}

/* The first login finished: the ramp starts (later logins only refresh the token); a failed
 * first login is retried every half second (the master may still be starting). */
static void sim_logged_in(void *data, bool ok) {
        struct sim *s = data;
        if (s->stopping || s->started > 0 || uv_is_active((uv_handle_t *)&s->ramp_timer))
                return;
        uv_timer_start(&s->ramp_timer, ok ? ramp_cb : login_retry_cb, ok ? 0 : 500, 0);
}

int sim_main(int argc, char **argv) {
        struct sim s = { 0 };
        int r = sim_config_from_args(&s.cfg, argc, argv);
        if (r >= 0) {
                sim_config_release(&s.cfg);
                return r;
        }
        signal(SIGPIPE, SIG_IGN);
        raise_nofile(s.cfg.count);
        s.loop = uv_default_loop();
        s.rng = 0x9e3779b97f4a7c15ULL ^ s.cfg.seed;
        agent_event_init(&s.ev);
        s.streams = http_client_new(s.loop);
        s.posts = http_client_new(s.loop);
        s.beats = http_client_new(s.loop);
        {
                struct err e = { 0 };
                if (auth_client_init(&s.auth, s.posts, NULL, NULL, NULL, &e) < 0) {
                        fprintf(stderr, "strata agent-sim: %s\n", err_msg(&e));
                        return 1;
                }
                s.auth.on_token = sim_logged_in;
                s.auth.on_token_data = &s;
        }
        if (s.cfg.http_addr) {
                struct err e = { 0 };
                struct http_server_config hc = { .loop = s.loop, .addr = s.cfg.http_addr, .max_body = 4096,
                                                 .handler = api_dispatch, .data = &s };
                if (http_server_new(&hc, &s.http, &e) < 0) {
                        fprintf(stderr, "strata agent-sim: %s\n", err_msg(&e));
                        err_release(&e);
                        http_client_free(s.streams);
                        http_client_free(s.posts);
                        http_client_free(s.beats);
                        uv_run(s.loop, UV_RUN_DEFAULT);
                        sim_config_release(&s.cfg);
                        return 1;
                }
        }
        s.agents = xcalloc(s.cfg.count ? s.cfg.count : 1, sizeof *s.agents);
        for (unsigned k = 0; k < s.cfg.count; k++) {
                struct err e = { 0 };
                sim_agent_init(&s, &s.agents[k], s.cfg.first + k, &e);
                err_release(&e);
        }
        uv_timer_init(s.loop, &s.ramp_timer);
        uv_timer_init(s.loop, &s.delay_timer);
        s.ramp_timer.data = s.delay_timer.data = &s;
        uv_signal_init(s.loop, &s.sigint);
        uv_signal_init(s.loop, &s.sigterm);
        s.sigint.data = s.sigterm.data = &s;
        uv_signal_start(&s.sigint, on_signal, SIGINT);
        uv_signal_start(&s.sigterm, on_signal, SIGTERM);
        log_warn("strata agent-sim: %u agents (%s…) for %s%s%s", s.cfg.count, s.cfg.count ? s.agents[0].hostname : "-",
                 s.cfg.masters[0], s.cfg.http_addr ? ", control API on http://" : "",
                 s.cfg.http_addr ? s.cfg.http_addr : "");
        /* With a service account, the agents start once it has a token (sim_logged_in). */
        if (s.auth.uid)
                (void)auth_client_header(&s.auth, s.cfg.masters[0]);
        else
                uv_timer_start(&s.ramp_timer, ramp_cb, 0, 0);
        uv_run(s.loop, UV_RUN_DEFAULT);
        auth_client_release(&s.auth);
        for (unsigned k = 0; k < s.cfg.count; k++)
                sim_agent_release(&s.agents[k]);
        /* Tasks still waiting out their start delay were left to the queue by their agents. */
        for (size_t i = 0; i < s.delay_len; i++)
                sim_task_abandon(s.delay[(s.delay_head + i) % s.delay_cap].task);
        free(s.delay);
        free(s.agents);
        agent_event_release(&s.ev);
        uv_loop_close(s.loop);
        sim_config_release(&s.cfg);
        return 0;
}
