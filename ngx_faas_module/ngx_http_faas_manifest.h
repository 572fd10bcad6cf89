/*
 * Copyright (C) ngx_faas authors
 */


#ifndef _NGX_HTTP_FAAS_MANIFEST_H_INCLUDED_
#define _NGX_HTTP_FAAS_MANIFEST_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_faas_module.h"


char *ngx_http_faas_manifest(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
ngx_int_t ngx_http_faas_compile_routes(ngx_conf_t *cf,
    ngx_http_faas_srv_conf_t *fscf);
ngx_int_t ngx_http_faas_init_functions(ngx_conf_t *cf,
    ngx_http_faas_main_conf_t *fmcf);


#endif /* _NGX_HTTP_FAAS_MANIFEST_H_INCLUDED_ */
