/* image_ref.h — image references as Docker writes them: [host[:port]/]name[:tag][@sha256:hex].
 *
 * Docker Hub defaults: no host (the first component has no '.' or ':' and is not "localhost")
 * means docker.io, and a one-component name gets "library/"; no tag and no digest means
 * "latest". The registry API of docker.io is at registry-1.docker.io. */
#pragma once

#include <stdbool.h>

#include "common/err.h"
#include "common/macro.h"

#define IMAGE_REF_MAX 512

struct image_ref {
        char *host;   /* "docker.io", "localhost:5000", "[::1]:5000" */
        char *name;   /* "library/busybox", "team/web" */
        char *tag;    /* "latest"; NULL when only a digest was given */
        char *digest; /* "sha256:<64 hex>" or NULL */
};

/* Parses s into *ret (fields malloc'd); -EINVAL with a reason on anything invalid. */
int image_ref_parse(const char *s, struct image_ref *ret, struct err *err);
void image_ref_release(struct image_ref *r);
/* "host/name@digest" when a digest was given, else "host/name:tag". New string. */
char *image_ref_canonical(const struct image_ref *r);
/* The host the registry API lives at (docker.io → registry-1.docker.io). Borrowed or static. */
const char *image_ref_api_host(const struct image_ref *r);
/* True for localhost, 127.0.0.0/8 and [::1] (with any port): spoken to over plain HTTP. */
bool image_ref_host_is_loopback(const char *host);
/* True for "sha256:" followed by exactly 64 lowercase hex digits. */
bool image_digest_valid(const char *d);
