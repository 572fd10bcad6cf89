/*
 * Copyright (C) ngx_faas authors
 *
 * The answers of an aggregation's calls.  A call is a background
 * subrequest; its header and body stop here, in memory, up to the call's
 * max_size, instead of going on to the postpone filter, whose in-memory
 * mode is limited to one buffer of subrequest_output_buffer_size for the
 * whole location.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_faas_module.h"
#include "ngx_http_faas_aggregate.h"
#include "ngx_http_faas_capture.h"


static ngx_int_t ngx_http_faas_capture_header(ngx_http_request_t *r);
static ngx_int_t ngx_http_faas_capture_body(ngx_http_request_t *r,
    ngx_chain_t *in);
static ngx_int_t ngx_http_faas_capture_copy(ngx_http_request_t *r,
    ngx_http_faas_agg_call_t *call, u_char *p, size_t size);


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;
static ngx_http_output_body_filter_pt    ngx_http_next_body_filter;


ngx_int_t
ngx_http_faas_capture_init(ngx_conf_t *cf)
{
    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_faas_capture_header;

    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_faas_capture_body;

    return NGX_OK;
}


static ngx_int_t
ngx_http_faas_capture_header(ngx_http_request_t *r)
{
    ngx_http_faas_agg_call_t  *call;

    call = ngx_http_faas_aggregate_call_of(r);

    if (call == NULL) {
        return ngx_http_next_header_filter(r);
    }

    call->status = r->headers_out.status;

    if (r->headers_out.content_type.len) {
        call->content_type.data = ngx_pstrdup(r->pool,
                                              &r->headers_out.content_type);
        if (call->content_type.data == NULL) {
            return NGX_ERROR;
        }

        call->content_type.len = r->headers_out.content_type.len;
    }

    if (r->headers_out.content_length_n > (off_t) call->target->max_size) {
        call->too_big = 1;
    }

    /* the copy filter then reads file buffers into memory for the body */

    r->filter_need_in_memory = 1;

    /*
     * A buffered upstream writes only for the request that is active on
     * the connection, and a call never is: it would spool all but its
     * first buffers to a temporary file.  Unbuffered, it hands each
     * buffer over as it comes, as with "X-Accel-Buffering: no", which
     * is read as late as this.  An answer to be cached stays buffered.
     */

    if (r->upstream && !r->upstream->cacheable) {
        r->upstream->buffering = 0;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_faas_capture_body(ngx_http_request_t *r, ngx_chain_t *in)
{
    size_t                     size;
    ngx_buf_t                 *b;
    ngx_http_faas_agg_call_t  *call;

    call = ngx_http_faas_aggregate_call_of(r);

    if (call == NULL) {
        return ngx_http_next_body_filter(r, in);
    }

    for ( /* void */ ; in; in = in->next) {
        b = in->buf;

        if (b->in_file && !ngx_buf_in_memory(b)) {

            /* not with filter_need_in_memory; but never read a file here */

            call->too_big = 1;
            b->file_pos = b->file_last;
            continue;
        }

        size = b->last - b->pos;

        if (size == 0 || call->too_big) {
            b->pos = b->last;
            continue;
        }

        if (call->size + size > call->target->max_size) {
            call->too_big = 1;
            b->pos = b->last;
            continue;
        }

        if (ngx_http_faas_capture_copy(r, call, b->pos, size) != NGX_OK) {
            return NGX_ERROR;
        }

        b->pos = b->last;
    }

    return NGX_OK;
}


/*
 * Into the last buffer while it has room; a new one holds what the
 * Content-Length says is still to come, so that an answer of known
 * length is one buffer, and is used in place.
 */

static ngx_int_t
ngx_http_faas_capture_copy(ngx_http_request_t *r,
    ngx_http_faas_agg_call_t *call, u_char *p, size_t size)
{
    off_t         rest;
    size_t        n;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    while (size) {
        b = call->last ? call->last->buf : NULL;

        if (b == NULL || b->last == b->end) {
            rest = r->headers_out.content_length_n - (off_t) call->size;

            if (rest >= (off_t) size) {
                n = (size_t) rest;

            } else {

                /* the length is not known: room for a few more buffers */

                n = ngx_min(4 * size, call->target->max_size - call->size);
                n = ngx_max(n, size);
            }

            cl = ngx_alloc_chain_link(r->pool);
            if (cl == NULL) {
                return NGX_ERROR;
            }

            cl->buf = ngx_create_temp_buf(r->pool, n);
            if (cl->buf == NULL) {
                return NGX_ERROR;
            }

            cl->next = NULL;

            if (call->last) {
                call->last->next = cl;

            } else {
                call->body = cl;
            }

            call->last = cl;
            b = cl->buf;
        }

        n = ngx_min((size_t) (b->end - b->last), size);
        b->last = ngx_cpymem(b->last, p, n);
        p += n;
        size -= n;
        call->size += n;
    }

    return NGX_OK;
}
