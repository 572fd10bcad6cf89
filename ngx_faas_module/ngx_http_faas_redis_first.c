/*
 * Copyright (C) ngx_faas authors
 *
 * The first table of a worker process, read with a blocking hiredis
 * client before the worker accepts a connection.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/hiredis.h>

#include "ngx_http_faas_module.h"
#include "ngx_http_faas_redis_int.h"
#include "ngx_http_faas_redis_first.h"
#include "ngx_http_faas_redis_sync.h"
#include "ngx_http_faas_table.h"


static redisReply *ngx_http_faas_redis_first_command(
    ngx_http_faas_redis_t *rd, redisContext *ctx, ngx_msec_t deadline,
    const char *what, int argc, const char **argv);



/*
 * A new worker process (at start, and at each reload) has no table until
 * its first fetch: a few milliseconds in which the Redis routes would
 * answer 404.  Without a cached table the first one is read here,
 * blocking, before the worker accepts a connection, so that requests
 * wait in the listen queue instead.  All of it is bounded by
 * faas_redis_timeout; on any failure the worker goes on without a table
 * and its connections catch up as usual.
 */

void
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

        r = ngx_http_faas_redis_first_command(rd, ctx, deadline, "AUTH",
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

        r = ngx_http_faas_redis_first_command(rd, ctx, deadline, "SELECT", 2,
                                              argv);
        if (r == NULL) {
            goto done;
        }

        freeReplyObject(r);
    }

    argv[0] = "MGET";
    argv[1] = rd->generation_key;
    argv[2] = rd->epoch_key;

    r = ngx_http_faas_redis_first_command(rd, ctx, deadline, "MGET", 3,
                                          argv);
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

    r = ngx_http_faas_redis_first_command(rd, ctx, deadline, "GET", 2, argv);
    if (r == NULL) {
        goto done;
    }

    /* the reply goes where the asynchronous one goes */

    faas_sync_fetching(&rd->sync, g, epoch);

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
ngx_http_faas_redis_first_command(ngx_http_faas_redis_t *rd,
    redisContext *ctx, ngx_msec_t deadline, const char *what, int argc,
    const char **argv)
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

