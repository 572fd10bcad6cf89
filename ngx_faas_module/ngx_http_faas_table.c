/*
 * Copyright (C) ngx_faas authors
 *
 * The routing table from Redis as a worker process serves it: built whole
 * in a pool of its own from a checked faas_table_t, swapped in, and freed
 * when the last request that matched through it ends.  Nothing here talks
 * to Redis (ngx_http_faas_redis*.c do); per request, the reference
 * counting and the choice of the version (ngx_http_faas_release.c).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_faas_module.h"
#include "ngx_http_faas_peer.h"
#include "ngx_http_faas_registry.h"
#include "ngx_http_faas_release.h"
#include "ngx_http_faas_table.h"


static void ngx_http_faas_table_cleanup(void *data);
static void ngx_http_faas_table_request_done(void *data);
static ngx_http_faas_function_t *ngx_http_faas_table_versions(
    ngx_http_faas_table_t *table, ngx_uint_t i);
static ngx_int_t ngx_http_faas_table_slots(ngx_http_faas_table_t *table,
    ngx_http_faas_function_t *fn);
static void ngx_http_faas_table_keep_idle(ngx_http_faas_table_t *from,
    ngx_http_faas_table_t *to, ngx_uint_t keepalive);
static void ngx_http_faas_table_conflicts(ngx_cycle_t *cycle,
    ngx_http_faas_table_t *table);


/* per worker process: the table in force */
static ngx_http_faas_table_t  *ngx_http_faas_table;


/*
 * Takes over "t" and "router", the router faas_table_parse_router()
 * checked it with: they are freed with the table, or at once on failure.
 * Errors are logged; the table in force is not touched.
 */

ngx_http_faas_table_t *
ngx_http_faas_table_create(ngx_cycle_t *cycle, faas_table_t *t,
    faas_router_t *router, const char *source)
{
    size_t                      i, k, len, max;
    ngx_pool_t                 *pool;
    faas_version_t             *longest;
    ngx_pool_cleanup_t         *cln;
    faas_table_function_t      *tf;
    ngx_http_faas_table_t      *table;
    ngx_http_faas_main_conf_t  *fmcf;

    fmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_faas_module);

    pool = ngx_create_pool(NGX_DEFAULT_POOL_SIZE, cycle->log);
    if (pool == NULL) {
        goto nomem;
    }

    cln = ngx_pool_cleanup_add(pool, 0);
    if (cln == NULL) {
        ngx_destroy_pool(pool);
        goto nomem;
    }

    table = ngx_pcalloc(pool, sizeof(ngx_http_faas_table_t));
    if (table == NULL) {
        ngx_destroy_pool(pool);
        goto nomem;
    }

    /* from here on the cleanup frees the engine's objects */

    table->pool = pool;
    table->table = t;
    table->router = router;
    table->generation = t->generation;
    table->socket_dir = fmcf->socket_dir;

    cln->handler = ngx_http_faas_table_cleanup;
    cln->data = table;

    table->nfunctions = t->nfunctions;
    table->functions = ngx_pcalloc(pool, (t->nfunctions ? t->nfunctions : 1)
                                         * sizeof(ngx_http_faas_function_t *));
    if (table->functions == NULL) {
        goto failed;
    }

    for (i = 0; i < t->nfunctions; i++) {
        tf = &t->functions[i];

        /*
         * The versions and their sockets are made when the function is
         * first called: most functions of a big table are never called
         * by a given worker process, and each slot holds a sockaddr_un.
         * Every version may serve (a release policy picks among them):
         * the longest path is checked now, so that the table is refused
         * as a whole.
         */

        longest = tf->active;
        max = 0;

        for (k = 0; k < tf->nversions; k++) {
            len = ngx_strlen(tf->versions[k].name);

            if (len > max) {
                longest = &tf->versions[k];
                max = len;
            }
        }

        if (fmcf->socket_dir.len + ngx_strlen(tf->name) + max
            + sizeof("/@-64.sock") - 1
            >= sizeof(((struct sockaddr_un *) 0)->sun_path) - 1)
        {
            ngx_log_error(NGX_LOG_ERR, cycle->log, 0,
                          "faas redis: table \"%s\" not used: the socket "
                          "path \"%V/%s@%s-0.sock\" is longer than a Unix "
                          "socket path may be: shorten faas_socket_dir",
                          source, &fmcf->socket_dir, tf->name, longest->name);
            goto failed;
        }
    }

    return table;

failed:

    ngx_destroy_pool(pool);

    return NULL;

nomem:

    faas_router_free(router);
    faas_table_free(t);

    return NULL;
}


static void
ngx_http_faas_table_cleanup(void *data)
{
    ngx_http_faas_table_t *table = data;

    faas_router_free(table->router);
    faas_table_free(table->table);
}


/*
 * The new table takes the place of the one in force, which goes when its
 * last request does.  Requests that already matched keep theirs.
 */

void
ngx_http_faas_table_install(ngx_cycle_t *cycle, ngx_http_faas_table_t *table)
{
    ngx_http_faas_table_t      *old;
    ngx_http_faas_main_conf_t  *fmcf;

    fmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_faas_module);

    old = ngx_http_faas_table;

    table->refs = 1;

    if (old) {
        ngx_http_faas_table_keep_idle(old, table, fmcf->keepalive);
    }

    ngx_http_faas_table = table;

    /* every worker builds the same table: one of them says it */

    if (ngx_worker == 0) {
        ngx_http_faas_table_conflicts(cycle, table);
    }

    if (old) {
        ngx_http_faas_table_release(old);
    }
}


ngx_http_faas_table_t *
ngx_http_faas_table_current(void)
{
    return ngx_http_faas_table;
}


/*
 * The request's function is the table's: it holds the table till its
 * end.  The version that serves it is chosen here, once, by the values
 * of "client" (r, or for an aggregation's call the client's request): a
 * retry stays with that version's slots.
 */

ngx_int_t
ngx_http_faas_table_acquire(ngx_http_request_t *r, ngx_http_faas_ctx_t *ctx,
    ngx_http_faas_table_t *table, ngx_http_request_t *client)
{
    size_t                      k;
    ngx_uint_t                  i;
    ngx_pool_cleanup_t         *cln;
    faas_table_function_t      *tf;
    ngx_http_faas_function_t   *versions, *fn;

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* faas_table_parse_router() gives each route its faas_table_function_t */

    tf = ctx->match.data;
    i = tf - table->table->functions;

    versions = table->functions[i];

    if (versions == NULL) {
        versions = ngx_http_faas_table_versions(table, i);
        if (versions == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    k = ngx_http_faas_release_pick(client, tf);
    fn = &versions[k];

    if (fn->slots == NULL
        && ngx_http_faas_table_slots(table, fn) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->function = fn;
    ctx->table = table;

    table->refs++;

    cln->handler = ngx_http_faas_table_request_done;
    cln->data = table;

    return NGX_OK;
}


static void
ngx_http_faas_table_request_done(void *data)
{
    ngx_http_faas_table_release(data);
}


/* once per function and table, from the table's pool */

static ngx_http_faas_function_t *
ngx_http_faas_table_versions(ngx_http_faas_table_t *table, ngx_uint_t i)
{
    size_t                     k;
    ngx_str_t                  name;
    faas_version_t            *v;
    faas_table_function_t     *tf;
    ngx_http_faas_function_t  *versions, *fn;

    tf = &table->table->functions[i];

    versions = ngx_pcalloc(table->pool,
                           tf->nversions * sizeof(ngx_http_faas_function_t));
    if (versions == NULL) {
        return NULL;
    }

    name.data = (u_char *) tf->name;
    name.len = ngx_strlen(tf->name);

    for (k = 0; k < tf->nversions; k++) {
        v = &tf->versions[k];
        fn = &versions[k];

        fn->name = name;
        fn->version.data = (u_char *) v->name;
        fn->version.len = ngx_strlen(v->name);
        fn->timeout = v->timeout_ms;
        fn->nslots = v->instances ? v->instances : 1;

        /* a request's tried slots are a 64-bit set (peer.c) */

        if (fn->nslots > FAAS_INSTANCES_MAX) {
            fn->nslots = FAAS_INSTANCES_MAX;
        }
    }

    table->functions[i] = versions;

    return versions;
}


/* once per version and table, from the table's pool */

static ngx_int_t
ngx_http_faas_table_slots(ngx_http_faas_table_t *table,
    ngx_http_faas_function_t *fn)
{
    ngx_uint_t  s;

    if (ngx_http_faas_init_slots(ngx_cycle->log, NGX_LOG_ERR, table->pool,
                                 &table->socket_dir, fn)
        != NGX_OK)
    {
        fn->slots = NULL;
        return NGX_ERROR;
    }

    for (s = 0; s < fn->nslots; s++) {
        fn->slots[s].pool = table->pool;
    }

    return NGX_OK;
}


void
ngx_http_faas_table_release(ngx_http_faas_table_t *table)
{
    size_t                     k;
    ngx_uint_t                 i, s;
    ngx_http_faas_function_t  *fn;

    if (--table->refs) {
        return;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                   "faas redis: table of generation %uL freed",
                   table->generation);

    for (i = 0; i < table->nfunctions; i++) {
        if (table->functions[i] == NULL) {
            continue;
        }

        for (k = 0; k < table->table->functions[i].nversions; k++) {
            fn = &table->functions[i][k];

            if (fn->slots == NULL) {
                continue;
            }

            for (s = 0; s < fn->nslots; s++) {
                ngx_http_faas_keepalive_drop(&fn->slots[s]);
            }
        }
    }

    ngx_destroy_pool(table->pool);
}


/* the worker process exits: nothing is in flight any more */

void
ngx_http_faas_table_exit(void)
{
    ngx_http_faas_table_t  *table;

    table = ngx_http_faas_table;
    ngx_http_faas_table = NULL;

    if (table) {
        ngx_http_faas_table_release(table);
    }
}


/*
 * A version that both tables have keeps its sockets, and so its idle
 * connections.  Both tables list functions sorted by name; a function
 * has at most FAAS_TABLE_VERSIONS_MAX versions.
 */

static void
ngx_http_faas_table_keep_idle(ngx_http_faas_table_t *from,
    ngx_http_faas_table_t *to, ngx_uint_t keepalive)
{
    size_t                     k, n;
    ngx_int_t                  cmp;
    ngx_uint_t                 i, j, s;
    faas_table_function_t     *ta, *tb;
    ngx_http_faas_function_t  *a, *b, *versions;

    i = 0;
    j = 0;

    while (i < from->nfunctions && j < to->nfunctions) {
        ta = &from->table->functions[i];
        tb = &to->table->functions[j];

        cmp = ngx_strcmp(ta->name, tb->name);

        if (cmp < 0) {
            i++;
            continue;
        }

        if (cmp > 0) {
            j++;
            continue;
        }

        for (k = 0; from->functions[i] && k < ta->nversions; k++) {
            a = &from->functions[i][k];

            if (a->slots == NULL) {
                continue;
            }

            for (n = 0; n < tb->nversions; n++) {
                if (ngx_strcmp(tb->versions[n].name, a->version.data) == 0) {
                    break;
                }
            }

            if (n == tb->nversions) {
                continue;
            }

            versions = to->functions[j];

            if (versions == NULL) {
                versions = ngx_http_faas_table_versions(to, j);
                if (versions == NULL) {
                    return;
                }
            }

            b = &versions[n];

            if (b->slots == NULL
                && ngx_http_faas_table_slots(to, b) != NGX_OK)
            {
                continue;
            }

            for (s = 0; s < a->nslots && s < b->nslots; s++) {
                ngx_http_faas_keepalive_move(&a->slots[s], &b->slots[s],
                                             keepalive);
            }
        }

        i++;
        j++;
    }
}


/*
 * docs/redis.md, "Precedence": a Redis route that a manifest route of a
 * server shadows (same shape, a method in common) is never reached
 * there.  Said once per table, naming both.
 */

static void
ngx_http_faas_table_conflicts(ngx_cycle_t *cycle,
    ngx_http_faas_table_t *table)
{
    size_t                         i, k;
    ngx_uint_t                     s, p;
    faas_error_t                   err;
    faas_router_t                 *router;
    faas_table_function_t         *tf;
    ngx_http_faas_srv_conf_t      *fscf;
    ngx_http_core_srv_conf_t     **cscfp;
    ngx_http_core_main_conf_t     *cmcf;

    cmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_core_module);

    if (cmcf == NULL) {
        return;
    }

    cscfp = cmcf->servers.elts;

    for (s = 0; s < cmcf->servers.nelts; s++) {
        fscf = cscfp[s]->ctx->srv_conf[ngx_http_faas_module.ctx_index];
        router = fscf->router;

        if (router == NULL) {
            continue;
        }

        /* servers without manifests of their own share http's router */

        for (p = 0; p < s; p++) {
            fscf = cscfp[p]->ctx->srv_conf[ngx_http_faas_module.ctx_index];

            if (fscf->router == router) {
                break;
            }
        }

        if (p < s) {
            continue;
        }

        for (i = 0; i < table->table->nfunctions; i++) {
            tf = &table->table->functions[i];

            for (k = 0; k < tf->nroutes; k++) {
                if (!faas_router_conflict(router, tf->routes[k].path,
                                          tf->routes[k].methods, &err))
                {
                    continue;
                }

                ngx_log_error(NGX_LOG_WARN, cycle->log, 0,
                              "faas redis: function \"%s\" of generation "
                              "%uL is shadowed by a manifest in the server "
                              "at %s:%ui: %s; the manifest's route is used",
                              tf->name, table->generation,
                              cscfp[s]->file_name, cscfp[s]->line, err.msg);
            }
        }
    }
}
