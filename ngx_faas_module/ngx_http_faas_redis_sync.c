/*
 * Copyright (C) ngx_faas authors
 *
 * Following the Redis table: a message on P:events, or the
 * faas_redis_check timer, makes the worker read P:generation and
 * P:epoch; the engine (faas_sync.c) decides whether that generation's
 * table is fetched; a table fetched is checked by the engine, built and
 * swapped in (ngx_http_faas_table.c), and written to the cache file.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/hiredis.h>

#include "ngx_http_faas_module.h"
#include "ngx_http_faas_redis_int.h"
#include "ngx_http_faas_redis_cache.h"
#include "ngx_http_faas_redis_conn.h"
#include "ngx_http_faas_redis_sync.h"
#include "ngx_http_faas_table.h"


static ngx_int_t ngx_http_faas_redis_connected(
    ngx_http_faas_redis_conn_t *rc);
static ngx_int_t ngx_http_faas_redis_reply(ngx_http_faas_redis_conn_t *rc,
    ngx_uint_t kind, redisReply *r);
static void ngx_http_faas_redis_changed(ngx_http_faas_redis_conn_t *rc);
static void ngx_http_faas_redis_check_handler(ngx_event_t *ev);
static void ngx_http_faas_redis_check(ngx_http_faas_redis_t *rd);
static ngx_int_t ngx_http_faas_redis_ask(ngx_http_faas_redis_t *rd);
static ngx_int_t ngx_http_faas_redis_done(ngx_http_faas_redis_t *rd);
static ngx_int_t ngx_http_faas_redis_generation(ngx_http_faas_redis_t *rd,
    redisReply *r);
static void ngx_http_faas_redis_apply(ngx_http_faas_redis_t *rd,
    uint64_t generation, const char *epoch, const char *key,
    const char *json, size_t len);


void
ngx_http_faas_redis_sync_init(ngx_http_faas_redis_t *rd)
{
    rd->cmd.connected = ngx_http_faas_redis_connected;
    rd->cmd.reply = ngx_http_faas_redis_reply;

    rd->sub.channel = rd->events_key;
    rd->sub.changed = ngx_http_faas_redis_changed;

    rd->check.handler = ngx_http_faas_redis_check_handler;
    rd->check.data = rd;
    rd->check.log = rd->cycle->log;
    rd->check.cancelable = 1;
}


/* the commands' connection is there: whatever happened while it was away */

static ngx_int_t
ngx_http_faas_redis_connected(ngx_http_faas_redis_conn_t *rc)
{
    ngx_http_faas_redis_t  *rd;

    rd = rc->redis;

    rd->checking = 0;
    rd->again = 0;

    /* a table asked for on the connection that went never comes */
    faas_sync_fetched(&rd->sync);

    return ngx_http_faas_redis_ask(rd);
}


static ngx_int_t
ngx_http_faas_redis_reply(ngx_http_faas_redis_conn_t *rc, ngx_uint_t kind,
    redisReply *r)
{
    switch (kind) {

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


/* a message is only a hint: the generation is read all the same */

static void
ngx_http_faas_redis_changed(ngx_http_faas_redis_conn_t *rc)
{
    ngx_http_faas_redis_check(rc->redis);
}


/* the checks */

static void
ngx_http_faas_redis_check_handler(ngx_event_t *ev)
{
    ngx_http_faas_redis_t  *rd;

    rd = ev->data;

    if (ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    ngx_http_faas_redis_check(rd);

    ngx_http_faas_redis_ping(&rd->sub);

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
        ngx_log_debug0(NGX_LOG_DEBUG_EVENT, rd->cycle->log, 0,
                       "faas redis sync: check deferred until connected");
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

    ngx_log_debug2(NGX_LOG_DEBUG_EVENT, rd->cycle->log, 0,
                   "faas redis sync: mget \"%s\" \"%s\" queued",
                   rd->generation_key, rd->epoch_key);

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

ngx_int_t
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
    uint64_t     g;
    const char  *argv[2];
    char         key[FAAS_KEY_MAX];
    char         epoch[FAAS_TABLE_EPOCH_MAX + 1];

    if (ngx_http_faas_redis_parse_generation(rd, mget, &g, epoch) != NGX_OK) {
        return ngx_http_faas_redis_done(rd);
    }

    /* the table in force, or the one last rejected: nothing to fetch */

    if (faas_sync_decide(&rd->sync, g, epoch) == FAAS_SYNC_NONE) {
        ngx_log_debug2(NGX_LOG_DEBUG_EVENT, rd->cycle->log, 0,
                       "faas redis sync: generation %uL epoch \"%s\" read: "
                       "nothing to fetch (in force, rejected or on its way)",
                       g, epoch);
        return ngx_http_faas_redis_done(rd);
    }

    ngx_log_debug2(NGX_LOG_DEBUG_EVENT, rd->cycle->log, 0,
                   "faas redis sync: generation %uL epoch \"%s\" read: "
                   "fetch", g, epoch);

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

    faas_sync_fetching(&rd->sync, g, epoch);

    ngx_log_debug1(NGX_LOG_DEBUG_EVENT, rd->cycle->log, 0,
                   "faas redis sync: get \"%s\" sent", key);

    if (ngx_http_faas_redis_flush(&rd->cmd) != NGX_OK) {
        ngx_http_faas_redis_lost(&rd->cmd, NULL);
        return NGX_ERROR;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_faas_redis_table(ngx_http_faas_redis_t *rd, redisReply *r)
{
    uint64_t  g;
    char      key[FAAS_KEY_MAX];
    char      epoch[FAAS_TABLE_EPOCH_MAX + 1];

    g = rd->sync.fetching.generation;
    ngx_memcpy(epoch, rd->sync.fetching.epoch, sizeof(epoch));

    faas_sync_fetched(&rd->sync);

    ngx_log_debug3(NGX_LOG_DEBUG_EVENT, rd->cycle->log, 0,
                   "faas redis sync: table of generation %uL received: "
                   "type %d, %uz bytes", g, r->type,
                   r->type == REDIS_REPLY_STRING ? r->len : 0);

    (void) faas_key_table(key, sizeof(key),
                          (char *) rd->fmcf->redis_prefix.data, g);

    if (r->type == REDIS_REPLY_STRING) {
        ngx_http_faas_redis_apply(rd, g, epoch, key, r->str, r->len);

    } else if (rd->missing != g) {

        /* a table is written before the generation that names it */

        ngx_log_error(NGX_LOG_ERR, rd->cycle->log, 0,
                      "faas redis: \"%s\" names generation %uL but \"%s\" "
                      "%s%*s: the table in force stays",
                      rd->generation_key, g, key,
                      r->type == REDIS_REPLY_ERROR ? "cannot be read: "
                                                   : "does not exist",
                      r->type == REDIS_REPLY_ERROR ? r->len : 0, r->str);

        rd->missing = g;
    }

    return ngx_http_faas_redis_done(rd);
}


/*
 * A table is checked whole by the engine (the same code as faasctl's and
 * faasd's) and built beside the one in force, which stays if anything is
 * wrong.  A rejected generation is not fetched again: tables never change.
 */

static void
ngx_http_faas_redis_apply(ngx_http_faas_redis_t *rd, uint64_t generation,
    const char *epoch, const char *key, const char *json, size_t len)
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
        faas_sync_rejected(&rd->sync, generation, epoch);
        return;
    }

    if (t->generation != generation
        || ngx_strcmp(t->epoch, epoch) != 0)
    {
        ngx_log_error(level, rd->cycle->log, 0,
                      "faas redis: table rejected, the table in force "
                      "stays: %s: \"generation\" %uL and \"epoch\" "
                      "\"%s\" are not %uL and \"%s\" of \"%s\"",
                      key, t->generation, t->epoch, generation,
                      epoch, rd->epoch_key);
        faas_router_free(router);
        faas_table_free(t);
        faas_sync_rejected(&rd->sync, generation, epoch);
        return;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_EVENT, rd->cycle->log, 0,
                   "faas redis sync: generation %uL checked: valid, "
                   "%uz routes", generation, faas_router_count(router));

    table = ngx_http_faas_table_create(rd->cycle, t, router, key);

    if (table == NULL) {
        faas_sync_rejected(&rd->sync, generation, epoch);
        return;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_EVENT, rd->cycle->log, 0,
                   "faas redis sync: generation %uL built, installing",
                   generation);

    ngx_http_faas_table_install(rd->cycle, table);

    faas_sync_applied(&rd->sync, generation, epoch);
    rd->missing = 0;

    ngx_log_error(NGX_LOG_INFO, rd->cycle->log, 0,
                  "faas redis: serving generation %uL (%ui functions, "
                  "%uz routes, %uz bytes, built in %M ms)", generation,
                  table->nfunctions, faas_router_count(table->router), len,
                  ngx_http_faas_redis_msec() - start);

    if (ngx_worker == 0 && rd->fmcf->redis_cache.len) {
        ngx_http_faas_redis_cache_save(rd, json, len);
    }
}


