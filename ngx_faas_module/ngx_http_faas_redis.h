/*
 * Copyright (C) ngx_faas authors
 */


#ifndef _NGX_HTTP_FAAS_REDIS_H_INCLUDED_
#define _NGX_HTTP_FAAS_REDIS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_faas_module.h"


extern ngx_conf_post_handler_pt  ngx_http_faas_redis_prefix_post;

char *ngx_http_faas_redis(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_faas_redis_init_conf(ngx_conf_t *cf,
    ngx_http_faas_main_conf_t *fmcf);
ngx_int_t ngx_http_faas_redis_init_process(ngx_cycle_t *cycle);
void ngx_http_faas_redis_exit_process(ngx_cycle_t *cycle);
ngx_uint_t ngx_http_faas_redis_reconnections(void);


#endif /* _NGX_HTTP_FAAS_REDIS_H_INCLUDED_ */
