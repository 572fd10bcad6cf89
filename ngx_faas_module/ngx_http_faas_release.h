/*
 * Copyright (C) ngx_faas authors
 */


#ifndef _NGX_HTTP_FAAS_RELEASE_H_INCLUDED_
#define _NGX_HTTP_FAAS_RELEASE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_faas_module.h"


void ngx_http_faas_release_init(uint64_t seed);
size_t ngx_http_faas_release_pick(ngx_http_request_t *r,
    const faas_table_function_t *tf);


#endif /* _NGX_HTTP_FAAS_RELEASE_H_INCLUDED_ */
