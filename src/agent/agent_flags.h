/* agent_flags.h — the agent flags `strata dev` passes on to its built-in agent. */
#pragma once

#include <stddef.h>

/* Agent flags `strata dev` accepts and hands to its agent unchanged (each takes a value). */
#define AGENT_DEV_FLAGS "--cgroup-parent", "--resources", "--attributes", "--hostname", "--sandbox-keep", \
                        "--sandbox-max-age", "--oci-runtime", "--registry-config", "--insecure-registry"

/* Takes every "--NAME VALUE" and "--NAME=VALUE" of names[0..n) out of argv[1..*argc) (argv and
 * *argc shrink; argv stays NULL-terminated) and returns them in order, as a NULL-terminated array
 * of borrowed pointers (the caller frees the array), or NULL when none. */
char **agent_take_flags(int *argc, char **argv, const char *const *names, size_t n);
