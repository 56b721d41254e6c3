/* lb_config.h — the view (lb_view.h) → HAProxy's configuration text, and backend changes →
 * Runtime API commands.
 *
 * Each backend has a fixed number of server *slots* named s1…sN (what `server-template s 1-N`
 * expands to). Which task sits in which slot is the balancer's state (struct lb_slots): a task
 * keeps its slot while it serves; a new task takes a free slot; a gone task's slot goes to
 * maintenance. Changing slots needs no reload, only Runtime API commands:
 *
 *   | change                    | commands (one line each, sent in one batch)                    |
 *   | task takes slot k         | set server B/sk addr IP port P; [set server B/sk check-port C;] |
 *   |                           | set server B/sk weight W; set server B/sk state ready|drain     |
 *   | task leaves slot k        | set server B/sk state maint                                     |
 *   | weight / draining changed | set server B/sk weight W; set server B/sk state ready|drain     |
 *
 * The configuration text has two forms. The *structural* form writes every slot empty
 * (`server sk 0.0.0.0:0 disabled …`): two states whose structural texts are equal differ only in
 * slot contents, so they need no reload. The *materialized* form, written at each reload, puts the
 * current task of each slot on its line, so a new HAProxy worker starts with the live server set.
 * A backend whose tasks outgrow its slots gets more (the next power of two of twice the need,
 * at least LB_MIN_SLOTS): a structural change, hence one reload. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/hashmap.h"
#include "common/strbuf.h"
#include "lb/lb_view.h"

#define LB_MIN_SLOTS 8
#define LB_MAX_SLOTS 4096

struct lb_slot {
        char *task; /* NULL: empty */
        char *ip;
        unsigned port, check_port, weight;
        bool draining;
};

struct lb_backend_slots {
        char *name; /* the backend; owned (the map's key) */
        size_t n;
        struct lb_slot *slot;
        bool seen; /* scratch for lb_slots_update */
};

struct lb_slots {
        struct hashmap backends; /* name -> struct lb_backend_slots * */
};

/* What the HAProxy process is told beyond the view. */
struct lb_config_options {
        const char *admin_socket; /* the Runtime API socket (expose-fd listeners) */
        const char *bind_addr;    /* shared frontends' address; NULL: all */
        unsigned http_port, https_port;
        const char *ssl_cert;     /* default certificate of the https frontend, or NULL */
        unsigned fd_limit;        /* fd-hard-limit (HAProxy then sizes maxconn to fit); 0: none */
        /* Another process listens on a service's bind address and port (HAProxy would fail the
         * whole reload on it): the service is left unbound and reported. NULL: never. */
        bool (*port_taken)(const char *addr, unsigned port, void *data);
        void *data;
};

void lb_slots_init(struct lb_slots *s);
void lb_slots_release(struct lb_slots *s);
/* The slots of backend name, or NULL. */
const struct lb_backend_slots *lb_slots_get(const struct lb_slots *s, const char *name);

/* Moves the slots to the view's servers (each backend of view.services[] and of its "ab").
 * Appends the Runtime API commands for the change to cmds, one per line. Backends that left
 * the view are dropped; new or outgrown backends get slots (a structural change: their
 * commands are not needed, the reload that follows carries the servers). Returns the number
 * of commands appended. */
size_t lb_slots_update(struct lb_slots *s, const json_t *view, struct strbuf *cmds);

/* The configuration for view with the slots s: structural (with_servers false) or materialized.
 * Services that cannot be bound (a port already taken by another frontend) are left out and
 * reported in issues (an array, appended to; may be NULL). Caller frees. */
char *lb_config_render(const json_t *view, const struct lb_slots *s, const struct lb_config_options *co,
                       bool with_servers, json_t *issues);
