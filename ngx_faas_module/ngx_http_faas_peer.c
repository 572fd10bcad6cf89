/*
 * Copyright (C) ngx_faas authors
 *
 * Choosing a worker for a request: the least busy of the function's
 * slots in this nginx worker process, ties to the lowest slot (so that
 * the last slots go idle, as Passenger does), skipping slots that failed
 * in the last NGX_HTTP_FAAS_FAIL_TIMEOUT ms unless all did, and never one
 * this request already tried.  Idle connections are kept per slot.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_faas_module.h"
#include "ngx_http_faas_peer.h"


static ngx_int_t ngx_http_faas_get_peer(ngx_peer_connection_t *pc,
    void *data);
static void ngx_http_faas_free_peer(ngx_peer_connection_t *pc, void *data,
    ngx_uint_t state);
static ngx_http_faas_slot_t *ngx_http_faas_choose(ngx_http_faas_ctx_t *ctx);
static ngx_int_t ngx_http_faas_cached(ngx_peer_connection_t *pc,
    ngx_http_faas_slot_t *slot, ngx_uint_t check);
static void ngx_http_faas_keepalive_close_handler(ngx_event_t *ev);
static void ngx_http_faas_keepalive_dummy_handler(ngx_event_t *ev);
static void ngx_http_faas_keepalive_close(ngx_connection_t *c);
static ngx_int_t ngx_http_faas_keepalive_items(ngx_http_faas_slot_t *slot,
    ngx_pool_t *pool, ngx_uint_t keepalive);


ngx_int_t
ngx_http_faas_peer_init(ngx_http_request_t *r,
    ngx_http_upstream_srv_conf_t *us)
{
    ngx_http_upstream_t  *u;
    ngx_http_faas_ctx_t  *ctx;

    u = r->upstream;
    ctx = ngx_http_get_module_ctx(r, ngx_http_faas_module);

    u->peer.data = ctx;
    u->peer.get = ngx_http_faas_get_peer;
    u->peer.free = ngx_http_faas_free_peer;
    u->peer.tries = u->conf->next_upstream_tries;

    return NGX_OK;
}


static ngx_int_t
ngx_http_faas_get_peer(ngx_peer_connection_t *pc, void *data)
{
    ngx_http_faas_ctx_t *ctx = data;

    ngx_http_faas_slot_t  *slot;

    slot = ngx_http_faas_choose(ctx);

    ctx->slot = slot;
    ctx->tried |= (uint64_t) 1 << (slot - ctx->function->slots);
    slot->active++;

    pc->sockaddr = (struct sockaddr *) &slot->sockaddr;
    pc->socklen = slot->socklen;
    pc->name = &slot->name;

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, pc->log, 0,
                   "faas peer: function \"%V\" slot %ui active %ui",
                   &ctx->function->name, slot - ctx->function->slots,
                   slot->active);

    /*
     * an idempotent request sent on a connection the worker has just
     * closed is retried; one that is not must not be sent on it
     */

    return ngx_http_faas_cached(pc, slot,
                                ctx->request->method
                                & (NGX_HTTP_POST|NGX_HTTP_PATCH|NGX_HTTP_LOCK));
}


static ngx_http_faas_slot_t *
ngx_http_faas_choose(ngx_http_faas_ctx_t *ctx)
{
    uint64_t                   bit;
    ngx_uint_t                 i, n;
    ngx_http_faas_slot_t      *slot, *best, *fallback;

    n = ctx->function->nslots;
    slot = ctx->function->slots;

    best = NULL;
    fallback = NULL;

    for (i = 0; i < n; i++) {
        bit = (uint64_t) 1 << i;

        ngx_log_debug5(NGX_LOG_DEBUG_HTTP, ctx->request->connection->log, 0,
                       "faas peer: \"%V\" slot %ui: active %ui, tried %d, "
                       "failed %d", &ctx->function->name, i, slot[i].active,
                       (ctx->tried & bit) != 0, slot[i].failed != 0);

        if ((ctx->tried & bit) && n > 1) {
            continue;
        }

        if (slot[i].failed
            && ngx_current_msec - slot[i].failed_at
               < NGX_HTTP_FAAS_FAIL_TIMEOUT)
        {
            if (fallback == NULL || slot[i].failed_at < fallback->failed_at) {
                fallback = &slot[i];
            }

            continue;
        }

        if (best == NULL || slot[i].active < best->active) {
            best = &slot[i];
        }
    }

    if (best) {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ctx->request->connection->log, 0,
                       "faas peer: \"%V\" slot %ui chosen: the least busy",
                       &ctx->function->name, best - slot);
        return best;
    }

    /* every slot failed lately: the one that failed longest ago */

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ctx->request->connection->log, 0,
                   "faas peer: \"%V\" slot %ui chosen: every slot failed "
                   "lately, it failed longest ago", &ctx->function->name,
                   (fallback ? fallback : &slot[0]) - slot);

    return fallback ? fallback : &slot[0];
}


static ngx_int_t
ngx_http_faas_cached(ngx_peer_connection_t *pc, ngx_http_faas_slot_t *slot,
    ngx_uint_t check)
{
    int                      n;
    char                     buf[1];
    ngx_queue_t             *q;
    ngx_connection_t        *c;
    ngx_http_faas_cached_t  *item;

    while (!ngx_queue_empty(&slot->cache)) {

        /* the most recently used connection: the least likely to be stale */

        q = ngx_queue_head(&slot->cache);
        ngx_queue_remove(q);
        ngx_queue_insert_head(&slot->free, q);

        item = ngx_queue_data(q, ngx_http_faas_cached_t, queue);
        c = item->connection;

        /*
         * a worker that was replaced or restarted closes its idle
         * connections, and the event saying so may not have been handled
         * yet: a request that cannot be retried looks first
         */

        if (check) {
            n = recv(c->fd, buf, 1, MSG_PEEK);

            if (n != -1 || ngx_socket_errno != NGX_EAGAIN) {
                ngx_log_debug1(NGX_LOG_DEBUG_HTTP, pc->log, 0,
                               "faas peer: keepalive connection %d closed "
                               "by the worker: not used", c->fd);
                ngx_http_faas_keepalive_close(c);
                continue;
            }
        }

        c->idle = 0;
        c->sent = 0;
        c->data = NULL;
        c->log = pc->log;
        c->read->log = pc->log;
        c->write->log = pc->log;
        c->pool->log = pc->log;

        if (c->read->timer_set) {
            ngx_del_timer(c->read);
        }

        pc->connection = c;
        pc->cached = 1;

        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, pc->log, 0,
                       "faas peer: keepalive hit, connection %d", c->fd);

        return NGX_DONE;
    }

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, pc->log, 0,
                   "faas peer: keepalive miss, connecting");

    return NGX_OK;
}


static void
ngx_http_faas_free_peer(ngx_peer_connection_t *pc, void *data,
    ngx_uint_t state)
{
    ngx_http_faas_ctx_t *ctx = data;

    ngx_queue_t                *q;
    ngx_connection_t           *c;
    ngx_http_upstream_t        *u;
    ngx_http_faas_slot_t       *slot;
    ngx_http_faas_cached_t     *item;
    ngx_http_faas_main_conf_t  *fmcf;

    slot = ctx->slot;

    if (slot == NULL) {
        return;
    }

    ctx->slot = NULL;
    slot->active--;

    if (pc->tries) {
        pc->tries--;
    }

    u = ctx->request->upstream;
    c = pc->connection;

    if (state & NGX_PEER_FAILED) {

        /* a stale cached connection says nothing about the worker */

        if (!pc->cached) {
            slot->failed = 1;
            slot->failed_at = ngx_current_msec;
        }

        goto invalid;
    }

    slot->failed = 0;

    if (c == NULL
        || c->read->eof
        || c->read->error
        || c->read->timedout
        || c->write->error
        || c->write->timedout
        || !u->keepalive
        || !u->request_body_sent
        || ngx_terminate
        || ngx_exiting)
    {
        goto invalid;
    }

    if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
        goto invalid;
    }

    fmcf = ngx_http_get_module_main_conf(ctx->request, ngx_http_faas_module);

    if (slot->pool) {
        if (ngx_http_faas_keepalive_items(slot, slot->pool, fmcf->keepalive)
            != NGX_OK)
        {
            goto invalid;
        }

        slot->pool = NULL;
    }

    if (ngx_queue_empty(&slot->free)) {

        if (ngx_queue_empty(&slot->cache)) {
            goto invalid;
        }

        q = ngx_queue_last(&slot->cache);
        ngx_queue_remove(q);

        item = ngx_queue_data(q, ngx_http_faas_cached_t, queue);
        ngx_http_faas_keepalive_close(item->connection);

    } else {
        q = ngx_queue_head(&slot->free);
        ngx_queue_remove(q);

        item = ngx_queue_data(q, ngx_http_faas_cached_t, queue);
    }

    ngx_queue_insert_head(&slot->cache, q);

    item->connection = c;
    pc->connection = NULL;

    c->read->delayed = 0;
    ngx_add_timer(c->read, fmcf->keepalive_timeout);

    if (c->write->timer_set) {
        ngx_del_timer(c->write);
    }

    c->write->handler = ngx_http_faas_keepalive_dummy_handler;
    c->read->handler = ngx_http_faas_keepalive_close_handler;

    c->data = item;
    c->idle = 1;
    c->log = ngx_cycle->log;
    c->read->log = ngx_cycle->log;
    c->write->log = ngx_cycle->log;
    c->pool->log = ngx_cycle->log;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, pc->log, 0,
                   "faas peer: connection %d kept for slot %ui",
                   c->fd, slot - ctx->function->slots);

    if (c->read->ready) {
        ngx_http_faas_keepalive_close_handler(c->read);
    }

invalid:

    return;
}


static void
ngx_http_faas_keepalive_dummy_handler(ngx_event_t *ev)
{
    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, ev->log, 0,
                   "faas keepalive dummy handler");
}


static void
ngx_http_faas_keepalive_close_handler(ngx_event_t *ev)
{
    int                      n;
    char                     buf[1];
    ngx_connection_t        *c;
    ngx_http_faas_cached_t  *item;

    c = ev->data;

    if (c->close || c->read->timedout) {
        goto close;
    }

    n = recv(c->fd, buf, 1, MSG_PEEK);

    if (n == -1 && ngx_socket_errno == NGX_EAGAIN) {
        ev->ready = 0;

        if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
            goto close;
        }

        return;
    }

close:

    item = c->data;

    ngx_http_faas_keepalive_close(c);

    ngx_queue_remove(&item->queue);
    ngx_queue_insert_head(&item->slot->free, &item->queue);
}


static void
ngx_http_faas_keepalive_close(ngx_connection_t *c)
{
    ngx_destroy_pool(c->pool);
    ngx_close_connection(c);
}


ngx_int_t
ngx_http_faas_keepalive_init(ngx_conf_t *cf, ngx_http_faas_main_conf_t *fmcf)
{
    ngx_uint_t                  i, s;
    ngx_http_faas_function_t  **fn;

    fn = fmcf->functions.elts;

    for (i = 0; i < fmcf->functions.nelts; i++) {
        for (s = 0; s < fn[i]->nslots; s++) {
            if (ngx_http_faas_keepalive_items(&fn[i]->slots[s], cf->pool,
                                              fmcf->keepalive)
                != NGX_OK)
            {
                return NGX_ERROR;
            }
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_faas_keepalive_items(ngx_http_faas_slot_t *slot, ngx_pool_t *pool,
    ngx_uint_t keepalive)
{
    ngx_uint_t               k;
    ngx_http_faas_cached_t  *items;

    if (keepalive == 0) {
        return NGX_OK;
    }

    items = ngx_pcalloc(pool, keepalive * sizeof(ngx_http_faas_cached_t));
    if (items == NULL) {
        return NGX_ERROR;
    }

    for (k = 0; k < keepalive; k++) {
        items[k].slot = slot;
        ngx_queue_insert_head(&slot->free, &items[k].queue);
    }

    return NGX_OK;
}


/*
 * A new Redis table that keeps a version keeps its sockets: the idle
 * connections to them move to the new table's slots instead of being
 * closed and opened again.
 */

void
ngx_http_faas_keepalive_move(ngx_http_faas_slot_t *from,
    ngx_http_faas_slot_t *to, ngx_uint_t keepalive)
{
    ngx_queue_t             *q, *fq;
    ngx_http_faas_cached_t  *item, *moved;

    if (ngx_queue_empty(&from->cache)) {
        return;
    }

    if (to->pool) {
        if (ngx_http_faas_keepalive_items(to, to->pool, keepalive)
            != NGX_OK)
        {
            return;
        }

        to->pool = NULL;
    }

    /* the oldest first, each to the head: the order stays */

    while (!ngx_queue_empty(&from->cache) && !ngx_queue_empty(&to->free)) {
        q = ngx_queue_last(&from->cache);
        ngx_queue_remove(q);
        ngx_queue_insert_head(&from->free, q);

        item = ngx_queue_data(q, ngx_http_faas_cached_t, queue);

        fq = ngx_queue_head(&to->free);
        ngx_queue_remove(fq);
        ngx_queue_insert_head(&to->cache, fq);

        moved = ngx_queue_data(fq, ngx_http_faas_cached_t, queue);
        moved->connection = item->connection;
        moved->connection->data = moved;
        item->connection = NULL;
    }
}


/* a table's last reference is gone: its idle connections go with it */

void
ngx_http_faas_keepalive_drop(ngx_http_faas_slot_t *slot)
{
    ngx_queue_t             *q;
    ngx_http_faas_cached_t  *item;

    while (!ngx_queue_empty(&slot->cache)) {
        q = ngx_queue_head(&slot->cache);
        ngx_queue_remove(q);
        ngx_queue_insert_head(&slot->free, q);

        item = ngx_queue_data(q, ngx_http_faas_cached_t, queue);
        ngx_http_faas_keepalive_close(item->connection);
        item->connection = NULL;
    }
}
