/* agent_flags.c — agent flags taken out of another command line (see agent_flags.h). */
#include "agent/agent_flags.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"

char **agent_take_flags(int *argc, char **argv, const char *const *names, size_t n) {
        char **out = NULL;
        size_t n_out = 0;
        int k = 1;
        for (int i = 1; i < *argc; i++) {
                const char *s = argv[i];
                bool taken = false;
                for (size_t j = 0; j < n && !taken; j++) {
                        size_t len = strlen(names[j]);
                        if (strcmp(s, names[j]) == 0 && i + 1 < *argc) {
                                out = xrealloc(out, (n_out + 3) * sizeof *out);
                                out[n_out++] = argv[i];
                                out[n_out++] = argv[++i];
                                taken = true;
                        } else if (strncmp(s, names[j], len) == 0 && s[len] == '=') {
                                out = xrealloc(out, (n_out + 2) * sizeof *out);
                                out[n_out++] = argv[i];
                                taken = true;
                        }
                }
                if (!taken)
                        argv[k++] = argv[i];
        }
        argv[k] = NULL;
        *argc = k;
        if (out)
                out[n_out] = NULL;
        return out;
}
