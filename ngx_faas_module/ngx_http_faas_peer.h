/*
 * Copyright (C) ngx_faas authors
 */


#ifndef _NGX_HTTP_FAAS_PEER_H_INCLUDED_
#define _NGX_HTTP_FAAS_PEER_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_faas_module.h"


ngx_int_t ngx_http_faas_peer_init(ngx_http_request_t *r,
    ngx_http_upstream_srv_conf_t *us);
ngx_int_t ngx_http_faas_keepalive_init(ngx_conf_t *cf,
    ngx_http_faas_main_conf_t *fmcf);
void ngx_http_faas_keepalive_move(ngx_http_faas_slot_t *from,
    ngx_http_faas_slot_t *to, ngx_uint_t keepalive);
void ngx_http_faas_keepalive_drop(ngx_http_faas_slot_t *slot);


#endif /* _NGX_HTTP_FAAS_PEER_H_INCLUDED_ */
