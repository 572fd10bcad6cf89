/*
 * Copyright (C) ngx_faas authors
 */


#ifndef _NGX_HTTP_FAAS_TABLE_H_INCLUDED_
#define _NGX_HTTP_FAAS_TABLE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_faas_module.h"


ngx_http_faas_table_t *ngx_http_faas_table_create(ngx_cycle_t *cycle,
    faas_table_t *t, faas_router_t *router, const char *source);
void ngx_http_faas_table_install(ngx_cycle_t *cycle,
    ngx_http_faas_table_t *table);
ngx_http_faas_table_t *ngx_http_faas_table_current(void);
ngx_int_t ngx_http_faas_table_acquire(ngx_http_request_t *r,
    ngx_http_faas_ctx_t *ctx, ngx_http_faas_table_t *table,
    ngx_http_request_t *client);
void ngx_http_faas_table_release(ngx_http_faas_table_t *table);
void ngx_http_faas_table_exit(void);


#endif /* _NGX_HTTP_FAAS_TABLE_H_INCLUDED_ */
