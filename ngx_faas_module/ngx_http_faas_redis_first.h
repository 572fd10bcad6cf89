/*
 * Copyright (C) ngx_faas authors
 */


#ifndef _NGX_HTTP_FAAS_REDIS_FIRST_H_INCLUDED_
#define _NGX_HTTP_FAAS_REDIS_FIRST_H_INCLUDED_


#include "ngx_http_faas_redis_int.h"


void ngx_http_faas_redis_first_table(ngx_http_faas_redis_t *rd);


#endif /* _NGX_HTTP_FAAS_REDIS_FIRST_H_INCLUDED_ */
