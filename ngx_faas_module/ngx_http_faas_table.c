/*
 * Copyright (C) ngx_faas authors
 *
 * The routing table from Redis as a worker process serves it: built whole
 * in a pool of its own from a checked faas_table_t, swapped in, and freed
 * when the last request that matched through it ends.  Nothing here talks
 * to Redis (ngx_http_faas_redis.c does) and nothing runs per request but
 * the reference counting.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_faas_module.h"


static void ngx_http_faas_table_cleanup(void *data);
static void ngx_http_faas_table_request_done(void *data);
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
    size_t                      i;
    ngx_pool_t                 *pool;
    ngx_pool_cleanup_t         *cln;
    faas_table_function_t      *tf;
    ngx_http_faas_table_t      *table;
    ngx_http_faas_function_t   *fn;
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
                                         * sizeof(ngx_http_faas_function_t));
    if (table->functions == NULL) {
        goto failed;
    }

    for (i = 0; i < t->nfunctions; i++) {
        tf = &t->functions[i];
        fn = &table->functions[i];

        fn->name.data = (u_char *) tf->name;
        fn->name.len = ngx_strlen(tf->name);
        fn->version.data = (u_char *) tf->active->name;
        fn->version.len = ngx_strlen(tf->active->name);
        fn->timeout = tf->active->timeout_ms;
        fn->nslots = tf->active->instances ? tf->active->instances : 1;

        /* a request's tried slots are a 64-bit set (peer.c) */

        if (fn->nslots > FAAS_INSTANCES_MAX) {
            fn->nslots = FAAS_INSTANCES_MAX;
        }

        /*
         * The sockets are made when the function is first called: most
         * functions of a big table are never called by a given worker
         * process, and each slot holds a sockaddr_un.  Their length is
         * checked now, so that the table is refused as a whole.
         */

        if (fmcf->socket_dir.len + fn->name.len + fn->version.len
            + sizeof("/@-64.sock") - 1
            >= sizeof(((struct sockaddr_un *) 0)->sun_path) - 1)
        {
            ngx_log_error(NGX_LOG_ERR, cycle->log, 0,
                          "faas redis: table \"%s\" not used: the socket "
                          "path \"%V/%V@%V-0.sock\" is longer than a Unix "
                          "socket path may be: shorten faas_socket_dir",
                          source, &fmcf->socket_dir, &fn->name,
                          &fn->version);
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


/* the request's function is the table's: it holds the table till its end */

ngx_int_t
ngx_http_faas_table_acquire(ngx_http_request_t *r, ngx_http_faas_ctx_t *ctx,
    ngx_http_faas_table_t *table)
{
    ngx_uint_t           i;
    ngx_pool_cleanup_t  *cln;

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* faas_table_parse_router() gives each route its faas_table_function_t */

    i = (faas_table_function_t *) ctx->match.data - table->table->functions;

    if (table->functions[i].slots == NULL
        && ngx_http_faas_table_slots(table, &table->functions[i]) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->function = &table->functions[i];
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
    ngx_uint_t                 i, s;
    ngx_http_faas_function_t  *fn;

    if (--table->refs) {
        return;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                   "faas redis: table of generation %uL freed",
                   table->generation);

    for (i = 0; i < table->nfunctions; i++) {
        fn = &table->functions[i];

        if (fn->slots == NULL) {
            continue;
        }

        for (s = 0; s < fn->nslots; s++) {
            ngx_http_faas_keepalive_drop(&fn->slots[s]);
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
 * A function whose active version did not change keeps its sockets, and
 * so its idle connections.  Both tables list functions sorted by name.
 */

static void
ngx_http_faas_table_keep_idle(ngx_http_faas_table_t *from,
    ngx_http_faas_table_t *to, ngx_uint_t keepalive)
{
    ngx_int_t                  cmp;
    ngx_uint_t                 i, j, s;
    ngx_http_faas_function_t  *a, *b;

    i = 0;
    j = 0;

    while (i < from->nfunctions && j < to->nfunctions) {
        a = &from->functions[i];
        b = &to->functions[j];

        cmp = ngx_strcmp(a->name.data, b->name.data);

        if (cmp < 0) {
            i++;
            continue;
        }

        if (cmp > 0) {
            j++;
            continue;
        }

        if (a->slots
            && a->version.len == b->version.len
            && ngx_strcmp(a->version.data, b->version.data) == 0
            && (b->slots || ngx_http_faas_table_slots(to, b) == NGX_OK))
        {
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
