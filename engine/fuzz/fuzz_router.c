/*
 * Copyright (C) ngx_faas authors
 *
 * Fuzzes the router against a slow reference matcher written from the
 * precedence rules rather than from the trie.
 *
 * Input: the first byte is the number of pattern lines (mod 32); then
 * lines split on '\n'.  A pattern line is a methods byte (& 0x7f) and the
 * pattern; a path line is a method byte (mod 8: none, GET ... OPTIONS)
 * and the path.
 */


#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "faas_router.h"


#define REF_MAX_ROUTES  32

#define REF_STATIC      0
#define REF_PARAM       1
#define REF_WILD        2

#define check(cond)     do { if (!(cond)) __builtin_trap(); } while (0)


typedef struct {
    const char  *data;
    size_t       len;
} ref_str_t;


typedef struct {
    char        *pattern;
    unsigned     methods;
    unsigned     wild;          /* ends in "*" */
    size_t       nsegs;         /* "*" not counted */
    unsigned     kinds[FAAS_ROUTER_MAX_SEGMENTS];
    ref_str_t    segs[FAAS_ROUTER_MAX_SEGMENTS];
} ref_route_t;


static const unsigned  ref_methods[8] = {
    0, FAAS_METHOD_GET, FAAS_METHOD_HEAD, FAAS_METHOD_POST, FAAS_METHOD_PUT,
    FAAS_METHOD_DELETE, FAAS_METHOD_PATCH, FAAS_METHOD_OPTIONS
};


/* the route's shape from a pattern the router accepted */

static void
ref_parse(ref_route_t *rt)
{
    size_t       p, q, len;
    const char  *s;

    len = strlen(rt->pattern);
    rt->nsegs = 0;
    rt->wild = 0;

    for (p = 1; p < len; p = q + 1) {
        s = memchr(rt->pattern + p, '/', len - p);
        q = s ? (size_t) (s - rt->pattern) : len;

        if (rt->pattern[p] == '*') {
            rt->wild = 1;
            break;
        }

        check(rt->nsegs < FAAS_ROUTER_MAX_SEGMENTS);

        rt->kinds[rt->nsegs] = (rt->pattern[p] == ':') ? REF_PARAM
                                                       : REF_STATIC;
        rt->segs[rt->nsegs].data = rt->pattern + p;
        rt->segs[rt->nsegs].len = q - p;
        rt->nsegs++;
    }
}


/* a trailing "/" is dropped, once; "/" has no segments */

static size_t
ref_split(const char *path, size_t len, ref_str_t *segs, size_t max)
{
    size_t       n, p, q;
    const char  *s;

    n = 0;

    for (p = 1; p < len && n < max; p = q + 1) {
        s = memchr(path + p, '/', len - p);
        q = s ? (size_t) (s - path) : len;

        segs[n].data = path + p;
        segs[n].len = q - p;
        n++;
    }

    return n;
}


static int
ref_prefix(const ref_route_t *rt, const ref_str_t *segs, size_t n)
{
    size_t  i;

    if (n < rt->nsegs) {
        return 0;
    }

    for (i = 0; i < rt->nsegs; i++) {
        if (segs[i].len == 0) {
            return 0;
        }

        if (rt->kinds[i] == REF_STATIC
            && (segs[i].len != rt->segs[i].len
                || memcmp(segs[i].data, rt->segs[i].data, segs[i].len)))
        {
            return 0;
        }
    }

    return 1;
}


/* <0 when a comes first in precedence order, shapes only */

static int
ref_compare(const ref_route_t *a, const ref_route_t *b)
{
    size_t  i;

    if (a->wild != b->wild) {
        return a->wild ? 1 : -1;
    }

    if (a->nsegs != b->nsegs) {
        /* exact routes that match have the same depth */
        return a->nsegs > b->nsegs ? -1 : 1;
    }

    for (i = 0; i < a->nsegs; i++) {
        if (a->kinds[i] != b->kinds[i]) {
            return a->kinds[i] == REF_STATIC ? -1 : 1;
        }
    }

    return 0;
}


static void
ref_check(ref_route_t *routes, size_t nroutes, const faas_router_t *router,
    unsigned method, const char *path, size_t len)
{
    int            rc, first;
    size_t         i, n, best, nsegs, tail;
    unsigned       allowed, explicit, best_explicit;
    ref_route_t   *rt;
    faas_match_t   m;
    ref_str_t      segs[FAAS_ROUTER_MAX_SEGMENTS + 2];

    rc = faas_router_match(router, method, path, len, &m);

    if (len == 0 || path[0] != '/') {
        check(rc == FAAS_MATCH_NOT_FOUND);
        return;
    }

    nsegs = ref_split(path, len, segs, FAAS_ROUTER_MAX_SEGMENTS + 2);

    allowed = 0;
    best = nroutes;
    best_explicit = 0;

    for (i = 0; i < nroutes; i++) {
        rt = &routes[i];

        if (!ref_prefix(rt, segs, nsegs) || (!rt->wild && nsegs != rt->nsegs))
        {
            continue;
        }

        allowed |= rt->methods;

        explicit = (rt->methods & method) != 0;

        if (!explicit
            && !(method == FAAS_METHOD_HEAD
                 && (rt->methods & FAAS_METHOD_GET)))
        {
            continue;
        }

        if (best == nroutes) {
            best = i;
            best_explicit = explicit;
            continue;
        }

        /* within a shape, a route naming HEAD before HEAD through GET */

        first = ref_compare(rt, &routes[best]);

        if (first < 0 || (first == 0 && explicit && !best_explicit)) {
            best = i;
            best_explicit = explicit;
        }
    }

    if (best < nroutes) {
        rt = &routes[best];

        check(rc == FAAS_MATCH_OK);
        check(m.data == rt);
        check(strcmp(m.pattern, rt->pattern) == 0);

        n = 0;

        for (i = 0; i < rt->nsegs; i++) {
            if (rt->kinds[i] != REF_PARAM) {
                continue;
            }

            check(n < m.nparams);
            check(m.params[n].name_len == rt->segs[i].len - 1);
            check(memcmp(m.params[n].name, rt->segs[i].data + 1,
                         rt->segs[i].len - 1) == 0);
            check(m.params[n].value == segs[i].data);
            check(m.params[n].value_len == segs[i].len);
            n++;
        }

        if (rt->wild) {
            check(n < m.nparams);
            check(m.params[n].name_len == 1 && m.params[n].name[0] == '*');

            tail = rt->nsegs ? (size_t) (segs[rt->nsegs - 1].data
                                         + segs[rt->nsegs - 1].len - path)
                             : 0;
            tail = (tail < len) ? tail + 1 : len;

            check(m.params[n].value == path + tail);
            check(m.params[n].value_len == len - tail);
            n++;
        }

        check(n == m.nparams);
        return;
    }

    if (allowed) {
        if (allowed & FAAS_METHOD_GET) {
            allowed |= FAAS_METHOD_HEAD;
        }

        check(rc == FAAS_MATCH_METHOD);
        check(m.allowed == allowed);
        return;
    }

    check(rc == FAAS_MATCH_NOT_FOUND);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char           *path;
    size_t          i, n, npatterns, nroutes, len, pos, next;
    unsigned        method;
    const uint8_t  *line, *nl;
    faas_error_t    err;
    faas_router_t  *router;
    ref_route_t    *routes, *rt;

    if (size == 0) {
        return 0;
    }

    router = faas_router_create();
    routes = calloc(REF_MAX_ROUTES, sizeof(ref_route_t));

    if (router == NULL || routes == NULL) {
        faas_router_free(router);
        free(routes);
        return 0;
    }

    npatterns = data[0] % REF_MAX_ROUTES;
    nroutes = 0;
    n = 0;

    for (pos = 1; pos < size; pos = next) {
        nl = memchr(data + pos, '\n', size - pos);
        len = nl ? (size_t) (nl - (data + pos)) : size - pos;
        next = pos + len + 1;

        line = data + pos;
        method = len ? line[0] : 1;
        line += len ? 1 : 0;
        len -= len ? 1 : 0;

        if (n++ < npatterns) {
            rt = &routes[nroutes];
            rt->methods = method & 0x7f;
            rt->pattern = malloc(len + 1);
            check(rt->pattern != NULL);
            memcpy(rt->pattern, line, len);
            rt->pattern[len] = '\0';

            err.msg[0] = '\0';

            if (faas_router_add(router, rt->pattern, rt->methods, rt, "fuzz",
                                (unsigned) n, 1, &err)
                != FAAS_OK)
            {
                check(err.msg[0] != '\0');
                free(rt->pattern);
                rt->pattern = NULL;
                continue;
            }

            ref_parse(rt);
            nroutes++;
            continue;
        }

        if (n == npatterns + 1) {
            check(faas_router_compile(router, &err) == FAAS_OK);
        }

        /* exactly the path's bytes, so that an overread shows */
        path = malloc(len ? len : 1);
        check(path != NULL);
        memcpy(path, line, len);

        ref_check(routes, nroutes, router, ref_methods[method % 8], path,
                  len);
        free(path);
    }

    check(faas_router_count(router) == nroutes);

    faas_router_free(router);

    for (i = 0; i < nroutes; i++) {
        free(routes[i].pattern);
    }

    free(routes);

    return 0;
}
