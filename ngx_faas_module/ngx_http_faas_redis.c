/*
 * Copyright (C) ngx_faas authors
 *
 * The Redis client of a worker process (docs/redis.md, "Gateways"): two
 * connections that nginx owns and drives, one subscribed to P:events and
 * one for commands.  hiredis only formats commands and parses replies,
 * so nginx's event loop, timers and connection accounting apply as to
 * any upstream.  A message, or the faas_redis_check timer, makes the
 * worker read P:generation; a new generation's table is fetched, checked
 * by the engine, built and swapped in (ngx_http_faas_table.c).  Redis
 * being away never stops the table in force from serving, and the
 * faas_redis_cache file gives a worker a table before Redis answers.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/hiredis.h>

#if (__GLIBC__)
#include <malloc.h>
#endif

#include "ngx_http_faas_module.h"
#include "ngx_http_faas_redis.h"
#include "ngx_http_faas_table.h"


#define NGX_HTTP_FAAS_REDIS_BACKOFF_MIN  100
#define NGX_HTTP_FAAS_REDIS_BACKOFF_MAX  5000
#define NGX_HTTP_FAAS_REDIS_PENDING      8
#define NGX_HTTP_FAAS_REDIS_READ         65536
#define NGX_HTTP_FAAS_REDIS_REASON       256
#define NGX_HTTP_FAAS_REDIS_BIG          (1024 * 1024)

/* what a reply answers */
#define NGX_HTTP_FAAS_REPLY_NONE         0
#define NGX_HTTP_FAAS_REPLY_AUTH         1
#define NGX_HTTP_FAAS_REPLY_SELECT       2
#define NGX_HTTP_FAAS_REPLY_SUBSCRIBE    3
#define NGX_HTTP_FAAS_REPLY_PING         4
#define NGX_HTTP_FAAS_REPLY_GENERATION   5
#define NGX_HTTP_FAAS_REPLY_TABLE        6


typedef struct ngx_http_faas_redis_s  ngx_http_faas_redis_t;


typedef struct {
    ngx_http_faas_redis_t       *redis;
    const char                  *role;        /* "commands", "events" */
    ngx_peer_connection_t        peer;

    /*
     * The connection's own log: nginx's connect() and recv() errors land
     * here, to be said once as the reason the connection went, instead
     * of once per attempt in error.log.
     */
    ngx_log_t                    log;

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
} ngx_http_faas_redis_conn_t;


struct ngx_http_faas_redis_s {
    ngx_cycle_t                 *cycle;
    ngx_http_faas_main_conf_t   *fmcf;

    ngx_http_faas_redis_conn_t   cmd;
    ngx_http_faas_redis_conn_t   sub;
    ngx_event_t                  check;

    uint64_t                     fetching;    /* the generation asked for */
    uint64_t                     rejected;    /* the last one refused */
    uint64_t                     missing;     /* the last one without table */
    char                         fetching_epoch[FAAS_TABLE_EPOCH_MAX + 1];
    char                         rejected_epoch[FAAS_TABLE_EPOCH_MAX + 1];
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


static char *ngx_http_faas_redis_prefix_check(ngx_conf_t *cf, void *post,
    void *data);
static void ngx_http_faas_redis_url_cleanup(void *data);
static void ngx_http_faas_redis_conn_init(ngx_http_faas_redis_t *rd,
    ngx_http_faas_redis_conn_t *rc, const char *role);
static void ngx_http_faas_redis_log_writer(ngx_log_t *log, ngx_uint_t level,
    u_char *buf, size_t len);
static void ngx_http_faas_redis_connect(ngx_http_faas_redis_conn_t *rc);
static void ngx_http_faas_redis_retry_handler(ngx_event_t *ev);
static void ngx_http_faas_redis_write_handler(ngx_event_t *wev);
static void ngx_http_faas_redis_read_handler(ngx_event_t *rev);
static ngx_int_t ngx_http_faas_redis_command(ngx_http_faas_redis_conn_t *rc,
    ngx_uint_t kind, int argc, const char **argv);
static ngx_int_t ngx_http_faas_redis_flush(ngx_http_faas_redis_conn_t *rc);
static ngx_int_t ngx_http_faas_redis_replies(ngx_http_faas_redis_conn_t *rc);
static ngx_int_t ngx_http_faas_redis_cmd_reply(
    ngx_http_faas_redis_conn_t *rc, redisReply *r);
static ngx_int_t ngx_http_faas_redis_sub_reply(
    ngx_http_faas_redis_conn_t *rc, redisReply *r);
static ngx_int_t ngx_http_faas_redis_handshake_reply(
    ngx_http_faas_redis_conn_t *rc, ngx_uint_t kind, redisReply *r);
static void ngx_http_faas_redis_reject(ngx_http_faas_redis_t *rd,
    uint64_t generation);
static ngx_int_t ngx_http_faas_redis_parse_generation(
    ngx_http_faas_redis_t *rd, redisReply *mget, uint64_t *generation,
    char *epoch);
static ngx_int_t ngx_http_faas_redis_generation(ngx_http_faas_redis_t *rd,
    redisReply *r);
static ngx_int_t ngx_http_faas_redis_table(ngx_http_faas_redis_t *rd,
    redisReply *r);
static ngx_int_t ngx_http_faas_redis_done(ngx_http_faas_redis_t *rd);
static ngx_int_t ngx_http_faas_redis_ask(ngx_http_faas_redis_t *rd);
static void ngx_http_faas_redis_check(ngx_http_faas_redis_t *rd);
static void ngx_http_faas_redis_check_handler(ngx_event_t *ev);
static void ngx_http_faas_redis_apply(ngx_http_faas_redis_t *rd,
    uint64_t generation, const char *key, const char *json, size_t len);
static ngx_msec_t ngx_http_faas_redis_msec(void);
static void ngx_http_faas_redis_up(ngx_http_faas_redis_conn_t *rc);
static void ngx_http_faas_redis_lost(ngx_http_faas_redis_conn_t *rc,
    const char *why);
static void ngx_http_faas_redis_close(ngx_http_faas_redis_conn_t *rc);
static void ngx_http_faas_redis_load_cache(ngx_http_faas_redis_t *rd);
static void ngx_http_faas_redis_first_table(ngx_http_faas_redis_t *rd);
static redisReply *ngx_http_faas_redis_sync(ngx_http_faas_redis_t *rd,
    redisContext *ctx, ngx_msec_t deadline, const char *what, int argc,
    const char **argv);
static void ngx_http_faas_redis_save_cache(ngx_http_faas_redis_t *rd,
    const char *json, size_t len);


ngx_conf_post_handler_pt  ngx_http_faas_redis_prefix_post =
    ngx_http_faas_redis_prefix_check;


/* per worker process */
static ngx_http_faas_redis_t  *ngx_http_faas_redis_state;


/* configuration */

char *
ngx_http_faas_redis(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_faas_main_conf_t *fmcf = conf;

    size_t               len;
    ngx_str_t           *value;
    ngx_url_t            url;
    faas_error_t         err;
    faas_redis_url_t    *u;
    ngx_pool_cleanup_t  *cln;
    struct sockaddr_un  *sun;
    u_char               msg[NGX_MAX_ERROR_STR];

    if (fmcf->redis) {
        return "is duplicate";
    }

    value = cf->args->elts;

    u = ngx_pcalloc(cf->pool, sizeof(faas_redis_url_t));
    if (u == NULL) {
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_CONF_ERROR;
    }

    /* the engine's messages never quote the URL: it may hold a password */

    if (faas_redis_url_parse((char *) value[1].data, u, &err) != FAAS_OK) {
        faas_error_format(&err, (char *) msg, sizeof(msg));
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "faas_redis: %s", msg);
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_faas_redis_url_cleanup;
    cln->data = u;

    fmcf->redis = u;
    fmcf->redis_name.data = (u_char *) u->safe;
    fmcf->redis_name.len = ngx_strlen(u->safe);

    if (u->path) {
        len = ngx_strlen(u->path);

        sun = ngx_pcalloc(cf->pool, sizeof(struct sockaddr_un));
        if (sun == NULL) {
            return NGX_CONF_ERROR;
        }

        if (len >= sizeof(sun->sun_path)) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "faas_redis: the socket path is longer than "
                               "a Unix socket path may be (%uz bytes)",
                               sizeof(sun->sun_path) - 1);
            return NGX_CONF_ERROR;
        }

        sun->sun_family = AF_UNIX;
        ngx_memcpy(sun->sun_path, u->path, len);

        fmcf->redis_sockaddr = (struct sockaddr *) sun;
        fmcf->redis_socklen = sizeof(struct sockaddr_un);

        return NGX_CONF_OK;
    }

    /* resolved here, like proxy_pass's names: workers never block on DNS */

    ngx_memzero(&url, sizeof(ngx_url_t));

    len = ngx_strlen(u->host);

    url.url.data = ngx_pnalloc(cf->pool, len + sizeof("[]:65535"));
    if (url.url.data == NULL) {
        return NGX_CONF_ERROR;
    }

    url.url.len = ngx_sprintf(url.url.data,
                              ngx_strlchr((u_char *) u->host,
                                          (u_char *) u->host + len, ':')
                              ? "[%s]:%ud" : "%s:%ud",
                              u->host, u->port)
                  - url.url.data;
    url.default_port = (in_port_t) u->port;
    url.no_resolve = 0;

    if (ngx_parse_url(cf->pool, &url) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "faas_redis: %s in \"%V\"",
                           url.err ? url.err : "invalid address",
                           &url.url);
        return NGX_CONF_ERROR;
    }

    if (url.naddrs == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "faas_redis: host \"%s\" not found", u->host);
        return NGX_CONF_ERROR;
    }

    fmcf->redis_sockaddr = url.addrs[0].sockaddr;
    fmcf->redis_socklen = url.addrs[0].socklen;

    return NGX_CONF_OK;
}


static char *
ngx_http_faas_redis_prefix_check(ngx_conf_t *cf, void *post, void *data)
{
    ngx_str_t  *prefix = data;

    if (!faas_redis_prefix_valid((char *) prefix->data, prefix->len)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid faas_redis_prefix \"%V\": 1 to %d of "
                           "[A-Za-z0-9._:-]", prefix, FAAS_REDIS_PREFIX_MAX);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


char *
ngx_http_faas_redis_init_conf(ngx_conf_t *cf, ngx_http_faas_main_conf_t *fmcf)
{
    if (fmcf->redis_prefix.data == NULL) {
        ngx_str_set(&fmcf->redis_prefix, FAAS_REDIS_PREFIX);
    }

    ngx_conf_init_msec_value(fmcf->redis_check, 1000);
    ngx_conf_init_msec_value(fmcf->redis_timeout, 1000);

    if (fmcf->redis_check == 0 || fmcf->redis_timeout == 0) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"faas_redis_check\" and \"faas_redis_timeout\" "
                      "must be longer than 0");
        return NGX_CONF_ERROR;
    }

    if (fmcf->redis_cache.len
        && ngx_conf_full_name(cf->cycle, &fmcf->redis_cache, 0) != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static void
ngx_http_faas_redis_url_cleanup(void *data)
{
    faas_redis_url_free(data);
}


ngx_uint_t
ngx_http_faas_redis_reconnections(void)
{
    return ngx_http_faas_redis_state
           ? ngx_http_faas_redis_state->reconnections : 0;
}


/* worker processes */

ngx_int_t
ngx_http_faas_redis_init_process(ngx_cycle_t *cycle)
{
    ngx_http_faas_redis_t      *rd;
    ngx_http_faas_main_conf_t  *fmcf;

    fmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_faas_module);

    if (fmcf == NULL || fmcf->redis == NULL) {
        return NGX_OK;
    }

    /* not the cache manager and loader */

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    rd = ngx_pcalloc(cycle->pool, sizeof(ngx_http_faas_redis_t));
    if (rd == NULL) {
        return NGX_ERROR;
    }

    rd->cycle = cycle;
    rd->fmcf = fmcf;

    if (faas_key_generation(rd->generation_key, FAAS_KEY_MAX,
                            (char *) fmcf->redis_prefix.data)
        == 0
        || faas_key_epoch(rd->epoch_key, FAAS_KEY_MAX,
                          (char *) fmcf->redis_prefix.data)
           == 0
        || faas_key_events(rd->events_key, FAAS_KEY_MAX,
                           (char *) fmcf->redis_prefix.data)
           == 0)
    {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "faas redis: prefix \"%V\" is too long",
                      &fmcf->redis_prefix);
        return NGX_ERROR;
    }

    ngx_http_faas_redis_conn_init(rd, &rd->cmd, "commands");
    ngx_http_faas_redis_conn_init(rd, &rd->sub, "events");

    if (rd->cmd.out == NULL || rd->sub.out == NULL) {
        return NGX_ERROR;
    }

    rd->check.handler = ngx_http_faas_redis_check_handler;
    rd->check.data = rd;
    rd->check.log = cycle->log;
    rd->check.cancelable = 1;

    ngx_http_faas_redis_state = rd;

    if (fmcf->redis_cache.len) {
        ngx_http_faas_redis_load_cache(rd);
    }

    if (ngx_http_faas_table_current() == NULL) {
        ngx_http_faas_redis_first_table(rd);
    }

    ngx_http_faas_redis_connect(&rd->sub);
    ngx_http_faas_redis_connect(&rd->cmd);

    ngx_add_timer(&rd->check, fmcf->redis_check);

    return NGX_OK;
}


/*
 * A new worker process (at start, and at each reload) has no table until
 * its first fetch: a few milliseconds in which the Redis routes would
 * answer 404.  Without a cached table the first one is read here,
 * blocking, before the worker accepts a connection, so that requests
 * wait in the listen queue instead.  All of it is bounded by
 * faas_redis_timeout; on any failure the worker goes on without a table
 * and its connections catch up as usual.
 */

static void
ngx_http_faas_redis_first_table(ngx_http_faas_redis_t *rd)
{
    char                        db[NGX_INT_T_LEN + 1], key[FAAS_KEY_MAX];
    char                        epoch[FAAS_TABLE_EPOCH_MAX + 1];
    u_char                      addr[NGX_SOCKADDR_STRLEN + 1];
    size_t                      len;
    uint64_t                    g;
    ngx_msec_t                  start, deadline;
    const char                 *argv[3];
    redisReply                 *r;
    redisContext               *ctx;
    struct timeval              tv;
    faas_redis_url_t           *u;
    ngx_http_faas_main_conf_t  *fmcf;

    fmcf = rd->fmcf;
    u = fmcf->redis;
    start = ngx_http_faas_redis_msec();
    deadline = start + fmcf->redis_timeout;

    tv.tv_sec = fmcf->redis_timeout / 1000;
    tv.tv_usec = (fmcf->redis_timeout % 1000) * 1000;

    if (u->path) {
        ctx = redisConnectUnixWithTimeout(u->path, tv);

    } else {
        /* the address resolved with the configuration: no DNS here */
        len = ngx_sock_ntop(fmcf->redis_sockaddr, fmcf->redis_socklen, addr,
                            NGX_SOCKADDR_STRLEN, 0);
        addr[len] = '\0';

        ctx = redisConnectWithTimeout((char *) addr, u->port, tv);
    }

    if (ctx == NULL || ctx->err) {
        ngx_log_error(NGX_LOG_WARN, rd->cycle->log, 0,
                      "faas redis: no table before accepting connections: "
                      "cannot connect to %V: %s", &fmcf->redis_name,
                      ctx ? ctx->errstr : "out of memory");
        goto done;
    }

    if (u->password) {
        argv[0] = "AUTH";
        argv[1] = u->user ? u->user : u->password;
        argv[2] = u->password;

        r = ngx_http_faas_redis_sync(rd, ctx, deadline, "AUTH",
                                     u->user ? 3 : 2, argv);
        if (r == NULL) {
            goto done;
        }

        freeReplyObject(r);
    }

    if (u->db) {
        ngx_sprintf((u_char *) db, "%ui%Z", (ngx_uint_t) u->db);

        argv[0] = "SELECT";
        argv[1] = db;

        r = ngx_http_faas_redis_sync(rd, ctx, deadline, "SELECT", 2, argv);
        if (r == NULL) {
            goto done;
        }

        freeReplyObject(r);
    }

    argv[0] = "MGET";
    argv[1] = rd->generation_key;
    argv[2] = rd->epoch_key;

    r = ngx_http_faas_redis_sync(rd, ctx, deadline, "MGET", 3, argv);
    if (r == NULL) {
        goto done;
    }

    if (ngx_http_faas_redis_parse_generation(rd, r, &g, epoch) != NGX_OK
        || faas_key_table(key, sizeof(key),
                          (char *) fmcf->redis_prefix.data, g)
           == 0)
    {
        freeReplyObject(r);
        goto done;
    }

    freeReplyObject(r);

    argv[0] = "GET";
    argv[1] = key;

    r = ngx_http_faas_redis_sync(rd, ctx, deadline, "GET", 2, argv);
    if (r == NULL) {
        goto done;
    }

    /* the reply goes where the asynchronous one goes */

    rd->fetching = g;
    ngx_memcpy(rd->fetching_epoch, epoch, sizeof(epoch));

    (void) ngx_http_faas_redis_table(rd, r);

    freeReplyObject(r);

    if (ngx_http_faas_table_current()) {
        ngx_log_error(NGX_LOG_INFO, rd->cycle->log, 0,
                      "faas redis: first table read before accepting "
                      "connections in %M ms", ngx_http_faas_redis_msec()
                                              - start);
    }

done:

    if (ctx) {
        redisFree(ctx);
    }
}


/* one command on the blocking connection: NULL, logged, on any error */

static redisReply *
ngx_http_faas_redis_sync(ngx_http_faas_redis_t *rd, redisContext *ctx,
    ngx_msec_t deadline, const char *what, int argc, const char **argv)
{
    char            *why;
    size_t           len;
    ngx_msec_t       now;
    redisReply      *r;
    struct timeval   tv;

    /* what is left of faas_redis_timeout, for this step */

    now = ngx_http_faas_redis_msec();

    if (now >= deadline) {
        ngx_log_error(NGX_LOG_WARN, rd->cycle->log, 0,
                      "faas redis: no table before accepting connections: "
                      "%s to %V: faas_redis_timeout is over", what,
                      &rd->fmcf->redis_name);
        return NULL;
    }

    tv.tv_sec = (deadline - now) / 1000;
    tv.tv_usec = ((deadline - now) % 1000) * 1000;

    if (redisSetTimeout(ctx, tv) != REDIS_OK) {
        return NULL;
    }

    r = redisCommandArgv(ctx, argc, argv, NULL);

    if (r == NULL || r->type == REDIS_REPLY_ERROR) {
        why = r ? r->str : ctx->errstr;
        len = r ? ngx_min(r->len, 128) : ngx_strlen(ctx->errstr);

        /* never the arguments: AUTH's are the credentials */
        ngx_log_error(NGX_LOG_WARN, rd->cycle->log, 0,
                      "faas redis: no table before accepting connections: "
                      "%s to %V failed: %*s", what, &rd->fmcf->redis_name,
                      len, why);

        if (r) {
            freeReplyObject(r);
        }

        return NULL;
    }

    return r;
}


void
ngx_http_faas_redis_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_faas_redis_t  *rd;

    rd = ngx_http_faas_redis_state;

    if (rd == NULL) {
        return;
    }

    ngx_http_faas_redis_state = NULL;

    /* closed before nginx looks for sockets left open */

    ngx_http_faas_redis_close(&rd->cmd);
    ngx_http_faas_redis_close(&rd->sub);

    if (rd->check.timer_set) {
        ngx_del_timer(&rd->check);
    }

    if (rd->cmd.retry.timer_set) {
        ngx_del_timer(&rd->cmd.retry);
    }

    if (rd->sub.retry.timer_set) {
        ngx_del_timer(&rd->sub.retry);
    }

    ngx_http_faas_table_exit();
}


static void
ngx_http_faas_redis_conn_init(ngx_http_faas_redis_t *rd,
    ngx_http_faas_redis_conn_t *rc, const char *role)
{
    faas_redis_url_t  *u;

    u = rd->fmcf->redis;

    rc->redis = rd;
    rc->role = role;

    rc->log.file = rd->cycle->log->file;
    rc->log.log_level = NGX_LOG_ERR;
    rc->log.writer = ngx_http_faas_redis_log_writer;
    rc->log.wdata = rc;

    /* AUTH user password, SELECT db and one command with a key */

    rc->out_size = 1024 + 2 * FAAS_KEY_MAX
                   + (u->user ? ngx_strlen(u->user) : 0)
                   + (u->password ? ngx_strlen(u->password) : 0);

    rc->out = ngx_palloc(rd->cycle->pool, rc->out_size);

    rc->retry.handler = ngx_http_faas_redis_retry_handler;
    rc->retry.data = rc;
    rc->retry.log = rd->cycle->log;
    rc->retry.cancelable = 1;

    rc->backoff = NGX_HTTP_FAAS_REDIS_BACKOFF_MIN;
}


/*
 * Keeps the message of nginx's line ("connect() to unix:/x failed (111:
 * Connection refused)") without the time, level, pid and connection
 * number before it.
 */

static void
ngx_http_faas_redis_log_writer(ngx_log_t *log, ngx_uint_t level, u_char *buf,
    size_t len)
{
    ngx_http_faas_redis_conn_t *rc = log->wdata;

    u_char  *p, *last;

    last = buf + len;

    p = ngx_strlchr(buf, last, ']');
    p = p ? ngx_strlchr(p, last, ':') : NULL;

    if (p == NULL || last - p < 2) {
        p = buf;

    } else {
        p += 2;
    }

    if (p < last && *p == '*') {
        while (p < last && *p != ' ') {
            p++;
        }

        if (p < last) {
            p++;
        }
    }

    while (last > p && (last[-1] == LF || last[-1] == CR)) {
        last--;
    }

    rc->reason_len = ngx_min((size_t) (last - p), sizeof(rc->reason));
    ngx_memcpy(rc->reason, p, rc->reason_len);
}


/* connections */

static void
ngx_http_faas_redis_connect(ngx_http_faas_redis_conn_t *rc)
{
    char                        db[NGX_INT_T_LEN + 1];
    ngx_int_t                   rv;
    const char                 *argv[3];
    ngx_connection_t           *c;
    faas_redis_url_t           *u;
    ngx_http_faas_redis_t      *rd;
    ngx_http_faas_main_conf_t  *fmcf;

    rd = rc->redis;
    fmcf = rd->fmcf;
    u = fmcf->redis;

    rc->reason_len = 0;

    ngx_memzero(&rc->peer, sizeof(ngx_peer_connection_t));

    rc->peer.sockaddr = fmcf->redis_sockaddr;
    rc->peer.socklen = fmcf->redis_socklen;
    rc->peer.name = &fmcf->redis_name;
    rc->peer.get = ngx_event_get_peer;
    rc->peer.log = &rc->log;
    rc->peer.log_error = NGX_ERROR_ERR;

    rv = ngx_event_connect_peer(&rc->peer);

    if (rv == NGX_ERROR || rv == NGX_BUSY || rv == NGX_DECLINED) {
        rc->peer.connection = NULL;
        ngx_http_faas_redis_lost(rc, NULL);
        return;
    }

    c = rc->peer.connection;

    c->data = rc;
    c->read->handler = ngx_http_faas_redis_read_handler;
    c->write->handler = ngx_http_faas_redis_write_handler;

    /* graceful shutdown and reload neither wait for it nor leave it */

    c->idle = 1;
    c->read->cancelable = 1;
    c->write->cancelable = 1;

    rc->connecting = (rv == NGX_AGAIN);

    rc->reader = redisReaderCreate();
    if (rc->reader == NULL) {
        ngx_http_faas_redis_lost(rc, "out of memory");
        return;
    }

    if (u->password) {
        argv[0] = "AUTH";

        if (u->user) {
            argv[1] = u->user;
            argv[2] = u->password;

        } else {
            argv[1] = u->password;
        }

        if (ngx_http_faas_redis_command(rc, NGX_HTTP_FAAS_REPLY_AUTH,
                                        u->user ? 3 : 2, argv)
            != NGX_OK)
        {
            return;
        }
    }

    if (rc == &rd->sub) {
        argv[0] = "SUBSCRIBE";
        argv[1] = rd->events_key;

        if (ngx_http_faas_redis_command(rc, NGX_HTTP_FAAS_REPLY_SUBSCRIBE, 2,
                                        argv)
            != NGX_OK)
        {
            return;
        }

    } else {
        if (u->db) {
            *ngx_sprintf((u_char *) db, "%ud", u->db) = '\0';

            argv[0] = "SELECT";
            argv[1] = db;

            if (ngx_http_faas_redis_command(rc, NGX_HTTP_FAAS_REPLY_SELECT,
                                            2, argv)
                != NGX_OK)
            {
                return;
            }
        }

        /* whatever happened while it was away */

        rd->checking = 0;
        rd->again = 0;

        if (ngx_http_faas_redis_ask(rd) != NGX_OK) {
            return;
        }
    }

    if (rc->connecting) {
        ngx_add_timer(c->write, fmcf->redis_timeout);
        return;
    }

    if (ngx_http_faas_redis_flush(rc) != NGX_OK) {
        ngx_http_faas_redis_lost(rc, NULL);
    }
}


static void
ngx_http_faas_redis_retry_handler(ngx_event_t *ev)
{
    ngx_http_faas_redis_conn_t *rc = ev->data;

    if (ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    ngx_http_faas_redis_connect(rc);
}


static void
ngx_http_faas_redis_write_handler(ngx_event_t *wev)
{
    int                          err;
    socklen_t                    len;
    ngx_connection_t            *c;
    ngx_http_faas_redis_conn_t  *rc;

    c = wev->data;
    rc = c->data;

    if (rc->connecting) {

        if (wev->timedout) {
            ngx_http_faas_redis_lost(rc, "connect() timed out");
            return;
        }

        if (wev->timer_set) {
            ngx_del_timer(wev);
        }

        err = 0;
        len = sizeof(int);

        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, (void *) &err, &len)
            == -1)
        {
            err = ngx_socket_errno;
        }

        if (err) {
            (void) ngx_connection_error(c, err, "connect() failed");
            ngx_http_faas_redis_lost(rc, NULL);
            return;
        }

        rc->connecting = 0;
    }

    if (ngx_http_faas_redis_flush(rc) != NGX_OK) {
        ngx_http_faas_redis_lost(rc, NULL);
    }
}


/*
 * Reads until the socket is empty, feeding hiredis's reader chunk by
 * chunk: a table of many megabytes arrives in many reads, and the reader
 * keeps the part of a reply it cannot parse yet.
 */

static void
ngx_http_faas_redis_read_handler(ngx_event_t *rev)
{
    ssize_t                      n;
    ngx_connection_t            *c;
    ngx_http_faas_redis_conn_t  *rc;

    static u_char                buf[NGX_HTTP_FAAS_REDIS_READ];

    c = rev->data;
    rc = c->data;

    if (c->close) {
        ngx_http_faas_redis_close(rc);
        return;
    }

    if (rev->timedout) {
        ngx_http_faas_redis_lost(rc, "timed out waiting for a reply");
        return;
    }

    if (rc->connecting) {
        ngx_http_faas_redis_write_handler(c->write);
        return;
    }

    for ( ;; ) {
        n = c->recv(c, buf, sizeof(buf));

        if (n == NGX_AGAIN) {
            break;
        }

        if (n == 0) {
            ngx_http_faas_redis_lost(rc, "closed by the server");
            return;
        }

        if (n == NGX_ERROR) {
            ngx_http_faas_redis_lost(rc, NULL);
            return;
        }

        /* Redis's own limit on a string is 512 MiB; a table's is less */

        rc->unparsed += n;

        if (rc->unparsed > FAAS_TABLE_MAX_SIZE + 65536) {
            ngx_http_faas_redis_lost(rc, "a reply larger than a table may "
                                     "be (256 MiB)");
            return;
        }

        if (redisReaderFeed(rc->reader, (char *) buf, n) != REDIS_OK) {
            ngx_http_faas_redis_lost(rc, "out of memory");
            return;
        }

        if (ngx_http_faas_redis_replies(rc) != NGX_OK) {
            return;
        }

        /* the reply timeout runs between two reads, as nginx's do */

        if (rc->npending) {
            ngx_add_timer(rev, rc->redis->fmcf->redis_timeout);
        }
    }

    if (rc->npending == 0 && rev->timer_set) {
        ngx_del_timer(rev);
    }

    /*
     * A big table leaves its size in the reader's buffer, and many times
     * its size of JSON tree freed but kept by malloc: both go back, once
     * the reader holds nothing.
     */

    if (rc->shrink
        && rc->reader->ridx == -1
        && rc->reader->pos == rc->reader->len)
    {
        rc->shrink = 0;

        redisReaderFree(rc->reader);

        rc->reader = redisReaderCreate();
        if (rc->reader == NULL) {
            ngx_http_faas_redis_lost(rc, "out of memory");
            return;
        }

#if (__GLIBC__)
        (void) malloc_trim(0);
#endif
    }

    if (ngx_handle_read_event(rev, 0) != NGX_OK) {
        ngx_http_faas_redis_lost(rc, NULL);
    }
}


/*
 * Queues a command; the caller sends it with ngx_http_faas_redis_flush().
 * On failure the connection is lost and NGX_ERROR returned.
 */

static ngx_int_t
ngx_http_faas_redis_command(ngx_http_faas_redis_conn_t *rc, ngx_uint_t kind,
    int argc, const char **argv)
{
    int    n;
    char  *cmd;

    if (rc->npending == NGX_HTTP_FAAS_REDIS_PENDING) {
        ngx_http_faas_redis_lost(rc, "too many commands waiting for replies");
        return NGX_ERROR;
    }

    n = redisFormatCommandArgv(&cmd, argc, argv, NULL);

    if (n < 0) {
        ngx_http_faas_redis_lost(rc, "out of memory");
        return NGX_ERROR;
    }

    if ((size_t) n > rc->out_size - rc->out_len) {
        redisFreeCommand(cmd);
        ngx_http_faas_redis_lost(rc, "commands waiting to be sent do not "
                                 "fit their buffer");
        return NGX_ERROR;
    }

    ngx_memcpy(rc->out + rc->out_len, cmd, n);
    rc->out_len += n;
    redisFreeCommand(cmd);

    rc->pending[rc->npending++] = kind;

    return NGX_OK;
}


static ngx_int_t
ngx_http_faas_redis_flush(ngx_http_faas_redis_conn_t *rc)
{
    ssize_t            n;
    ngx_connection_t  *c;

    c = rc->peer.connection;

    if (c == NULL || rc->connecting) {
        return NGX_OK;
    }

    while (rc->out_pos < rc->out_len) {
        n = c->send(c, rc->out + rc->out_pos, rc->out_len - rc->out_pos);

        if (n == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (n == NGX_AGAIN || n == 0) {
            break;
        }

        rc->out_pos += n;
    }

    if (rc->out_pos == rc->out_len) {
        rc->out_pos = 0;
        rc->out_len = 0;
    }

    if (ngx_handle_write_event(c->write, 0) != NGX_OK) {
        return NGX_ERROR;
    }

    if (rc->npending && !c->read->timer_set) {
        ngx_add_timer(c->read, rc->redis->fmcf->redis_timeout);
    }

    return NGX_OK;
}


/* NGX_ERROR when the connection went while the replies were handled */

static ngx_int_t
ngx_http_faas_redis_replies(ngx_http_faas_redis_conn_t *rc)
{
    void       *reply;
    u_char     *p;
    ngx_int_t   rv;
    u_char      why[NGX_HTTP_FAAS_REDIS_REASON];

    for ( ;; ) {

        if (redisReaderGetReply(rc->reader, &reply) != REDIS_OK) {
            p = ngx_snprintf(why, sizeof(why) - 1, "invalid reply: %s",
                             rc->reader->errstr);
            *p = '\0';
            ngx_http_faas_redis_lost(rc, (char *) why);
            return NGX_ERROR;
        }

        if (reply == NULL) {
            return NGX_OK;
        }

        if (rc->unparsed > NGX_HTTP_FAAS_REDIS_BIG) {
            rc->shrink = 1;
        }

        rc->unparsed = rc->reader->len - rc->reader->pos;

        if (rc == &rc->redis->sub) {
            rv = ngx_http_faas_redis_sub_reply(rc, reply);

        } else {
            rv = ngx_http_faas_redis_cmd_reply(rc, reply);
        }

        freeReplyObject(reply);

        if (rv != NGX_OK || rc->peer.connection == NULL) {
            return NGX_ERROR;
        }
    }
}


static ngx_uint_t
ngx_http_faas_redis_pop(ngx_http_faas_redis_conn_t *rc)
{
    ngx_uint_t  kind;

    if (rc->npending == 0) {
        return NGX_HTTP_FAAS_REPLY_NONE;
    }

    kind = rc->pending[0];
    rc->npending--;

    ngx_memmove(&rc->pending[0], &rc->pending[1],
                rc->npending * sizeof(ngx_uint_t));

    return kind;
}


static ngx_int_t
ngx_http_faas_redis_cmd_reply(ngx_http_faas_redis_conn_t *rc, redisReply *r)
{
    ngx_uint_t  kind;

    kind = ngx_http_faas_redis_pop(rc);

    switch (kind) {

    case NGX_HTTP_FAAS_REPLY_AUTH:
    case NGX_HTTP_FAAS_REPLY_SELECT:
        return ngx_http_faas_redis_handshake_reply(rc, kind, r);

    case NGX_HTTP_FAAS_REPLY_GENERATION:
        ngx_http_faas_redis_up(rc);
        return ngx_http_faas_redis_generation(rc->redis, r);

    case NGX_HTTP_FAAS_REPLY_TABLE:
        return ngx_http_faas_redis_table(rc->redis, r);

    default:
        ngx_http_faas_redis_lost(rc, "a reply to no command");
        return NGX_ERROR;
    }
}


static ngx_int_t
ngx_http_faas_redis_sub_reply(ngx_http_faas_redis_conn_t *rc, redisReply *r)
{
    ngx_uint_t  kind;

    /* a message is only a hint: the generation is read all the same */

    if (r->type == REDIS_REPLY_ARRAY
        && r->elements == 3
        && r->element[0]->type == REDIS_REPLY_STRING
        && r->element[0]->len == sizeof("message") - 1
        && ngx_strncmp(r->element[0]->str, "message", r->element[0]->len)
           == 0)
    {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                       "faas redis: message \"%*s\"",
                       r->element[2]->type == REDIS_REPLY_STRING
                       ? r->element[2]->len : 0,
                       r->element[2]->str);

        ngx_http_faas_redis_check(rc->redis);
        return NGX_OK;
    }

    kind = ngx_http_faas_redis_pop(rc);

    switch (kind) {

    case NGX_HTTP_FAAS_REPLY_AUTH:
        return ngx_http_faas_redis_handshake_reply(rc, kind, r);

    case NGX_HTTP_FAAS_REPLY_SUBSCRIBE:

        if (r->type != REDIS_REPLY_ARRAY) {
            ngx_http_faas_redis_lost(rc, r->type == REDIS_REPLY_ERROR
                                         ? r->str : "SUBSCRIBE failed");
            return NGX_ERROR;
        }

        ngx_http_faas_redis_up(rc);

        /* messages sent while it was away are lost: look now */

        ngx_http_faas_redis_check(rc->redis);
        return NGX_OK;

    case NGX_HTTP_FAAS_REPLY_PING:
        return NGX_OK;

    default:
        ngx_http_faas_redis_lost(rc, "a reply to no command");
        return NGX_ERROR;
    }
}


static ngx_int_t
ngx_http_faas_redis_handshake_reply(ngx_http_faas_redis_conn_t *rc,
    ngx_uint_t kind, redisReply *r)
{
    u_char  *p;
    u_char   why[NGX_HTTP_FAAS_REDIS_REASON];

    if (r->type != REDIS_REPLY_ERROR) {
        return NGX_OK;
    }

    p = ngx_snprintf(why, sizeof(why) - 1, "%s failed: %*s",
                     kind == NGX_HTTP_FAAS_REPLY_AUTH ? "AUTH" : "SELECT",
                     r->len, r->str);
    *p = '\0';

    ngx_http_faas_redis_lost(rc, (char *) why);

    return NGX_ERROR;
}


/* the checks */

static void
ngx_http_faas_redis_check_handler(ngx_event_t *ev)
{
    const char                  *argv[1];
    ngx_http_faas_redis_t       *rd;
    ngx_http_faas_redis_conn_t  *sub;

    rd = ev->data;
    sub = &rd->sub;

    if (ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    ngx_http_faas_redis_check(rd);

    /* a subscriber hears nothing from a Redis that went silently */

    if (sub->peer.connection && sub->up && sub->npending == 0) {
        argv[0] = "PING";

        if (ngx_http_faas_redis_command(sub, NGX_HTTP_FAAS_REPLY_PING, 1,
                                        argv)
            == NGX_OK
            && ngx_http_faas_redis_flush(sub) != NGX_OK)
        {
            ngx_http_faas_redis_lost(sub, NULL);
        }
    }

    ngx_add_timer(ev, rd->fmcf->redis_check);
}


/* from a message or the timer: never from the commands' own replies */

static void
ngx_http_faas_redis_check(ngx_http_faas_redis_t *rd)
{
    ngx_http_faas_redis_conn_t  *cmd;

    cmd = &rd->cmd;

    /* a connection on its way asks as soon as it is there */

    if (cmd->peer.connection == NULL) {
        return;
    }

    if (rd->checking) {
        rd->again = 1;
        return;
    }

    if (ngx_http_faas_redis_ask(rd) == NGX_OK
        && ngx_http_faas_redis_flush(cmd) != NGX_OK)
    {
        ngx_http_faas_redis_lost(cmd, NULL);
    }
}


/* queues MGET P:generation P:epoch; the caller flushes */

static ngx_int_t
ngx_http_faas_redis_ask(ngx_http_faas_redis_t *rd)
{
    const char  *argv[3];

    argv[0] = "MGET";
    argv[1] = rd->generation_key;
    argv[2] = rd->epoch_key;

    if (ngx_http_faas_redis_command(&rd->cmd, NGX_HTTP_FAAS_REPLY_GENERATION,
                                    3, argv)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    rd->checking = 1;

    return NGX_OK;
}


/* a check is over: another one may have been asked for meanwhile */

static ngx_int_t
ngx_http_faas_redis_done(ngx_http_faas_redis_t *rd)
{
    rd->checking = 0;

    if (!rd->again) {
        return NGX_OK;
    }

    rd->again = 0;

    if (ngx_http_faas_redis_ask(rd) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_faas_redis_flush(&rd->cmd) != NGX_OK) {
        ngx_http_faas_redis_lost(&rd->cmd, NULL);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * The reply to MGET P:generation P:epoch: NGX_OK with both, or
 * NGX_DECLINED (logged once until a good reply) when there is no
 * generation or the reply is not one.
 */

static ngx_int_t
ngx_http_faas_redis_parse_generation(ngx_http_faas_redis_t *rd,
    redisReply *mget, uint64_t *generation, char *epoch)
{
    uint64_t     g;
    redisReply  *r, *e;

    if (mget->type != REDIS_REPLY_ARRAY || mget->elements != 2) {
        /* an error, such as a key of another type: said below */
        r = mget;
        e = NULL;

    } else {
        r = mget->element[0];
        e = mget->element[1];
    }

    if (r->type == REDIS_REPLY_NIL) {

        if (!rd->unset_logged) {
            ngx_log_error(NGX_LOG_WARN, rd->cycle->log, 0,
                          "faas redis: \"%s\" is not set: no table yet, "
                          "the table in force (if any) stays",
                          rd->generation_key);
            rd->unset_logged = 1;
        }

        return NGX_DECLINED;
    }

    if (r->type != REDIS_REPLY_STRING
        || faas_table_generation_parse(r->str, r->len, &g) != FAAS_OK)
    {

        if (!rd->invalid_logged) {
            ngx_log_error(NGX_LOG_ERR, rd->cycle->log, 0,
                          "faas redis: \"%s\" is not a generation number "
                          "(%s \"%*s\"): the table in force stays",
                          rd->generation_key,
                          r->type == REDIS_REPLY_ERROR ? "error" : "value",
                          (r->type == REDIS_REPLY_STRING
                           || r->type == REDIS_REPLY_ERROR)
                          ? ngx_min(r->len, 64) : 0,
                          r->str);
            rd->invalid_logged = 1;
        }

        return NGX_DECLINED;
    }

    epoch[0] = '\0';

    if (e == NULL || (e->type != REDIS_REPLY_NIL
                      && (e->type != REDIS_REPLY_STRING
                          || !faas_table_epoch_valid(e->str, e->len))))
    {
        if (!rd->epoch_logged) {
            ngx_log_error(NGX_LOG_ERR, rd->cycle->log, 0,
                          "faas redis: \"%s\" is not an epoch: the table "
                          "in force stays", rd->epoch_key);
            rd->epoch_logged = 1;
        }

        return NGX_DECLINED;
    }

    if (e->type == REDIS_REPLY_STRING) {
        ngx_memcpy(epoch, e->str, e->len);
        epoch[e->len] = '\0';
    }

    rd->unset_logged = 0;
    rd->invalid_logged = 0;
    rd->epoch_logged = 0;

    *generation = g;

    return NGX_OK;
}


static ngx_int_t
ngx_http_faas_redis_generation(ngx_http_faas_redis_t *rd, redisReply *mget)
{
    uint64_t                g;
    const char             *argv[2];
    ngx_http_faas_table_t  *table;
    char                    key[FAAS_KEY_MAX];
    char                    epoch[FAAS_TABLE_EPOCH_MAX + 1];

    if (ngx_http_faas_redis_parse_generation(rd, mget, &g, epoch) != NGX_OK) {
        return ngx_http_faas_redis_done(rd);
    }

    table = ngx_http_faas_table_current();

    /* after Redis lost its data, generations count again: a new epoch */

    if ((table && table->generation == g
         && ngx_strcmp(table->table->epoch, epoch) == 0)
        || (rd->rejected == g && ngx_strcmp(rd->rejected_epoch, epoch) == 0))
    {
        return ngx_http_faas_redis_done(rd);
    }

    if (faas_key_table(key, sizeof(key), (char *) rd->fmcf->redis_prefix.data,
                       g)
        == 0)
    {
        return ngx_http_faas_redis_done(rd);
    }

    argv[0] = "GET";
    argv[1] = key;

    if (ngx_http_faas_redis_command(&rd->cmd, NGX_HTTP_FAAS_REPLY_TABLE, 2,
                                    argv)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    rd->fetching = g;
    ngx_memcpy(rd->fetching_epoch, epoch, sizeof(epoch));

    if (ngx_http_faas_redis_flush(&rd->cmd) != NGX_OK) {
        ngx_http_faas_redis_lost(&rd->cmd, NULL);
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_faas_redis_table(ngx_http_faas_redis_t *rd, redisReply *r)
{
    char  key[FAAS_KEY_MAX];

    (void) faas_key_table(key, sizeof(key),
                          (char *) rd->fmcf->redis_prefix.data, rd->fetching);

    if (r->type == REDIS_REPLY_STRING) {
        ngx_http_faas_redis_apply(rd, rd->fetching, key, r->str, r->len);

    } else if (rd->missing != rd->fetching) {

        /* a table is written before the generation that names it */

        ngx_log_error(NGX_LOG_ERR, rd->cycle->log, 0,
                      "faas redis: \"%s\" names generation %uL but \"%s\" "
                      "%s%*s: the table in force stays",
                      rd->generation_key, rd->fetching, key,
                      r->type == REDIS_REPLY_ERROR ? "cannot be read: "
                                                   : "does not exist",
                      r->type == REDIS_REPLY_ERROR ? r->len : 0, r->str);

        rd->missing = rd->fetching;
    }

    return ngx_http_faas_redis_done(rd);
}


/*
 * A table is checked whole by the engine (the same code as faasctl's and
 * faasd's) and built beside the one in force, which stays if anything is
 * wrong.  A rejected generation is not fetched again: tables never change.
 */

/* a rejected table is not fetched again while P:generation names it */

static void
ngx_http_faas_redis_reject(ngx_http_faas_redis_t *rd, uint64_t generation)
{
    rd->rejected = generation;
    ngx_memcpy(rd->rejected_epoch, rd->fetching_epoch,
               sizeof(rd->fetching_epoch));
}


static void
ngx_http_faas_redis_apply(ngx_http_faas_redis_t *rd, uint64_t generation,
    const char *key, const char *json, size_t len)
{
    ngx_uint_t              level;
    ngx_msec_t              start;
    faas_table_t           *t;
    faas_error_t            err;
    faas_router_t          *router;
    ngx_http_faas_table_t  *table;
    u_char                  msg[NGX_MAX_ERROR_STR];

    /* each worker judges the same bytes alike: one of them says it */

    level = (ngx_worker == 0) ? NGX_LOG_ERR : NGX_LOG_INFO;

    start = ngx_http_faas_redis_msec();

    if (faas_table_parse_router(key, json, len, &t, &router, &err)
        != FAAS_OK)
    {
        faas_error_format(&err, (char *) msg, sizeof(msg));
        ngx_log_error(level, rd->cycle->log, 0,
                      "faas redis: table rejected, the table in force "
                      "stays: %s", msg);
        ngx_http_faas_redis_reject(rd, generation);
        return;
    }

    if (t->generation != generation
        || ngx_strcmp(t->epoch, rd->fetching_epoch) != 0)
    {
        ngx_log_error(level, rd->cycle->log, 0,
                      "faas redis: table rejected, the table in force "
                      "stays: %s: \"generation\" %uL and \"epoch\" "
                      "\"%s\" are not %uL and \"%s\" of \"%s\"",
                      key, t->generation, t->epoch, generation,
                      rd->fetching_epoch, rd->epoch_key);
        faas_router_free(router);
        faas_table_free(t);
        ngx_http_faas_redis_reject(rd, generation);
        return;
    }

    table = ngx_http_faas_table_create(rd->cycle, t, router, key);

    if (table == NULL) {
        ngx_http_faas_redis_reject(rd, generation);
        return;
    }

    ngx_http_faas_table_install(rd->cycle, table);

    rd->rejected = 0;
    rd->missing = 0;

    ngx_log_error(NGX_LOG_INFO, rd->cycle->log, 0,
                  "faas redis: serving generation %uL (%ui functions, "
                  "%uz routes, %uz bytes, built in %M ms)", generation,
                  table->nfunctions, faas_router_count(table->router), len,
                  ngx_http_faas_redis_msec() - start);

    if (ngx_worker == 0 && rd->fmcf->redis_cache.len) {
        ngx_http_faas_redis_save_cache(rd, json, len);
    }
}


/* ngx_current_msec stands still while a table is built */

static ngx_msec_t
ngx_http_faas_redis_msec(void)
{
    struct timespec  ts;

    (void) clock_gettime(CLOCK_MONOTONIC, &ts);

    return (ngx_msec_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


/* state changes, each said once */

static void
ngx_http_faas_redis_up(ngx_http_faas_redis_conn_t *rc)
{
    ngx_http_faas_redis_t  *rd;

    if (rc->up) {
        return;
    }

    rd = rc->redis;

    rc->up = 1;

    if (rc->was_up) {
        rd->reconnections++;

        ngx_log_error(NGX_LOG_NOTICE, rd->cycle->log, 0,
                      "faas redis: reconnected to %V (%s) after %ui "
                      "attempts, %ui reconnections in this worker",
                      &rd->fmcf->redis_name, rc->role, rc->attempts + 1,
                      rd->reconnections);

    } else if (rc->down_logged) {
        ngx_log_error(NGX_LOG_NOTICE, rd->cycle->log, 0,
                      "faas redis: connected to %V (%s) after %ui attempts",
                      &rd->fmcf->redis_name, rc->role, rc->attempts + 1);

    } else {
        ngx_log_error(NGX_LOG_NOTICE, rd->cycle->log, 0,
                      "faas redis: connected to %V (%s)",
                      &rd->fmcf->redis_name, rc->role);
    }

    rc->was_up = 1;
    rc->down_logged = 0;
    rc->attempts = 0;
    rc->backoff = NGX_HTTP_FAAS_REDIS_BACKOFF_MIN;
}


/*
 * The connection failed or went: closed, said once, and tried again
 * after 100 ms, doubling to 5 s.
 */

static void
ngx_http_faas_redis_lost(ngx_http_faas_redis_conn_t *rc, const char *why)
{
    ngx_http_faas_redis_t  *rd;

    rd = rc->redis;

    if (why) {
        rc->reason_len = ngx_min(ngx_strlen(why), sizeof(rc->reason));
        ngx_memcpy(rc->reason, why, rc->reason_len);

    } else if (rc->reason_len == 0) {
        rc->reason_len = sizeof("connection failed") - 1;
        ngx_memcpy(rc->reason, "connection failed", rc->reason_len);
    }

    ngx_http_faas_redis_close(rc);

    if (rc == &rd->cmd) {
        rd->checking = 0;
        rd->again = 0;
    }

    if (ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    if (rc->up) {
        ngx_log_error(NGX_LOG_ERR, rd->cycle->log, 0,
                      "faas redis: connection lost to %V (%s): %*s",
                      &rd->fmcf->redis_name, rc->role, rc->reason_len,
                      rc->reason);
        rc->up = 0;
        rc->down_logged = 1;
        rc->attempts = 0;

    } else {
        rc->attempts++;

        if (!rc->down_logged) {
            ngx_log_error(NGX_LOG_ERR, rd->cycle->log, 0,
                          "faas redis: cannot connect to %V (%s): %*s; "
                          "retrying",
                          &rd->fmcf->redis_name, rc->role, rc->reason_len,
                          rc->reason);
            rc->down_logged = 1;

        } else {
            ngx_log_debug4(NGX_LOG_DEBUG_HTTP, rd->cycle->log, 0,
                           "faas redis: %s: attempt %ui failed: %*s",
                           rc->role, rc->attempts, rc->reason_len,
                           rc->reason);
        }
    }

    if (!rc->retry.timer_set) {
        ngx_add_timer(&rc->retry, rc->backoff);
    }

    rc->backoff = ngx_min(rc->backoff * 2, NGX_HTTP_FAAS_REDIS_BACKOFF_MAX);
}


static void
ngx_http_faas_redis_close(ngx_http_faas_redis_conn_t *rc)
{
    if (rc->peer.connection) {
        ngx_close_connection(rc->peer.connection);
        rc->peer.connection = NULL;
    }

    if (rc->reader) {
        redisReaderFree(rc->reader);
        rc->reader = NULL;
    }

    rc->connecting = 0;
    rc->shrink = 0;
    rc->unparsed = 0;
    rc->out_pos = 0;
    rc->out_len = 0;
    rc->npending = 0;
}


/* the cache file */

static void
ngx_http_faas_redis_load_cache(ngx_http_faas_redis_t *rd)
{
    char                   *buf;
    size_t                  size, got;
    ssize_t                 n;
    ngx_fd_t                fd;
    ngx_err_t               err;
    ngx_log_t              *log;
    faas_table_t           *t;
    faas_error_t            ferr;
    faas_router_t          *router;
    ngx_file_info_t         fi;
    ngx_http_faas_table_t  *table;
    u_char                  msg[NGX_MAX_ERROR_STR];

    log = rd->cycle->log;

    fd = ngx_open_file(rd->fmcf->redis_cache.data, NGX_FILE_RDONLY,
                       NGX_FILE_OPEN, 0);

    if (fd == NGX_INVALID_FILE) {
        err = ngx_errno;

        if (err == NGX_ENOENT) {
            ngx_log_error(NGX_LOG_INFO, log, 0,
                          "faas redis: no table cache \"%V\" yet",
                          &rd->fmcf->redis_cache);
            return;
        }

        ngx_log_error(NGX_LOG_ERR, log, err,
                      "faas redis: cannot open the table cache \"%V\"",
                      &rd->fmcf->redis_cache);
        return;
    }

    buf = NULL;

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      "faas redis: cannot stat the table cache \"%V\"",
                      &rd->fmcf->redis_cache);
        goto done;
    }

    if (ngx_file_size(&fi) > FAAS_TABLE_MAX_SIZE) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "faas redis: the table cache \"%V\" is larger than a "
                      "table may be (256 MiB): not used",
                      &rd->fmcf->redis_cache);
        goto done;
    }

    size = (size_t) ngx_file_size(&fi);

    buf = ngx_alloc(size + 1, log);
    if (buf == NULL) {
        goto done;
    }

    for (got = 0; got < size; got += n) {
        n = ngx_read_fd(fd, buf + got, size - got);

        if (n == -1) {
            ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                          "faas redis: cannot read the table cache \"%V\"",
                          &rd->fmcf->redis_cache);
            goto done;
        }

        if (n == 0) {
            break;
        }
    }

    if (faas_table_parse_router((char *) rd->fmcf->redis_cache.data, buf,
                                got, &t, &router, &ferr)
        != FAAS_OK)
    {
        faas_error_format(&ferr, (char *) msg, sizeof(msg));
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "faas redis: the table cache is not used: %s", msg);
        goto done;
    }

    table = ngx_http_faas_table_create(rd->cycle, t, router,
                                       (char *) rd->fmcf->redis_cache.data);
    if (table == NULL) {
        goto done;
    }

    ngx_http_faas_table_install(rd->cycle, table);

    ngx_log_error(NGX_LOG_NOTICE, log, 0,
                  "faas redis: serving the cached table of generation %uL "
                  "from %V", table->generation, &rd->fmcf->redis_cache);

done:

    if (buf) {
        ngx_free(buf);
    }

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_ALERT, log, ngx_errno,
                      ngx_close_file_n " \"%V\" failed",
                      &rd->fmcf->redis_cache);
    }
}


/* a temporary file beside it, then rename(): readers see one or the other */

static void
ngx_http_faas_redis_save_cache(ngx_http_faas_redis_t *rd, const char *json,
    size_t len)
{
    u_char     *p;
    size_t      done;
    ssize_t     n;
    ngx_fd_t    fd;
    ngx_err_t   err;
    ngx_str_t  *path;
    u_char      tmp[NGX_MAX_PATH + 1];

    path = &rd->fmcf->redis_cache;

    p = ngx_snprintf(tmp, NGX_MAX_PATH, "%V.%P.tmp", path, ngx_pid);

    if (p == tmp + NGX_MAX_PATH) {
        err = NGX_ENAMETOOLONG;
        goto failed;
    }

    *p = '\0';

    fd = ngx_open_file(tmp, NGX_FILE_WRONLY, NGX_FILE_TRUNCATE,
                       NGX_FILE_DEFAULT_ACCESS);

    if (fd == NGX_INVALID_FILE) {
        err = ngx_errno;
        goto failed;
    }

    for (done = 0; done < len; done += n) {
        n = ngx_write_fd(fd, (u_char *) json + done, len - done);

        if (n == -1) {
            err = ngx_errno;
            (void) ngx_close_file(fd);
            (void) ngx_delete_file(tmp);
            goto failed;
        }
    }

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        err = ngx_errno;
        (void) ngx_delete_file(tmp);
        goto failed;
    }

    if (ngx_rename_file(tmp, path->data) == NGX_FILE_ERROR) {
        err = ngx_errno;
        (void) ngx_delete_file(tmp);
        goto failed;
    }

    if (rd->cache_failed) {
        ngx_log_error(NGX_LOG_NOTICE, rd->cycle->log, 0,
                      "faas redis: the table cache \"%V\" is written again",
                      path);
        rd->cache_failed = 0;
    }

    return;

failed:

    if (!rd->cache_failed) {
        ngx_log_error(NGX_LOG_ERR, rd->cycle->log, err,
                      "faas redis: cannot write the table cache \"%V\"",
                      path);
        rd->cache_failed = 1;
    }
}
