/*
 * Copyright (C) ngx_faas authors
 *
 * An aggregation at request time: each call is a background subrequest,
 * started as soon as the calls it depends on have answered, with its own
 * timer; the whole has a deadline.  Background subrequests take no part
 * in the postpone filter's ordering, so calls run truly in parallel and
 * their answers stop in the capture filter; each call's end posts the
 * aggregating request, which starts what became ready and answers when
 * the engine says it can.  Everything is allocated from the request's
 * pool.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_faas_module.h"
#include "ngx_http_faas_aggregate.h"
#include "ngx_http_faas_request.h"


struct ngx_http_faas_agg_ctx_s {
    ngx_http_request_t          *request;
    ngx_http_faas_ctx_t         *ctx;
    ngx_http_faas_agg_conf_t    *conf;
    faas_agg_run_t              *run;
    faas_arena_t                 arena;
    ngx_http_faas_agg_call_t    *calls;
    size_t                      *ready;
    ngx_event_t                  deadline;
    unsigned                     done:1;
};


static void ngx_http_faas_agg_body(ngx_http_request_t *r);
static void ngx_http_faas_agg_wake(ngx_http_request_t *r);
static void ngx_http_faas_agg_continue(ngx_http_faas_agg_ctx_t *actx);
static ngx_int_t ngx_http_faas_agg_start_call(ngx_http_faas_agg_ctx_t *actx,
    size_t i);
static ngx_int_t ngx_http_faas_agg_headers(ngx_http_request_t *r,
    ngx_http_request_t *sr, ngx_http_faas_agg_call_t *call,
    faas_agg_request_t *req);
static ngx_table_elt_t *ngx_http_faas_agg_push_header(ngx_http_request_t *sr,
    u_char *name, size_t len, u_char *value, size_t value_len);
static ngx_int_t ngx_http_faas_agg_request_body(ngx_http_request_t *r,
    ngx_http_request_t *sr, ngx_http_faas_agg_call_t *call,
    faas_agg_request_t *req);
static ngx_int_t ngx_http_faas_agg_call_done(ngx_http_request_t *sr,
    void *data, ngx_int_t rc);
static void ngx_http_faas_agg_call_timeout(ngx_event_t *ev);
static void ngx_http_faas_agg_deadline(ngx_event_t *ev);
static void ngx_http_faas_agg_cancel(ngx_http_faas_agg_call_t *call);
static void ngx_http_faas_agg_log_failure(ngx_http_faas_agg_ctx_t *actx,
    ngx_http_faas_agg_call_t *call);
static void ngx_http_faas_agg_respond(ngx_http_faas_agg_ctx_t *actx);
static void ngx_http_faas_agg_cleanup(void *data);
static void *ngx_http_faas_agg_palloc(void *data, size_t size);
static int ngx_http_faas_agg_lookup(void *data, unsigned source,
    const char *name, size_t len, const char **value, size_t *vlen);
static ngx_int_t ngx_http_faas_agg_method(unsigned method,
    ngx_http_request_t *sr);


ngx_int_t
ngx_http_faas_aggregate_start(ngx_http_request_t *r, ngx_http_faas_ctx_t *ctx,
    ngx_http_faas_agg_conf_t *acf)
{
    ngx_int_t                 rc;
    ngx_http_faas_agg_ctx_t  *actx;

    actx = ngx_pcalloc(r->pool, sizeof(ngx_http_faas_agg_ctx_t));
    if (actx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    actx->request = r;
    actx->ctx = ctx;
    actx->conf = acf;
    ctx->agg = actx;

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "faas aggregate: start \"%V\": %ui calls, timeout %M ms",
                   &r->uri, acf->ncalls, acf->timeout);

    /* templates read the body in place: one buffer when it fits memory */

    r->request_body_in_single_buf = 1;

    rc = ngx_http_read_client_request_body(r, ngx_http_faas_agg_body);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static void
ngx_http_faas_agg_body(ngx_http_request_t *r)
{
    size_t                     i;
    ngx_buf_t                 *b;
    faas_agg_input_t           in;
    ngx_pool_cleanup_t        *cln;
    ngx_http_faas_ctx_t       *ctx;
    ngx_http_faas_agg_ctx_t   *actx;
    ngx_http_faas_agg_conf_t  *acf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_faas_module);
    actx = ctx->agg;
    acf = actx->conf;

    ngx_memzero(&in, sizeof(faas_agg_input_t));

    in.lookup = ngx_http_faas_agg_lookup;
    in.data = r;
    in.trace_id = (char *) ngx_pnalloc(r->pool, ctx->trace_id.len + 1);

    if (in.trace_id == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    *ngx_cpymem((u_char *) in.trace_id, ctx->trace_id.data,
                ctx->trace_id.len) = '\0';

    /* a body spooled to a file is not read here: templates see none */

    if (r->request_body && r->request_body->bufs) {
        b = r->request_body->bufs->buf;

        if (r->request_body->bufs->next == NULL && !b->in_file) {
            in.body = (char *) b->pos;
            in.body_len = b->last - b->pos;

        } else {
            in.body_error = "the request body is larger than "
                            "client_body_buffer_size, and only a body in "
                            "memory is read";
        }
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    cln->handler = ngx_http_faas_agg_cleanup;
    cln->data = actx;

    actx->arena.block_alloc = ngx_http_faas_agg_palloc;
    actx->arena.block_data = r->pool;

    actx->run = faas_agg_run_create(acf->agg, &in, &actx->arena);

    actx->calls = ngx_pcalloc(r->pool,
                              acf->ncalls * sizeof(ngx_http_faas_agg_call_t));
    actx->ready = ngx_palloc(r->pool, acf->ncalls * sizeof(size_t));

    if (actx->run == NULL || actx->calls == NULL || actx->ready == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    for (i = 0; i < acf->ncalls; i++) {
        actx->calls[i].actx = actx;
        actx->calls[i].index = i;
        actx->calls[i].target = &acf->targets[i];
    }

    actx->deadline.handler = ngx_http_faas_agg_deadline;
    actx->deadline.data = actx;
    actx->deadline.log = r->connection->log;

    ngx_add_timer(&actx->deadline, acf->timeout);

    r->write_event_handler = ngx_http_faas_agg_wake;

    ngx_http_faas_agg_continue(actx);
}


/* a call ended: its subrequest posted the aggregating request */

static void
ngx_http_faas_agg_wake(ngx_http_request_t *r)
{
    ngx_http_faas_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_faas_module);

    if (ctx == NULL || ctx->agg == NULL || ctx->agg->done) {
        return;
    }

    ngx_http_faas_agg_continue(ctx->agg);
}


static void
ngx_http_faas_agg_continue(ngx_http_faas_agg_ctx_t *actx)
{
    size_t  i, n;

    while (!actx->done) {

        if (faas_agg_required_failed(actx->run) >= 0
            || faas_agg_finished(actx->run))
        {
            ngx_http_faas_agg_respond(actx);
            return;
        }

        n = faas_agg_ready(actx->run, actx->ready);

        if (n == 0) {
#if (NGX_DEBUG)
            for (i = 0; i < actx->conf->ncalls; i++) {
                if (!actx->calls[i].started) {
                    ngx_log_debug1(NGX_LOG_DEBUG_HTTP,
                                   actx->request->connection->log, 0,
                                   "faas aggregate: call \"%V\" waits for "
                                   "its dependencies",
                                   &actx->calls[i].target->name);
                }
            }
#endif
            return;
        }

        for (i = 0; i < n; i++) {
            if (ngx_http_faas_agg_start_call(actx, actx->ready[i])
                != NGX_OK)
            {
                faas_agg_fail(actx->run, actx->ready[i], 500,
                              "the call could not be started");
            }
        }
    }
}


static ngx_int_t
ngx_http_faas_agg_start_call(ngx_http_faas_agg_ctx_t *actx, size_t i)
{
    ngx_str_t                  uri, args;
    ngx_http_request_t        *r, *sr;
    faas_agg_request_t         req;
    ngx_http_faas_agg_call_t  *call;

    r = actx->request;
    call = &actx->calls[i];

    if (faas_agg_request(actx->run, i, &req) != FAAS_OK) {
        call->started = 1;
        call->finished = 1;
        ngx_http_faas_agg_log_failure(actx, call);
        return NGX_OK;
    }

    if (call->target->kind == FAAS_AGG_FUNCTION) {

        /* to this location again, where the handler sees the call */

        uri = r->uri;

    } else {
        uri.data = (u_char *) req.path;
        uri.len = req.path_len;
    }

    args.data = (u_char *) req.args;
    args.len = req.args_len;

    call->ps.handler = ngx_http_faas_agg_call_done;
    call->ps.data = call;

    if (ngx_http_subrequest(r, &uri, &args, &sr, &call->ps,
                            NGX_HTTP_SUBREQUEST_BACKGROUND)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* the subrequest knows its call by its post_subrequest */

    call->sr = sr;
    call->started = 1;
    call->start = ngx_current_msec;

    if (ngx_http_faas_agg_method(req.method, sr) != NGX_OK
        || ngx_http_faas_agg_headers(r, sr, call, &req) != NGX_OK
        || ngx_http_faas_agg_request_body(r, sr, call, &req) != NGX_OK)
    {
        return NGX_ERROR;
    }

    call->timer.handler = ngx_http_faas_agg_call_timeout;
    call->timer.data = call;
    call->timer.log = r->connection->log;

    ngx_add_timer(&call->timer, call->target->timeout);

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "faas aggregate: call \"%V\" subrequest \"%V?%V\"",
                   &call->target->name, &uri, &args);

    return NGX_OK;
}


static ngx_int_t
ngx_http_faas_agg_method(unsigned method, ngx_http_request_t *sr)
{
    const char  *name;

    switch (method) {
    case FAAS_METHOD_GET:
        sr->method = NGX_HTTP_GET;
        break;
    case FAAS_METHOD_POST:
        sr->method = NGX_HTTP_POST;
        break;
    case FAAS_METHOD_PUT:
        sr->method = NGX_HTTP_PUT;
        break;
    case FAAS_METHOD_PATCH:
        sr->method = NGX_HTTP_PATCH;
        break;
    case FAAS_METHOD_DELETE:
        sr->method = NGX_HTTP_DELETE;
        break;
    default:
        return NGX_ERROR;
    }

    name = faas_method_name(method);

    sr->method_name.data = (u_char *) name;
    sr->method_name.len = ngx_strlen(name);

    return NGX_OK;
}


/*
 * A call's headers are its own list: the forwarded ones, the trace id,
 * the call's, and the body's type; nothing hop-by-hop, and none of the
 * conditional or range headers that would change what a backend sends.
 */

static ngx_int_t
ngx_http_faas_agg_headers(ngx_http_request_t *r, ngx_http_request_t *sr,
    ngx_http_faas_agg_call_t *call, faas_agg_request_t *req)
{
    ngx_str_t                 *fw;
    ngx_uint_t                 i, k;
    ngx_list_part_t           *part;
    ngx_table_elt_t           *h, *nh;
    ngx_http_headers_in_t     *hi;
    ngx_http_faas_agg_ctx_t   *actx;
    ngx_http_faas_agg_conf_t  *acf;

    actx = call->actx;
    acf = actx->conf;
    hi = &sr->headers_in;

    if (ngx_list_init(&hi->headers, r->pool, 8, sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    hi->connection = NULL;
    hi->if_modified_since = NULL;
    hi->if_unmodified_since = NULL;
    hi->if_match = NULL;
    hi->if_none_match = NULL;
    hi->user_agent = NULL;
    hi->referer = NULL;
    hi->content_length = NULL;
    hi->content_range = NULL;
    hi->content_type = NULL;
    hi->range = NULL;
    hi->if_range = NULL;
    hi->transfer_encoding = NULL;
    hi->te = NULL;
    hi->expect = NULL;
    hi->upgrade = NULL;
#if (NGX_HTTP_GZIP || NGX_HTTP_HEADERS)
    hi->accept_encoding = NULL;
    hi->via = NULL;
#endif
    hi->authorization = NULL;
    hi->keep_alive = NULL;
    hi->chunked = 0;
    hi->connection_type = 0;
    hi->content_length_n = -1;

    fw = acf->forward;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        for (k = 0; k < acf->nforward; k++) {
            if (fw[k].len == h[i].key.len
                && ngx_strncasecmp(fw[k].data, h[i].key.data, fw[k].len) == 0)
            {
                break;
            }
        }

        if (k == acf->nforward) {
            continue;
        }

        nh = ngx_list_push(&hi->headers);
        if (nh == NULL) {
            return NGX_ERROR;
        }

        *nh = h[i];
        ngx_http_faas_header_unlink(nh);

        if (h[i].lowcase_key[0] == 'a'
            && ngx_strcmp(h[i].lowcase_key, "authorization") == 0)
        {
            hi->authorization = nh;

        } else if (h[i].lowcase_key[0] == 'u'
                   && ngx_strcmp(h[i].lowcase_key, "user-agent") == 0)
        {
            hi->user_agent = nh;
        }
    }

    if (ngx_http_faas_agg_push_header(sr, (u_char *) "X-Request-Id",
                                      sizeof("X-Request-Id") - 1,
                                      actx->ctx->trace_id.data,
                                      actx->ctx->trace_id.len)
        == NULL)
    {
        return NGX_ERROR;
    }

    for (i = 0; i < req->nheaders; i++) {
        if (ngx_http_faas_agg_push_header(sr,
                                          (u_char *) req->headers[i].name,
                                          req->headers[i].len,
                                          (u_char *) req->headers[i].value,
                                          req->headers[i].value_len)
            == NULL)
        {
            return NGX_ERROR;
        }
    }

    if (req->body) {
        hi->content_type = ngx_http_faas_agg_push_header(sr,
                               (u_char *) "Content-Type",
                               sizeof("Content-Type") - 1,
                               (u_char *) "application/json",
                               sizeof("application/json") - 1);
        if (hi->content_type == NULL) {
            return NGX_ERROR;
        }

    } else if (call->target->forward_body && r->headers_in.content_type) {
        hi->content_type = ngx_http_faas_agg_push_header(sr,
                               r->headers_in.content_type->key.data,
                               r->headers_in.content_type->key.len,
                               r->headers_in.content_type->value.data,
                               r->headers_in.content_type->value.len);
        if (hi->content_type == NULL) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static ngx_table_elt_t *
ngx_http_faas_agg_push_header(ngx_http_request_t *sr, u_char *name,
    size_t len, u_char *value, size_t value_len)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&sr->headers_in.headers);
    if (h == NULL) {
        return NULL;
    }

    ngx_http_faas_header_unlink(h);

    h->key.data = name;
    h->key.len = len;
    h->value.data = value;
    h->value.len = value_len;

    h->lowcase_key = ngx_pnalloc(sr->pool, len + 1);
    if (h->lowcase_key == NULL) {
        return NULL;
    }

    h->hash = ngx_hash_strlow(h->lowcase_key, name, len);
    h->lowcase_key[len] = '\0';

    return h;
}


static ngx_int_t
ngx_http_faas_agg_request_body(ngx_http_request_t *r, ngx_http_request_t *sr,
    ngx_http_faas_agg_call_t *call, faas_agg_request_t *req)
{
    off_t                      len;
    ngx_buf_t                 *b;
    ngx_chain_t               *cl;
    ngx_http_request_body_t   *rb;

    if (call->target->forward_body && req->body == NULL) {
        sr->request_body = r->request_body;
        sr->headers_in.content_length_n = 0;

        if (r->request_body) {
            len = 0;

            for (cl = r->request_body->bufs; cl; cl = cl->next) {
                len += ngx_buf_size(cl->buf);
            }

            sr->headers_in.content_length_n = len;
        }

        return NGX_OK;
    }

    rb = ngx_pcalloc(r->pool, sizeof(ngx_http_request_body_t));
    if (rb == NULL) {
        return NGX_ERROR;
    }

    sr->request_body = rb;

    if (req->body == NULL) {
        return NGX_OK;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->start = (u_char *) req->body;
    b->pos = b->start;
    b->last = b->start + req->body_len;
    b->end = b->last;
    b->memory = 1;

    cl = ngx_alloc_chain_link(r->pool);
    if (cl == NULL) {
        return NGX_ERROR;
    }

    cl->buf = b;
    cl->next = NULL;

    rb->bufs = cl;
    sr->headers_in.content_length_n = req->body_len;

    return NGX_OK;
}


/*
 * The call a request is, if it is one: known from its post_subrequest,
 * which, unlike module contexts, an internal redirect keeps.
 */

ngx_http_faas_agg_call_t *
ngx_http_faas_aggregate_call_of(ngx_http_request_t *r)
{
    if (r->post_subrequest == NULL
        || r->post_subrequest->handler != ngx_http_faas_agg_call_done)
    {
        return NULL;
    }

    return r->post_subrequest->data;
}


/* a subrequest finalized: nginx may call this more than once for one */

static ngx_int_t
ngx_http_faas_agg_call_done(ngx_http_request_t *sr, void *data, ngx_int_t rc)
{
    ngx_http_faas_agg_call_t *call = data;

    char                      reason[32];
    u_char                   *p;
    size_t                    len;
    ngx_chain_t              *cl;
    ngx_http_faas_agg_ctx_t  *actx;

    actx = call->actx;

    if (call->finished || actx->done) {
        return rc;
    }

    call->finished = 1;

    if (call->timer.timer_set) {
        ngx_del_timer(&call->timer);
    }

    if (call->too_big) {
        faas_agg_fail(actx->run, call->index, call->status,
                      "the answer is larger than max_size");

    } else if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        ngx_snprintf((u_char *) reason, sizeof(reason), "status %i%Z", rc);
        faas_agg_fail(actx->run, call->index, rc, reason);

    } else if (rc == NGX_ERROR || call->status == 0) {
        faas_agg_fail(actx->run, call->index, NGX_HTTP_BAD_GATEWAY,
                      "the answer was cut short (see the error log)");

    } else {
        p = NULL;
        len = call->size;

        if (call->body && call->body->next == NULL) {
            p = call->body->buf->pos;

        } else if (call->body) {
            p = ngx_pnalloc(sr->pool, len);
            if (p == NULL) {
                faas_agg_fail(actx->run, call->index, 500, "out of memory");
                goto done;
            }

            len = 0;

            for (cl = call->body; cl; cl = cl->next) {
                ngx_memcpy(p + len, cl->buf->pos, cl->buf->last - cl->buf->pos);
                len += cl->buf->last - cl->buf->pos;
            }
        }

        faas_agg_done(actx->run, call->index, call->status,
                      (char *) call->content_type.data,
                      call->content_type.len, (char *) p, len);
    }

done:

    ngx_log_debug5(NGX_LOG_DEBUG_HTTP, actx->request->connection->log, 0,
                   "faas aggregate: call \"%V\" finished: rc %i, status %ui, "
                   "%uz bytes, %M ms", &call->target->name, rc, call->status,
                   call->size, ngx_current_msec - call->start);

    if (faas_agg_call_failed(actx->run, call->index)) {
        ngx_http_faas_agg_log_failure(actx, call);
    }

    if (ngx_http_post_request(actx->request, NULL) != NGX_OK) {
        return NGX_ERROR;
    }

    return rc;
}


static void
ngx_http_faas_agg_call_timeout(ngx_event_t *ev)
{
    ngx_http_faas_agg_call_t *call = ev->data;

    char                      reason[64];
    ngx_connection_t         *c;
    ngx_http_faas_agg_ctx_t  *actx;

    actx = call->actx;
    c = actx->request->connection;

    if (call->finished || actx->done) {
        return;
    }

    call->finished = 1;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, c->log, 0,
                   "faas aggregate: call \"%V\" timed out after %M ms",
                   &call->target->name, call->target->timeout);

    ngx_snprintf((u_char *) reason, sizeof(reason),
                 "timed out after %M ms%Z", call->target->timeout);

    faas_agg_fail(actx->run, call->index, NGX_HTTP_GATEWAY_TIME_OUT, reason);
    ngx_http_faas_agg_log_failure(actx, call);

    ngx_http_faas_agg_cancel(call);
    ngx_http_faas_agg_continue(actx);

    ngx_http_run_posted_requests(c);
}


static void
ngx_http_faas_agg_deadline(ngx_event_t *ev)
{
    ngx_http_faas_agg_ctx_t *actx = ev->data;

    char                       reason[80];
    ngx_uint_t                 i;
    ngx_connection_t          *c;
    ngx_http_faas_agg_call_t  *call;

    c = actx->request->connection;

    if (actx->done) {
        return;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, c->log, 0,
                   "faas aggregate: timeout of %M ms passed",
                   actx->conf->timeout);

    ngx_snprintf((u_char *) reason, sizeof(reason),
                 "the aggregation's timeout of %M ms passed%Z",
                 actx->conf->timeout);

    for (i = 0; i < actx->conf->ncalls; i++) {
        call = &actx->calls[i];

        if (call->started && !call->finished) {
            call->finished = 1;

            if (call->timer.timer_set) {
                ngx_del_timer(&call->timer);
            }

            faas_agg_fail(actx->run, i, NGX_HTTP_GATEWAY_TIME_OUT, reason);
            ngx_http_faas_agg_log_failure(actx, call);
            ngx_http_faas_agg_cancel(call);
        }
    }

    ngx_http_faas_agg_respond(actx);

    ngx_http_run_posted_requests(c);
}


/*
 * A call that is waiting for its upstream ends now, as nginx ends an
 * upstream request whose client went away; one in any other state (rare:
 * a location that delays) runs to its end, and its answer is ignored.
 */

static void
ngx_http_faas_agg_cancel(ngx_http_faas_agg_call_t *call)
{
    ngx_http_request_t   *sr;
    ngx_http_upstream_t  *u;

    sr = call->sr;

    if (sr == NULL) {
        return;
    }

    u = sr->upstream;

    if (u != NULL && u->cleanup != NULL && *u->cleanup != NULL) {
        (*u->cleanup)(sr);
    }
}


static void
ngx_http_faas_agg_log_failure(ngx_http_faas_agg_ctx_t *actx,
    ngx_http_faas_agg_call_t *call)
{
    unsigned     status;
    const char  *reason;

    reason = faas_agg_call_error(actx->run, call->index, &status);

    ngx_log_error(NGX_LOG_WARN, actx->request->connection->log, 0,
                  "faas aggregate: call \"%V\" failed: %s (status %ui, "
                  "%s, trace id %V)", &call->target->name,
                  reason ? reason : "unknown", (ngx_uint_t) status,
                  call->target->required ? "required" : "optional",
                  &actx->ctx->trace_id);
}


static void
ngx_http_faas_agg_respond(ngx_http_faas_agg_ctx_t *actx)
{
    ngx_int_t                  rc;
    ngx_buf_t                 *b;
    ngx_uint_t                 i;
    ngx_chain_t                out;
    ngx_table_elt_t           *h;
    ngx_http_request_t        *r;
    faas_agg_response_t        resp;
    ngx_http_faas_agg_call_t  *call;

    r = actx->request;

    actx->done = 1;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "faas aggregate: \"%V\" answers, required call failed: "
                   "%s", &r->uri,
                   faas_agg_required_failed(actx->run) >= 0 ? "yes" : "no");

    if (actx->deadline.timer_set) {
        ngx_del_timer(&actx->deadline);
    }

    /* a required call failed: the others are of no use any more */

    for (i = 0; i < actx->conf->ncalls; i++) {
        call = &actx->calls[i];

        if (call->timer.timer_set) {
            ngx_del_timer(&call->timer);
        }

        if (call->started && !call->finished) {
            call->finished = 1;
            ngx_http_faas_agg_cancel(call);
        }
    }

    r->write_event_handler = ngx_http_request_empty_handler;

    if (faas_agg_response(actx->run, &resp) != FAAS_OK) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "faas aggregate: the answer could not be made "
                      "(out of memory or over the memory budget of %uz "
                      "bytes), trace id %V", actx->arena.max,
                      &actx->ctx->trace_id);
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_http_faas_header_unlink(h);

    h->hash = 1;
    ngx_str_set(&h->key, "X-Faas-Completed");

    if (resp.complete) {
        ngx_str_set(&h->value, "true");

    } else {
        ngx_str_set(&h->value, "false");
    }

    r->headers_out.status = resp.status;
    r->headers_out.content_length_n = resp.len;
    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        ngx_http_finalize_request(r, rc);
        return;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    b->pos = (u_char *) resp.body;
    b->last = b->pos + resp.len;
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    ngx_http_finalize_request(r, ngx_http_output_filter(r, &out));
}


static void
ngx_http_faas_agg_cleanup(void *data)
{
    ngx_http_faas_agg_ctx_t *actx = data;

    ngx_uint_t  i;

    actx->done = 1;

    if (actx->deadline.timer_set) {
        ngx_del_timer(&actx->deadline);
    }

    if (actx->calls == NULL) {
        return;
    }

    for (i = 0; i < actx->conf->ncalls; i++) {
        if (actx->calls[i].timer.timer_set) {
            ngx_del_timer(&actx->calls[i].timer);
        }
    }
}


static void *
ngx_http_faas_agg_palloc(void *data, size_t size)
{
    return ngx_palloc(data, size);
}


/* the incoming request as templates see it; query values decoded */

static int
ngx_http_faas_agg_lookup(void *data, unsigned source, const char *name,
    size_t len, const char **value, size_t *vlen)
{
    ngx_http_request_t *r = data;

    u_char               *dst, *src, *buf;
    size_t                n, i;
    const char           *v;
    ngx_http_faas_ctx_t  *ctx;

    switch (source) {

    case FAAS_AGG_SRC_PARAM:
        ctx = ngx_http_get_module_ctx(r, ngx_http_faas_module);

        for (i = 0; ctx && i < ctx->match.nparams; i++) {
            if (ctx->match.params[i].name_len == len
                && ngx_strncmp(ctx->match.params[i].name, name, len) == 0)
            {
                *value = ctx->match.params[i].value;
                *vlen = ctx->match.params[i].value_len;
                return FAAS_OK;
            }
        }

        return FAAS_ERROR;

    case FAAS_AGG_SRC_QUERY:
        v = ngx_http_faas_request_value(r, FAAS_SOURCE_QUERY, name, len, &n);
        if (v == NULL) {
            return FAAS_ERROR;
        }

        if (ngx_strlchr((u_char *) v, (u_char *) v + n, '%') == NULL
            && ngx_strlchr((u_char *) v, (u_char *) v + n, '+') == NULL)
        {
            *value = v;
            *vlen = n;
            return FAAS_OK;
        }

        buf = ngx_pnalloc(r->pool, n);
        if (buf == NULL) {
            return FAAS_ERROR;
        }

        /* "+" is a space in a form-encoded query, "%2B" a plus */

        for (i = 0; i < n; i++) {
            buf[i] = (v[i] == '+') ? ' ' : (u_char) v[i];
        }

        dst = buf;
        src = buf;

        ngx_unescape_uri(&dst, &src, n, 0);

        *value = (char *) buf;
        *vlen = dst - buf;
        return FAAS_OK;

    case FAAS_AGG_SRC_HEADER:
        v = ngx_http_faas_request_value(r, FAAS_SOURCE_HEADER, name, len, &n);
        break;

    case FAAS_AGG_SRC_COOKIE:
        v = ngx_http_faas_request_value(r, FAAS_SOURCE_COOKIE, name, len, &n);
        break;

    default:
        return FAAS_ERROR;
    }

    if (v == NULL) {
        return FAAS_ERROR;
    }

    *value = v;
    *vlen = n;

    return FAAS_OK;
}
