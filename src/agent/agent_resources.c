/* agent_resources.c — parsing and detecting the resources an agent offers. */
#include "agent/agent_resources.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "common/alloc.h"

#define MAX_TEXT 4096

static double detect_mem_mib(void) {
        FILE *f = fopen("/proc/meminfo", "re");
        if (!f)
                return 1024;
        char line[256];
        double kib = 0;
        while (fgets(line, sizeof line, f))
                if (sscanf(line, "MemTotal: %lf kB", &kib) == 1)
                        break;
        fclose(f);
        double mib = kib / 1024.0;
        double reserve = mib * 0.2 < 1024 ? mib * 0.2 : 1024;
        return mib - reserve > 32 ? (double)(long)(mib - reserve) : 32;
}

static double detect_gpus(void) {
        DIR *d = opendir("/dev");
        if (!d)
                return 0;
        struct dirent *de;
        int n = 0;
        while ((de = readdir(d)))
                if (strncmp(de->d_name, "nvidia", 6) == 0 && isdigit((unsigned char)de->d_name[6]))
                        n++;
        closedir(d);
        return n;
}

json_t *agent_resources_detect(const char *data_dir) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        struct statvfs sv;
        double disk = 0;
        if (statvfs(data_dir, &sv) == 0)
                disk = (double)(long)((double)sv.f_bavail * (double)sv.f_frsize / (1024.0 * 1024.0));
        return json_pack("{s:f,s:f,s:f,s:f,s:[[i,i]]}", "cpus", (double)(cpus > 0 ? cpus : 1), "mem", detect_mem_mib(),
                         "disk", disk, "gpus", detect_gpus(), "ports", 31000, 32000);
}

static int parse_ranges(const char *v, json_t **ret, struct err *err) {
        size_t n = strlen(v);
        if (n < 2 || v[0] != '[' || v[n - 1] != ']')
                return err_set(err, -EINVAL, "ports must look like [31000-32000,33000-33100], not '%s'", v);
        json_t *ranges = json_array();
        const char *p = v + 1;
        while (*p != ']') {
                char *end;
                long b = strtol(p, &end, 10), e;
                if (end == p || *end != '-')
                        goto bad;
                p = end + 1;
                e = strtol(p, &end, 10);
                if (end == p || b < 1 || e > 65535 || b > e)
                        goto bad;
                json_array_append_new(ranges, json_pack("[i,i]", (int)b, (int)e));
                p = end;
                while (*p == ' ')
                        p++;
                if (*p == ',') {
                        p++;
                        while (*p == ' ')
                                p++;
                } else if (*p != ']') {
                        goto bad;
                }
        }
        *ret = ranges;
        return 0;
bad:
        json_decref(ranges);
        return err_set(err, -EINVAL, "bad port range in '%s' (expected [begin-end,…] within 1–65535)", v);
}

/* Splits "k:v;k:v" and calls cb for each pair. */
static int split_pairs(const char *text, int (*cb)(const char *k, const char *v, void *data, struct err *err),
                       void *data, struct err *err) {
        if (strlen(text) > MAX_TEXT)
                return err_set(err, -EINVAL, "longer than %d characters", MAX_TEXT);
        _cleanup_free_ char *copy = xstrdup(text);
        char *save = NULL;
        for (char *tok = strtok_r(copy, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
                while (*tok == ' ')
                        tok++;
                if (!*tok)
                        continue;
                char *colon = strchr(tok, ':');
                if (!colon || colon == tok || !colon[1])
                        return err_set(err, -EINVAL, "'%s' is not name:value", tok);
                *colon = 0;
                int r = cb(tok, colon + 1, data, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int resource_pair(const char *k, const char *v, void *data, struct err *err) {
        json_t *res = data;
        if (streq(k, "ports")) {
                json_t *ranges = NULL;
                int r = parse_ranges(v, &ranges, err);
                if (r < 0)
                        return r;
                json_object_set_new(res, "ports", ranges);
                return 0;
        }
        if (!streq(k, "cpus") && !streq(k, "mem") && !streq(k, "disk") && !streq(k, "gpus"))
                return err_set(err, -EINVAL, "unknown resource '%s' (cpus, mem, disk, gpus, ports)", k);
        char *end;
        double d = strtod(v, &end);
        if (*end || d < 0 || d > 1e12)
                return err_set(err, -EINVAL, "resource %s: '%s' is not a non-negative number", k, v);
        json_object_set_new(res, k, json_real(d));
        return 0;
}

int agent_resources_parse(const char *text, const char *data_dir, json_t **ret, struct err *err) {
        json_t *res = agent_resources_detect(data_dir);
        int r = split_pairs(text, resource_pair, res, err);
        if (r < 0) {
                json_decref(res);
                return err_wrap(err, "--resources");
        }
        *ret = res;
        return 0;
}

static int attribute_pair(const char *k, const char *v, void *data, struct err *err) {
        json_object_set_new(data, k, json_string(v));
        return json_object_size(data) > 256 ? err_set(err, -EINVAL, "more than 256 attributes") : 0;
}

int agent_attributes_parse(const char *text, json_t **ret, struct err *err) {
        json_t *attrs = json_object();
        int r = split_pairs(text, attribute_pair, attrs, err);
        if (r < 0) {
                json_decref(attrs);
                return err_wrap(err, "--attributes");
        }
        *ret = attrs;
        return 0;
}
