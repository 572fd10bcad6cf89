/*
 * Copyright (C) ngx_faas authors
 *
 * The Redis client's transport: two connections that nginx owns and
 * drives, one subscribed to P:events and one for commands.  hiredis only
 * formats commands and parses replies, so nginx's event loop, timers and
 * connection accounting apply as to any upstream.  What the replies mean
 * is the sync's (ngx_http_faas_redis_sync.c), through the connection's
 * handlers; a connection that fails or goes is tried again with backoff.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/hiredis.h>

#if (__GLIBC__)
#include <malloc.h>
#endif

#include "ngx_http_faas_module.h"
#include "ngx_http_faas_redis_int.h"
#include "ngx_http_faas_redis_conn.h"


static void ngx_http_faas_redis_log_writer(ngx_log_t *log, ngx_uint_t level,
    u_char *buf, size_t len);
static void ngx_http_faas_redis_retry_handler(ngx_event_t *ev);
static void ngx_http_faas_redis_write_handler(ngx_event_t *wev);
static void ngx_http_faas_redis_read_handler(ngx_event_t *rev);
static ngx_int_t ngx_http_faas_redis_replies(ngx_http_faas_redis_conn_t *rc);
static ngx_uint_t ngx_http_faas_redis_pop(ngx_http_faas_redis_conn_t *rc);
static ngx_int_t ngx_http_faas_redis_cmd_reply(
    ngx_http_faas_redis_conn_t *rc, redisReply *r);
static ngx_int_t ngx_http_faas_redis_sub_reply(
    ngx_http_faas_redis_conn_t *rc, redisReply *r);
static ngx_int_t ngx_http_faas_redis_handshake_reply(
    ngx_http_faas_redis_conn_t *rc, ngx_uint_t kind, redisReply *r);



void
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

void
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

    ngx_log_debug3(NGX_LOG_DEBUG_EVENT, rd->cycle->log, 0,
                   "faas redis: %s: connect to %V: %i", rc->role,
                   &fmcf->redis_name, rv);

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

    ngx_log_debug2(NGX_LOG_DEBUG_EVENT, rd->cycle->log, 0,
                   "faas redis: %s: %s", rc->role,
                   rc->connecting ? "connecting" : "connected");

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

        ngx_log_debug1(NGX_LOG_DEBUG_EVENT, rd->cycle->log, 0,
                       "faas redis: %s: auth queued", rc->role);
    }

    if (rc->channel) {
        argv[0] = "SUBSCRIBE";
        argv[1] = rc->channel;

        if (ngx_http_faas_redis_command(rc, NGX_HTTP_FAAS_REPLY_SUBSCRIBE, 2,
                                        argv)
            != NGX_OK)
        {
            return;
        }

        ngx_log_debug2(NGX_LOG_DEBUG_EVENT, rd->cycle->log, 0,
                       "faas redis: %s: subscribe \"%s\" queued", rc->role,
                       rc->channel);

    } else if (u->db) {
        *ngx_sprintf((u_char *) db, "%ud", u->db) = '\0';

        argv[0] = "SELECT";
        argv[1] = db;

        if (ngx_http_faas_redis_command(rc, NGX_HTTP_FAAS_REPLY_SELECT, 2,
                                        argv)
            != NGX_OK)
        {
            return;
        }

        ngx_log_debug2(NGX_LOG_DEBUG_EVENT, rd->cycle->log, 0,
                       "faas redis: %s: select %s queued", rc->role, db);
    }

    if (rc->connected && rc->connected(rc) != NGX_OK) {
        return;
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

        ngx_log_debug1(NGX_LOG_DEBUG_EVENT, wev->log, 0,
                       "faas redis: %s: connected", rc->role);
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

ngx_int_t
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


ngx_int_t
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

        if (rc->channel) {
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

    case NGX_HTTP_FAAS_REPLY_NONE:
        ngx_http_faas_redis_lost(rc, "a reply to no command");
        return NGX_ERROR;

    default:
        return rc->reply(rc, kind, r);
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
        ngx_log_debug2(NGX_LOG_DEBUG_EVENT, ngx_cycle->log, 0,
                       "faas redis: message \"%*s\"",
                       r->element[2]->type == REDIS_REPLY_STRING
                       ? r->element[2]->len : 0,
                       r->element[2]->str);

        rc->changed(rc);
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

        ngx_log_debug2(NGX_LOG_DEBUG_EVENT, ngx_cycle->log, 0,
                       "faas redis: %s: subscribed to \"%s\"", rc->role,
                       rc->channel);

        ngx_http_faas_redis_up(rc);

        /* messages sent while it was away are lost: look now */

        rc->changed(rc);
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


/* a subscriber hears nothing from a Redis that went silently */

void
ngx_http_faas_redis_ping(ngx_http_faas_redis_conn_t *rc)
{
    const char  *argv[1];

    if (rc->peer.connection == NULL || !rc->up || rc->npending) {
        return;
    }

    argv[0] = "PING";

    if (ngx_http_faas_redis_command(rc, NGX_HTTP_FAAS_REPLY_PING, 1, argv)
        == NGX_OK
        && ngx_http_faas_redis_flush(rc) != NGX_OK)
    {
        ngx_http_faas_redis_lost(rc, NULL);
    }
}


/* state changes, each said once */

void
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

void
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

    ngx_log_debug4(NGX_LOG_DEBUG_EVENT, rd->cycle->log, 0,
                   "faas redis: %s: disconnected (%*s), reconnect in %M ms",
                   rc->role, rc->reason_len, rc->reason, rc->backoff);

    if (!rc->retry.timer_set) {
        ngx_add_timer(&rc->retry, rc->backoff);
    }

    rc->backoff = ngx_min(rc->backoff * 2, NGX_HTTP_FAAS_REDIS_BACKOFF_MAX);
}


void
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


