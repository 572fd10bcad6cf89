/*
 * Copyright (C) ngx_faas authors
 */


#ifndef _NGX_HTTP_FAAS_AGGREGATE_CONF_H_INCLUDED_
#define _NGX_HTTP_FAAS_AGGREGATE_CONF_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_faas_module.h"


char *ngx_http_faas_aggregate_block(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_faas_aggregate_call(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_faas_aggregate_key(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_http_faas_agg_conf_t *ngx_http_faas_aggregate_resolve(ngx_conf_t *cf,
    faas_agg_t *agg, const char *where);


#endif /* _NGX_HTTP_FAAS_AGGREGATE_CONF_H_INCLUDED_ */
