/* test_agent_image.c — image references, WWW-Authenticate challenges, registry credentials,
 * manifests and indexes, layer entry paths, layer unpacking (whiteouts, escapes refused) and
 * the store's index. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/image_internal.h"
#include "agent/image_manifest.h"
#include "agent/image_ref.h"
#include "agent/layer_unpack.h"
#include "agent/registry_auth.h"
#include "common/alloc.h"

#define D64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void ref_ok(const char *in, const char *host, const char *name, const char *tag, const char *digest,
                   const char *canonical) {
        struct image_ref r = {0};
        struct err e = {0};
        if (image_ref_parse(in, &r, &e) < 0)
                fail_msg("'%s': %s", in, err_msg(&e));
        assert_string_equal(r.host, host);
        assert_string_equal(r.name, name);
        if (tag)
                assert_string_equal(r.tag, tag);
        else
                assert_null(r.tag);
        if (digest)
                assert_string_equal(r.digest, digest);
        else
                assert_null(r.digest);
        char *c = image_ref_canonical(&r);
        assert_string_equal(c, canonical);
        free(c);
        image_ref_release(&r);
}

static void ref_bad(const char *in) {
        struct image_ref r = {0};
        struct err e = {0};
        if (image_ref_parse(in, &r, &e) == 0)
                fail_msg("'%s' was accepted", in);
        assert_non_null(e.msg);
        err_release(&e);
}

static void test_refs(void **state) {
        ref_ok("busybox", "docker.io", "library/busybox", "latest", NULL, "docker.io/library/busybox:latest");
        ref_ok("nginx:1.25", "docker.io", "library/nginx", "1.25", NULL, "docker.io/library/nginx:1.25");
        ref_ok("team/web", "docker.io", "team/web", "latest", NULL, "docker.io/team/web:latest");
        ref_ok("localhost:5000/web:2", "localhost:5000", "web", "2", NULL, "localhost:5000/web:2");
        ref_ok("localhost/a/b", "localhost", "a/b", "latest", NULL, "localhost/a/b:latest");
        ref_ok("reg.example.com/a/b/c:v1.2-rc_1", "reg.example.com", "a/b/c", "v1.2-rc_1", NULL,
               "reg.example.com/a/b/c:v1.2-rc_1");
        ref_ok("127.0.0.1:5000/x@sha256:" D64, "127.0.0.1:5000", "x", NULL, "sha256:" D64,
               "127.0.0.1:5000/x@sha256:" D64);
        ref_ok("r.io/x:t@sha256:" D64, "r.io", "x", "t", "sha256:" D64, "r.io/x@sha256:" D64);
        ref_ok("[::1]:5000/x:1", "[::1]:5000", "x", "1", NULL, "[::1]:5000/x:1");
        ref_ok("index.docker.io/busybox", "docker.io", "library/busybox", "latest", NULL,
               "docker.io/library/busybox:latest");
        ref_ok("my__app/a-b.c", "docker.io", "my__app/a-b.c", "latest", NULL,
               "docker.io/my__app/a-b.c:latest");
        ref_bad("");
        ref_bad("reg.io/UPPER/case");
        ref_bad("Upper");
        ref_bad("a//b");
        ref_bad("a/b/");
        ref_bad("-a");
        ref_bad("a:");
        ref_bad("a:-x");
        ref_bad("a@sha256:abc");
        ref_bad("a@md5:" D64);
        ref_bad("reg:99999999/a");
        ref_bad("reg:port/a");
        ref_bad("a b");
        ref_bad("a/../b");
        assert_true(image_ref_host_is_loopback("localhost:5000"));
        assert_true(image_ref_host_is_loopback("127.0.0.1:1"));
        assert_true(image_ref_host_is_loopback("[::1]:5000"));
        assert_false(image_ref_host_is_loopback("reg.example.com"));
        assert_false(image_ref_host_is_loopback("localhostx.com"));
}

static void test_challenges(void **state) {
        struct auth_challenge c = {0};
        struct err e = {0};
        assert_int_equal(
                auth_challenge_parse(
                        "Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
                        "scope=\"repository:library/busybox:pull\"",
                        &c, &e),
                0);
        assert_string_equal(c.scheme, "Bearer");
        assert_string_equal(c.realm, "https://auth.docker.io/token");
        assert_string_equal(c.service, "registry.docker.io");
        assert_string_equal(c.scope, "repository:library/busybox:pull");
        assert_null(c.error);
        auth_challenge_release(&c);

        assert_int_equal(auth_challenge_parse("Basic realm=\"Registry \\\"Realm\\\"\"", &c, &e), 0);
        assert_string_equal(c.scheme, "Basic");
        assert_string_equal(c.realm, "Registry \"Realm\"");
        auth_challenge_release(&c);

        assert_int_equal(auth_challenge_parse("Bearer realm=x , error=invalid_token, Basic realm=y", &c, &e),
                         0);
        assert_string_equal(c.realm, "x");
        assert_string_equal(c.error, "invalid_token");
        auth_challenge_release(&c);

        assert_true(auth_challenge_parse("", &c, &e) < 0);
        err_release(&e);
        assert_true(auth_challenge_parse("Bearer realm=\"open", &c, &e) < 0);
        err_release(&e);
        assert_true(auth_challenge_parse("Bearer realm=a b=c", &c, &e) < 0);
        err_release(&e);
}

static void test_credentials(void **state) {
        char *u = NULL, *p = NULL;
        struct err e = {0};
        /* "alice:s3:cret" in base64 */
        const char *cfg = "{\"auths\":{\"reg.example:5000\":{\"auth\":\"YWxpY2U6czM6Y3JldA==\"},"
                          "\"https://index.docker.io/v1/\":{\"username\":\"hub\",\"password\":\"pw\"}}}";
        assert_int_equal(image_auth_from_docker_config(cfg, "reg.example:5000", &u, &p, &e), 0);
        assert_string_equal(u, "alice");
        assert_string_equal(p, "s3:cret");
        free(u);
        free(p);
        assert_int_equal(image_auth_from_docker_config(cfg, "docker.io", &u, &p, &e), 0);
        assert_string_equal(u, "hub");
        free(u);
        free(p);
        assert_int_equal(image_auth_from_docker_config(cfg, "reg.example", &u, &p, &e), -ERR_NOT_FOUND);
        err_release(&e);
        assert_int_equal(
                image_auth_from_docker_config("{\"auths\":{\"r\":{\"auth\":\"!!!\"}}}", "r", &u, &p, &e),
                -ERR_BAD_JSON);
        err_release(&e);
        assert_int_equal(image_auth_from_docker_config("[", "r", &u, &p, &e), -ERR_BAD_JSON);
        err_release(&e);

        char *h = auth_basic_header("alice", "s3cret");
        assert_string_equal(h, "Authorization: Basic YWxpY2U6czNjcmV0");
        free(h);
        char *tok = NULL;
        assert_int_equal(auth_token_from_json("{\"access_token\":\"abc\"}", 22, &tok, &e), 0);
        assert_string_equal(tok, "abc");
        free(tok);
        assert_true(auth_token_from_json("{\"token\":\"a\\r\\nX: y\"}", 20, &tok, &e) < 0);
        err_release(&e);
}

#define LAYER(mt, d) "{\"mediaType\":\"" mt "\",\"digest\":\"sha256:" d "\",\"size\":10}"
#define CONFIG                                                                                               \
        "{\"mediaType\":\"application/"                                                                      \
        "vnd.docker.container.image.v1+json\",\"size\":7,\"digest\":\"sha256:" D64 "\"}"

static void test_manifests(void **state) {
        struct manifest m = {0};
        struct err e = {0};
        const char *docker =
                "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\","
                "\"config\":" CONFIG
                ",\"layers\":[" LAYER("application/vnd.docker.image.rootfs.diff.tar.gzip",
                                      D64) "," LAYER("application/vnd.oci.image.layer.v1.tar+zstd", D64) "]}";
        assert_int_equal(manifest_parse(docker, strlen(docker), NULL, "linux", "amd64", &m, &e), 0);
        assert_int_equal(m.kind, MANIFEST_IMAGE);
        assert_int_equal(m.n_layers, 2);
        assert_string_equal(m.config.digest, "sha256:" D64);
        manifest_release(&m);

        const char *index = "{\"schemaVersion\":2,\"manifests\":["
                            "{\"digest\":\"sha256:" D64
                            "\",\"size\":1,\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\"}},"
                            "{\"digest\":\"sha256:"
                            "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210\",\"size\":2,"
                            "\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}}]}";
        assert_int_equal(manifest_parse(index, strlen(index), "application/vnd.oci.image.index.v1+json",
                                        "linux", "amd64", &m, &e),
                         0);
        assert_int_equal(m.kind, MANIFEST_INDEX);
        assert_string_equal(m.platform.digest,
                            "sha256:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210");
        manifest_release(&m);
        assert_int_equal(manifest_parse(index, strlen(index), NULL, "linux", "s390x", &m, &e),
                         -ERR_NOT_FOUND);
        assert_non_null(strstr(err_msg(&e), "linux/s390x"));
        err_release(&e);

        static const char *const bad[] = {
                "{\"schemaVersion\":1,\"fsLayers\":[]}",
                "[]",
                "{\"schemaVersion\":2,\"config\":" CONFIG ",\"layers\":{}}",
                "{\"schemaVersion\":2,\"config\":" CONFIG ",\"layers\":[" LAYER("text/plain", D64) "]}",
                "{\"schemaVersion\":2,\"config\":" CONFIG
                ",\"layers\":[" LAYER("application/vnd.oci.image.layer.v1.tar", "00") "]}",
                "{\"schemaVersion\":2,\"config\":{\"digest\":\"sha256:" D64 "\",\"size\":-1},\"layers\":[]}",
                "{\"schemaVersion\":2,\"mediaType\":\"application/x-nope\"}",
                "{\"schemaVersion\":2,\"schemaVersion\":2}",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                if (manifest_parse(bad[i], strlen(bad[i]), NULL, "linux", "amd64", &m, &e) == 0)
                        fail_msg("accepted: %s", bad[i]);
                assert_non_null(e.msg);
                err_release(&e);
        }

        json_t *cfg = NULL;
        assert_int_equal(image_config_parse("{\"config\":{\"Cmd\":[\"sh\"]}}", 25, &cfg, &e), 0);
        assert_non_null(json_object_get(cfg, "Cmd"));
        json_decref(cfg);
        assert_int_equal(image_config_parse("{}", 2, &cfg, &e), 0);
        assert_int_equal(json_object_size(cfg), 0);
        json_decref(cfg);
        assert_true(image_config_parse("{\"config\":1}", 12, &cfg, &e) < 0);
        err_release(&e);
}

static void path_ok(const char *in, const char *out) {
        char *r = NULL;
        struct err e = {0};
        if (layer_entry_path(in, &r, &e) < 0)
                fail_msg("'%s': %s", in, err_msg(&e));
        assert_string_equal(r, out);
        free(r);
}

static void path_bad(const char *in) {
        char *r = NULL;
        struct err e = {0};
        if (layer_entry_path(in, &r, &e) == 0)
                fail_msg("'%s' accepted as '%s'", in, r);
        err_release(&e);
}

static void test_entry_paths(void **state) {
        path_ok("./bin/sh", "bin/sh");
        path_ok("bin//sh/", "bin/sh");
        path_ok("./", "");
        path_ok(".", "");
        path_ok("a/./b", "a/b");
        path_ok("..a/b..", "..a/b..");
        path_bad("/etc/passwd");
        path_bad("../x");
        path_bad("a/../../x");
        path_bad("a/..");
}

/* Writes a tar with libarchive: entries "name" (file with content), "name/" (dir),
 * "name->target" (symlink), "name=>target" (hard link). */
static char *make_tar(const char *dir, const char *const *entries, size_t n) {
        char *path = xasprintf("%s/layer.tar", dir);
        struct archive *a = archive_write_new();
        archive_write_set_format_pax_restricted(a);
        assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
        for (size_t i = 0; i < n; i++) {
                struct archive_entry *e = archive_entry_new();
                char *name = xstrdup(entries[i]);
                char *sym = strstr(name, "->"), *hard = strstr(name, "=>");
                size_t len = strlen(name);
                if (sym) {
                        *sym = 0;
                        archive_entry_set_filetype(e, AE_IFLNK);
                        archive_entry_set_symlink(e, sym + 2);
                } else if (hard) {
                        *hard = 0;
                        archive_entry_set_filetype(e, AE_IFREG);
                        archive_entry_set_hardlink(e, hard + 2);
                } else if (name[len - 1] == '/') {
                        archive_entry_set_filetype(e, AE_IFDIR);
                        archive_entry_set_perm(e, 0755);
                } else {
                        archive_entry_set_filetype(e, AE_IFREG);
                        archive_entry_set_perm(e, 0644);
                        archive_entry_set_size(e, 2);
                }
                archive_entry_set_pathname(e, name);
                archive_write_header(a, e);
                if (!sym && !hard && name[len - 1] != '/')
                        archive_write_data(a, "x\n", 2);
                archive_entry_free(e);
                free(name);
        }
        archive_write_close(a);
        archive_write_free(a);
        return path;
}

static char *tmpdir(void) {
        char *d = xstrdup("/tmp/strata-image-XXXXXX");
        assert_non_null(mkdtemp(d));
        return d;
}

static int unpack(const char *const *entries, size_t n, char **dir_out, struct err *e) {
        char *dir = tmpdir();
        char *tar = make_tar(dir, entries, n);
        char *dest = xasprintf("%s/out", dir);
        mkdir(dest, 0755);
        int r = layer_unpack(tar, dest, e);
        free(tar);
        free(dest);
        *dir_out = dir;
        return r;
}

static void test_unpack(void **state) {
        static const char *const ok[] = {"./etc/",         "./etc/motd",      "bin/",
                                         "bin/busybox",    "bin/sh->busybox", "bin/ln=>bin/busybox",
                                         "abs->/etc/motd", "etc/.wh.passwd",  "var/.wh..wh..opq"};
        char *dir = NULL;
        struct err e = {0};
        int r = unpack(ok, ELEMENTSOF(ok), &dir, &e);
        if (r < 0)
                fail_msg("%s", err_msg(&e));
        char p[512], buf[16];
        struct stat st;
        snprintf(p, sizeof p, "%s/out/bin/ln", dir);
        assert_int_equal(lstat(p, &st), 0);
        assert_int_equal(st.st_nlink, 2);
        snprintf(p, sizeof p, "%s/out/abs", dir);
        ssize_t n = readlink(p, buf, sizeof buf - 1);
        assert_int_equal(n, 9);
        snprintf(p, sizeof p, "%s/out/etc/passwd", dir);
        if (geteuid() == 0) {
                assert_int_equal(lstat(p, &st), 0);
                assert_true(S_ISCHR(st.st_mode));
                assert_int_equal(st.st_rdev, 0);
                snprintf(p, sizeof p, "%s/out/var", dir);
                assert_int_equal(lgetxattr(p, "trusted.overlay.opaque", buf, sizeof buf), 1);
        }
        snprintf(p, sizeof p, "%s/out/etc/.wh.passwd", dir);
        assert_int_not_equal(lstat(p, &st), 0);
        store_rm_rf(dir);
        free(dir);

        /* escapes: each layer must fail and write nothing outside out/ */
        static const char *const escapes[][2] = {
                {"../evil", NULL},           {"/abs", NULL},
                {"link->/tmp", "link/evil"},                                /* writing through a symlink */
                {"up->..", "up/evil"},       {"x=>../../etc/passwd", NULL}, /* hard link out of the layer */
                {"wl->/tmp", "wl/.wh.evil"},                                /* a whiteout through a symlink */
        };
        for (size_t i = 0; i < ELEMENTSOF(escapes); i++) {
                const char *entries[2] = {escapes[i][0], escapes[i][1]};
                r = unpack(entries, escapes[i][1] ? 2 : 1, &dir, &e);
                if (r == 0)
                        fail_msg("escape %zu (%s) was unpacked", i, escapes[i][0]);
                err_release(&e);
                snprintf(p, sizeof p, "%s/evil", dir);
                assert_int_not_equal(lstat(p, &st), 0);
                store_rm_rf(dir);
                free(dir);
        }
}

static void test_store_index(void **state) {
        uv_loop_t loop;
        uv_loop_init(&loop);
        struct http_client *client = http_client_new(&loop);
        char *dir = tmpdir();
        struct image_store *s = NULL, *s2 = NULL;
        struct err e = {0};
        assert_int_equal(image_store_new(&loop, client, dir, &s, &e), 0);
        /* one process per store */
        assert_int_equal(image_store_new(&loop, client, dir, &s2, &e), -EBUSY);
        err_release(&e);

        /* a manifest with one (empty) layer, put together by hand */
        const char *cfg = "{\"config\":{\"User\":\"1\"}}";
        char cd[72], md[72];
        image_sha256(cfg, strlen(cfg), cd);
        char *manifest =
                xasprintf("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                          "\"config\":{\"digest\":\"%s\",\"size\":%zu},\"layers\":[" LAYER(
                                  "application/vnd.oci.image.layer.v1.tar", D64) "]}",
                          cd, strlen(cfg));
        image_sha256(manifest, strlen(manifest), md);
        assert_int_equal(store_blob_put(s, cd, cfg, strlen(cfg), &e), 0);
        assert_int_equal(store_blob_put(s, md, manifest, strlen(manifest), &e), 0);
        struct image *img = NULL;
        assert_int_equal(store_image_open(s, "r/x:1", md, &img, &e), -ENOENT); /* layer missing */
        err_release(&e);
        char *layer = store_layer_path(s, "sha256:" D64);
        assert_int_equal(mkdir(layer, 0755), 0);
        assert_int_equal(store_index_set(s, "r.io/x:1", md, &e), 0);
        assert_int_equal(image_store_get(s, "r.io/x:1", &img, &e), 0);
        assert_int_equal(img->n_layers, 1);
        assert_string_equal(img->layers[0], layer);
        assert_string_equal(json_string_value(json_object_get(img->config, "User")), "1");

        /* in use: gc keeps it even when its ref is forgotten */
        assert_int_equal(image_store_remove(s, "r.io/x:1", &e), 0);
        struct image_gc_stats st;
        assert_int_equal(image_store_gc(s, 0, &st, &e), 0);
        assert_int_equal(st.layers_removed, 0);
        struct stat sb;
        assert_int_equal(stat(layer, &sb), 0);
        image_store_unref(s, img);
        assert_int_equal(image_store_gc(s, 0, &st, &e), 0);
        assert_int_equal(st.layers_removed, 1);
        assert_int_equal(st.blobs_removed, 2);
        assert_int_not_equal(stat(layer, &sb), 0);

        /* the index survives a restart */
        assert_int_equal(store_blob_put(s, cd, cfg, strlen(cfg), &e), 0);
        assert_int_equal(store_blob_put(s, md, manifest, strlen(manifest), &e), 0);
        assert_int_equal(mkdir(layer, 0755), 0);
        assert_int_equal(store_index_set(s, "r.io/x:1", md, &e), 0);
        image_store_free(s);
        assert_int_equal(image_store_new(&loop, client, dir, &s, &e), 0);
        assert_int_equal(image_store_get(s, "r.io/x:1", &img, &e), 0);
        assert_string_equal(img->digest, md);
        image_store_unref(s, img);
        assert_int_equal(image_store_get(s, "r.io/y:1", &img, &e), -ERR_NOT_FOUND);
        err_release(&e);

        /* a corrupt blob on disk is not trusted */
        char *mp = store_blob_path(s, md);
        FILE *f = fopen(mp, "r+e");
        fputc('[', f);
        fclose(f);
        assert_int_equal(image_store_get(s, "r.io/x:1", &img, &e), -ERR_NOT_FOUND);
        err_release(&e);

        image_store_free(s);
        http_client_free(client);
        uv_run(&loop, UV_RUN_DEFAULT);
        uv_loop_close(&loop);
        store_rm_rf(dir);
        free(mp);
        free(layer);
        free(manifest);
        free(dir);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_refs),        cmocka_unit_test(test_challenges),
                cmocka_unit_test(test_credentials), cmocka_unit_test(test_manifests),
                cmocka_unit_test(test_entry_paths), cmocka_unit_test(test_unpack),
                cmocka_unit_test(test_store_index),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
