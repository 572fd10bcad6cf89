/*
 * Copyright (C) ngx_faas authors
 *
 * libFuzzer target: BFF aggregation.  The input is parts separated by
 * lines that are "%%":
 *
 *   1. the declaration, a line each: "NAME" adds a call, "NAME.KEY=VALUE"
 *      sets a call's key (adding the call first if need be), "KEY=VALUE"
 *      one of the aggregation's;
 *   2. the request's values, a line each: "pNAME=VALUE" a path
 *      parameter, "q" a query argument, "h" a header, "c" a cookie;
 *   3. the request's body;
 *   4. and on: the answers, in the order calls start: "STATUS TYPE" on
 *      the first line ("-" for no Content-Type), the body after it; or
 *      "!STATUS REASON", a failure in the glue.
 *
 * A run must never crash or leak, what a call sends must be well formed
 * (a path segment per hole, no CR or LF in headers, JSON bodies), and the
 * answer must be JSON, 502 exactly when a required call failed.  The
 * input's hash picks the arena's kind (malloc() or a pool) and budget.
 */


#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "faas_aggregate.h"


#define FUZZ_PARTS     (FAAS_AGG_CALLS_MAX + 8)
#define FUZZ_FIELDS    32
#define FUZZ_BLOCKS    4096

#define check(cond)    do { if (!(cond)) __builtin_trap(); } while (0)


typedef struct {
    const char     *data;
    size_t          len;
} fuzz_str_t;


typedef struct {
    unsigned        source;
    fuzz_str_t      name;
    fuzz_str_t      value;
} fuzz_field_t;


typedef struct {
    fuzz_field_t    fields[FUZZ_FIELDS];
    size_t          n;
} fuzz_req_t;


/* a request's pool: blocks remembered, freed at the end */

typedef struct {
    void           *blocks[FUZZ_BLOCKS];
    size_t          n;
} fuzz_pool_t;


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
static size_t fuzz_split(const char *p, size_t len, fuzz_str_t *parts);
static int fuzz_line(fuzz_str_t *part, fuzz_str_t *line);
static faas_agg_t *fuzz_declare(fuzz_str_t *part);
static void fuzz_request(fuzz_str_t *part, fuzz_req_t *req);
static int fuzz_lookup(void *data, unsigned source, const char *name,
    size_t len, const char **value, size_t *vlen);
static void *fuzz_palloc(void *data, size_t size);
static void fuzz_check_request(const faas_agg_t *agg, size_t call,
    const faas_agg_request_t *req);
static void fuzz_answer(faas_agg_run_t *run, size_t call, fuzz_str_t *a);
static void fuzz_json(const char *p, size_t len);
static void fuzz_response(faas_agg_run_t *run, const faas_agg_t *agg,
    const faas_arena_t *arena);


/* parts end at a line that is "%%"; a part may be empty */

static size_t
fuzz_split(const char *p, size_t len, fuzz_str_t *parts)
{
    size_t       n;
    const char  *end, *start, *eol;

    n = 0;
    end = p + len;
    start = p;

    while (p < end && n < FUZZ_PARTS - 1) {
        eol = memchr(p, '\n', end - p);

        if (eol == NULL) {
            eol = end;
        }

        if (eol - p == 2 && p[0] == '%' && p[1] == '%') {

            /* the newline before the "%%" is not the part's */

            parts[n].data = start;
            parts[n].len = (p > start) ? (size_t) (p - 1 - start) : 0;
            n++;

            start = (eol < end) ? eol + 1 : end;
        }

        p = (eol < end) ? eol + 1 : end;
    }

    parts[n].data = start;
    parts[n].len = end - start;

    return n + 1;
}


static int
fuzz_line(fuzz_str_t *part, fuzz_str_t *line)
{
    const char  *nl;

    if (part->len == 0) {
        return 0;
    }

    nl = memchr(part->data, '\n', part->len);

    line->data = part->data;
    line->len = nl ? (size_t) (nl - part->data) : part->len;

    part->data += line->len + (nl ? 1 : 0);
    part->len -= line->len + (nl ? 1 : 0);

    return 1;
}


static faas_agg_t *
fuzz_declare(fuzz_str_t *part)
{
    int            call;
    size_t         i, n;
    fuzz_str_t     line;
    faas_agg_t    *agg;
    const char    *eq, *dot;
    faas_error_t   err;
    char           buf[4096], name[128];

    agg = faas_agg_create();
    check(agg != NULL);

    while (fuzz_line(part, &line)) {
        if (line.len >= sizeof(buf) || memchr(line.data, '\0', line.len)) {
            continue;
        }

        memcpy(buf, line.data, line.len);
        buf[line.len] = '\0';

        memset(&err, 0, sizeof(faas_error_t));

        eq = strchr(buf, '=');
        dot = strchr(buf, '.');

        if (eq == NULL) {
            call = faas_agg_call_add(agg, buf, &err);
            check(call >= 0 || err.msg[0] != '\0');
            continue;
        }

        if (dot == NULL || dot > eq) {
            buf[eq - buf] = '\0';

            if (faas_agg_set(agg, buf, eq + 1, &err) != FAAS_OK) {
                check(err.msg[0] != '\0');
            }

            continue;
        }

        /* the call by its name, added when new */

        n = dot - buf;

        if (n >= sizeof(name)) {
            continue;
        }

        memcpy(name, buf, n);
        name[n] = '\0';

        for (i = 0; i < faas_agg_ncalls(agg); i++) {
            faas_agg_call_info_t  info;

            faas_agg_call_info(agg, i, &info);

            if (strcmp(info.name, name) == 0) {
                break;
            }
        }

        call = (int) i;

        if (i == faas_agg_ncalls(agg)) {
            call = faas_agg_call_add(agg, name, &err);
            if (call < 0) {
                continue;
            }
        }

        buf[eq - buf] = '\0';

        if (faas_agg_call_set(agg, call, dot + 1, eq + 1, &err) != FAAS_OK) {
            check(err.msg[0] != '\0');
            check(strncmp(err.msg, "calls.", 6) == 0);
        }
    }

    memset(&err, 0, sizeof(faas_error_t));

    if (faas_agg_compile(agg, &err) != FAAS_OK) {
        check(err.msg[0] != '\0');
        faas_agg_free(agg);
        return NULL;
    }

    return agg;
}


static void
fuzz_request(fuzz_str_t *part, fuzz_req_t *req)
{
    fuzz_str_t     line;
    const char    *eq;
    fuzz_field_t  *f;

    req->n = 0;

    while (req->n < FUZZ_FIELDS && fuzz_line(part, &line)) {
        if (line.len < 2) {
            continue;
        }

        eq = memchr(line.data, '=', line.len);
        if (eq == NULL) {
            continue;
        }

        f = &req->fields[req->n];

        switch (line.data[0]) {
        case 'p':
            f->source = FAAS_AGG_SRC_PARAM;
            break;
        case 'q':
            f->source = FAAS_AGG_SRC_QUERY;
            break;
        case 'h':
            f->source = FAAS_AGG_SRC_HEADER;
            break;
        case 'c':
            f->source = FAAS_AGG_SRC_COOKIE;
            break;
        default:
            continue;
        }

        f->name.data = line.data + 1;
        f->name.len = eq - line.data - 1;
        f->value.data = eq + 1;
        f->value.len = line.data + line.len - eq - 1;

        req->n++;
    }
}


static int
fuzz_lookup(void *data, unsigned source, const char *name, size_t len,
    const char **value, size_t *vlen)
{
    size_t       i;
    fuzz_req_t  *req;

    req = data;

    check(source >= FAAS_AGG_SRC_PARAM && source <= FAAS_AGG_SRC_COOKIE);
    check(name != NULL && len > 0);

    for (i = 0; i < req->n; i++) {
        if (req->fields[i].source == source
            && req->fields[i].name.len == len
            && memcmp(req->fields[i].name.data, name, len) == 0)
        {
            *value = req->fields[i].value.data;
            *vlen = req->fields[i].value.len;
            return FAAS_OK;
        }
    }

    return FAAS_ERROR;
}


static void *
fuzz_palloc(void *data, size_t size)
{
    void         *p;
    fuzz_pool_t  *pool;

    pool = data;

    if (pool->n == FUZZ_BLOCKS) {
        return NULL;
    }

    /* as ngx_palloc() may: 8 bytes past an alignment of 16 */

    p = malloc(size + 8);
    if (p == NULL) {
        return NULL;
    }

    pool->blocks[pool->n++] = p;

    return (char *) p + 8;
}


static void
fuzz_check_request(const faas_agg_t *agg, size_t call,
    const faas_agg_request_t *req)
{
    size_t                i, j;
    unsigned char         c;
    faas_agg_call_info_t  info;

    faas_agg_call_info(agg, call, &info);

    check(faas_method_name(req->method) != NULL);

    if (info.kind == FAAS_AGG_LOCATION) {
        check(req->path != NULL && req->path_len > 0 && req->path[0] == '/');

        for (i = 0; i < req->path_len; i++) {
            c = req->path[i];
            check(c != '?' && c != '#' && c >= ' ' && c != 0x7f);
        }

        check(req->path[req->path_len] == '\0');
    }

    check(req->args != NULL || req->args_len == 0);

    for (i = 0; i < req->args_len; i++) {
        c = req->args[i];
        check(c != '#' && c > ' ' && c != 0x7f);
    }

    check(req->nheaders == 0 || req->headers != NULL);

    for (i = 0; i < req->nheaders; i++) {
        check(req->headers[i].len > 0);

        for (j = 0; j < req->headers[i].value_len; j++) {
            c = req->headers[i].value[j];
            check(c != '\r' && c != '\n' && c != '\0');
        }
    }

    if (info.forward_body) {
        check(req->body == NULL);
    }

    if (req->body) {
        fuzz_json(req->body, req->body_len);
    }
}


/* "STATUS TYPE\nBODY", "!STATUS REASON" */

static void
fuzz_answer(faas_agg_run_t *run, size_t call, fuzz_str_t *a)
{
    size_t       i;
    unsigned     status;
    fuzz_str_t   head, body;
    const char  *sp, *ct;
    char         reason[256];

    body = *a;

    if (!fuzz_line(&body, &head)) {
        head.data = "";
        head.len = 0;
    }

    status = 0;

    for (i = (head.len && head.data[0] == '!') ? 1 : 0;
         i < head.len && head.data[i] >= '0' && head.data[i] <= '9'
         && status < 100000;
         i++)
    {
        status = status * 10 + (head.data[i] - '0');
    }

    sp = memchr(head.data, ' ', head.len);

    if (head.len && head.data[0] == '!') {
        i = sp ? (size_t) (head.data + head.len - sp - 1) : 0;
        i = (i < sizeof(reason) - 1) ? i : sizeof(reason) - 1;

        memcpy(reason, sp ? sp + 1 : "", i);
        reason[i] = '\0';

        faas_agg_fail(run, call, status, i ? reason : NULL);
        return;
    }

    ct = sp ? sp + 1 : NULL;

    if (ct && ct < head.data + head.len && ct[0] == '-') {
        ct = NULL;
    }

    faas_agg_done(run, call, status, ct,
                  ct ? (size_t) (head.data + head.len - ct) : 0,
                  body.data, body.len);
}


/* JSON that cJSON reads back, with plain malloc(): no arena is set here */

static void
fuzz_json(const char *p, size_t len)
{
    cJSON  *root;

    root = cJSON_ParseWithLength(p, len);
    check(root != NULL);
    cJSON_Delete(root);
}


static void
fuzz_response(faas_agg_run_t *run, const faas_agg_t *agg,
    const faas_arena_t *arena)
{
    int                   bad;
    size_t                i;
    cJSON                *root;
    unsigned              status;
    faas_agg_response_t   resp, again;
    faas_agg_call_info_t  info;

    bad = faas_agg_required_failed(run);

    for (i = 0; bad < 0 && i < faas_agg_ncalls(agg); i++) {
        faas_agg_call_info(agg, i, &info);

        if (info.required && (!faas_agg_call_finished(run, i)
                              || faas_agg_call_failed(run, i)))
        {
            bad = (int) i;
        }
    }

    if (faas_agg_response(run, &resp) != FAAS_OK) {

        /* only a budget runs out here */

        check(arena->over);
        check(faas_agg_response(run, &again) == FAAS_ERROR);
        return;
    }

    check(resp.status == (bad >= 0 ? 502u : 200u));
    check(resp.body != NULL && resp.body[resp.len] == '\0');
    check(strlen(resp.body) == resp.len);

    root = cJSON_ParseWithLength(resp.body, resp.len);
    check(root != NULL && cJSON_IsObject(root));

    if (resp.status == 200) {
        check(resp.complete
              == (cJSON_GetObjectItemCaseSensitive(root, "errors") == NULL));

    } else {
        check(!resp.complete);
        check(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(root, "call")));
    }

    cJSON_Delete(root);

    /* made once */

    check(faas_agg_response(run, &again) == FAAS_OK);
    check(again.body == resp.body && again.status == resp.status);

    for (i = 0; i < faas_agg_ncalls(agg); i++) {
        if (faas_agg_call_failed(run, i)) {
            check(faas_agg_call_error(run, i, &status) != NULL);
            check(strlen(faas_agg_call_error(run, i, &status)) <= 200);

        } else {
            check(faas_agg_call_error(run, i, &status) == NULL);
            check(status == 0);
        }
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t             i, k, n, nparts, next;
    uint64_t           hash;
    fuzz_str_t         parts[FUZZ_PARTS];
    faas_agg_t        *agg;
    fuzz_req_t         req;
    fuzz_pool_t       *pool;
    faas_arena_t       arena;
    faas_agg_run_t    *run;
    faas_agg_input_t   in;
    faas_agg_request_t areq;
    size_t             out[FAAS_AGG_CALLS_MAX];

    nparts = fuzz_split((const char *) data, size, parts);

    agg = fuzz_declare(&parts[0]);
    if (agg == NULL) {
        return 0;
    }

    hash = 0xcbf29ce484222325ULL;

    for (i = 0; i < size; i++) {
        hash = (hash ^ data[i]) * 0x100000001b3ULL;
    }

    memset(&req, 0, sizeof(fuzz_req_t));

    if (nparts > 1) {
        fuzz_request(&parts[1], &req);
    }

    memset(&in, 0, sizeof(faas_agg_input_t));
    in.lookup = fuzz_lookup;
    in.data = &req;
    in.trace_id = (hash & 1) ? "0123456789abcdef0123456789abcdef" : NULL;

    if (nparts > 2) {
        in.body = parts[2].data;
        in.body_len = parts[2].len;
    }

    /* the arena: malloc() or a pool; the default budget or a small one */

    memset(&arena, 0, sizeof(faas_arena_t));

    pool = NULL;

    if (hash & 2) {
        pool = calloc(1, sizeof(fuzz_pool_t));
        check(pool != NULL);

        arena.block_alloc = fuzz_palloc;
        arena.block_data = pool;
    }

    if ((hash & 12) == 4) {
        arena.max = 64 * 1024 + (hash >> 32) % (512 * 1024);
    }

    run = faas_agg_run_create(agg, &in, &arena);
    check(run != NULL);

    /* calls start as they become ready, and take the answers in turn */

    next = 3;

    for ( ;; ) {
        n = faas_agg_ready(run, out);

        if (n == 0) {
            break;
        }

        for (k = 0; k < n; k++) {
            check(out[k] < faas_agg_ncalls(agg));
            check(!faas_agg_call_finished(run, out[k]));

            if (faas_agg_request(run, out[k], &areq) != FAAS_OK) {
                check(faas_agg_call_failed(run, out[k]));
                continue;
            }

            fuzz_check_request(agg, out[k], &areq);

            if (next < nparts) {
                fuzz_answer(run, out[k], &parts[next++]);
                check(faas_agg_call_finished(run, out[k]));
            }
        }

        if (next >= nparts || faas_agg_required_failed(run) >= 0) {
            break;
        }
    }

    fuzz_response(run, agg, &arena);

    faas_arena_free(&arena);

    if (pool) {
        for (i = 0; i < pool->n; i++) {
            free(pool->blocks[i]);
        }

        free(pool);
    }

    faas_agg_free(agg);

    return 0;
}
