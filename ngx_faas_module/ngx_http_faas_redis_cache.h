/*
 * Copyright (C) ngx_faas authors
 */


#ifndef _NGX_HTTP_FAAS_REDIS_CACHE_H_INCLUDED_
#define _NGX_HTTP_FAAS_REDIS_CACHE_H_INCLUDED_


#include "ngx_http_faas_redis_int.h"


void ngx_http_faas_redis_cache_load(ngx_http_faas_redis_t *rd);
void ngx_http_faas_redis_cache_save(ngx_http_faas_redis_t *rd,
    const char *json, size_t len);


#endif /* _NGX_HTTP_FAAS_REDIS_CACHE_H_INCLUDED_ */
