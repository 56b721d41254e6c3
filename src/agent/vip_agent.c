/* vip_agent.c — the VIP table into nftables, off the loop (vip_agent.h). */
#include "agent/vip_agent.h"
#include "agent/agent_metrics.h"

#include <errno.h>
#include <nftables/libnftables.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "agent/agent.h"
#include "common/alloc.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "common/timeutil.h"
#include "common/util.h"
#include "model/vip_nft.h"

struct agent_vip {
        struct agent *agent;
        struct nft_ctx *nft;
        uv_work_t work;
        bool working;          /* a transaction is in flight */
        bool stopped;          /* agent_vip_stop ran while working: free in done */
        json_t *next;          /* the latest rules not yet applied (vip_nft_rules) */
        json_t *running;       /* the rules of the transaction in flight */
        json_t *applied;       /* the rules programmed; NULL: unknown (write the whole table) */
        int rc;                /* of the transaction in flight */
        char *error;           /* its error text (owned) */
        double last_ms;        /* its duration */
        size_t next_vips, next_backends, vips, backends;
        uint64_t syncs, failures;
};

static int run(struct nft_ctx *nft, const char *text, char **error) {
        nft_ctx_buffer_error(nft);
        int r = nft_run_cmd_from_buffer(nft, text);
        const char *msg = nft_ctx_get_error_buffer(nft);
        if (error)
                *error = r != 0 && msg ? xstrdup(msg) : NULL;
        nft_ctx_unbuffer_error(nft);
        return r;
}

static void work_cb(uv_work_t *w) {
        struct agent_vip *v = w->data;
        uint64_t t0 = time_mono_ns();
        char *text = v->applied ? vip_nft_delta(v->applied, v->running) : vip_nft_full(v->running);
        v->rc = text ? run(v->nft, text, &v->error) : 0;
        free(text);
        v->last_ms = (double)(time_mono_ns() - t0) / 1e6;
}

static void kick(struct agent *a);

static void free_vip(struct agent_vip *v) {
        nft_ctx_free(v->nft);
        json_decref(v->next);
        json_decref(v->running);
        json_decref(v->applied);
        free(v->error);
        free(v);
}

static void done_cb(uv_work_t *w, int status) {
        struct agent_vip *v = w->data;
        v->working = false;
        if (v->stopped) {
                free_vip(v);
                return;
        }
        v->syncs++;
        if (status < 0 || v->rc != 0) {
                v->failures++;
                log_warn("VIPs: nftables refused the change: %s", v->error ? v->error : "cancelled");
                json_decref(v->running);
                json_decref(v->applied);
                v->applied = NULL; /* the next change writes the whole table */
        } else {
                log_debug("VIPs: %zu programmed (%zu backends) in %.1f ms", v->next_vips, v->next_backends, v->last_ms);
                json_decref(v->applied);
                v->applied = v->running;
                v->vips = v->next_vips;
                v->backends = v->next_backends;
        }
        v->running = NULL;
        free(v->error);
        v->error = NULL;
        kick(v->agent);
}

static void kick(struct agent *a) {
        struct agent_vip *v = a->vip;
        if (!v || v->working || !v->next)
                return;
        if (v->applied && json_equal(v->applied, v->next)) {
                json_decref(v->next);
                v->next = NULL;
                return;
        }
        v->running = v->next;
        v->next = NULL;
        v->work.data = v;
        v->working = true;
        if (uv_queue_work(a->loop, &v->work, work_cb, done_cb) < 0) {
                v->working = false;
                log_warn("VIPs: cannot queue the nftables transaction");
                json_decref(v->running);
                v->running = NULL;
        }
}

static size_t count_backends(const json_t *vips) {
        size_t n = 0, i;
        json_t *e;
        json_array_foreach(vips, i, e)
                n += json_array_size(json_object_get(e, "backends"));
        return n;
}

void agent_vip_event(struct agent *a, const json_t *ev) {
        const json_t *vips = json_object_get(json_object_get(ev, "view"), "vips");
        if (!a->vip || !json_is_array(vips))
                return;
        size_t bad = 0;
        json_decref(a->vip->next);
        a->vip->next = vip_nft_rules(vips, &bad);
        a->vip->next_vips = json_object_size(a->vip->next);
        a->vip->next_backends = count_backends(vips);
        if (bad)
                log_warn("VIPs: %zu malformed or duplicate entries in the view left out", bad);
        kick(a);
}

/* The VIP counters on the agent's /metrics (agent_metrics.h). */
static void vip_family(struct strbuf *out, void *data) {
        agent_vip_metrics(data, out);
}

int agent_vip_start(struct agent *a, struct err *e) {
        const char *mode = a->cfg.vip;
        bool off = mode && streq(mode, "off"), on = mode && streq(mode, "on");
        if (mode && !off && !on)
                return err_set(e, -EINVAL, "--vip must be on or off");
        struct nft_ctx *nft = geteuid() == 0 ? nft_ctx_new(NFT_CTX_DEFAULT) : NULL;
        if (off) {
                if (nft) {
                        char *msg = NULL;
                        if (run(nft, vip_nft_remove(), &msg) != 0)
                                log_warn("--vip off: cannot remove nftables table ip %s: %s", VIP_NFT_TABLE,
                                         msg ? msg : "?");
                        free(msg);
                        nft_ctx_free(nft);
                }
                return 0;
        }
        char *msg = NULL;
        /* Proves nftables can be programmed here, and leaves the last table in place (the view
         * replaces it once a master answers). */
        int r = nft ? run(nft, "add table ip " VIP_NFT_TABLE "\n", &msg) : -1;
        if (r != 0) {
                const char *why = !nft ? (geteuid() != 0 ? "not running as root" : "libnftables unavailable")
                                       : msg ? msg : "nftables refused";
                if (nft)
                        nft_ctx_free(nft);
                if (on) {
                        err_set(e, -EPERM, "--vip on: cannot program nftables: %s", why);
                        free(msg);
                        return -EPERM;
                }
                log_warn("no VIPs on this agent: cannot program nftables (%s); --vip off silences this", why);
                free(msg);
                return 0;
        }
        free(msg);
        a->vip = xmalloc(sizeof *a->vip);
        *a->vip = (struct agent_vip){ .agent = a, .nft = nft };
        log_info("VIPs programmed with nftables (table ip %s)", VIP_NFT_TABLE);
        if (a->metrics)
                agent_metrics_add_family(a->metrics, vip_family, a);
        return 0;
}

void agent_vip_stop(struct agent *a) {
        struct agent_vip *v = a->vip;
        if (!v)
                return;
        if (a->metrics)
                agent_metrics_remove_family(a->metrics, vip_family, a);
        a->vip = NULL;
        if (v->working)
                v->stopped = true; /* done_cb frees it */
        else
                free_vip(v);
}

void agent_vip_metrics(const struct agent *a, struct strbuf *sb) {
        const struct agent_vip *v = a->vip;
        if (!v)
                return;
        strbuf_printf(sb,
                      "# HELP strata_vip_programmed Virtual IPs programmed in nftables.\n"
                      "# TYPE strata_vip_programmed gauge\nstrata_vip_programmed %zu\n"
                      "# HELP strata_vip_backends Backends over all programmed VIPs.\n"
                      "# TYPE strata_vip_backends gauge\nstrata_vip_backends %zu\n"
                      "# HELP strata_vip_syncs_total nftables transactions applied.\n"
                      "# TYPE strata_vip_syncs_total counter\nstrata_vip_syncs_total %llu\n"
                      "# HELP strata_vip_sync_failures_total nftables transactions refused.\n"
                      "# TYPE strata_vip_sync_failures_total counter\nstrata_vip_sync_failures_total %llu\n"
                      "# HELP strata_vip_last_sync_seconds Time the last transaction took.\n"
                      "# TYPE strata_vip_last_sync_seconds gauge\nstrata_vip_last_sync_seconds %.6f\n",
                      v->vips, v->backends, (unsigned long long)v->syncs, (unsigned long long)v->failures, v->last_ms / 1000.0);
}
