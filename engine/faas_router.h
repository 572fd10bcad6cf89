/*
 * Copyright (C) ngx_faas authors
 *
 * The route compiler and matcher.
 *
 * Patterns are Midway's: static segments, ":name" segments and a trailing
 * "*" segment (a prefix wildcard, also matching the prefix itself).
 * Precedence, as Midway documents it: an exact path beats any wildcard; a
 * longer wildcard prefix beats a shorter one; "/" beats the catch-all for
 * "/"; at the same position
 * a static segment beats ":param".  Among the routes that match the path,
 * the first in that order whose methods allow the request wins.
 *
 * A compiled router is immutable: lookups allocate nothing and their cost
 * depends on the depth of the path, not on the number of routes (static
 * children are found by hash).
 *
 * Choices where Midway leaves room:
 *
 *   - a trailing slash is insignificant, as in koa-router's default
 *     non-strict mode: the path "/a/" matches the routes of "/a", and the
 *     pattern "/a/" is the route "/a" (so they conflict);
 *   - segments compare byte for byte, case-sensitively, like nginx
 *     locations; an empty segment ("//", only with merge_slashes off)
 *     matches no static or ":param" segment, only a "*" above it;
 *   - a route that allows GET also takes HEAD, as koa-router's do, at its
 *     own place in the order; among routes of the same shape one naming
 *     HEAD comes first; the Allow set of a 405 then lists HEAD too;
 *   - a method of 0 (one nginx knows and ngx_faas does not, PROPFIND...)
 *     matches no route: FAAS_MATCH_METHOD if the path matches, else
 *     FAAS_MATCH_NOT_FOUND;
 *   - the value of "*" is the rest of the path after the prefix and its
 *     "/", as it came: "" for "/api" and "/api/", "x/y/" for "/api/x/y/".
 *
 * Patterns: static segments must not hold ':', '*', '?', '#', spaces or
 * control characters (path-to-regexp would read some as syntax); a ":name"
 * is made of [A-Za-z0-9_]; a pattern is at most 4096 bytes.
 */

#ifndef FAAS_ROUTER_H_INCLUDED
#define FAAS_ROUTER_H_INCLUDED


#include "faas_common.h"


#define FAAS_ROUTER_MAX_PARAMS    16
#define FAAS_ROUTER_MAX_SEGMENTS  64

#define FAAS_MATCH_OK              0
#define FAAS_MATCH_NOT_FOUND       1   /* no route matches the path: 404 */
#define FAAS_MATCH_METHOD          2   /* path matches, method not: 405 */


typedef struct faas_router_s  faas_router_t;


typedef struct {
    const char  *name;          /* into the router: lives as long as it */
    size_t       name_len;
    const char  *value;         /* into the path that was matched */
    size_t       value_len;
} faas_param_t;


typedef struct {
    void          *data;        /* what faas_router_add() was given */
    const char    *pattern;     /* the route's pattern, owned by router */
    unsigned       allowed;     /* FAAS_MATCH_METHOD: the methods that
                                   would have matched, for Allow */
    size_t         nparams;
    faas_param_t   params[FAAS_ROUTER_MAX_PARAMS];  /* wildcard tail: "*" */
} faas_match_t;


faas_router_t *faas_router_create(void);

/*
 * Adds a route; "file", "line" and "column" are kept for messages ("file"
 * is not copied: it must outlive the last faas_router_add()).  The pattern
 * is copied.  Fails on an invalid pattern ("*" not at the end, empty ":"
 * name, more than FAAS_ROUTER_MAX_PARAMS parameters, "*" included, more
 * than FAAS_ROUTER_MAX_SEGMENTS segments, not starting with "/"), on
 * methods outside FAAS_METHOD_* or none, and on a route with the same
 * pattern shape and an overlapping method set, naming where the earlier
 * one was declared.  A failed add leaves the router usable.
 */
int faas_router_add(faas_router_t *router, const char *pattern,
    unsigned methods, void *data, const char *file, unsigned line,
    unsigned column, faas_error_t *err);

/* freezes the router; faas_router_add() is refused afterwards */
int faas_router_compile(faas_router_t *router, faas_error_t *err);

/*
 * Matches a request path (already decoded and normalised, no query; not
 * NUL-terminated, "len" bounds it).  "method" is one FAAS_METHOD_* bit, or
 * 0.  Allocates nothing; the router is only read, so threads may share
 * it.  Returns FAAS_MATCH_OK, FAAS_MATCH_NOT_FOUND or FAAS_MATCH_METHOD.
 */
int faas_router_match(const faas_router_t *router, unsigned method,
    const char *path, size_t len, faas_match_t *match);

/*
 * 1 when the router holds a route of the same shape as "pattern" (the
 * same static segments, parameters and wildcard at the same places,
 * whatever their names) with a method in common, with err saying which
 * and where it was declared; 0 otherwise, also for a pattern that is not
 * valid.  Only reads the router, compiled or not: it is how routes from
 * another source (the Redis table) learn that a router shadows them.
 */
int faas_router_conflict(const faas_router_t *router, const char *pattern,
    unsigned methods, faas_error_t *err);

size_t faas_router_count(const faas_router_t *router);

/* bytes held by the compiled router, for benchmarks and metrics */
size_t faas_router_memory(const faas_router_t *router);

void faas_router_free(faas_router_t *router);


#endif /* FAAS_ROUTER_H_INCLUDED */
