/* jscan.c — the pull scanner of jscan.h: JSON's grammar (RFC 8259) for scalars by hand,
 * containers either walked by the caller, skipped, or parsed by jansson. */
#include "common/jscan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"

#define MAX_DEPTH 512

void jscan_init(struct jscan *sc, const char *buf, size_t len) {
        sc->p = sc->start = buf;
        sc->end = buf + len;
}

size_t jscan_offset(const struct jscan *sc) {
        return (size_t)(sc->p - sc->start);
}

char jscan_peek(struct jscan *sc) {
        while (sc->p < sc->end && (*sc->p == ' ' || *sc->p == '\t' || *sc->p == '\n' || *sc->p == '\r'))
                sc->p++;
        return sc->p < sc->end ? *sc->p : 0;
}

int jscan_expect(struct jscan *sc, char c) {
        if (jscan_peek(sc) != c)
                return -EINVAL;
        sc->p++;
        return 0;
}

int jscan_next(struct jscan *sc, char close) {
        char c = jscan_peek(sc);
        if (c == ',') {
                sc->p++;
                return 1;
        }
        if (c == close) {
                sc->p++;
                return 0;
        }
        return -EINVAL;
}

static int hex4(const char *p, unsigned *ret) {
        unsigned v = 0;
        for (int k = 0; k < 4; k++) {
                char c = p[k];
                v <<= 4;
                if (c >= '0' && c <= '9')
                        v |= (unsigned)(c - '0');
                else if (c >= 'a' && c <= 'f')
                        v |= (unsigned)(c - 'a' + 10);
                else if (c >= 'A' && c <= 'F')
                        v |= (unsigned)(c - 'A' + 10);
                else
                        return -EINVAL;
        }
        *ret = v;
        return 0;
}

/* Length of the valid UTF-8 sequence at p (at most n bytes), or 0. */
static size_t utf8_seq(const unsigned char *p, size_t n) {
        unsigned c = p[0];
        size_t len;
        unsigned min;
        if (c < 0x80)
                return 1;
        if ((c & 0xe0) == 0xc0)
                len = 2, min = 0x80, c &= 0x1f;
        else if ((c & 0xf0) == 0xe0)
                len = 3, min = 0x800, c &= 0x0f;
        else if ((c & 0xf8) == 0xf0)
                len = 4, min = 0x10000, c &= 0x07;
        else
                return 0;
        if (len > n)
                return 0;
        for (size_t k = 1; k < len; k++) {
                if ((p[k] & 0xc0) != 0x80)
                        return 0;
                c = (c << 6) | (p[k] & 0x3f);
        }
        if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
                return 0;
        return len;
}

static int put_utf8(unsigned cp, char *buf, size_t cap, size_t *n) {
        unsigned char tmp[4];
        size_t len;
        if (cp < 0x80)
                tmp[0] = (unsigned char)cp, len = 1;
        else if (cp < 0x800)
                tmp[0] = (unsigned char)(0xc0 | cp >> 6), tmp[1] = (unsigned char)(0x80 | (cp & 0x3f)),
                len = 2;
        else if (cp < 0x10000)
                tmp[0] = (unsigned char)(0xe0 | cp >> 12),
                tmp[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f)),
                tmp[2] = (unsigned char)(0x80 | (cp & 0x3f)), len = 3;
        else
                tmp[0] = (unsigned char)(0xf0 | cp >> 18),
                tmp[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f)),
                tmp[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f)),
                tmp[3] = (unsigned char)(0x80 | (cp & 0x3f)), len = 4;
        if (*n + len >= cap)
                return -EINVAL;
        memcpy(buf + *n, tmp, len);
        *n += len;
        return 0;
}

int jscan_string(struct jscan *sc, char *buf, size_t cap, size_t *ret_len) {
        size_t n = 0;
        if (jscan_expect(sc, '"') < 0)
                return -EINVAL;
        while (sc->p < sc->end) {
                unsigned char c = (unsigned char)*sc->p;
                if (c == '"') {
                        sc->p++;
                        buf[n] = 0;
                        *ret_len = n;
                        return 0;
                }
                if (c < 0x20)
                        return -EINVAL;
                if (c != '\\') {
                        size_t len = utf8_seq((const unsigned char *)sc->p, (size_t)(sc->end - sc->p));
                        if (len == 0 || n + len >= cap)
                                return -EINVAL;
                        memcpy(buf + n, sc->p, len);
                        n += len;
                        sc->p += len;
                        continue;
                }
                if (sc->end - sc->p < 2)
                        return -EINVAL;
                char e = sc->p[1];
                sc->p += 2;
                char out;
                switch (e) {
                case '"':
                        out = '"';
                        break;
                case '\\':
                        out = '\\';
                        break;
                case '/':
                        out = '/';
                        break;
                case 'b':
                        out = '\b';
                        break;
                case 'f':
                        out = '\f';
                        break;
                case 'n':
                        out = '\n';
                        break;
                case 'r':
                        out = '\r';
                        break;
                case 't':
                        out = '\t';
                        break;
                case 'u': {
                        unsigned cp, lo;
                        if (sc->end - sc->p < 4 || hex4(sc->p, &cp) < 0)
                                return -EINVAL;
                        sc->p += 4;
                        if (cp >= 0xd800 && cp <= 0xdbff) {
                                if (sc->end - sc->p < 6 || sc->p[0] != '\\' || sc->p[1] != 'u' ||
                                    hex4(sc->p + 2, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
                                        return -EINVAL;
                                sc->p += 6;
                                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                        } else if ((cp >= 0xdc00 && cp <= 0xdfff) || cp == 0) {
                                return -EINVAL;
                        }
                        if (put_utf8(cp, buf, cap, &n) < 0)
                                return -EINVAL;
                        continue;
                }
                default:
                        return -EINVAL;
                }
                if (n + 1 >= cap)
                        return -EINVAL;
                buf[n++] = out;
        }
        return -EINVAL;
}

static bool digit(const char *p, const char *end) {
        return p < end && *p >= '0' && *p <= '9';
}

int jscan_number(struct jscan *sc, double *d, int64_t *i, bool *is_int) {
        jscan_peek(sc);
        const char *p = sc->p, *end = sc->end;
        bool integral = true;
        if (p < end && *p == '-')
                p++;
        if (!digit(p, end))
                return -EINVAL;
        if (*p == '0')
                p++;
        else
                while (digit(p, end))
                        p++;
        if (p < end && *p == '.') {
                integral = false;
                p++;
                if (!digit(p, end))
                        return -EINVAL;
                while (digit(p, end))
                        p++;
        }
        if (p < end && (*p == 'e' || *p == 'E')) {
                integral = false;
                p++;
                if (p < end && (*p == '+' || *p == '-'))
                        p++;
                if (!digit(p, end))
                        return -EINVAL;
                while (digit(p, end))
                        p++;
        }
        char tmp[64];
        size_t len = (size_t)(p - sc->p);
        if (len >= sizeof tmp)
                return -EINVAL;
        memcpy(tmp, sc->p, len);
        tmp[len] = 0;
        errno = 0;
        if (integral) {
                long long v = strtoll(tmp, NULL, 10);
                if (errno)
                        return -EINVAL;
                *i = v;
                *d = (double)v;
        } else {
                *d = strtod(tmp, NULL);
                if (errno)
                        return -EINVAL;
        }
        *is_int = integral;
        sc->p = p;
        return 0;
}

static int literal(struct jscan *sc, const char *word) {
        size_t n = strlen(word);
        if ((size_t)(sc->end - sc->p) < n || memcmp(sc->p, word, n) != 0)
                return -EINVAL;
        sc->p += n;
        return 0;
}

int jscan_null(struct jscan *sc) {
        if (jscan_peek(sc) != 'n')
                return 0;
        return literal(sc, "null") < 0 ? -EINVAL : 1;
}

int jscan_value(struct jscan *sc, json_t **ret) {
        char c = jscan_peek(sc);
        if (c == '{' || c == '[') {
                json_error_t jerr;
                json_t *v = json_loadb(sc->p, (size_t)(sc->end - sc->p), JSON_DISABLE_EOF_CHECK, &jerr);
                if (!v)
                        return -EINVAL;
                sc->p += jerr.position;
                *ret = v;
                return 0;
        }
        if (c == '"') {
                /* Strings outside the walked part are small (ids, addresses): bounded anyway. */
                size_t cap = 64 * 1024, len;
                _cleanup_free_ char *buf = xmalloc(cap);
                if (jscan_string(sc, buf, cap, &len) < 0)
                        return -EINVAL;
                *ret = json_stringn(buf, len);
                return *ret ? 0 : -EINVAL;
        }
        if (c == 't' || c == 'f' || c == 'n') {
                const char *word = c == 't' ? "true" : c == 'f' ? "false" : "null";
                if (literal(sc, word) < 0)
                        return -EINVAL;
                *ret = c == 't' ? json_true() : c == 'f' ? json_false() : json_null();
                return 0;
        }
        double d;
        int64_t i;
        bool is_int;
        if (jscan_number(sc, &d, &i, &is_int) < 0)
                return -EINVAL;
        *ret = is_int ? json_integer(i) : json_real(d);
        return 0;
}

static int skip_string(struct jscan *sc) {
        if (jscan_expect(sc, '"') < 0)
                return -EINVAL;
        while (sc->p < sc->end && *sc->p != '"') {
                if ((unsigned char)*sc->p < 0x20)
                        return -EINVAL;
                sc->p += *sc->p == '\\' ? 2 : 1;
        }
        if (sc->p >= sc->end)
                return -EINVAL;
        sc->p++;
        return 0;
}

static int skip(struct jscan *sc, int depth) {
        char c = jscan_peek(sc);
        if (c == '[' || c == '{') {
                char close = c == '[' ? ']' : '}';
                if (depth >= MAX_DEPTH)
                        return -EINVAL;
                sc->p++;
                if (jscan_peek(sc) == close) {
                        sc->p++;
                        return 0;
                }
                for (;;) {
                        if (c == '{' && (skip_string(sc) < 0 || jscan_expect(sc, ':') < 0))
                                return -EINVAL;
                        if (skip(sc, depth + 1) < 0)
                                return -EINVAL;
                        int r = jscan_next(sc, close);
                        if (r <= 0)
                                return r;
                }
        }
        if (c == '"')
                return skip_string(sc);
        if (c == 't' || c == 'f' || c == 'n')
                return literal(sc, c == 't' ? "true" : c == 'f' ? "false" : "null");
        double d;
        int64_t i;
        bool is_int;
        return jscan_number(sc, &d, &i, &is_int);
}

int jscan_skip(struct jscan *sc) {
        return skip(sc, 0);
}
