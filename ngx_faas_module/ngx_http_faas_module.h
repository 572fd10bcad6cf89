/*
 * Copyright (C) ngx_faas authors
 */


#ifndef _NGX_HTTP_FAAS_MODULE_H_INCLUDED_
#define _NGX_HTTP_FAAS_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <faas_manifest.h>
#include <faas_router.h>
#include <faas_proto.h>


/* a slot that failed is skipped for this long unless every slot failed */
#define NGX_HTTP_FAAS_FAIL_TIMEOUT  1000

#define NGX_HTTP_FAAS_TRACE_ID_MAX  64


typedef struct ngx_http_faas_function_s  ngx_http_faas_function_t;


/* one warm worker's socket, as seen by one nginx worker process */
typedef struct {
    ngx_str_t                    name;        /* "unix:/dir/fn-0.sock" */
    struct sockaddr_un           sockaddr;
    socklen_t                    socklen;

    ngx_uint_t                   active;      /* requests in flight */
    ngx_msec_t                   failed_at;
    unsigned                     failed:1;

    ngx_queue_t                  cache;       /* idle connections */
    ngx_queue_t                  free;        /* unused cache items */
} ngx_http_faas_slot_t;


typedef struct {
    ngx_queue_t                  queue;
    ngx_connection_t            *connection;
    ngx_http_faas_slot_t        *slot;
} ngx_http_faas_cached_t;


struct ngx_http_faas_function_s {
    ngx_str_t                    name;
    const faas_function_t       *spec;
    const faas_manifest_t       *manifest;

    ngx_msec_t                   timeout;     /* 0: faas_read_timeout */
    ngx_uint_t                   nslots;
    ngx_http_faas_slot_t        *slots;
};


typedef struct {
    ngx_str_t                    path;        /* as resolved */
    faas_manifest_t             *manifest;
} ngx_http_faas_loaded_t;


typedef struct {
    ngx_array_t                  loaded;      /* ngx_http_faas_loaded_t */
    ngx_array_t                  functions;   /* ngx_http_faas_function_t * */
    ngx_str_t                    socket_dir;
    ngx_uint_t                   keepalive;
    ngx_msec_t                   keepalive_timeout;
} ngx_http_faas_main_conf_t;


typedef struct {
    ngx_array_t                 *manifests;   /* ngx_http_faas_loaded_t * */
    faas_router_t               *router;
} ngx_http_faas_srv_conf_t;


typedef struct {
    ngx_http_upstream_conf_t     upstream;
    ngx_flag_t                   enabled;
    ngx_str_t                    function_name;
    ngx_http_faas_function_t    *function;    /* faas_pass FUNCTION */
    ngx_str_t                    conf_file;
    ngx_uint_t                   conf_line;
} ngx_http_faas_loc_conf_t;


typedef struct {
    ngx_http_request_t          *request;
    ngx_http_faas_function_t    *function;
    ngx_str_t                    route;
    ngx_str_t                    trace_id;
    faas_match_t                 match;

    ngx_http_faas_slot_t        *slot;        /* the attempt's slot */
    uint64_t                     tried;
    ngx_uint_t                   close;       /* worker asked to close */
    off_t                        body_len;
} ngx_http_faas_ctx_t;


extern ngx_module_t  ngx_http_faas_module;


/* ngx_http_faas_manifest.c */
char *ngx_http_faas_manifest(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
ngx_int_t ngx_http_faas_compile_routes(ngx_conf_t *cf,
    ngx_http_faas_srv_conf_t *fscf);
ngx_http_faas_function_t *ngx_http_faas_find_function(
    ngx_http_faas_main_conf_t *fmcf, ngx_str_t *name);
ngx_int_t ngx_http_faas_init_functions(ngx_conf_t *cf,
    ngx_http_faas_main_conf_t *fmcf);

/* ngx_http_faas_handler.c */
ngx_int_t ngx_http_faas_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_faas_trace_init(ngx_cycle_t *cycle);

/* ngx_http_faas_upstream.c */
ngx_int_t ngx_http_faas_upstream_start(ngx_http_request_t *r,
    ngx_http_faas_ctx_t *ctx);

/* ngx_http_faas_peer.c */
ngx_int_t ngx_http_faas_peer_init(ngx_http_request_t *r,
    ngx_http_upstream_srv_conf_t *us);
ngx_int_t ngx_http_faas_keepalive_init(ngx_conf_t *cf,
    ngx_http_faas_main_conf_t *fmcf);

/* ngx_http_faas_variables.c */
ngx_int_t ngx_http_faas_add_variables(ngx_conf_t *cf);


#endif /* _NGX_HTTP_FAAS_MODULE_H_INCLUDED_ */
