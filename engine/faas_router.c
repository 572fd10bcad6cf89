/*
 * Copyright (C) ngx_faas authors
 *
 * The router is a segment trie kept in flat arrays.  Each node knows its
 * parent and its own segment; the static edges of the whole trie live in
 * one open-addressing table keyed by (parent, segment), so a node with a
 * thousand static children costs one probe like a node with one.  A node
 * has at most one ":param" child and two short route lists: routes that
 * end there, and "*" routes whose prefix ends there.  Segments and
 * parameter names are not copied: they point into the route's pattern.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faas_router.h"


#define FAAS_ROUTER_MAX_PATTERN   4096
#define FAAS_ROUTER_METHODS       0x007f
#define FAAS_ROUTER_NONE          0xffffffffu
#define FAAS_ROUTER_NAMES         2        /* parameter names in a route */

#define FAAS_SEG_STATIC           0
#define FAAS_SEG_PARAM            1
#define FAAS_SEG_WILD             2


typedef struct {
    uint32_t        parent;
    uint32_t        seg_off;        /* into strings; static nodes only */
    uint16_t        seg_len;
    uint16_t        has_static;     /* saves a probe for ":param" levels */
    uint32_t        param;          /* the ":param" child, 0 when none */
    uint32_t        exact;          /* routes ending here */
    uint32_t        wild;           /* "*" routes whose prefix ends here */

    /*
     * The segment's first eight bytes as a number: most segments are
     * that short, and compare without reading strings.
     */
    uint64_t        head;
} faas_node_t;


typedef struct {
    uint32_t        hash;
    uint32_t        node;           /* 0 is the root, never a child: free */
} faas_slot_t;


typedef struct {
    uint16_t        off;            /* from the start of the pattern */
    uint16_t        len;
} faas_name_t;


typedef struct {
    void           *data;
    const char     *file;
    uint32_t        pattern;        /* into strings, NUL-terminated */
    uint32_t        next;           /* the next route of the same list */
    uint32_t        names;          /* the first of the names beyond
                                       FAAS_ROUTER_NAMES */
    uint32_t        line;
    uint32_t        column;
    uint16_t        methods;
    uint16_t        nparams;

    /* most routes have few parameters: their names need no other read */
    faas_name_t     name[FAAS_ROUTER_NAMES];
} faas_route_t;


struct faas_router_s {
    faas_node_t    *nodes;
    size_t          nnodes;
    size_t          nodes_cap;

    faas_route_t   *routes;
    size_t          nroutes;
    size_t          routes_cap;

    faas_name_t    *names;
    size_t          nnames;
    size_t          names_cap;

    char           *strings;
    size_t          strings_len;
    size_t          strings_cap;

    faas_slot_t    *slots;
    size_t          nslots;         /* a power of two, or 0 */
    size_t          nstatic;        /* static nodes in slots */

    unsigned        compiled;
};


typedef struct {
    uint32_t        off;            /* from the start of the pattern */
    uint32_t        len;
    unsigned        type;
} faas_seg_t;


typedef struct {
    const char     *data;
    size_t          len;
} faas_value_t;


/* the state of one faas_router_match(), on the caller's stack */
typedef struct {
    const faas_router_t  *router;
    faas_match_t         *match;
    const char           *path;
    size_t                len;
    unsigned              method;
    unsigned              allowed;
    size_t                nvalues;
    faas_value_t          values[FAAS_ROUTER_MAX_PARAMS];

    /* the best "*" route so far: the deepest, the first met among equals */
    uint32_t              wild;
    unsigned              wild_depth;
    size_t                wild_nvalues;
    faas_value_t          wild_values[FAAS_ROUTER_MAX_PARAMS];
} faas_walk_t;


static int faas_router_grow(void **array, size_t *cap, size_t need,
    size_t size);
static int faas_router_parse(const char *pattern, size_t len,
    faas_seg_t *segs, size_t *nsegs, const char *file, unsigned line,
    unsigned column, faas_error_t *err);
static uint64_t faas_router_head(const char *p, size_t len);
static uint32_t faas_router_hash(uint32_t parent, uint64_t head,
    const char *p, size_t len);
static uint32_t faas_router_find(const faas_router_t *router,
    uint32_t parent, uint64_t head, const char *seg, size_t len,
    uint32_t hash);
static uint32_t faas_router_new_node(faas_router_t *router,
    uint32_t parent);
static int faas_router_insert_static(faas_router_t *router,
    uint32_t node, uint32_t hash);
static uint32_t faas_router_node(const faas_router_t *router,
    const char *pattern, const faas_seg_t *segs, size_t nsegs);
static int faas_router_overlap(const faas_router_t *router, uint32_t first,
    const char *pattern, unsigned methods, const char *file, unsigned line,
    unsigned column, faas_error_t *err);
static int faas_router_walk(faas_walk_t *w, uint32_t nid, size_t pos,
    unsigned depth);
static uint32_t faas_router_accept(faas_walk_t *w, uint32_t first);
static void faas_router_fill(faas_walk_t *w, uint32_t rid,
    const faas_value_t *values, size_t nvalues);


faas_router_t *
faas_router_create(void)
{
    faas_router_t  *router;

    router = calloc(1, sizeof(faas_router_t));
    if (router == NULL) {
        return NULL;
    }

    /* the root */
    if (faas_router_new_node(router, 0) != 0) {
        free(router);
        return NULL;
    }

    return router;
}


int
faas_router_add(faas_router_t *router, const char *pattern,
    unsigned methods, void *data, const char *file, unsigned line,
    unsigned column, faas_error_t *err)
{
    size_t         i, len, nsegs, extra;
    uint32_t       nid, child, hash, poff, rid, *list;
    uint64_t       head;
    faas_seg_t    *seg;
    faas_name_t   *name;
    faas_route_t  *r;
    faas_seg_t     segs[FAAS_ROUTER_MAX_SEGMENTS];

    if (router->compiled) {
        faas_error_set(err, file, line, column,
                       "route \"%s\" added after the routes were compiled",
                       pattern ? pattern : "");
        return FAAS_ERROR;
    }

    if (pattern == NULL) {
        faas_error_set(err, file, line, column, "route without a path");
        return FAAS_ERROR;
    }

    if ((methods & FAAS_ROUTER_METHODS) == 0
        || (methods & ~FAAS_ROUTER_METHODS))
    {
        faas_error_set(err, file, line, column,
                       "route \"%s\" has no valid method", pattern);
        return FAAS_ERROR;
    }

    len = strlen(pattern);

    if (faas_router_parse(pattern, len, segs, &nsegs, file, line, column,
                          err)
        != FAAS_OK)
    {
        return FAAS_ERROR;
    }

    /* the parameter names that do not fit in the route itself */

    extra = 0;

    for (i = 0; i < nsegs; i++) {
        if (segs[i].type != FAAS_SEG_STATIC) {
            extra++;
        }
    }

    extra = (extra > FAAS_ROUTER_NAMES) ? extra - FAAS_ROUTER_NAMES : 0;

    /*
     * Look for the route's node without changing anything first, so that
     * a conflict leaves the router as it was.
     */

    nid = faas_router_node(router, pattern, segs, nsegs);

    if (nid != FAAS_ROUTER_NONE) {
        list = (nsegs && segs[nsegs - 1].type == FAAS_SEG_WILD)
               ? &router->nodes[nid].wild : &router->nodes[nid].exact;

        if (faas_router_overlap(router, *list, pattern, methods, file, line,
                                column, err)
            != FAAS_OK)
        {
            return FAAS_ERROR;
        }
    }

    if (router->nroutes >= FAAS_ROUTER_NONE - 1
        || router->strings_len + len + 1 >= FAAS_ROUTER_NONE)
    {
        goto nomem;
    }

    if (faas_router_grow((void **) &router->strings, &router->strings_cap,
                         router->strings_len + len + 1, 1)
        != FAAS_OK
        || faas_router_grow((void **) &router->names, &router->names_cap,
                            router->nnames + extra, sizeof(faas_name_t))
        != FAAS_OK
        || faas_router_grow((void **) &router->routes, &router->routes_cap,
                            router->nroutes + 1, sizeof(faas_route_t))
        != FAAS_OK)
    {
        goto nomem;
    }

    poff = (uint32_t) router->strings_len;
    memcpy(router->strings + poff, pattern, len + 1);
    router->strings_len += len + 1;

    rid = (uint32_t) router->nroutes;
    r = &router->routes[rid];

    r->data = data;
    r->file = file;
    r->pattern = poff;
    r->next = FAAS_ROUTER_NONE;
    r->names = (uint32_t) router->nnames;
    r->line = line;
    r->column = column;
    r->methods = (uint16_t) methods;
    r->nparams = 0;

    nid = 0;

    for (i = 0; i < nsegs; i++) {
        seg = &segs[i];

        if (seg->type != FAAS_SEG_STATIC) {
            name = (r->nparams < FAAS_ROUTER_NAMES)
                   ? &r->name[r->nparams]
                   : &router->names[router->nnames++];

            name->off = (uint16_t) seg->off;
            name->len = (uint16_t) seg->len;
            r->nparams++;
        }

        if (seg->type == FAAS_SEG_WILD) {
            break;
        }

        if (seg->type == FAAS_SEG_PARAM) {
            child = router->nodes[nid].param;

            if (child == 0) {
                child = faas_router_new_node(router, nid);
                if (child == 0) {
                    goto nomem;
                }

                router->nodes[nid].param = child;
            }

            nid = child;
            continue;
        }

        head = faas_router_head(pattern + seg->off, seg->len);
        hash = faas_router_hash(nid, head, pattern + seg->off, seg->len);
        child = faas_router_find(router, nid, head, pattern + seg->off,
                                 seg->len, hash);

        if (child == FAAS_ROUTER_NONE) {
            child = faas_router_new_node(router, nid);
            if (child == 0) {
                goto nomem;
            }

            router->nodes[child].seg_off = poff + seg->off;
            router->nodes[child].seg_len = (uint16_t) seg->len;
            router->nodes[child].head = head;

            if (faas_router_insert_static(router, child, hash) != FAAS_OK) {
                goto nomem;
            }

            router->nodes[nid].has_static = 1;
        }

        nid = child;
    }

    /* declaration order within a list: the route goes last */

    list = (nsegs && segs[nsegs - 1].type == FAAS_SEG_WILD)
           ? &router->nodes[nid].wild : &router->nodes[nid].exact;

    while (*list != FAAS_ROUTER_NONE) {
        list = &router->routes[*list].next;
    }

    *list = rid;
    router->nroutes++;

    return FAAS_OK;

nomem:

    /*
     * Nodes made before the failure stay, without routes: they match
     * nothing, and the caller gives up on the router anyway.
     */

    faas_error_set(err, file, line, column,
                   "route \"%s\": out of memory", pattern);
    return FAAS_ERROR;
}


int
faas_router_compile(faas_router_t *router, faas_error_t *err)
{
    void  *p;

    (void) err;

    router->compiled = 1;

    /* give back what growth by doubling left unused */

    if (router->routes_cap > router->nroutes && router->nroutes) {
        p = realloc(router->routes, router->nroutes * sizeof(faas_route_t));
        if (p) {
            router->routes = p;
            router->routes_cap = router->nroutes;
        }
    }

    if (router->nodes_cap > router->nnodes) {
        p = realloc(router->nodes, router->nnodes * sizeof(faas_node_t));
        if (p) {
            router->nodes = p;
            router->nodes_cap = router->nnodes;
        }
    }

    if (router->names_cap > router->nnames && router->nnames) {
        p = realloc(router->names, router->nnames * sizeof(faas_name_t));
        if (p) {
            router->names = p;
            router->names_cap = router->nnames;
        }
    }

    if (router->strings_cap > router->strings_len && router->strings_len) {
        p = realloc(router->strings, router->strings_len);
        if (p) {
            router->strings = p;
            router->strings_cap = router->strings_len;
        }
    }

    return FAAS_OK;
}


int
faas_router_conflict(const faas_router_t *router, const char *pattern,
    unsigned methods, faas_error_t *err)
{
    size_t         nsegs;
    uint32_t       nid, list;
    faas_error_t   ignored;
    faas_seg_t     segs[FAAS_ROUTER_MAX_SEGMENTS];

    if (router == NULL || pattern == NULL) {
        return 0;
    }

    /* a pattern the router would refuse has no route to conflict with */

    if (faas_router_parse(pattern, strlen(pattern), segs, &nsegs, NULL, 0, 0,
                          &ignored)
        != FAAS_OK)
    {
        return 0;
    }

    nid = faas_router_node(router, pattern, segs, nsegs);

    if (nid == FAAS_ROUTER_NONE) {
        return 0;
    }

    list = (nsegs && segs[nsegs - 1].type == FAAS_SEG_WILD)
           ? router->nodes[nid].wild : router->nodes[nid].exact;

    return faas_router_overlap(router, list, pattern, methods, NULL, 0, 0,
                               err)
           != FAAS_OK;
}


/*
 * Trailing slashes are insignificant, as in koa-router's default
 * non-strict mode: "/a/" matches the routes of "/a", and the pattern "/a/"
 * is the route "/a".  Segments compare byte for byte, case-sensitively,
 * like nginx locations.  An empty segment ("//", possible only with
 * merge_slashes off) matches no static or ":param" segment, only a "*".
 *
 * The walk is depth first, a static child before the ":param" child, so
 * the first exact route met is the one precedence picks and ends the
 * walk.  "*" routes met on the way are remembered (the deepest wins) and
 * win only when no exact route accepts the method.  Each trie node is
 * visited at most once per lookup, whatever the path.
 */

int
faas_router_match(const faas_router_t *router, unsigned method,
    const char *path, size_t len, faas_match_t *match)
{
    faas_walk_t  w;

    match->data = NULL;
    match->pattern = NULL;
    match->allowed = 0;
    match->nparams = 0;

    if (router == NULL || path == NULL || len == 0 || path[0] != '/') {
        return FAAS_MATCH_NOT_FOUND;
    }

    w.router = router;
    w.match = match;
    w.path = path;
    w.len = len;
    w.method = method;
    w.allowed = 0;
    w.nvalues = 0;
    w.wild = FAAS_ROUTER_NONE;
    w.wild_depth = 0;
    w.wild_nvalues = 0;

    if (faas_router_walk(&w, 0, 0, 0)) {
        return FAAS_MATCH_OK;
    }

    if (w.wild != FAAS_ROUTER_NONE) {
        faas_router_fill(&w, w.wild, w.wild_values, w.wild_nvalues);
        return FAAS_MATCH_OK;
    }

    if (w.allowed) {
        if (w.allowed & FAAS_METHOD_GET) {
            w.allowed |= FAAS_METHOD_HEAD;
        }

        match->allowed = w.allowed;
        return FAAS_MATCH_METHOD;
    }

    return FAAS_MATCH_NOT_FOUND;
}


size_t
faas_router_count(const faas_router_t *router)
{
    return router ? router->nroutes : 0;
}


size_t
faas_router_memory(const faas_router_t *router)
{
    if (router == NULL) {
        return 0;
    }

    return sizeof(faas_router_t)
           + router->nodes_cap * sizeof(faas_node_t)
           + router->routes_cap * sizeof(faas_route_t)
           + router->names_cap * sizeof(faas_name_t)
           + router->strings_cap
           + router->nslots * sizeof(faas_slot_t);
}


void
faas_router_free(faas_router_t *router)
{
    if (router == NULL) {
        return;
    }

    free(router->nodes);
    free(router->routes);
    free(router->names);
    free(router->strings);
    free(router->slots);
    free(router);
}


static int
faas_router_grow(void **array, size_t *cap, size_t need, size_t size)
{
    void    *p;
    size_t   n;

    if (need <= *cap) {
        return FAAS_OK;
    }

    n = *cap ? *cap : 16;

    while (n < need) {
        if (n > (size_t) -1 / 2) {
            return FAAS_ERROR;
        }

        n *= 2;
    }

    if (n > (size_t) -1 / size) {
        return FAAS_ERROR;
    }

    p = realloc(*array, n * size);
    if (p == NULL) {
        return FAAS_ERROR;
    }

    *array = p;
    *cap = n;

    return FAAS_OK;
}


static int
faas_router_parse(const char *pattern, size_t len, faas_seg_t *segs,
    size_t *nsegs, const char *file, unsigned line, unsigned column,
    faas_error_t *err)
{
    size_t       p, q, i, k, n, nparams;
    unsigned     c;
    const char  *s;

    if (len == 0 || pattern[0] != '/') {
        faas_error_set(err, file, line, column,
                       "route \"%s\" does not start with \"/\"", pattern);
        return FAAS_ERROR;
    }

    if (len > FAAS_ROUTER_MAX_PATTERN) {
        faas_error_set(err, file, line, column,
                       "route \"%.32s...\" is longer than %d bytes",
                       pattern, FAAS_ROUTER_MAX_PATTERN);
        return FAAS_ERROR;
    }

    n = 0;
    nparams = 0;

    /* a trailing "/" ends the loop like the end of the pattern does */

    for (p = 1; p < len; p = q + 1) {
        s = memchr(pattern + p, '/', len - p);
        q = s ? (size_t) (s - pattern) : len;

        if (q == p) {
            faas_error_set(err, file, line, column,
                           "route \"%s\" has an empty segment", pattern);
            return FAAS_ERROR;
        }

        if (n && segs[n - 1].type == FAAS_SEG_WILD) {
            goto wild;
        }

        if (n == FAAS_ROUTER_MAX_SEGMENTS) {
            faas_error_set(err, file, line, column,
                           "route \"%s\" has more than %d segments",
                           pattern, FAAS_ROUTER_MAX_SEGMENTS);
            return FAAS_ERROR;
        }

        segs[n].off = (uint32_t) p;
        segs[n].len = (uint32_t) (q - p);

        if (pattern[p] == '*') {
            if (q - p != 1) {
                goto wild;
            }

            segs[n].type = FAAS_SEG_WILD;

        } else if (pattern[p] == ':') {
            segs[n].off++;
            segs[n].len--;
            segs[n].type = FAAS_SEG_PARAM;

            if (segs[n].len == 0) {
                faas_error_set(err, file, line, column,
                               "route \"%s\" has a parameter without a "
                               "name", pattern);
                return FAAS_ERROR;
            }

            for (i = p + 1; i < q; i++) {
                c = (unsigned char) pattern[i];

                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                      || (c >= '0' && c <= '9') || c == '_'))
                {
                    faas_error_set(err, file, line, column,
                                   "route \"%s\": the name of parameter "
                                   "\"%.*s\" has characters other than "
                                   "letters, digits and \"_\"", pattern,
                                   (int) (q - p - 1), pattern + p + 1);
                    return FAAS_ERROR;
                }
            }

            for (k = 0; k < n; k++) {
                if (segs[k].type == FAAS_SEG_PARAM
                    && segs[k].len == segs[n].len
                    && memcmp(pattern + segs[k].off, pattern + segs[n].off,
                              segs[n].len)
                       == 0)
                {
                    faas_error_set(err, file, line, column,
                                   "route \"%s\" has parameter \"%.*s\" "
                                   "twice", pattern, (int) segs[n].len,
                                   pattern + segs[n].off);
                    return FAAS_ERROR;
                }
            }

        } else {
            segs[n].type = FAAS_SEG_STATIC;

            for (i = p; i < q; i++) {
                c = (unsigned char) pattern[i];

                if (c == '*') {
                    goto wild;
                }

                /*
                 * path-to-regexp would read these as syntax (":id" inside
                 * a segment, "?" and "#"): refused rather than taken
                 * literally with another meaning.
                 */

                if (c == ':' || c == '?' || c == '#' || c <= 0x20
                    || c == 0x7f)
                {
                    faas_error_set(err, file, line, column,
                                   "route \"%s\" has an invalid character "
                                   "in segment \"%.*s\"", pattern,
                                   (int) (q - p), pattern + p);
                    return FAAS_ERROR;
                }
            }
        }

        if (segs[n].type != FAAS_SEG_STATIC) {
            if (nparams == FAAS_ROUTER_MAX_PARAMS) {
                faas_error_set(err, file, line, column,
                               "route \"%s\" has more than %d parameters",
                               pattern, FAAS_ROUTER_MAX_PARAMS);
                return FAAS_ERROR;
            }

            nparams++;
        }

        n++;
    }

    *nsegs = n;

    return FAAS_OK;

wild:

    faas_error_set(err, file, line, column,
                   "route \"%s\": \"*\" is allowed only as the whole last "
                   "segment", pattern);
    return FAAS_ERROR;
}


static uint64_t
faas_router_head(const char *p, size_t len)
{
    size_t    i;
    uint64_t  head;

    head = 0;

    for (i = 0; i < len && i < 8; i++) {
        head |= (uint64_t) (unsigned char) p[i] << (i * 8);
    }

    return head;
}


/*
 * The hash of a static edge: the segment, whose first eight bytes come as
 * "head", and the parent, a word at a time; faas_mix64() mixes them.
 */

static uint32_t
faas_router_hash(uint32_t parent, uint64_t head, const char *p, size_t len)
{
    size_t    i, n;
    uint64_t  h, w;

    h = head ^ ((uint64_t) parent << 32 | (uint32_t) len);

    for (i = 8; i < len; i += 8) {
        n = (len - i < 8) ? len - i : 8;
        w = 0;
        memcpy(&w, p + i, n);

        h = (h ^ w) * 0x9e3779b97f4a7c15ull;
        h ^= h >> 29;
    }

    return (uint32_t) faas_mix64(h);
}


static uint32_t
faas_router_find(const faas_router_t *router, uint32_t parent,
    uint64_t head, const char *seg, size_t len, uint32_t hash)
{
    size_t              i, mask;
    const faas_slot_t  *slot;
    const faas_node_t  *node;

    if (router->nslots == 0) {
        return FAAS_ROUTER_NONE;
    }

    mask = router->nslots - 1;

    for (i = hash & mask; /* void */; i = (i + 1) & mask) {
        slot = &router->slots[i];

        if (slot->node == 0) {
            return FAAS_ROUTER_NONE;
        }

        if (slot->hash != hash) {
            continue;
        }

        node = &router->nodes[slot->node];

        if (node->parent == parent
            && node->seg_len == len
            && node->head == head
            && (len <= 8
                || memcmp(router->strings + node->seg_off + 8, seg + 8,
                          len - 8)
                   == 0))
        {
            return slot->node;
        }
    }
}


/* returns the new node's index, 0 on failure (0 is the root's) */

static uint32_t
faas_router_new_node(faas_router_t *router, uint32_t parent)
{
    uint32_t      nid;
    faas_node_t  *node;

    if (router->nnodes >= FAAS_ROUTER_NONE - 1
        || faas_router_grow((void **) &router->nodes, &router->nodes_cap,
                            router->nnodes + 1, sizeof(faas_node_t))
           != FAAS_OK)
    {
        return 0;
    }

    nid = (uint32_t) router->nnodes++;
    node = &router->nodes[nid];

    node->parent = parent;
    node->seg_off = 0;
    node->seg_len = 0;
    node->has_static = 0;
    node->param = 0;
    node->exact = FAAS_ROUTER_NONE;
    node->wild = FAAS_ROUTER_NONE;
    node->head = 0;

    return nid;
}


static int
faas_router_insert_static(faas_router_t *router, uint32_t node,
    uint32_t hash)
{
    size_t        i, n, mask;
    faas_slot_t  *slots, *old;

    /* at most half full, so that misses stop early */

    if ((router->nstatic + 1) * 2 > router->nslots) {
        n = router->nslots ? router->nslots * 2 : 64;

        if (n > (size_t) -1 / sizeof(faas_slot_t)) {
            return FAAS_ERROR;
        }

        slots = calloc(n, sizeof(faas_slot_t));
        if (slots == NULL) {
            return FAAS_ERROR;
        }

        old = router->slots;
        mask = n - 1;

        for (i = 0; i < router->nslots; i++) {
            if (old[i].node == 0) {
                continue;
            }

            for (n = old[i].hash & mask; slots[n].node; n = (n + 1) & mask) {
                /* void */
            }

            slots[n] = old[i];
        }

        free(old);

        router->slots = slots;
        router->nslots = mask + 1;
    }

    mask = router->nslots - 1;

    for (i = hash & mask; router->slots[i].node; i = (i + 1) & mask) {
        /* void */
    }

    router->slots[i].hash = hash;
    router->slots[i].node = node;
    router->nstatic++;

    return FAAS_OK;
}


/*
 * The node where a parsed pattern's routes are listed (a "*" route's is
 * its prefix's node), without changing anything; FAAS_ROUTER_NONE when
 * the trie has no such node yet.
 */

static uint32_t
faas_router_node(const faas_router_t *router, const char *pattern,
    const faas_seg_t *segs, size_t nsegs)
{
    size_t             i;
    uint32_t           nid, child, hash;
    uint64_t           head;
    const faas_seg_t  *seg;

    nid = 0;

    for (i = 0; i < nsegs; i++) {
        seg = &segs[i];

        if (seg->type == FAAS_SEG_WILD) {
            break;
        }

        if (seg->type == FAAS_SEG_PARAM) {
            child = router->nodes[nid].param;

            if (child == 0) {
                return FAAS_ROUTER_NONE;
            }

        } else {
            head = faas_router_head(pattern + seg->off, seg->len);
            hash = faas_router_hash(nid, head, pattern + seg->off,
                                    seg->len);
            child = faas_router_find(router, nid, head, pattern + seg->off,
                                     seg->len, hash);

            if (child == FAAS_ROUTER_NONE) {
                return FAAS_ROUTER_NONE;
            }
        }

        nid = child;
    }

    return nid;
}


static int
faas_router_overlap(const faas_router_t *router, uint32_t first,
    const char *pattern, unsigned methods, const char *file, unsigned line,
    unsigned column, faas_error_t *err)
{
    size_t               n, j, k;
    unsigned             both;
    uint32_t             i;
    const faas_route_t  *r;
    char           m[64], place[192];

    for (i = first; i != FAAS_ROUTER_NONE; i = r->next) {
        r = &router->routes[i];
        both = r->methods & methods;

        if (both == 0) {
            continue;
        }

        /* "GET, POST /x" would read as two routes, "GET,POST /x" as one */

        n = faas_methods_format(both, m, sizeof(m));

        for (k = 0, j = 0; k < n; k++) {
            if (m[k] != ' ') {
                m[j++] = m[k];
            }
        }

        m[j] = '\0';

        if (r->file && r->line && r->column) {
            snprintf(place, sizeof(place), "%s:%u:%u", r->file, r->line,
                     r->column);

        } else if (r->file && r->line) {
            snprintf(place, sizeof(place), "%s:%u", r->file, r->line);

        } else {
            snprintf(place, sizeof(place), "%s",
                     r->file ? r->file : "(unknown)");
        }

        faas_error_set(err, file, line, column,
                       "route \"%s %s\" conflicts with \"%s %s\" declared "
                       "at %s", m, pattern, m,
                       router->strings + r->pattern, place);
        return FAAS_ERROR;
    }

    return FAAS_OK;
}


/*
 * "pos" is the "/" before the next segment, or the end of the path.
 * Returns 1 when an exact route took the request: the walk stops there.
 */

static int
faas_router_walk(faas_walk_t *w, uint32_t nid, size_t pos, unsigned depth)
{
    size_t                q, left;
    uint32_t              rid, child, h;
    uint64_t              head;
    const char           *seg;
    faas_value_t         *tail;
    const faas_node_t    *node;
    const faas_router_t  *router;

    router = w->router;
    node = &router->nodes[nid];

    if (node->wild != FAAS_ROUTER_NONE) {
        rid = faas_router_accept(w, node->wild);

        /* on a tie the first met wins: a static segment before ":param" */

        if (rid != FAAS_ROUTER_NONE
            && (w->wild == FAAS_ROUTER_NONE || depth > w->wild_depth))
        {
            w->wild = rid;
            w->wild_depth = depth;
            w->wild_nvalues = w->nvalues;
            memcpy(w->wild_values, w->values,
                   w->nvalues * sizeof(faas_value_t));

            /* the tail, the value of "*", without its leading "/" */

            if (w->nvalues < FAAS_ROUTER_MAX_PARAMS) {
                tail = &w->wild_values[w->wild_nvalues++];

                if (pos < w->len) {
                    tail->data = w->path + pos + 1;
                    tail->len = w->len - pos - 1;

                } else {
                    tail->data = w->path + w->len;
                    tail->len = 0;
                }
            }
        }
    }

    if (pos + 1 >= w->len) {
        if (node->exact == FAAS_ROUTER_NONE) {
            return 0;
        }

        rid = faas_router_accept(w, node->exact);

        if (rid == FAAS_ROUTER_NONE) {
            return 0;
        }

        faas_router_fill(w, rid, w->values, w->nvalues);
        return 1;
    }

    if (!node->has_static && !node->param) {
        return 0;
    }

    /* the segment's end and its first eight bytes in one pass */

    seg = w->path + pos + 1;
    left = w->len - pos - 1;
    head = 0;

    for (q = 0; q < left && seg[q] != '/'; q++) {
        if (q < 8) {
            head |= (uint64_t) (unsigned char) seg[q] << (q * 8);
        }
    }

    if (q == 0) {
        return 0;
    }

    if (node->has_static) {
        h = faas_router_hash(nid, head, seg, q);
        child = faas_router_find(router, nid, head, seg, q, h);

        if (child != FAAS_ROUTER_NONE
            && faas_router_walk(w, child, pos + 1 + q, depth + 1))
        {
            return 1;
        }
    }

    /*
     * The parameters on a trie path are those of the routes below it, so
     * there are at most 16; the test guards the array all the same.
     */

    if (node->param && w->nvalues < FAAS_ROUTER_MAX_PARAMS) {
        w->values[w->nvalues].data = seg;
        w->values[w->nvalues].len = q;
        w->nvalues++;

        if (faas_router_walk(w, node->param, pos + 1 + q, depth + 1)) {
            return 1;
        }

        w->nvalues--;
    }

    return 0;
}


/*
 * The route of a list that takes the method; "allowed" collects every
 * method of the list for a 405.  A route that allows GET allows HEAD too,
 * as in koa-router, but a route of the same list that names HEAD itself
 * comes first.
 */

static uint32_t
faas_router_accept(faas_walk_t *w, uint32_t first)
{
    uint32_t             i, found, get;
    const faas_route_t  *r;

    found = FAAS_ROUTER_NONE;
    get = FAAS_ROUTER_NONE;

    for (i = first; i != FAAS_ROUTER_NONE; i = r->next) {
        r = &w->router->routes[i];
        w->allowed |= r->methods;

        if (found == FAAS_ROUTER_NONE && (r->methods & w->method)) {
            found = i;
        }

        if (get == FAAS_ROUTER_NONE && (r->methods & FAAS_METHOD_GET)) {
            get = i;
        }
    }

    if (found == FAAS_ROUTER_NONE && w->method == FAAS_METHOD_HEAD) {
        return get;
    }

    return found;
}


static void
faas_router_fill(faas_walk_t *w, uint32_t rid, const faas_value_t *values,
    size_t nvalues)
{
    size_t               i;
    const char          *pattern;
    faas_match_t        *match;
    const faas_name_t   *name;
    const faas_route_t  *r;

    r = &w->router->routes[rid];
    match = w->match;
    pattern = w->router->strings + r->pattern;

    match->data = r->data;
    match->pattern = pattern;
    match->allowed = 0;
    match->nparams = (r->nparams < nvalues) ? r->nparams : nvalues;

    for (i = 0; i < match->nparams; i++) {
        name = (i < FAAS_ROUTER_NAMES)
               ? &r->name[i]
               : &w->router->names[r->names + i - FAAS_ROUTER_NAMES];

        match->params[i].name = pattern + name->off;
        match->params[i].name_len = name->len;
        match->params[i].value = values[i].data;
        match->params[i].value_len = values[i].len;
    }
}
