/*
 * Copyright (C) ngx_faas authors
 *
 * The upstream side of a function call: frames the request for the
 * worker (docs/protocol.md), parses the response head into nginx's
 * upstream headers, and passes the body through unbuffered, counting it
 * so that the connection can be kept alive.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_faas_module.h"
#include "ngx_http_faas_upstream.h"


static ngx_int_t ngx_http_faas_create_request(ngx_http_request_t *r);
static ngx_int_t ngx_http_faas_reinit_request(ngx_http_request_t *r);
static ngx_int_t ngx_http_faas_process_header(ngx_http_request_t *r);
static ngx_int_t ngx_http_faas_add_header(ngx_http_request_t *r,
    faas_field_t *name, faas_field_t *value);
static ngx_int_t ngx_http_faas_filter_init(void *data);
static ngx_int_t ngx_http_faas_filter(void *data, ssize_t bytes);
static void ngx_http_faas_abort_request(ngx_http_request_t *r);
static void ngx_http_faas_finalize_request(ngx_http_request_t *r,
    ngx_int_t rc);
static ngx_uint_t ngx_http_faas_hop_by_hop(ngx_str_t *name);


ngx_int_t
ngx_http_faas_upstream_start(ngx_http_request_t *r, ngx_http_faas_ctx_t *ctx)
{
    ngx_int_t                  rc;
    ngx_http_upstream_t       *u;
    ngx_http_faas_loc_conf_t  *flcf;

    if (ngx_http_upstream_create(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    u = r->upstream;
    flcf = ngx_http_get_module_loc_conf(r, ngx_http_faas_module);

    u->conf = &flcf->upstream;

    if (ctx->function->timeout) {

        /* the function's own timeout from f.yml: a copy for this request */

        u->conf = ngx_palloc(r->pool, sizeof(ngx_http_upstream_conf_t));
        if (u->conf == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_memcpy(u->conf, &flcf->upstream, sizeof(ngx_http_upstream_conf_t));
        u->conf->read_timeout = ctx->function->timeout;
    }

    ngx_str_set(&u->schema, "faas://");
    u->output.tag = (ngx_buf_tag_t) &ngx_http_faas_module;

    u->create_request = ngx_http_faas_create_request;
    u->reinit_request = ngx_http_faas_reinit_request;
    u->process_header = ngx_http_faas_process_header;
    u->abort_request = ngx_http_faas_abort_request;
    u->finalize_request = ngx_http_faas_finalize_request;

    u->input_filter_init = ngx_http_faas_filter_init;
    u->input_filter = ngx_http_faas_filter;
    u->input_filter_ctx = ctx;

    u->buffering = 0;

    rc = ngx_http_read_client_request_body(r, ngx_http_upstream_init);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static ngx_int_t
ngx_http_faas_create_request(ngx_http_request_t *r)
{
    u_char               *p;
    off_t                 body_len;
    size_t                len;
    ngx_buf_t            *b, *body;
    ngx_uint_t            i;
    ngx_chain_t          *cl, *in, **ll;
    ngx_list_part_t      *part;
    ngx_table_elt_t      *h;
    ngx_http_upstream_t  *u;
    ngx_http_faas_ctx_t  *ctx;
    u_char                deadline[NGX_INT_T_LEN];
    u_char                content_length[NGX_OFF_T_LEN];
    size_t                deadline_len, content_length_len;

    u = r->upstream;
    ctx = ngx_http_get_module_ctx(r, ngx_http_faas_module);

    body_len = 0;

    if (r->request_body) {
        for (in = r->request_body->bufs; in; in = in->next) {
            body_len += ngx_buf_size(in->buf);
        }
    }

    if (body_len > (off_t) 0xffffffff) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "faas: request body of %O bytes is over the "
                      "protocol's 4 GiB limit", body_len);
        return NGX_ERROR;
    }

    ctx->body_len = body_len;

    deadline_len = ngx_sprintf(deadline, "%M", u->conf->read_timeout)
                   - deadline;
    content_length_len = ngx_sprintf(content_length, "%O", body_len)
                         - content_length;

    len = faas_proto_field_size(ctx->function->name.len)
          + faas_proto_field_size(r->method_name.len)
          + faas_proto_field_size(r->uri.len)
          + faas_proto_field_size(r->unparsed_uri.len)
          + faas_proto_field_size(ctx->route.len)
          + faas_proto_field_size(ctx->trace_id.len)
          + faas_proto_field_size(deadline_len)
          + faas_proto_field_size(r->connection->addr_text.len)
          + faas_proto_field_size(sizeof("x-request-id") - 1)
          + faas_proto_field_size(ctx->trace_id.len);

    if (r->args.len) {
        len += faas_proto_field_size(r->args.len);
    }

    if (body_len) {
        len += faas_proto_field_size(sizeof("content-length") - 1)
               + faas_proto_field_size(content_length_len);
    }

    for (i = 0; i < ctx->match.nparams; i++) {
        len += faas_proto_field_size(ctx->match.params[i].name_len)
               + faas_proto_field_size(ctx->match.params[i].value_len);
    }

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

        if (ngx_http_faas_hop_by_hop(&h[i].key)) {
            continue;
        }

        len += faas_proto_field_size(h[i].key.len)
               + faas_proto_field_size(h[i].value.len);
    }

    if (len > FAAS_PROTO_MAX_HEAD) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "faas: request head of %uz bytes is over the "
                      "protocol's limit", len);
        return NGX_ERROR;
    }

    b = ngx_create_temp_buf(r->pool, FAAS_PROTO_HEADER_SIZE + len);
    if (b == NULL) {
        return NGX_ERROR;
    }

    p = b->last;

    p += faas_proto_write_header(p, FAAS_PROTO_REQUEST, 0, (uint32_t) len,
                                 (uint32_t) body_len);

    p += faas_proto_write_field(p, FAAS_FIELD_FUNCTION,
                                ctx->function->name.data,
                                ctx->function->name.len);
    p += faas_proto_write_field(p, FAAS_FIELD_METHOD, r->method_name.data,
                                r->method_name.len);
    p += faas_proto_write_field(p, FAAS_FIELD_PATH, r->uri.data, r->uri.len);

    if (r->args.len) {
        p += faas_proto_write_field(p, FAAS_FIELD_QUERY, r->args.data,
                                    r->args.len);
    }

    p += faas_proto_write_field(p, FAAS_FIELD_URL, r->unparsed_uri.data,
                                r->unparsed_uri.len);
    p += faas_proto_write_field(p, FAAS_FIELD_ROUTE, ctx->route.data,
                                ctx->route.len);
    p += faas_proto_write_field(p, FAAS_FIELD_TRACE_ID, ctx->trace_id.data,
                                ctx->trace_id.len);
    p += faas_proto_write_field(p, FAAS_FIELD_DEADLINE, deadline,
                                deadline_len);
    p += faas_proto_write_field(p, FAAS_FIELD_CLIENT_ADDR,
                                r->connection->addr_text.data,
                                r->connection->addr_text.len);

    for (i = 0; i < ctx->match.nparams; i++) {
        p += faas_proto_write_field(p, FAAS_FIELD_PARAM_NAME,
                                    ctx->match.params[i].name,
                                    ctx->match.params[i].name_len);
        p += faas_proto_write_field(p, FAAS_FIELD_PARAM_VALUE,
                                    ctx->match.params[i].value,
                                    ctx->match.params[i].value_len);
    }

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

        if (ngx_http_faas_hop_by_hop(&h[i].key)) {
            continue;
        }

        p += faas_proto_write_field(p, FAAS_FIELD_HEADER_NAME, h[i].key.data,
                                    h[i].key.len);
        p += faas_proto_write_field(p, FAAS_FIELD_HEADER_VALUE,
                                    h[i].value.data, h[i].value.len);
    }

    p += faas_proto_write_field(p, FAAS_FIELD_HEADER_NAME, "x-request-id",
                                sizeof("x-request-id") - 1);
    p += faas_proto_write_field(p, FAAS_FIELD_HEADER_VALUE,
                                ctx->trace_id.data, ctx->trace_id.len);

    if (body_len) {
        p += faas_proto_write_field(p, FAAS_FIELD_HEADER_NAME,
                                    "content-length",
                                    sizeof("content-length") - 1);
        p += faas_proto_write_field(p, FAAS_FIELD_HEADER_VALUE,
                                    content_length, content_length_len);
    }

    b->last = p;

    cl = ngx_alloc_chain_link(r->pool);
    if (cl == NULL) {
        return NGX_ERROR;
    }

    cl->buf = b;
    u->request_bufs = cl;
    ll = &cl->next;

    /*
     * the body's buffers are copied, not linked: sending moves their
     * positions, and a retry must find them where they were
     */

    if (body_len) {
        for (in = r->request_body->bufs; in; in = in->next) {
            body = ngx_alloc_buf(r->pool);
            if (body == NULL) {
                return NGX_ERROR;
            }

            ngx_memcpy(body, in->buf, sizeof(ngx_buf_t));

            cl = ngx_alloc_chain_link(r->pool);
            if (cl == NULL) {
                return NGX_ERROR;
            }

            cl->buf = body;
            *ll = cl;
            ll = &cl->next;
        }
    }

    *ll = NULL;

    ngx_log_debug4(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "faas upstream: request frame to \"%V\": head %uz bytes, "
                   "body %O bytes, trace %V", &ctx->function->name,
                   (size_t) (b->last - b->pos), body_len, &ctx->trace_id);

    return NGX_OK;
}


static ngx_uint_t
ngx_http_faas_hop_by_hop(ngx_str_t *name)
{
    static ngx_str_t  skip[] = {
        ngx_string("Connection"),
        ngx_string("Keep-Alive"),
        ngx_string("Proxy-Connection"),
        ngx_string("TE"),
        ngx_string("Trailer"),
        ngx_string("Transfer-Encoding"),
        ngx_string("Upgrade"),
        ngx_string("Content-Length"),
        ngx_string("X-Request-Id"),
    };

    ngx_uint_t  i;

    /* Content-Length and X-Request-Id are sent as nginx knows them */

    for (i = 0; i < sizeof(skip) / sizeof(ngx_str_t); i++) {
        if (name->len == skip[i].len
            && ngx_strncasecmp(name->data, skip[i].data, name->len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


static ngx_int_t
ngx_http_faas_reinit_request(ngx_http_request_t *r)
{
    ngx_http_faas_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_faas_module);
    ctx->close = 0;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "faas upstream: retry of \"%V\" on another slot",
                   &ctx->function->name);

    r->upstream->process_header = ngx_http_faas_process_header;

    return NGX_OK;
}


static ngx_int_t
ngx_http_faas_process_header(ngx_http_request_t *r)
{
    int                    rc;
    size_t                 pos, available;
    unsigned               status;
    ngx_buf_t             *b;
    const char            *reason;
    faas_frame_t           frame;
    faas_field_t           field, name;
    ngx_http_upstream_t   *u;
    ngx_http_faas_ctx_t   *ctx;

    u = r->upstream;
    b = &u->buffer;
    ctx = ngx_http_get_module_ctx(r, ngx_http_faas_module);

    available = b->last - b->pos;

    rc = faas_proto_read_header(b->pos, available,
                                b->end - b->start - FAAS_PROTO_HEADER_SIZE,
                                &frame);

    if (rc == FAAS_AGAIN) {
        return NGX_AGAIN;
    }

    if (rc != FAAS_OK || frame.type != FAAS_PROTO_RESPONSE) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "faas: function \"%V\" sent an invalid frame header "
                      "(or a head larger than faas_buffer_size)",
                      &ctx->function->name);
        return NGX_HTTP_UPSTREAM_INVALID_HEADER;
    }

    if (available < FAAS_PROTO_HEADER_SIZE + frame.head_len) {
        return NGX_AGAIN;
    }

    rc = faas_proto_check_response(b->pos + FAAS_PROTO_HEADER_SIZE,
                                   frame.head_len, &status, &reason);

    if (rc != FAAS_OK) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "faas: function \"%V\" sent an invalid response "
                      "head: %s", &ctx->function->name, reason);
        return NGX_HTTP_UPSTREAM_INVALID_HEADER;
    }

    pos = 0;
    name.data = NULL;
    name.len = 0;

    while (faas_proto_next_field(b->pos + FAAS_PROTO_HEADER_SIZE,
                                 frame.head_len, &pos, &field)
           == FAAS_OK)
    {
        switch (field.tag) {

        case FAAS_FIELD_HEADER_NAME:
            name = field;
            break;

        case FAAS_FIELD_HEADER_VALUE:
            if (ngx_http_faas_add_header(r, &name, &field) != NGX_OK) {
                return NGX_ERROR;
            }
            break;

        default:
            break;
        }
    }

    u->headers_in.status_n = status;

    if (u->state && u->state->status == 0) {
        u->state->status = status;
    }

    u->headers_in.content_length_n = frame.body_len;
    ctx->close = (frame.flags & FAAS_PROTO_FLAG_CLOSE) ? 1 : 0;

    b->pos += FAAS_PROTO_HEADER_SIZE + frame.head_len;

    ngx_log_debug5(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "faas upstream: header parsed from \"%V\": status %ui, "
                   "head %uz bytes, body length %uz%s",
                   &ctx->function->name, (ngx_uint_t) status,
                   (size_t) frame.head_len, (size_t) frame.body_len,
                   ctx->close ? ", close" : "");

    return NGX_OK;
}


static ngx_int_t
ngx_http_faas_add_header(ngx_http_request_t *r, faas_field_t *name,
    faas_field_t *value)
{
    u_char                          *key;
    ngx_str_t                        n;
    ngx_table_elt_t                 *h;
    ngx_http_upstream_header_t      *hh;
    ngx_http_upstream_main_conf_t   *umcf;

    n.data = (u_char *) name->data;
    n.len = name->len;

    /* nginx frames the body itself: the worker's framing headers go */

    if ((n.len == sizeof("Content-Length") - 1
         && ngx_strncasecmp(n.data, (u_char *) "Content-Length", n.len) == 0)
        || (n.len == sizeof("Transfer-Encoding") - 1
            && ngx_strncasecmp(n.data, (u_char *) "Transfer-Encoding", n.len)
               == 0)
        || ngx_http_faas_hop_by_hop(&n))
    {
        return NGX_OK;
    }

    umcf = ngx_http_get_module_main_conf(r, ngx_http_upstream_module);

    h = ngx_list_push(&r->upstream->headers_in.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    ngx_http_faas_header_unlink(h);

    /* the head lives in u->buffer, which the body reuses: copy it out */

    key = ngx_pnalloc(r->pool, name->len + 1 + value->len + 1 + name->len);
    if (key == NULL) {
        return NGX_ERROR;
    }

    h->key.len = name->len;
    h->key.data = key;
    ngx_memcpy(key, name->data, name->len);
    key[name->len] = '\0';

    h->value.len = value->len;
    h->value.data = key + name->len + 1;
    ngx_memcpy(h->value.data, value->data, value->len);
    h->value.data[value->len] = '\0';

    h->lowcase_key = h->value.data + value->len + 1;
    h->hash = ngx_hash_strlow(h->lowcase_key, h->key.data, h->key.len);

    hh = ngx_hash_find(&umcf->headers_in_hash, h->hash, h->lowcase_key,
                       h->key.len);

    if (hh && hh->handler(r, h, hh->offset) != NGX_OK) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_faas_filter_init(void *data)
{
    ngx_http_faas_ctx_t  *ctx = data;

    ngx_http_upstream_t  *u;

    u = ctx->request->upstream;

    u->length = u->headers_in.content_length_n;

    if (u->length == 0) {
        u->keepalive = !ctx->close;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_faas_filter(void *data, ssize_t bytes)
{
    ngx_http_faas_ctx_t  *ctx = data;

    ngx_buf_t            *b;
    ngx_chain_t          *cl, **ll;
    ngx_http_request_t   *r;
    ngx_http_upstream_t  *u;

    r = ctx->request;
    u = r->upstream;
    b = &u->buffer;

    if (u->length == 0) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "faas: function \"%V\" sent more data than its "
                      "frame announced", &ctx->function->name);
        u->keepalive = 0;
        return NGX_OK;
    }

    for (cl = u->out_bufs, ll = &u->out_bufs; cl; cl = cl->next) {
        ll = &cl->next;
    }

    cl = ngx_chain_get_free_buf(r->pool, &u->free_bufs);
    if (cl == NULL) {
        return NGX_ERROR;
    }

    *ll = cl;

    cl->buf->flush = 1;
    cl->buf->memory = 1;
    cl->buf->tag = u->output.tag;

    cl->buf->pos = b->last;
    b->last += bytes;
    cl->buf->last = b->last;

    if (bytes > u->length) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "faas: function \"%V\" sent more data than its "
                      "frame announced", &ctx->function->name);
        cl->buf->last = cl->buf->pos + u->length;
        u->length = 0;
        u->keepalive = 0;
        return NGX_OK;
    }

    u->length -= bytes;

    if (u->length == 0) {
        u->keepalive = !ctx->close;
    }

    return NGX_OK;
}


static void
ngx_http_faas_abort_request(ngx_http_request_t *r)
{
    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "abort faas request");
}


static void
ngx_http_faas_finalize_request(ngx_http_request_t *r, ngx_int_t rc)
{
#if (NGX_DEBUG)
    ngx_http_faas_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_faas_module);
#endif

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "finalize faas request: %i", rc);

    ngx_log_debug4(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "faas upstream: \"%V\" done: status %ui, body %O bytes "
                   "left, connection %s", &ctx->function->name,
                   r->upstream->headers_in.status_n, r->upstream->length,
                   r->upstream->keepalive ? "kept" : "closed");
}
