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
#include <faas_socket.h>
#include <faas_table.h>
#include <faas_release.h>
#include <faas_aggregate.h>


/* a slot that failed is skipped for this long unless every slot failed */
#define NGX_HTTP_FAAS_FAIL_TIMEOUT  1000

#define NGX_HTTP_FAAS_TRACE_ID_MAX  64

/*
 * nginx 1.23 links the headers of one name through h->next: a header
 * fresh from ngx_list_push(), or copied from another list, must end
 * its chain.
 */
#if (nginx_version >= 1023000)
#define ngx_http_faas_header_unlink(h)  (h)->next = NULL
#else
#define ngx_http_faas_header_unlink(h)
#endif

/*
 * The contexts of the blocks inside "faas_aggregate": bits that no
 * nginx context uses, so that their directives are allowed there only.
 */
#define NGX_HTTP_FAAS_AGG_CONF      0x00020000
#define NGX_HTTP_FAAS_CALL_CONF     0x00040000


typedef struct ngx_http_faas_function_s  ngx_http_faas_function_t;
typedef struct ngx_http_faas_table_s     ngx_http_faas_table_t;
typedef struct ngx_http_faas_agg_ctx_s   ngx_http_faas_agg_ctx_t;
typedef struct ngx_http_faas_agg_call_s  ngx_http_faas_agg_call_t;


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

    /*
     * a Redis table's slot: its cache items come from this pool the
     * first time a connection is kept, so that a table of many functions
     * costs nothing for the slots that are never used
     */
    ngx_pool_t                  *pool;
} ngx_http_faas_slot_t;


typedef struct {
    ngx_queue_t                  queue;
    ngx_connection_t            *connection;
    ngx_http_faas_slot_t        *slot;
} ngx_http_faas_cached_t;


/* a call of an aggregation, as resolved at configuration time */
typedef struct {
    ngx_str_t                    name;
    unsigned                     kind;        /* FAAS_AGG_LOCATION, ... */
    ngx_str_t                    function;    /* FAAS_AGG_FUNCTION */
    ngx_http_faas_function_t    *fn;          /* a manifest's; NULL: the
                                                 Redis table's, by name */
    ngx_msec_t                   timeout;
    size_t                       max_size;
    unsigned                     required:1;
    unsigned                     forward_body:1;
} ngx_http_faas_agg_target_t;


/*
 * An aggregation: the engine's declaration, from f.yml or from a
 * "faas_aggregate" block, with its calls resolved.
 */
typedef struct {
    faas_agg_t                  *agg;
    ngx_uint_t                   ncalls;
    ngx_http_faas_agg_target_t  *targets;
    ngx_str_t                   *forward;     /* header names */
    ngx_uint_t                   nforward;
    ngx_msec_t                   timeout;
} ngx_http_faas_agg_conf_t;


/*
 * What serves a request: a manifest's function, or one version of a
 * function of the Redis table (each version has its own sockets).
 */
struct ngx_http_faas_function_s {
    ngx_str_t                    name;
    ngx_str_t                    version;     /* Redis: this version */
    const faas_function_t       *spec;        /* manifest functions */
    const faas_manifest_t       *manifest;

    ngx_msec_t                   timeout;     /* 0: faas_read_timeout */
    ngx_http_faas_agg_conf_t    *aggregate;   /* an aggregate's; no slots */
    ngx_uint_t                   nslots;
    ngx_http_faas_slot_t        *slots;
};


/*
 * A routing table from Redis as one worker process serves it: built
 * whole in its own pool, then swapped in.  The table in force holds one
 * reference, each request that matched through it another, so that a
 * table that was replaced lives until its last request ends.
 */
struct ngx_http_faas_table_s {
    ngx_pool_t                  *pool;
    ngx_uint_t                   refs;
    uint64_t                     generation;
    faas_table_t                *table;       /* the engine's, for routes */
    faas_router_t               *router;
    ngx_uint_t                   nfunctions;

    /*
     * As table->functions: each function's versions, as its
     * faas_table_function_t's, made when it is first called (NULL till
     * then); each version's slots when it first serves a request.
     */
    ngx_http_faas_function_t   **functions;
    ngx_str_t                    socket_dir;
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

    faas_redis_url_t            *redis;       /* NULL: no faas_redis */
    ngx_str_t                    redis_name;  /* the URL, password hidden */
    struct sockaddr             *redis_sockaddr;
    socklen_t                    redis_socklen;
    ngx_str_t                    redis_prefix;
    ngx_str_t                    redis_cache;
    ngx_msec_t                   redis_check;
    ngx_msec_t                   redis_timeout;
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
    ngx_flag_t                   version_header;
    ngx_str_t                    conf_file;
    ngx_uint_t                   conf_line;

    ngx_http_faas_agg_conf_t    *aggregate;   /* faas_aggregate { } */
    faas_agg_t                  *agg_parsed;  /* while its block is read */
    ngx_int_t                    agg_call;
} ngx_http_faas_loc_conf_t;


typedef struct {
    ngx_http_request_t          *request;
    ngx_http_faas_function_t    *function;    /* Redis: the version picked */
    ngx_http_faas_table_t       *table;       /* held until the request ends */
    ngx_str_t                    route;
    ngx_str_t                    trace_id;
    faas_match_t                 match;

    ngx_http_faas_slot_t        *slot;        /* the attempt's slot */
    uint64_t                     tried;
    ngx_uint_t                   close;       /* worker asked to close */
    off_t                        body_len;

    ngx_http_faas_agg_ctx_t     *agg;         /* this request aggregates */
} ngx_http_faas_ctx_t;


/* one call of an aggregation, in flight or done */
struct ngx_http_faas_agg_call_s {
    ngx_http_faas_agg_ctx_t     *actx;
    ngx_uint_t                   index;
    ngx_http_faas_agg_target_t  *target;
    ngx_http_request_t          *sr;
    ngx_event_t                  timer;
    ngx_http_post_subrequest_t   ps;

    /* the answer, as the capture filter saw it */
    ngx_uint_t                   status;
    ngx_str_t                    content_type;
    ngx_chain_t                 *body;
    ngx_chain_t                 *last;
    size_t                       size;

    ngx_msec_t                   start;       /* for the debug log */

    unsigned                     started:1;
    unsigned                     finished:1;
    unsigned                     too_big:1;
};


extern ngx_module_t  ngx_http_faas_module;


#endif /* _NGX_HTTP_FAAS_MODULE_H_INCLUDED_ */
