/* sched_constraints.h — Marathon placement constraints (api.md §2.8), parsed once per app
 * version: operators UNIQUE, CLUSTER, GROUP_BY, LIKE, UNLIKE, MAX_PER, IS on the fields
 * hostname / @hostname, @region, @zone or an agent attribute.
 *
 * Semantics, as the scheduler applies them:
 * - "If the offer lacks the field, only UNLIKE matches."
 * - UNIQUE: no two live instances of the app share the value.
 * - CLUSTER v: the value equals v; CLUSTER without value: every instance on the value of the
 *   instances already there (the first placed one decides).
 * - GROUP_BY [n]: spread evenly — an instance goes to a value with the fewest instances among the
 *   values where it fits; with n, no value holds more than ceil(total / n), so fewer than n values
 *   admit only that many instances each ("first fill n distinct values").
 * - LIKE / UNLIKE re: the value fully matches (does not fully match) the regular expression, with
 *   Java's syntax and String.matches semantics (common/jregex.h: PCRE2, bounded cost); the compiled
 *   pattern is shared with the model's validation.
 * - MAX_PER n: at most n live instances per value.
 * - IS v: the value equals v; when both are numbers they are compared in 3-decimal form.
 * Counts cover every live instance of the app, old versions included. */
#pragma once

#include <jansson.h>
#include <stddef.h>

#include "common/err.h"
#include "common/macro.h"

#define SCHED_OPS(X)                                                                                         \
        X(SCHED_OP_UNIQUE, "UNIQUE")                                                                         \
        X(SCHED_OP_CLUSTER, "CLUSTER")                                                                       \
        X(SCHED_OP_GROUP_BY, "GROUP_BY")                                                                     \
        X(SCHED_OP_LIKE, "LIKE")                                                                             \
        X(SCHED_OP_UNLIKE, "UNLIKE")                                                                         \
        X(SCHED_OP_MAX_PER, "MAX_PER")                                                                       \
        X(SCHED_OP_IS, "IS")

/* clang-format off */
enum sched_op {
#define X(e, s) e,
        SCHED_OPS(X)
#undef X
        _SCHED_OP_MAX,
};
/* clang-format on */
const char *sched_op_to_string(enum sched_op op);
/* Case-insensitive, as Marathon reads operators. Returns the op or -EINVAL. */
int sched_op_from_string(const char *s);

struct sched_constraints;

/* Parses Marathon's JSON form, [["hostname","UNIQUE"],["rack","GROUP_BY","3"],…]; NULL or []
 * means no constraint. On success *ret is a new object the caller frees with
 * sched_constraints_free. On failure returns -ERR_INVALID with *err naming the constraint
 * ("constraints(1): MAX_PER requires an integer value") and *ret is untouched.
 *
 * The object memoizes which agent classes pass its attribute-only constraints, so sched_place
 * writes to it: use one object from one thread. */
int sched_constraints_parse(const json_t *json, struct sched_constraints **ret, struct err *err);
void sched_constraints_free(struct sched_constraints *k);
DEFINE_POINTER_CLEANUP(struct sched_constraints, sched_constraints_free);
size_t sched_constraints_count(const struct sched_constraints *k);
