/*
 * Copyright (C) ngx_faas authors
 *
 * BFF aggregation's declaration: the setters of the aggregation's keys
 * and of its calls' (f.yml and nginx.conf give the same text values),
 * their values (durations, sizes, lists of names), and compiling: the
 * calls that templates name, the order dependencies give, cycles.
 * Shared with the other parts in faas_aggregate_int.h.
 */


#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "faas_aggregate_int.h"


/* a call's keys that may be given once */
#define FAAS_AGG_K_URL         0x0001
#define FAAS_AGG_K_FUNCTION    0x0002
#define FAAS_AGG_K_METHOD      0x0004
#define FAAS_AGG_K_BODY        0x0008
#define FAAS_AGG_K_TIMEOUT     0x0010
#define FAAS_AGG_K_REQUIRED    0x0020       /* required and optional */
#define FAAS_AGG_K_MAX_SIZE    0x0040
#define FAAS_AGG_K_TARGET      0x0080
#define FAAS_AGG_K_KEY         0x0100
#define FAAS_AGG_K_MERGE       0x0200
#define FAAS_AGG_K_OUTPUT      0x0400


/* a call's key: the setters take the same arguments, used or not */

typedef int (*faas_agg_set_pt)(faas_agg_t *agg, faas_agg_call_t *c,
    const char *name, const char *value, const char *where,
    faas_error_t *err);

typedef struct {
    const char         *key;
    size_t              len;
    unsigned            once;           /* FAAS_AGG_K_*, 0: may repeat */
    unsigned            prefix;         /* 1: "key.NAME" */
    faas_agg_set_pt     set;
} faas_agg_key_t;


static int faas_agg_bad(faas_error_t *err, const char *where,
    const char *value, const char *why);
static const char *faas_agg_duration(const char *s, unsigned *ms);
static const char *faas_agg_size(const char *s, size_t *size);
static const char *faas_agg_bool(const char *s, unsigned *on);
static int faas_agg_list_next(const char **p, const char **item,
    size_t *len);
static int faas_agg_member_name(const char *s);
static const char *faas_agg_hop_by_hop(const char *name, size_t len);
static int faas_agg_forward_add(faas_agg_t *agg, const char *value,
    faas_error_t *err);

static int faas_agg_set_url(faas_agg_t *agg, faas_agg_call_t *c,
    const char *name, const char *value, const char *where,
    faas_error_t *err);
static int faas_agg_set_function(faas_agg_t *agg, faas_agg_call_t *c,
    const char *name, const char *value, const char *where,
    faas_error_t *err);
static int faas_agg_set_method(faas_agg_t *agg, faas_agg_call_t *c,
    const char *name, const char *value, const char *where,
    faas_error_t *err);
static int faas_agg_set_query(faas_agg_t *agg, faas_agg_call_t *c,
    const char *name, const char *value, const char *where,
    faas_error_t *err);
static int faas_agg_set_header(faas_agg_t *agg, faas_agg_call_t *c,
    const char *name, const char *value, const char *where,
    faas_error_t *err);
static int faas_agg_set_body(faas_agg_t *agg, faas_agg_call_t *c,
    const char *name, const char *value, const char *where,
    faas_error_t *err);
static int faas_agg_set_timeout(faas_agg_t *agg, faas_agg_call_t *c,
    const char *name, const char *value, const char *where,
    faas_error_t *err);
static int faas_agg_set_switch(faas_agg_t *agg, faas_agg_call_t *c,
    const char *name, const char *value, const char *where,
    faas_error_t *err);
static int faas_agg_set_max_size(faas_agg_t *agg, faas_agg_call_t *c,
    const char *name, const char *value, const char *where,
    faas_error_t *err);
static int faas_agg_set_target(faas_agg_t *agg, faas_agg_call_t *c,
    const char *name, const char *value, const char *where,
    faas_error_t *err);
static int faas_agg_set_pick(faas_agg_t *agg, faas_agg_call_t *c,
    const char *name, const char *value, const char *where,
    faas_error_t *err);
static int faas_agg_set_omit(faas_agg_t *agg, faas_agg_call_t *c,
    const char *name, const char *value, const char *where,
    faas_error_t *err);
static int faas_agg_set_rename(faas_agg_t *agg, faas_agg_call_t *c,
    const char *name, const char *value, const char *where,
    faas_error_t *err);
static int faas_agg_set_key(faas_agg_t *agg, faas_agg_call_t *c,
    const char *name, const char *value, const char *where,
    faas_error_t *err);
static int faas_agg_set_flag(const char *value, const char *where,
    unsigned *on, faas_error_t *err);
static int faas_agg_paths_add(faas_agg_t *agg, faas_agg_path_t **paths,
    size_t *n, const char *value, const char *where, faas_error_t *err);

static int faas_agg_resolve(faas_agg_t *agg, size_t i, faas_agg_tmpl_t *t,
    faas_error_t *err);
static int faas_agg_visit(faas_agg_t *agg, size_t i, unsigned char *mark,
    size_t *stack, size_t depth, size_t *norder, faas_error_t *err);


static const faas_agg_key_t  faas_agg_call_keys[] = {
    { "url",      3, FAAS_AGG_K_URL,      0, faas_agg_set_url },
    { "function", 8, FAAS_AGG_K_FUNCTION, 0, faas_agg_set_function },
    { "method",   6, FAAS_AGG_K_METHOD,   0, faas_agg_set_method },
    { "query",    5, 0,                   1, faas_agg_set_query },
    { "header",   6, 0,                   1, faas_agg_set_header },
    { "body",     4, FAAS_AGG_K_BODY,     0, faas_agg_set_body },
    { "timeout",  7, FAAS_AGG_K_TIMEOUT,  0, faas_agg_set_timeout },
    { "required", 8, FAAS_AGG_K_REQUIRED, 0, faas_agg_set_switch },
    { "optional", 8, FAAS_AGG_K_REQUIRED, 0, faas_agg_set_switch },
    { "max_size", 8, FAAS_AGG_K_MAX_SIZE, 0, faas_agg_set_max_size },
    { "target",   6, FAAS_AGG_K_TARGET,   0, faas_agg_set_target },
    { "pick",     4, 0,                   0, faas_agg_set_pick },
    { "omit",     4, 0,                   0, faas_agg_set_omit },
    { "rename",   6, 0,                   1, faas_agg_set_rename },
    { "key",      3, FAAS_AGG_K_KEY,      0, faas_agg_set_key },
    { "merge",    5, FAAS_AGG_K_MERGE,    0, faas_agg_set_switch },
    { "output",   6, FAAS_AGG_K_OUTPUT,   0, faas_agg_set_switch },
};

#define FAAS_AGG_NKEYS                                                       \
    (sizeof(faas_agg_call_keys) / sizeof(faas_agg_call_keys[0]))


static const char  *faas_agg_default_forward[] = {
    "Authorization", "Cookie", "Accept-Language", "User-Agent"
};

#define FAAS_AGG_NDEFAULT                                                    \
    (sizeof(faas_agg_default_forward) / sizeof(faas_agg_default_forward[0]))


/* the declaration */

faas_agg_t *
faas_agg_create(void)
{
    faas_agg_t  *agg;

    agg = calloc(1, sizeof(faas_agg_t));
    if (agg == NULL) {
        return NULL;
    }

    agg->timeout = FAAS_AGG_TIMEOUT;

    return agg;
}


void
faas_agg_free(faas_agg_t *agg)
{
    if (agg == NULL) {
        return;
    }

    faas_arena_free(&agg->arena);
    free(agg);
}


int
faas_agg_set(faas_agg_t *agg, const char *key, const char *value,
    faas_error_t *err)
{
    unsigned     ms;
    const char  *bad;
    char         where[FAAS_AGG_WHERE_SIZE];

    faas_quote_key(key, strlen(key), where);

    if (agg->compiled) {
        return faas_agg_error(err, where, "the aggregation is compiled "
                              "and cannot change");
    }

    if (value == NULL) {
        return faas_agg_error(err, where, "no value");
    }

    if (strcmp(key, "timeout") == 0) {
        if (agg->timeout_set) {
            return faas_agg_error(err, where, "set twice");
        }

        bad = faas_agg_duration(value, &ms);
        if (bad) {
            return faas_agg_bad(err, where, value, bad);
        }

        agg->timeout = ms;
        agg->timeout_set = 1;

        return FAAS_OK;
    }

    if (strcmp(key, "forward_headers") == 0) {
        return faas_agg_forward_add(agg, value, err);
    }

    return faas_agg_error(err, where, "unknown key (timeout, "
                          "forward_headers)");
}


/* a list of header names, added to those given before */

static int
faas_agg_forward_add(faas_agg_t *agg, const char *value, faas_error_t *err)
{
    size_t       i, len;
    const char  *p, *item, *bad;
    char        *copy;
    char         got[FAAS_QUOTE_SIZE];

    agg->forward_set = 1;

    p = value;

    while (faas_agg_list_next(&p, &item, &len)) {
        faas_quote(item, len, got, sizeof(got));

        if (len > FAAS_AGG_ARG_MAX || !faas_name_chars(item, len, "-")) {
            return faas_agg_error(err, "forward_headers", "%s is not a "
                                  "header's name ([A-Za-z0-9-])", got);
        }

        bad = faas_agg_hop_by_hop(item, len);
        if (bad) {
            return faas_agg_error(err, "forward_headers", "%s %s; it is "
                                  "not forwarded", got, bad);
        }

        for (i = 0; i < agg->nforward; i++) {
            if (strlen(agg->forward[i]) == len
                && strncasecmp(agg->forward[i], item, len) == 0)
            {
                break;
            }
        }

        if (i < agg->nforward) {
            continue;
        }

        if (agg->nforward == FAAS_AGG_HEADERS_MAX) {
            return faas_agg_error(err, "forward_headers", "more than %d "
                                  "headers", FAAS_AGG_HEADERS_MAX);
        }

        copy = faas_arena_strndup(&agg->arena, item, len);
        if (copy == NULL) {
            return faas_agg_error(err, "forward_headers", "out of memory");
        }

        agg->forward[agg->nforward++] = copy;
    }

    return FAAS_OK;
}


/*
 * Headers of one connection, not of a request: a call is a request of
 * its own, and the glue sets these for it.
 */

static const char *
faas_agg_hop_by_hop(const char *name, size_t len)
{
    size_t  i;

    static const char  *hop[] = {
        "Connection", "Keep-Alive", "Proxy-Authenticate",
        "Proxy-Authorization", "TE", "Trailer", "Trailers",
        "Transfer-Encoding", "Upgrade", NULL
    };

    static const char  *own[] = { "Host", "Content-Length", NULL };

    for (i = 0; hop[i]; i++) {
        if (strlen(hop[i]) == len && strncasecmp(hop[i], name, len) == 0) {
            return "is hop-by-hop";
        }
    }

    for (i = 0; own[i]; i++) {
        if (strlen(own[i]) == len && strncasecmp(own[i], name, len) == 0) {
            return "is the call's own";
        }
    }

    return NULL;
}


int
faas_agg_call_add(faas_agg_t *agg, const char *name, faas_error_t *err)
{
    size_t            i, len;
    faas_agg_call_t  *c;
    char              where[FAAS_AGG_WHERE_SIZE];

    len = strlen(name);

    snprintf(where, sizeof(where), "calls.");
    faas_quote_key(name, len, where + 6);

    if (agg->compiled) {
        faas_agg_error(err, where, "the aggregation is compiled and "
                       "cannot change");
        return -1;
    }

    if (len == 0 || len > FAAS_AGG_NAME_MAX
        || !faas_name_chars(name, len, "_-"))
    {
        faas_agg_error(err, where, "a call's name is 1 to %d of "
                       "A-Z a-z 0-9 _ -", FAAS_AGG_NAME_MAX);
        return -1;
    }

    for (i = 0; i < FAAS_AGG_NSOURCES; i++) {
        if (strcmp(name, faas_agg_sources[i].name) == 0) {
            faas_agg_error(err, where, "\"%s\" is a source of holes "
                           "(params, query, header, cookie, body), not a "
                           "call's name", name);
            return -1;
        }
    }

    if (strcmp(name, "errors") == 0) {
        faas_agg_error(err, where, "\"errors\" is the answer's own member, "
                       "not a call's name");
        return -1;
    }

    for (i = 0; i < agg->ncalls; i++) {
        if (strcmp(agg->calls[i]->name, name) == 0) {
            faas_agg_error(err, where, "defined twice");
            return -1;
        }
    }

    if (agg->ncalls == FAAS_AGG_CALLS_MAX) {
        faas_agg_error(err, where, "more than %d calls", FAAS_AGG_CALLS_MAX);
        return -1;
    }

    c = faas_arena_alloc(&agg->arena, sizeof(faas_agg_call_t));
    if (c == NULL) {
        faas_agg_error(err, where, "out of memory");
        return -1;
    }

    c->name = faas_arena_strndup(&agg->arena, name, len);
    if (c->name == NULL) {
        faas_agg_error(err, where, "out of memory");
        return -1;
    }

    c->len = len;
    c->key = c->name;
    c->args_last = &c->args;
    c->headers_last = &c->headers;
    c->max_size = FAAS_AGG_MAX_SIZE;
    c->required = 1;
    c->output = 1;

    agg->calls[agg->ncalls] = c;

    return (int) agg->ncalls++;
}


int
faas_agg_call_set(faas_agg_t *agg, int call, const char *key,
    const char *value, faas_error_t *err)
{
    int                    rc;
    size_t                 i, len;
    const char            *name;
    faas_agg_call_t       *c;
    const faas_agg_key_t  *k;
    char                   where[FAAS_AGG_WHERE_SIZE];

    if (call < 0 || (size_t) call >= agg->ncalls) {
        return faas_agg_error(err, "calls", "no call %d", call);
    }

    c = agg->calls[call];
    len = strlen(key);

    i = snprintf(where, sizeof(where), "calls.%s.", c->name);
    faas_quote_key(key, len, where + i);

    if (agg->compiled) {
        return faas_agg_error(err, where, "the aggregation is compiled "
                              "and cannot change");
    }

    if (value == NULL) {
        return faas_agg_error(err, where, "no value");
    }

    for (i = 0; i < FAAS_AGG_NKEYS; i++) {
        k = &faas_agg_call_keys[i];

        if (len < k->len || memcmp(key, k->key, k->len) != 0) {
            continue;
        }

        if (!k->prefix) {
            if (len == k->len) {
                break;
            }

            continue;
        }

        if (len == k->len || key[k->len] == '.') {
            break;
        }
    }

    if (i == FAAS_AGG_NKEYS) {
        return faas_agg_error(err, where, "unknown key");
    }

    /* the NAME of "query.NAME"; for a key without one, the key itself */

    name = k->key;

    if (k->prefix) {
        if (len == k->len) {
            return faas_agg_error(err, where, "a name is missing: %s.NAME",
                                  k->key);
        }

        name = key + k->len + 1;
    }

    if (k->once && (c->set & k->once)) {
        if (strcmp(key, "optional") == 0 || strcmp(key, "required") == 0) {
            return faas_agg_error(err, where, "set twice (required and "
                                  "optional are one setting)");
        }

        return faas_agg_error(err, where, "set twice");
    }

    rc = k->set(agg, c, name, value, where, err);

    if (rc == FAAS_OK) {
        c->set |= k->once;
    }

    return rc;
}


/* "/backend/users/{params.id}?full=1" */

static int
faas_agg_set_url(faas_agg_t *agg, faas_agg_call_t *c, const char *name,
    const char *value, const char *where, faas_error_t *err)
{
    size_t           i, len;
    const char      *q;
    unsigned char    ch;
    faas_agg_tmpl_t  path, query;
    char             got[FAAS_QUOTE_SIZE];

    (void) name;

    len = strlen(value);
    faas_quote(value, len, got, sizeof(got));

    if (value[0] != '/') {
        return faas_agg_error(err, where, "%s does not start with \"/\"",
                              got);
    }

    for (i = 0; i < len; i++) {
        ch = value[i];

        if (ch == '#') {
            return faas_agg_error(err, where, "%s has a \"#\"", got);
        }

        if (ch <= ' ' || ch == 0x7f) {
            return faas_agg_error(err, where, "%s has a space or a control "
                                  "character", got);
        }
    }

    q = memchr(value, '?', len);

    memset(&query, 0, sizeof(faas_agg_tmpl_t));

    if (faas_agg_tmpl_parse(agg, &path, value, q ? (size_t) (q - value) : len,
                            where, err)
        != FAAS_OK)
    {
        return FAAS_ERROR;
    }

    if (q && faas_agg_tmpl_parse(agg, &query, q + 1, len - (q + 1 - value),
                                 where, err)
             != FAAS_OK)
    {
        return FAAS_ERROR;
    }

    c->path = path;
    c->query = query;
    c->kind = FAAS_AGG_LOCATION;

    return FAAS_OK;
}


static int
faas_agg_set_function(faas_agg_t *agg, faas_agg_call_t *c, const char *name,
    const char *value, const char *where, faas_error_t *err)
{
    size_t  len;
    char    got[FAAS_QUOTE_SIZE];

    (void) name;

    len = strlen(value);

    if (len == 0 || len > 64 || value[0] == '-'
        || !faas_name_chars(value, len, "_-"))
    {
        faas_quote(value, len, got, sizeof(got));
        return faas_agg_error(err, where, "%s is not a function's name "
                              "(1 to 64 of A-Z a-z 0-9 _ -, not starting "
                              "with \"-\")", got);
    }

    c->function = faas_arena_strndup(&agg->arena, value, len);
    if (c->function == NULL) {
        return faas_agg_error(err, where, "out of memory");
    }

    c->kind = FAAS_AGG_FUNCTION;

    return FAAS_OK;
}


static int
faas_agg_set_method(faas_agg_t *agg, faas_agg_call_t *c, const char *name,
    const char *value, const char *where, faas_error_t *err)
{
    unsigned  m;
    char      got[FAAS_QUOTE_SIZE];

    (void) agg;
    (void) name;

    m = faas_method_parse(value, strlen(value));

    if (m != FAAS_METHOD_GET && m != FAAS_METHOD_POST
        && m != FAAS_METHOD_PUT && m != FAAS_METHOD_PATCH
        && m != FAAS_METHOD_DELETE)
    {
        faas_quote(value, strlen(value), got, sizeof(got));
        return faas_agg_error(err, where, "%s is not GET, POST, PUT, PATCH "
                              "or DELETE", got);
    }

    c->method = m;

    return FAAS_OK;
}


/* query.NAME: text, encoded when sent; a name given twice is sent twice */

static int
faas_agg_set_query(faas_agg_t *agg, faas_agg_call_t *c, const char *name,
    const char *value, const char *where, faas_error_t *err)
{
    size_t           i, len;
    faas_agg_arg_t  *arg;

    len = strlen(name);

    for (i = 0; i < len; i++) {
        if ((unsigned char) name[i] <= ' ' || name[i] == 0x7f) {
            break;
        }
    }

    if (i < len || len == 0 || len > FAAS_AGG_ARG_MAX) {
        return faas_agg_error(err, where, "a query argument's name is 1 to "
                              "%d visible characters", FAAS_AGG_ARG_MAX);
    }

    arg = faas_arena_alloc(&agg->arena, sizeof(faas_agg_arg_t));
    if (arg == NULL) {
        return faas_agg_error(err, where, "out of memory");
    }

    arg->name = faas_arena_strndup(&agg->arena, name, len);
    if (arg->name == NULL) {
        return faas_agg_error(err, where, "out of memory");
    }

    arg->len = len;

    if (faas_agg_tmpl_parse(agg, &arg->value, value, strlen(value), where,
                            err)
        != FAAS_OK)
    {
        return FAAS_ERROR;
    }

    *c->args_last = arg;
    c->args_last = &arg->next;

    return FAAS_OK;
}


static int
faas_agg_set_header(faas_agg_t *agg, faas_agg_call_t *c, const char *name,
    const char *value, const char *where, faas_error_t *err)
{
    size_t           len;
    const char      *bad;
    faas_agg_arg_t  *arg;

    len = strlen(name);

    if (len == 0 || len > FAAS_AGG_ARG_MAX
        || !faas_name_chars(name, len, "-"))
    {
        return faas_agg_error(err, where, "a header's name is 1 to %d of "
                              "A-Z a-z 0-9 -", FAAS_AGG_ARG_MAX);
    }

    bad = faas_agg_hop_by_hop(name, len);
    if (bad) {
        return faas_agg_error(err, where, "%s; it cannot be set", bad);
    }

    for (arg = c->headers; arg; arg = arg->next) {
        if (arg->len == len && strncasecmp(arg->name, name, len) == 0) {
            return faas_agg_error(err, where, "set twice");
        }
    }

    if (c->nheaders == FAAS_AGG_HEADERS_MAX) {
        return faas_agg_error(err, where, "more than %d headers",
                              FAAS_AGG_HEADERS_MAX);
    }

    if (strpbrk(value, "\r\n")) {
        return faas_agg_error(err, where, "a header's value has no CR or "
                              "LF");
    }

    arg = faas_arena_alloc(&agg->arena, sizeof(faas_agg_arg_t));
    if (arg == NULL) {
        return faas_agg_error(err, where, "out of memory");
    }

    arg->name = faas_arena_strndup(&agg->arena, name, len);
    if (arg->name == NULL) {
        return faas_agg_error(err, where, "out of memory");
    }

    arg->len = len;

    if (faas_agg_tmpl_parse(agg, &arg->value, value, strlen(value), where,
                            err)
        != FAAS_OK)
    {
        return FAAS_ERROR;
    }

    *c->headers_last = arg;
    c->headers_last = &arg->next;
    c->nheaders++;

    return FAAS_OK;
}


/*
 * "forward", or JSON text whose strings may have holes.  It is parsed
 * once, here, into the declaration's arena; its strings are compiled as
 * templates in the order a walk meets them, the order of rendering.
 */

static int
faas_agg_set_body(faas_agg_t *agg, faas_agg_call_t *c, const char *name,
    const char *value, const char *where, faas_error_t *err)
{
    size_t            len, pos, n;
    cJSON            *root;
    unsigned          rc;
    faas_agg_tmpl_t  *strings;

    (void) name;

    if (strcmp(value, "forward") == 0) {
        c->forward_body = 1;
        return FAAS_OK;
    }

    len = strlen(value);

    rc = faas_agg_parse(&agg->arena, value, len, &root, &pos);

    switch (rc) {

    case FAAS_AGG_JSON_OK:
        break;

    case FAAS_AGG_JSON_DEEP:
        return faas_agg_error(err, where, "nested deeper than %d levels",
                              FAAS_AGG_DEPTH_MAX);

    default:
        return faas_agg_error(err, where, "invalid JSON near byte %zu", pos);
    }

    n = 0;
    strings = NULL;

    faas_agg_body_strings(agg, root, NULL, &n, where, err);

    if (n) {
        strings = faas_arena_alloc(&agg->arena, n * sizeof(faas_agg_tmpl_t));
        if (strings == NULL) {
            return faas_agg_error(err, where, "out of memory");
        }

        n = 0;

        if (faas_agg_body_strings(agg, root, strings, &n, where, err)
            != FAAS_OK)
        {
            return FAAS_ERROR;
        }
    }

    c->body = root;
    c->strings = strings;
    c->nstrings = n;

    return FAAS_OK;
}


static int
faas_agg_set_timeout(faas_agg_t *agg, faas_agg_call_t *c, const char *name,
    const char *value, const char *where, faas_error_t *err)
{
    const char  *bad;

    (void) agg;
    (void) name;

    bad = faas_agg_duration(value, &c->timeout);
    if (bad) {
        return faas_agg_bad(err, where, value, bad);
    }

    return FAAS_OK;
}


static int
faas_agg_set_max_size(faas_agg_t *agg, faas_agg_call_t *c, const char *name,
    const char *value, const char *where, faas_error_t *err)
{
    const char  *bad;

    (void) agg;
    (void) name;

    bad = faas_agg_size(value, &c->max_size);
    if (bad) {
        return faas_agg_bad(err, where, value, bad);
    }

    return FAAS_OK;
}


static int
faas_agg_set_target(faas_agg_t *agg, faas_agg_call_t *c, const char *name,
    const char *value, const char *where, faas_error_t *err)
{
    const char  *bad;
    char         got[FAAS_QUOTE_SIZE];

    (void) name;

    bad = faas_agg_path_parse(&agg->arena, &c->target, value, strlen(value));
    if (bad) {
        faas_quote(value, strlen(value), got, sizeof(got));
        return faas_agg_error(err, where, "%s is not a dot path: %s", got,
                              bad);
    }

    return FAAS_OK;
}


static int
faas_agg_set_pick(faas_agg_t *agg, faas_agg_call_t *c, const char *name,
    const char *value, const char *where, faas_error_t *err)
{
    (void) name;

    return faas_agg_paths_add(agg, &c->pick, &c->npick, value, where, err);
}


static int
faas_agg_set_omit(faas_agg_t *agg, faas_agg_call_t *c, const char *name,
    const char *value, const char *where, faas_error_t *err)
{
    (void) name;

    return faas_agg_paths_add(agg, &c->omit, &c->nomit, value, where, err);
}


/* a list of dot paths, added to those given before */

static int
faas_agg_paths_add(faas_agg_t *agg, faas_agg_path_t **paths, size_t *n,
    const char *value, const char *where, faas_error_t *err)
{
    size_t       len;
    const char  *p, *item, *bad;
    char         got[FAAS_QUOTE_SIZE];

    p = value;

    while (faas_agg_list_next(&p, &item, &len)) {
        if (*n == FAAS_AGG_PATHS_MAX) {
            return faas_agg_error(err, where, "more than %d paths",
                                  FAAS_AGG_PATHS_MAX);
        }

        if (*paths == NULL) {
            *paths = faas_arena_alloc(&agg->arena, FAAS_AGG_PATHS_MAX
                                                   * sizeof(faas_agg_path_t));
            if (*paths == NULL) {
                return faas_agg_error(err, where, "out of memory");
            }
        }

        bad = faas_agg_path_parse(&agg->arena, &(*paths)[*n], item, len);
        if (bad) {
            faas_quote(item, len, got, sizeof(got));
            return faas_agg_error(err, where, "%s is not a dot path: %s",
                                  got, bad);
        }

        (*n)++;
    }

    return FAAS_OK;
}


/* rename.PATH: NEW, the member at PATH gets the name NEW */

static int
faas_agg_set_rename(faas_agg_t *agg, faas_agg_call_t *c, const char *name,
    const char *value, const char *where, faas_error_t *err)
{
    size_t            i;
    const char       *bad;
    faas_agg_path_t  *path;

    if (!faas_agg_member_name(value)) {
        return faas_agg_error(err, where, "a new name is 1 to %d "
                              "characters, no control characters",
                              FAAS_AGG_KEY_MAX);
    }

    for (i = 0; i < c->nrenames; i++) {
        if (strcmp(c->renames[i].text, name) == 0) {
            return faas_agg_error(err, where, "set twice");
        }
    }

    if (c->nrenames == FAAS_AGG_PATHS_MAX) {
        return faas_agg_error(err, where, "more than %d renames",
                              FAAS_AGG_PATHS_MAX);
    }

    if (c->renames == NULL) {
        c->renames = faas_arena_alloc(&agg->arena, FAAS_AGG_PATHS_MAX
                                                   * sizeof(faas_agg_path_t));
        c->rename_to = faas_arena_alloc(&agg->arena,
                                        FAAS_AGG_PATHS_MAX * sizeof(char *));
        if (c->renames == NULL || c->rename_to == NULL) {
            c->renames = NULL;
            return faas_agg_error(err, where, "out of memory");
        }
    }

    path = &c->renames[c->nrenames];

    bad = faas_agg_path_parse(&agg->arena, path, name, strlen(name));
    if (bad) {
        return faas_agg_error(err, where, "not a dot path: %s", bad);
    }

    c->rename_to[c->nrenames] = faas_arena_strdup(&agg->arena, value);
    if (c->rename_to[c->nrenames] == NULL) {
        return faas_agg_error(err, where, "out of memory");
    }

    c->nrenames++;

    return FAAS_OK;
}


static int
faas_agg_set_key(faas_agg_t *agg, faas_agg_call_t *c, const char *name,
    const char *value, const char *where, faas_error_t *err)
{
    (void) name;

    if (!faas_agg_member_name(value)) {
        return faas_agg_error(err, where, "a key is 1 to %d characters, no "
                              "control characters", FAAS_AGG_KEY_MAX);
    }

    if (strcmp(value, "errors") == 0) {
        return faas_agg_error(err, where, "\"errors\" is the answer's own "
                              "member");
    }

    c->key = faas_arena_strdup(&agg->arena, value);
    if (c->key == NULL) {
        c->key = c->name;
        return faas_agg_error(err, where, "out of memory");
    }

    return FAAS_OK;
}


/* required, optional, merge, output: "name" is the key */

static int
faas_agg_set_switch(faas_agg_t *agg, faas_agg_call_t *c, const char *name,
    const char *value, const char *where, faas_error_t *err)
{
    unsigned  on;

    (void) agg;

    on = 0;

    if (faas_agg_set_flag(value, where, &on, err) != FAAS_OK) {
        return FAAS_ERROR;
    }

    switch (name[0]) {
    case 'r':
        c->required = on;
        break;
    case 'o':
        if (name[1] == 'p') {
            c->required = !on;

        } else {
            c->output = on;
        }
        break;
    default:
        c->merge = on;
    }

    return FAAS_OK;
}


static int
faas_agg_set_flag(const char *value, const char *where, unsigned *on,
    faas_error_t *err)
{
    const char  *bad;

    bad = faas_agg_bool(value, on);
    if (bad) {
        return faas_agg_bad(err, where, value, bad);
    }

    return FAAS_OK;
}


/* values: NULL when good, else what is wrong, after the value */

static const char *
faas_agg_duration(const char *s, unsigned *ms)
{
    size_t       i;
    uint64_t     n, unit;
    const char  *u;

    n = 0;

    for (i = 0; s[i] >= '0' && s[i] <= '9'; i++) {
        if (n < 1000000000000ULL) {
            n = n * 10 + (s[i] - '0');
        }
    }

    if (i == 0) {
        return "is not a duration (500ms, 2s)";
    }

    u = s + i;

    if (*u == '\0' || strcmp(u, "ms") == 0) {
        unit = 1;

    } else if (strcmp(u, "s") == 0) {
        unit = 1000;

    } else if (strcmp(u, "m") == 0) {
        unit = 60 * 1000;

    } else if (strcmp(u, "h") == 0) {
        unit = 60 * 60 * 1000;

    } else {
        return "is not a duration (500ms, 2s)";
    }

    n *= unit;

    if (n == 0 || n > FAAS_AGG_DAY) {
        return "is out of range (1ms to 1 day)";
    }

    *ms = (unsigned) n;

    return NULL;
}


static const char *
faas_agg_size(const char *s, size_t *size)
{
    size_t       i;
    uint64_t     n, unit;
    const char  *u;

    n = 0;

    for (i = 0; s[i] >= '0' && s[i] <= '9'; i++) {
        if (n < 1000000000000ULL) {
            n = n * 10 + (s[i] - '0');
        }
    }

    if (i == 0) {
        return "is not a size (64k, 1m)";
    }

    u = s + i;

    if (*u == '\0') {
        unit = 1;

    } else if ((u[0] == 'k' || u[0] == 'K') && u[1] == '\0') {
        unit = 1024;

    } else if ((u[0] == 'm' || u[0] == 'M') && u[1] == '\0') {
        unit = 1024 * 1024;

    } else {
        return "is not a size (64k, 1m)";
    }

    n *= unit;

    if (n == 0 || n > FAAS_AGG_MAX_SIZE_LIMIT) {
        return "is out of range (1 to 64m)";
    }

    *size = (size_t) n;

    return NULL;
}


static const char *
faas_agg_bool(const char *s, unsigned *on)
{
    if (strcasecmp(s, "true") == 0 || strcasecmp(s, "on") == 0
        || strcasecmp(s, "yes") == 0)
    {
        *on = 1;
        return NULL;
    }

    if (strcasecmp(s, "false") == 0 || strcasecmp(s, "off") == 0
        || strcasecmp(s, "no") == 0)
    {
        *on = 0;
        return NULL;
    }

    return "is not true or false";
}


/* the next item of "a, b c": commas and spaces both separate */

static int
faas_agg_list_next(const char **p, const char **item, size_t *len)
{
    const char  *s;

    s = *p;

    while (*s == ',' || *s == ' ' || *s == '\t') {
        s++;
    }

    if (*s == '\0') {
        *p = s;
        return 0;
    }

    *item = s;

    while (*s && *s != ',' && *s != ' ' && *s != '\t') {
        s++;
    }

    *len = s - *item;
    *p = s;

    return 1;
}


/* a name for the answer: 1 to FAAS_AGG_KEY_MAX bytes, none a control */

static int
faas_agg_member_name(const char *s)
{
    size_t  i;

    for (i = 0; s[i]; i++) {
        if ((unsigned char) s[i] < ' ' || s[i] == 0x7f) {
            return 0;
        }
    }

    return i > 0 && i <= FAAS_AGG_KEY_MAX;
}


/* compiling */

int
faas_agg_compile(faas_agg_t *agg, faas_error_t *err)
{
    size_t            i, j, norder;
    faas_agg_arg_t   *arg;
    faas_agg_call_t  *c, *o;
    unsigned char     mark[FAAS_AGG_CALLS_MAX];
    size_t            stack[FAAS_AGG_CALLS_MAX];
    char              where[FAAS_AGG_WHERE_SIZE];

    if (agg->compiled) {
        return FAAS_OK;
    }

    if (agg->ncalls == 0) {
        return faas_agg_error(err, "calls", "none: an aggregation makes at "
                              "least one call");
    }

    for (i = 0; i < agg->ncalls; i++) {
        c = agg->calls[i];
        c->deps = 0;

        snprintf(where, sizeof(where), "calls.%s", c->name);

        if ((c->set & FAAS_AGG_K_URL) && (c->set & FAAS_AGG_K_FUNCTION)) {
            return faas_agg_error(err, where, "both url and function; a "
                                  "call has one of them");
        }

        if (c->kind == 0) {
            return faas_agg_error(err, where, "no url or function");
        }

        if (faas_agg_resolve(agg, i, &c->path, err) != FAAS_OK
            || faas_agg_resolve(agg, i, &c->query, err) != FAAS_OK)
        {
            return FAAS_ERROR;
        }

        for (arg = c->args; arg; arg = arg->next) {
            if (faas_agg_resolve(agg, i, &arg->value, err) != FAAS_OK) {
                return FAAS_ERROR;
            }
        }

        for (arg = c->headers; arg; arg = arg->next) {
            if (faas_agg_resolve(agg, i, &arg->value, err) != FAAS_OK) {
                return FAAS_ERROR;
            }
        }

        for (j = 0; j < c->nstrings; j++) {
            if (faas_agg_resolve(agg, i, &c->strings[j], err) != FAAS_OK) {
                return FAAS_ERROR;
            }
        }

        if (!c->output || c->merge) {
            continue;
        }

        for (j = 0; j < i; j++) {
            o = agg->calls[j];

            if (o->output && !o->merge && strcmp(o->key, c->key) == 0) {
                snprintf(where, sizeof(where), "calls.%s.key", c->name);
                return faas_agg_error(err, where, "\"%s\" is the key of "
                                      "call %s too", c->key, o->name);
            }
        }
    }

    memset(mark, 0, sizeof(mark));
    norder = 0;

    for (i = 0; i < agg->ncalls; i++) {
        if (mark[i] == 0
            && faas_agg_visit(agg, i, mark, stack, 0, &norder, err)
               != FAAS_OK)
        {
            return FAAS_ERROR;
        }
    }

    for (i = 0; i < agg->ncalls; i++) {
        c = agg->calls[i];

        if (c->method == 0) {
            c->method = (c->body || c->forward_body) ? FAAS_METHOD_POST
                                                     : FAAS_METHOD_GET;
        }

        if (c->timeout == 0) {
            c->timeout = FAAS_AGG_CALL_TIMEOUT;
        }

        if (c->timeout > agg->timeout) {
            c->timeout = agg->timeout;
        }
    }

    agg->compiled = 1;

    return FAAS_OK;
}


/* the calls a template's holes name: known, not itself, waited for */

static int
faas_agg_resolve(faas_agg_t *agg, size_t i, faas_agg_tmpl_t *t,
    faas_error_t *err)
{
    size_t            j, k;
    faas_agg_part_t  *p;

    for (k = 0; k < t->n; k++) {
        p = &t->parts[k];

        if (p->source != FAAS_AGG_SRC_CALL) {
            continue;
        }

        for (j = 0; j < agg->ncalls; j++) {
            if (agg->calls[j]->len == p->name_len
                && memcmp(agg->calls[j]->name, p->name, p->name_len) == 0)
            {
                break;
            }
        }

        if (j == agg->ncalls) {
            return faas_agg_error(err, t->where, "%.*s names no call",
                                  (int) (p->len < FAAS_AGG_HOLE_SHOWN
                                         ? p->len : FAAS_AGG_HOLE_SHOWN),
                                  p->text);
        }

        if (j == i) {
            return faas_agg_error(err, t->where, "%.*s names the call "
                                  "itself",
                                  (int) (p->len < FAAS_AGG_HOLE_SHOWN
                                         ? p->len : FAAS_AGG_HOLE_SHOWN),
                                  p->text);
        }

        p->call = j;
        agg->calls[i]->deps |= FAAS_AGG_BIT(j);
    }

    return FAAS_OK;
}


/*
 * Depth first, dependencies before their dependents into agg->order;
 * "mark" 1: on the way (a dependency met again there is a cycle), 2:
 * done.  At most FAAS_AGG_CALLS_MAX deep.
 */

static int
faas_agg_visit(faas_agg_t *agg, size_t i, unsigned char *mark,
    size_t *stack, size_t depth, size_t *norder, faas_error_t *err)
{
    size_t  j, k, n;
    char    msg[sizeof(err->msg)];

    mark[i] = 1;
    stack[depth] = i;

    for (j = 0; j < agg->ncalls; j++) {
        if (!(agg->calls[i]->deps & FAAS_AGG_BIT(j))) {
            continue;
        }

        if (mark[j] == 1) {
            n = snprintf(msg, sizeof(msg), "calls");

            for (k = 0; stack[k] != j; k++) {
                /* void */
            }

            for ( /* void */ ; k <= depth && n < sizeof(msg); k++) {
                n += snprintf(msg + n, sizeof(msg) - n, " %s ->",
                              agg->calls[stack[k]]->name);
            }

            if (n < sizeof(msg)) {
                snprintf(msg + n, sizeof(msg) - n, " %s depend on each other",
                         agg->calls[j]->name);
            }

            faas_error_set(err, NULL, 0, 0, "%s", msg);

            return FAAS_ERROR;
        }

        if (mark[j] == 0
            && faas_agg_visit(agg, j, mark, stack, depth + 1, norder, err)
               != FAAS_OK)
        {
            return FAAS_ERROR;
        }
    }

    mark[i] = 2;
    agg->order[(*norder)++] = i;

    return FAAS_OK;
}


size_t
faas_agg_ncalls(const faas_agg_t *agg)
{
    return agg->ncalls;
}


unsigned
faas_agg_timeout(const faas_agg_t *agg)
{
    return agg->timeout;
}


size_t
faas_agg_nforward(const faas_agg_t *agg)
{
    return agg->forward_set ? agg->nforward : FAAS_AGG_NDEFAULT;
}


const char *
faas_agg_forward(const faas_agg_t *agg, size_t i)
{
    if (!agg->forward_set) {
        return (i < FAAS_AGG_NDEFAULT) ? faas_agg_default_forward[i] : NULL;
    }

    return (i < agg->nforward) ? agg->forward[i] : NULL;
}


void
faas_agg_call_info(const faas_agg_t *agg, size_t call,
    faas_agg_call_info_t *info)
{
    const faas_agg_call_t  *c;

    memset(info, 0, sizeof(faas_agg_call_info_t));

    if (call >= agg->ncalls) {
        return;
    }

    c = agg->calls[call];

    info->name = c->name;
    info->kind = c->kind;
    info->function = c->function;
    info->timeout_ms = c->timeout ? c->timeout : FAAS_AGG_CALL_TIMEOUT;
    info->max_size = c->max_size;
    info->required = c->required;
    info->forward_body = c->forward_body;

    if (info->timeout_ms > agg->timeout) {
        info->timeout_ms = agg->timeout;
    }
}


/* "where: msg" */

int
faas_agg_error(faas_error_t *err, const char *where, const char *fmt, ...)
{
    va_list  args;
    char     msg[sizeof(err->msg)];

    va_start(args, fmt);
    vsnprintf(msg, sizeof(msg), fmt, args);
    va_end(args);

    faas_error_set(err, NULL, 0, 0, "%s: %s", where, msg);

    return FAAS_ERROR;
}


/* "timeout: \"5 s\" is not a duration (500ms, 2s)": a value and why */

static int
faas_agg_bad(faas_error_t *err, const char *where, const char *value,
    const char *why)
{
    char  got[FAAS_QUOTE_SIZE];

    faas_quote(value, strlen(value), got, sizeof(got));

    return faas_agg_error(err, where, "%s %s", got, why);
}
