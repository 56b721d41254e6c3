/* app.c — app_normalize: an app definition in, its canonical 1.5+ form (or Marathon's errors) out. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "model/app.h"
#include "model/app_id.h"
#include "model/app_internal.h"

#define EXECUTOR_PATTERN "^(//cmd)|(/?[^/]+(/[^/]+)*)|$"
#define LABEL_SINGLE_INSTANCE "MARATHON_SINGLE_INSTANCE_APP"

/* Fields that only ever appear in output (AppInfo); dropped from input. */
static const char *const output_only[] = {
        "version", "versionInfo", "tasks", "tasksStaged", "tasksRunning", "tasksHealthy", "tasksUnhealthy",
        "deployments", "readinessCheckResults", "lastTaskFailure", "tasksStats", "taskStats", NULL,
};

/* Canonical key order of an app. */
static const char *const key_order[] = {
        "id", "cmd", "args", "user", "instances", "cpus", "mem", "disk", "gpus", "executor",
        "resourceLimits", "executorResources", "fetch", "container", "networks", "portDefinitions",
        "requirePorts", "env", "secrets", "labels", "constraints", "acceptedResourceRoles", "healthChecks",
        "check", "readinessChecks", "dependencies", "backoffSeconds", "backoffFactor", "maxLaunchDelaySeconds",
        "upgradeStrategy", "unreachableStrategy", "killSelection", "taskKillGracePeriodSeconds", "residency",
        "tty", "role", NULL,
};

/* Scala prints doubles as 1.0, 1.2, -3.0; the messages quote it. */
void app_format_double(double d, char buf[static 32]) {
        if (d == floor(d) && fabs(d) < 1e15) {
                snprintf(buf, 32, "%.1f", d);
                return;
        }
        for (int prec = 1; prec <= 17; prec++) {
                snprintf(buf, 32, "%.*g", prec, d);
                if (strtod(buf, NULL) == d)
                        return;
        }
}

static void strip_nulls(json_t *j, int depth) {
        if (depth > 16)
                return;
        if (json_is_object(j)) {
                const char *k;
                json_t *v;
                void *tmp;
                json_object_foreach_safe(j, tmp, k, v) {
                        if (json_is_null(v))
                                json_object_del(j, k);
                        else
                                strip_nulls(v, depth + 1);
                }
        } else if (json_is_array(j)) {
                size_t i;
                json_t *v;
                json_array_foreach(j, i, v)
                        strip_nulls(v, depth + 1);
        }
}

void app_json_drop_nulls(json_t *doc) {
        strip_nulls(doc, 0);
}

static void check_min_double(struct verrs *v, const char *path, const json_t *j, double min) {
        if (!j)
                return;
        double d = json_num(j);
        if (d < min) {
                char got[32], exp[32];
                app_format_double(d, got);
                app_format_double(min, exp);
                verr(v, path, "got %s, expected %s or more", got, exp);
        }
}

static void check_min_int(struct verrs *v, const char *path, const json_t *j, long long min) {
        if (j && json_int_or(j, 0) < min)
                verr(v, path, "got %lld, expected %lld or more", json_int_or(j, 0), min);
}

static bool executor_valid(const char *s) {
        size_t n = strlen(s);
        if (n == 0 || streq(s, "//cmd"))
                return true;
        /* /?[^/]+(/[^/]+)* : optional leading slash, then non-empty segments, no trailing slash */
        const char *p = s[0] == '/' ? s + 1 : s;
        if (!*p)
                return false;
        for (const char *c = p; *c; c++)
                if (*c == '/' && (c == p || c[1] == '/' || c[1] == '\0'))
                        return false;
        return true;
}

static json_t *number_or(const json_t *in, const char *key, double def) {
        json_t *j = json_object_get(in, key);
        return json_number_canon(j ? json_num(j) : def);
}

/* id, cmd, args, user, resources, executor, backoff… */
static void build_basics(struct app_build *b, const char *parent) {
        const json_t *in = b->in;
        json_t *out = b->out;
        const char *id = json_string_value(json_object_get(in, "id"));
        char *abs = NULL;

        if (id && app_id_check(id, parent, "/id", &abs, &b->errs) == 0)
                json_object_set_new(out, "id", json_string(abs));
        else if (id)
                json_object_set_new(out, "id", json_string(id));
        free(abs);

        json_t *cmd = json_object_get(in, "cmd");
        if (cmd) {
                /* Marathon's validateCanonicalAppAPI, on the whole app (so at path "/"):
                 * isTrue("must not be an empty string")(_.cmd.forall { s => s.length() > 1 }) —
                 * a one-character command is refused too; "" never gets here (app_schema.c). */
                if (strlen(json_string_value(cmd)) <= 1)
                        verr(&b->errs, "", "must not be an empty string");
                json_object_set(out, "cmd", cmd);
        }
        json_t *args = json_object_get(in, "args");
        if (json_array_size(args) > 0)
                json_object_set_new(out, "args", json_deep_copy(args));
        json_copy_key(out, in, "user");

        json_t *instances = json_object_get(in, "instances");
        check_min_int(&b->errs, "/instances", instances, 0);
        json_object_set_new(out, "instances", json_integer(json_int_or(instances, 1)));
        check_min_double(&b->errs, "/cpus", json_object_get(in, "cpus"), 0);
        json_object_set_new(out, "cpus", number_or(in, "cpus", 1));
        check_min_double(&b->errs, "/mem", json_object_get(in, "mem"), 0);
        json_object_set_new(out, "mem", number_or(in, "mem", 128));
        check_min_double(&b->errs, "/disk", json_object_get(in, "disk"), 0);
        json_object_set_new(out, "disk", number_or(in, "disk", 0));
        json_t *gpus = json_object_get(in, "gpus");
        check_min_int(&b->errs, "/gpus", gpus, 0);
        json_object_set_new(out, "gpus", json_integer(json_int_or(gpus, 0)));

        const char *executor = json_string_value(json_object_get(in, "executor"));
        if (executor && !executor_valid(executor))
                verr(&b->errs, "/executor", "must fully match regular expression '%s'", EXECUTOR_PATTERN);
        json_object_set_new(out, "executor", json_string(executor ? executor : ""));

        json_t *bs = json_object_get(in, "backoffSeconds");
        check_min_int(&b->errs, "/backoffSeconds", bs, 0);
        json_object_set_new(out, "backoffSeconds", json_integer(json_int_or(bs, 1)));
        check_min_double(&b->errs, "/backoffFactor", json_object_get(in, "backoffFactor"), 1.0);
        json_object_set_new(out, "backoffFactor", number_or(in, "backoffFactor", 1.15));
        json_t *mld = json_object_get(in, "maxLaunchDelaySeconds");
        check_min_int(&b->errs, "/maxLaunchDelaySeconds", mld, 0);
        json_object_set_new(out, "maxLaunchDelaySeconds", json_integer(json_int_or(mld, 300)));

        json_t *tkg = json_object_get(in, "taskKillGracePeriodSeconds");
        if (tkg) {
                check_min_int(&b->errs, "/taskKillGracePeriodSeconds", tkg, 0);
                json_object_set_new(out, "taskKillGracePeriodSeconds", json_integer(json_int_or(tkg, 0)));
        }
        json_t *require_ports = json_object_get(in, "requirePorts");
        /* requirePorts only applies to host networking */
        json_object_set_new(out, "requirePorts", json_boolean(b->host_network && json_is_true(require_ports)));
        json_copy_key(out, in, "tty");

        const char *ks = json_string_value(json_object_get(in, "killSelection"));
        json_object_set_new(out, "killSelection", json_string(ks ? ks : "YOUNGEST_FIRST"));
}

/* fetch: [{uri, extract, executable, cache, destPath?}] */
static void build_fetch(struct app_build *b) {
        json_t *fetch = json_object_get(b->in, "fetch");
        size_t i;
        json_t *a;

        if (json_array_size(fetch) == 0)
                return;
        json_t *out = json_array();
        json_array_foreach(fetch, i, a) {
                _cleanup_free_ char *p = path_idx("/fetch", i);
                _cleanup_free_ char *puri = path_key(p, "uri");
                const char *uri = json_string_value(json_object_get(a, "uri"));
                size_t n = strlen(uri);
                if (n < 1)
                        verr(&b->errs, puri, "must not be empty");
                else if (n > 1024)
                        verr(&b->errs, puri, "got %zu characters, expected 1024 or less", n);
                else if (!app_uri_valid(uri))
                        verr(&b->errs, puri, "URI has invalid syntax.");
                json_t *o = json_pack("{s:s}", "uri", uri);
                json_t *extract = json_object_get(a, "extract");
                json_object_set_new(o, "extract", json_boolean(extract ? json_is_true(extract) : true));
                json_object_set_new(o, "executable", json_boolean(json_is_true(json_object_get(a, "executable"))));
                json_object_set_new(o, "cache", json_boolean(json_is_true(json_object_get(a, "cache"))));
                const char *dest = json_string_value(json_object_get(a, "destPath"));
                if (dest) {
                        if (!*dest || strlen(dest) > 1024) {
                                _cleanup_free_ char *pd = path_key(p, "destPath");
                                verr(&b->errs, pd, "must be between 1 and 1024 characters");
                        }
                        json_object_set_new(o, "destPath", json_string(dest));
                }
                json_array_append_new(out, o);
        }
        json_object_set_new(b->out, "fetch", out);
}

/* env: name → string | {"secret": name}; secrets: name → {"source": …}. */
static void build_env_secrets(struct app_build *b) {
        json_t *env = json_object_get(b->in, "env");
        json_t *secrets = json_object_get(b->in, "secrets");
        const char *k;
        json_t *v;

        if (json_object_size(secrets) > 0) {
                json_t *out = json_object();
                json_object_foreach(secrets, k, v) {
                        _cleanup_free_ char *p = path_key("/secrets", k);
                        if (!*k)
                                verr(&b->errs, "/secrets", "must not be empty");
                        const char *src = json_string_value(json_object_get(v, "source"));
                        if (!src || !*src) {
                                _cleanup_free_ char *ps = path_key(p, "source");
                                verr(&b->errs, ps, "must not be empty");
                        }
                        json_object_set_new(out, k, json_pack("{s:s}", "source", src ? src : ""));
                }
                json_object_set_new(b->out, "secrets", out);
        }
        if (json_object_size(env) == 0)
                return;
        json_t *out = json_object();
        json_object_foreach(env, k, v) {
                if (!*k)
                        verr(&b->errs, "/env", "must not be empty");
                if (json_is_object(v)) {
                        const char *s = json_string_value(json_object_get(v, "secret"));
                        if (!json_object_get(secrets, s)) {
                                _cleanup_free_ char *p = path_key("/env", k);
                                verr(&b->errs, p, "references an undefined secret");
                        }
                        json_object_set_new(out, k, json_pack("{s:s}", "secret", s));
                } else {
                        json_object_set(out, k, v);
                }
        }
        json_object_set_new(b->out, "env", out);
}

static bool role_name_valid(const char *r, struct verrs *v, const char *path) {
        static const struct {
                char c;
                const char *name;
        } bad[] = {
                {'\t', "horizontal tab (\\x09)"}, {'\n', "line feed (\\x0a)"}, {'\v', "vertical tab (\\x0b)"},
                {'\f', "form feed (\\x0c)"},      {'\r', "carriage return (\\x0d)"}, {' ', "space (\\x20)"},
                {'/', "slash (\\x2f)"},           {'\x7f', "backspace (\\x7f)"},
        };
        bool ok = true;
        if (streq(r, "") || streq(r, ".") || streq(r, "..")) {
                verr(v, path, "A role name must not be \"%s\".", r);
                return false;
        }
        if (r[0] == '-') {
                verr(v, path, "A role name must not start with a '-'.");
                ok = false;
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                if (strchr(r, bad[i].c)) {
                        verr(v, path, "A role name must not include a %s character.", bad[i].name);
                        ok = false;
                }
        return ok;
}

/* labels, acceptedResourceRoles, dependencies, role */
static void build_misc(struct app_build *b, const char *parent) {
        const json_t *in = b->in;
        json_t *labels = json_object_get(in, "labels");
        json_object_set_new(b->out, "labels", json_string_map_copy(labels));

        json_t *roles = json_object_get(in, "acceptedResourceRoles");
        if (roles) {
                size_t i;
                json_t *r;
                if (json_array_size(roles) == 0)
                        verr(&b->errs, "/acceptedResourceRoles", "must not be empty");
                json_t *out = json_array();
                json_array_foreach(roles, i, r) {
                        _cleanup_free_ char *p = path_idx("/acceptedResourceRoles", i);
                        role_name_valid(json_string_value(r), &b->errs, p);
                        bool dup = false;
                        size_t j;
                        json_t *o;
                        json_array_foreach(out, j, o)
                                dup |= json_equal(o, r);
                        if (!dup)
                                json_array_append(out, r);
                }
                if (b->resident && json_array_size(roles) > 0 &&
                    !(json_array_size(out) == 1 && streq(json_string_value(json_array_get(out, 0)), "*")))
                        verr(&b->errs, "/acceptedResourceRoles",
                             "A resident app must have `acceptedResourceRoles = [\"*\"]`.");
                if (json_array_size(out) > 0)
                        json_object_set_new(b->out, "acceptedResourceRoles", out);
                else
                        json_decref(out);
        }

        json_t *deps = json_object_get(in, "dependencies");
        if (json_array_size(deps) > 0) {
                size_t i;
                json_t *d;
                json_t *out = json_array();
                /* Marathon canonicalises dependencies against the enclosing group (the root for
                 * /v2/apps), not against the app's own parent. */
                const char *base = parent;
                json_array_foreach(deps, i, d) {
                        _cleanup_free_ char *p = path_idx("/dependencies", i);
                        const char *s = json_string_value(d);
                        if (!app_id_chars_valid(s))
                                verr(&b->errs, p, "%s", app_id_pattern_message);
                        _cleanup_free_ char *abs = app_id_canonical(s, base);
                        json_t *a = json_string(abs);
                        bool dup = false;
                        size_t j;
                        json_t *o;
                        json_array_foreach(out, j, o)
                                dup |= json_equal(o, a);
                        if (dup)
                                json_decref(a);
                        else
                                json_array_append_new(out, a);
                }
                json_object_set_new(b->out, "dependencies", out);
        }

        const char *role = json_string_value(json_object_get(in, "role"));
        if (role)
                role_name_valid(role, &b->errs, "/role");
        json_object_set_new(b->out, "role", json_string(role ? role : "*"));
}

static void check_capacity(struct verrs *v, const char *path, double d) {
        if (d < 0 || d > 1) {
                char got[32];
                app_format_double(d, got);
                verr(v, path, "got %s, expected between 0.0 and 1.0", got);
        }
}

static void check_zero(struct verrs *v, const char *path, double d) {
        if (d != 0) {
                char got[32];
                app_format_double(d, got);
                verr(v, path, "got %s, expected 0.0", got);
        }
}

static bool single_instance(const struct app_build *b) {
        const char *s = json_string_value(json_object_get(json_object_get(b->in, "labels"), LABEL_SINGLE_INSTANCE));
        return s && streq(s, "true");
}

/* upgradeStrategy, unreachableStrategy, residency */
static void build_strategies(struct app_build *b) {
        const json_t *in = b->in;
        json_t *us = json_object_get(in, "upgradeStrategy");
        /* apps with persistent or external volumes default to {0.5, 0} */
        bool volumes = b->resident || b->has_external;
        double def_min = volumes ? 0.5 : 1.0, def_max = volumes ? 0.0 : 1.0;
        double min = def_min, max = def_max;

        if (us) {
                /* Marathon ≤1.4 defaulted a missing key to 1.0; ≥1.5 rejects it. We accept it. */
                json_t *jmin = json_object_get(us, "minimumHealthCapacity");
                json_t *jmax = json_object_get(us, "maximumOverCapacity");
                min = jmin ? json_num(jmin) : 1.0;
                max = jmax ? json_num(jmax) : 1.0;
                check_capacity(&b->errs, "/upgradeStrategy/minimumHealthCapacity", min);
                check_capacity(&b->errs, "/upgradeStrategy/maximumOverCapacity", max);
        }
        if (single_instance(b)) {
                if (json_int_or(json_object_get(b->out, "instances"), 1) > 1)
                        verr(&b->errs, "", "Single instance app may only have one instance");
                if (us) {
                        check_zero(&b->errs, "/upgradeStrategy/minimumHealthCapacity", min);
                        check_zero(&b->errs, "/upgradeStrategy/maximumOverCapacity", max);
                } else {
                        min = max = 0;
                }
        }
        if (b->resident && us) {
                check_zero(&b->errs, "/upgradeStrategy/maximumOverCapacity", max);
        }
        json_object_set_new(b->out, "upgradeStrategy",
                            json_pack("{s:o,s:o}", "minimumHealthCapacity", json_number_canon(min),
                                      "maximumOverCapacity", json_number_canon(max)));

        json_t *un = json_object_get(in, "unreachableStrategy");
        if (json_is_string(un)) {
                json_object_set_new(b->out, "unreachableStrategy", json_string("disabled"));
        } else if (un) {
                long long inactive = json_int_or(json_object_get(un, "inactiveAfterSeconds"), 0);
                long long expunge = json_int_or(json_object_get(un, "expungeAfterSeconds"), 0);
                if (inactive < 0)
                        verr(&b->errs, "/unreachableStrategy/inactiveAfterSeconds",
                             "inactiveAfterSeconds (%lld) must be greater than or equal to 0", inactive);
                else if (inactive > expunge)
                        verr(&b->errs, "/unreachableStrategy/inactiveAfterSeconds",
                             "inactiveAfterSeconds (%lld) must be less or equal to expungeAfterSeconds, which is "
                             "%lld",
                             inactive, expunge);
                if (b->resident)
                        verr(&b->errs, "", "unreachableStrategy must be disabled for resident tasks");
                json_object_set_new(b->out, "unreachableStrategy",
                                    json_pack("{s:I,s:I}", "inactiveAfterSeconds", (json_int_t)inactive,
                                              "expungeAfterSeconds", (json_int_t)expunge));
        } else if (b->resident) {
                json_object_set_new(b->out, "unreachableStrategy", json_string("disabled"));
        } else {
                json_object_set_new(b->out, "unreachableStrategy",
                                    json_pack("{s:i,s:i}", "inactiveAfterSeconds", 0, "expungeAfterSeconds", 0));
        }

        json_t *res = json_object_get(in, "residency");
        if (res || b->resident) {
                json_object_set_new(
                        b->out, "residency",
                        json_pack("{s:I,s:s}", "relaunchEscalationTimeoutSeconds",
                                  (json_int_t)json_int_or(json_object_get(res, "relaunchEscalationTimeoutSeconds"),
                                                          3600),
                                  "taskLostBehavior",
                                  json_string_value(json_object_get(res, "taskLostBehavior")) ?: "WAIT_FOREVER"));
        }
}

/* resourceLimits (1.10) and executorResources */
static void build_resources_extra(struct app_build *b) {
        json_t *rl = json_object_get(b->in, "resourceLimits");
        if (rl) {
                json_t *out = json_object();
                static const char *const keys[] = {"cpus", "mem"};
                for (size_t i = 0; i < 2; i++) {
                        json_t *l = json_object_get(rl, keys[i]);
                        if (!l)
                                continue;
                        _cleanup_free_ char *p = xasprintf("/resourceLimits/%s", keys[i]);
                        if (json_is_string(l)) {
                                if (!streq(json_string_value(l), "unlimited"))
                                        verr(&b->errs, p,
                                             "'%s' is an invalid resource limit. It must be 'unlimited' or a number",
                                             json_string_value(l));
                                json_object_set(out, keys[i], l);
                        } else {
                                double req = json_num(json_object_get(b->out, keys[i]));
                                if (json_num(l) < req) {
                                        char r[32];
                                        app_format_double(req, r);
                                        verr(&b->errs, p,
                                             "resource limit must be greater than or equal to requested resource "
                                             "(%s)",
                                             r);
                                }
                                json_object_set_new(out, keys[i], json_number_canon(json_num(l)));
                        }
                }
                json_object_set_new(b->out, "resourceLimits", out);
        }
        json_t *er = json_object_get(b->in, "executorResources");
        if (er) {
                json_t *out = json_object();
                static const char *const keys[] = {"cpus", "mem", "disk"};
                static const double defs[] = {0.1, 32, 10};
                for (size_t i = 0; i < 3; i++) {
                        json_t *x = json_object_get(er, keys[i]);
                        _cleanup_free_ char *p = xasprintf("/executorResources/%s", keys[i]);
                        check_min_double(&b->errs, p, x, 0);
                        json_object_set_new(out, keys[i], json_number_canon(x ? json_num(x) : defs[i]));
                }
                json_object_set_new(b->out, "executorResources", out);
        }
}

/* The rules that look at the whole app. */
static void check_app(struct app_build *b) {
        const json_t *out = b->out;
        bool cmd = json_object_get(out, "cmd") != NULL;
        bool args = json_object_get(out, "args") != NULL;
        const json_t *c = json_object_get(out, "container");
        bool container = c && (json_object_get(c, "docker") ||
                               streq(json_string_value(json_object_get(c, "type")) ?: "", "MESOS"));

        /* (cmd ^ args) || (!(cmd && args) && container) */
        if (!((cmd != args) || (!(cmd && args) && container)))
                verr(&b->errs, "", "AppDefinition must either contain one of 'cmd' or 'args', and/or a 'container'.");

        if (json_int_or(json_object_get(out, "gpus"), 0) > 0 && b->docker)
                verr(&b->errs, "", "GPU resources only work with the Mesos containerizer");

        /* DCOS_MIGRATION_API_VERSION needs the framework name and path */
        const json_t *labels = json_object_get(out, "labels");
        const char *mv = json_string_value(json_object_get(labels, "DCOS_MIGRATION_API_VERSION"));
        if (mv && *mv) {
                const char *fw = json_string_value(json_object_get(labels, "DCOS_PACKAGE_FRAMEWORK_NAME"));
                const char *path = json_string_value(json_object_get(labels, "DCOS_MIGRATION_API_PATH"));
                if (!streq(mv, "v1") || !fw || !*fw || !path || !*path)
                        verr(&b->errs, "",
                             "DCOS_PACKAGE_FRAMEWORK_NAME and DCOS_MIGRATION_API_PATH must be defined when using "
                             "DCOS_MIGRATION_API_VERSION");
        }
}

/* Puts the members of o in the canonical order (unknown ones last). */
static json_t *ordered(json_t *o) {
        json_t *r = json_object();
        for (const char *const *k = key_order; *k; k++) {
                json_t *v = json_object_get(o, *k);
                if (v)
                        json_object_set(r, *k, v);
        }
        const char *k;
        json_t *v;
        json_object_foreach(o, k, v)
                if (!json_object_get(r, k))
                        json_object_set(r, k, v);
        return r;
}

static int normalize(const json_t *in, const char *parent, json_t **ret, struct err *err) {
        struct verrs v;
        _cleanup_(json_decrefp) json_t *work = NULL;
        _cleanup_free_ char *fatal = NULL;
        int r;

        verrs_init(&v);
        if (!json_is_object(in)) {
                verr(&v, "", "error.expected.jsobject");
                r = verrs_fail(&v, err, -ERR_BAD_JSON, "Invalid JSON");
                verrs_release(&v);
                return r;
        }
        if (app_check_bounds(in, &v)) {
                r = verrs_fail(&v, err, -ERR_INVALID, "Object is not valid");
                verrs_release(&v);
                return r;
        }
        app_schema_check(in, true, &v);
        if (verrs_any(&v)) {
                r = verrs_fail(&v, err, -ERR_BAD_JSON, "Invalid JSON");
                verrs_release(&v);
                return r;
        }

        work = json_deep_copy(in);
        for (const char *const *k = output_only; *k; k++)
                json_object_del(work, *k);
        strip_nulls(work, 0);

        app_legacy_translate(work, &v, &fatal);
        if (fatal) {
                verrs_release(&v);
                return err_set(err, -ERR_INVALID, "%s", fatal);
        }
        if (verrs_any(&v)) {
                r = verrs_fail(&v, err, -ERR_INVALID, "Object is not valid");
                verrs_release(&v);
                return r;
        }
        verrs_release(&v);

        struct app_build b = {.in = work, .out = json_object()};
        verrs_init(&b.errs);
        app_build_networks(&b);
        build_basics(&b, parent ? parent : "/");
        build_resources_extra(&b);
        build_fetch(&b);
        app_build_container(&b);
        app_build_port_definitions(&b);
        build_env_secrets(&b);
        build_misc(&b, parent ? parent : "/");
        app_build_constraints(&b);
        app_build_health_checks(&b);
        app_build_check(&b);
        app_build_readiness_checks(&b);
        build_strategies(&b);
        check_app(&b);

        if (verrs_any(&b.errs)) {
                r = verrs_fail(&b.errs, err, -ERR_INVALID, "Object is not valid");
                verrs_release(&b.errs);
                json_decref(b.out);
                return r;
        }
        verrs_release(&b.errs);
        *ret = ordered(b.out);
        json_decref(b.out);
        return 0;
}

int app_normalize(const json_t *in, const char *parent, json_t **ret, struct err *err) {
        return normalize(in, parent, ret, err);
}
