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


/* a dot path being followed by a shaping walk: which, and how far */

typedef struct {
    unsigned char       path;
    unsigned char       off;
} faas_agg_act_t;


/*
 * An object's members by name, so that merging or renaming in objects of
 * thousands of members (an answer may have them) is not quadratic.
 */

typedef struct {
    cJSON             **slots;          /* NULL: no index, walk instead */
    size_t              mask;
} faas_agg_index_t;


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

static int faas_agg_too_deep(const char *p, size_t len);

static int faas_agg_bad_gateway(faas_agg_run_t *run, size_t call,
    faas_agg_response_t *resp);
static int faas_agg_document(faas_agg_run_t *run, faas_agg_response_t *resp);
static int faas_agg_shape(faas_agg_run_t *run, size_t call, cJSON **value,
    const char **reason);
static cJSON *faas_agg_target(cJSON *root, const faas_agg_path_t *path);
static void faas_agg_pick(cJSON *node, const faas_agg_path_t *paths,
    const faas_agg_act_t *act, size_t n);
static void faas_agg_omit(cJSON *node, const faas_agg_path_t *paths,
    const faas_agg_act_t *act, size_t n);
static void faas_agg_rename(faas_arena_t *a, cJSON *node,
    const faas_agg_call_t *c, const faas_agg_act_t *act, size_t n);
static void faas_agg_dedup(faas_arena_t *a, cJSON *node, size_t n,
    size_t renamed);
static void faas_agg_merge(faas_arena_t *a, cJSON *dst, cJSON *src);
static void faas_agg_index(faas_arena_t *a, faas_agg_index_t *ix,
    cJSON *node, size_t n, unsigned renamed);
static cJSON **faas_agg_slot(faas_agg_index_t *ix, const char *key);
static int faas_agg_put(cJSON *root, const char *key, cJSON *value);
static int faas_agg_error_entry(cJSON **errors, const char *name,
    unsigned status, const char *reason);


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


/* JSON */

/*
 * JSON text into a tree in arena "a".  The depth is checked on the text
 * first, so that no parser or walk recurses deeper than that; "*pos" is
 * where invalid JSON went wrong.  Only white space may follow the value.
 *
 * A budget is kept short of its end while parsing, so that an answer too
 * big still leaves room to record why, and to answer without it.
 */

unsigned
faas_agg_parse(faas_arena_t *a, const char *text, size_t len, cJSON **out,
    size_t *pos)
{
    size_t         i, max, reserve;
    cJSON         *root;
    unsigned       over, grew;
    const char    *end;
    faas_arena_t  *prev;

    *out = NULL;
    *pos = 0;

    if (text == NULL || len == 0) {
        return FAAS_AGG_JSON_BAD;
    }

    if (faas_agg_too_deep(text, len)) {
        return FAAS_AGG_JSON_DEEP;
    }

    /* "over" tells this parse's failure from an earlier one's */

    over = a->over;
    a->over = 0;

    max = a->max;

    if (max) {
        reserve = (max / 4 < FAAS_AGG_RESERVE) ? max / 4 : FAAS_AGG_RESERVE;
        a->max = max - reserve;
    }

    prev = faas_json_arena(a);

    end = NULL;
    root = cJSON_ParseWithLengthOpts(text, len, &end, 0);

    faas_json_arena(prev);

    a->max = max;

    grew = a->over;
    a->over |= over;

    if (root == NULL) {
        if (grew) {
            return FAAS_AGG_JSON_BIG;
        }

        if (end != NULL && end >= text && end <= text + len) {
            *pos = end - text;
        }

        return FAAS_AGG_JSON_BAD;
    }

    for (i = end - text; i < len; i++) {
        if (text[i] != ' ' && text[i] != '\t' && text[i] != '\n'
            && text[i] != '\r')
        {
            *pos = i;
            return FAAS_AGG_JSON_BAD;
        }
    }

    *out = root;

    return FAAS_AGG_JSON_OK;
}


/*
 * Whether arrays and objects nest deeper than FAAS_AGG_DEPTH_MAX: exact
 * for valid JSON, which is all that reaches a walk, as the parser
 * refuses the rest.
 */

static int
faas_agg_too_deep(const char *p, size_t len)
{
    size_t    i, depth;
    unsigned  in_string;

    depth = 0;
    in_string = 0;

    for (i = 0; i < len; i++) {
        if (in_string) {
            if (p[i] == '\\') {
                i++;

            } else if (p[i] == '"') {
                in_string = 0;
            }

            continue;
        }

        switch (p[i]) {

        case '"':
            in_string = 1;
            break;

        case '[':
        case '{':
            if (++depth > FAAS_AGG_DEPTH_MAX) {
                return 1;
            }

            break;

        case ']':
        case '}':
            if (depth) {
                depth--;
            }

            break;
        }
    }

    return 0;
}


/* the answer */

int
faas_agg_response(faas_agg_run_t *run, faas_agg_response_t *resp)
{
    int            rc, bad;
    size_t         i;
    faas_arena_t  *prev;

    /*
     * Made once: shaping takes the answers apart, so that the document
     * costs no copy of them.
     */

    if (run->responded) {
        *resp = run->resp;
        return FAAS_OK;
    }

    if (run->response_failed) {
        return FAAS_ERROR;
    }

    memset(resp, 0, sizeof(faas_agg_response_t));

    bad = faas_agg_required_failed(run);

    for (i = 0; bad < 0 && i < run->agg->ncalls; i++) {
        if (run->agg->calls[i]->required
            && run->calls[i].state != FAAS_AGG_ANSWERED)
        {
            bad = (int) i;
        }
    }

    prev = faas_json_arena(run->arena);

    if (bad >= 0) {
        rc = faas_agg_bad_gateway(run, bad, resp);

    } else {
        rc = faas_agg_document(run, resp);
    }

    faas_json_arena(prev);

    if (rc != FAAS_OK) {
        run->response_failed = 1;
        memset(resp, 0, sizeof(faas_agg_response_t));
        return FAAS_ERROR;
    }

    run->resp = *resp;
    run->responded = 1;

    return FAAS_OK;
}


/* {"error":"call NAME failed: REASON","call":...,"status":...,...} */

static int
faas_agg_bad_gateway(faas_agg_run_t *run, size_t call,
    faas_agg_response_t *resp)
{
    char                    *text;
    size_t                   len;
    cJSON                   *root;
    const char              *reason;
    faas_agg_state_t        *st;
    const faas_agg_call_t   *c;

    st = &run->calls[call];
    c = run->agg->calls[call];

    reason = (st->state == FAAS_AGG_FAILED) ? st->reason : "not finished";

    len = sizeof("call  failed: ") + c->len + strlen(reason);

    text = faas_arena_alloc(run->arena, len);
    root = cJSON_CreateObject();

    if (text == NULL || root == NULL) {
        return FAAS_ERROR;
    }

    snprintf(text, len, "call %s failed: %s", c->name, reason);

    if (cJSON_AddStringToObject(root, "error", text) == NULL
        || cJSON_AddStringToObject(root, "call", c->name) == NULL
        || (st->state == FAAS_AGG_FAILED && st->status
            && cJSON_AddNumberToObject(root, "status", st->status) == NULL)
        || cJSON_AddStringToObject(root, "reason", reason) == NULL
        || (run->in.trace_id
            && cJSON_AddStringToObject(root, "trace_id", run->in.trace_id)
               == NULL))
    {
        return FAAS_ERROR;
    }

    resp->body = cJSON_PrintUnformatted(root);
    if (resp->body == NULL) {
        return FAAS_ERROR;
    }

    resp->len = strlen(resp->body);
    resp->status = 502;
    resp->complete = 0;

    return FAAS_OK;
}


/*
 * The document: each call's value, in the order of the declaration,
 * under its key or merged into the top; then "errors", when any call
 * failed.
 */

static int
faas_agg_document(faas_agg_run_t *run, faas_agg_response_t *resp)
{
    size_t                  i;
    cJSON                  *root, *errors, *value, *old;
    unsigned                status;
    const char             *reason;
    faas_agg_state_t       *st;
    const faas_agg_call_t  *c;

    root = cJSON_CreateObject();
    if (root == NULL) {
        return FAAS_ERROR;
    }

    errors = NULL;

    for (i = 0; i < run->agg->ncalls; i++) {
        st = &run->calls[i];
        c = run->agg->calls[i];

        value = NULL;
        reason = NULL;
        status = st->status;

        if (st->state == FAAS_AGG_ANSWERED) {
            value = st->result;

            if (c->output
                && faas_agg_shape(run, i, &value, &reason) != FAAS_OK)
            {
                return FAAS_ERROR;
            }

        } else if (st->state == FAAS_AGG_FAILED) {
            reason = st->reason;

        } else {
            reason = "not finished";
            status = 0;
        }

        if (reason
            && faas_agg_error_entry(&errors, c->name, status, reason)
               != FAAS_OK)
        {
            return FAAS_ERROR;
        }

        if (!c->output) {
            continue;
        }

        if (value == NULL) {
            value = cJSON_CreateNull();
            if (value == NULL) {
                return FAAS_ERROR;
            }
        }

        if (c->merge && cJSON_IsObject(value)) {
            faas_agg_merge(run->arena, root, value);
            continue;
        }

        if (faas_agg_put(root, c->key, value) != FAAS_OK) {
            return FAAS_ERROR;
        }
    }

    if (errors) {

        /* a merged answer's "errors" gives way to the answer's own */

        old = cJSON_GetObjectItemCaseSensitive(root, "errors");

        if (old) {
            cJSON_DetachItemViaPointer(root, old);
        }

        if (!cJSON_AddItemToObjectCS(root, "errors", errors)) {
            return FAAS_ERROR;
        }
    }

    resp->body = cJSON_PrintUnformatted(root);
    if (resp->body == NULL) {
        return FAAS_ERROR;
    }

    resp->len = strlen(resp->body);
    resp->status = 200;
    resp->complete = (errors == NULL);

    return FAAS_OK;
}


static int
faas_agg_error_entry(cJSON **errors, const char *name, unsigned status,
    const char *reason)
{
    cJSON  *e;

    if (*errors == NULL) {
        *errors = cJSON_CreateArray();
        if (*errors == NULL) {
            return FAAS_ERROR;
        }
    }

    e = cJSON_CreateObject();

    if (e == NULL
        || !cJSON_AddItemToArray(*errors, e)
        || !cJSON_AddItemToObjectCS(e, "call",
                                    cJSON_CreateStringReference(name))
        || (status
            && !cJSON_AddItemToObjectCS(e, "status",
                                        cJSON_CreateNumber(status)))
        || !cJSON_AddItemToObjectCS(e, "reason",
                                    cJSON_CreateStringReference(reason)))
    {
        return FAAS_ERROR;
    }

    return FAAS_OK;
}


/*
 * target, then pick, omit, rename; a value that is an array has them
 * applied to each of its objects.  A target that is not there leaves
 * null and a reason for "errors".
 */

static int
faas_agg_shape(faas_agg_run_t *run, size_t call, cJSON **value,
    const char **reason)
{
    char                   *buf;
    size_t                  i, len;
    cJSON                  *v;
    const faas_agg_call_t  *c;
    faas_agg_act_t          act[FAAS_AGG_PATHS_MAX];

    c = run->agg->calls[call];
    v = *value;

    if (c->target.n) {
        v = faas_agg_target(v, &c->target);

        if (v == NULL) {
            len = sizeof("target : no such field") + strlen(c->target.text);

            buf = faas_arena_alloc(run->arena, len);
            if (buf == NULL) {
                return FAAS_ERROR;
            }

            snprintf(buf, len, "target %s: no such field", c->target.text);

            *reason = buf;
            *value = NULL;

            return FAAS_OK;
        }
    }

    if (c->npick) {
        for (i = 0; i < c->npick; i++) {
            act[i].path = i;
            act[i].off = 0;
        }

        faas_agg_pick(v, c->pick, act, c->npick);
    }

    if (c->nomit) {
        for (i = 0; i < c->nomit; i++) {
            act[i].path = i;
            act[i].off = 0;
        }

        faas_agg_omit(v, c->omit, act, c->nomit);
    }

    if (c->nrenames) {
        for (i = 0; i < c->nrenames; i++) {
            act[i].path = i;
            act[i].off = 0;
        }

        faas_agg_rename(run->arena, v, c, act, c->nrenames);
    }

    *value = v;

    return FAAS_OK;
}


/* the node at "path", taken out of its tree; NULL when it is not there */

const cJSON *
faas_agg_target_find(cJSON *root, const faas_agg_path_t *path)
{
    size_t   i;
    cJSON   *node;

    node = root;

    for (i = 0; node && i < path->n; i++) {
        node = faas_agg_step(node, &path->segs[i]);
    }

    return node;
}


static cJSON *
faas_agg_target(cJSON *root, const faas_agg_path_t *path)
{
    size_t   i;
    cJSON   *node, *next;

    node = root;

    for (i = 0; i < path->n; i++) {
        next = faas_agg_step(node, &path->segs[i]);
        if (next == NULL) {
            return NULL;
        }

        if (i == path->n - 1) {
            return cJSON_DetachItemViaPointer(node, next);
        }

        node = next;
    }

    return root;
}


/* one step down: a member by its name, an element by its index */

cJSON *
faas_agg_step(cJSON *node, const faas_agg_seg_t *seg)
{
    if (cJSON_IsObject(node)) {
        return cJSON_GetObjectItemCaseSensitive(node, seg->name);
    }

    if (cJSON_IsArray(node) && seg->index >= 0) {
        return cJSON_GetArrayItem(node, (int) seg->index);
    }

    return NULL;
}


/*
 * The shaping walks follow several paths at once: act[] holds each
 * path's next step.  In an object, a step names a member.  In an array,
 * a step of digits names an element, and a step of a name is for each
 * element, so that "items.id" reaches the id of every item; such a
 * step goes down a level of the tree without being used, which bounds
 * the recursion by the tree's depth, not the path's.
 */

static void
faas_agg_pick(cJSON *node, const faas_agg_path_t *paths,
    const faas_agg_act_t *act, size_t n)
{
    long                   index;
    size_t                 k, m;
    cJSON                 *item, *next;
    unsigned               whole, hit, box;
    const faas_agg_seg_t  *seg;
    faas_agg_act_t         sub[FAAS_AGG_PATHS_MAX];

    if (cJSON_IsObject(node)) {
        for (item = node->child; item; item = next) {
            next = item->next;
            whole = 0;
            m = 0;

            for (k = 0; k < n; k++) {
                seg = &paths[act[k].path].segs[act[k].off];

                if (strcmp(seg->name, item->string) != 0) {
                    continue;
                }

                if (act[k].off + 1u == paths[act[k].path].n) {
                    whole = 1;
                    break;
                }

                sub[m].path = act[k].path;
                sub[m].off = act[k].off + 1;
                m++;
            }

            if (whole) {
                continue;
            }

            if (m && (cJSON_IsObject(item) || cJSON_IsArray(item))) {
                faas_agg_pick(item, paths, sub, m);
                continue;
            }

            cJSON_DetachItemViaPointer(node, item);
        }

        return;
    }

    if (!cJSON_IsArray(node)) {
        return;
    }

    for (item = node->child, index = 0; item; item = next, index++) {
        next = item->next;
        box = cJSON_IsObject(item) || cJSON_IsArray(item);
        whole = 0;
        hit = 0;
        m = 0;

        for (k = 0; k < n; k++) {
            seg = &paths[act[k].path].segs[act[k].off];

            if (seg->index < 0) {
                sub[m++] = act[k];
                continue;
            }

            if (seg->index != index) {
                continue;
            }

            hit = 1;

            if (act[k].off + 1u == paths[act[k].path].n) {
                whole = 1;
                break;
            }

            sub[m].path = act[k].path;
            sub[m].off = act[k].off + 1;
            m++;
        }

        if (whole) {
            continue;
        }

        if (box && m) {
            faas_agg_pick(item, paths, sub, m);
            continue;
        }

        /* an index not asked for; a path that goes on into a scalar */

        if (m == 0 || hit) {
            cJSON_DetachItemViaPointer(node, item);
        }
    }
}


static void
faas_agg_omit(cJSON *node, const faas_agg_path_t *paths,
    const faas_agg_act_t *act, size_t n)
{
    long                   index;
    size_t                 k, m;
    cJSON                 *item, *next;
    unsigned               whole, object;
    const faas_agg_seg_t  *seg;
    faas_agg_act_t         sub[FAAS_AGG_PATHS_MAX];

    object = cJSON_IsObject(node);

    if (!object && !cJSON_IsArray(node)) {
        return;
    }

    for (item = node->child, index = 0; item; item = next, index++) {
        next = item->next;
        whole = 0;
        m = 0;

        for (k = 0; k < n; k++) {
            seg = &paths[act[k].path].segs[act[k].off];

            if (!object && seg->index < 0) {
                sub[m++] = act[k];
                continue;
            }

            if (object ? strcmp(seg->name, item->string) != 0
                       : seg->index != index)
            {
                continue;
            }

            if (act[k].off + 1u == paths[act[k].path].n) {
                whole = 1;
                break;
            }

            sub[m].path = act[k].path;
            sub[m].off = act[k].off + 1;
            m++;
        }

        if (whole) {
            cJSON_DetachItemViaPointer(node, item);
            continue;
        }

        if (m && (cJSON_IsObject(item) || cJSON_IsArray(item))) {
            faas_agg_omit(item, paths, sub, m);
        }
    }
}


/*
 * A member renamed takes the place of one of that name already there,
 * once the object is done, so that "a: b" and "b: a" swap them.  The
 * renamed are marked with cJSON_StringIsConst: their names are the
 * declaration's.
 */

static void
faas_agg_rename(faas_arena_t *a, cJSON *node, const faas_agg_call_t *c,
    const faas_agg_act_t *act, size_t n)
{
    long                   index;
    size_t                 k, m, renamed;
    cJSON                 *item;
    unsigned               object;
    const char            *to;
    const faas_agg_seg_t  *seg;
    faas_agg_act_t         sub[FAAS_AGG_PATHS_MAX];

    object = cJSON_IsObject(node);

    if (!object && !cJSON_IsArray(node)) {
        return;
    }

    renamed = 0;

    for (item = node->child, index = 0; item; item = item->next, index++) {
        to = NULL;
        m = 0;

        for (k = 0; k < n; k++) {
            seg = &c->renames[act[k].path].segs[act[k].off];

            if (!object && seg->index < 0) {
                sub[m++] = act[k];
                continue;
            }

            if (object ? strcmp(seg->name, item->string) != 0
                       : seg->index != index)
            {
                continue;
            }

            if (act[k].off + 1u == c->renames[act[k].path].n) {

                /* an element has no name to change */

                if (object && to == NULL) {
                    to = c->rename_to[act[k].path];
                }

                continue;
            }

            sub[m].path = act[k].path;
            sub[m].off = act[k].off + 1;
            m++;
        }

        if (m && (cJSON_IsObject(item) || cJSON_IsArray(item))) {
            faas_agg_rename(a, item, c, sub, m);
        }

        if (to && strcmp(to, item->string) != 0) {
            item->string = (char *) to;
            item->type |= cJSON_StringIsConst;
            renamed++;
        }
    }

    if (renamed) {
        faas_agg_dedup(a, node, (size_t) index, renamed);
    }
}


/* the members not renamed that have the name of one renamed go */

static void
faas_agg_dedup(faas_arena_t *a, cJSON *node, size_t n, size_t renamed)
{
    cJSON             *item, *other, *next, **slot;
    faas_agg_index_t   ix;

    ix.slots = NULL;

    if (n * renamed > 4096) {
        faas_agg_index(a, &ix, node, renamed, 1);
    }

    if (ix.slots) {
        for (other = node->child; other; other = next) {
            next = other->next;

            if (other->type & cJSON_StringIsConst) {
                continue;
            }

            slot = faas_agg_slot(&ix, other->string);

            if (*slot) {
                cJSON_DetachItemViaPointer(node, other);
            }
        }

        return;
    }

    for (item = node->child; item; item = item->next) {
        if (!(item->type & cJSON_StringIsConst)) {
            continue;
        }

        for (other = node->child; other; other = next) {
            next = other->next;

            if (other != item && !(other->type & cJSON_StringIsConst)
                && strcmp(other->string, item->string) == 0)
            {
                cJSON_DetachItemViaPointer(node, other);
            }
        }
    }
}


/*
 * "src" into "dst": objects in both merge, anything else of "src" takes
 * the place of what "dst" has under its name; arrays are values, not
 * concatenated.  "src" is taken apart.  Only the members "dst" had are
 * looked for: what comes from "src" is added after them.
 */

static void
faas_agg_merge(faas_arena_t *a, cJSON *dst, cJSON *src)
{
    size_t             n, m;
    cJSON             *item, *old, *last, **slot;
    faas_agg_index_t   ix;

    n = 0;
    m = 0;

    for (item = dst->child; item; item = item->next) {
        n++;
    }

    for (item = src->child; item; item = item->next) {
        m++;
    }

    last = dst->child ? dst->child->prev : NULL;

    ix.slots = NULL;

    if (n * m > 4096) {
        faas_agg_index(a, &ix, dst, n, 0);
    }

    while ((item = src->child) != NULL) {
        cJSON_DetachItemViaPointer(src, item);

        slot = NULL;
        old = NULL;

        if (ix.slots) {
            slot = faas_agg_slot(&ix, item->string);
            old = *slot;

        } else if (last) {
            for (old = dst->child; old; old = old->next) {
                if (strcmp(old->string, item->string) == 0) {
                    break;
                }

                if (old == last) {
                    old = NULL;
                    break;
                }
            }
        }

        if (old == NULL) {

            /* appended with the name it has */

            cJSON_AddItemToArray(dst, item);
            continue;
        }

        if (cJSON_IsObject(old) && cJSON_IsObject(item)) {
            faas_agg_merge(a, old, item);
            continue;
        }

        if (old == last) {
            last = item;
        }

        cJSON_ReplaceItemViaPointer(dst, old, item);

        if (slot) {
            *slot = item;
        }
    }
}


/*
 * An index of room for "n" members of "node", the first of each name;
 * "renamed": of those marked renamed only.  No index (ix->slots NULL)
 * when there is no memory for one: the callers walk instead.
 */

static void
faas_agg_index(faas_arena_t *a, faas_agg_index_t *ix, cJSON *node,
    size_t n, unsigned renamed)
{
    size_t   size;
    cJSON   *item, **slot;

    ix->slots = NULL;

    for (size = 16; size < n + n / 2 + 1; size *= 2) {
        /* void */
    }

    ix->slots = faas_arena_alloc(a, size * sizeof(cJSON *));
    if (ix->slots == NULL) {
        return;
    }

    ix->mask = size - 1;

    for (item = node->child; item; item = item->next) {
        if (renamed && !(item->type & cJSON_StringIsConst)) {
            continue;
        }

        slot = faas_agg_slot(ix, item->string);

        if (*slot == NULL) {
            *slot = item;
        }
    }
}


/* the slot of a name, or the empty one where it would go (FNV-1a) */

static cJSON **
faas_agg_slot(faas_agg_index_t *ix, const char *key)
{
    size_t                i;
    uint64_t              h;
    const unsigned char  *p;

    h = 0xcbf29ce484222325ULL;

    for (p = (const unsigned char *) key; *p; p++) {
        h = (h ^ *p) * 0x100000001b3ULL;
    }

    for (i = h & ix->mask; ix->slots[i]; i = (i + 1) & ix->mask) {
        if (strcmp(ix->slots[i]->string, key) == 0) {
            break;
        }
    }

    return &ix->slots[i];
}


/* root[key] = value, in the place of one there, else at the end */

static int
faas_agg_put(cJSON *root, const char *key, cJSON *value)
{
    cJSON  *old;

    old = cJSON_GetObjectItemCaseSensitive(root, key);

    value->string = (char *) key;
    value->type |= cJSON_StringIsConst;

    if (old) {
        return cJSON_ReplaceItemViaPointer(root, old, value)
               ? FAAS_OK : FAAS_ERROR;
    }

    return cJSON_AddItemToArray(root, value) ? FAAS_OK : FAAS_ERROR;
}
