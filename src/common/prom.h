/* prom.h — what every daemon's /metrics (Prometheus text format 0.0.4) starts with: the standard
 * process_* families of Prometheus's client libraries and strata_build_info.
 *
 *   | family                         | type    | from                                        |
 *   | process_cpu_seconds_total      | counter | /proc/self/stat utime + stime              |
 *   | process_resident_memory_bytes  | gauge   | /proc/self/stat rss × page size            |
 *   | process_virtual_memory_bytes   | gauge   | /proc/self/stat vsize                      |
 *   | process_open_fds               | gauge   | entries of /proc/self/fd                   |
 *   | process_max_fds                | gauge   | RLIMIT_NOFILE (soft)                       |
 *   | process_start_time_seconds     | gauge   | /proc/self/stat starttime + /proc/stat btime |
 *   | strata_build_info{version,daemon} | gauge | 1                                        |
 *
 * A family whose source cannot be read is left out (never a made-up value). */
#pragma once

#include "common/strbuf.h"

#define STRATA_VERSION "0.1.0"

/* Appends the families above; daemon is "master", "agent" or "dev". */
void prom_process_metrics(struct strbuf *out, const char *daemon);
