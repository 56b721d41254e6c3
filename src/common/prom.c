/* prom.c — process_* and build info for every daemon's /metrics (see prom.h). */
#include "common/prom.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* Fields 14 (utime), 15 (stime), 22 (starttime), 23 (vsize), 24 (rss) of /proc/self/stat. The
 * command (field 2) may hold spaces and parentheses: parse after its last ')'. */
static int read_stat(unsigned long long *utime, unsigned long long *stime, unsigned long long *start,
                     unsigned long long *vsize, long long *rss) {
        char buf[4096];
        FILE *f = fopen("/proc/self/stat", "re");
        if (!f)
                return -1;
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = 0;
        char *p = strrchr(buf, ')');
        if (!p)
                return -1;
        /* after ")": field 3 (state) is the first */
        int got = sscanf(p + 1,
                         " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d %*d %llu %llu %lld",
                         utime, stime, start, vsize, rss);
        return got == 5 ? 0 : -1;
}

static long long boot_time(void) {
        char line[256];
        long long btime = -1;
        FILE *f = fopen("/proc/stat", "re");
        if (!f)
                return -1;
        while (fgets(line, sizeof line, f))
                if (sscanf(line, "btime %lld", &btime) == 1)
                        break;
        fclose(f);
        return btime;
}

static long open_fds(void) {
        DIR *d = opendir("/proc/self/fd");
        if (!d)
                return -1;
        long n = 0;
        struct dirent *de;
        while ((de = readdir(d)))
                if (de->d_name[0] != '.')
                        n++;
        closedir(d);
        return n - 1; /* the directory stream's own fd */
}

void prom_process_metrics(struct strbuf *out, const char *daemon) {
        unsigned long long utime, stime, start, vsize;
        long long rss;
        long ticks = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
        if (read_stat(&utime, &stime, &start, &vsize, &rss) == 0 && ticks > 0) {
                strbuf_printf(out,
                              "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n"
                              "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total %.2f\n"
                              "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
                              "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes %lld\n"
                              "# HELP process_virtual_memory_bytes Virtual memory size in bytes.\n"
                              "# TYPE process_virtual_memory_bytes gauge\nprocess_virtual_memory_bytes %llu\n",
                              (double)(utime + stime) / (double)ticks, rss * (long long)page, vsize);
                long long btime = boot_time();
                if (btime > 0)
                        strbuf_printf(out,
                                      "# HELP process_start_time_seconds Start time of the process since unix epoch "
                                      "in seconds.\n"
                                      "# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds %.2f\n",
                                      (double)btime + (double)start / (double)ticks);
        }
        long fds = open_fds();
        if (fds >= 0)
                strbuf_printf(out,
                              "# HELP process_open_fds Number of open file descriptors.\n"
                              "# TYPE process_open_fds gauge\nprocess_open_fds %ld\n",
                              fds);
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
                strbuf_printf(out,
                              "# HELP process_max_fds Maximum number of open file descriptors.\n"
                              "# TYPE process_max_fds gauge\nprocess_max_fds %llu\n",
                              (unsigned long long)rl.rlim_cur);
        strbuf_printf(out,
                      "# HELP strata_build_info Strata's version and which daemon answers (always 1).\n"
                      "# TYPE strata_build_info gauge\nstrata_build_info{version=\"%s\",daemon=\"%s\"} 1\n",
                      STRATA_VERSION, daemon);
}
