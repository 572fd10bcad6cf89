/*
 * Copyright (C) ngx_faas authors
 *
 * Reading a routing table or a version record (faas_table.h): cJSON reads
 * the text; the tree is then checked and copied into one arena, so that
 * an error anywhere frees everything with one call and a table is freed
 * in a few calls, whatever its size.
 */


#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "faas_json.h"
#include "faas_table_impl.h"


#define FAAS_DEFAULT_HANDLER   "index.handler"


/* a reader's state: where it is, for messages, and the arena it fills */

typedef struct {
    faas_json_t     j;
    faas_arena_t   *pool;
    faas_arena_t    tree;        /* the parsed document: freed whole */
} faas_jctx_t;


static int faas_json_read(faas_jctx_t *ctx, const char *json, size_t len,
    cJSON **root);
static int faas_read_table(faas_jctx_t *ctx, cJSON *root, faas_table_t *t);
static int faas_read_functions(faas_jctx_t *ctx, cJSON *node,
    faas_table_t *t);
static int faas_read_function(faas_jctx_t *ctx, cJSON *node,
    faas_table_function_t *fn);
static int faas_read_versions(faas_jctx_t *ctx, cJSON *node,
    faas_table_function_t *fn);
static int faas_read_release(faas_jctx_t *ctx, cJSON *node,
    faas_table_function_t *fn);
static int faas_read_version(faas_jctx_t *ctx, cJSON *node,
    faas_version_t *v, cJSON **rest, const char **names);
static int faas_read_routes(faas_jctx_t *ctx, cJSON *node,
    faas_table_route_t **routes, size_t *nroutes);
static int faas_read_route(faas_jctx_t *ctx, cJSON *node,
    faas_table_route_t *route);
static int faas_read_methods(faas_jctx_t *ctx, cJSON *node,
    unsigned *methods);
static int faas_read_env(faas_jctx_t *ctx, cJSON *node, faas_version_t *v);
static int faas_env_cmp(const void *one, const void *two);
static int faas_read_dir(faas_jctx_t *ctx, cJSON *node, char **out);
static int faas_read_handler(faas_jctx_t *ctx, cJSON *node, char **out);
static int faas_read_string(faas_jctx_t *ctx, cJSON *node, char **out);
static int faas_read_epoch(faas_jctx_t *ctx, cJSON *node, faas_table_t *t);
static int faas_index_functions(faas_jctx_t *ctx, faas_table_t *t);
static int faas_read_name(faas_jctx_t *ctx, cJSON *node, int version,
    char **out);
static int faas_copy_name(faas_jctx_t *ctx, const char *name, int version,
    char **out);
static int faas_read_uint(faas_jctx_t *ctx, cJSON *node, unsigned min,
    unsigned max, unsigned *out);
static int faas_read_u64(faas_jctx_t *ctx, cJSON *node, uint64_t min,
    uint64_t max, uint64_t *out);

static int faas_function_cmp(const void *one, const void *two);

static int faas_nomem(faas_jctx_t *ctx);


/* the members each object may have; any other is ignored */

enum { FAAS_T_GENERATION, FAAS_T_EPOCH, FAAS_T_FUNCTIONS };

static const char  *faas_table_keys[] = {
    "generation", "epoch", "functions", NULL
};

enum { FAAS_F_ACTIVE, FAAS_F_VERSIONS, FAAS_F_ROUTES, FAAS_F_RELEASE };

static const char  *faas_function_keys[] = {
    "active", "versions", "routes", "release", NULL
};

enum { FAAS_R_PATH, FAAS_R_METHODS };

static const char  *faas_route_keys[] = { "path", "methods", NULL };

enum {
    FAAS_V_DIR, FAAS_V_HANDLER, FAAS_V_INITIALIZER, FAAS_V_RUNTIME,
    FAAS_V_TIMEOUT, FAAS_V_INIT_TIMEOUT, FAAS_V_MEMORY, FAAS_V_CONCURRENCY,
    FAAS_V_INSTANCES, FAAS_V_ENV,
    /* a version record's own */
    FAAS_V_FUNCTION, FAAS_V_VERSION, FAAS_V_DEPLOYED_AT, FAAS_V_ROUTES,
    FAAS_V_N
};

static const char  *faas_version_keys[] = {
    "dir", "handler", "initializer", "runtime", "timeout_ms",
    "init_timeout_ms", "memory_mb", "concurrency", "instances", "env", NULL
};

static const char  *faas_record_keys[] = {
    "dir", "handler", "initializer", "runtime", "timeout_ms",
    "init_timeout_ms", "memory_mb", "concurrency", "instances", "env",
    "function", "version", "deployed_at", "routes", NULL
};

int
faas_table_parse(const char *source, const char *json, size_t len,
    faas_table_t **out, faas_error_t *err)
{
    return faas_table_parse_router(source, json, len, out, NULL, err);
}


int
faas_table_parse_router(const char *source, const char *json, size_t len,
    faas_table_t **out, faas_router_t **router, faas_error_t *err)
{
    int                 rc;
    cJSON              *root;
    faas_jctx_t         ctx;
    faas_table_impl_t  *impl;

    *out = NULL;

    if (router) {
        *router = NULL;
    }

    if (source == NULL) {
        source = "(table)";
    }

    memset(&ctx, 0, sizeof(faas_jctx_t));

    ctx.j.source = source;
    ctx.j.err = err;

    if (faas_json_read(&ctx, json, len, &root) != FAAS_OK) {
        return FAAS_ERROR;
    }

    impl = calloc(1, sizeof(faas_table_impl_t));
    if (impl == NULL) {
        faas_arena_free(&ctx.tree);
        return faas_nomem(&ctx);
    }

    ctx.pool = &impl->arena;

    rc = faas_read_table(&ctx, root, &impl->table);

    faas_arena_free(&ctx.tree);

    /* routes of different functions meet only in a router of them all */

    if (rc == FAAS_OK) {
        rc = faas_routes_check(&impl->table, NULL, NULL, 0, source, router,
                               err);
    }

    if (rc != FAAS_OK) {
        faas_table_free(&impl->table);
        return FAAS_ERROR;
    }

    *out = &impl->table;

    return FAAS_OK;
}


int
faas_version_parse(const char *source, const char *json, size_t len,
    faas_version_t **version, faas_table_route_t **routes, size_t *nroutes,
    faas_error_t *err)
{
    int                   rc;
    char                 *function;
    cJSON                *root, *found[FAAS_V_N];
    uint64_t              deployed;
    faas_jctx_t           ctx;
    faas_version_impl_t  *impl;

    *version = NULL;
    *routes = NULL;
    *nroutes = 0;

    if (source == NULL) {
        source = "(version)";
    }

    memset(&ctx, 0, sizeof(faas_jctx_t));

    ctx.j.source = source;
    ctx.j.err = err;

    if (faas_json_read(&ctx, json, len, &root) != FAAS_OK) {
        return FAAS_ERROR;
    }

    impl = calloc(1, sizeof(faas_version_impl_t));
    if (impl == NULL) {
        faas_arena_free(&ctx.tree);
        return faas_nomem(&ctx);
    }

    ctx.pool = &impl->arena;
    function = NULL;

    rc = faas_read_version(&ctx, root, &impl->version, found,
                           faas_record_keys);
    if (rc != FAAS_OK) {
        goto done;
    }

    if (found[FAAS_V_FUNCTION] == NULL) {
        rc = faas_json_fail(&ctx.j, "\"function\" is missing");
        goto done;
    }

    faas_json_key(&ctx.j, "function");

    rc = faas_read_name(&ctx, found[FAAS_V_FUNCTION], 0, &function);
    if (rc != FAAS_OK) {
        goto done;
    }

    faas_json_pop(&ctx.j, 0);

    if (found[FAAS_V_VERSION] == NULL) {
        rc = faas_json_fail(&ctx.j, "\"version\" is missing");
        goto done;
    }

    faas_json_key(&ctx.j, "version");

    rc = faas_read_name(&ctx, found[FAAS_V_VERSION], 1,
                        &impl->version.name);
    if (rc != FAAS_OK) {
        goto done;
    }

    faas_json_pop(&ctx.j, 0);
    faas_json_key(&ctx.j, "deployed_at");

    if (!faas_json_is_null(found[FAAS_V_DEPLOYED_AT])) {
        rc = faas_read_u64(&ctx, found[FAAS_V_DEPLOYED_AT], 0,
                           FAAS_TABLE_GENERATION_MAX, &deployed);
        if (rc != FAAS_OK) {
            goto done;
        }
    }

    faas_json_pop(&ctx.j, 0);
    faas_json_key(&ctx.j, "routes");

    rc = faas_read_routes(&ctx, found[FAAS_V_ROUTES], routes, nroutes);
    if (rc != FAAS_OK) {
        goto done;
    }

    faas_json_pop(&ctx.j, 0);

    rc = faas_routes_check(NULL, function, *routes, *nroutes, source, NULL,
                           err);

done:

    faas_arena_free(&ctx.tree);

    if (rc != FAAS_OK) {
        *routes = NULL;
        *nroutes = 0;
        faas_version_free(&impl->version, NULL, 0);
        return FAAS_ERROR;
    }

    *version = &impl->version;

    return FAAS_OK;
}


/* reading */

static int
faas_json_read(faas_jctx_t *ctx, const char *json, size_t len, cJSON **root)
{
    size_t         off, i;
    const char    *end;
    faas_arena_t  *prev;
    char           near[FAAS_QUOTE_SIZE];

    *root = NULL;

    if (json == NULL) {
        json = "";
        len = 0;
    }

    if (len > FAAS_TABLE_MAX_SIZE) {
        return faas_json_fail(&ctx->j,
                              "is larger than %d bytes (64 MiB): %zu bytes",
                              FAAS_TABLE_MAX_SIZE, len);
    }

    for (i = 0; i < len; i++) {
        if (json[i] != ' ' && json[i] != '\t' && json[i] != '\n'
            && json[i] != '\r')
        {
            break;
        }
    }

    if (i == len) {
        return faas_json_fail(&ctx->j, "is empty: expected a JSON object");
    }

    end = NULL;

    /*
     * The tree is made in an arena of its own and freed whole: a table of
     * 100k routes is millions of small nodes, and malloc() and free() of
     * each were a quarter of the time a gateway takes to install it.
     */

    prev = faas_json_arena(&ctx->tree);

    *root = cJSON_ParseWithLengthOpts(json, len, &end, 0);

    (void) faas_json_arena(prev);

    if (*root != NULL) {

        /* cJSON stops after the value: only white space may follow */

        for (off = end - json; off < len; off++) {
            if (json[off] != ' ' && json[off] != '\t' && json[off] != '\n'
                && json[off] != '\r')
            {
                faas_arena_free(&ctx->tree);
                *root = NULL;

                faas_quote(json + off, len - off, near, sizeof(near));

                return faas_json_fail(&ctx->j,
                                      "invalid JSON at byte %zu: unexpected "
                                      "text after the value: %s", off, near);
            }
        }

        return FAAS_OK;
    }

    /* what cJSON made of the start of it */
    faas_arena_free(&ctx->tree);

    if (end == NULL || end < json || end > json + len) {
        return faas_json_fail(&ctx->j, "invalid JSON");
    }

    /* cJSON puts an error past the end on the last byte */

    off = end - json;

    faas_quote(json + off, len - off, near, sizeof(near));

    return faas_json_fail(&ctx->j,
                          "invalid JSON at byte %zu, near %s", off, near);
}


static int
faas_read_table(faas_jctx_t *ctx, cJSON *root, faas_table_t *t)
{
    cJSON  *found[3];
    char    got[FAAS_QUOTE_SIZE];

    if (!cJSON_IsObject(root)) {
        return faas_json_fail(&ctx->j,
                              "expected an object at the top of the table, "
                              "got %s",
                              faas_json_describe(root, got, sizeof(got)));
    }

    if (faas_json_members(&ctx->j, root, faas_table_keys, found, 0)
        != FAAS_OK)
    {
        return FAAS_ERROR;
    }

    if (found[FAAS_T_GENERATION] == NULL) {
        return faas_json_fail(&ctx->j, "\"generation\" is missing");
    }

    faas_json_key(&ctx->j, "generation");

    if (faas_read_u64(ctx, found[FAAS_T_GENERATION], 1,
                      FAAS_TABLE_GENERATION_MAX, &t->generation)
        != FAAS_OK)
    {
        return FAAS_ERROR;
    }

    faas_json_pop(&ctx->j, 0);

    if (faas_read_epoch(ctx, found[FAAS_T_EPOCH], t) != FAAS_OK) {
        return FAAS_ERROR;
    }

    if (found[FAAS_T_FUNCTIONS] == NULL) {
        return faas_json_fail(&ctx->j, "\"functions\" is missing");
    }

    return faas_read_functions(ctx, found[FAAS_T_FUNCTIONS], t);
}


static int
faas_read_functions(faas_jctx_t *ctx, cJSON *node, faas_table_t *t)
{
    int                     n;
    size_t                  i, kp;
    cJSON                  *item;
    faas_table_function_t  *fn;
    char                    got[FAAS_QUOTE_SIZE];

    faas_json_key(&ctx->j, "functions");

    if (!cJSON_IsObject(node)) {
        return faas_json_fail(&ctx->j, "expected an object, got %s",
                              faas_json_describe(node, got, sizeof(got)));
    }

    n = cJSON_GetArraySize(node);

    if (n > FAAS_TABLE_FUNCTIONS_MAX) {
        return faas_json_fail(&ctx->j, "more than %d functions",
                              FAAS_TABLE_FUNCTIONS_MAX);
    }

    if (n == 0) {
        return FAAS_OK;
    }

    t->functions = faas_arena_alloc(ctx->pool,
                                    n * sizeof(faas_table_function_t));
    if (t->functions == NULL) {
        return faas_nomem(ctx);
    }

    i = 0;

    cJSON_ArrayForEach(item, node) {

        fn = &t->functions[i];

        /* counted first: a failure frees the policies read so far */

        t->nfunctions = i + 1;

        if (faas_copy_name(ctx, item->string, 0, &fn->name) != FAAS_OK) {
            return FAAS_ERROR;
        }

        kp = faas_json_key(&ctx->j, item->string);

        if (faas_read_function(ctx, item, fn) != FAAS_OK) {
            return FAAS_ERROR;
        }

        faas_json_pop(&ctx->j, kp);

        i++;
    }

    t->nfunctions = i;

    qsort(t->functions, t->nfunctions, sizeof(faas_table_function_t),
          faas_function_cmp);

    for (i = 1; i < t->nfunctions; i++) {
        if (strcmp(t->functions[i - 1].name, t->functions[i].name) == 0) {
            return faas_json_fail(&ctx->j, "function \"%s\" is there twice",
                                  t->functions[i].name);
        }
    }

    if (faas_index_functions(ctx, t) != FAAS_OK) {
        return FAAS_ERROR;
    }

    faas_json_pop(&ctx->j, 0);

    return FAAS_OK;
}


/* at most half full: a miss ends at an empty slot in a probe or two */

static int
faas_index_functions(faas_jctx_t *ctx, faas_table_t *t)
{
    size_t    i, n;
    uint32_t  h, mask;

    if (t->nfunctions == 0) {
        return FAAS_OK;
    }

    for (n = 8; n < 2 * t->nfunctions; n *= 2) { /* void */ }

    t->by_name = faas_arena_alloc(ctx->pool, n * sizeof(uint32_t));
    if (t->by_name == NULL) {
        return faas_nomem(ctx);
    }

    memset(t->by_name, 0, n * sizeof(uint32_t));

    mask = (uint32_t) (n - 1);
    t->by_name_mask = mask;

    for (i = 0; i < t->nfunctions; i++) {
        for (h = faas_name_hash(t->functions[i].name) & mask;
             t->by_name[h];
             h = (h + 1) & mask)
        { /* void */ }

        t->by_name[h] = (uint32_t) i + 1;
    }

    return FAAS_OK;
}


/* FNV-1a, then MurmurHash3's finalizer to spread it over the low bits */

uint32_t
faas_name_hash(const char *name)
{
    return (uint32_t) faas_mix64(faas_fnv1a(FAAS_FNV_BASIS, name,
                                            strlen(name)));
}


static int
faas_function_cmp(const void *one, const void *two)
{
    const faas_table_function_t  *a, *b;

    a = one;
    b = two;

    return strcmp(a->name, b->name);
}


static int
faas_read_function(faas_jctx_t *ctx, cJSON *node, faas_table_function_t *fn)
{
    size_t   i, kp;
    cJSON   *found[4], *active;
    char     got[FAAS_QUOTE_SIZE];

    if (!cJSON_IsObject(node)) {
        return faas_json_fail(&ctx->j, "expected an object, got %s",
                              faas_json_describe(node, got, sizeof(got)));
    }

    if (faas_json_members(&ctx->j, node, faas_function_keys, found, 0)
        != FAAS_OK)
    {
        return FAAS_ERROR;
    }

    if (found[FAAS_F_VERSIONS] == NULL) {
        return faas_json_fail(&ctx->j, "\"versions\" is missing");
    }

    if (faas_read_versions(ctx, found[FAAS_F_VERSIONS], fn) != FAAS_OK) {
        return FAAS_ERROR;
    }

    active = found[FAAS_F_ACTIVE];

    if (active == NULL) {
        return faas_json_fail(&ctx->j, "\"active\" is missing");
    }

    kp = faas_json_key(&ctx->j, "active");

    if (!cJSON_IsString(active)) {
        return faas_json_fail(&ctx->j,
                              "expected the name of one of the versions, "
                              "got %s",
                              faas_json_describe(active, got, sizeof(got)));
    }

    for (i = 0; i < fn->nversions; i++) {
        if (strcmp(fn->versions[i].name, active->valuestring) == 0) {
            fn->active = &fn->versions[i];
            break;
        }
    }

    if (fn->active == NULL) {
        return faas_json_fail(&ctx->j, "%s is not one of the versions",
                              faas_json_describe(active, got, sizeof(got)));
    }

    faas_json_pop(&ctx->j, kp);

    kp = faas_json_key(&ctx->j, "routes");

    if (faas_read_routes(ctx, found[FAAS_F_ROUTES], &fn->routes,
                         &fn->nroutes)
        != FAAS_OK)
    {
        return FAAS_ERROR;
    }

    faas_json_pop(&ctx->j, kp);

    return faas_read_release(ctx, found[FAAS_F_RELEASE], fn);
}


/*
 * The policy is compiled by the engine (faas_release.c) with the
 * function's versions, outside the arena: regcomp() allocates its own.
 * Its messages carry their place; the source is added here.
 */

static int
faas_read_release(faas_jctx_t *ctx, cJSON *node, faas_table_function_t *fn)
{
    size_t         i;
    faas_error_t   e;
    const char    *names[FAAS_TABLE_VERSIONS_MAX];
    char           path[FAAS_FUNCTION_NAME_MAX + 32];

    if (faas_json_is_null(node)) {
        return FAAS_OK;
    }

    for (i = 0; i < fn->nversions; i++) {
        names[i] = fn->versions[i].name;
    }

    snprintf(path, sizeof(path), "functions.%s.release", fn->name);

    if (faas_release_from_json(node, names, fn->nversions, path,
                               &fn->release, &e)
        != FAAS_OK)
    {
        faas_error_set(ctx->j.err, ctx->j.source, 0, 0, "%s", e.msg);
        return FAAS_ERROR;
    }

    return FAAS_OK;
}


static int
faas_read_versions(faas_jctx_t *ctx, cJSON *node, faas_table_function_t *fn)
{
    int              n;
    size_t           i, j, kp, vp;
    cJSON           *item, *found[FAAS_V_N];
    faas_version_t  *v;
    char             got[FAAS_QUOTE_SIZE];

    kp = faas_json_key(&ctx->j, "versions");

    if (!cJSON_IsObject(node)) {
        return faas_json_fail(&ctx->j, "expected an object, got %s",
                              faas_json_describe(node, got, sizeof(got)));
    }

    n = cJSON_GetArraySize(node);

    if (n < 1 || n > FAAS_TABLE_VERSIONS_MAX) {
        return faas_json_fail(&ctx->j, "expected 1 to %d versions, got %d",
                              FAAS_TABLE_VERSIONS_MAX, n);
    }

    fn->versions = faas_arena_alloc(ctx->pool, n * sizeof(faas_version_t));
    if (fn->versions == NULL) {
        return faas_nomem(ctx);
    }

    i = 0;

    cJSON_ArrayForEach(item, node) {

        v = &fn->versions[i];

        if (faas_copy_name(ctx, item->string, 1, &v->name) != FAAS_OK) {
            return FAAS_ERROR;
        }

        for (j = 0; j < i; j++) {
            if (strcmp(fn->versions[j].name, item->string) == 0) {
                return faas_json_fail(&ctx->j, "version \"%s\" is there twice",
                                      item->string);
            }
        }

        vp = faas_json_key(&ctx->j, item->string);

        if (faas_read_version(ctx, item, v, found, faas_version_keys)
            != FAAS_OK)
        {
            return FAAS_ERROR;
        }

        faas_json_pop(&ctx->j, vp);

        i++;
    }

    fn->nversions = i;

    faas_json_pop(&ctx->j, kp);

    return FAAS_OK;
}


/*
 * The fields of a version, in a table's "versions" or in a version
 * record; "found" gets the members named in "names" (a record's own
 * ones included).
 */

static int
faas_read_version(faas_jctx_t *ctx, cJSON *node, faas_version_t *v,
    cJSON **found, const char **names)
{
    int      rc;
    size_t   kp;
    cJSON   *item;
    char     got[FAAS_QUOTE_SIZE];

    if (!cJSON_IsObject(node)) {
        return faas_json_fail(&ctx->j, "expected an object, got %s",
                              faas_json_describe(node, got, sizeof(got)));
    }

    memset(found, 0, FAAS_V_N * sizeof(cJSON *));

    if (faas_json_members(&ctx->j, node, names, found, 0)
        != FAAS_OK)
    {
        return FAAS_ERROR;
    }

    if (found[FAAS_V_DIR] == NULL) {
        return faas_json_fail(&ctx->j, "\"dir\" is missing");
    }

    v->instances = 1;

    for (item = node->child; item; item = item->next) {
        kp = faas_json_key(&ctx->j, item->string);

        if (item == found[FAAS_V_DIR]) {
            rc = faas_read_dir(ctx, item, &v->dir);

        } else if (item == found[FAAS_V_HANDLER]) {
            rc = faas_read_handler(ctx, item, &v->handler);

        } else if (item == found[FAAS_V_INITIALIZER]) {
            rc = faas_read_handler(ctx, item, &v->initializer);

        } else if (item == found[FAAS_V_RUNTIME]) {
            rc = faas_read_string(ctx, item, &v->runtime);

        } else if (item == found[FAAS_V_TIMEOUT]) {
            rc = faas_read_uint(ctx, item, 1, FAAS_TABLE_MS_MAX,
                                &v->timeout_ms);

        } else if (item == found[FAAS_V_INIT_TIMEOUT]) {
            rc = faas_read_uint(ctx, item, 1, FAAS_TABLE_MS_MAX,
                                &v->init_timeout_ms);

        } else if (item == found[FAAS_V_MEMORY]) {
            rc = faas_read_uint(ctx, item, 1, FAAS_MEMORY_MB_MAX,
                                &v->memory_mb);

        } else if (item == found[FAAS_V_CONCURRENCY]) {
            rc = faas_read_uint(ctx, item, 1, FAAS_CONCURRENCY_MAX,
                                &v->concurrency);

        } else if (item == found[FAAS_V_INSTANCES]) {
            rc = faas_read_uint(ctx, item, 1, FAAS_INSTANCES_MAX,
                                &v->instances);

            if (v->instances == 0) {
                v->instances = 1;
            }

        } else if (item == found[FAAS_V_ENV]) {
            rc = faas_read_env(ctx, item, v);

        } else {
            rc = FAAS_OK;
        }

        if (rc != FAAS_OK) {
            return FAAS_ERROR;
        }

        faas_json_pop(&ctx->j, kp);
    }

    if (v->handler == NULL) {
        v->handler = faas_arena_strdup(ctx->pool, FAAS_DEFAULT_HANDLER);
        if (v->handler == NULL) {
            return faas_nomem(ctx);
        }
    }

    return FAAS_OK;
}


static int
faas_read_routes(faas_jctx_t *ctx, cJSON *node, faas_table_route_t **routes,
    size_t *nroutes)
{
    int      n;
    size_t   i, kp;
    cJSON   *item;
    char     got[FAAS_QUOTE_SIZE];

    *routes = NULL;
    *nroutes = 0;

    if (faas_json_is_null(node)) {
        return FAAS_OK;
    }

    if (!cJSON_IsArray(node)) {
        return faas_json_fail(&ctx->j, "expected an array of routes, got %s",
                              faas_json_describe(node, got, sizeof(got)));
    }

    n = cJSON_GetArraySize(node);

    if (n > FAAS_TABLE_ROUTES_MAX) {
        return faas_json_fail(&ctx->j,
                              "more than %d routes", FAAS_TABLE_ROUTES_MAX);
    }

    if (n == 0) {
        return FAAS_OK;
    }

    *routes = faas_arena_alloc(ctx->pool, n * sizeof(faas_table_route_t));
    if (*routes == NULL) {
        return faas_nomem(ctx);
    }

    i = 0;

    cJSON_ArrayForEach(item, node) {
        kp = faas_json_index(&ctx->j, i);

        if (faas_read_route(ctx, item, &(*routes)[i]) != FAAS_OK) {
            return FAAS_ERROR;
        }

        faas_json_pop(&ctx->j, kp);

        i++;
    }

    *nroutes = i;

    return FAAS_OK;
}


static int
faas_read_route(faas_jctx_t *ctx, cJSON *node, faas_table_route_t *route)
{
    size_t   kp;
    cJSON   *found[2];
    char     got[FAAS_QUOTE_SIZE];

    if (!cJSON_IsObject(node)) {
        return faas_json_fail(&ctx->j, "expected an object with \"path\" and "
                              "\"methods\", got %s",
                              faas_json_describe(node, got, sizeof(got)));
    }

    if (faas_json_members(&ctx->j, node, faas_route_keys, found, 0)
        != FAAS_OK)
    {
        return FAAS_ERROR;
    }

    if (found[FAAS_R_PATH] == NULL || faas_json_is_null(found[FAAS_R_PATH])) {
        return faas_json_fail(&ctx->j, "\"path\" is missing");
    }

    kp = faas_json_key(&ctx->j, "path");

    if (faas_read_string(ctx, found[FAAS_R_PATH], &route->path) != FAAS_OK) {
        return FAAS_ERROR;
    }

    faas_json_pop(&ctx->j, kp);

    kp = faas_json_key(&ctx->j, "methods");

    if (faas_read_methods(ctx, found[FAAS_R_METHODS], &route->methods)
        != FAAS_OK)
    {
        return FAAS_ERROR;
    }

    faas_json_pop(&ctx->j, kp);

    return FAAS_OK;
}


static int
faas_read_methods(faas_jctx_t *ctx, cJSON *node, unsigned *methods)
{
    size_t    i, kp;
    cJSON    *item;
    unsigned  m;
    char      got[FAAS_QUOTE_SIZE];

    if (faas_json_is_null(node)) {
        *methods = FAAS_METHODS_ANY;
        return FAAS_OK;
    }

    if (!cJSON_IsArray(node)) {
        return faas_json_fail(&ctx->j,
                              "expected an array of method names, got %s",
                              faas_json_describe(node, got, sizeof(got)));
    }

    if (node->child == NULL) {
        return faas_json_fail(&ctx->j, "expected at least one method");
    }

    *methods = 0;
    i = 0;

    cJSON_ArrayForEach(item, node) {
        kp = faas_json_index(&ctx->j, i);

        m = cJSON_IsString(item)
            ? faas_method_parse(item->valuestring, strlen(item->valuestring))
            : 0;

        if (m == 0) {
            return faas_json_fail(&ctx->j,
                                  "expected one of GET HEAD POST PUT DELETE "
                                  "PATCH OPTIONS, got %s",
                                  faas_json_describe(item, got, sizeof(got)));
        }

        *methods |= m;

        faas_json_pop(&ctx->j, kp);

        i++;
    }

    return FAAS_OK;
}


static int
faas_read_env(faas_jctx_t *ctx, cJSON *node, faas_version_t *v)
{
    int          n;
    size_t       i, kp;
    cJSON       *item;
    faas_kv_t   *kv;
    const char  *keys[FAAS_TABLE_ENV_MAX];
    char         got[FAAS_QUOTE_SIZE];

    if (faas_json_is_null(node)) {
        return FAAS_OK;
    }

    if (!cJSON_IsObject(node)) {
        return faas_json_fail(&ctx->j, "expected an object of strings, got %s",
                              faas_json_describe(node, got, sizeof(got)));
    }

    n = cJSON_GetArraySize(node);

    if (n > FAAS_TABLE_ENV_MAX) {
        return faas_json_fail(&ctx->j,
                              "more than %d variables", FAAS_TABLE_ENV_MAX);
    }

    if (n == 0) {
        return FAAS_OK;
    }

    kv = faas_arena_alloc(ctx->pool, n * sizeof(faas_kv_t));
    if (kv == NULL) {
        return faas_nomem(ctx);
    }

    i = 0;

    cJSON_ArrayForEach(item, node) {

        if (item->string[0] == '\0' || strchr(item->string, '=') != NULL) {
            faas_quote(item->string, strlen(item->string), got, sizeof(got));
            return faas_json_fail(&ctx->j, "invalid variable name %s", got);
        }

        kv[i].key = faas_arena_strdup(ctx->pool, item->string);
        if (kv[i].key == NULL) {
            return faas_nomem(ctx);
        }

        kp = faas_json_key(&ctx->j, item->string);

        if (!cJSON_IsString(item)) {
            return faas_json_fail(&ctx->j, "expected a string, got %s",
                                  faas_json_describe(item, got, sizeof(got)));
        }

        kv[i].value = faas_arena_strdup(ctx->pool, item->valuestring);
        if (kv[i].value == NULL) {
            return faas_nomem(ctx);
        }

        faas_json_pop(&ctx->j, kp);

        i++;
    }

    /* sorted, so that a table of many big versions costs n log n */

    for (i = 0; i < (size_t) n; i++) {
        keys[i] = kv[i].key;
    }

    qsort(keys, n, sizeof(const char *), faas_env_cmp);

    for (i = 1; i < (size_t) n; i++) {
        if (strcmp(keys[i - 1], keys[i]) == 0) {
            faas_quote(keys[i], strlen(keys[i]), got, sizeof(got));
            return faas_json_fail(&ctx->j, "variable %s is there twice", got);
        }
    }

    v->env = kv;
    v->nenv = n;

    return FAAS_OK;
}


static int
faas_env_cmp(const void *one, const void *two)
{
    return strcmp(*(const char *const *) one, *(const char *const *) two);
}


static int
faas_read_dir(faas_jctx_t *ctx, cJSON *node, char **out)
{
    size_t       i, len, seg;
    const char  *s;
    char         got[FAAS_QUOTE_SIZE];

    if (!cJSON_IsString(node)) {
        return faas_json_fail(&ctx->j, "expected an absolute path, got %s",
                              faas_json_describe(node, got, sizeof(got)));
    }

    s = node->valuestring;
    len = strlen(s);

    faas_quote(s, len, got, sizeof(got));

    if (len > FAAS_TABLE_DIR_MAX) {
        return faas_json_fail(&ctx->j,
                              "longer than %d bytes", FAAS_TABLE_DIR_MAX);
    }

    if (s[0] != '/') {
        return faas_json_fail(&ctx->j,
                              "expected an absolute path, got %s", got);
    }

    for (i = 0; i < len; i++) {
        if ((unsigned char) s[i] < 0x20 || s[i] == 0x7f) {
            return faas_json_fail(&ctx->j,
                                  "may not hold control characters, got %s",
                                  got);
        }
    }

    for (seg = 1, i = 1; i <= len; i++) {
        if (i == len || s[i] == '/') {
            if (i - seg == 2 && s[seg] == '.' && s[seg + 1] == '.') {
                return faas_json_fail(&ctx->j,
                                      "may not hold a \"..\" segment, got %s",
                                      got);
            }

            seg = i + 1;
        }
    }

    *out = faas_arena_strdup(ctx->pool, s);

    return (*out == NULL) ? faas_nomem(ctx) : FAAS_OK;
}


static int
faas_read_handler(faas_jctx_t *ctx, cJSON *node, char **out)
{
    char  msg[200];

    if (faas_read_string(ctx, node, out) != FAAS_OK) {
        return FAAS_ERROR;
    }

    if (*out == NULL) {
        return FAAS_OK;
    }

    if (faas_handler_check(*out, strlen(*out), msg, sizeof(msg)) != FAAS_OK)
    {
        return faas_json_fail(&ctx->j, "%s", msg);
    }

    return FAAS_OK;
}


/* an optional string: null leaves *out NULL */

static int
faas_read_string(faas_jctx_t *ctx, cJSON *node, char **out)
{
    char  got[FAAS_QUOTE_SIZE];

    if (faas_json_is_null(node)) {
        *out = NULL;
        return FAAS_OK;
    }

    if (!cJSON_IsString(node)) {
        return faas_json_fail(&ctx->j, "expected a string, got %s",
                              faas_json_describe(node, got, sizeof(got)));
    }

    *out = faas_arena_strdup(ctx->pool, node->valuestring);

    return (*out == NULL) ? faas_nomem(ctx) : FAAS_OK;
}


/* optional: null or missing leaves "" */

static int
faas_read_epoch(faas_jctx_t *ctx, cJSON *node, faas_table_t *t)
{
    size_t  len;
    char    got[FAAS_QUOTE_SIZE];

    if (faas_json_is_null(node)) {
        return FAAS_OK;
    }

    faas_json_key(&ctx->j, "epoch");

    if (!cJSON_IsString(node)) {
        return faas_json_fail(&ctx->j, "expected a string, got %s",
                              faas_json_describe(node, got, sizeof(got)));
    }

    len = strlen(node->valuestring);

    if (!faas_table_epoch_valid(node->valuestring, len)) {
        faas_quote(node->valuestring, len, got, sizeof(got));
        return faas_json_fail(&ctx->j, "invalid epoch %s: use 1 to %d of "
                              "A-Z a-z 0-9", got, FAAS_TABLE_EPOCH_MAX);
    }

    memcpy(t->epoch, node->valuestring, len + 1);

    faas_json_pop(&ctx->j, 0);

    return FAAS_OK;
}


static int
faas_read_name(faas_jctx_t *ctx, cJSON *node, int version, char **out)
{
    char  got[FAAS_QUOTE_SIZE];

    if (!cJSON_IsString(node)) {
        return faas_json_fail(&ctx->j, "expected a name, got %s",
                              faas_json_describe(node, got, sizeof(got)));
    }

    return faas_copy_name(ctx, node->valuestring, version, out);
}


/* a function's or a version's name, a key or a value */

static int
faas_copy_name(faas_jctx_t *ctx, const char *name, int version, char **out)
{
    size_t  len;
    char    got[FAAS_QUOTE_SIZE];

    len = strlen(name);

    if (version && !faas_version_name_valid(name, len)) {
        faas_quote(name, len, got, sizeof(got));
        return faas_json_fail(&ctx->j,
                              "invalid version name %s: use 1 to %d of "
                              "A-Z a-z 0-9 . _ -", got, FAAS_VERSION_NAME_MAX);
    }

    if (!version && !faas_function_name_valid(name, len)) {
        faas_quote(name, len, got, sizeof(got));
        return faas_json_fail(&ctx->j,
                              "invalid function name %s: use 1 to %d of "
                              "A-Z a-z 0-9 _ -, not starting with \"-\"", got,
                              FAAS_FUNCTION_NAME_MAX);
    }

    *out = faas_arena_strndup(ctx->pool, name, len);

    return (*out == NULL) ? faas_nomem(ctx) : FAAS_OK;
}


/* an optional integer: null leaves *out 0 */

static int
faas_read_uint(faas_jctx_t *ctx, cJSON *node, unsigned min, unsigned max,
    unsigned *out)
{
    uint64_t  value;

    if (faas_json_is_null(node)) {
        *out = 0;
        return FAAS_OK;
    }

    if (faas_read_u64(ctx, node, min, max, &value) != FAAS_OK) {
        return FAAS_ERROR;
    }

    *out = (unsigned) value;

    return FAAS_OK;
}


/*
 * JSON numbers are doubles for cJSON: an integer is exact up to 2^53,
 * which bounds every maximum here.  "1.0" and "1e3" are integers.
 */

static int
faas_read_u64(faas_jctx_t *ctx, cJSON *node, uint64_t min, uint64_t max,
    uint64_t *out)
{
    double  d;
    char    got[FAAS_QUOTE_SIZE];

    *out = 0;

    if (cJSON_IsNumber(node)) {
        d = node->valuedouble;

        /* false for NaN; the bounds first, so that the cast is defined */

        if (d >= (double) min && d <= (double) max
            && d == (double) (uint64_t) d)
        {
            *out = (uint64_t) d;
            return FAAS_OK;
        }
    }

    return faas_json_fail(&ctx->j,
                          "expected an integer from %" PRIu64 " to %" PRIu64
                          ", got %s", min, max,
                          faas_json_describe(node, got, sizeof(got)));
}


static int
faas_nomem(faas_jctx_t *ctx)
{
    faas_error_set(ctx->j.err, ctx->j.source, 0, 0, "out of memory");
    return FAAS_ERROR;
}
