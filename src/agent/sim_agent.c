/* sim_agent.c — one simulated agent: the subscription stream, launches and kills, status updates
 * batched per agent and resent until acknowledged, heartbeats and resubscription. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/sim.h"
#include "common/alloc.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "common/util.h"
#include "model/task_state.h"
#include "common/jscan.h"

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 2000
#define MAX_BATCH 5000     /* updates per POST (the master takes up to 10,000) */
#define RETRY_MS 500
#define NO_STATE 0xff

/* A simulated task: a state, what the master has acknowledged, and its id. */
struct sim_task {
        struct sim_agent *agent;
        uint8_t state;   /* enum task_state: the task now */
        uint8_t acked;   /* last state the master acknowledged, NO_STATE before */
        uint8_t sent;    /* state in the POST in flight, NO_STATE if none */
        bool pending;    /* in agent->pending */
        bool delayed;    /* in the start-delay queue */
        bool gone;       /* its agent forgot it (stopped): freed when nothing refers to it */
        char id[];
};

static void arm(struct sim_agent *a, uint64_t ms, uv_timer_cb cb) {
        uv_timer_start(&a->timer, cb, ms, 0);
}

static void heartbeat_cb(uv_timer_t *t);

/* --- tasks ---------------------------------------------------------------------------------- */

static void task_maybe_free(struct sim_task *t) {
        if (t->pending || t->delayed || t->sent != NO_STATE)
                return;
        if (t->gone) {
                free(t);
                return;
        }
        if (task_state_is_terminal((enum task_state)t->state) && t->acked == t->state) {
                hashmap_remove(&t->agent->tasks, t->id);
                free(t);
        }
}

void sim_task_abandon(struct sim_task *t) {
        t->delayed = false;
        task_maybe_free(t);
}

static void push_pending(struct sim_agent *a, struct sim_task *t) {
        if (t->pending)
                return;
        if (a->n_pending == a->cap_pending) {
                a->cap_pending = a->cap_pending ? 2 * a->cap_pending : 16;
                a->pending = xrealloc(a->pending, a->cap_pending * sizeof *a->pending);
        }
        a->pending[a->n_pending++] = t;
        t->pending = true;
        sim_post_request(a);
}

static void set_state(struct sim_agent *a, struct sim_task *t, enum task_state state) {
        bool was_active = !task_state_is_terminal((enum task_state)t->state);
        t->state = (uint8_t)state;
        if (was_active && task_state_is_terminal(state))
                a->n_active--;
        push_pending(a, t);
}

static struct sim_task *task_new(struct sim_agent *a, const char *id) {
        size_t n = strlen(id);
        struct sim_task *t = xmalloc(sizeof *t + n + 1);
        *t = (struct sim_task){ .agent = a, .state = TASK_STAGING, .acked = NO_STATE, .sent = NO_STATE };
        memcpy(t->id, id, n + 1);
        hashmap_put(&a->tasks, t->id, t);
        a->n_active++;
        return t;
}

void sim_task_started(struct sim_task *t) {
        t->delayed = false;
        if (t->gone || t->state != TASK_STARTING) {
                task_maybe_free(t); /* killed meanwhile, or its agent died */
                return;
        }
        struct sim *s = t->agent->sim;
        double x = sim_random(s);
        enum task_state next = x < s->cfg.fail_rate                      ? TASK_FAILED
                               : x < s->cfg.fail_rate + s->cfg.lose_rate ? TASK_LOST
                                                                         : TASK_RUNNING;
        set_state(t->agent, t, next);
}

static void launch(struct sim_agent *a, const char *id) {
        if (hashmap_get(&a->tasks, id))
                return; /* launches are idempotent by task id */
        struct sim_task *t = task_new(a, id);
        a->sim->stats.launches++;
        set_state(a, t, TASK_STARTING);
        t->delayed = true;
        sim_delay_push(a->sim, t);
}

static void kill_task(struct sim_agent *a, const char *id) {
        struct sim_task *t = hashmap_get(&a->tasks, id);
        a->sim->stats.kills++;
        if (!t) {
                /* Unknown: report it killed so the master can settle (docs/AGENT_PROTOCOL.md). */
                t = task_new(a, id);
        } else if (task_state_is_terminal((enum task_state)t->state)) {
                return;
        }
        set_state(a, t, TASK_KILLED);
}

int sim_agent_end_task(struct sim_agent *a, const char *task_id, int state) {
        struct sim_task *t = hashmap_get(&a->tasks, task_id);
        if (!t || task_state_is_terminal((enum task_state)t->state))
                return -ENOENT;
        set_state(a, t, (enum task_state)state);
        return 0;
}

void sim_count_tasks(struct sim *s, uint64_t *counts) {
        for (unsigned k = 0; k < s->cfg.count; k++) {
                struct sim_agent *a = &s->agents[k];
                size_t pos = 0;
                void *v;
                while (hashmap_next(&a->tasks, &pos, NULL, &v))
                        counts[((struct sim_task *)v)->state]++;
        }
}

/* --- status updates ------------------------------------------------------------------------ */

static void post_done(void *data, int status, const struct http_client_response *resp, struct err *err);

static const char *base_url(struct sim_agent *a) {
        return a->leader_url ? a->leader_url : a->sim->cfg.masters[a->master_idx];
}

bool sim_agent_post(struct sim_agent *a) {
        struct sim *s = a->sim;
        if (!a->running || !a->subscribed || !a->agent_id || a->posting)
                return false;
        size_t n = MIN(a->n_pending, (size_t)MAX_BATCH);
        if (a->cap_inflight < n) {
                a->cap_inflight = n;
                a->inflight = xrealloc(a->inflight, n * sizeof *a->inflight);
        }
        struct strbuf sb = { 0 };
        int64_t now = time_now_ms();
        a->post_seq++;
        strbuf_printf(&sb, "{\"term\":%" PRIu64 ",\"updates\":[", a->max_term);
        for (size_t i = 0; i < n; i++) {
                struct sim_task *t = a->pending[i];
                t->pending = false;
                t->sent = t->state;
                a->inflight[i] = t;
                strbuf_printf(&sb, "%s{\"uuid\":\"%u-%" PRIu64 "-%zu\",\"taskId\":", i ? "," : "", a->index,
                              a->post_seq, i);
                agent_proto_json_string(&sb, t->id);
                strbuf_printf(&sb, ",\"state\":\"%s\",\"message\":\"%s\",\"timestamp\":%" PRId64 "}",
                              task_state_to_string((enum task_state)t->state),
                              t->state == TASK_KILLED ? "Killed by the simulator" : "", now);
        }
        strbuf_puts(&sb, "]}");
        a->n_inflight = n;
        if (a->n_pending > n)
                memmove(a->pending, a->pending + n, (a->n_pending - n) * sizeof *a->pending);
        a->n_pending -= n;
        _cleanup_free_ char *url = xasprintf("%s/internal/v1/agents/%s/updates", base_url(a), a->agent_id);
        const char *const headers[] = { "Content-Type: application/json", auth_client_header(&s->auth, base_url(a)),
                                        NULL };
        a->posting = true;
        a->last_post_ms = now;
        s->stats.posts++;
        s->stats.updates_sent += n;
        http_client_request(s->posts, "POST", url, headers, sb.buf ? sb.buf : "", sb.len, 10000, post_done, a);
        strbuf_release(&sb);
        return true;
}

/* Marks the in-flight updates whose uuids the master acknowledged. */
static size_t apply_acks(struct sim_agent *a, const char *body, size_t len, bool *acked) {
        struct jscan sc;
        char key[32], uuid[96];
        size_t klen, n = 0;
        jscan_init(&sc, body, len);
        if (jscan_expect(&sc, '{') < 0 || jscan_peek(&sc) == '}')
                return 0;
        do {
                if (jscan_string(&sc, key, sizeof key, &klen) < 0 || jscan_expect(&sc, ':') < 0)
                        return n;
                if (!streq(key, "acknowledged") || jscan_peek(&sc) != '[') {
                        if (jscan_skip(&sc) < 0)
                                return n;
                        continue;
                }
                jscan_expect(&sc, '[');
                if (jscan_peek(&sc) == ']') {
                        jscan_expect(&sc, ']');
                        continue;
                }
                do {
                        if (jscan_string(&sc, uuid, sizeof uuid, &klen) < 0)
                                return n;
                        unsigned idx;
                        uint64_t seq;
                        size_t i;
                        if (sscanf(uuid, "%u-%" SCNu64 "-%zu", &idx, &seq, &i) == 3 && idx == a->index &&
                            seq == a->post_seq && i < a->n_inflight && !acked[i]) {
                                acked[i] = true;
                                n++;
                        }
                } while (jscan_next(&sc, ']') == 1);
        } while (jscan_next(&sc, '}') == 1);
        return n;
}

static void retry_cb(uv_timer_t *t) {
        struct sim_agent *a = t->data;
        if (!a->subscribed)
                return;
        arm(a, (uint64_t)a->heartbeat_s * 1000, heartbeat_cb);
        sim_post_request(a);
}

static void master_forgot(struct sim_agent *a) {
        struct sim *s = a->sim;
        log_info("agent %s: the master does not know it: resubscribing", a->hostname);
        a->subscribed = false;
        if (a->sub) {
                http_client_cancel(s->streams, a->sub);
                a->sub = NULL;
        }
        sim_agent_start(a);
}

static void post_done(void *data, int status, const struct http_client_response *resp, struct err *err) {
        struct sim_agent *a = data;
        struct sim *s = a->sim;
        a->posting = false;
        sim_post_done(s);
        bool ok = status >= 0 && resp->status == 200;
        _cleanup_free_ bool *acked = xcalloc(a->n_inflight + 1, sizeof *acked);
        if (ok)
                s->stats.updates_acked += apply_acks(a, resp->body, resp->len, acked);
        /* Unacknowledged updates go back to the front of the queue, in their order. */
        size_t back = 0;
        for (size_t i = 0; i < a->n_inflight; i++) {
                struct sim_task *t = a->inflight[i];
                uint8_t sent = t->sent;
                t->sent = NO_STATE;
                if (acked[i])
                        t->acked = sent;
                if (t->gone) {
                        task_maybe_free(t);
                        continue;
                }
                if (t->acked != t->state && !t->pending) {
                        a->inflight[back++] = t; /* reuse the slot array as scratch */
                        t->pending = true;
                }
                task_maybe_free(t);
        }
        if (back) {
                if (a->n_pending + back > a->cap_pending) {
                        a->cap_pending = a->n_pending + back;
                        a->pending = xrealloc(a->pending, a->cap_pending * sizeof *a->pending);
                }
                if (a->n_pending)
                        memmove(a->pending + back, a->pending, a->n_pending * sizeof *a->pending);
                memcpy(a->pending, a->inflight, back * sizeof *a->pending);
                a->n_pending += back;
        }
        a->n_inflight = 0;
        if (!a->running)
                return;
        if (!ok && !a->subscribed) {
                /* The stream is gone too: the next SUBSCRIBED sends what is pending (and the
                 * reconnect timer must not be replaced by a retry). */
                s->stats.post_errors++;
                return;
        }
        if (!ok) {
                s->stats.post_errors++;
                if (status >= 0 && resp->status == 404) {
                        master_forgot(a);
                        return;
                }
                log_debug("agent %s: updates not delivered: %s", a->hostname,
                          status < 0 ? err_msg(err) : resp->body);
                arm(a, RETRY_MS, retry_cb);
                return;
        }
        if (a->n_pending > 0)
                sim_post_request(a);
}

/* --- subscription -------------------------------------------------------------------------- */

static void subscribe(struct sim_agent *a);

static void reconnect_cb(uv_timer_t *t) {
        subscribe(t->data);
}

static void resubscribe_later(struct sim_agent *a) {
        struct sim *s = a->sim;
        if (a->sub) {
                http_client_cancel(s->streams, a->sub);
                a->sub = NULL;
        }
        a->subscribed = false;
        if (!a->running || s->stopping)
                return;
        unsigned jitter = (unsigned)(sim_random(s) * (a->backoff_ms / 2 + 1));
        arm(a, a->backoff_ms + jitter, reconnect_cb);
        a->backoff_ms = MIN(a->backoff_ms * 2, BACKOFF_MAX_MS);
}

static void beat_done(void *data, int status, const struct http_client_response *resp, struct err *err) {
        struct sim_agent *a = data;
        a->beating = false;
        if (status >= 0 && resp->status == 200)
                return;
        a->sim->stats.post_errors++;
        if (status >= 0 && resp->status == 404 && a->running && a->subscribed)
                master_forgot(a);
}

/* An empty updates POST outside the slots: the master counts any request of the agent as
 * liveness when it arrives, without waiting for a commit (src/master/agent_link.c). */
static void send_beat(struct sim_agent *a) {
        struct sim *s = a->sim;
        if (a->beating || !a->agent_id)
                return;
        _cleanup_free_ char *url = xasprintf("%s/internal/v1/agents/%s/updates", base_url(a), a->agent_id);
        _cleanup_free_ char *body = xasprintf("{\"term\":%" PRIu64 ",\"updates\":[]}", a->max_term);
        const char *const headers[] = { "Content-Type: application/json", auth_client_header(&s->auth, base_url(a)),
                                        NULL };
        a->beating = true;
        a->last_post_ms = time_now_ms();
        s->stats.heartbeats++;
        http_client_request(s->beats, "POST", url, headers, body, strlen(body), 10000, beat_done, a);
}

static void heartbeat_cb(uv_timer_t *t) {
        struct sim_agent *a = t->data;
        int64_t now = time_now_ms();
        if (!a->subscribed)
                return;
        if (now - a->last_event_ms > (int64_t)a->heartbeat_s * 3000) {
                log_info("agent %s: no event from the master for %u s: resubscribing", a->hostname,
                         a->heartbeat_s * 3);
                a->sim->stats.stream_errors++;
                resubscribe_later(a);
                return;
        }
        arm(a, (uint64_t)a->heartbeat_s * 1000, heartbeat_cb);
        if (now - a->last_post_ms < (int64_t)a->heartbeat_s * 1000 - 100)
                return;
        /* With a free slot the heartbeat carries what is pending; when the agent's updates wait
         * for a slot, or its POST waits for a commit, it goes on its own. */
        if (!a->posting && !a->queued && a->sim->posts_in_flight < a->sim->cfg.max_posts)
                sim_post_request(a);
        else
                send_beat(a);
}

static int on_record(const char *data, size_t len, void *userdata) {
        struct sim_agent *a = userdata;
        struct sim *s = a->sim;
        struct agent_event *ev = &s->ev;
        struct err e = { 0 };
        s->stats.events++;
        if (agent_event_decode(ev, data, len, &e) < 0) {
                log_warn("agent %s: %s; resubscribing", a->hostname, err_msg(&e));
                err_release(&e);
                s->stats.bad_events++;
                return -EBADMSG;
        }
        a->last_event_ms = time_now_ms();
        if (ev->term < a->max_term) {
                s->stats.stale_events++; /* a deposed leader can do no harm (DESIGN §5) */
                return 0;
        }
        a->max_term = ev->term;
        size_t pos = 0;
        const char *id;
        switch (ev->type) {
        case AGENT_EVENT_SUBSCRIBED:
                if (!a->agent_id || !streq(a->agent_id, ev->agent_id)) {
                        free(a->agent_id);
                        a->agent_id = xstrdup(ev->agent_id);
                }
                a->heartbeat_s = s->cfg.heartbeat_s ? s->cfg.heartbeat_s
                                 : ev->heartbeat_s > 0 && ev->heartbeat_s < 3600 ? (unsigned)ev->heartbeat_s
                                                                                  : 2;
                a->subscribed = true;
                a->subscriptions++;
                a->subscribed_at_ms = a->last_event_ms;
                a->backoff_ms = BACKOFF_MIN_MS;
                s->stats.subscribes++;
                /* Spread heartbeats over the interval so they do not arrive in waves. */
                arm(a, (uint64_t)(sim_random(s) * a->heartbeat_s * 1000) + 1, heartbeat_cb);
                if (a->n_pending)
                        sim_post_request(a);
                break;
        case AGENT_EVENT_LAUNCH:
                while ((id = agent_event_next_id(ev, &pos)))
                        launch(a, id);
                break;
        case AGENT_EVENT_KILL:
                while ((id = agent_event_next_id(ev, &pos)))
                        kill_task(a, id);
                break;
        case AGENT_EVENT_HEARTBEAT:
        case AGENT_EVENT_OTHER:
                break;
        }
        return 0;
}

static int on_data(void *data, const char *chunk, size_t len) {
        struct sim_agent *a = data;
        struct err e = { 0 };
        int r = recordio_feed(&a->rio, chunk, len, on_record, a, &e);
        /* Thousands of streams each keeping the largest chunk they ever buffered add up: give the
         * buffer back whenever every record in it has been handled. */
        if (a->rio.buf.len == 0 && a->rio.buf.cap > 4096)
                strbuf_release(&a->rio.buf);
        if (r < 0 && e.msg)
                log_warn("agent %s: event stream: %s", a->hostname, err_msg(&e));
        err_release(&e);
        return r < 0 ? r : 0;
}

static void stream_done(void *data, int status, const struct http_client_response *resp, struct err *err) {
        struct sim_agent *a = data;
        a->sub = NULL;
        a->subscribed = false;
        if (!a->running || a->sim->stopping)
                return;
        a->sim->stats.stream_errors++;
        if (status < 0) {
                log_info("agent %s: event stream ended: %s", a->hostname, err_msg(err));
                free(a->leader_url);
                a->leader_url = NULL;
                a->master_idx = (a->master_idx + 1) % a->sim->cfg.n_masters;
        } else {
                _cleanup_free_ char *leader = http_client_response_header(resp, "X-Marathon-Leader");
                if (resp->status == 503 && leader && (!a->leader_url || !streq(a->leader_url, leader))) {
                        free(a->leader_url);
                        a->leader_url = TAKE_PTR(leader);
                        a->backoff_ms = BACKOFF_MIN_MS;
                        subscribe(a);
                        return;
                }
                if (resp->status != 200)
                        log_info("agent %s: subscription refused: %ld %s", a->hostname, resp->status, resp->body);
                free(a->leader_url);
                a->leader_url = NULL;
                if (resp->status != 200)
                        a->master_idx = (a->master_idx + 1) % a->sim->cfg.n_masters;
        }
        resubscribe_later(a);
}

static void subscribe(struct sim_agent *a) {
        struct sim *s = a->sim;
        if (!a->running || s->stopping || a->sub)
                return;
        recordio_release(&a->rio);
        recordio_init(&a->rio, 64 * 1024 * 1024);
        struct strbuf sb = { 0 };
        strbuf_puts(&sb, "{\"agentId\":");
        if (a->agent_id)
                agent_proto_json_string(&sb, a->agent_id);
        else
                strbuf_puts(&sb, "null");
        _cleanup_free_ char *res = json_compact(s->cfg.resources);
        _cleanup_free_ char *attrs = json_compact(a->attributes);
        strbuf_puts(&sb, ",\"hostname\":");
        agent_proto_json_string(&sb, a->hostname);
        strbuf_puts(&sb, ",\"address\":");
        agent_proto_json_string(&sb, a->address);
        strbuf_printf(&sb, ",\"resources\":%s,\"attributes\":%s,\"maxTerm\":%" PRIu64 ",\"tasks\":[", res, attrs,
                      a->max_term);
        size_t pos = 0, n = 0;
        void *v;
        while (hashmap_next(&a->tasks, &pos, NULL, &v)) {
                struct sim_task *t = v;
                strbuf_puts(&sb, n++ ? ",{\"taskId\":" : "{\"taskId\":");
                agent_proto_json_string(&sb, t->id);
                strbuf_printf(&sb, ",\"state\":\"%s\"}", task_state_to_string((enum task_state)t->state));
        }
        strbuf_puts(&sb, "]}");
        _cleanup_free_ char *url = xasprintf("%s/internal/v1/agents/subscribe", base_url(a));
        const char *const headers[] = { "Content-Type: application/json", "Accept: application/recordio",
                                        auth_client_header(&s->auth, base_url(a)), NULL };
        a->last_event_ms = time_now_ms();
        a->sub = http_client_stream(s->streams, "POST", url, headers, sb.buf, sb.len, -1, on_data, stream_done, a);
        strbuf_release(&sb);
}

/* --- lifecycle ----------------------------------------------------------------------------- */

void sim_agent_init(struct sim *s, struct sim_agent *a, unsigned index, struct err *err) {
        *a = (struct sim_agent){ .sim = s, .index = index, .backoff_ms = BACKOFF_MIN_MS, .heartbeat_s = 2 };
        /* The templates were checked at start-up: expansion cannot fail here. */
        a->hostname = sim_expand(s->cfg.hostname, index, s->cfg.classes, err);
        if (!a->hostname)
                a->hostname = xasprintf("sim-%u", index);
        a->address = xasprintf("%s:5051", a->hostname);
        if (sim_agent_attributes(&s->cfg, index, &a->attributes, err) < 0)
                a->attributes = json_object();
        hashmap_init(&a->tasks);
        recordio_init(&a->rio, 64 * 1024 * 1024);
        uv_timer_init(s->loop, &a->timer);
        a->timer.data = a;
        a->master_idx = index % s->cfg.n_masters;
}

static void forget_tasks(struct sim_agent *a) {
        size_t pos = 0;
        void *v;
        while (hashmap_next(&a->tasks, &pos, NULL, &v)) {
                struct sim_task *t = v;
                t->gone = true;
                t->pending = false;
                task_maybe_free(t);
        }
        hashmap_release(&a->tasks);
        hashmap_init(&a->tasks);
        a->n_pending = 0;
        a->n_active = 0;
}

void sim_agent_start(struct sim_agent *a) {
        a->running = true;
        a->backoff_ms = BACKOFF_MIN_MS;
        subscribe(a);
}

void sim_agent_stop(struct sim_agent *a) {
        struct sim *s = a->sim;
        if (!a->running)
                return;
        a->running = false;
        a->subscribed = false;
        uv_timer_stop(&a->timer);
        if (a->sub) {
                http_client_cancel(s->streams, a->sub);
                a->sub = NULL;
        }
        forget_tasks(a);
}

void sim_agent_release(struct sim_agent *a) {
        /* A POST cancelled at shut-down never calls back: its tasks are ours to free. */
        for (size_t i = 0; i < a->n_inflight; i++) {
                struct sim_task *t = a->inflight[i];
                t->sent = NO_STATE;
                if (t->gone)
                        task_maybe_free(t); /* no longer in a->tasks: forget_tasks would miss it */
        }
        a->n_inflight = 0;
        forget_tasks(a);
        hashmap_release(&a->tasks);
        recordio_release(&a->rio);
        free(a->pending);
        free(a->inflight);
        free(a->hostname);
        free(a->address);
        free(a->agent_id);
        free(a->leader_url);
        json_decref(a->attributes);
}
