/*
 * Copyright (C) ngx_faas authors
 *
 * BFF aggregation's template and path language: "{query.id}",
 * "{user.address.city:number}" and dot paths ("items.0.id") compiled at
 * declaration time, then rendered for a call at request time: its url
 * (encoded), query arguments, headers and JSON body.
 */


#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faas_aggregate_int.h"


/* a hole's conversion, ":TYPE" */
#define FAAS_AGG_CAST_STRING   1
#define FAAS_AGG_CAST_NUMBER   2
#define FAAS_AGG_CAST_BOOLEAN  3
#define FAAS_AGG_CAST_JSON     4


/* a hole's value: JSON, or text of the request */

typedef struct {
    const cJSON        *json;
    const char         *str;
    size_t              len;
} faas_agg_value_t;


static int faas_agg_scan(const char *s, size_t len, size_t *pos,
    size_t *end);
static int faas_agg_hole_start(const char *s, size_t len, size_t i);
static int faas_agg_hole_parse(faas_agg_t *agg, faas_agg_part_t *p,
    const char *where, faas_error_t *err);
static int faas_agg_token(const char *s, size_t len);

static int faas_agg_value(faas_agg_run_t *run, size_t call,
    const faas_agg_part_t *p, faas_agg_value_t *v);
static int faas_agg_cast(faas_agg_run_t *run, size_t call,
    const faas_agg_part_t *p, faas_agg_value_t *v);
static int faas_agg_text(faas_agg_run_t *run, size_t call,
    const faas_agg_part_t *p, const faas_agg_value_t *v, unsigned in,
    faas_agg_str_t *out);
static cJSON *faas_agg_hole_node(faas_agg_run_t *run, size_t call,
    const faas_agg_part_t *p);
static const char *faas_agg_describe(const faas_agg_value_t *v, char *buf,
    size_t size);
static int faas_agg_number_parse(faas_arena_t *a, const char *s,
    size_t len, double *d);
static size_t faas_agg_number(double d, char *buf, size_t size);
static int faas_agg_segment_ok(const char *s, size_t len);
static int faas_agg_unreserved(unsigned char c);
static size_t faas_agg_encoded_len(const char *s, size_t len);
static char *faas_agg_encode(char *dst, const char *s, size_t len);


static const char  *faas_agg_casts[] = {
    NULL, "string", "number", "boolean", "json"
};


const faas_agg_source_t  faas_agg_sources[FAAS_AGG_NSOURCES] = {
    { "params", 6, "path parameter" },
    { "query",  5, "query argument" },
    { "header", 6, "header" },
    { "cookie", 6, "cookie" },
    { "body",   4, NULL },
};


/* counts the body's strings with "strings" NULL, compiles them in it */

int
faas_agg_body_strings(faas_agg_t *agg, const cJSON *node,
    faas_agg_tmpl_t *strings, size_t *n, const char *where,
    faas_error_t *err)
{
    const cJSON  *item;

    if (cJSON_IsString(node)) {
        if (strings
            && faas_agg_tmpl_parse(agg, &strings[*n], node->valuestring,
                                   strlen(node->valuestring), where, err)
               != FAAS_OK)
        {
            return FAAS_ERROR;
        }

        (*n)++;

        return FAAS_OK;
    }

    for (item = node->child; item; item = item->next) {
        if (faas_agg_body_strings(agg, item, strings, n, where, err)
            != FAAS_OK)
        {
            return FAAS_ERROR;
        }
    }

    return FAAS_OK;
}


/* templates: "t" is the caller's to keep only when all is well */

int
faas_agg_tmpl_parse(faas_agg_t *agg, faas_agg_tmpl_t *t, const char *s,
    size_t len, const char *where, faas_error_t *err)
{
    int               kind;
    char             *text;
    size_t            n, pos, end, i, j;
    faas_agg_part_t  *p;
    char              got[FAAS_QUOTE_SIZE];

    t->where = faas_arena_strdup(&agg->arena, where);
    if (t->where == NULL) {
        return faas_agg_error(err, where, "out of memory");
    }

    /* the pieces counted first, so that the parts are one array */

    n = 0;
    pos = 0;

    while ((kind = faas_agg_scan(s, len, &pos, &end)) != 0) {
        if (kind < 0) {
            faas_quote(s + pos, end - pos, got, sizeof(got));
            return faas_agg_error(err, where, "%s has no closing \"}\"",
                                  got);
        }

        n++;
        pos = end;
    }

    t->n = n;

    if (n == 0) {
        return FAAS_OK;
    }

    t->parts = faas_arena_alloc(&agg->arena, n * sizeof(faas_agg_part_t));
    if (t->parts == NULL) {
        return faas_agg_error(err, where, "out of memory");
    }

    pos = 0;

    for (n = 0; n < t->n; n++) {
        kind = faas_agg_scan(s, len, &pos, &end);
        p = &t->parts[n];

        text = faas_arena_strndup(&agg->arena, s + pos, end - pos);
        if (text == NULL) {
            return faas_agg_error(err, where, "out of memory");
        }

        p->text = text;
        p->len = end - pos;

        if (kind == 2) {
            if (faas_agg_hole_parse(agg, p, where, err) != FAAS_OK) {
                return FAAS_ERROR;
            }

        } else {

            /* "{{" is a "{" */

            for (i = 0, j = 0; i < p->len; i++, j++) {
                text[j] = text[i];

                if (text[i] == '{' && i + 1 < p->len && text[i + 1] == '{') {
                    i++;
                }
            }

            text[j] = '\0';
            p->len = j;
        }

        pos = end;
    }

    return FAAS_OK;
}


/*
 * The next piece of a template from "*pos" to "*end": 1, text (with its
 * "{{"); 2, a hole; -1, a hole with no "}" (*end: where it stops); 0 at
 * the end.
 */

static int
faas_agg_scan(const char *s, size_t len, size_t *pos, size_t *end)
{
    size_t  i;

    i = *pos;

    if (i == len) {
        return 0;
    }

    if (faas_agg_hole_start(s, len, i)) {
        for (i++; i < len && s[i] != '}'; i++) {
            if (s[i] == '{') {
                *end = i;
                return -1;
            }
        }

        if (i == len) {
            *end = i;
            return -1;
        }

        *end = i + 1;

        return 2;
    }

    while (i < len && !faas_agg_hole_start(s, len, i)) {
        i += (s[i] == '{' && i + 1 < len && s[i + 1] == '{') ? 2 : 1;
    }

    *end = i;

    return 1;
}


/* "{" then a letter or "_"; a "{" before anything else is text */

static int
faas_agg_hole_start(const char *s, size_t len, size_t i)
{
    char  c;

    if (s[i] != '{' || i + 1 == len) {
        return 0;
    }

    c = s[i + 1];

    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}


/* "{SOURCE.PATH:TYPE}", in p->text */

static int
faas_agg_hole_parse(faas_agg_t *agg, faas_agg_part_t *p, const char *where,
    faas_error_t *err)
{
    size_t       i, n, len, tlen;
    unsigned     k;
    const char  *s, *colon, *type, *rest, *bad;
    char         got[FAAS_QUOTE_SIZE];

    s = p->text + 1;
    len = p->len - 2;

    faas_quote(p->text, p->len, got, sizeof(got));

    colon = memchr(s, ':', len);

    if (colon) {
        type = colon + 1;
        tlen = len - (type - s);
        len = colon - s;

        for (k = 1; k < sizeof(faas_agg_casts) / sizeof(char *); k++) {
            if (strlen(faas_agg_casts[k]) == tlen
                && memcmp(faas_agg_casts[k], type, tlen) == 0)
            {
                break;
            }
        }

        if (k == sizeof(faas_agg_casts) / sizeof(char *)) {
            return faas_agg_error(err, where, "%s: the type is string, "
                                  "number, boolean or json", got);
        }

        p->cast = k;
    }

    for (n = 0; n < len && s[n] != '.'; n++) {
        /* void */
    }

    if (!faas_name_chars(s, n, "_-")) {
        return faas_agg_error(err, where, "%s: a hole is {SOURCE.PATH}, "
                              "SOURCE a call's name or params, query, "
                              "header, cookie, body", got);
    }

    p->source = FAAS_AGG_SRC_CALL;
    p->name = s;
    p->name_len = n;

    for (i = 0; i < FAAS_AGG_NSOURCES; i++) {
        if (faas_agg_sources[i].len == n
            && memcmp(faas_agg_sources[i].name, s, n) == 0)
        {
            p->source = i + 1;
            break;
        }
    }

    rest = s + n + 1;

    if (n < len && rest == s + len) {
        return faas_agg_error(err, where, "%s: nothing after \".\"", got);
    }

    if (p->source == FAAS_AGG_SRC_BODY || p->source == FAAS_AGG_SRC_CALL) {
        if (p->source == FAAS_AGG_SRC_BODY) {
            p->name = NULL;
            p->name_len = 0;
        }

        if (n == len) {
            return FAAS_OK;
        }

        bad = faas_agg_path_parse(&agg->arena, &p->path, rest, len - n - 1);
        if (bad) {
            return faas_agg_error(err, where, "%s: %s", got, bad);
        }

        return FAAS_OK;
    }

    /* params, query, header, cookie: one name, which may have dots */

    if (n == len) {
        return faas_agg_error(err, where, "%s names no %s: {%s.NAME}", got,
                              faas_agg_sources[p->source - 1].what,
                              faas_agg_sources[p->source - 1].name);
    }

    if (!faas_agg_token(rest, len - n - 1)) {
        return faas_agg_error(err, where, "%s: a %s's name is letters, "
                              "digits and !#$%%&'*+-.^_`|~", got,
                              faas_agg_sources[p->source - 1].what);
    }

    p->name = rest;
    p->name_len = len - n - 1;

    return FAAS_OK;
}


/*
 * "a.b.0.c" into steps, each NUL-terminated, as cJSON compares names.
 * A step is any visible characters but . , : { }.
 */

const char *
faas_agg_path_parse(faas_arena_t *a, faas_agg_path_t *path, const char *s,
    size_t len)
{
    char             *names;
    size_t            i, n, start;
    unsigned char     c;
    faas_agg_seg_t   *seg;
    faas_agg_path_t   p;

    n = 1;

    for (i = 0; i < len; i++) {
        c = s[i];

        if (c == '.') {
            n++;
            continue;
        }

        if (c <= ' ' || c == 0x7f || c == ',' || c == ':' || c == '{'
            || c == '}')
        {
            return "a name has a space, a control character or one of "
                   ", : { }";
        }
    }

    if (len == 0) {
        return "it is empty";
    }

    if (n > FAAS_AGG_DEPTH_MAX) {
        return "more than 64 steps";
    }

    /*
     * The names are cut out of one copy, the text kept whole in another;
     * "path" changes only when all is well.
     */

    p.segs = faas_arena_alloc(a, n * sizeof(faas_agg_seg_t));
    p.text = faas_arena_strndup(a, s, len);
    p.n = n;
    names = faas_arena_strndup(a, s, len);

    if (p.segs == NULL || p.text == NULL || names == NULL) {
        return "out of memory";
    }

    start = 0;
    n = 0;

    for (i = 0; i <= len; i++) {
        if (i < len && s[i] != '.') {
            continue;
        }

        if (i == start) {
            return "an empty name";
        }

        seg = &p.segs[n++];

        names[i] = '\0';

        seg->name = names + start;
        seg->len = i - start;
        seg->index = -1;

        if (seg->len <= 9 && strspn(seg->name, "0123456789") == seg->len) {
            seg->index = strtol(seg->name, NULL, 10);
        }

        start = i + 1;
    }

    *path = p;

    return NULL;
}


/* RFC 9110's token: what a header's, a cookie's or an argument's name is */

static int
faas_agg_token(const char *s, size_t len)
{
    return len > 0 && faas_name_chars(s, len, "!#$%&'*+-.^_`|~");
}


/* the url's query, then each query.NAME=VALUE, encoded, joined by "&" */

int
faas_agg_args(faas_agg_run_t *run, size_t call, faas_agg_str_t *query,
    faas_agg_request_t *req)
{
    char                   *p;
    size_t                  n, len;
    faas_agg_arg_t         *arg;
    faas_agg_str_t         *values;
    const faas_agg_call_t  *c;

    c = run->agg->calls[call];

    if (c->args == NULL) {
        req->args = query->data;
        req->args_len = query->len;
        return FAAS_OK;
    }

    for (n = 0, arg = c->args; arg; arg = arg->next) {
        n++;
    }

    values = faas_arena_alloc(run->arena, n * sizeof(faas_agg_str_t));
    if (values == NULL) {
        faas_agg_nomem(run, call);
        return FAAS_ERROR;
    }

    len = query->len;

    for (n = 0, arg = c->args; arg; arg = arg->next, n++) {
        if (faas_agg_render(run, call, &arg->value, FAAS_AGG_IN_ARG,
                            &values[n])
            != FAAS_OK)
        {
            return FAAS_ERROR;
        }

        len += 2 + faas_agg_encoded_len(arg->name, arg->len)
               + faas_agg_encoded_len(values[n].data, values[n].len);
    }

    p = faas_arena_alloc(run->arena, len + 1);
    if (p == NULL) {
        faas_agg_nomem(run, call);
        return FAAS_ERROR;
    }

    req->args = p;

    memcpy(p, query->data, query->len);
    p += query->len;

    for (n = 0, arg = c->args; arg; arg = arg->next, n++) {
        if (p != req->args) {
            *p++ = '&';
        }

        p = faas_agg_encode(p, arg->name, arg->len);
        *p++ = '=';
        p = faas_agg_encode(p, values[n].data, values[n].len);
    }

    *p = '\0';
    req->args_len = p - req->args;

    return FAAS_OK;
}


/*
 * A template as text.  A hole's value goes as text (faas_agg_text()),
 * checked for where it goes: a path takes it as one segment; a header
 * takes no CR, LF or NUL; a url's query gets it percent-encoded.
 */

int
faas_agg_render(faas_agg_run_t *run, size_t call, const faas_agg_tmpl_t *t,
    unsigned in, faas_agg_str_t *out)
{
    char                   *p;
    size_t                  i, len;
    faas_agg_str_t         *pieces;
    faas_agg_value_t        v;
    const faas_agg_part_t  *part;
    char                    got[FAAS_QUOTE_SIZE];

    if (t->n == 0) {
        out->data = "";
        out->len = 0;
        return FAAS_OK;
    }

    if (t->n == 1 && t->parts[0].source == 0) {
        out->data = t->parts[0].text;
        out->len = t->parts[0].len;
        return FAAS_OK;
    }

    pieces = faas_arena_alloc(run->arena, t->n * sizeof(faas_agg_str_t));
    if (pieces == NULL) {
        faas_agg_nomem(run, call);
        return FAAS_ERROR;
    }

    len = 0;

    for (i = 0; i < t->n; i++) {
        part = &t->parts[i];

        if (part->source == 0) {
            pieces[i].data = part->text;
            pieces[i].len = part->len;
            len += part->len;
            continue;
        }

        if (faas_agg_value(run, call, part, &v) != FAAS_OK
            || faas_agg_cast(run, call, part, &v) != FAAS_OK
            || faas_agg_text(run, call, part, &v, in, &pieces[i]) != FAAS_OK)
        {
            return FAAS_ERROR;
        }

        if (in == FAAS_AGG_IN_PATH
            && !faas_agg_segment_ok(pieces[i].data, pieces[i].len))
        {
            faas_quote(pieces[i].data, pieces[i].len, got, sizeof(got));
            faas_agg_failed(run, call, 0, "%.*s: %s cannot go into a path "
                            "segment", (int) part->len, part->text, got);
            return FAAS_ERROR;
        }

        if (in == FAAS_AGG_IN_HEADER
            && (memchr(pieces[i].data, '\r', pieces[i].len)
                || memchr(pieces[i].data, '\n', pieces[i].len)
                || memchr(pieces[i].data, '\0', pieces[i].len)))
        {
            faas_quote(pieces[i].data, pieces[i].len, got, sizeof(got));
            faas_agg_failed(run, call, 0, "%.*s: %s cannot go into a "
                            "header", (int) part->len, part->text, got);
            return FAAS_ERROR;
        }

        len += (in == FAAS_AGG_IN_QUERY)
               ? faas_agg_encoded_len(pieces[i].data, pieces[i].len)
               : pieces[i].len;
    }

    p = faas_arena_alloc(run->arena, len + 1);
    if (p == NULL) {
        faas_agg_nomem(run, call);
        return FAAS_ERROR;
    }

    out->data = p;
    out->len = len;

    for (i = 0; i < t->n; i++) {
        if (in == FAAS_AGG_IN_QUERY && t->parts[i].source) {
            p = faas_agg_encode(p, pieces[i].data, pieces[i].len);

        } else {
            memcpy(p, pieces[i].data, pieces[i].len);
            p += pieces[i].len;
        }
    }

    *p = '\0';

    return FAAS_OK;
}


/* a body: the template with its holes filled, as a tree to print */

cJSON *
faas_agg_body_node(faas_agg_run_t *run, size_t call, const cJSON *t,
    size_t *k)
{
    cJSON                  *node, *v;
    const cJSON            *item;
    faas_agg_str_t          text;
    const faas_agg_tmpl_t  *tmpl;

    if (cJSON_IsObject(t) || cJSON_IsArray(t)) {
        node = cJSON_IsObject(t) ? cJSON_CreateObject() : cJSON_CreateArray();
        if (node == NULL) {
            return NULL;
        }

        for (item = t->child; item; item = item->next) {
            v = faas_agg_body_node(run, call, item, k);
            if (v == NULL) {
                return NULL;
            }

            /* the template's names live as long as the declaration */

            if (cJSON_IsObject(t)) {
                if (!cJSON_AddItemToObjectCS(node, item->string, v)) {
                    return NULL;
                }

            } else if (!cJSON_AddItemToArray(node, v)) {
                return NULL;
            }
        }

        return node;
    }

    if (cJSON_IsString(t)) {
        tmpl = &run->agg->calls[call]->strings[(*k)++];

        if (tmpl->n == 1 && tmpl->parts[0].source) {
            return faas_agg_hole_node(run, call, &tmpl->parts[0]);
        }

        if (faas_agg_render(run, call, tmpl, FAAS_AGG_IN_BODY, &text)
            != FAAS_OK)
        {
            return NULL;
        }

        return cJSON_CreateStringReference(text.data);
    }

    if (cJSON_IsNumber(t)) {
        return cJSON_CreateNumber(t->valuedouble);
    }

    if (cJSON_IsBool(t)) {
        return cJSON_CreateBool(cJSON_IsTrue(t));
    }

    return cJSON_CreateNull();
}


/*
 * A string of a body that is one hole: the value with its own type.
 * Objects and arrays of answers are referenced, not copied: printing
 * reads them, and nothing changes them before the answer is made.
 */

static cJSON *
faas_agg_hole_node(faas_agg_run_t *run, size_t call, const faas_agg_part_t *p)
{
    char              *s;
    const cJSON       *node;
    faas_agg_str_t     text;
    faas_agg_value_t   v;

    if (faas_agg_value(run, call, p, &v) != FAAS_OK
        || faas_agg_cast(run, call, p, &v) != FAAS_OK)
    {
        return NULL;
    }

    if (v.json == NULL || p->cast == FAAS_AGG_CAST_STRING) {
        if (faas_agg_text(run, call, p, &v, FAAS_AGG_IN_BODY, &text)
            != FAAS_OK)
        {
            return NULL;
        }

        s = faas_arena_strndup(run->arena, text.data, text.len);
        if (s == NULL) {
            return NULL;
        }

        return cJSON_CreateStringReference(s);
    }

    node = v.json;

    if (cJSON_IsObject(node)) {
        return cJSON_CreateObjectReference(node->child);
    }

    if (cJSON_IsArray(node)) {
        return cJSON_CreateArrayReference(node->child);
    }

    if (cJSON_IsString(node)) {
        return cJSON_CreateStringReference(node->valuestring);
    }

    if (cJSON_IsNumber(node)) {
        return cJSON_CreateNumber(node->valuedouble);
    }

    if (cJSON_IsBool(node)) {
        return cJSON_CreateBool(cJSON_IsTrue(node));
    }

    return cJSON_CreateNull();
}


/* a hole's value, before any conversion */

static int
faas_agg_value(faas_agg_run_t *run, size_t call, const faas_agg_part_t *p,
    faas_agg_value_t *v)
{
    int                      hole;
    size_t                   i, plen;
    unsigned                 rc;
    const char              *what;
    const cJSON             *node, *next;
    const faas_agg_seg_t    *seg;
    const faas_agg_state_t  *dep;

    memset(v, 0, sizeof(faas_agg_value_t));

    hole = (p->len < FAAS_AGG_HOLE_SHOWN) ? (int) p->len
                                          : FAAS_AGG_HOLE_SHOWN;

    switch (p->source) {

    case FAAS_AGG_SRC_BODY:
        if (!run->body_read) {
            run->body_read = 1;

            rc = faas_agg_parse(run->arena, run->in.body, run->in.body_len,
                                &run->body, &i);

            if (rc == FAAS_AGG_JSON_BIG) {
                faas_agg_failed(run, call, 0, "%.*s: the request body is "
                                "too big to process", hole, p->text);
                return FAAS_ERROR;
            }
        }

        if (run->body == NULL) {
            faas_agg_failed(run, call, 0, "%.*s: %s", hole, p->text,
                            run->in.body_error ? run->in.body_error
                                : "the request body is not JSON");
            return FAAS_ERROR;
        }

        node = run->body;
        what = "body";
        break;

    case FAAS_AGG_SRC_CALL:
        dep = &run->calls[p->call];

        if (dep->state != FAAS_AGG_ANSWERED) {
            faas_agg_failed(run, call, 0, "%.*s: %s has not answered", hole,
                            p->text, run->agg->calls[p->call]->name);
            return FAAS_ERROR;
        }

        node = dep->result;
        what = run->agg->calls[p->call]->name;
        break;

    default:
        if (run->in.lookup == NULL
            || run->in.lookup(run->in.data, p->source, p->name, p->name_len,
                              &v->str, &v->len)
               != FAAS_OK)
        {
            faas_agg_failed(run, call, 0, "%.*s: the request has no %s %.*s",
                            hole, p->text,
                            faas_agg_sources[p->source - 1].what,
                            (int) p->name_len, p->name);
            return FAAS_ERROR;
        }

        if (v->str == NULL) {
            v->str = "";
            v->len = 0;
        }

        return FAAS_OK;
    }

    plen = 0;

    for (i = 0; i < p->path.n; i++) {
        seg = &p->path.segs[i];
        plen += (i ? 1 : 0) + seg->len;

        next = faas_agg_step((cJSON *) node, seg);

        if (next == NULL) {
            faas_agg_failed(run, call, 0, "%.*s: %s has no %s %.*s", hole,
                            p->text, what,
                            (cJSON_IsArray(node) && seg->index >= 0)
                            ? "index" : "field",
                            (int) plen, p->path.text);
            return FAAS_ERROR;
        }

        node = next;
    }

    v->json = node;

    return FAAS_OK;
}


/* ":number", ":boolean", ":json" make JSON of what they convert */

static int
faas_agg_cast(faas_agg_run_t *run, size_t call, const faas_agg_part_t *p,
    faas_agg_value_t *v)
{
    int           hole;
    size_t        pos;
    cJSON        *node;
    double        d;
    const char   *s;
    size_t        len;
    char          got[FAAS_QUOTE_SIZE];

    hole = (p->len < FAAS_AGG_HOLE_SHOWN) ? (int) p->len
                                          : FAAS_AGG_HOLE_SHOWN;

    s = v->str;
    len = v->len;

    if (v->json && cJSON_IsString(v->json)) {
        s = v->json->valuestring;
        len = strlen(s);
    }

    switch (p->cast) {

    case FAAS_AGG_CAST_NUMBER:
        if (v->json && cJSON_IsNumber(v->json)) {
            return FAAS_OK;
        }

        if ((v->json && !cJSON_IsString(v->json))
            || faas_agg_number_parse(run->arena, s, len, &d) != FAAS_OK)
        {
            faas_agg_failed(run, call, 0, "%.*s: %s is not a number", hole,
                            p->text, faas_agg_describe(v, got, sizeof(got)));
            return FAAS_ERROR;
        }

        node = cJSON_CreateNumber(d);
        break;

    case FAAS_AGG_CAST_BOOLEAN:
        if (v->json && cJSON_IsBool(v->json)) {
            return FAAS_OK;
        }

        if (v->json && cJSON_IsNumber(v->json)
            && (v->json->valuedouble == 0 || v->json->valuedouble == 1))
        {
            node = cJSON_CreateBool(v->json->valuedouble == 1);
            break;
        }

        if ((v->json == NULL || cJSON_IsString(v->json))
            && ((len == 4 && memcmp(s, "true", 4) == 0)
                || (len == 1 && s[0] == '1')))
        {
            node = cJSON_CreateTrue();
            break;
        }

        if ((v->json == NULL || cJSON_IsString(v->json))
            && ((len == 5 && memcmp(s, "false", 5) == 0)
                || (len == 1 && s[0] == '0')))
        {
            node = cJSON_CreateFalse();
            break;
        }

        faas_agg_failed(run, call, 0, "%.*s: %s is not a boolean", hole,
                        p->text, faas_agg_describe(v, got, sizeof(got)));
        return FAAS_ERROR;

    case FAAS_AGG_CAST_JSON:

        /* a value of the request is JSON text; JSON stays as it is */

        if (v->json) {
            return FAAS_OK;
        }

        switch (faas_agg_parse(run->arena, s, len, &node, &pos)) {

        case FAAS_AGG_JSON_OK:
            break;

        case FAAS_AGG_JSON_BIG:
            faas_agg_nomem(run, call);
            return FAAS_ERROR;

        default:
            faas_agg_failed(run, call, 0, "%.*s: %s is not JSON", hole,
                            p->text, faas_agg_describe(v, got, sizeof(got)));
            return FAAS_ERROR;
        }

        break;

    default:
        return FAAS_OK;
    }

    if (node == NULL) {
        faas_agg_nomem(run, call);
        return FAAS_ERROR;
    }

    v->json = node;
    v->str = NULL;
    v->len = 0;

    return FAAS_OK;
}


/*
 * A value as text: a string as it is, a number as JSON writes it, true
 * or false.  Null, objects and arrays have no text but with ":json",
 * which makes JSON text of anything.
 */

static int
faas_agg_text(faas_agg_run_t *run, size_t call, const faas_agg_part_t *p,
    const faas_agg_value_t *v, unsigned in, faas_agg_str_t *out)
{
    int           hole;
    char         *buf;
    const char   *place, *what;
    const cJSON  *node;

    if (v->json == NULL) {
        out->data = v->str;
        out->len = v->len;
        return FAAS_OK;
    }

    hole = (p->len < FAAS_AGG_HOLE_SHOWN) ? (int) p->len
                                          : FAAS_AGG_HOLE_SHOWN;
    node = v->json;

    if (p->cast == FAAS_AGG_CAST_JSON) {
        buf = cJSON_PrintUnformatted(node);
        if (buf == NULL) {
            faas_agg_nomem(run, call);
            return FAAS_ERROR;
        }

        out->data = buf;
        out->len = strlen(buf);

        return FAAS_OK;
    }

    if (cJSON_IsString(node)) {
        out->data = node->valuestring;
        out->len = strlen(node->valuestring);
        return FAAS_OK;
    }

    if (cJSON_IsBool(node)) {
        out->data = cJSON_IsTrue(node) ? "true" : "false";
        out->len = cJSON_IsTrue(node) ? 4 : 5;
        return FAAS_OK;
    }

    if (cJSON_IsNumber(node) && isfinite(node->valuedouble)) {
        buf = faas_arena_alloc(run->arena, 32);
        if (buf == NULL) {
            faas_agg_nomem(run, call);
            return FAAS_ERROR;
        }

        out->data = buf;
        out->len = faas_agg_number(node->valuedouble, buf, 32);

        return FAAS_OK;
    }

    switch (in) {

    case FAAS_AGG_IN_ARG:
        place = "a query argument";
        break;

    case FAAS_AGG_IN_HEADER:
        place = "a header";
        break;

    case FAAS_AGG_IN_BODY:
        place = "text";
        break;

    default:
        place = "a url";
    }

    what = cJSON_IsObject(node) ? "an object"
           : cJSON_IsArray(node) ? "an array"
           : cJSON_IsNumber(node) ? "a number out of range"
           : "null";

    faas_agg_failed(run, call, 0, "%.*s is %s; %s takes a string, number "
                    "or boolean", hole, p->text, what, place);

    return FAAS_ERROR;
}


static const char *
faas_agg_describe(const faas_agg_value_t *v, char *buf, size_t size)
{
    if (v->json) {
        return faas_json_describe(v->json, buf, size);
    }

    faas_quote(v->str, v->len, buf, size);

    return buf;
}


/* JSON's number grammar, strictly: "1e5" and "-0.5", not " 1" or "0x1" */

static int
faas_agg_number_parse(faas_arena_t *a, const char *s, size_t len, double *d)
{
    size_t  i, digits;
    char   *copy;
    char    buf[64];

    i = 0;

    if (i < len && s[i] == '-') {
        i++;
    }

    if (i < len && s[i] == '0') {
        i++;

    } else {
        for (digits = 0; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
            digits++;
        }

        if (digits == 0) {
            return FAAS_ERROR;
        }
    }

    if (i < len && s[i] == '.') {
        for (i++, digits = 0; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
            digits++;
        }

        if (digits == 0) {
            return FAAS_ERROR;
        }
    }

    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;

        if (i < len && (s[i] == '+' || s[i] == '-')) {
            i++;
        }

        for (digits = 0; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
            digits++;
        }

        if (digits == 0) {
            return FAAS_ERROR;
        }
    }

    if (i != len) {
        return FAAS_ERROR;
    }

    if (len < sizeof(buf)) {
        memcpy(buf, s, len);
        buf[len] = '\0';
        copy = buf;

    } else {
        copy = faas_arena_strndup(a, s, len);
        if (copy == NULL) {
            return FAAS_ERROR;
        }
    }

    *d = strtod(copy, NULL);

    return isfinite(*d) ? FAAS_OK : FAAS_ERROR;
}


/* as JSON writes a number: integers without ".0", else the shortest */

static size_t
faas_agg_number(double d, char *buf, size_t size)
{
    int  n;

    if (d > -1e15 && d < 1e15 && d == (double) (long long) d) {
        n = snprintf(buf, size, "%lld", (long long) d);

    } else {
        n = snprintf(buf, size, "%.15g", d);

        if (strtod(buf, NULL) != d) {
            n = snprintf(buf, size, "%.17g", d);
        }
    }

    return (n > 0 && (size_t) n < size) ? (size_t) n : 0;
}


/*
 * A value that is one segment of a decoded path, and only that: no "/",
 * nor what would end the path, no control characters, no "." or "..",
 * and not empty, which would make another path too.
 */

static int
faas_agg_segment_ok(const char *s, size_t len)
{
    size_t         i;
    unsigned char  c;

    if (len == 0 || (len == 1 && s[0] == '.')
        || (len == 2 && s[0] == '.' && s[1] == '.'))
    {
        return 0;
    }

    for (i = 0; i < len; i++) {
        c = s[i];

        if (c == '/' || c == '?' || c == '#' || c < ' ' || c == 0x7f) {
            return 0;
        }
    }

    return 1;
}


/* RFC 3986: all but the unreserved characters as %XX */

static int
faas_agg_unreserved(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'
           || c == '~';
}


static size_t
faas_agg_encoded_len(const char *s, size_t len)
{
    size_t  i, n;

    for (i = 0, n = 0; i < len; i++) {
        n += faas_agg_unreserved(s[i]) ? 1 : 3;
    }

    return n;
}


static char *
faas_agg_encode(char *dst, const char *s, size_t len)
{
    size_t         i;
    unsigned char  c;

    static const char  hex[] = "0123456789ABCDEF";

    for (i = 0; i < len; i++) {
        c = s[i];

        if (faas_agg_unreserved(c)) {
            *dst++ = c;
            continue;
        }

        *dst++ = '%';
        *dst++ = hex[c >> 4];
        *dst++ = hex[c & 0xf];
    }

    return dst;
}
