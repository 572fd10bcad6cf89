/*
 * Copyright (C) ngx_faas authors
 *
 * $faas_function, $faas_version, $faas_route and $faas_trace_id, for
 * logs.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_faas_module.h"
#include "ngx_http_faas_variables.h"


static ngx_int_t ngx_http_faas_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_faas_version_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


static ngx_http_variable_t  ngx_http_faas_vars[] = {

    { ngx_string("faas_function"), NULL, ngx_http_faas_variable,
      offsetof(ngx_http_faas_ctx_t, function), NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("faas_version"), NULL, ngx_http_faas_version_variable,
      0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("faas_route"), NULL, ngx_http_faas_variable,
      offsetof(ngx_http_faas_ctx_t, route), NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("faas_trace_id"), NULL, ngx_http_faas_variable,
      offsetof(ngx_http_faas_ctx_t, trace_id), NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


ngx_int_t
ngx_http_faas_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_faas_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_faas_variable(ngx_http_request_t *r, ngx_http_variable_value_t *v,
    uintptr_t data)
{
    ngx_str_t            *s;
    ngx_http_faas_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_faas_module);

    /* a 404 or 405 of the gateway has a trace id and no function */

    if (ctx == NULL
        || (ctx->function == NULL
            && (data != offsetof(ngx_http_faas_ctx_t, trace_id)
                || ctx->trace_id.len == 0)))
    {
        v->not_found = 1;
        return NGX_OK;
    }

    if (data == offsetof(ngx_http_faas_ctx_t, function)) {
        s = &ctx->function->name;

    } else {
        s = (ngx_str_t *) ((char *) ctx + data);
    }

    v->len = s->len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;
    v->data = s->data;

    return NGX_OK;
}


/* the version of a function from Redis; a manifest's function has none */

static ngx_int_t
ngx_http_faas_version_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_faas_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_faas_module);

    if (ctx == NULL || ctx->function == NULL
        || ctx->function->version.len == 0)
    {
        v->not_found = 1;
        return NGX_OK;
    }

    v->len = ctx->function->version.len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;
    v->data = ctx->function->version.data;

    return NGX_OK;
}
