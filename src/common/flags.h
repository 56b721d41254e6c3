/* flags.h — values of the command-line flags that several `strata` commands share.
 *
 * `strata master`, `strata dev`, `strata agent`, `strata agent-sim` and `strata image` take the
 * same kinds of values (lists of masters, listen addresses, log levels, bounded counts); each
 * command keeps its own getopt table and messages, and parses those values here so that they
 * mean the same thing everywhere. Lists are NULL-terminated arrays of heap strings that the
 * caller owns and frees with flags_list_free(). */
#pragma once

#include <stddef.h>

/* Appends each comma-separated item of arg (leading spaces dropped, empty items skipped) to the
 * NULL-terminated *list. n, when not NULL, is the list's length and is kept up to date. */
void flags_list_add(char ***list, size_t *n, const char *arg);

/* Like flags_list_add, for base URLs: "http://" is prefixed where the item has no scheme and
 * trailing '/' are dropped ("m1:8080/" → "http://m1:8080"). */
void flags_list_add_urls(char ***list, size_t *n, const char *arg);

/* Frees a list built by flags_list_add*; NULL is a no-op. */
void flags_list_free(char **list);
static inline void flags_list_freep(char ***list) {
        flags_list_free(*list);
}

/* A listen address: "ADDR:PORT" as given, a bare "PORT" as "<default_host>:PORT". Caller frees. */
char *flags_listen_addr(const char *arg, const char *default_host);

/* Sets the log level that arg names (debug, info, warn, error). An unknown one is reported on
 * stderr as "<prog>: unknown log level '…'" and returns -EINVAL, the level unchanged. */
int flags_log_level(const char *prog, const char *arg);

/* Parses all of arg as a decimal number in min..max into *ret; -EINVAL (nothing written, nothing
 * printed: the caller names the flag and its range) for anything else, a sign included. */
int flags_uint(const char *arg, unsigned long min, unsigned long max, unsigned *ret);
