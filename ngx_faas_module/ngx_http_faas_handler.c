/*
 * Copyright (C) ngx_faas authors
 *
 * The content handler: matches the request against the compiled routes,
 * answers 404 and 405 itself, and hands a match to the upstream.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <sys/random.h>

#include "ngx_http_faas_module.h"
#include "ngx_http_faas_aggregate.h"
#include "ngx_http_faas_handler.h"
#include "ngx_http_faas_release.h"
#include "ngx_http_faas_request.h"
#include "ngx_http_faas_table.h"
#include "ngx_http_faas_upstream.h"


static unsigned ngx_http_faas_method(ngx_http_request_t *r);
static ngx_int_t ngx_http_faas_route(ngx_http_request_t *r,
    ngx_http_faas_ctx_t *ctx, unsigned method, ngx_http_request_t *client,
    int *rc);
static ngx_int_t ngx_http_faas_call_function(ngx_http_request_t *r,
    ngx_http_faas_ctx_t *ctx, ngx_http_faas_agg_target_t *target);
static ngx_int_t ngx_http_faas_version_header(ngx_http_request_t *r,
    ngx_http_faas_ctx_t *ctx);
static ngx_int_t ngx_http_faas_not_found(ngx_http_request_t *r);
static ngx_int_t ngx_http_faas_not_allowed(ngx_http_request_t *r,
    unsigned allowed);
static ngx_int_t ngx_http_faas_send_json(ngx_http_request_t *r,
    ngx_uint_t status, u_char *body, size_t len);


static faas_trace_t  ngx_http_faas_trace;


static ngx_str_t  ngx_http_faas_method_names[] = {
    ngx_string("GET"),
    ngx_string("HEAD"),
    ngx_string("POST"),
    ngx_string("PUT"),
    ngx_string("DELETE"),
    ngx_string("PATCH"),
    ngx_string("OPTIONS"),
};


/* per worker process: the random parts must differ after fork() */

ngx_int_t
ngx_http_faas_trace_init(ngx_cycle_t *cycle)
{
    uint64_t  seed[3];

    if (getrandom(seed, sizeof(seed), 0) != sizeof(seed)) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, ngx_errno,
                      "faas: getrandom() failed");
        return NGX_ERROR;
    }

    faas_trace_init(&ngx_http_faas_trace, seed[0], seed[1]);
    ngx_http_faas_release_init(seed[2]);

    return NGX_OK;
}


ngx_int_t
ngx_http_faas_handler(ngx_http_request_t *r)
{
    int                         rc;
    unsigned                    method;
    ngx_int_t                   rv;
    ngx_http_faas_ctx_t        *ctx;
    ngx_http_faas_agg_call_t   *call;
    ngx_http_faas_loc_conf_t   *flcf;

    flcf = ngx_http_get_module_loc_conf(r, ngx_http_faas_module);

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_faas_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->request = r;

    call = ngx_http_faas_aggregate_call_of(r);

    if (call != NULL && call->target->kind == FAAS_AGG_FUNCTION) {
        ngx_http_set_ctx(r, ctx, ngx_http_faas_module);
        return ngx_http_faas_call_function(r, ctx, call->target);
    }

    if (flcf->aggregate) {
        ngx_http_set_ctx(r, ctx, ngx_http_faas_module);

        if (ngx_http_faas_trace_id(r, ctx) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_faas_aggregate_start(r, ctx, flcf->aggregate);
    }

    if (flcf->function) {
        ctx->function = flcf->function;
        ctx->route = r->uri;

    } else {
        method = ngx_http_faas_method(r);

        /* an aggregation's call by URL: its client's values pick versions */

        rv = ngx_http_faas_route(r, ctx, method, call ? r->main : r, &rc);
        if (rv != NGX_OK) {
            return rv;
        }

        if (rc != FAAS_MATCH_OK || method == 0) {

            /* the gateway's own answers can be traced like a function's */

            ngx_http_set_ctx(r, ctx, ngx_http_faas_module);

            if (ngx_http_faas_trace_id(r, ctx) != NGX_OK) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            if (rc == FAAS_MATCH_NOT_FOUND) {
                ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                               "faas: no route for \"%V\"", &r->uri);
                return ngx_http_faas_not_found(r);
            }

            return ngx_http_faas_not_allowed(r, ctx->match.allowed);
        }

        ctx->route.data = (u_char *) ctx->match.pattern;
        ctx->route.len = ngx_strlen(ctx->match.pattern);
    }

    ngx_http_set_ctx(r, ctx, ngx_http_faas_module);

    if (ngx_http_faas_trace_id(r, ctx) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ctx->function->aggregate) {
        return ngx_http_faas_aggregate_start(r, ctx, ctx->function->aggregate);
    }

    if (flcf->version_header
        && ctx->function->version.len
        && ngx_http_faas_version_header(r, ctx) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_log_debug4(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "faas: \"%V\" -> function \"%V\" version \"%V\" "
                   "route \"%V\"", &r->uri, &ctx->function->name,
                   &ctx->function->version, &ctx->route);

    return ngx_http_faas_upstream_start(r, ctx);
}


/*
 * A call of an aggregation to a function: a manifest's, resolved at
 * configuration time, or the Redis table's, by name, in the version its
 * release policy picks for the client's request.
 */

static ngx_int_t
ngx_http_faas_call_function(ngx_http_request_t *r, ngx_http_faas_ctx_t *ctx,
    ngx_http_faas_agg_target_t *target)
{
    ngx_int_t                    rc;
    ngx_http_faas_table_t       *table;
    faas_table_function_t       *tf;

    ctx->route = target->name;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "faas aggregate: call \"%V\" to function \"%V\"",
                   &target->name, &target->function);

    if (target->fn) {
        ctx->function = target->fn;

    } else {
        table = ngx_http_faas_table_current();

        /* the engine's names are NUL-terminated */

        tf = table ? (faas_table_function_t *)
                     faas_table_find(table->table,
                                     (char *) target->function.data)
                   : NULL;

        if (tf == NULL) {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "faas aggregate: call \"%V\": no function \"%V\" "
                          "is deployed", &target->name, &target->function);
            return NGX_HTTP_NOT_FOUND;
        }

        ctx->match.data = tf;

        /* the policy picks as it would for the client's own request */

        rc = ngx_http_faas_table_acquire(r, ctx, table, r->main);
        if (rc != NGX_OK) {
            return rc;
        }
    }

    if (ngx_http_faas_trace_id(r, ctx) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ctx->function->aggregate) {
        return ngx_http_faas_aggregate_start(r, ctx, ctx->function->aggregate);
    }

    return ngx_http_faas_upstream_start(r, ctx);
}


/*
 * docs/redis.md, "Precedence": the server's manifest routes first, then
 * the Redis table in force.  A path that only the manifests know with
 * another method still goes to the table, and a 405 lists what both
 * would allow.  A match through the table holds it until the request
 * ends.
 */

static ngx_int_t
ngx_http_faas_route(ngx_http_request_t *r, ngx_http_faas_ctx_t *ctx,
    unsigned method, ngx_http_request_t *client, int *rc)
{
    int                        trc;
    unsigned                   allowed;
    ngx_http_faas_table_t     *table;
    ngx_http_faas_srv_conf_t  *fscf;

    fscf = ngx_http_get_module_srv_conf(r, ngx_http_faas_module);

    *rc = faas_router_match(fscf->router, method, (char *) r->uri.data,
                            r->uri.len, &ctx->match);

    if (*rc == FAAS_MATCH_OK) {
        ctx->function = ctx->match.data;

        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "faas route: \"%V\" matched manifest route \"%s\"",
                       &r->uri, ctx->match.pattern);
        return NGX_OK;
    }

    table = ngx_http_faas_table_current();

    if (table == NULL) {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "faas route: \"%V\" matched no manifest route "
                       "(%d), no redis table", &r->uri, *rc);
        return NGX_OK;
    }

    allowed = ctx->match.allowed;

    trc = faas_router_match(table->router, method, (char *) r->uri.data,
                            r->uri.len, &ctx->match);

    ngx_log_debug4(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "faas route: \"%V\" in redis table generation %uL: "
                   "%s \"%s\"", &r->uri, table->generation,
                   trc == FAAS_MATCH_OK ? "matched route" : "no match",
                   trc == FAAS_MATCH_OK ? ctx->match.pattern : "");

    if (trc == FAAS_MATCH_OK) {
        *rc = FAAS_MATCH_OK;
        return ngx_http_faas_table_acquire(r, ctx, table, client);
    }

    if (trc == FAAS_MATCH_METHOD) {
        *rc = FAAS_MATCH_METHOD;
    }

    ctx->match.allowed |= allowed;

    return NGX_OK;
}


static unsigned
ngx_http_faas_method(ngx_http_request_t *r)
{
    switch (r->method) {
    case NGX_HTTP_GET:
        return FAAS_METHOD_GET;
    case NGX_HTTP_HEAD:
        return FAAS_METHOD_HEAD;
    case NGX_HTTP_POST:
        return FAAS_METHOD_POST;
    case NGX_HTTP_PUT:
        return FAAS_METHOD_PUT;
    case NGX_HTTP_DELETE:
        return FAAS_METHOD_DELETE;
    case NGX_HTTP_PATCH:
        return FAAS_METHOD_PATCH;
    case NGX_HTTP_OPTIONS:
        return FAAS_METHOD_OPTIONS;
    default:
        return 0;
    }
}


/*
 * The trace id is the client's X-Request-Id when it is short and plain,
 * so that a caller's id follows the request through; a new one otherwise,
 * in $request_id's format but without $request_id's CSPRNG call, which
 * costs a few per cent of a worker's time at function request rates.
 */

ngx_int_t
ngx_http_faas_trace_id(ngx_http_request_t *r, ngx_http_faas_ctx_t *ctx)
{
    u_char           *p, *last;
    ngx_table_elt_t  *h;

    h = ngx_http_faas_find_header(r, (u_char *) "X-Request-Id",
                                  sizeof("X-Request-Id") - 1);

    if (h != NULL
        && h->value.len != 0
        && h->value.len <= NGX_HTTP_FAAS_TRACE_ID_MAX)
    {
        last = h->value.data + h->value.len;

        for (p = h->value.data; p < last; p++) {
            if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
                  || (*p >= '0' && *p <= '9')
                  || *p == '-' || *p == '_' || *p == '.'))
            {
                break;
            }
        }

        if (p == last) {
            ctx->trace_id = h->value;
        }
    }

    if (ctx->trace_id.len == 0) {
        ctx->trace_id.data = ngx_pnalloc(r->pool, FAAS_TRACE_ID_LEN);
        if (ctx->trace_id.data == NULL) {
            return NGX_ERROR;
        }

        faas_trace_next(&ngx_http_faas_trace, (char *) ctx->trace_id.data);
        ctx->trace_id.len = FAAS_TRACE_ID_LEN;
    }

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    ngx_http_faas_header_unlink(h);

    h->hash = 1;
    ngx_str_set(&h->key, "X-Request-Id");
    h->value = ctx->trace_id;

    return NGX_OK;
}


/* faas_version_header: the version that serves, for a Redis function */

static ngx_int_t
ngx_http_faas_version_header(ngx_http_request_t *r, ngx_http_faas_ctx_t *ctx)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    ngx_http_faas_header_unlink(h);

    h->hash = 1;
    ngx_str_set(&h->key, "X-Faas-Version");
    h->value = ctx->function->version;

    return NGX_OK;
}


static ngx_int_t
ngx_http_faas_not_found(ngx_http_request_t *r)
{
    u_char     *body, *p;
    size_t      len;
    uintptr_t   escape;

    escape = ngx_escape_json(NULL, r->uri.data, r->uri.len);

    len = sizeof("{\"error\":\"no route\",\"method\":\"\",\"path\":\"\"}") - 1
          + r->method_name.len + r->uri.len + escape;

    body = ngx_pnalloc(r->pool, len);
    if (body == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(body, "{\"error\":\"no route\",\"method\":\"",
                   sizeof("{\"error\":\"no route\",\"method\":\"") - 1);

    /* the request line parser admits only upper case letters and '_' */
    p = ngx_cpymem(p, r->method_name.data, r->method_name.len);

    p = ngx_cpymem(p, "\",\"path\":\"", sizeof("\",\"path\":\"") - 1);
    p = (u_char *) ngx_escape_json(p, r->uri.data, r->uri.len);
    *p++ = '"';
    *p++ = '}';

    return ngx_http_faas_send_json(r, NGX_HTTP_NOT_FOUND, body, p - body);
}


static ngx_int_t
ngx_http_faas_not_allowed(ngx_http_request_t *r, unsigned allowed)
{
    u_char           *body, *p, *allow, *a;
    size_t            len;
    ngx_uint_t        i;
    ngx_table_elt_t  *h;

    len = sizeof("{\"error\":\"method not allowed\",\"allowed\":[]}") - 1;

    for (i = 0; i < sizeof(ngx_http_faas_method_names) / sizeof(ngx_str_t);
         i++)
    {
        len += ngx_http_faas_method_names[i].len + sizeof("\"\",") - 1;
    }

    body = ngx_pnalloc(r->pool, len + len);
    if (body == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    allow = body + len;
    a = allow;

    p = ngx_cpymem(body, "{\"error\":\"method not allowed\",\"allowed\":[",
                   sizeof("{\"error\":\"method not allowed\",\"allowed\":[")
                   - 1);

    for (i = 0; i < sizeof(ngx_http_faas_method_names) / sizeof(ngx_str_t);
         i++)
    {
        if (!(allowed & (1u << i))) {
            continue;
        }

        if (a != allow) {
            *p++ = ',';
            *a++ = ',';
            *a++ = ' ';
        }

        *p++ = '"';
        p = ngx_cpymem(p, ngx_http_faas_method_names[i].data,
                       ngx_http_faas_method_names[i].len);
        *p++ = '"';

        a = ngx_cpymem(a, ngx_http_faas_method_names[i].data,
                       ngx_http_faas_method_names[i].len);
    }

    *p++ = ']';
    *p++ = '}';

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_faas_header_unlink(h);

    h->hash = 1;
    ngx_str_set(&h->key, "Allow");
    h->value.data = allow;
    h->value.len = a - allow;

    return ngx_http_faas_send_json(r, NGX_HTTP_NOT_ALLOWED, body, p - body);
}


static ngx_int_t
ngx_http_faas_send_json(ngx_http_request_t *r, ngx_uint_t status,
    u_char *body, size_t len)
{
    ngx_int_t    rc;
    ngx_buf_t   *b;
    ngx_chain_t  out;

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->headers_out.status = status;
    r->headers_out.content_length_n = len;
    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->pos = body;
    b->last = body + len;
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}
