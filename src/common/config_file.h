/* config_file.h — `--config FILE` and environment overrides for the daemons: both become flags
 * in front of the command line's, so the daemons' own flag parsers read them and the command
 * line wins (a later value of a flag replaces an earlier one; repeatable flags add up).
 *
 * FILE is TOML-like, one setting per line, keys are the flags' long names ('_' = '-'):
 *
 *   # /etc/strata/agent.toml
 *   master = "http://10.0.0.1:8080,http://10.0.0.2:8080"
 *   data-dir = "/var/lib/strata/agent"
 *   resources = "cpus:16;mem:63000"
 *   insecure-registry = ["reg.local:5000", "reg2.local:5000"]   # a flag per element
 *   fake-runtime = false                                        # true: the switch; false: nothing
 *   sandbox-keep = 10
 *
 * Blank lines, `# comments` and `[section]` headers are ignored. Values: "strings" (with \" and
 * \\ escapes), bare words and numbers, true/false, arrays of those.
 *
 * Environment: STRATA_<DAEMON>_<FLAG> (upper case, '-' as '_'), e.g. STRATA_AGENT_RESOURCES or
 * STRATA_MASTER_LOG_LEVEL; they come after the file's. STRATA_<DAEMON>_OPTS (the systemd units'
 * whole command line) is not a flag. */
#pragma once

#include "common/err.h"

/* Builds the daemon's argv: argv[0], the file's flags (when argv holds --config FILE or
 * --config=FILE, which is taken out), the environment's (names: the flag names taken from it,
 * NULL-terminated; NULL: every STRATA_<DAEMON>_* but _OPTS), then argv[1..]. *ret_argv is a new NULL-terminated array whose strings the
 * caller frees with config_argv_free. Returns 0, or -EINVAL/-errno with err naming the file and
 * line ("'agent.toml' line 3: expected KEY = VALUE"). */
int config_file_argv(const char *daemon, const char *const *names, int argc, char **argv, int *ret_argc,
                     char ***ret_argv, struct err *err);
void config_argv_free(char **argv);
