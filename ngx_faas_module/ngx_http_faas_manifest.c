/*
 * Copyright (C) ngx_faas authors
 *
 * Loading f.yml manifests at configuration time and compiling their
 * routes.  Everything here runs in the master while it reads nginx.conf;
 * the engine's own allocations are tied to the configuration pool.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_faas_module.h"
#include "ngx_http_faas_aggregate_conf.h"
#include "ngx_http_faas_manifest.h"
#include "ngx_http_faas_registry.h"


static ngx_int_t ngx_http_faas_load(ngx_conf_t *cf,
    ngx_http_faas_main_conf_t *fmcf, ngx_str_t *path,
    ngx_http_faas_loaded_t **loaded);
static ngx_int_t ngx_http_faas_add_functions(ngx_conf_t *cf,
    ngx_http_faas_main_conf_t *fmcf, faas_manifest_t *m);
static void ngx_http_faas_manifest_cleanup(void *data);
static void ngx_http_faas_router_cleanup(void *data);


char *
ngx_http_faas_manifest(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_faas_srv_conf_t *fscf = conf;

    ngx_int_t                   rc;
    ngx_str_t                  *value, pattern, path;
    ngx_uint_t                  n;
    ngx_glob_t                  gl;
    ngx_http_faas_loaded_t     *loaded, **lp;
    ngx_http_faas_main_conf_t  *fmcf;

    fmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_faas_module);

    value = cf->args->elts;
    pattern = value[1];

    if (ngx_conf_full_name(cf->cycle, &pattern, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (fscf->manifests == NULL) {
        fscf->manifests = ngx_array_create(cf->pool, 4,
                                           sizeof(ngx_http_faas_loaded_t *));
        if (fscf->manifests == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    if (strpbrk((char *) pattern.data, "*?[") == NULL) {

        if (ngx_http_faas_load(cf, fmcf, &pattern, &loaded) != NGX_OK) {
            return NGX_CONF_ERROR;
        }

        lp = ngx_array_push(fscf->manifests);
        if (lp == NULL) {
            return NGX_CONF_ERROR;
        }

        *lp = loaded;

        return NGX_CONF_OK;
    }

    ngx_memzero(&gl, sizeof(ngx_glob_t));

    gl.pattern = pattern.data;
    gl.log = cf->log;
    gl.test = 1;

    if (ngx_open_glob(&gl) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_open_glob_n " \"%s\" failed", pattern.data);
        return NGX_CONF_ERROR;
    }

    n = 0;

    for ( ;; ) {
        rc = ngx_read_glob(&gl, &path);

        if (rc != NGX_OK) {
            break;
        }

        n++;

        /* the glob's buffer is reused: the path must outlive it */

        path.data = ngx_pstrdup(cf->pool, &path);
        if (path.data == NULL) {
            ngx_close_glob(&gl);
            return NGX_CONF_ERROR;
        }

        if (ngx_http_faas_load(cf, fmcf, &path, &loaded) != NGX_OK) {
            ngx_close_glob(&gl);
            return NGX_CONF_ERROR;
        }

        lp = ngx_array_push(fscf->manifests);
        if (lp == NULL) {
            ngx_close_glob(&gl);
            return NGX_CONF_ERROR;
        }

        *lp = loaded;
    }

    ngx_close_glob(&gl);

    if (n == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "faas_manifest \"%s\" matches no file",
                           pattern.data);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_faas_load(ngx_conf_t *cf, ngx_http_faas_main_conf_t *fmcf,
    ngx_str_t *path, ngx_http_faas_loaded_t **loaded)
{
    u_char                  *file;
    ngx_uint_t               i;
    faas_error_t             err;
    faas_manifest_t         *m;
    ngx_pool_cleanup_t      *cln;
    ngx_http_faas_loaded_t  *l;
    u_char                   msg[NGX_MAX_ERROR_STR];

    l = fmcf->loaded.elts;

    for (i = 0; i < fmcf->loaded.nelts; i++) {
        if (l[i].path.len == path->len
            && ngx_strncmp(l[i].path.data, path->data, path->len) == 0)
        {
            *loaded = &l[i];
            return NGX_OK;
        }
    }

    file = ngx_pnalloc(cf->pool, path->len + 1);
    if (file == NULL) {
        return NGX_ERROR;
    }

    ngx_cpystrn(file, path->data, path->len + 1);

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    if (faas_manifest_load((char *) file, &m, &err) != FAAS_OK) {
        faas_error_format(&err, (char *) msg, sizeof(msg));
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%s", msg);
        return NGX_ERROR;
    }

    cln->handler = ngx_http_faas_manifest_cleanup;
    cln->data = m;

    if (faas_manifest_check_code(m, &err) != FAAS_OK) {
        faas_error_format(&err, (char *) msg, sizeof(msg));
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%s", msg);
        return NGX_ERROR;
    }

    for (i = 0; i < m->nnotes; i++) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, cf->log, 0, "faas: %s",
                       m->notes[i]);
    }

    l = ngx_array_push(&fmcf->loaded);
    if (l == NULL) {
        return NGX_ERROR;
    }

    l->path.data = file;
    l->path.len = path->len;
    l->manifest = m;

    if (ngx_http_faas_add_functions(cf, fmcf, m) != NGX_OK) {
        return NGX_ERROR;
    }

    *loaded = l;

    return NGX_OK;
}


static ngx_int_t
ngx_http_faas_add_functions(ngx_conf_t *cf, ngx_http_faas_main_conf_t *fmcf,
    faas_manifest_t *m)
{
    size_t                      i;
    ngx_str_t                   name;
    const faas_function_t      *spec;
    ngx_http_faas_function_t   *fn, **fnp;

    for (i = 0; i < m->nfunctions; i++) {
        spec = &m->functions[i];

        name.data = (u_char *) spec->name;
        name.len = ngx_strlen(spec->name);

        fn = ngx_http_faas_find_function(fmcf, &name);

        if (fn != NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "%s:%ud:%ud: function \"%V\" is already "
                               "declared at %s:%ud:%ud",
                               m->file, spec->line, spec->column, &name,
                               fn->manifest->file, fn->spec->line,
                               fn->spec->column);
            return NGX_ERROR;
        }

        fn = ngx_pcalloc(cf->pool, sizeof(ngx_http_faas_function_t));
        if (fn == NULL) {
            return NGX_ERROR;
        }

        fn->name = name;
        fn->spec = spec;
        fn->manifest = m;
        fn->timeout = spec->timeout_ms;
        fn->nslots = spec->instances ? spec->instances : 1;

        fnp = ngx_array_push(&fmcf->functions);
        if (fnp == NULL) {
            return NGX_ERROR;
        }

        *fnp = fn;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_faas_compile_routes(ngx_conf_t *cf, ngx_http_faas_srv_conf_t *fscf)
{
    size_t                       i, j;
    ngx_str_t                    name;
    ngx_uint_t                   k;
    faas_error_t                 err;
    faas_router_t               *router;
    faas_manifest_t             *m;
    ngx_pool_cleanup_t          *cln;
    const faas_function_t       *spec;
    faas_http_event_t           *ev;
    ngx_http_faas_loaded_t     **lp;
    ngx_http_faas_function_t    *fn;
    ngx_http_faas_main_conf_t   *fmcf;
    u_char                       msg[NGX_MAX_ERROR_STR];

    fmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_faas_module);

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    router = faas_router_create();
    if (router == NULL) {
        return NGX_ERROR;
    }

    cln->handler = ngx_http_faas_router_cleanup;
    cln->data = router;

    lp = fscf->manifests->elts;

    for (k = 0; k < fscf->manifests->nelts; k++) {
        m = lp[k]->manifest;

        for (i = 0; i < m->nfunctions; i++) {
            spec = &m->functions[i];

            name.data = (u_char *) spec->name;
            name.len = ngx_strlen(spec->name);

            fn = ngx_http_faas_find_function(fmcf, &name);
            if (fn == NULL) {
                return NGX_ERROR;
            }

            for (j = 0; j < spec->nevents; j++) {
                ev = &spec->events[j];

                if (faas_router_add(router, ev->path, ev->methods, fn,
                                    m->file, ev->line, ev->column, &err)
                    != FAAS_OK)
                {
                    goto failed;
                }
            }
        }
    }

    if (faas_router_compile(router, &err) != FAAS_OK) {
        goto failed;
    }

    fscf->router = router;

    return NGX_OK;

failed:

    faas_error_format(&err, (char *) msg, sizeof(msg));
    ngx_log_error(NGX_LOG_EMERG, cf->log, 0, "%s", msg);

    return NGX_ERROR;
}


ngx_int_t
ngx_http_faas_init_functions(ngx_conf_t *cf, ngx_http_faas_main_conf_t *fmcf)
{
    u_char                      where[NGX_MAX_PATH + 64];
    ngx_uint_t                  i;
    ngx_http_faas_function_t  **fn;

    fn = fmcf->functions.elts;

    for (i = 0; i < fmcf->functions.nelts; i++) {

        if (fn[i]->spec->aggregate != NULL) {

            /* an aggregate has calls, not workers */

            ngx_snprintf(where, sizeof(where), "%s:%ui:%ui%Z",
                         fn[i]->manifest->file, fn[i]->spec->line,
                         fn[i]->spec->column);

            fn[i]->aggregate = ngx_http_faas_aggregate_resolve(cf,
                                                  fn[i]->spec->aggregate,
                                                  (char *) where);
            if (fn[i]->aggregate == NULL) {
                return NGX_ERROR;
            }

            fn[i]->nslots = 0;
            continue;
        }

        if (ngx_http_faas_init_slots(cf->log, NGX_LOG_EMERG, cf->pool,
                                     &fmcf->socket_dir, fn[i])
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static void
ngx_http_faas_manifest_cleanup(void *data)
{
    faas_manifest_free(data);
}


static void
ngx_http_faas_router_cleanup(void *data)
{
    faas_router_free(data);
}
