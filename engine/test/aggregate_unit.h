/*
 * Copyright (C) ngx_faas authors
 *
 * What the unit tests of BFF aggregation share (test_aggregate.c,
 * test_aggregate_template.c, test_aggregate_json.c): declarations built
 * from lines, runs in a test's arena, the request's values, and a call's
 * request, its reason and the document as text.  The helpers are static
 * inline because each file uses only some of them.
 */

#ifndef FAAS_AGGREGATE_UNIT_H_INCLUDED
#define FAAS_AGGREGATE_UNIT_H_INCLUDED


#include <stdio.h>
#include <string.h>

#include "faas_aggregate.h"
#include "faas_json.h"
#include "unit.h"


#define FIELDS_MAX  16
#define SPEC_MAX    64


typedef struct {
    unsigned        source;
    const char     *name;
    const char     *value;
} field_t;


static inline const char *json(const char *text);
static inline faas_agg_t *build(const char *const *spec);
static inline const char *build_error(const char *const *spec);
static inline int lookup(void *data, unsigned source, const char *name,
    size_t len, const char **value, size_t *vlen);
static inline void field(unsigned source, const char *name, const char *value);
static inline faas_agg_run_t *start(faas_agg_t *agg);
static inline const char *request(faas_agg_run_t *run, size_t call);
static inline void answer(faas_agg_run_t *run, size_t call, const char *body);
static inline const char *reason(faas_agg_run_t *run, size_t call);
static inline const char *document(faas_agg_run_t *run);
static inline const char *one_call(const char *const *spec,
    const char *answer_ct, unsigned status, const char *body);
static inline const char *shaped(const char *const *spec, const char *body);
static inline const char *ready(faas_agg_run_t *run);


static faas_error_t    err;
static faas_arena_t    arena;
static field_t         fields[FIELDS_MAX];
static size_t          nfields;
static const char     *req_body;
static const char     *trace_id;
static faas_agg_t     *current;       /* of the last run started */


/*
 * A declaration from lines: "NAME" adds a call, "NAME.KEY=VALUE" sets
 * one of its keys, "KEY=VALUE" one of the aggregation's; then compiled.
 * NULL with "err" set when any step fails.
 */

static inline faas_agg_t *
build(const char *const *spec)
{
    int          call;
    size_t       i, n, ncalls;
    faas_agg_t  *agg;
    const char  *line, *eq, *dot;
    char         key[256];
    char         names[SPEC_MAX][72];
    int          index[SPEC_MAX];

    memset(&err, 0, sizeof(faas_error_t));

    agg = faas_agg_create();
    if (agg == NULL) {
        return NULL;
    }

    ncalls = 0;

    for (i = 0; spec[i]; i++) {
        line = spec[i];
        eq = strchr(line, '=');
        dot = strchr(line, '.');

        if (eq == NULL) {
            call = faas_agg_call_add(agg, line, &err);
            if (call < 0) {
                goto failed;
            }

            snprintf(names[ncalls], sizeof(names[0]), "%s", line);
            index[ncalls++] = call;
            continue;
        }

        if (dot == NULL || dot > eq) {
            snprintf(key, sizeof(key), "%.*s", (int) (eq - line), line);

            if (faas_agg_set(agg, key, eq + 1, &err) != FAAS_OK) {
                goto failed;
            }

            continue;
        }

        for (n = 0; n < ncalls; n++) {
            if (strlen(names[n]) == (size_t) (dot - line)
                && memcmp(names[n], line, dot - line) == 0)
            {
                break;
            }
        }

        if (n == ncalls) {
            fprintf(stderr, "no call in a test's line: %s\n", line);
            goto failed;
        }

        snprintf(key, sizeof(key), "%.*s", (int) (eq - dot - 1), dot + 1);

        if (faas_agg_call_set(agg, index[n], key, eq + 1, &err) != FAAS_OK) {
            goto failed;
        }
    }

    if (faas_agg_compile(agg, &err) != FAAS_OK) {
        goto failed;
    }

    return agg;

failed:

    faas_agg_free(agg);

    return NULL;
}


static inline const char *
build_error(const char *const *spec)
{
    faas_agg_t  *agg;

    agg = build(spec);

    if (agg != NULL) {
        faas_agg_free(agg);
        return "(built)";
    }

    return err.msg;
}


static inline int
lookup(void *data, unsigned source, const char *name, size_t len,
    const char **value, size_t *vlen)
{
    size_t  i;

    (void) data;

    for (i = 0; i < nfields; i++) {
        if (fields[i].source == source && strlen(fields[i].name) == len
            && memcmp(fields[i].name, name, len) == 0)
        {
            *value = fields[i].value;
            *vlen = strlen(fields[i].value);
            return FAAS_OK;
        }
    }

    return FAAS_ERROR;
}


static inline void
field(unsigned source, const char *name, const char *value)
{
    if (nfields < FIELDS_MAX) {
        fields[nfields].source = source;
        fields[nfields].name = name;
        fields[nfields].value = value;
        nfields++;
    }
}


/* a run in the test's arena, freed by the next */

static inline faas_agg_run_t *
start(faas_agg_t *agg)
{
    faas_agg_input_t  in;

    current = agg;

    faas_arena_free(&arena);
    memset(&arena, 0, sizeof(faas_arena_t));

    memset(&in, 0, sizeof(faas_agg_input_t));
    in.lookup = lookup;
    in.body = req_body;
    in.body_len = req_body ? strlen(req_body) : 0;
    in.trace_id = trace_id;

    return faas_agg_run_create(agg, &in, &arena);
}


/* "GET /path?args [Name: value] body", or "failed: reason" */

static inline const char *
request(faas_agg_run_t *run, size_t call)
{
    int                  n;
    size_t               i;
    faas_agg_request_t   req;
    static char          buf[4096];

    if (faas_agg_request(run, call, &req) != FAAS_OK) {
        snprintf(buf, sizeof(buf), "failed: %s", reason(run, call));
        return buf;
    }

    n = snprintf(buf, sizeof(buf), "%s %.*s%s%.*s",
                 faas_method_name(req.method), (int) req.path_len,
                 req.path ? req.path : "", req.args_len ? "?" : "",
                 (int) req.args_len, req.args);

    for (i = 0; i < req.nheaders; i++) {
        n += snprintf(buf + n, sizeof(buf) - n, " [%.*s: %.*s]",
                      (int) req.headers[i].len, req.headers[i].name,
                      (int) req.headers[i].value_len,
                      req.headers[i].value);
    }

    if (req.body) {
        snprintf(buf + n, sizeof(buf) - n, " %.*s", (int) req.body_len,
                 req.body);
    }

    return buf;
}


static inline void
answer(faas_agg_run_t *run, size_t call, const char *body)
{
    faas_agg_done(run, call, 200, "application/json", 16, body,
                  strlen(body));
}


static inline const char *
reason(faas_agg_run_t *run, size_t call)
{
    unsigned     status;
    const char  *r;
    static char  buf[512];

    r = faas_agg_call_error(run, call, &status);

    if (r == NULL) {
        return "(none)";
    }

    if (status) {
        snprintf(buf, sizeof(buf), "%u %s", status, r);
        return buf;
    }

    return r;
}


/* "200 {...}", "200 partial {...}", "502 {...}" */

static inline const char *
document(faas_agg_run_t *run)
{
    faas_agg_response_t  resp;
    static char          buf[8192];

    if (faas_agg_response(run, &resp) != FAAS_OK) {
        return "FAAS_ERROR";
    }

    snprintf(buf, sizeof(buf), "%u %s%.*s", resp.status,
             (resp.status == 200 && !resp.complete) ? "partial " : "",
             (int) resp.len, resp.body);

    return buf;
}


/* the reason a one-call aggregation's call fails with, or its document */

static inline const char *
one_call(const char *const *spec, const char *answer_ct, unsigned status,
    const char *body)
{
    size_t           out[FAAS_AGG_CALLS_MAX];
    faas_agg_t      *agg;
    faas_agg_run_t  *run;
    static char      buf[4096];

    agg = build(spec);
    if (agg == NULL) {
        snprintf(buf, sizeof(buf), "build: %s", err.msg);
        return buf;
    }

    run = start(agg);

    if (run == NULL || faas_agg_ready(run, out) != 1) {
        faas_agg_free(agg);
        return "no run";
    }

    faas_agg_done(run, 0, status, answer_ct,
                  answer_ct ? strlen(answer_ct) : 0, body,
                  body ? strlen(body) : 0);

    if (faas_agg_call_failed(run, 0)) {
        snprintf(buf, sizeof(buf), "%s", reason(run, 0));

    } else {
        snprintf(buf, sizeof(buf), "%s", document(run));
    }

    faas_agg_free(agg);

    return buf;
}


/* the document of "spec" (calls a, b, ...) answered by the bodies */

static inline const char *
shaped(const char *const *spec, const char *body)
{
    size_t           i, n, out[FAAS_AGG_CALLS_MAX];
    faas_agg_t      *agg;
    const char      *p, *end;
    faas_agg_run_t  *run;
    static char      buf[8192];

    agg = build(spec);
    if (agg == NULL) {
        snprintf(buf, sizeof(buf), "build: %s", err.msg);
        return buf;
    }

    run = start(agg);
    n = faas_agg_ready(run, out);

    /* the bodies, one per call, are separated by " | " */

    p = body;

    for (i = 0; i < n; i++) {
        end = strstr(p, " | ");

        if (end == NULL) {
            end = p + strlen(p);
        }

        faas_agg_done(run, out[i], 200, NULL, 0, p, end - p);

        p = *end ? end + 3 : end;
    }

    snprintf(buf, sizeof(buf), "%s", document(run));

    faas_agg_free(agg);

    return buf;
}


/* faas_agg_ready()'s calls, by name: "a b" */

static inline const char *
ready(faas_agg_run_t *run)
{
    size_t                 i, n, len;
    size_t                 out[FAAS_AGG_CALLS_MAX];
    faas_agg_call_info_t   info;
    static char            buf[512];

    n = faas_agg_ready(run, out);
    len = 0;
    buf[0] = '\0';

    for (i = 0; i < n; i++) {
        faas_agg_call_info(current, out[i], &info);
        len += snprintf(buf + len, sizeof(buf) - len, "%s%s",
                        i ? " " : "", info.name);
    }

    return buf;
}


#endif /* FAAS_AGGREGATE_UNIT_H_INCLUDED */
