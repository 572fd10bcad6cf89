/*
 * Copyright (C) ngx_faas authors
 *
 * The Redis client's state in a worker process, shared by its files
 * (ngx_http_faas_redis*.c) and by no other.
 */


#ifndef _NGX_HTTP_FAAS_REDIS_INT_H_INCLUDED_
#define _NGX_HTTP_FAAS_REDIS_INT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/hiredis.h>

#include "ngx_http_faas_module.h"
#include "faas_sync.h"


#define NGX_HTTP_FAAS_REDIS_BACKOFF_MIN  100
#define NGX_HTTP_FAAS_REDIS_BACKOFF_MAX  5000
#define NGX_HTTP_FAAS_REDIS_PENDING      8
#define NGX_HTTP_FAAS_REDIS_READ         65536
#define NGX_HTTP_FAAS_REDIS_REASON       256
#define NGX_HTTP_FAAS_REDIS_BIG          (1024 * 1024)

/* what a reply answers: the transport's own, then the sync's */
#define NGX_HTTP_FAAS_REPLY_NONE         0
#define NGX_HTTP_FAAS_REPLY_AUTH         1
#define NGX_HTTP_FAAS_REPLY_SELECT       2
#define NGX_HTTP_FAAS_REPLY_SUBSCRIBE    3
#define NGX_HTTP_FAAS_REPLY_PING         4
#define NGX_HTTP_FAAS_REPLY_GENERATION   5
#define NGX_HTTP_FAAS_REPLY_TABLE        6


typedef struct ngx_http_faas_redis_s       ngx_http_faas_redis_t;
typedef struct ngx_http_faas_redis_conn_s  ngx_http_faas_redis_conn_t;

/*
 * The transport hands what is not its own to these, set by the sync
 * (ngx_http_faas_redis_sync.c): so calls go one way, the sync calling
 * the transport.  NGX_ERROR when the connection went meanwhile.
 */
typedef ngx_int_t (*ngx_http_faas_redis_connected_pt)(
    ngx_http_faas_redis_conn_t *rc);
typedef ngx_int_t (*ngx_http_faas_redis_reply_pt)(
    ngx_http_faas_redis_conn_t *rc, ngx_uint_t kind, redisReply *r);
typedef void (*ngx_http_faas_redis_changed_pt)(
    ngx_http_faas_redis_conn_t *rc);


struct ngx_http_faas_redis_conn_s {
    ngx_http_faas_redis_t       *redis;
    const char                  *role;        /* "commands", "events" */
    ngx_peer_connection_t        peer;

    /*
     * The connection's own log: nginx's connect() and recv() errors land
     * here, to be said once as the reason the connection went, instead
     * of once per attempt in error.log.
     */
    ngx_log_t                    log;

    /* SUBSCRIBEd to when set; else a connection for commands */
    const char                  *channel;

    /* the first commands queued once connected */
    ngx_http_faas_redis_connected_pt  connected;
    /* the replies to commands of kinds the transport does not know */
    ngx_http_faas_redis_reply_pt      reply;
    /* a message on the channel, or subscribed anew */
    ngx_http_faas_redis_changed_pt    changed;

    redisReader                 *reader;
    size_t                       unparsed;    /* of a reply not yet whole */

    u_char                      *out;         /* commands not yet sent */
    size_t                       out_pos;
    size_t                       out_len;
    size_t                       out_size;

    ngx_uint_t                   pending[NGX_HTTP_FAAS_REDIS_PENDING];
    ngx_uint_t                   npending;

    ngx_event_t                  retry;
    ngx_msec_t                   backoff;
    ngx_uint_t                   attempts;    /* failed since it went */

    unsigned                     connecting:1;
    unsigned                     shrink:1;    /* after a big reply */
    unsigned                     up:1;
    unsigned                     was_up:1;
    unsigned                     down_logged:1;

    size_t                       reason_len;
    u_char                       reason[NGX_HTTP_FAAS_REDIS_REASON];
};


struct ngx_http_faas_redis_s {
    ngx_cycle_t                 *cycle;
    ngx_http_faas_main_conf_t   *fmcf;

    ngx_http_faas_redis_conn_t   cmd;
    ngx_http_faas_redis_conn_t   sub;
    ngx_event_t                  check;

    /* the generations applied, rejected and asked for (the engine's) */
    faas_sync_t                  sync;

    uint64_t                     missing;     /* the last one without table */
    ngx_uint_t                   reconnections;

    unsigned                     checking:1;  /* a GET is on its way */
    unsigned                     again:1;     /* check again after it */
    unsigned                     unset_logged:1;
    unsigned                     invalid_logged:1;
    unsigned                     epoch_logged:1;
    unsigned                     cache_failed:1;

    char                         generation_key[FAAS_KEY_MAX];
    char                         epoch_key[FAAS_KEY_MAX];
    char                         events_key[FAAS_KEY_MAX];
};


/* ngx_current_msec stands still while a table is built */

static ngx_inline ngx_msec_t
ngx_http_faas_redis_msec(void)
{
    struct timespec  ts;

    (void) clock_gettime(CLOCK_MONOTONIC, &ts);

    return (ngx_msec_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


#endif /* _NGX_HTTP_FAAS_REDIS_INT_H_INCLUDED_ */
