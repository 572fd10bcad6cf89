/*
 * Copyright (C) ngx_faas authors
 */


#ifndef _NGX_HTTP_FAAS_REQUEST_H_INCLUDED_
#define _NGX_HTTP_FAAS_REQUEST_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_faas_module.h"


const char *ngx_http_faas_request_value(ngx_http_request_t *r,
    unsigned source, const char *name, size_t name_len, size_t *len);
ngx_table_elt_t *ngx_http_faas_find_header(ngx_http_request_t *r,
    u_char *name, size_t len);


#endif /* _NGX_HTTP_FAAS_REQUEST_H_INCLUDED_ */
