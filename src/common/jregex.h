/* jregex.h — Marathon's (Java's) constraint regular expressions, with bounded cost (PCRE2).
 *
 * Marathon tests LIKE/UNLIKE with Java's String.matches: the pattern must match the WHOLE value,
 * as if written ^(?:re)$. PCRE2's syntax is Java's for everything constraints use (classes,
 * alternation, quantifiers, groups, \d \w \s, lookaround). Unlike glibc's POSIX regex, whose
 * compile time is exponential in nested quantifiers ("(a*)*" repeated 23 times: 8.5 s on the
 * master's loop), PCRE2 compiles in time linear in the pattern, and each match runs under match,
 * depth and heap limits, so no pattern can hold a thread for long.
 *
 * Budget (what "too expensive" means):
 *   pattern length      <= JREGEX_MAX_PATTERN bytes
 *   group nesting       <= 32
 *   one match           <= JREGEX_MATCH_LIMIT backtracking steps (PCRE2 match limit), depth and
 *                          heap limits alike; past them a match is an error, never a long wait
 *   admission (compile) the pattern is also run against probe values built from its own
 *                       literals (runs of one character, with and without a trailing mismatch) under
 *                       a 10x smaller limit: catastrophic backtracking shows up there and the pattern
 *                       is refused at validation instead of at placement.
 *
 * Compiled patterns are shared: jregex_get returns a reference to one compiled object per
 * pattern text (a process-wide, mutex-protected cache), so the model's validation compiles a
 * pattern once and the scheduler reuses it for every app version that names it. */
#pragma once

#include <stdbool.h>

#include "common/err.h"
#include "common/macro.h"

#define JREGEX_MAX_PATTERN 1024
#define JREGEX_MATCH_LIMIT 100000

struct jregex;

/* Returns a reference to the compiled, admitted pattern in *ret (release with jregex_unref).
 * On failure leaves *ret untouched and returns -ERR_INVALID for a syntax error ("is not a valid
 * regular expression: …") or -E2BIG for a pattern over the budget ("exceeds the regular
 * expression budget: …"), with *err saying why. Thread-safe. */
int jregex_get(const char *pattern, struct jregex **ret, struct err *err);
struct jregex *jregex_ref(struct jregex *re);
void jregex_unref(struct jregex *re);
DEFINE_POINTER_CLEANUP(struct jregex, jregex_unref);

/* Whether value matches the whole pattern (Java's String.matches). Returns 1 for a match, 0 for
 * none, or -E2BIG when the match ran out of budget (callers treat that as "does not satisfy"
 * for both LIKE and UNLIKE, and may log it). */
int jregex_match(const struct jregex *re, const char *value);

/* The pattern text as given. */
const char *jregex_pattern(const struct jregex *re);

/* Drops every cached pattern nobody holds (tests; the cache also trims itself). */
void jregex_cache_trim(void);
