/*
 * Copyright (C) ngx_faas authors
 */


#ifndef _NGX_HTTP_FAAS_AGGREGATE_H_INCLUDED_
#define _NGX_HTTP_FAAS_AGGREGATE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_faas_module.h"


ngx_int_t ngx_http_faas_aggregate_start(ngx_http_request_t *r,
    ngx_http_faas_ctx_t *ctx, ngx_http_faas_agg_conf_t *acf);
ngx_http_faas_agg_call_t *ngx_http_faas_aggregate_call_of(
    ngx_http_request_t *r);


#endif /* _NGX_HTTP_FAAS_AGGREGATE_H_INCLUDED_ */
