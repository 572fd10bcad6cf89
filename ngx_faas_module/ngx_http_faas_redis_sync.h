/*
 * Copyright (C) ngx_faas authors
 */


#ifndef _NGX_HTTP_FAAS_REDIS_SYNC_H_INCLUDED_
#define _NGX_HTTP_FAAS_REDIS_SYNC_H_INCLUDED_


#include "ngx_http_faas_redis_int.h"


void ngx_http_faas_redis_sync_init(ngx_http_faas_redis_t *rd);
ngx_int_t ngx_http_faas_redis_parse_generation(ngx_http_faas_redis_t *rd,
    redisReply *mget, uint64_t *generation, char *epoch);
ngx_int_t ngx_http_faas_redis_table(ngx_http_faas_redis_t *rd,
    redisReply *r);


#endif /* _NGX_HTTP_FAAS_REDIS_SYNC_H_INCLUDED_ */
