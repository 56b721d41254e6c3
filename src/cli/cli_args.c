/* cli_args.c — global options, verb flags, KEY=VALUE assignments, ids and JSON input files. */
#include "cli/cli_args.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "common/alloc.h"
#include "common/strbuf.h"
#include "common/util.h"

/* Matches argv[*i] against "--name", "--name=V", "-s", "-sV"; takes V from the next argument
 * when it is not attached. Returns 1 with *ret set on a match, 0 when argv[*i] is another
 * argument, -ERR_USAGE when the value is missing. */
static int take_value(int argc, char **argv, int *i, const char *name, char short_name, const char **ret,
                      struct err *err) {
        const char *a = argv[*i];
        size_t n = strlen(name);
        bool attached;

        if (a[0] == '-' && a[1] == '-' && strncmp(a + 2, name, n) == 0 &&
            (a[2 + n] == 0 || a[2 + n] == '=')) {
                attached = a[2 + n] == '=';
                if (attached) {
                        *ret = a + 3 + n;
                        return 1;
                }
        } else if (short_name && a[0] == '-' && a[1] == short_name) {
                attached = a[2] != 0;
                if (attached) {
                        *ret = a + 2;
                        return 1;
                }
        } else {
                return 0;
        }
        if (*i + 1 >= argc)
                return err_set(err, -ERR_USAGE, "option '%s' needs a value", a);
        *ret = argv[++*i];
        return 1;
}

int cli_parse_globals(int argc, char **argv, struct cli_globals *g, char ***ret_rest, int *ret_n,
                      struct err *err) {
        _cleanup_free_ char **rest = xcalloc((size_t)(argc > 0 ? argc : 1) + 1, sizeof *rest);
        struct cli_globals out = { .output = CLI_OUTPUT_TABLE };
        bool literal = false;
        int n = 0, r;

        for (int i = 1; i < argc; i++) {
                const char *a = argv[i], *value;
                if (literal) {
                        rest[n++] = argv[i];
                        continue;
                }
                if (streq(a, "--")) {
                        literal = true;
                        rest[n++] = argv[i];
                        continue;
                }
                if (streq(a, "-h") || streq(a, "--help")) {
                        out.help = true;
                        continue;
                }
                if (streq(a, "--version")) {
                        out.version = true;
                        continue;
                }
                r = take_value(argc, argv, &i, "master", 0, &value, err);
                if (r < 0)
                        return r;
                if (r > 0) {
                        if (!*value)
                                return err_set(err, -ERR_USAGE, "option '--master' needs a URL");
                        out.master = value;
                        continue;
                }
                r = take_value(argc, argv, &i, "output", 'o', &value, err);
                if (r < 0)
                        return r;
                if (r > 0) {
                        static const struct {
                                const char *name;
                                enum cli_output output;
                        } formats[] = { { "table", CLI_OUTPUT_TABLE }, { "json", CLI_OUTPUT_JSON },
                                        { "yaml", CLI_OUTPUT_YAML },   { "yml", CLI_OUTPUT_YAML },
                                        { "wide", CLI_OUTPUT_WIDE } };
                        size_t k = 0;
                        while (k < ELEMENTSOF(formats) && !streq(formats[k].name, value))
                                k++;
                        if (k == ELEMENTSOF(formats))
                                return err_set(err, -ERR_USAGE,
                                               "unknown output format '%s' (use table, wide, json or yaml)", value);
                        out.output = formats[k].output;
                        continue;
                }
                rest[n++] = argv[i];
        }
        rest[n] = NULL;
        *g = out;
        *ret_rest = TAKE_PTR(rest);
        *ret_n = n;
        return 0;
}

static const struct cli_flag *find_flag(const struct cli_flag *flags, const char *name, size_t n,
                                        char short_name, size_t *ret_index) {
        for (size_t i = 0; flags && flags[i].name; i++) {
                bool match = short_name ? flags[i].short_name == short_name
                                        : strlen(flags[i].name) == n && strncmp(flags[i].name, name, n) == 0;
                if (match) {
                        *ret_index = i;
                        return &flags[i];
                }
        }
        return NULL;
}

void cli_args_release(struct cli_args *a) {
        free(a->pos);
        *a = (struct cli_args){ 0 };
}

int cli_args_parse(struct cli_args *a, const struct cli_flag *flags, int argc, char **argv, struct err *err) {
        struct cli_args out = { .flags = flags, .pos = xcalloc((size_t)argc + 1, sizeof(char *)) };
        bool literal = false;

        for (int i = 0; i < argc; i++) {
                const char *arg = argv[i];
                if (literal || arg[0] != '-' || arg[1] == 0) {
                        out.pos[out.n_pos++] = argv[i];
                        continue;
                }
                if (streq(arg, "--")) {
                        literal = true;
                        continue;
                }

                const struct cli_flag *f;
                const char *attached = NULL;
                size_t idx;
                if (arg[1] == '-') {
                        const char *name = arg + 2, *eq = strchr(name, '=');
                        f = find_flag(flags, name, eq ? (size_t)(eq - name) : strlen(name), 0, &idx);
                        if (f && eq)
                                attached = eq + 1;
                } else {
                        f = find_flag(flags, NULL, 0, arg[1], &idx);
                        if (f && arg[2])
                                attached = arg + 2;
                }
                if (!f) {
                        cli_args_release(&out);
                        const char *names[CLI_MAX_FLAGS + 1];
                        size_t n_names = 0;
                        for (size_t k = 0; flags && flags[k].name && n_names < ELEMENTSOF(names); k++)
                                names[n_names++] = flags[k].name;
                        const char *name = arg + strspn(arg, "-");
                        _cleanup_free_ char *bare = xstrndup(name, strcspn(name, "="));
                        const char *near = cli_suggest(bare, names, n_names);
                        if (near)
                                return err_set(err, -ERR_USAGE, "unknown option '%s'; did you mean '--%s'?", arg,
                                               near);
                        return err_set(err, -ERR_USAGE, "unknown option '%s'", arg);
                }
                if (!f->value) {
                        if (attached) {
                                cli_args_release(&out);
                                return err_set(err, -ERR_USAGE, "option '--%s' takes no value", f->name);
                        }
                        out.values[idx] = "";
                        continue;
                }
                if (!attached) {
                        if (i + 1 >= argc) {
                                cli_args_release(&out);
                                return err_set(err, -ERR_USAGE, "option '--%s' needs a value (%s)", f->name,
                                               f->value);
                        }
                        attached = argv[++i];
                }
                out.values[idx] = attached;
        }
        *a = out;
        return 0;
}

const char *cli_args_get(const struct cli_args *a, const char *name) {
        size_t idx;
        if (!find_flag(a->flags, name, strlen(name), 0, &idx))
                return NULL;
        return a->values[idx];
}

/* --- assignments ------------------------------------------------------------------------------ */

/* "env." and "labels." take the rest of the key as one name: label keys often hold dots. */
static const char *map_field(const char *key, size_t key_len, size_t *ret_prefix) {
        static const char *const maps[] = { "env", "labels" };
        for (size_t i = 0; i < ELEMENTSOF(maps); i++) {
                size_t n = strlen(maps[i]);
                if (key_len > n + 1 && strncmp(key, maps[i], n) == 0 && key[n] == '.') {
                        *ret_prefix = n;
                        return maps[i];
                }
        }
        return NULL;
}

bool cli_is_assignment(const char *arg) {
        const char *eq = strchr(arg, '=');
        size_t prefix;
        if (!eq || eq == arg)
                return false;
        if (map_field(arg, (size_t)(eq - arg), &prefix))
                return true;
        if (!isalnum((unsigned char)arg[0]) && arg[0] != '_')
                return false;
        for (const char *p = arg; p < eq; p++)
                if (!isalnum((unsigned char)*p) && !strchr("_-.", *p))
                        return false;
        return true;
}

bool cli_assignments_need_current(char *const *args, int n) {
        for (int i = 0; i < n; i++) {
                const char *eq = strchr(args[i], '=');
                const char *dot = strchr(args[i], '.');
                if (eq && dot && dot < eq)
                        return true;
        }
        return false;
}

json_t *cli_parse_value(const char *value) {
        json_t *v = json_loads(value, JSON_DECODE_ANY, NULL);
        return v ? v : json_string(value); /* NULL only for invalid UTF-8 */
}

/* The object update[name], created from current[name] (a deep copy, so the rest of the field
 * survives a partial update) or empty. NULL with err if either is not an object. */
static json_t *field_for_update(json_t *update, const json_t *current, const char *name, const char *key,
                                struct err *err) {
        json_t *v = json_object_get(update, name);
        if (v) {
                if (!json_is_object(v)) {
                        err_set(err, -ERR_USAGE, "cannot set '%s': '%s' is not an object", key, name);
                        return NULL;
                }
                return v;
        }
        const json_t *cur = current ? json_object_get(current, name) : NULL;
        if (cur && !json_is_null(cur) && !json_is_object(cur)) {
                err_set(err, -ERR_USAGE, "cannot set '%s': '%s' is not an object", key, name);
                return NULL;
        }
        v = json_is_object(cur) ? json_deep_copy(cur) : json_object();
        json_object_set_new(update, name, v);
        return v;
}

static int apply_one(json_t *update, const json_t *current, const char *arg, struct err *err) {
        const char *eq = strchr(arg, '=');
        _cleanup_free_ char *key = xstrndup(arg, (size_t)(eq - arg));
        const char *value = eq + 1;
        size_t prefix;

        const char *map = map_field(key, strlen(key), &prefix);
        if (map) {
                json_t *obj = field_for_update(update, current, map, key, err);
                if (!obj)
                        return err->code;
                json_t *s = json_string(value);
                if (!s)
                        return err_set(err, -ERR_USAGE, "the value of '%s' is not valid UTF-8", key);
                json_object_set_new(obj, key + prefix + 1, s);
                return 0;
        }

        /* Split "a.b.c" into segments; every segment must be non-empty. */
        _cleanup_free_ char *path = xstrdup(key);
        char *segs[32];
        size_t n = 0;
        for (char *s = path;; s++) {
                char *dot = strchr(s, '.');
                if (n == ELEMENTSOF(segs))
                        return err_set(err, -ERR_USAGE, "key '%s' is nested too deeply", key);
                segs[n++] = s;
                if (!dot)
                        break;
                *dot = 0;
                s = dot;
        }
        for (size_t i = 0; i < n; i++)
                if (!*segs[i])
                        return err_set(err, -ERR_USAGE, "invalid key '%s'", key);

        json_t *v = cli_parse_value(value);
        if (!v)
                return err_set(err, -ERR_USAGE, "the value of '%s' is not valid UTF-8", key);
        if (n == 1) {
                json_object_set_new(update, key, v);
                return 0;
        }
        json_t *obj = field_for_update(update, current, segs[0], key, err);
        for (size_t i = 1; obj && i + 1 < n; i++) {
                json_t *child = json_object_get(obj, segs[i]);
                if (!child || json_is_null(child)) {
                        child = json_object();
                        json_object_set_new(obj, segs[i], child);
                } else if (!json_is_object(child)) {
                        err_set(err, -ERR_USAGE, "cannot set '%s': '%s' is not an object", key, segs[i]);
                        obj = NULL;
                        break;
                }
                obj = child;
        }
        if (!obj) {
                json_decref(v);
                return err->code;
        }
        json_object_set_new(obj, segs[n - 1], v);
        return 0;
}

int cli_assignments_apply(json_t *update, const json_t *current, char *const *args, int n, struct err *err) {
        for (int i = 0; i < n; i++) {
                if (!cli_is_assignment(args[i]))
                        return err_set(err, -ERR_USAGE, "'%s' is not KEY=VALUE", args[i]);
                int r = apply_one(update, current, args[i], err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* --- ids and input files ---------------------------------------------------------------------- */

int cli_id_absolute(const char *id, char **ret, struct err *err) {
        size_t n = strlen(id);
        while (n > 0 && id[n - 1] == '/')
                n--;
        if (n == 0)
                return err_set(err, -ERR_USAGE, "the id must not be empty");
        *ret = id[0] == '/' ? xstrndup(id, n) : xasprintf("/%.*s", (int)n, id);
        return 0;
}

static int read_stream(FILE *in, char **ret, size_t *ret_len, struct err *err) {
        struct strbuf sb = { 0 };
        char chunk[65536];
        size_t got;
        while ((got = fread(chunk, 1, sizeof chunk, in)) > 0) {
                if (sb.len + got > CLI_MAX_INPUT) {
                        strbuf_release(&sb);
                        return err_set(err, -EFBIG, "standard input is larger than %u MiB",
                                       CLI_MAX_INPUT >> 20);
                }
                strbuf_append(&sb, chunk, got);
        }
        if (ferror(in)) {
                strbuf_release(&sb);
                return err_set(err, -EIO, "cannot read standard input");
        }
        *ret_len = sb.len;
        *ret = strbuf_steal(&sb);
        return 0;
}

int cli_read_json(const char *path, FILE *in, json_t **ret, struct err *err) {
        bool is_stdin = streq(path, "-");
        _cleanup_free_ char *text = NULL;
        _cleanup_free_ char *name = is_stdin ? xstrdup("standard input") : xasprintf("'%s'", path);
        size_t len = 0;
        json_error_t jerr;
        int r;

        r = is_stdin ? read_stream(in, &text, &len, err)
                     : file_read_all(path, CLI_MAX_INPUT, &text, &len, err);
        if (r < 0)
                return r;
        json_t *doc = json_loadb(text, len, 0, &jerr);
        if (!doc)
                return err_set(err, -ERR_BAD_JSON, "%s line %d: %s", name, jerr.line, jerr.text);
        *ret = doc;
        return 0;
}

/* Edit distance counting a swap of two neighbours as one edit (optimal string alignment:
 * "lsit" is 1 from "list"), case-insensitive; words are short. */
static size_t distance(const char *a, const char *b) {
        size_t n = strlen(a), m = strlen(b);
        if (n > 64 || m > 64)
                return SIZE_MAX;
        size_t d[65][65];
        for (size_t i = 0; i <= n; i++)
                d[i][0] = i;
        for (size_t j = 0; j <= m; j++)
                d[0][j] = j;
        for (size_t i = 1; i <= n; i++)
                for (size_t j = 1; j <= m; j++) {
                        int ai = tolower((unsigned char)a[i - 1]), bj = tolower((unsigned char)b[j - 1]);
                        size_t v = MIN(d[i - 1][j] + 1, d[i][j - 1] + 1);
                        v = MIN(v, d[i - 1][j - 1] + (ai != bj));
                        if (i > 1 && j > 1 && ai == tolower((unsigned char)b[j - 2]) &&
                            tolower((unsigned char)a[i - 2]) == bj)
                                v = MIN(v, d[i - 2][j - 2] + 1);
                        d[i][j] = v;
                }
        return d[n][m];
}

const char *cli_suggest(const char *word, const char *const *candidates, size_t n) {
        const char *best = NULL;
        size_t best_d = SIZE_MAX, len = strlen(word);
        if (len == 0)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                size_t d = distance(word, candidates[i]);
                /* A prefix of 3+ characters either way counts as a near miss too ("dep" →
                 * "deployment", "memory" → "mem"). */
                size_t clen = strlen(candidates[i]);
                if ((len >= 3 && strncasecmp(candidates[i], word, len) == 0) ||
                    (clen >= 3 && strncasecmp(candidates[i], word, clen) == 0))
                        d = MIN(d, 1);
                if (d < best_d) {
                        best_d = d;
                        best = candidates[i];
                }
        }
        /* Close enough to be a typo: 1 edit for short words, 2 from 5 characters. */
        size_t limit = len < 5 ? 1 : 2;
        return best_d <= limit ? best : NULL;
}

/* Top-level fields of a Marathon app definition (AppDefinition, api.md §1.1), plus "version"
 * (a rollback) and the output-only AppInfo fields that an exported definition carries. */
static const char *const app_fields[] = {
        "id", "cmd", "args", "user", "env", "instances", "cpus", "mem", "disk", "gpus", "executor",
        "constraints", "uris", "fetch", "ports", "portDefinitions", "requirePorts", "backoffSeconds",
        "backoffFactor", "maxLaunchDelaySeconds", "container", "healthChecks", "check", "readinessChecks",
        "dependencies", "upgradeStrategy", "labels", "acceptedResourceRoles", "ipAddress", "residency",
        "secrets", "taskKillGracePeriodSeconds", "unreachableStrategy", "killSelection", "networks", "tty",
        "role", "resourceLimits", "executorResources", "version",
};
static const char *const app_output_fields[] = {
        "versionInfo", "tasks", "tasksStaged", "tasksRunning", "tasksHealthy", "tasksUnhealthy", "deployments",
        "readinessCheckResults", "lastTaskFailure", "tasksStats", "taskStats",
};

static bool known_app_field(const char *key) {
        for (size_t i = 0; i < ELEMENTSOF(app_fields); i++)
                if (streq(app_fields[i], key))
                        return true;
        for (size_t i = 0; i < ELEMENTSOF(app_output_fields); i++)
                if (streq(app_output_fields[i], key))
                        return true;
        return false;
}

static int unknown_field(const char *key, const char *what, struct err *err) {
        const char *near = cli_suggest(key, app_fields, ELEMENTSOF(app_fields));
        if (near)
                return err_set(err, -ERR_USAGE, "unknown %s '%s'; did you mean '%s'?", what, key, near);
        struct strbuf sb = { 0 };
        for (size_t i = 0; i < ELEMENTSOF(app_fields); i++)
                strbuf_printf(&sb, "%s%s", i ? ", " : "", app_fields[i]);
        err_set(err, -ERR_USAGE, "unknown %s '%s' (known: %s)", what, key, sb.buf);
        strbuf_release(&sb);
        return -ERR_USAGE;
}

int cli_assignments_check_keys(char *const *args, int n, struct err *err) {
        for (int i = 0; i < n; i++) {
                const char *a = args[i];
                _cleanup_free_ char *top = xstrndup(a, strcspn(a, ".="));
                if (!known_app_field(top))
                        return unknown_field(top, "app field", err);
        }
        return 0;
}

int cli_app_check_strict(const json_t *def, struct err *err) {
        const char *key;
        json_t *v;
        json_object_foreach((json_t *)def, key, v)
                if (!known_app_field(key))
                        return unknown_field(key, "field", err);
        return 0;
}
