/* jregex.c — Java-style whole-value regular expressions on PCRE2, with bounded compile and match cost. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "common/jregex.h"

#include <errno.h>
#include <pcre2.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/hashmap.h"

#define PROBE_LIMIT (JREGEX_MATCH_LIMIT / 10)
#define PROBE_RUN 24          /* length of the runs of one character the probes try */
#define PROBE_MAX_CHARS 10    /* distinct characters the probes are built from */
#define CACHE_TRIM_AT 1024    /* entries before unreferenced ones are dropped */

struct jregex {
        unsigned refs; /* under cache_lock */
        char *pattern;
        pcre2_code *code;
};

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct hashmap cache; /* pattern -> struct jregex (holding one reference) */
static bool cache_ready;

static void jregex_free(struct jregex *re) {
        pcre2_code_free(re->code);
        free(re->pattern);
        free(re);
}

struct jregex *jregex_ref(struct jregex *re) {
        pthread_mutex_lock(&cache_lock);
        re->refs++;
        pthread_mutex_unlock(&cache_lock);
        return re;
}

void jregex_unref(struct jregex *re) {
        if (!re)
                return;
        pthread_mutex_lock(&cache_lock);
        bool last = --re->refs == 0;
        pthread_mutex_unlock(&cache_lock);
        if (last)
                jregex_free(re);
}

const char *jregex_pattern(const struct jregex *re) {
        return re->pattern;
}

/* Runs one match under a limit: 1 match, 0 none, -E2BIG out of budget, -EINVAL other errors. */
static int match_limited(const pcre2_code *code, const char *value, size_t len, uint32_t limit) {
        pcre2_match_context *mctx = pcre2_match_context_create(NULL);
        pcre2_match_data *md = pcre2_match_data_create_from_pattern(code, NULL);
        if (!mctx || !md)
                abort(); /* allocation failure */
        pcre2_set_match_limit(mctx, limit);
        pcre2_set_depth_limit(mctx, limit);
        pcre2_set_heap_limit(mctx, 4096); /* KiB */
        int rc = pcre2_match(code, (PCRE2_SPTR)value, len, 0, 0, md, mctx);
        pcre2_match_data_free(md);
        pcre2_match_context_free(mctx);
        if (rc >= 0)
                return 1;
        if (rc == PCRE2_ERROR_NOMATCH)
                return 0;
        if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT || rc == PCRE2_ERROR_HEAPLIMIT)
                return -E2BIG;
        return -EINVAL;
}

int jregex_match(const struct jregex *re, const char *value) {
        int r = match_limited(re->code, value, strlen(value), JREGEX_MATCH_LIMIT);
        return r == -EINVAL ? 0 : r; /* e.g. a value that is not UTF-8: it cannot match */
}

/* The characters the probe values are made of: the pattern's own literals first (what an
 * expensive pattern backtracks over), then a few that classes like . \w \d \s match. */
static size_t probe_chars(const char *pattern, char out[static PROBE_MAX_CHARS]) {
        size_t n = 0;
        for (const char *p = pattern; *p && n < PROBE_MAX_CHARS - 4; p++) {
                unsigned char c = (unsigned char)*p;
                if (c < 0x20 || c >= 0x7f || strchr("\\^$.|?*+()[]{}", c) || memchr(out, c, n))
                        continue;
                out[n++] = (char)c;
        }
        for (const char *d = "a0 -"; *d; d++)
                if (!memchr(out, *d, n))
                        out[n++] = *d;
        return n;
}

/* Runs the pattern over the probe values; -E2BIG as soon as one exhausts the probe budget. */
static int admit(const pcre2_code *code, const char *pattern) {
        char chars[PROBE_MAX_CHARS];
        size_t n = probe_chars(pattern, chars);
        char buf[PROBE_RUN + 3];
        for (size_t i = 0; i < n; i++) {
                memset(buf, chars[i], PROBE_RUN);
                for (size_t j = 0; j <= n + 1; j++) {
                        size_t len = PROBE_RUN;
                        if (j < n)
                                buf[len++] = chars[j];
                        if (j <= n)
                                buf[len++] = '\x01'; /* a character no literal matches: forces backtracking */
                        if (match_limited(code, buf, len, PROBE_LIMIT) == -E2BIG)
                                return -E2BIG;
                }
        }
        return 0;
}

static int compile(const char *pattern, struct jregex **ret, struct err *err) {
        size_t len = strlen(pattern);
        if (len > JREGEX_MAX_PATTERN)
                return err_set(err, -E2BIG, "exceeds the regular expression budget: longer than %d characters",
                               JREGEX_MAX_PATTERN);
        pcre2_compile_context *cctx = pcre2_compile_context_create(NULL);
        if (!cctx)
                abort();
        pcre2_set_max_pattern_length(cctx, JREGEX_MAX_PATTERN);
        pcre2_set_parens_nest_limit(cctx, 32);
        int code_err;
        PCRE2_SIZE off;
        /* ANCHORED + ENDANCHORED: Java's matches() — the whole value, not a substring. */
        pcre2_code *code = pcre2_compile((PCRE2_SPTR)pattern, len, PCRE2_UTF | PCRE2_ANCHORED | PCRE2_ENDANCHORED,
                                         &code_err, &off, cctx);
        pcre2_compile_context_free(cctx);
        if (!code) {
                PCRE2_UCHAR msg[160];
                pcre2_get_error_message(code_err, msg, sizeof msg);
                return err_set(err, -ERR_INVALID, "is not a valid regular expression: %s at offset %zu",
                               (const char *)msg, (size_t)off);
        }
        if (admit(code, pattern) < 0) {
                pcre2_code_free(code);
                return err_set(err, -E2BIG,
                               "exceeds the regular expression budget: it backtracks catastrophically "
                               "(nested quantifiers such as (a*)*)");
        }
        struct jregex *re = xcalloc(1, sizeof *re);
        re->refs = 1;
        re->pattern = xstrdup(pattern);
        re->code = code;
        *ret = re;
        return 0;
}

/* Drops entries only the cache holds. Called with cache_lock held. */
static void trim_locked(void) {
        size_t pos = 0;
        void *v;
        while (hashmap_next(&cache, &pos, NULL, &v)) {
                struct jregex *re = v;
                if (re->refs == 1) {
                        hashmap_remove(&cache, re->pattern);
                        jregex_free(re);
                }
        }
}

void jregex_cache_trim(void) {
        pthread_mutex_lock(&cache_lock);
        if (cache_ready)
                trim_locked();
        pthread_mutex_unlock(&cache_lock);
}

int jregex_get(const char *pattern, struct jregex **ret, struct err *err) {
        if (!pattern)
                return err_set(err, -ERR_INVALID, "is not a valid regular expression");
        pthread_mutex_lock(&cache_lock);
        if (!cache_ready) {
                hashmap_init(&cache);
                cache_ready = true;
        }
        struct jregex *re = hashmap_get(&cache, pattern);
        if (re) {
                re->refs++;
                pthread_mutex_unlock(&cache_lock);
                *ret = re;
                return 0;
        }
        pthread_mutex_unlock(&cache_lock);

        /* Compile outside the lock (bounded, but other threads need not wait for it). */
        struct jregex *fresh = NULL;
        int r = compile(pattern, &fresh, err);
        if (r < 0)
                return r;
        pthread_mutex_lock(&cache_lock);
        re = hashmap_get(&cache, pattern);
        if (re) { /* another thread won the race */
                re->refs++;
                pthread_mutex_unlock(&cache_lock);
                jregex_free(fresh);
                *ret = re;
                return 0;
        }
        if (hashmap_size(&cache) >= CACHE_TRIM_AT)
                trim_locked();
        fresh->refs++; /* one for the cache, one for the caller */
        hashmap_put(&cache, fresh->pattern, fresh);
        pthread_mutex_unlock(&cache_lock);
        *ret = fresh;
        return 0;
}
