/*
 * Copyright (C) ngx_faas authors
 */


#ifndef _NGX_HTTP_FAAS_VARIABLES_H_INCLUDED_
#define _NGX_HTTP_FAAS_VARIABLES_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_faas_module.h"


ngx_int_t ngx_http_faas_add_variables(ngx_conf_t *cf);


#endif /* _NGX_HTTP_FAAS_VARIABLES_H_INCLUDED_ */
