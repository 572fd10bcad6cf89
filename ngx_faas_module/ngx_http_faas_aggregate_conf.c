/*
 * Copyright (C) ngx_faas authors
 *
 * The "faas_aggregate { ... }" block and its "call NAME { ... }" blocks:
 * each directive inside is a key of the engine's declaration
 * (faas_aggregate.h), the same keys f.yml's "aggregate:" has.  And the
 * resolution of an aggregation's calls, for both: function names to the
 * manifests' functions, limits to nginx's types.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_faas_module.h"
#include "ngx_http_faas_aggregate_conf.h"
#include "ngx_http_faas_handler.h"
#include "ngx_http_faas_registry.h"


#define NGX_HTTP_FAAS_AGG_KEY_MAX  256


static char *ngx_http_faas_aggregate_set(ngx_conf_t *cf,
    ngx_http_faas_loc_conf_t *flcf, const char *key, u_char *value);
static void ngx_http_faas_aggregate_free(void *data);


char *
ngx_http_faas_aggregate_block(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_faas_loc_conf_t *flcf = conf;

    char                      *rv;
    ngx_str_t                  file;
    ngx_uint_t                 line;
    ngx_conf_t                 save;
    faas_agg_t                *agg;
    faas_error_t               err;
    ngx_pool_cleanup_t        *cln;
    ngx_http_core_loc_conf_t  *clcf;

    if (flcf->agg_parsed != NULL) {
        return "is duplicate";
    }

    if (flcf->enabled != NGX_CONF_UNSET) {
        return "cannot be used with \"faas_pass\" in the same location";
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_CONF_ERROR;
    }

    agg = faas_agg_create();
    if (agg == NULL) {
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_faas_aggregate_free;
    cln->data = agg;

    flcf->agg_parsed = agg;
    flcf->agg_call = -1;
    flcf->enabled = 1;
    flcf->conf_file = cf->conf_file->file.name;
    flcf->conf_line = cf->conf_file->line;

    file = cf->conf_file->file.name;
    line = cf->conf_file->line;

    save = *cf;
    cf->cmd_type = NGX_HTTP_FAAS_AGG_CONF;

    rv = ngx_conf_parse(cf, NULL);

    *cf = save;

    if (rv != NGX_CONF_OK) {
        return rv;
    }

    if (faas_agg_compile(agg, &err) != FAAS_OK) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "faas_aggregate: %s in %V:%ui", err.msg, &file, line);
        return NGX_CONF_ERROR;
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_faas_handler;

    return NGX_CONF_OK;
}


char *
ngx_http_faas_aggregate_call(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_faas_loc_conf_t *flcf = conf;

    int            call;
    char          *rv;
    ngx_str_t     *value;
    ngx_conf_t     save;
    faas_error_t   err;

    value = cf->args->elts;

    call = faas_agg_call_add(flcf->agg_parsed, (char *) value[1].data, &err);

    if (call < 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%s", err.msg);
        return NGX_CONF_ERROR;
    }

    flcf->agg_call = call;

    save = *cf;
    cf->cmd_type = NGX_HTTP_FAAS_CALL_CONF;

    rv = ngx_conf_parse(cf, NULL);

    *cf = save;

    flcf->agg_call = -1;

    return rv;
}


/*
 * Every other directive of the two blocks: its name is the engine's key.
 * "query NAME VALUE", "header NAME VALUE" and "rename PATH NAME" make the
 * keys "query.NAME", "header.NAME" and "rename.PATH"; "pick" and "omit"
 * take their paths one by one; "optional" has no value.
 */

char *
ngx_http_faas_aggregate_key(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_faas_loc_conf_t *flcf = conf;

    char        *rv;
    u_char       key[NGX_HTTP_FAAS_AGG_KEY_MAX];
    ngx_str_t   *value;
    ngx_uint_t   i;

    value = cf->args->elts;

    if (cmd->type & NGX_CONF_NOARGS) {
        return ngx_http_faas_aggregate_set(cf, flcf, (char *) cmd->name.data,
                                           (u_char *) "true");
    }

    if (cmd->type & NGX_CONF_TAKE2) {
        if (cmd->name.len + 1 + value[1].len >= NGX_HTTP_FAAS_AGG_KEY_MAX) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\": the name \"%V\" is too long",
                               &cmd->name, &value[1]);
            return NGX_CONF_ERROR;
        }

        ngx_sprintf(key, "%V.%V%Z", &cmd->name, &value[1]);

        return ngx_http_faas_aggregate_set(cf, flcf, (char *) key,
                                           value[2].data);
    }

    for (i = 1; i < cf->args->nelts; i++) {
        rv = ngx_http_faas_aggregate_set(cf, flcf, (char *) cmd->name.data,
                                         value[i].data);
        if (rv != NGX_CONF_OK) {
            return rv;
        }
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_faas_aggregate_set(ngx_conf_t *cf, ngx_http_faas_loc_conf_t *flcf,
    const char *key, u_char *value)
{
    int           rc;
    faas_error_t  err;

    /* nginx's tokens are NUL-terminated */

    if (flcf->agg_call >= 0) {
        rc = faas_agg_call_set(flcf->agg_parsed, (int) flcf->agg_call, key,
                               (char *) value, &err);

    } else {
        rc = faas_agg_set(flcf->agg_parsed, key, (char *) value, &err);
    }

    if (rc != FAAS_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%s", err.msg);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static void
ngx_http_faas_aggregate_free(void *data)
{
    faas_agg_free(data);
}


/*
 * After every manifest is loaded: a call to a function that no manifest
 * declares goes to the Redis table at request time, and is an error
 * when there is none.  "where" names the declaration in messages.
 */

ngx_http_faas_agg_conf_t *
ngx_http_faas_aggregate_resolve(ngx_conf_t *cf, faas_agg_t *agg,
    const char *where)
{
    size_t                       i, n;
    const char                  *name;
    faas_agg_call_info_t         info;
    ngx_http_faas_agg_conf_t    *acf;
    ngx_http_faas_main_conf_t   *fmcf;
    ngx_http_faas_agg_target_t  *t;

    fmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_faas_module);

    acf = ngx_pcalloc(cf->pool, sizeof(ngx_http_faas_agg_conf_t));
    if (acf == NULL) {
        return NULL;
    }

    acf->agg = agg;
    acf->ncalls = faas_agg_ncalls(agg);
    acf->timeout = faas_agg_timeout(agg);

    acf->targets = ngx_pcalloc(cf->pool,
                          acf->ncalls * sizeof(ngx_http_faas_agg_target_t));
    if (acf->targets == NULL) {
        return NULL;
    }

    for (i = 0; i < acf->ncalls; i++) {
        faas_agg_call_info(agg, i, &info);

        t = &acf->targets[i];

        t->name.data = (u_char *) info.name;
        t->name.len = ngx_strlen(info.name);
        t->kind = info.kind;
        t->timeout = info.timeout_ms;
        t->max_size = info.max_size;
        t->required = info.required;
        t->forward_body = info.forward_body;

        if (info.kind != FAAS_AGG_FUNCTION) {
            continue;
        }

        t->function.data = (u_char *) info.function;
        t->function.len = ngx_strlen(info.function);

        t->fn = ngx_http_faas_find_function(fmcf, &t->function);

        if (t->fn == NULL && fmcf->redis == NULL) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "faas_aggregate: call \"%V\" names the unknown "
                          "function \"%V\" (no loaded f.yml declares it, "
                          "and there is no \"faas_redis\") in %s",
                          &t->name, &t->function, where);
            return NULL;
        }
    }

    n = faas_agg_nforward(agg);

    acf->forward = ngx_pcalloc(cf->pool, (n + 1) * sizeof(ngx_str_t));
    if (acf->forward == NULL) {
        return NULL;
    }

    for (i = 0; i < n; i++) {
        name = faas_agg_forward(agg, i);
        acf->forward[i].data = (u_char *) name;
        acf->forward[i].len = ngx_strlen(name);
    }

    acf->nforward = n;

    return acf;
}
