/* spawn_quiet.h — run a helper program (runc, iptables, ip) to completion, its output discarded. */
#pragma once

/* Runs argv (argv[0] looked up in PATH) with stdin, stdout and stderr on /dev/null and waits for
 * it, blocking: call it from the thread pool, not the loop. Returns its exit status, 128 + the
 * signal that killed it, or -errno when it could not be started. */
int spawn_quiet(char *const argv[]);
