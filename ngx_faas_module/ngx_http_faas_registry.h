/*
 * Copyright (C) ngx_faas authors
 */


#ifndef _NGX_HTTP_FAAS_REGISTRY_H_INCLUDED_
#define _NGX_HTTP_FAAS_REGISTRY_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_faas_module.h"


ngx_http_faas_function_t *ngx_http_faas_find_function(
    ngx_http_faas_main_conf_t *fmcf, ngx_str_t *name);
ngx_int_t ngx_http_faas_init_slots(ngx_log_t *log, ngx_uint_t level,
    ngx_pool_t *pool, ngx_str_t *dir, ngx_http_faas_function_t *fn);


#endif /* _NGX_HTTP_FAAS_REGISTRY_H_INCLUDED_ */
