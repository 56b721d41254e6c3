/* agent_proto.c — decoding master → agent events with the pull scanner (no JSON tree per record:
 * a simulator host decodes a million launches). */
#include "agent/agent_proto.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "common/jscan.h"

void agent_event_init(struct agent_event *ev) {
        *ev = (struct agent_event){ .grace_s = -1 };
}

void agent_event_release(struct agent_event *ev) {
        strbuf_release(&ev->ids);
}

static int bad(struct agent_event *ev, struct jscan *sc, struct err *err, const char *what) {
        return err_set(err, -EBADMSG, "malformed event at byte %zu: %s", jscan_offset(sc), what);
}

static int add_id(struct agent_event *ev, const char *id, size_t len) {
        if (ev->n_ids >= AGENT_EVENT_MAX_TASKS)
                return -EBADMSG;
        strbuf_append(&ev->ids, id, len + 1);
        ev->n_ids++;
        return 0;
}

static int integer(struct jscan *sc, int64_t *ret) {
        double d;
        bool is_int;
        int r = jscan_number(sc, &d, ret, &is_int);
        return r < 0 ? r : is_int ? 0 : -EINVAL;
}

/* tasks: [{"taskId": "…", …}, …] (LAUNCH) */
static int scan_launch_tasks(struct agent_event *ev, struct jscan *sc) {
        char key[AGENT_EVENT_MAX_ID + 1], id[AGENT_EVENT_MAX_ID + 1];
        size_t klen, idlen;
        if (jscan_expect(sc, '[') < 0)
                return -EINVAL;
        if (jscan_peek(sc) == ']')
                return jscan_expect(sc, ']');
        do {
                bool have = false;
                if (jscan_expect(sc, '{') < 0)
                        return -EINVAL;
                if (jscan_peek(sc) != '}') {
                        do {
                                if (jscan_string(sc, key, sizeof key, &klen) < 0)
                                        return -EINVAL;
                                if (jscan_expect(sc, ':') < 0)
                                        return -EINVAL;
                                if (streq(key, "taskId")) {
                                        if (jscan_string(sc, id, sizeof id, &idlen) < 0 || idlen == 0)
                                                return -EINVAL;
                                        have = true;
                                } else if (jscan_skip(sc) < 0) {
                                        return -EINVAL;
                                }
                        } while (jscan_next(sc, '}') == 1);
                } else if (jscan_expect(sc, '}') < 0) {
                        return -EINVAL;
                }
                if (!have || add_id(ev, id, idlen) < 0)
                        return -EINVAL;
        } while (jscan_next(sc, ']') == 1);
        return 0;
}

/* taskIds: ["…", …] (KILL) */
static int scan_ids(struct agent_event *ev, struct jscan *sc) {
        char id[AGENT_EVENT_MAX_ID + 1];
        size_t len;
        if (jscan_expect(sc, '[') < 0)
                return -EINVAL;
        if (jscan_peek(sc) == ']')
                return jscan_expect(sc, ']');
        do {
                if (jscan_string(sc, id, sizeof id, &len) < 0 || len == 0 || add_id(ev, id, len) < 0)
                        return -EINVAL;
        } while (jscan_next(sc, ']') == 1);
        return 0;
}

static int ended(struct jscan *sc, char close) {
        /* jscan_next returns 1 (more), 0 (closed) or < 0 (malformed). */
        return jscan_next(sc, close);
}

int agent_event_decode(struct agent_event *ev, const char *data, size_t len, struct err *err) {
        struct jscan sc;
        char key[AGENT_EVENT_MAX_ID + 1], type[32] = "";
        size_t klen;
        bool have_term = false;
        int64_t term = 0;
        ev->type = AGENT_EVENT_OTHER;
        ev->term = 0;
        ev->agent_id[0] = 0;
        ev->heartbeat_s = 0;
        ev->grace_s = -1;
        ev->n_ids = 0;
        ev->ids.len = 0;
        jscan_init(&sc, data, len);
        if (jscan_expect(&sc, '{') < 0)
                return bad(ev, &sc, err, "not an object");
        /* Fields may come in any order: remember the lists, act on the type afterwards. */
        bool tasks_seen = false, ids_seen = false;
        struct agent_event tmp_tasks, tmp_ids;
        agent_event_init(&tmp_tasks);
        agent_event_init(&tmp_ids);
        int r = 0;
        if (jscan_peek(&sc) == '}') {
                jscan_expect(&sc, '}');
        } else {
                do {
                        if (jscan_string(&sc, key, sizeof key, &klen) < 0) {
                                r = bad(ev, &sc, err, "bad key");
                                goto out;
                        }
                        if (jscan_expect(&sc, ':') < 0) {
                                r = bad(ev, &sc, err, "expected ':'");
                                goto out;
                        }
                        if (streq(key, "type")) {
                                if (jscan_string(&sc, type, sizeof type, &klen) < 0) {
                                        r = bad(ev, &sc, err, "\"type\" is not a short string");
                                        goto out;
                                }
                        } else if (streq(key, "term")) {
                                if (integer(&sc, &term) < 0 || term < 0) {
                                        r = bad(ev, &sc, err, "\"term\" is not a non-negative integer");
                                        goto out;
                                }
                                have_term = true;
                        } else if (streq(key, "agentId")) {
                                if (jscan_string(&sc, ev->agent_id, sizeof ev->agent_id, &klen) < 0) {
                                        r = bad(ev, &sc, err, "\"agentId\" is not a string of at most 256 bytes");
                                        goto out;
                                }
                        } else if (streq(key, "heartbeatIntervalSeconds")) {
                                if (integer(&sc, &ev->heartbeat_s) < 0) {
                                        r = bad(ev, &sc, err, "\"heartbeatIntervalSeconds\" is not an integer");
                                        goto out;
                                }
                        } else if (streq(key, "gracePeriodSeconds")) {
                                if (integer(&sc, &ev->grace_s) < 0) {
                                        r = bad(ev, &sc, err, "\"gracePeriodSeconds\" is not an integer");
                                        goto out;
                                }
                        } else if (streq(key, "tasks") && jscan_peek(&sc) == '[') {
                                if (tasks_seen || scan_launch_tasks(&tmp_tasks, &sc) < 0) {
                                        r = bad(ev, &sc, err, "\"tasks\" is not a list of {\"taskId\"}");
                                        goto out;
                                }
                                tasks_seen = true;
                        } else if (streq(key, "taskIds")) {
                                if (ids_seen || scan_ids(&tmp_ids, &sc) < 0) {
                                        r = bad(ev, &sc, err, "\"taskIds\" is not a list of ids");
                                        goto out;
                                }
                                ids_seen = true;
                        } else if (jscan_skip(&sc) < 0) {
                                r = bad(ev, &sc, err, "malformed value");
                                goto out;
                        }
                        r = ended(&sc, '}');
                        if (r < 0) {
                                r = bad(ev, &sc, err, "expected ',' or '}'");
                                goto out;
                        }
                } while (r == 1);
        }
        if (jscan_peek(&sc) != 0) {
                r = bad(ev, &sc, err, "trailing bytes");
                goto out;
        }
        if (!type[0] || !have_term) {
                r = err_set(err, -EBADMSG, "malformed event: no \"type\" or no integer \"term\"");
                goto out;
        }
        ev->term = (uint64_t)term;
        struct agent_event *src = NULL;
        if (streq(type, "SUBSCRIBED")) {
                if (!ev->agent_id[0]) {
                        r = err_set(err, -EBADMSG, "malformed event: SUBSCRIBED without \"agentId\"");
                        goto out;
                }
                ev->type = AGENT_EVENT_SUBSCRIBED;
        } else if (streq(type, "LAUNCH")) {
                ev->type = AGENT_EVENT_LAUNCH;
                src = &tmp_tasks;
        } else if (streq(type, "KILL")) {
                ev->type = AGENT_EVENT_KILL;
                src = &tmp_ids;
        } else if (streq(type, "HEARTBEAT")) {
                ev->type = AGENT_EVENT_HEARTBEAT;
        }
        if (src && src->n_ids) {
                /* Hand the collected ids over without copying. */
                struct strbuf swap = ev->ids;
                ev->ids = src->ids;
                src->ids = swap;
                ev->n_ids = src->n_ids;
        }
        r = 0;
out:
        agent_event_release(&tmp_tasks);
        agent_event_release(&tmp_ids);
        return r;
}

const char *agent_event_next_id(const struct agent_event *ev, size_t *pos) {
        if (*pos >= ev->ids.len)
                return NULL;
        const char *id = ev->ids.buf + *pos;
        *pos += strlen(id) + 1;
        return id;
}

void agent_proto_json_string(struct strbuf *sb, const char *s) {
        strbuf_append(sb, "\"", 1);
        const char *run = s;
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                if (*p != '"' && *p != '\\' && *p >= 0x20)
                        continue;
                strbuf_append(sb, run, (size_t)((const char *)p - run));
                char esc[8];
                int n = *p == '"' ? snprintf(esc, sizeof esc, "\\\"")
                      : *p == '\\' ? snprintf(esc, sizeof esc, "\\\\")
                                   : snprintf(esc, sizeof esc, "\\u%04x", *p);
                strbuf_append(sb, esc, (size_t)n);
                run = (const char *)p + 1;
        }
        strbuf_puts(sb, run);
        strbuf_append(sb, "\"", 1);
}
