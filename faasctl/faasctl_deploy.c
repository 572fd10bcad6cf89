/*
 * Copyright (C) ngx_faas authors
 *
 * faasctl deploy and rm: the changes to the table (docs/redis.md, "How a
 * change is made").
 */


#define _GNU_SOURCE

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "faasctl.h"


#define FAASCTL_VERSION_TRIES  100


/* what each generation of a deploy does to the deployed functions */
typedef enum {
    FAASCTL_CHECK = 0,          /* the final table, not written */
    FAASCTL_ADD,                /* the new version joins "versions" */
    FAASCTL_ACTIVATE,           /* it becomes active, with its routes */
    FAASCTL_ROLLBACK            /* it leaves again */
} faasctl_step_e;


typedef struct {
    const faas_function_t  *mf;
    char                   *tmp;
    char                    name[FAAS_VERSION_NAME_MAX + 1];
    char                    dir[PATH_MAX];
    faas_version_t          version;
    faas_table_route_t     *routes;
    size_t                  nroutes;
    char                   *before;     /* its entry before the deploy */
    char                   *pushed;     /* --stage: its history entry */
} faasctl_fn_t;


typedef struct {
    faas_manifest_t        *manifest;
    faasctl_fn_t           *fns;
    size_t                  n;
    faasctl_step_e          step;
    unsigned                stage:1;
    unsigned                checking:1;
} faasctl_deploy_t;


static int faasctl_deploy_load(faasctl_deploy_t *d, const char *dir);
static int faasctl_deploy_check(faasctl_t *ctl, faasctl_deploy_t *d);
static int faasctl_deploy_version(faasctl_t *ctl, faasctl_fn_t *fn,
    const char *real, const char *src);
static int faasctl_deploy_build(faasctl_t *ctl, const faas_table_t *current,
    faasctl_view_t *next, void *data);
static int faasctl_deploy_entry(faasctl_t *ctl, faasctl_view_t *next,
    faasctl_deploy_t *d, faasctl_fn_t *fn, faas_table_function_t *f);
static int faasctl_deploy_unstage(faasctl_t *ctl, faasctl_view_t *next,
    faasctl_fn_t *fn);
static int faasctl_deploy_wait(faasctl_t *ctl, faasctl_deploy_t *d);
static int faasctl_deploy_rollback(faasctl_t *ctl, faasctl_deploy_t *d);
static int faasctl_deploy_print(faasctl_t *ctl, faasctl_deploy_t *d,
    uint64_t generation);
static void faasctl_deploy_free(faasctl_deploy_t *d);
static int faasctl_rm_build(faasctl_t *ctl, const faas_table_t *current,
    faasctl_view_t *next, void *data);


int
faasctl_deploy(faasctl_t *ctl, int argc, char **argv)
{
    int                rc;
    char              *real;
    size_t             i;
    uint64_t           g;
    faasctl_deploy_t   d;

    if (argc != 1) {
        faasctl_usage_error(argc ? "deploy takes one directory"
                                 : "deploy: no directory");
        return 2;
    }

    memset(&d, 0, sizeof(faasctl_deploy_t));
    d.stage = ctl->stage;
    real = NULL;
    rc = 1;

    if (faasctl_deploy_load(&d, argv[0]) != FAAS_OK
        || faasctl_connect(ctl) != FAAS_OK
        || faasctl_store_open(ctl->store, argv[0], &real) != FAAS_OK)
    {
        goto done;
    }

    /* conflicts and the like are refused before anything is written */

    if (faasctl_deploy_check(ctl, &d) != FAAS_OK) {
        goto done;
    }

    faasctl_signals(1);

    for (i = 0; i < d.n; i++) {
        if (faasctl_deploy_version(ctl, &d.fns[i], real, argv[0]) != FAAS_OK)
        {
            goto done;
        }
    }

    if (faasctl_interrupted()) {
        faasctl_error("interrupted");
        goto done;
    }

    d.step = FAASCTL_ADD;

    if (faasctl_switch(ctl, faasctl_deploy_build, &d, &g) != FAAS_OK) {
        goto done;
    }

    if (faasctl_deploy_wait(ctl, &d) != FAAS_OK) {
        faasctl_deploy_rollback(ctl, &d);
        goto done;
    }

    if (d.stage) {
        rc = faasctl_deploy_print(ctl, &d, g);
        goto done;
    }

    d.step = FAASCTL_ACTIVATE;

    if (faasctl_switch(ctl, faasctl_deploy_build, &d, &g) != FAAS_OK) {
        faasctl_deploy_rollback(ctl, &d);
        goto done;
    }

    rc = faasctl_deploy_print(ctl, &d, g);

done:

    faasctl_signals(0);
    faasctl_deploy_free(&d);
    free(real);

    return rc;
}


/*
 * DIR/f.yml, with the checks nginx and faasd make, and those of a table:
 * function names fit for keys, routes that compile together.
 */

static int
faasctl_deploy_load(faasctl_deploy_t *d, const char *dir)
{
    char                    path[PATH_MAX];
    size_t                  i, j, len;
    faas_error_t            err;
    faasctl_fn_t           *fn;
    faas_manifest_t        *m;
    const faas_function_t  *f;

    len = strlen(dir);

    if (len == 0) {
        faasctl_error("deploy: empty directory name");
        return FAAS_ERROR;
    }

    if ((size_t) snprintf(path, sizeof(path), "%s%sf.yml", dir,
                          dir[len - 1] == '/' ? "" : "/")
        >= sizeof(path))
    {
        faasctl_error("\"%s\": path too long", dir);
        return FAAS_ERROR;
    }

    if (faas_manifest_load(path, &d->manifest, &err) != FAAS_OK
        || faas_manifest_check_code(d->manifest, &err) != FAAS_OK)
    {
        faasctl_error_engine(&err);
        return FAAS_ERROR;
    }

    m = d->manifest;

    if (m->nfunctions == 0) {
        faasctl_error("%s: no functions to deploy", path);
        return FAAS_ERROR;
    }

    for (i = 0; i < m->nfunctions; i++) {
        f = &m->functions[i];

        if (!faas_function_name_valid(f->name, strlen(f->name))) {
            faas_error_set(&err, m->file, f->line, f->column,
                           "function name \"%s\" cannot be deployed: 1 to "
                           "%d of [A-Za-z0-9_-], not starting with \"-\"",
                           f->name, FAAS_FUNCTION_NAME_MAX);
            faasctl_error_engine(&err);
            return FAAS_ERROR;
        }

        /*
         * A table entry is code for workers and its routes; an aggregate
         * is calls nginx makes, declared where nginx reads it.  Leaving
         * it out would deploy its routes' neighbours without it, so the
         * whole deploy is refused.
         */

        if (f->aggregate) {
            faas_error_set(&err, m->file, f->line, f->column,
                           "function \"%s\" is an aggregate and cannot go "
                           "into a Redis table, which carries handlers and "
                           "routes only: serve it from a manifest named by "
                           "faas_manifest in nginx.conf", f->name);
            faasctl_error_engine(&err);
            return FAAS_ERROR;
        }
    }

    if (faas_manifest_check_routes(m, &err) != FAAS_OK) {
        faasctl_error_engine(&err);
        return FAAS_ERROR;
    }

    d->fns = calloc(m->nfunctions, sizeof(faasctl_fn_t));
    if (d->fns == NULL) {
        faasctl_error("out of memory");
        return FAAS_ERROR;
    }

    d->n = m->nfunctions;

    for (i = 0; i < d->n; i++) {
        fn = &d->fns[i];
        f = &m->functions[i];

        fn->mf = f;

        if (f->nevents) {
            fn->routes = calloc(f->nevents, sizeof(faas_table_route_t));
            if (fn->routes == NULL) {
                faasctl_error("out of memory");
                return FAAS_ERROR;
            }
        }

        for (j = 0; j < f->nevents; j++) {
            fn->routes[j].path = f->events[j].path;
            fn->routes[j].methods = f->events[j].methods;
        }

        fn->nroutes = f->nevents;

        fn->version.name = fn->name;
        fn->version.dir = fn->dir;
        fn->version.handler = f->handler;
        fn->version.initializer = f->initializer;
        fn->version.runtime = f->runtime;
        fn->version.timeout_ms = f->timeout_ms;
        fn->version.init_timeout_ms = f->init_timeout_ms;
        fn->version.memory_mb = f->memory_mb;
        fn->version.concurrency = f->concurrency;
        fn->version.instances = f->instances ? f->instances : 1;
        fn->version.env = f->env;
        fn->version.nenv = f->nenv;
    }

    return FAAS_OK;
}


/*
 * Builds the table the deploy ends with, from the one in force and the
 * version numbers that will most likely be given, and judges it as a
 * gateway would.  A later change could still conflict: each generation
 * written is judged again.
 */

static int
faasctl_deploy_check(faasctl_t *ctl, faasctl_deploy_t *d)
{
    int              rc;
    char             key[FAAS_KEY_MAX], source[FAAS_KEY_MAX + 32];
    size_t           i;
    uint64_t         g, seq;
    redisReply      *r;
    faas_table_t    *cur;
    faasctl_fn_t    *fn;
    faasctl_view_t   next;

    for (i = 0; i < d->n; i++) {
        fn = &d->fns[i];

        if (faas_key_seq(key, sizeof(key), ctl->prefix, fn->mf->name) == 0) {
            return faasctl_prefix_error(ctl);
        }

        r = faasctl_command(ctl, key, "GET %s", key);
        if (r == NULL) {
            return FAAS_ERROR;
        }

        seq = 0;

        if (r->type == REDIS_REPLY_STRING) {
            seq = strtoull(r->str, NULL, 10);
        }

        freeReplyObject(r);

        snprintf(fn->name, sizeof(fn->name), "v%" PRIu64, seq + 1);
        snprintf(fn->dir, sizeof(fn->dir), "/%s/%s", fn->mf->name, fn->name);
    }

    if (faasctl_table_read(ctl, 0, &g, &cur) != FAAS_OK) {
        return FAAS_ERROR;
    }

    if (faas_key_table(key, sizeof(key), ctl->prefix, g + 1) == 0) {
        faas_table_free(cur);
        return faasctl_prefix_error(ctl);
    }

    if (faasctl_view_init(&next, cur, g + 1) != FAAS_OK) {
        faas_table_free(cur);
        return FAAS_ERROR;
    }

    /* --stage ends with the new versions beside the ones in force */

    d->step = d->stage ? FAASCTL_ADD : FAASCTL_CHECK;
    d->checking = 1;

    rc = faasctl_deploy_build(ctl, cur, &next, d);

    d->checking = 0;

    snprintf(source, sizeof(source), "the new table (%s)", key);

    if (faasctl_judge(&next, cur, rc, source) != FAAS_OK) {
        return FAAS_ERROR;
    }

    for (i = 0; i < d->n; i++) {
        d->fns[i].name[0] = '\0';
        d->fns[i].dir[0] = '\0';
    }

    return FAAS_OK;
}


/*
 * A new version: its number (INCR P:seq:FN, skipping numbers whose
 * record or directory exists), its code in the store, its record and its
 * place in the history.
 */

static int
faasctl_deploy_version(faasctl_t *ctl, faasctl_fn_t *fn, const char *real,
    const char *src)
{
    int              rc;
    char            *json;
    char             seq[FAAS_KEY_MAX], key[FAAS_KEY_MAX];
    char             versions[FAAS_KEY_MAX];
    unsigned         try;
    uint64_t         now;
    redisReply      *r;
    const char      *name;

    name = fn->mf->name;

    if (faas_key_seq(seq, sizeof(seq), ctl->prefix, name) == 0
        || faas_key_versions(versions, sizeof(versions), ctl->prefix, name)
           == 0)
    {
        return faasctl_prefix_error(ctl);
    }

    if (faasctl_store_copy(real, name, src, src, &fn->tmp) != FAAS_OK) {
        return FAAS_ERROR;
    }

    for (try = 0; try < FAASCTL_VERSION_TRIES; try++) {

        r = faasctl_command(ctl, seq, "INCR %s", seq);
        if (r == NULL) {
            return FAAS_ERROR;
        }

        if (r->type != REDIS_REPLY_INTEGER || r->integer <= 0) {
            faasctl_error("%s: not a version counter", seq);
            freeReplyObject(r);
            return FAAS_ERROR;
        }

        snprintf(fn->name, sizeof(fn->name), "v%lld", r->integer);
        freeReplyObject(r);

        if (faas_key_version(key, sizeof(key), ctl->prefix, name, fn->name)
            == 0)
        {
            return faasctl_prefix_error(ctl);
        }

        r = faasctl_command(ctl, key, "EXISTS %s", key);
        if (r == NULL) {
            return FAAS_ERROR;
        }

        rc = (r->type == REDIS_REPLY_INTEGER && r->integer == 0);
        freeReplyObject(r);

        if (!rc) {
            continue;
        }

        rc = faasctl_store_commit(fn->tmp, real, name, fn->name, fn->dir,
                                  sizeof(fn->dir));
        if (rc == FAAS_AGAIN) {
            continue;
        }

        if (rc != FAAS_OK) {
            return FAAS_ERROR;
        }

        free(fn->tmp);
        fn->tmp = NULL;

        break;
    }

    if (fn->tmp) {
        faasctl_error("%s: no free version number after %d tries (the "
                      "store holds them all?)", seq, FAASCTL_VERSION_TRIES);
        return FAAS_ERROR;
    }

    now = faasctl_now_ms();

    json = faas_version_serialize(name, &fn->version, fn->routes,
                                  fn->nroutes, now);
    if (json == NULL) {
        faasctl_error("out of memory");
        return FAAS_ERROR;
    }

    r = faasctl_command(ctl, key, "SET %s %s", key, json);
    free(json);

    if (r == NULL) {
        return FAAS_ERROR;
    }

    freeReplyObject(r);

    r = faasctl_command(ctl, versions, "ZADD %s %" PRIu64 " %s", versions,
                        now, fn->name);
    if (r == NULL) {
        return FAAS_ERROR;
    }

    freeReplyObject(r);

    return FAAS_OK;
}


static int
faasctl_deploy_build(faasctl_t *ctl, const faas_table_t *current,
    faasctl_view_t *next, void *data)
{
    int                     changed;
    char                    note[FAAS_VERSION_NAME_MAX + 32];
    size_t                  i, k;
    faasctl_fn_t           *fn;
    faasctl_deploy_t       *d;
    faas_table_function_t  *f;

    (void) current;

    d = data;
    changed = 0;

    for (i = 0; i < d->n; i++) {
        fn = &d->fns[i];
        f = faasctl_view_find(next, fn->mf->name);

        if (d->step == FAASCTL_ROLLBACK) {
            if (fn->name[0] == '\0') {
                continue;
            }

            if (fn->pushed) {
                switch (faasctl_deploy_unstage(ctl, next, fn)) {
                case FAAS_OK:
                    changed = 1;
                    break;
                case FAAS_ERROR:
                    return FAAS_ERROR;
                }
            }

            if (f == NULL) {
                continue;
            }

            if (f->active && strcmp(f->active->name, fn->name) == 0) {
                /* a function new with this deploy: it leaves whole */
                if (f->nversions == 1 && f->nroutes == 0) {
                    faasctl_view_remove(next, fn->mf->name);
                    changed = 1;
                }

                continue;
            }

            for (k = 0; k < f->nversions; k++) {
                if (strcmp(f->versions[k].name, fn->name) == 0) {
                    if (faasctl_view_versions(next, f, NULL, fn->name, NULL,
                                              NULL)
                        != FAAS_OK)
                    {
                        return FAAS_ERROR;
                    }

                    changed = 1;
                    break;
                }
            }

            continue;
        }

        if (d->step == FAASCTL_ADD && !d->checking) {
            /* what a rollback of this deploy goes back to */

            free(fn->before);

            fn->before = faasctl_view_entry(f);
            if (fn->before == NULL) {
                return FAAS_ERROR;
            }
        }

        if (faasctl_deploy_entry(ctl, next, d, fn, f) != FAAS_OK) {
            return FAAS_ERROR;
        }

        changed = 1;

        if (d->checking
            || (d->step == FAASCTL_ADD && !d->stage)
            || d->step == FAASCTL_CHECK)
        {
            continue;
        }

        /* the generation that ends the deploy keeps what it replaced */

        snprintf(note, sizeof(note), "deploy %s%s", fn->name,
                 d->stage ? " --stage" : "");

        if (faasctl_view_history(next, fn->mf->name, note, fn->before, 0,
                                 d->stage ? &fn->pushed : NULL)
            != FAAS_OK)
        {
            return FAAS_ERROR;
        }
    }

    return changed ? FAAS_OK : FAASCTL_UNCHANGED;
}


/*
 * The entry of one deployed function in the table of a step: with
 * FAASCTL_ADD the new version joins the versions kept warm; with
 * FAASCTL_CHECK and FAASCTL_ACTIVATE it replaces the active one and the
 * versions a release policy named, takes its routes, and the policy
 * goes: the deploy ends a gray release.  Versions that are only staged
 * stay.
 */

static int
faasctl_deploy_entry(faasctl_t *ctl, faasctl_view_t *next,
    faasctl_deploy_t *d, faasctl_fn_t *fn, faas_table_function_t *f)
{
    size_t                   k, n;
    const char              *name, *old;
    faas_table_function_t    entry;
    const faas_version_t   **keep;

    (void) ctl;

    if (f == NULL) {
        memset(&entry, 0, sizeof(faas_table_function_t));
        entry.name = (char *) fn->mf->name;
        entry.versions = &fn->version;
        entry.nversions = 1;
        entry.active = &fn->version;

        if (d->step != FAASCTL_ADD) {
            entry.routes = fn->routes;
            entry.nroutes = fn->nroutes;
        }

        return faasctl_view_put(next, &entry);
    }

    if (d->step == FAASCTL_ADD) {
        return faasctl_view_versions(next, f, &fn->version, NULL, NULL,
                                     NULL);
    }

    keep = faasctl_view_alloc(next,
                              (f->nversions + 1) * sizeof(faas_version_t *));
    if (keep == NULL) {
        return FAAS_ERROR;
    }

    old = f->active ? f->active->name : NULL;
    n = 0;

    for (k = 0; k < f->nversions; k++) {
        name = f->versions[k].name;

        if ((old && strcmp(name, old) == 0)
            || strcmp(name, fn->name) == 0
            || faas_release_names(f->release, name))
        {
            continue;
        }

        keep[n++] = &f->versions[k];
    }

    keep[n++] = &fn->version;

    if (faasctl_view_set_versions(next, f, keep, n, fn->name) != FAAS_OK) {
        return FAAS_ERROR;
    }

    f->routes = fn->routes;
    f->nroutes = fn->nroutes;
    f->release = NULL;

    return FAAS_OK;
}


/*
 * A --stage whose versions did not come up: its history entry leaves
 * with them, if it is still the newest.  FAAS_OK when it goes,
 * FAASCTL_UNCHANGED when it is not there.
 */

static int
faasctl_deploy_unstage(faasctl_t *ctl, faasctl_view_t *next,
    faasctl_fn_t *fn)
{
    int   rc;
    char  key[FAAS_KEY_MAX];

    /* a change made in between makes the EXEC fail, and this is redone */

    rc = faasctl_history_watch(ctl, fn->mf->name, fn->pushed, key,
                               sizeof(key));
    if (rc != FAAS_OK) {
        return rc;
    }

    return faasctl_view_history(next, fn->mf->name, NULL, NULL, 1, NULL);
}


static int
faasctl_deploy_wait(faasctl_t *ctl, faasctl_deploy_t *d)
{
    int              rc;
    size_t           i;
    faasctl_warm_t  *warm;

    warm = calloc(d->n, sizeof(faasctl_warm_t));
    if (warm == NULL) {
        faasctl_error("out of memory");
        return FAAS_ERROR;
    }

    for (i = 0; i < d->n; i++) {
        warm[i].function = d->fns[i].mf->name;
        warm[i].version = d->fns[i].name;
        warm[i].instances = d->fns[i].version.instances;
    }

    rc = faasctl_wait(ctl, warm, d->n);

    free(warm);

    return rc;
}


/* a generation without the new versions: the table is the old one again */

static int
faasctl_deploy_rollback(faasctl_t *ctl, faasctl_deploy_t *d)
{
    int       rc;
    uint64_t  g;

    if (ctl->ctx == NULL && faasctl_connect(ctl) != FAAS_OK) {
        faasctl_error("the new versions are still in the table: run the "
                      "deploy again, or faasctl rm");
        return FAAS_ERROR;
    }

    d->step = FAASCTL_ROLLBACK;

    rc = faasctl_switch(ctl, faasctl_deploy_build, d, &g);

    if (rc == FAAS_ERROR) {
        faasctl_error("the new versions are still in the table: run the "
                      "deploy again, or faasctl rm");
    }

    return rc;
}


static int
faasctl_deploy_print(faasctl_t *ctl, faasctl_deploy_t *d,
    uint64_t generation)
{
    size_t         i;
    cJSON         *root, *list, *item;
    faasctl_fn_t  *fn;

    if (!ctl->json) {
        for (i = 0; i < d->n; i++) {
            printf("%s %s%s\n", d->fns[i].mf->name, d->fns[i].name,
                   d->stage ? " (staged)" : "");
        }

        return 0;
    }

    root = cJSON_CreateObject();
    list = cJSON_AddArrayToObject(root, "deployed");

    if (list == NULL) {
        cJSON_Delete(root);
        return faasctl_json_print(NULL);
    }

    for (i = 0; i < d->n; i++) {
        fn = &d->fns[i];

        item = cJSON_CreateObject();
        if (item == NULL) {
            cJSON_Delete(root);
            return faasctl_json_print(NULL);
        }

        cJSON_AddItemToArray(list, item);

        if (cJSON_AddStringToObject(item, "function", fn->mf->name) == NULL
            || cJSON_AddStringToObject(item, "version", fn->name) == NULL
            || cJSON_AddNumberToObject(item, "routes", (double) fn->nroutes)
               == NULL
            || (d->stage && cJSON_AddTrueToObject(item, "staged") == NULL))
        {
            cJSON_Delete(root);
            return faasctl_json_print(NULL);
        }
    }

    if (cJSON_AddNumberToObject(root, "generation", (double) generation)
        == NULL)
    {
        cJSON_Delete(root);
        return faasctl_json_print(NULL);
    }

    return faasctl_json_print(root);
}


static void
faasctl_deploy_free(faasctl_deploy_t *d)
{
    size_t  i;

    for (i = 0; i < d->n; i++) {
        if (d->fns[i].tmp) {
            faasctl_store_discard(d->fns[i].tmp);
            free(d->fns[i].tmp);
        }

        free(d->fns[i].routes);
        free(d->fns[i].before);
        free(d->fns[i].pushed);
    }

    free(d->fns);

    if (d->manifest) {
        faas_manifest_free(d->manifest);
    }
}


int
faasctl_rm(faasctl_t *ctl, int argc, char **argv)
{
    int       rc;
    cJSON    *root;
    uint64_t  g;

    rc = faasctl_function_args("rm", argc, argv);
    if (rc != 0) {
        return rc;
    }

    rc = faasctl_switch(ctl, faasctl_rm_build, argv[0], &g);

    if (rc == FAASCTL_UNCHANGED) {
        faasctl_error("no function \"%s\" in the table (generation %" PRIu64
                      ")", argv[0], g);
        return 1;
    }

    if (rc != FAAS_OK) {
        return 1;
    }

    if (!ctl->json) {
        printf("removed %s (generation %" PRIu64 ")\n", argv[0], g);
        return 0;
    }

    root = cJSON_CreateObject();

    if (cJSON_AddStringToObject(root, "removed", argv[0]) == NULL
        || cJSON_AddNumberToObject(root, "generation", (double) g) == NULL)
    {
        cJSON_Delete(root);
        root = NULL;
    }

    return faasctl_json_print(root);
}


/* the entry removed is kept in the history: a rollback brings it back */

static int
faasctl_rm_build(faasctl_t *ctl, const faas_table_t *current,
    faasctl_view_t *next, void *data)
{
    int                     rc;
    char                   *entry;
    faas_table_function_t  *f;

    (void) ctl;
    (void) current;

    f = faasctl_view_find(next, data);
    if (f == NULL) {
        return FAASCTL_UNCHANGED;
    }

    entry = faasctl_view_entry(f);
    if (entry == NULL) {
        return FAAS_ERROR;
    }

    rc = faasctl_view_history(next, data, "rm", entry, 0, NULL);
    free(entry);

    if (rc != FAAS_OK) {
        return FAAS_ERROR;
    }

    return faasctl_view_remove(next, data);
}
