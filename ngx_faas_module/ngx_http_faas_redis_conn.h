/*
 * Copyright (C) ngx_faas authors
 */


#ifndef _NGX_HTTP_FAAS_REDIS_CONN_H_INCLUDED_
#define _NGX_HTTP_FAAS_REDIS_CONN_H_INCLUDED_


#include "ngx_http_faas_redis_int.h"


void ngx_http_faas_redis_conn_init(ngx_http_faas_redis_t *rd,
    ngx_http_faas_redis_conn_t *rc, const char *role);
void ngx_http_faas_redis_connect(ngx_http_faas_redis_conn_t *rc);
ngx_int_t ngx_http_faas_redis_command(ngx_http_faas_redis_conn_t *rc,
    ngx_uint_t kind, int argc, const char **argv);
ngx_int_t ngx_http_faas_redis_flush(ngx_http_faas_redis_conn_t *rc);
void ngx_http_faas_redis_ping(ngx_http_faas_redis_conn_t *rc);
void ngx_http_faas_redis_up(ngx_http_faas_redis_conn_t *rc);
void ngx_http_faas_redis_lost(ngx_http_faas_redis_conn_t *rc,
    const char *why);
void ngx_http_faas_redis_close(ngx_http_faas_redis_conn_t *rc);


#endif /* _NGX_HTTP_FAAS_REDIS_CONN_H_INCLUDED_ */
