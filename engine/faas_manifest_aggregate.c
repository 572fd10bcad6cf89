/*
 * Copyright (C) ngx_faas authors
 *
 * f.yml's aggregate: section (an ngx_faas extension) read into an
 * aggregation through the engine's setters, and its body written as
 * JSON text from the YAML tree.
 */


#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faas_manifest_int.h"


/* an aggregate's JSON body, as it is written */
typedef struct {
    char              *data;
    size_t             len;
    size_t             size;
    faas_ynode_t      *node;       /* "body", for a message */
} faas_text_t;


static int faas_read_agg_calls(faas_ctx_t *ctx, faas_ynode_t *node,
    faas_agg_t *agg);
static int faas_read_agg_key(faas_ctx_t *ctx, faas_agg_t *agg, int call,
    faas_ynode_t *key, faas_ynode_t *value);
static int faas_read_agg_map(faas_ctx_t *ctx, faas_agg_t *agg, int call,
    faas_ynode_t *key, faas_ynode_t *value);
static int faas_read_agg_body(faas_ctx_t *ctx, faas_agg_t *agg, int call,
    faas_ynode_t *value);
static int faas_read_agg_put(faas_ctx_t *ctx, faas_agg_t *agg, int call,
    const char *key, faas_ynode_t *node, const char *value);
static int faas_read_agg_fail(faas_ctx_t *ctx, faas_ynode_t *node,
    faas_error_t *aerr);
static int faas_yjson_value(faas_ctx_t *ctx, faas_text_t *t,
    faas_ynode_t *node);
static int faas_yjson_scalar(faas_ctx_t *ctx, faas_text_t *t,
    faas_ynode_t *node);
static int faas_yjson_number(faas_ctx_t *ctx, faas_text_t *t,
    faas_ynode_t *node);
static int faas_yjson_string(faas_ctx_t *ctx, faas_text_t *t, const char *s,
    size_t len);
static int faas_text_add(faas_ctx_t *ctx, faas_text_t *t, const char *s,
    size_t len);


/*
 * aggregate: (an ngx_faas extension) the declaration is built through the
 * engine's setters, which nginx.conf's directives use too: every value
 * goes as text, lists one item per call, mappings one "KEY.NAME" per
 * entry.  The setters know the keys and their values; a message of
 * theirs gets the place of the node it came from.
 */

int
faas_read_aggregate(faas_ctx_t *ctx, faas_ynode_t *key, faas_ynode_t *node,
    faas_function_t *fn)
{
    int            rc;
    size_t         kp;
    faas_agg_t    *agg;
    faas_error_t   aerr;
    faas_ynode_t  *k, *v, *calls;
    char           got[FAAS_QUOTE_SIZE];

    if (node->type != FAAS_Y_MAPPING) {
        return faas_fail(ctx, node, "expected a mapping with \"calls\", "
                         "got %s", faas_describe(node, got, sizeof(got)));
    }

    agg = faas_agg_create();
    if (agg == NULL) {
        return faas_nomem(ctx, NULL);
    }

    /* the manifest frees it from now on, whatever happens */

    fn->aggregate = agg;
    ctx->agg_path = ctx->path_len;

    calls = NULL;

    for (k = node->child; k && k->next; k = k->next->next) {
        v = k->next;
        kp = ctx->path_len;
        faas_path_key(ctx, k->value, k->len);

        if (faas_key_is(k, "calls")) {
            rc = faas_read_agg_calls(ctx, v, agg);
            calls = v;

        } else {
            rc = faas_read_agg_key(ctx, agg, -1, k, v);
        }

        if (rc != FAAS_OK) {
            return FAAS_ERROR;
        }

        faas_path_pop(ctx, kp);
    }

    if (calls == NULL) {
        return faas_fail(ctx, key, "no \"calls\": an aggregate makes at "
                         "least one call");
    }

    memset(&aerr, 0, sizeof(faas_error_t));

    if (faas_agg_compile(agg, &aerr) != FAAS_OK) {
        return faas_read_agg_fail(ctx, key, &aerr);
    }

    return FAAS_OK;
}


/* calls: a mapping, in the order written */

static int
faas_read_agg_calls(faas_ctx_t *ctx, faas_ynode_t *node, faas_agg_t *agg)
{
    int            call;
    size_t         kp, vp;
    faas_error_t   aerr;
    faas_ynode_t  *c, *k, *v;
    char           got[FAAS_QUOTE_SIZE];

    if (node->type != FAAS_Y_MAPPING || node->n == 0) {
        return faas_fail(ctx, node, "expected a mapping of calls like "
                         "\"user: {url: /backend/users}\", got %s",
                         faas_describe(node, got, sizeof(got)));
    }

    for (c = node->child; c && c->next; c = c->next->next) {
        kp = ctx->path_len;
        faas_path_key(ctx, c->value, c->len);

        if (strlen(c->value) != c->len) {
            return faas_fail(ctx, c, "contains a NUL character");
        }

        memset(&aerr, 0, sizeof(faas_error_t));

        call = faas_agg_call_add(agg, c->value, &aerr);
        if (call < 0) {
            return faas_read_agg_fail(ctx, c, &aerr);
        }

        v = c->next;

        if (v->type != FAAS_Y_MAPPING) {
            return faas_fail(ctx, v, "expected a mapping like "
                             "{url: /backend/x} or {function: name}, "
                             "got %s", faas_describe(v, got, sizeof(got)));
        }

        for (k = v->child; k && k->next; k = k->next->next) {
            vp = ctx->path_len;
            faas_path_key(ctx, k->value, k->len);

            if (faas_read_agg_key(ctx, agg, call, k, k->next) != FAAS_OK) {
                return FAAS_ERROR;
            }

            faas_path_pop(ctx, vp);
        }

        faas_path_pop(ctx, kp);
    }

    return FAAS_OK;
}


/* one key of the aggregate (call -1) or of a call, by the value's shape */

static int
faas_read_agg_key(faas_ctx_t *ctx, faas_agg_t *agg, int call,
    faas_ynode_t *key, faas_ynode_t *value)
{
    int            list;
    size_t         i, kp;
    faas_ynode_t  *item;
    char           got[FAAS_QUOTE_SIZE];

    if (strlen(key->value) != key->len) {
        return faas_fail(ctx, key, "contains a NUL character");
    }

    if (call >= 0) {
        if (faas_key_is(key, "body")) {
            return faas_read_agg_body(ctx, agg, call, value);
        }

        if (faas_key_is(key, "query") || faas_key_is(key, "header")
            || faas_key_is(key, "rename"))
        {
            return faas_read_agg_map(ctx, agg, call, key, value);
        }

        list = faas_key_is(key, "pick") || faas_key_is(key, "omit");

    } else {
        list = faas_key_is(key, "forward_headers");
    }

    /* an empty value leaves the default, as everywhere in f.yml */

    if (faas_is_null(value)) {
        return FAAS_OK;
    }

    if (value->type == FAAS_Y_SCALAR) {
        return faas_read_agg_put(ctx, agg, call, key->value, value, NULL);
    }

    if (!list || value->type != FAAS_Y_SEQUENCE) {
        return faas_fail(ctx, value, "expected %s, got %s",
                         list ? "a list of names" : "a single value",
                         faas_describe(value, got, sizeof(got)));
    }

    /* "forward_headers: []" forwards none, where empty is the default */

    if (value->n == 0 && call < 0) {
        return faas_read_agg_put(ctx, agg, call, key->value, value, "");
    }

    for (i = 0, item = value->child; item; item = item->next, i++) {
        kp = faas_path_push(ctx, "[%zu]", i);

        if (item->type != FAAS_Y_SCALAR) {
            return faas_fail(ctx, item, "expected a name, got %s",
                             faas_describe(item, got, sizeof(got)));
        }

        if (faas_read_agg_put(ctx, agg, call, key->value, item, NULL)
            != FAAS_OK)
        {
            return FAAS_ERROR;
        }

        faas_path_pop(ctx, kp);
    }

    return FAAS_OK;
}


/* query, header, rename: a mapping, one "KEY.NAME" per entry */

static int
faas_read_agg_map(faas_ctx_t *ctx, faas_agg_t *agg, int call,
    faas_ynode_t *key, faas_ynode_t *value)
{
    char          *name;
    size_t         kp;
    faas_ynode_t  *k, *v;
    char           got[FAAS_QUOTE_SIZE];

    if (faas_is_null(value)) {
        return FAAS_OK;
    }

    if (value->type != FAAS_Y_MAPPING) {
        return faas_fail(ctx, value, "expected a mapping like "
                         "{name: value}, got %s",
                         faas_describe(value, got, sizeof(got)));
    }

    for (k = value->child; k && k->next; k = k->next->next) {
        v = k->next;
        kp = ctx->path_len;
        faas_path_key(ctx, k->value, k->len);

        if (strlen(k->value) != k->len) {
            return faas_fail(ctx, k, "contains a NUL character");
        }

        if (v->type != FAAS_Y_SCALAR) {
            return faas_fail(ctx, v, "expected a single value, got %s",
                             faas_describe(v, got, sizeof(got)));
        }

        name = faas_arena_alloc(ctx->tree, key->len + 1 + k->len + 1);
        if (name == NULL) {
            return faas_nomem(ctx, ctx->tree);
        }

        memcpy(name, key->value, key->len);
        name[key->len] = '.';
        memcpy(name + key->len + 1, k->value, k->len + 1);

        /* here an empty value is an empty text: "?debug=" */

        if (faas_read_agg_put(ctx, agg, call, name, v,
                         faas_is_null(v) ? "" : NULL)
            != FAAS_OK)
        {
            return FAAS_ERROR;
        }

        faas_path_pop(ctx, kp);
    }

    return FAAS_OK;
}


/*
 * body: a text ("forward", or JSON written as a string) as it is; a
 * mapping or a sequence as JSON, typed as js-yaml would read it: plain
 * numbers, true/false and null keep their type, quoted scalars are
 * strings (so is "{user.id}", which the engine then fills with the
 * value's own type).
 */

static int
faas_read_agg_body(faas_ctx_t *ctx, faas_agg_t *agg, int call,
    faas_ynode_t *value)
{
    int          rc;
    faas_text_t  t;

    if (faas_is_null(value)) {
        return FAAS_OK;
    }

    if (value->type == FAAS_Y_SCALAR) {
        return faas_read_agg_put(ctx, agg, call, "body", value, NULL);
    }

    memset(&t, 0, sizeof(faas_text_t));
    t.node = value;

    rc = faas_yjson_value(ctx, &t, value);

    if (rc == FAAS_OK) {
        rc = faas_text_add(ctx, &t, "", 1);
    }

    if (rc == FAAS_OK) {
        rc = faas_read_agg_put(ctx, agg, call, "body", value, t.data);
    }

    free(t.data);

    return rc;
}


/* "value" NULL: the node's text */

static int
faas_read_agg_put(faas_ctx_t *ctx, faas_agg_t *agg, int call, const char *key,
    faas_ynode_t *node, const char *value)
{
    int           rc, on;
    faas_error_t  aerr;

    if (value == NULL) {
        if (strlen(node->value) != node->len) {
            return faas_fail(ctx, node, "contains a NUL character");
        }

        /* True, TRUE: the setters take true/false, on/off, yes/no */

        if (faas_is_bool(node, &on)) {
            value = on ? "true" : "false";

        } else {
            value = node->value;
        }
    }

    memset(&aerr, 0, sizeof(faas_error_t));

    if (call < 0) {
        rc = faas_agg_set(agg, key, value, &aerr);

    } else {
        rc = faas_agg_call_set(agg, call, key, value, &aerr);
    }

    if (rc != FAAS_OK) {
        return faas_read_agg_fail(ctx, node, &aerr);
    }

    return FAAS_OK;
}


/*
 * The setters' messages start with the key, from the aggregate down
 * ("calls.user.timeout: ..."), which continues the function's path:
 * "functions.page.aggregate.calls.user.timeout: ...".  A message that
 * does not ("calls a -> b -> a depend on each other") follows it.
 */

static int
faas_read_agg_fail(faas_ctx_t *ctx, faas_ynode_t *node, faas_error_t *aerr)
{
    size_t       len;
    const char  *msg, *colon;

    faas_path_pop(ctx, ctx->agg_path);

    msg = aerr->msg[0] ? aerr->msg : "invalid";

    colon = strstr(msg, ": ");
    len = colon ? (size_t) (colon - msg) : 0;

    if (len == 0 || memchr(msg, ' ', len) != NULL) {
        return faas_fail(ctx, node, "%s", msg);
    }

    faas_error_set(ctx->err, ctx->file, node->line, node->column, "%s.%s",
                   ctx->path, msg);

    return FAAS_ERROR;
}


/* YAML into JSON text; the tree is at most FAAS_DEPTH_MAX deep */

static int
faas_yjson_value(faas_ctx_t *ctx, faas_text_t *t, faas_ynode_t *node)
{
    size_t         i, kp;
    faas_ynode_t  *k;

    switch (node->type) {

    case FAAS_Y_MAPPING:
        if (faas_text_add(ctx, t, "{", 1) != FAAS_OK) {
            return FAAS_ERROR;
        }

        for (k = node->child; k && k->next; k = k->next->next) {
            kp = ctx->path_len;
            faas_path_key(ctx, k->value, k->len);

            if ((k != node->child && faas_text_add(ctx, t, ",", 1) != FAAS_OK)
                || faas_yjson_string(ctx, t, k->value, k->len) != FAAS_OK
                || faas_text_add(ctx, t, ":", 1) != FAAS_OK
                || faas_yjson_value(ctx, t, k->next) != FAAS_OK)
            {
                return FAAS_ERROR;
            }

            faas_path_pop(ctx, kp);
        }

        return faas_text_add(ctx, t, "}", 1);

    case FAAS_Y_SEQUENCE:
        if (faas_text_add(ctx, t, "[", 1) != FAAS_OK) {
            return FAAS_ERROR;
        }

        for (i = 0, k = node->child; k; k = k->next, i++) {
            kp = faas_path_push(ctx, "[%zu]", i);

            if ((i && faas_text_add(ctx, t, ",", 1) != FAAS_OK)
                || faas_yjson_value(ctx, t, k) != FAAS_OK)
            {
                return FAAS_ERROR;
            }

            faas_path_pop(ctx, kp);
        }

        return faas_text_add(ctx, t, "]", 1);

    default:
        return faas_yjson_scalar(ctx, t, node);
    }
}


static int
faas_yjson_scalar(faas_ctx_t *ctx, faas_text_t *t, faas_ynode_t *node)
{
    int  on;

    if (faas_is_null(node)) {
        return faas_text_add(ctx, t, "null", 4);
    }

    if (faas_is_bool(node, &on)) {
        return on ? faas_text_add(ctx, t, "true", 4)
                  : faas_text_add(ctx, t, "false", 5);
    }

    if (node->plain) {
        switch (faas_yjson_number(ctx, t, node)) {

        case FAAS_OK:
            return FAAS_OK;

        case FAAS_ERROR:
            return FAAS_ERROR;

        default:
            break;
        }
    }

    return faas_yjson_string(ctx, t, node->value, node->len);
}


/*
 * A plain scalar that the YAML 1.2 core schema reads as a number, as
 * JSON writes it: "+1" is 1, "007" is 7, ".5" is 0.5, "0x1F" is 31,
 * "0o17" is 15.  FAAS_AGAIN when it is not a number.
 */

static int
faas_yjson_number(faas_ctx_t *ctx, faas_text_t *t, faas_ynode_t *node)
{
    int                  base;
    char                *end;
    size_t               i, len, int_start, int_end, frac_start, frac_end;
    const char          *s;
    unsigned long long   n;
    char                 buf[32], got[FAAS_QUOTE_SIZE];

    s = node->value;
    len = node->len;

    if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'o')) {
        base = (s[1] == 'x') ? 16 : 8;

        for (i = 2; i < len; i++) {
            if (!(base == 16 ? (s[i] >= '0' && s[i] <= '9')
                               || (s[i] >= 'a' && s[i] <= 'f')
                               || (s[i] >= 'A' && s[i] <= 'F')
                             : (s[i] >= '0' && s[i] <= '7')))
            {
                return FAAS_AGAIN;
            }
        }

        errno = 0;
        n = strtoull(s + 2, &end, base);

        if (errno == ERANGE) {
            faas_quote(s, len, got, sizeof(got));
            return faas_fail(ctx, node, "the number %s is too large", got);
        }

        snprintf(buf, sizeof(buf), "%llu", n);

        return faas_text_add(ctx, t, buf, strlen(buf));
    }

    i = (len && (s[0] == '-' || s[0] == '+')) ? 1 : 0;

    /* .inf, .nan: numbers to YAML, nothing JSON can hold */

    if ((len - i == 4 && (strcmp(s + i, ".inf") == 0
                          || strcmp(s + i, ".Inf") == 0
                          || strcmp(s + i, ".INF") == 0))
        || (len == 4 && (strcmp(s, ".nan") == 0 || strcmp(s, ".NaN") == 0
                         || strcmp(s, ".NAN") == 0)))
    {
        faas_quote(s, len, got, sizeof(got));
        return faas_fail(ctx, node, "%s is a number JSON cannot hold; "
                         "quote it for a string", got);
    }

    int_start = i;

    while (i < len && s[i] >= '0' && s[i] <= '9') {
        i++;
    }

    int_end = i;
    frac_start = i;
    frac_end = i;

    if (i < len && s[i] == '.') {
        frac_start = ++i;

        while (i < len && s[i] >= '0' && s[i] <= '9') {
            i++;
        }

        frac_end = i;
    }

    if (int_end == int_start && frac_end == frac_start) {
        return FAAS_AGAIN;
    }

    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;

        if (i < len && (s[i] == '-' || s[i] == '+')) {
            i++;
        }

        if (i == len || s[i] < '0' || s[i] > '9') {
            return FAAS_AGAIN;
        }

        while (i < len && s[i] >= '0' && s[i] <= '9') {
            i++;
        }
    }

    if (i != len) {
        return FAAS_AGAIN;
    }

    /* the same value, in JSON's grammar */

    if (s[0] == '-' && faas_text_add(ctx, t, "-", 1) != FAAS_OK) {
        return FAAS_ERROR;
    }

    while (int_start + 1 < int_end && s[int_start] == '0') {
        int_start++;
    }

    if (int_start == int_end) {
        if (faas_text_add(ctx, t, "0", 1) != FAAS_OK) {
            return FAAS_ERROR;
        }

    } else if (faas_text_add(ctx, t, s + int_start, int_end - int_start)
               != FAAS_OK)
    {
        return FAAS_ERROR;
    }

    if (frac_end > frac_start
        && faas_text_add(ctx, t, s + frac_start - 1,
                         frac_end - frac_start + 1)
           != FAAS_OK)
    {
        return FAAS_ERROR;
    }

    i = frac_end > int_end ? frac_end : int_end;

    return faas_text_add(ctx, t, s + i, len - i);
}


static int
faas_yjson_string(faas_ctx_t *ctx, faas_text_t *t, const char *s,
    size_t len)
{
    size_t          i, from;
    char            esc[8];
    unsigned char   c;

    if (faas_text_add(ctx, t, "\"", 1) != FAAS_OK) {
        return FAAS_ERROR;
    }

    for (from = 0, i = 0; i < len; i++) {
        c = (unsigned char) s[i];

        if (c >= 0x20 && c != '"' && c != '\\') {
            continue;
        }

        if (faas_text_add(ctx, t, s + from, i - from) != FAAS_OK) {
            return FAAS_ERROR;
        }

        switch (c) {
        case '"':  memcpy(esc, "\\\"", 3); break;
        case '\\': memcpy(esc, "\\\\", 3); break;
        case '\n': memcpy(esc, "\\n", 3); break;
        case '\r': memcpy(esc, "\\r", 3); break;
        case '\t': memcpy(esc, "\\t", 3); break;
        default:   snprintf(esc, sizeof(esc), "\\u%04x", c); break;
        }

        if (faas_text_add(ctx, t, esc, strlen(esc)) != FAAS_OK) {
            return FAAS_ERROR;
        }

        from = i + 1;
    }

    if (faas_text_add(ctx, t, s + from, len - from) != FAAS_OK) {
        return FAAS_ERROR;
    }

    return faas_text_add(ctx, t, "\"", 1);
}


static int
faas_text_add(faas_ctx_t *ctx, faas_text_t *t, const char *s, size_t len)
{
    char    *p;
    size_t   size;

    if (len == 0) {
        return FAAS_OK;
    }

    if (t->len + len > FAAS_SCALAR_MAX) {
        faas_path_pop(ctx, ctx->agg_path);
        return faas_fail(ctx, t->node, "the body is longer than %d bytes "
                         "as JSON", FAAS_SCALAR_MAX);
    }

    if (t->len + len > t->size) {
        size = (t->len + len) * 2 + 256;

        p = realloc(t->data, size);
        if (p == NULL) {
            return faas_nomem(ctx, NULL);
        }

        t->data = p;
        t->size = size;
    }

    memcpy(t->data + t->len, s, len);
    t->len += len;

    return FAAS_OK;
}
