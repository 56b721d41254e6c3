/* image_cmd.c — `strata image …`: opens DATA/images, runs one verb on a private loop. */
#include "agent/image_cmd.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/image_store.h"
#include "common/alloc.h"
#include "common/flags.h"
#include "common/util.h"

static const char usage[] =
        "usage: strata image pull [options] REF...   pull images (concurrently; one download per ref)\n"
        "       strata image list [options]          refs in the store, as JSON\n"
        "       strata image rm [options] REF...     forget refs (their layers go at the next gc)\n"
        "       strata image gc [options]            remove layers and blobs no remaining ref needs\n"
        "options:\n"
        "  --data-dir DIR            the agent's data directory; the store is DIR/images\n"
        "                            (default ./strata-agent)\n"
        "  --registry-config FILE    Docker config.json with registry credentials (\"auths\")\n"
        "  --insecure-registry HOST[:PORT][,…]  speak plain HTTP to these (loopback always is)\n"
        "  --username U --password P credentials for this pull (override the registry config)\n"
        "  --force                   re-resolve tags even when the image is present (forcePullImage)\n"
        "  --max-age SECONDS         gc: also forget refs unused this long (default 0: all refs)\n"
        "  --quiet                   no progress on stderr\n";

struct cmd {
        struct image_store *store;
        unsigned pending;
        int failures;
        bool quiet;
        json_t *results;
};

struct one_pull {
        struct cmd *cmd;
        char *ref;
};

static void pull_progress(void *data, const char *msg) {
        struct one_pull *op = data;
        if (!op->cmd->quiet)
                fprintf(stderr, "%s: %s\n", op->ref, msg);
}

static void pull_done(void *data, struct image *img, const struct err *err) {
        struct one_pull *op = data;
        struct cmd *c = op->cmd;
        if (img) {
                json_t *layers = json_array();
                for (size_t i = 0; i < img->n_layers; i++)
                        json_array_append_new(layers, json_string(img->layers[i]));
                json_array_append_new(c->results,
                                      json_pack("{s:s,s:s,s:o,s:O}", "ref", img->ref, "digest", img->digest,
                                                "layers", layers, "config", img->config));
                image_store_unref(c->store, img);
        } else {
                fprintf(stderr, "strata: %s\n", err_msg(err));
                c->failures++;
        }
        free(op->ref);
        free(op);
        c->pending--;
}

static void print_json(json_t *j) {
        char *s = json_dumps(j, JSON_INDENT(2));
        puts(s);
        free(s);
}

int image_main(int argc, char **argv) {
        enum {
                OPT_DATA = 256,
                OPT_REGCFG,
                OPT_INSECURE,
                OPT_USER,
                OPT_PASS,
                OPT_FORCE,
                OPT_MAXAGE,
                OPT_QUIET
        };
        static const struct option opts[] = {
                {"data-dir", required_argument, NULL, OPT_DATA},
                {"registry-config", required_argument, NULL, OPT_REGCFG},
                {"insecure-registry", required_argument, NULL, OPT_INSECURE},
                {"username", required_argument, NULL, OPT_USER},
                {"password", required_argument, NULL, OPT_PASS},
                {"force", no_argument, NULL, OPT_FORCE},
                {"max-age", required_argument, NULL, OPT_MAXAGE},
                {"quiet", no_argument, NULL, OPT_QUIET},
                {"help", no_argument, NULL, 'h'},
                {0},
        };
        if (argc < 2 || streq(argv[1], "-h") || streq(argv[1], "--help")) {
                fputs(usage, argc < 2 ? stderr : stdout);
                return argc < 2 ? 2 : 0;
        }
        const char *verb = argv[1];
        const char *data_dir = "strata-agent", *regcfg = NULL, *user = NULL, *pass = NULL;
        _cleanup_(flags_list_freep) char **insecure = NULL;
        bool force = false, quiet = false;
        unsigned max_age = 0;
        int opt;
        optind = 2;
        while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                switch (opt) {
                case OPT_DATA:
                        data_dir = optarg;
                        break;
                case OPT_REGCFG:
                        regcfg = optarg;
                        break;
                case OPT_INSECURE:
                        flags_list_add(&insecure, NULL, optarg);
                        break;
                case OPT_USER:
                        user = optarg;
                        break;
                case OPT_PASS:
                        pass = optarg;
                        break;
                case OPT_FORCE:
                        force = true;
                        break;
                case OPT_QUIET:
                        quiet = true;
                        break;
                case OPT_MAXAGE:
                        if (flags_uint(optarg, 0, 100u * 365 * 86400, &max_age) < 0) {
                                fprintf(stderr, "strata: --max-age wants seconds, not '%s'\n", optarg);
                                return 2;
                        }
                        break;
                case 'h':
                        fputs(usage, stdout);
                        return 0;
                default:
                        fputs(usage, stderr);
                        return 2;
                }
        }
        bool takes_refs = streq(verb, "pull") || streq(verb, "rm");
        if (!takes_refs && !streq(verb, "list") && !streq(verb, "gc")) {
                fprintf(stderr, "strata: unknown image command '%s'\n%s", verb, usage);
                return 2;
        }
        if (takes_refs != (optind < argc)) {
                fprintf(stderr, "strata: image %s %s\n%s", verb,
                        takes_refs ? "needs at least one REF" : "takes no REF", usage);
                return 2;
        }
        if ((user != NULL) != (pass != NULL)) {
                fputs("strata: --username and --password go together\n", stderr);
                return 2;
        }

        uv_loop_t loop;
        uv_loop_init(&loop);
        struct http_client *client = http_client_new(&loop);
        struct err e = {0};
        struct cmd c = {.quiet = quiet, .results = json_array()};
        int rc = 0;
        if (image_store_open_configured(&loop, client, data_dir, regcfg, insecure, &c.store, &e) < 0)
                goto fail;

        if (streq(verb, "pull")) {
                struct image_auth auth = {user, pass};
                for (int i = optind; i < argc; i++) {
                        struct one_pull *op = xcalloc(1, sizeof *op);
                        op->cmd = &c;
                        op->ref = xstrdup(argv[i]);
                        if (image_store_pull(c.store, argv[i], user ? &auth : NULL, force, pull_progress,
                                             pull_done, op) < 0) {
                                fprintf(stderr, "strata: '%s' is not a valid image reference\n", argv[i]);
                                c.failures++;
                                free(op->ref);
                                free(op);
                                continue;
                        }
                        c.pending++;
                }
                while (c.pending > 0)
                        uv_run(&loop, UV_RUN_ONCE);
                print_json(c.results);
                rc = c.failures ? 1 : 0;
        } else if (streq(verb, "rm")) {
                for (int i = optind; i < argc; i++)
                        if (image_store_remove(c.store, argv[i], &e) < 0) {
                                fprintf(stderr, "strata: %s\n", err_msg(&e));
                                err_release(&e);
                                rc = 1;
                        }
        } else if (streq(verb, "list")) {
                json_t *l = image_store_list(c.store);
                print_json(l);
                json_decref(l);
        } else {
                struct image_gc_stats st;
                if (image_store_gc(c.store, max_age, &st, &e) < 0)
                        goto fail;
                json_t *j = json_pack("{s:I,s:I,s:I,s:I}", "refsRemoved", (json_int_t)st.refs_removed,
                                      "layersRemoved", (json_int_t)st.layers_removed, "blobsRemoved",
                                      (json_int_t)st.blobs_removed, "bytesFreed", (json_int_t)st.bytes_freed);
                print_json(j);
                json_decref(j);
        }
        goto out;
fail:
        fprintf(stderr, "strata: %s\n", err_msg(&e));
        rc = 1;
out:
        err_release(&e);
        image_store_free(c.store);
        http_client_free(client);
        uv_run(&loop, UV_RUN_DEFAULT);
        uv_loop_close(&loop);
        json_decref(c.results);
        return rc;
}
