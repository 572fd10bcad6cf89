/*
 * Copyright (C) ngx_faas authors
 */


#ifndef _NGX_HTTP_FAAS_HANDLER_H_INCLUDED_
#define _NGX_HTTP_FAAS_HANDLER_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_faas_module.h"


ngx_int_t ngx_http_faas_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_faas_trace_init(ngx_cycle_t *cycle);
ngx_int_t ngx_http_faas_trace_id(ngx_http_request_t *r,
    ngx_http_faas_ctx_t *ctx);


#endif /* _NGX_HTTP_FAAS_HANDLER_H_INCLUDED_ */
