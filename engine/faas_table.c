/*
 * Copyright (C) ngx_faas authors
 *
 * The routing table kept in Redis: freeing, finding, routing and
 * comparing tables, the names' checks, and writing tables and version
 * records as JSON.  Reading them is faas_table_read.c's; key names and
 * Redis URLs are faas_redis.c's.
 */


#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "faas_json.h"
#include "faas_table_impl.h"


static int faas_routes_add(const faas_table_t *table, faas_router_t *router,
    const char *function, const faas_table_route_t *routes, size_t nroutes,
    void *data, const char *source, faas_error_t *err);

static cJSON *faas_json_version(cJSON *o, const faas_version_t *v);
static cJSON *faas_json_routes(const faas_table_route_t *routes,
    size_t nroutes);
static int faas_json_u64(cJSON *object, const char *name, uint64_t value);
static int faas_json_uint(cJSON *object, const char *name, unsigned value);
static int faas_json_string(cJSON *object, const char *name,
    const char *value);


void
faas_table_free(faas_table_t *table)
{
    size_t              i;
    faas_table_impl_t  *impl;

    if (table == NULL) {
        return;
    }

    /* the table is the first member of its implementation */

    impl = (faas_table_impl_t *) table;

    /* release policies are the only parts outside the arena */

    for (i = 0; i < table->nfunctions; i++) {
        faas_release_free(table->functions[i].release);
    }

    faas_arena_free(&impl->arena);
    free(impl);
}


static int
faas_str_equal(const char *a, const char *b)
{
    if (a == NULL || b == NULL) {
        return a == b;
    }

    return strcmp(a, b) == 0;
}


int
faas_version_equal(const faas_version_t *a, const faas_version_t *b)
{
    size_t  i;

    if (!faas_str_equal(a->name, b->name)
        || !faas_str_equal(a->dir, b->dir)
        || !faas_str_equal(a->handler, b->handler)
        || !faas_str_equal(a->initializer, b->initializer)
        || !faas_str_equal(a->runtime, b->runtime)
        || a->timeout_ms != b->timeout_ms
        || a->init_timeout_ms != b->init_timeout_ms
        || a->memory_mb != b->memory_mb
        || a->concurrency != b->concurrency
        || a->instances != b->instances
        || a->nenv != b->nenv)
    {
        return 0;
    }

    for (i = 0; i < a->nenv; i++) {
        if (!faas_str_equal(a->env[i].key, b->env[i].key)
            || !faas_str_equal(a->env[i].value, b->env[i].value))
        {
            return 0;
        }
    }

    return 1;
}


int
faas_routes_equal(const faas_table_route_t *a, const faas_table_route_t *b,
    size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if (!faas_str_equal(a[i].path, b[i].path)
            || a[i].methods != b[i].methods)
        {
            return 0;
        }
    }

    return 1;
}


static int
faas_release_equal(const faas_release_t *a, const faas_release_t *b)
{
    int    rc;
    char  *x, *y;

    if (a == NULL || b == NULL) {
        return a == b;
    }

    x = faas_release_to_json(a);
    y = faas_release_to_json(b);

    rc = (x != NULL && y != NULL && strcmp(x, y) == 0);

    free(x);
    free(y);

    return rc;
}


int
faas_table_equal(const faas_table_t *a, const faas_table_t *b)
{
    size_t                        i, j;
    const faas_table_function_t  *f, *g;

    if (a->generation != b->generation || a->nfunctions != b->nfunctions
        || strcmp(a->epoch, b->epoch) != 0)
    {
        return 0;
    }

    for (i = 0; i < a->nfunctions; i++) {
        f = &a->functions[i];
        g = &b->functions[i];

        if (!faas_str_equal(f->name, g->name)
            || f->nversions != g->nversions
            || f->nroutes != g->nroutes
            || f->active - f->versions != g->active - g->versions
            || !faas_routes_equal(f->routes, g->routes, f->nroutes)
            || !faas_release_equal(f->release, g->release))
        {
            return 0;
        }

        for (j = 0; j < f->nversions; j++) {
            if (!faas_version_equal(&f->versions[j], &g->versions[j])) {
                return 0;
            }
        }
    }

    return 1;
}


const faas_table_function_t *
faas_table_find(const faas_table_t *table, const char *name)
{
    int       rc;
    size_t    lo, hi, mid;
    uint32_t  h, i;

    if (table == NULL || name == NULL) {
        return NULL;
    }

    if (table->by_name) {
        for (h = faas_name_hash(name) & table->by_name_mask;
             (i = table->by_name[h]) != 0;
             h = (h + 1) & table->by_name_mask)
        {
            if (strcmp(table->functions[i - 1].name, name) == 0) {
                return &table->functions[i - 1];
            }
        }

        return NULL;
    }

    lo = 0;
    hi = table->nfunctions;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;

        rc = strcmp(name, table->functions[mid].name);

        if (rc == 0) {
            return &table->functions[mid];
        }

        if (rc < 0) {
            hi = mid;

        } else {
            lo = mid + 1;
        }
    }

    return NULL;
}


int
faas_table_add_routes(const faas_table_t *table, faas_router_t *router,
    const char *source, faas_error_t *err)
{
    size_t                        i;
    const faas_table_function_t  *fn;

    for (i = 0; i < table->nfunctions; i++) {
        fn = &table->functions[i];

        if (faas_routes_add(table, router, fn->name, fn->routes, fn->nroutes,
                            (void *) fn, source, err)
            != FAAS_OK)
        {
            return FAAS_ERROR;
        }
    }

    return FAAS_OK;
}


/*
 * Routes are added with the function's name as their "file": the router
 * keeps it for its messages, and the table outlives the router.  A
 * conflict with a route of the table then reads "declared at NAME",
 * which is said better.
 */

static int
faas_routes_add(const faas_table_t *table, faas_router_t *router,
    const char *function, const faas_table_route_t *routes, size_t nroutes,
    void *data, const char *source, faas_error_t *err)
{
    char                          *at;
    size_t                         i;
    const char                    *tail, *name;
    faas_error_t                   e;
    const faas_table_function_t   *other;

    static const char  declared[] = " declared at ";

    for (i = 0; i < nroutes; i++) {
        if (faas_router_add(router, routes[i].path, routes[i].methods, data,
                            function, 0, 0, &e)
            == FAAS_OK)
        {
            continue;
        }

        at = strstr(e.msg, declared);

        while (at && strstr(at + 1, declared)) {
            at = strstr(at + 1, declared);
        }

        if (at) {
            tail = at + sizeof(declared) - 1;

            if (strcmp(tail, function) == 0) {
                name = function;

            } else {
                other = table ? faas_table_find(table, tail) : NULL;
                name = other ? other->name : NULL;
            }

        } else {
            name = NULL;
        }

        if (name) {
            *at = '\0';
            faas_error_set(err, source, 0, 0, "function \"%s\": %s of "
                           "function \"%s\"", function, e.msg, name);

        } else {
            faas_error_set(err, source, 0, 0, "function \"%s\": %s",
                           function, e.msg);
        }

        return FAAS_ERROR;
    }

    return FAAS_OK;
}


/*
 * A table: all its functions in one router.  A version record: its own
 * routes ("function" set).  The router is thrown away, or kept in *keep
 * when the routes are good.
 */

int
faas_routes_check(const faas_table_t *table, const char *function,
    const faas_table_route_t *routes, size_t nroutes, const char *source,
    faas_router_t **keep, faas_error_t *err)
{
    int             rc;
    faas_error_t    e;
    faas_router_t  *router;

    router = faas_router_create();
    if (router == NULL) {
        faas_error_set(err, source, 0, 0, "out of memory");
        return FAAS_ERROR;
    }

    if (function) {
        rc = faas_routes_add(NULL, router, function, routes, nroutes, NULL,
                             source, err);

    } else {
        rc = faas_table_add_routes(table, router, source, err);
    }

    if (rc == FAAS_OK && faas_router_compile(router, &e) != FAAS_OK) {
        faas_error_set(err, source, 0, 0, "%s", e.msg);
        rc = FAAS_ERROR;
    }

    if (rc == FAAS_OK && keep) {
        *keep = router;
        return FAAS_OK;
    }

    faas_router_free(router);

    return rc;
}


void
faas_version_free(faas_version_t *version, faas_table_route_t *routes,
    size_t nroutes)
{
    faas_version_impl_t  *impl;

    /* the routes live in the version's arena */

    (void) routes;
    (void) nroutes;

    if (version == NULL) {
        return;
    }

    impl = (faas_version_impl_t *) version;

    faas_arena_free(&impl->arena);
    free(impl);
}


int
faas_version_name_valid(const char *name, size_t len)
{
    return len > 0 && len <= FAAS_VERSION_NAME_MAX
           && faas_name_chars(name, len, "._-");
}


int
faas_table_generation_parse(const char *s, size_t len, uint64_t *generation)
{
    size_t    i;
    uint64_t  g;

    /* 2^53 has 16 digits: no overflow below */

    if (len == 0 || len > 16) {
        return FAAS_ERROR;
    }

    g = 0;

    for (i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return FAAS_ERROR;
        }

        g = g * 10 + (s[i] - '0');
    }

    if (g == 0 || g > FAAS_TABLE_GENERATION_MAX) {
        return FAAS_ERROR;
    }

    *generation = g;

    return FAAS_OK;
}


int
faas_table_epoch_valid(const char *epoch, size_t len)
{
    return len > 0 && len <= FAAS_TABLE_EPOCH_MAX
           && faas_name_chars(epoch, len, "");
}


/* writing */

char *
faas_table_serialize(const faas_table_t *table)
{
    char                         *text;
    size_t                        i;
    cJSON                        *root, *fns, *o, *vs, *vo, *routes;
    const faas_table_function_t  *fn;

    root = cJSON_CreateObject();
    if (root == NULL) {
        return NULL;
    }

    if (faas_json_u64(root, "generation", table->generation) != FAAS_OK) {
        goto failed;
    }

    if (table->epoch[0] != '\0'
        && cJSON_AddStringToObject(root, "epoch", table->epoch) == NULL)
    {
        goto failed;
    }

    fns = cJSON_AddObjectToObject(root, "functions");
    if (fns == NULL) {
        goto failed;
    }

    for (fn = table->functions; fn < table->functions + table->nfunctions;
         fn++)
    {
        if (fn->name == NULL) {
            continue;
        }

        o = cJSON_AddObjectToObject(fns, fn->name);
        if (o == NULL) {
            goto failed;
        }

        if (fn->active && fn->active->name
            && faas_json_string(o, "active", fn->active->name) != FAAS_OK)
        {
            goto failed;
        }

        routes = faas_json_routes(fn->routes, fn->nroutes);
        if (routes == NULL) {
            goto failed;
        }

        cJSON_AddItemToObject(o, "routes", routes);

        vs = cJSON_AddObjectToObject(o, "versions");
        if (vs == NULL) {
            goto failed;
        }

        for (i = 0; i < fn->nversions; i++) {
            if (fn->versions[i].name == NULL) {
                continue;
            }

            vo = cJSON_AddObjectToObject(vs, fn->versions[i].name);
            if (vo == NULL || faas_json_version(vo, &fn->versions[i]) == NULL)
            {
                goto failed;
            }
        }

        if (fn->release) {
            text = faas_release_to_json(fn->release);

            /* the policy's JSON as it is: cJSON copies it */

            if (text == NULL || cJSON_AddRawToObject(o, "release", text)
                                == NULL)
            {
                free(text);
                goto failed;
            }

            free(text);
        }
    }

    return faas_json_print(root);

failed:

    cJSON_Delete(root);

    return NULL;
}


char *
faas_version_serialize(const char *function, const faas_version_t *v,
    const faas_table_route_t *routes, size_t nroutes, uint64_t deployed_at)
{
    cJSON  *root, *array;

    root = cJSON_CreateObject();
    if (root == NULL) {
        return NULL;
    }

    if ((function && faas_json_string(root, "function", function) != FAAS_OK)
        || (v->name && faas_json_string(root, "version", v->name) != FAAS_OK)
        || faas_json_u64(root, "deployed_at", deployed_at) != FAAS_OK
        || faas_json_version(root, v) == NULL)
    {
        goto failed;
    }

    array = faas_json_routes(routes, nroutes);
    if (array == NULL) {
        goto failed;
    }

    cJSON_AddItemToObject(root, "routes", array);

    return faas_json_print(root);

failed:

    cJSON_Delete(root);

    return NULL;
}


/* the fields of a version into an object; NULL when out of memory */

static cJSON *
faas_json_version(cJSON *o, const faas_version_t *v)
{
    size_t   i;
    cJSON   *env;

    if (faas_json_string(o, "dir", v->dir) != FAAS_OK
        || faas_json_string(o, "handler", v->handler) != FAAS_OK
        || faas_json_string(o, "initializer", v->initializer) != FAAS_OK
        || faas_json_string(o, "runtime", v->runtime) != FAAS_OK
        || faas_json_uint(o, "timeout_ms", v->timeout_ms) != FAAS_OK
        || faas_json_uint(o, "init_timeout_ms", v->init_timeout_ms)
           != FAAS_OK
        || faas_json_uint(o, "memory_mb", v->memory_mb) != FAAS_OK
        || faas_json_uint(o, "concurrency", v->concurrency) != FAAS_OK
        || faas_json_uint(o, "instances", v->instances) != FAAS_OK)
    {
        return NULL;
    }

    if (v->nenv == 0) {
        return o;
    }

    env = cJSON_AddObjectToObject(o, "env");
    if (env == NULL) {
        return NULL;
    }

    for (i = 0; i < v->nenv; i++) {
        if (v->env[i].key
            && faas_json_string(env, v->env[i].key,
                                v->env[i].value ? v->env[i].value : "")
               != FAAS_OK)
        {
            return NULL;
        }
    }

    return o;
}


static cJSON *
faas_json_routes(const faas_table_route_t *routes, size_t nroutes)
{
    size_t    i;
    cJSON    *array, *o, *methods, *m;
    unsigned  bit;

    array = cJSON_CreateArray();
    if (array == NULL) {
        return NULL;
    }

    for (i = 0; i < nroutes; i++) {
        o = cJSON_CreateObject();
        if (o == NULL) {
            goto failed;
        }

        cJSON_AddItemToArray(array, o);

        if (faas_json_string(o, "path", routes[i].path) != FAAS_OK) {
            goto failed;
        }

        methods = cJSON_AddArrayToObject(o, "methods");
        if (methods == NULL) {
            goto failed;
        }

        for (bit = FAAS_METHOD_GET; bit <= FAAS_METHOD_OPTIONS; bit <<= 1) {
            if (!(routes[i].methods & bit)) {
                continue;
            }

            m = cJSON_CreateStringReference(faas_method_name(bit));
            if (m == NULL) {
                goto failed;
            }

            cJSON_AddItemToArray(methods, m);
        }
    }

    return array;

failed:

    cJSON_Delete(array);

    return NULL;
}


/* exact for any uint64_t, where a double is not */

static int
faas_json_u64(cJSON *object, const char *name, uint64_t value)
{
    char  buf[32];

    snprintf(buf, sizeof(buf), "%" PRIu64, value);

    return cJSON_AddRawToObject(object, name, buf) ? FAAS_OK : FAAS_ERROR;
}


/* 0 means "not set": nothing is written */

static int
faas_json_uint(cJSON *object, const char *name, unsigned value)
{
    if (value == 0) {
        return FAAS_OK;
    }

    return faas_json_u64(object, name, value);
}


/* NULL means "not set": nothing is written */

static int
faas_json_string(cJSON *object, const char *name, const char *value)
{
    if (value == NULL) {
        return FAAS_OK;
    }

    return cJSON_AddStringToObject(object, name, value) ? FAAS_OK
                                                        : FAAS_ERROR;
}
