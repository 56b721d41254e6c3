/* sched_constraints.c — parsing Marathon constraints and testing them against agent values. */
#include "scheduler/sched_constraints.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/alloc.h"
#include "scheduler/sched_internal.h"

static const char *const op_names[] = {
#define X(e, s) [e] = s,
        SCHED_OPS(X)
#undef X
};

const char *sched_op_to_string(enum sched_op op) {
        return (unsigned)op < _SCHED_OP_MAX ? op_names[op] : NULL;
}

int sched_op_from_string(const char *s) {
        for (int i = 0; s && i < _SCHED_OP_MAX; i++)
                if (strcasecmp(s, op_names[i]) == 0)
                        return i;
        return -EINVAL;
}

/* Java's Integer.parseInt: optional sign, decimal digits, 32-bit range. */
static bool java_int(const char *s, long *ret) {
        const char *p = s;
        if (*p == '+' || *p == '-')
                p++;
        if (!*p || strlen(p) > 10)
                return false;
        for (const char *q = p; *q; q++)
                if (!isdigit((unsigned char)*q))
                        return false;
        long long v = strtoll(s, NULL, 10);
        if (v < INT_MIN || v > INT_MAX)
                return false;
        *ret = (long)v;
        return true;
}

/* A Mesos scalar in full ("1.5", "-2", "3e2"), as a double. */
static bool scalar(const char *s, double *ret) {
        if (!*s || isspace((unsigned char)*s))
                return false;
        char *end;
        double v = strtod(s, &end);
        if (*end || !isfinite(v))
                return false;
        *ret = v;
        return true;
}

static void constraint_release(struct sched_constraint *k) {
        jregex_unref(k->re);
        free(k->field);
        free(k->value);
        free(k->scalar);
}

void sched_constraints_free(struct sched_constraints *k) {
        if (!k)
                return;
        for (size_t i = 0; i < k->n; i++)
                constraint_release(&k->items[i]);
        free(k->items);
        free(k->cache);
        free(k);
}

size_t sched_constraints_count(const struct sched_constraints *k) {
        return k ? k->n : 0;
}

static int parse_one(const json_t *item, struct sched_constraint *k, struct err *err) {
        size_t n = json_array_size(item);
        if (!json_is_array(item) || n < 2 || n > 3)
                return err_set(err, -ERR_INVALID, "Each constraint must have either 2 or 3 fields");
        const char *field = json_string_value(json_array_get(item, 0));
        const char *op = json_string_value(json_array_get(item, 1));
        const json_t *jv = n == 3 ? json_array_get(item, 2) : NULL;
        const char *value = json_string_value(jv);
        if (!field || !*field)
                return err_set(err, -ERR_INVALID, "missing field for constraint declaration");
        if (!op || (jv && !value))
                return err_set(err, -ERR_INVALID, "illegal constraint specification");
        int o = sched_op_from_string(op);
        if (o < 0)
                return err_set(
                        err, -ERR_INVALID,
                        "operator must be one of the following UNIQUE, CLUSTER, GROUP_BY, LIKE, MAX_PER, "
                        "UNLIKE or IS");
        k->op = (enum sched_op)o;
        switch (k->op) {
        case SCHED_OP_UNIQUE:
                if (value)
                        return err_set(err, -ERR_INVALID, "UNIQUE does not accept a value");
                break;
        case SCHED_OP_CLUSTER:
                break;
        case SCHED_OP_GROUP_BY:
                if (value && !java_int(value, &k->n))
                        return err_set(err, -ERR_INVALID,
                                       "GROUP BY must define an integer value or else no value at all");
                if (k->n < 0)
                        k->n = 0;
                break;
        case SCHED_OP_MAX_PER:
                if (!value || !java_int(value, &k->n))
                        return err_set(err, -ERR_INVALID, "MAX_PER requires an integer value");
                break;
        case SCHED_OP_LIKE:
        case SCHED_OP_UNLIKE: {
                if (!value)
                        return err_set(err, -ERR_INVALID,
                                       "LIKE and UNLIKE require a non-empty, regular expression value");
                /* "field must fully match regex" (Java's String.matches). The model's validation
                 * compiled this pattern already; jregex_get returns that compiled object. */
                struct err rerr = {0};
                int r = jregex_get(value, &k->re, &rerr);
                if (r < 0) {
                        r = err_set(err, -ERR_INVALID, "'%s' %s", value,
                                    r == -E2BIG ? err_msg(&rerr) : "is not a valid regular expression");
                        err_release(&rerr);
                        return r;
                }
                break;
        }
        case SCHED_OP_IS: {
                for (const char *p = value ? value : ""; *p; p++)
                        if (!isalnum((unsigned char)*p) && !strchr("_/.-", *p))
                                return err_set(err, -ERR_INVALID,
                                               "IS only supports Mesos text and float values (see "
                                               "http://mesos.apache.org/documentation/latest/"
                                               "attributes-resources/)");
                double d;
                char buf[64];
                if (value && scalar(value, &d))
                        k->scalar = xstrdup(sched_format_scalar(d, buf));
                break;
        }
        default:
                break;
        }
        /* CLUSTER with an empty value is CLUSTER without one (protobuf's absent string) */
        if (value && !(k->op == SCHED_OP_CLUSTER && !*value))
                k->value = xstrdup(value);
        if (k->op == SCHED_OP_IS && !k->value)
                k->value = xstrdup("");
        k->field = xstrdup(field);
        if (streq(field, "hostname") || streq(field, "@hostname"))
                k->kind = FIELD_HOSTNAME;
        else if (streq(field, "@region"))
                k->kind = FIELD_REGION;
        else if (streq(field, "@zone"))
                k->kind = FIELD_ZONE;
        else
                k->kind = FIELD_ATTR;
        return 0;
}

int sched_constraints_parse(const json_t *json, struct sched_constraints **ret, struct err *err) {
        if (json && !json_is_null(json) && !json_is_array(json))
                return err_set(err, -ERR_INVALID, "constraints must be an array");
        _cleanup_(sched_constraints_freep) struct sched_constraints *k = xcalloc(1, sizeof *k);
        size_t n = json_is_array(json) ? json_array_size(json) : 0;
        k->items = xcalloc(n ? n : 1, sizeof *k->items);
        for (size_t i = 0; i < n; i++) {
                struct sched_constraint *item = &k->items[k->n];
                int r = parse_one(json_array_get(json, i), item, err);
                if (r < 0) {
                        constraint_release(item);
                        *item = (struct sched_constraint){0};
                        return err_wrap(err, "constraints(%zu)", i);
                }
                k->n++;
        }
        *ret = TAKE_PTR(k);
        return 0;
}

bool constraint_is_dynamic(const struct sched_constraint *k) {
        switch (k->op) {
        case SCHED_OP_UNIQUE:
        case SCHED_OP_MAX_PER:
        case SCHED_OP_GROUP_BY:
                return true;
        case SCHED_OP_CLUSTER:
                return !k->value;
        default:
                return false;
        }
}

static bool is_equal(const struct sched_constraint *k, const char *value) {
        if (streq(value, k->value))
                return true;
        /* scalars compare in their 3-decimal form */
        double d;
        char buf[64];
        return k->scalar && scalar(value, &d) && streq(sched_format_scalar(d, buf), k->scalar);
}

bool constraint_static_ok(const struct sched_constraint *k, const char *value) {
        if (!value)
                return k->op == SCHED_OP_UNLIKE; /* "If the offer lacks the field, only UNLIKE matches." */
        switch (k->op) {
        /* A match that runs out of budget (-E2BIG) satisfies neither LIKE nor UNLIKE: not placing
         * is the safe answer when the scheduler cannot tell. */
        case SCHED_OP_LIKE:
                return jregex_match(k->re, value) == 1;
        case SCHED_OP_UNLIKE:
                return jregex_match(k->re, value) == 0;
        case SCHED_OP_IS:
                return is_equal(k, value);
        case SCHED_OP_CLUSTER:
                return !k->value || streq(value, k->value);
        default:
                return true;
        }
}

static bool class_ok(const struct sched_constraints *k, const struct sched_class *cls) {
        for (size_t i = 0; i < k->n; i++) {
                const struct sched_constraint *x = &k->items[i];
                const char *v;
                switch (x->kind) {
                case FIELD_HOSTNAME:
                        continue;
                case FIELD_REGION:
                        v = cls->region;
                        break;
                case FIELD_ZONE:
                        v = cls->zone;
                        break;
                default:
                        v = class_attr(cls, x->field);
                        break;
                }
                if (!constraint_static_ok(x, v))
                        return false;
        }
        return true;
}

bool constraints_class_ok(struct sched_constraints *k, const struct sched_cluster *c,
                          const struct sched_class *cls) {
        if (!k || k->n == 0)
                return true;
        if (k->cache_cluster != c->serial) {
                if (k->cache)
                        memset(k->cache, 0, k->cache_cap * sizeof *k->cache);
                k->cache_cluster = c->serial;
        }
        if (cls->slot >= k->cache_cap) {
                size_t cap = c->n_class_slots > cls->slot ? c->n_class_slots : cls->slot + 1;
                k->cache = xrealloc(k->cache, cap * sizeof *k->cache);
                memset(k->cache + k->cache_cap, 0, (cap - k->cache_cap) * sizeof *k->cache);
                k->cache_cap = cap;
        }
        struct class_verdict *v = &k->cache[cls->slot];
        if (v->serial != cls->serial) {
                v->serial = cls->serial;
                v->ok = class_ok(k, cls);
        }
        return v->ok;
}
