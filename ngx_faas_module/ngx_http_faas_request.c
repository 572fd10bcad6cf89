/*
 * Copyright (C) ngx_faas authors
 *
 * A request's values, read in place: headers, cookies, query arguments
 * and the client address, for release rules, sticky keys and the
 * templates of aggregations.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_faas_module.h"
#include "ngx_http_faas_request.h"


static const char *ngx_http_faas_cookie(ngx_http_request_t *r,
    const char *name, size_t name_len, size_t *len);
static const char *ngx_http_faas_cookie_in(ngx_str_t *header,
    const char *name, size_t name_len, size_t *len);


/* the first request header of that name, case-insensitive; NULL if none */

ngx_table_elt_t *
ngx_http_faas_find_header(ngx_http_request_t *r, u_char *name, size_t len)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NULL;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == len
            && ngx_strncasecmp(h[i].key.data, name, len) == 0)
        {
            return &h[i];
        }
    }
}


/* a value of the request, read in place; also for aggregations' templates */

const char *
ngx_http_faas_request_value(ngx_http_request_t *r, unsigned source,
    const char *name, size_t name_len, size_t *len)
{
    ngx_str_t         value;
    ngx_table_elt_t  *h;

    switch (source) {

    case FAAS_SOURCE_HEADER:

        /* the first header of that name */

        h = ngx_http_faas_find_header(r, (u_char *) name, name_len);
        if (h == NULL) {
            return NULL;
        }

        *len = h->value.len;
        return (const char *) h->value.data;

    case FAAS_SOURCE_COOKIE:
        return ngx_http_faas_cookie(r, name, name_len, len);

    case FAAS_SOURCE_QUERY:

        /* as $arg_NAME: as sent, not percent-decoded */

        if (ngx_http_arg(r, (u_char *) name, name_len, &value) != NGX_OK) {
            return NULL;
        }

        *len = value.len;
        return (const char *) value.data;

    case FAAS_SOURCE_ADDR:

        /* a client on a Unix socket has no address to match or hash */

        if (r->connection->sockaddr->sa_family == AF_UNIX) {
            return NULL;
        }

        *len = r->connection->addr_text.len;
        return (const char *) r->connection->addr_text.data;

    default:
        return NULL;
    }
}


/*
 * "Cookie: a=1; uid=42": the first cookie of that name, in every Cookie
 * header in order.  Cookie names are case-sensitive (RFC 6265, and
 * docs/redis.md), which ngx_http_parse_multi_header_lines() and
 * $cookie_NAME are not, hence a parser of our own; like nginx's, it
 * takes what is between '=' and ';' without the blanks around it.
 * nginx 1.23 links the Cookie headers through h->next where 1.22 kept
 * them in an array.
 */

static const char *
ngx_http_faas_cookie(ngx_http_request_t *r, const char *name,
    size_t name_len, size_t *len)
{
    const char        *value;
    ngx_table_elt_t   *h;
#if (nginx_version < 1023000)
    ngx_uint_t         i;
    ngx_table_elt_t  **hp;
#endif

#if (nginx_version >= 1023000)

    for (h = r->headers_in.cookie; h; h = h->next) {
        value = ngx_http_faas_cookie_in(&h->value, name, name_len,
                                                len);
        if (value != NULL) {
            return value;
        }
    }

#else

    hp = r->headers_in.cookies.elts;

    for (i = 0; i < r->headers_in.cookies.nelts; i++) {
        h = hp[i];

        value = ngx_http_faas_cookie_in(&h->value, name, name_len,
                                                len);
        if (value != NULL) {
            return value;
        }
    }

#endif

    return NULL;
}


static const char *
ngx_http_faas_cookie_in(ngx_str_t *header, const char *name,
    size_t name_len, size_t *len)
{
    u_char  *p, *end, *start, *last;

    p = header->data;
    end = p + header->len;

    while (p < end) {

        while (p < end && (*p == ' ' || *p == '\t' || *p == ';')) {
            p++;
        }

        start = p;

        while (p < end && *p != '=' && *p != ';') {
            p++;
        }

        last = p;

        while (last > start && (last[-1] == ' ' || last[-1] == '\t')) {
            last--;
        }

        if (p == end || *p == ';') {
            continue;
        }

        /* *p == '=' */

        p++;

        if ((size_t) (last - start) != name_len
            || ngx_strncmp(start, name, name_len) != 0)
        {
            while (p < end && *p != ';') {
                p++;
            }

            continue;
        }

        while (p < end && (*p == ' ' || *p == '\t')) {
            p++;
        }

        start = p;

        while (p < end && *p != ';') {
            p++;
        }

        while (p > start && (p[-1] == ' ' || p[-1] == '\t')) {
            p--;
        }

        *len = p - start;
        return (const char *) start;
    }

    return NULL;
}
