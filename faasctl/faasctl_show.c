/*
 * Copyright (C) ngx_faas authors
 *
 * faasctl ls, routes, show and gen: the table in force, read only.
 */


#define _GNU_SOURCE

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "faasctl.h"


typedef struct {
    const char                   *path;
    unsigned                      methods;
    const faas_table_function_t  *function;
} faasctl_route_t;


static int faasctl_route_cmp(const void *one, const void *two);
static cJSON *faasctl_json_methods(unsigned methods);
static cJSON *faasctl_json_routes(const faas_table_function_t *f);
static cJSON *faasctl_json_version(const faas_version_t *v, int active);
static int faasctl_show_version(faasctl_t *ctl, const char *function,
    const faas_version_t *v, int active, cJSON *versions);
static int faasctl_show_history(faasctl_t *ctl, const char *function,
    cJSON *history);
static redisReply *faasctl_zrange(faasctl_t *ctl, const char *key,
    const char *fmt, ...);
static int faasctl_json_pair(cJSON *list, const char *name,
    const char *member, const char *score_name, double score);


int
faasctl_ls(faasctl_t *ctl, int argc, char **argv)
{
    int                           w1, w2;
    size_t                        i, j;
    cJSON                        *root, *list, *item, *vs;
    uint64_t                      g;
    faas_table_t                 *t;
    const faas_table_function_t  *f;

    (void) argv;

    if (argc != 0) {
        faasctl_usage_error("ls takes no arguments");
        return 2;
    }

    if (faasctl_table_read(ctl, 0, &g, &t) != FAAS_OK) {
        return 1;
    }

    if (!ctl->json) {
        w1 = sizeof("FUNCTION") - 1;
        w2 = sizeof("ACTIVE") - 1;

        for (i = 0; t && i < t->nfunctions; i++) {
            f = &t->functions[i];

            if ((int) strlen(f->name) > w1) {
                w1 = strlen(f->name);
            }

            if ((int) strlen(f->active->name) > w2) {
                w2 = strlen(f->active->name);
            }
        }

        printf("%-*s  %-*s  %6s  %s\n", w1, "FUNCTION", w2, "ACTIVE",
               "ROUTES", "VERSIONS");

        for (i = 0; t && i < t->nfunctions; i++) {
            f = &t->functions[i];

            printf("%-*s  %-*s  %6zu  ", w1, f->name, w2, f->active->name,
                   f->nroutes);

            for (j = 0; j < f->nversions; j++) {
                printf("%s%s", j ? "," : "", f->versions[j].name);
            }

            printf("\n");
        }

        faas_table_free(t);
        return 0;
    }

    root = cJSON_CreateObject();
    list = cJSON_AddArrayToObject(root, "functions");

    if (list == NULL
        || cJSON_AddNumberToObject(root, "generation", (double) g) == NULL)
    {
        goto nomem;
    }

    for (i = 0; t && i < t->nfunctions; i++) {
        f = &t->functions[i];

        item = cJSON_CreateObject();
        if (item == NULL) {
            goto nomem;
        }

        cJSON_AddItemToArray(list, item);

        if (cJSON_AddStringToObject(item, "function", f->name) == NULL
            || cJSON_AddStringToObject(item, "active", f->active->name)
               == NULL
            || cJSON_AddNumberToObject(item, "routes", (double) f->nroutes)
               == NULL)
        {
            goto nomem;
        }

        vs = cJSON_AddArrayToObject(item, "versions");
        if (vs == NULL) {
            goto nomem;
        }

        for (j = 0; j < f->nversions; j++) {
            item = cJSON_CreateString(f->versions[j].name);
            if (item == NULL) {
                goto nomem;
            }

            cJSON_AddItemToArray(vs, item);
        }
    }

    faas_table_free(t);

    return faasctl_json_print(root);

nomem:

    cJSON_Delete(root);
    faas_table_free(t);

    return faasctl_json_print(NULL);
}


int
faasctl_routes(faasctl_t *ctl, int argc, char **argv)
{
    int                           w;
    char                          m[64];
    size_t                        i, j, n;
    cJSON                        *root, *list, *item, *methods;
    uint64_t                      g;
    faas_table_t                 *t;
    faasctl_route_t              *routes;
    const faas_table_function_t  *f;

    (void) argv;

    if (argc != 0) {
        faasctl_usage_error("routes takes no arguments");
        return 2;
    }

    if (faasctl_table_read(ctl, 0, &g, &t) != FAAS_OK) {
        return 1;
    }

    n = 0;

    for (i = 0; t && i < t->nfunctions; i++) {
        n += t->functions[i].nroutes;
    }

    routes = calloc(n + 1, sizeof(faasctl_route_t));
    if (routes == NULL) {
        faas_table_free(t);
        faasctl_error("out of memory");
        return 1;
    }

    n = 0;

    for (i = 0; t && i < t->nfunctions; i++) {
        f = &t->functions[i];

        for (j = 0; j < f->nroutes; j++) {
            routes[n].path = f->routes[j].path;
            routes[n].methods = f->routes[j].methods;
            routes[n].function = f;
            n++;
        }
    }

    qsort(routes, n, sizeof(faasctl_route_t), faasctl_route_cmp);

    if (!ctl->json) {
        w = 0;

        for (i = 0; i < n; i++) {
            faasctl_methods(routes[i].methods, m, sizeof(m));

            if ((int) strlen(m) > w) {
                w = strlen(m);
            }
        }

        for (i = 0; i < n; i++) {
            printf("%-*s  %s -> %s\n", w,
                   faasctl_methods(routes[i].methods, m, sizeof(m)),
                   routes[i].path, routes[i].function->name);
        }

        free(routes);
        faas_table_free(t);
        return 0;
    }

    root = cJSON_CreateObject();
    list = cJSON_AddArrayToObject(root, "routes");

    if (list == NULL
        || cJSON_AddNumberToObject(root, "generation", (double) g) == NULL)
    {
        goto nomem;
    }

    for (i = 0; i < n; i++) {
        item = cJSON_CreateObject();
        if (item == NULL) {
            goto nomem;
        }

        cJSON_AddItemToArray(list, item);

        methods = faasctl_json_methods(routes[i].methods);
        if (methods == NULL) {
            goto nomem;
        }

        cJSON_AddItemToObject(item, "methods", methods);

        if (cJSON_AddStringToObject(item, "path", routes[i].path) == NULL
            || cJSON_AddStringToObject(item, "function",
                                       routes[i].function->name) == NULL
            || cJSON_AddStringToObject(item, "version",
                                       routes[i].function->active->name)
               == NULL)
        {
            goto nomem;
        }
    }

    free(routes);
    faas_table_free(t);

    return faasctl_json_print(root);

nomem:

    cJSON_Delete(root);
    free(routes);
    faas_table_free(t);

    return faasctl_json_print(NULL);
}


static int
faasctl_route_cmp(const void *one, const void *two)
{
    int                     rc;
    const faasctl_route_t  *a, *b;

    a = one;
    b = two;

    rc = strcmp(a->path, b->path);
    if (rc) {
        return rc;
    }

    rc = strcmp(a->function->name, b->function->name);
    if (rc) {
        return rc;
    }

    return (a->methods > b->methods) - (a->methods < b->methods);
}


/*
 * The one function a command such as "show NAME" takes: 2 after a usage
 * error, 1 after an invalid name, 0 for a name to look up.
 */

int
faasctl_function_args(const char *cmd, int argc, char **argv)
{
    if (argc != 1) {
        faasctl_usage_error(argc ? "%s takes one function"
                                 : "%s: no function", cmd);
        return 2;
    }

    if (!faas_function_name_valid(argv[0], strlen(argv[0]))) {
        faasctl_error("invalid function name \"%s\"", argv[0]);
        return 1;
    }

    return 0;
}


/* the table and the function in it, or an error reported */

int
faasctl_function_read(faasctl_t *ctl, const char *name,
    uint64_t *generation, faas_table_t **table,
    const faas_table_function_t **function)
{
    if (faasctl_table_read(ctl, 0, generation, table) != FAAS_OK) {
        return FAAS_ERROR;
    }

    *function = *table ? faas_table_find(*table, name) : NULL;

    if (*function == NULL) {
        faasctl_error("no function \"%s\" in the table (generation %" PRIu64
                      ")", name, *generation);
        faas_table_free(*table);
        return FAAS_ERROR;
    }

    return FAAS_OK;
}


int
faasctl_show(faasctl_t *ctl, int argc, char **argv)
{
    int                           rc;
    char                          m[64];
    size_t                        i;
    cJSON                        *root, *versions, *history, *routes;
    uint64_t                      g;
    const char                   *name;
    faas_table_t                 *t;
    const faas_table_function_t  *f;

    rc = faasctl_function_args("show", argc, argv);
    if (rc != 0) {
        return rc;
    }

    name = argv[0];

    if (faasctl_function_read(ctl, name, &g, &t, &f) != FAAS_OK) {
        return 1;
    }

    /* the text is printed as it goes, JSON is gathered in "root" */

    root = NULL;
    versions = NULL;
    history = NULL;

    if (ctl->json) {
        root = cJSON_CreateObject();
        routes = faasctl_json_routes(f);

        if (routes) {
            cJSON_AddItemToObject(root, "routes", routes);
        }

        if (routes == NULL
            || cJSON_AddStringToObject(root, "function", f->name) == NULL
            || cJSON_AddNumberToObject(root, "generation", (double) g)
               == NULL
            || cJSON_AddStringToObject(root, "active", f->active->name)
               == NULL
            || (versions = cJSON_AddArrayToObject(root, "versions")) == NULL
            || (history = cJSON_AddArrayToObject(root, "history")) == NULL)
        {
            cJSON_Delete(root);
            faas_table_free(t);
            return faasctl_json_print(NULL);
        }

    } else {
        printf("function    %s\n", f->name);
        printf("generation  %" PRIu64 "\n", g);
        printf("active      %s\n", f->active->name);

        if (f->nroutes == 0) {
            printf("routes      -\n");
        }

        for (i = 0; i < f->nroutes; i++) {
            printf("%s %s %s\n", i ? "           " : "routes     ",
                   faasctl_methods(f->routes[i].methods, m, sizeof(m)),
                   f->routes[i].path);
        }
    }

    rc = FAAS_OK;

    for (i = 0; i < f->nversions && rc == FAAS_OK; i++) {
        rc = faasctl_show_version(ctl, f->name, &f->versions[i],
                                  &f->versions[i] == f->active, versions);
    }

    if (rc == FAAS_OK) {
        rc = faasctl_show_history(ctl, f->name, history);
    }

    faas_table_free(t);

    if (rc != FAAS_OK) {
        cJSON_Delete(root);
        return 1;
    }

    return ctl->json ? faasctl_json_print(root) : 0;
}


/* a version kept warm: its settings, its record and its live endpoints */

static int
faasctl_show_version(faasctl_t *ctl, const char *function,
    const faas_version_t *v, int active, cJSON *versions)
{
    int                  rc;
    char                 key[FAAS_KEY_MAX], record[320];
    size_t               i, nroutes;
    cJSON               *item, *eps;
    uint64_t             now;
    long long            score;
    redisReply          *r, *m, *s;
    faas_error_t         err;
    faas_version_t      *rv;
    faas_table_route_t  *routes;

    if (faas_key_version(key, sizeof(key), ctl->prefix, function, v->name)
        == 0)
    {
        return faasctl_prefix_error(ctl);
    }

    r = faasctl_command(ctl, key, "GET %s", key);
    if (r == NULL) {
        return FAAS_ERROR;
    }

    if (r->type != REDIS_REPLY_STRING) {
        snprintf(record, sizeof(record), "%s: missing", key);

    } else {
        rc = faas_version_parse(key, r->str, r->len, &rv, &routes, &nroutes,
                                &err);

        if (rc == FAAS_OK) {
            snprintf(record, sizeof(record), "%s", key);
            faas_version_free(rv, routes, nroutes);

        } else {
            faas_error_format(&err, record, sizeof(record));
        }
    }

    freeReplyObject(r);

    item = NULL;
    eps = NULL;

    if (versions) {
        item = faasctl_json_version(v, active);

        if (item == NULL
            || cJSON_AddStringToObject(item, "record", record) == NULL
            || (eps = cJSON_AddArrayToObject(item, "endpoints")) == NULL)
        {
            cJSON_Delete(item);
            faasctl_error("out of memory");
            return FAAS_ERROR;
        }

        cJSON_AddItemToArray(versions, item);

    } else {
        printf("version     %s%s\n", v->name, active ? " (active)" : "");
        printf("  dir              %s\n", v->dir);
        printf("  handler          %s\n", v->handler);

        if (v->initializer) {
            printf("  initializer      %s\n", v->initializer);
        }

        if (v->runtime) {
            printf("  runtime          %s\n", v->runtime);
        }

        printf("  instances        %u\n", v->instances);

        if (v->timeout_ms) {
            printf("  timeout_ms       %u\n", v->timeout_ms);
        }

        if (v->init_timeout_ms) {
            printf("  init_timeout_ms  %u\n", v->init_timeout_ms);
        }

        if (v->memory_mb) {
            printf("  memory_mb        %u\n", v->memory_mb);
        }

        if (v->concurrency) {
            printf("  concurrency      %u\n", v->concurrency);
        }

        /* names only: values may be secrets */
        for (i = 0; i < v->nenv; i++) {
            printf("%s%s", i ? ", " : "  env              ", v->env[i].key);
        }

        if (v->nenv) {
            printf("\n");
        }

        printf("  record           %s\n", record);
    }

    if (faas_key_endpoints(key, sizeof(key), ctl->prefix, function, v->name)
        == 0)
    {
        return faasctl_prefix_error(ctl);
    }

    now = faasctl_now_ms();

    r = faasctl_zrange(ctl, key, "ZRANGEBYSCORE %s %" PRIu64 " +inf "
                       "WITHSCORES", key, now);
    if (r == NULL) {
        return FAAS_ERROR;
    }

    if (!versions && r->elements == 0) {
        printf("  endpoints        -\n");
    }

    for (i = 0; i + 1 < r->elements; i += 2) {
        m = r->element[i];
        s = r->element[i + 1];

        if (m->type != REDIS_REPLY_STRING || s->type != REDIS_REPLY_STRING) {
            continue;
        }

        score = strtoll(s->str, NULL, 10);

        if (eps) {
            if (faasctl_json_pair(eps, "endpoint", m->str, "expires_ms",
                                  (double) score)
                != FAAS_OK)
            {
                freeReplyObject(r);
                return FAAS_ERROR;
            }

        } else {
            printf("%s%s (%.1f s left)\n",
                   i ? "                   " : "  endpoints        ", m->str,
                   (double) (score - (long long) now) / 1000);
        }
    }

    freeReplyObject(r);

    return FAAS_OK;
}


/* P:versions:FN: every version deployed, by deploy time */

static int
faasctl_show_history(faasctl_t *ctl, const char *function, cJSON *history)
{
    char         key[FAAS_KEY_MAX], when[64];
    size_t       i;
    uint64_t     ms;
    redisReply  *r, *m, *s;

    if (faas_key_versions(key, sizeof(key), ctl->prefix, function) == 0) {
        return faasctl_prefix_error(ctl);
    }

    r = faasctl_zrange(ctl, key, "ZRANGE %s 0 -1 WITHSCORES", key);
    if (r == NULL) {
        return FAAS_ERROR;
    }

    if (!history && r->elements == 0) {
        printf("history     -\n");
    }

    for (i = 0; i + 1 < r->elements; i += 2) {
        m = r->element[i];
        s = r->element[i + 1];

        if (m->type != REDIS_REPLY_STRING || s->type != REDIS_REPLY_STRING) {
            continue;
        }

        ms = strtoull(s->str, NULL, 10);

        if (history) {
            if (faasctl_json_pair(history, "version", m->str, "deployed_ms",
                                  (double) ms)
                != FAAS_OK)
            {
                freeReplyObject(r);
                return FAAS_ERROR;
            }

        } else {
            faasctl_time(ms, when, sizeof(when));
            printf("%s%-6s %s\n", i ? "            " : "history     ", m->str,
                   when);
        }
    }

    freeReplyObject(r);

    return FAAS_OK;
}


/* a sorted set read WITHSCORES: an array, else NULL with the error said */

static redisReply *
faasctl_zrange(faasctl_t *ctl, const char *key, const char *fmt, ...)
{
    va_list      args;
    redisReply  *r;

    va_start(args, fmt);
    r = faasctl_vcommand(ctl, key, fmt, args);
    va_end(args);

    if (r == NULL) {
        return NULL;
    }

    if (r->type != REDIS_REPLY_ARRAY) {
        freeReplyObject(r);
        faasctl_error("%s: unexpected reply", key);
        return NULL;
    }

    return r;
}


/* one member of a sorted set and its score, as an object in "list" */

static int
faasctl_json_pair(cJSON *list, const char *name, const char *member,
    const char *score_name, double score)
{
    cJSON  *item;

    item = cJSON_CreateObject();

    if (item == NULL
        || cJSON_AddStringToObject(item, name, member) == NULL
        || cJSON_AddNumberToObject(item, score_name, score) == NULL)
    {
        cJSON_Delete(item);
        faasctl_error("out of memory");
        return FAAS_ERROR;
    }

    cJSON_AddItemToArray(list, item);

    return FAAS_OK;
}


void
faasctl_time(uint64_t ms, char *buf, size_t size)
{
    time_t     t;
    struct tm  tm;

    t = (time_t) (ms / 1000);

    if (localtime_r(&t, &tm) == NULL
        || strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm) == 0)
    {
        snprintf(buf, size, "%" PRIu64 " ms", ms);
    }
}


static cJSON *
faasctl_json_methods(unsigned methods)
{
    cJSON     *list, *item;
    unsigned   bit;

    list = cJSON_CreateArray();
    if (list == NULL) {
        return NULL;
    }

    for (bit = FAAS_METHOD_GET; bit <= FAAS_METHOD_OPTIONS; bit <<= 1) {
        if (!(methods & bit)) {
            continue;
        }

        item = cJSON_CreateString(faas_method_name(bit));
        if (item == NULL) {
            cJSON_Delete(list);
            return NULL;
        }

        cJSON_AddItemToArray(list, item);
    }

    return list;
}


static cJSON *
faasctl_json_routes(const faas_table_function_t *f)
{
    size_t  i;
    cJSON  *list, *item, *methods;

    list = cJSON_CreateArray();
    if (list == NULL) {
        return NULL;
    }

    for (i = 0; i < f->nroutes; i++) {
        item = cJSON_CreateObject();
        if (item == NULL) {
            goto nomem;
        }

        cJSON_AddItemToArray(list, item);

        methods = faasctl_json_methods(f->routes[i].methods);
        if (methods == NULL) {
            goto nomem;
        }

        if (cJSON_AddStringToObject(item, "path", f->routes[i].path) == NULL)
        {
            cJSON_Delete(methods);
            goto nomem;
        }

        cJSON_AddItemToObject(item, "methods", methods);
    }

    return list;

nomem:

    cJSON_Delete(list);

    return NULL;
}


static cJSON *
faasctl_json_version(const faas_version_t *v, int active)
{
    size_t  i;
    cJSON  *o, *env, *item;

    o = cJSON_CreateObject();
    if (o == NULL) {
        return NULL;
    }

    if (cJSON_AddStringToObject(o, "version", v->name) == NULL
        || cJSON_AddBoolToObject(o, "active", active) == NULL
        || cJSON_AddStringToObject(o, "dir", v->dir) == NULL
        || cJSON_AddStringToObject(o, "handler", v->handler) == NULL
        || (v->initializer
            && cJSON_AddStringToObject(o, "initializer", v->initializer)
               == NULL)
        || (v->runtime
            && cJSON_AddStringToObject(o, "runtime", v->runtime) == NULL)
        || cJSON_AddNumberToObject(o, "instances", v->instances) == NULL
        || (v->timeout_ms
            && cJSON_AddNumberToObject(o, "timeout_ms", v->timeout_ms)
               == NULL)
        || (v->init_timeout_ms
            && cJSON_AddNumberToObject(o, "init_timeout_ms",
                                       v->init_timeout_ms) == NULL)
        || (v->memory_mb
            && cJSON_AddNumberToObject(o, "memory_mb", v->memory_mb) == NULL)
        || (v->concurrency
            && cJSON_AddNumberToObject(o, "concurrency", v->concurrency)
               == NULL)
        || (env = cJSON_AddArrayToObject(o, "env")) == NULL)
    {
        cJSON_Delete(o);
        return NULL;
    }

    /* names only: values may be secrets */
    for (i = 0; i < v->nenv; i++) {
        item = cJSON_CreateString(v->env[i].key);
        if (item == NULL) {
            cJSON_Delete(o);
            return NULL;
        }

        cJSON_AddItemToArray(env, item);
    }

    return o;
}


int
faasctl_gen(faasctl_t *ctl, int argc, char **argv)
{
    cJSON     *root;
    uint64_t   g;

    (void) argv;

    if (argc != 0) {
        faasctl_usage_error("gen takes no arguments");
        return 2;
    }

    if (faasctl_generation(ctl, &g) != FAAS_OK) {
        return 1;
    }

    if (!ctl->json) {
        printf("%" PRIu64 "\n", g);
        return 0;
    }

    root = cJSON_CreateObject();

    if (cJSON_AddNumberToObject(root, "generation", (double) g) == NULL) {
        cJSON_Delete(root);
        root = NULL;
    }

    return faasctl_json_print(root);
}
