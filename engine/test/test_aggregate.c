/*
 * Copyright (C) ngx_faas authors
 *
 * Unit tests of BFF aggregation: the setters and their messages,
 * compiling (unknown calls, cycles, keys), the order calls start in,
 * what each call sends, how answers are judged, the shaped document and
 * its errors, the 502 answer, the memory budget, and cJSON in an arena.
 */


#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

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


static const char *json(const char *text);
static faas_agg_t *build(const char *const *spec);
static const char *build_error(const char *const *spec);
static int lookup(void *data, unsigned source, const char *name, size_t len,
    const char **value, size_t *vlen);
static void field(unsigned source, const char *name, const char *value);
static faas_agg_run_t *start(faas_agg_t *agg);
static const char *request(faas_agg_run_t *run, size_t call);
static void answer(faas_agg_run_t *run, size_t call, const char *body);
static const char *reason(faas_agg_run_t *run, size_t call);
static const char *document(faas_agg_run_t *run);
static const char *one_call(const char *const *spec, const char *answer_ct,
    unsigned status, const char *body);
static const char *shaped(const char *const *spec, const char *body);
static const char *ready(faas_agg_run_t *run);
static void test_setters(void);
static void test_compile(void);
static void test_info(void);
static void test_ready(void);
static void test_render(void);
static void test_render_body(void);
static void test_answers(void);
static void test_shaping(void);
static void test_document(void);
static void test_bad_gateway(void);
static void test_budget(void);
static void test_pool(void);
static void test_json_arena(void);
static void test_edges(void);
static void test_large(void);


static faas_error_t    err;
static faas_arena_t    arena;
static field_t         fields[FIELDS_MAX];
static size_t          nfields;
static const char     *req_body;
static const char     *trace_id;
static faas_agg_t     *current;       /* of the last run started */


/* JSON written with ' for ", to keep the tests readable */

static const char *
json(const char *text)
{
    size_t       i;
    static char  buf[8][4096];
    static int   next;
    char        *b;

    b = buf[next++ % 8];

    for (i = 0; text[i] && i < sizeof(buf[0]) - 1; i++) {
        b[i] = (text[i] == '\'') ? '"' : text[i];
    }

    b[i] = '\0';

    return b;
}


/*
 * A declaration from lines: "NAME" adds a call, "NAME.KEY=VALUE" sets
 * one of its keys, "KEY=VALUE" one of the aggregation's; then compiled.
 * NULL with "err" set when any step fails.
 */

static faas_agg_t *
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


static const char *
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


static int
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


static void
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

static faas_agg_run_t *
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

static const char *
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


static void
answer(faas_agg_run_t *run, size_t call, const char *body)
{
    faas_agg_done(run, call, 200, "application/json", 16, body,
                  strlen(body));
}


static const char *
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

static const char *
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

static const char *
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

static const char *
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

static const char *
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


static void
test_setters(void)
{
    faas_agg_t      *agg;
    faas_agg_run_t  *run;

    /* the aggregation's keys */

    CHECK_STR(build_error((const char *[]) { "timeout=abc", NULL }),
              "timeout: \"abc\" is not a duration (500ms, 2s)");
    CHECK_STR(build_error((const char *[]) { "timeout=0", NULL }),
              "timeout: \"0\" is out of range (1ms to 1 day)");
    CHECK_STR(build_error((const char *[]) { "timeout=25h", NULL }),
              "timeout: \"25h\" is out of range (1ms to 1 day)");
    CHECK_STR(build_error((const char *[]) { "timeout=2 s", NULL }),
              "timeout: \"2 s\" is not a duration (500ms, 2s)");
    CHECK_STR(build_error((const char *[]) {
                  "timeout=2s", "timeout=3s", NULL }),
              "timeout: set twice");
    CHECK_STR(build_error((const char *[]) { "retries=3", NULL }),
              "retries: unknown key (timeout, forward_headers)");
    CHECK_STR(build_error((const char *[]) {
                  "forward_headers=X-User, Connection", NULL }),
              "forward_headers: \"Connection\" is hop-by-hop; it is not "
              "forwarded");
    CHECK_STR(build_error((const char *[]) {
                  "forward_headers=host", NULL }),
              "forward_headers: \"host\" is the call's own; it is not "
              "forwarded");
    CHECK_STR(build_error((const char *[]) {
                  "forward_headers=X_User", NULL }),
              "forward_headers: \"X_User\" is not a header's name "
              "([A-Za-z0-9-])");

    /* durations, sizes, booleans */

    agg = build((const char *[]) {
        "timeout=1m", "forward_headers=X-A,X-B x-a", "forward_headers=X-C",
        "a", "a.url=/a", "a.timeout=2s", "a.max_size=64K",
        "a.optional=Yes",
        "b", "b.url=/b", "b.timeout=90000", "b.max_size=2m",
        "b.required=off", "b.output=no",
        "c", "c.function=hello", "c.body=forward",
        NULL });

    CHECK(agg != NULL);

    if (agg) {
        faas_agg_call_info_t  info;

        CHECK_INT(faas_agg_timeout(agg), 60000);
        CHECK_INT(faas_agg_nforward(agg), 3);
        CHECK_STR(faas_agg_forward(agg, 0), "X-A");
        CHECK_STR(faas_agg_forward(agg, 2), "X-C");
        CHECK(faas_agg_forward(agg, 3) == NULL);

        faas_agg_call_info(agg, 0, &info);
        CHECK_STR(info.name, "a");
        CHECK_INT(info.kind, FAAS_AGG_LOCATION);
        CHECK_INT(info.timeout_ms, 2000);
        CHECK_INT(info.max_size, 64 * 1024);
        CHECK_INT(info.required, 0);

        /* the call's timeout is clamped to the aggregation's */

        faas_agg_call_info(agg, 1, &info);
        CHECK_INT(info.timeout_ms, 60000);
        CHECK_INT(info.max_size, 2 * 1024 * 1024);
        CHECK_INT(info.required, 0);

        faas_agg_call_info(agg, 2, &info);
        CHECK_INT(info.kind, FAAS_AGG_FUNCTION);
        CHECK_STR(info.function, "hello");
        CHECK_INT(info.forward_body, 1);
        CHECK_INT(info.required, 1);
        CHECK_INT(info.timeout_ms, FAAS_AGG_CALL_TIMEOUT);

        faas_agg_free(agg);
    }

    /* the default list of forwarded headers; an empty list forwards none */

    agg = build((const char *[]) { "a", "a.url=/a", NULL });
    CHECK(agg != NULL);

    if (agg) {
        CHECK_INT(faas_agg_nforward(agg), 4);
        CHECK_STR(faas_agg_forward(agg, 0), "Authorization");
        CHECK_STR(faas_agg_forward(agg, 3), "User-Agent");
        faas_agg_free(agg);
    }

    agg = build((const char *[]) {
        "forward_headers=", "a", "a.url=/a", NULL });
    CHECK(agg != NULL);

    if (agg) {
        CHECK_INT(faas_agg_nforward(agg), 0);
        faas_agg_free(agg);
    }

    /* calls' names */

    CHECK_STR(build_error((const char *[]) { "query", NULL }),
              "calls.query: \"query\" is a source of holes (params, query, "
              "header, cookie, body), not a call's name");
    CHECK_STR(build_error((const char *[]) { "errors", NULL }),
              "calls.errors: \"errors\" is the answer's own member, not a "
              "call's name");
    CHECK_STR(build_error((const char *[]) { "a b", NULL }),
              "calls.a b: a call's name is 1 to 64 of A-Z a-z 0-9 _ -");
    CHECK_STR(build_error((const char *[]) { "a", "a", NULL }),
              "calls.a: defined twice");

    /* calls' keys */

    CHECK_STR(build_error((const char *[]) { "a", "a.url=backend", NULL }),
              "calls.a.url: \"backend\" does not start with \"/\"");
    CHECK_STR(build_error((const char *[]) { "a", "a.url=/b#top", NULL }),
              "calls.a.url: \"/b#top\" has a \"#\"");
    CHECK_STR(build_error((const char *[]) { "a", "a.url=/b c", NULL }),
              "calls.a.url: \"/b c\" has a space or a control character");
    CHECK_STR(build_error((const char *[]) {
                  "a", "a.url=/a", "a.url=/b", NULL }),
              "calls.a.url: set twice");
    CHECK_STR(build_error((const char *[]) {
                  "a", "a.url=/users/{params.id", NULL }),
              "calls.a.url: \"{params.id\" has no closing \"}\"");
    CHECK_STR(build_error((const char *[]) {
                  "a", "a.url=/users/{user..id}", NULL }),
              "calls.a.url: \"{user..id}\": an empty name");
    CHECK_STR(build_error((const char *[]) {
                  "a", "a.url=/users/{user.id:int}", NULL }),
              "calls.a.url: \"{user.id:int}\": the type is string, number, "
              "boolean or json");
    CHECK_STR(build_error((const char *[]) {
                  "a", "a.url=/users/{query}", NULL }),
              "calls.a.url: \"{query}\" names no query argument: "
              "{query.NAME}");
    CHECK_STR(build_error((const char *[]) {
                  "a", "a.url=/users/{header.}", NULL }),
              "calls.a.url: \"{header.}\": nothing after \".\"");
    CHECK_STR(build_error((const char *[]) {
                  "a", "a.function=-x", NULL }),
              "calls.a.function: \"-x\" is not a function's name (1 to 64 "
              "of A-Z a-z 0-9 _ -, not starting with \"-\")");
    CHECK_STR(build_error((const char *[]) { "a", "a.method=HEAD", NULL }),
              "calls.a.method: \"HEAD\" is not GET, POST, PUT, PATCH or "
              "DELETE");
    CHECK_STR(build_error((const char *[]) { "a", "a.verb=GET", NULL }),
              "calls.a.verb: unknown key");
    CHECK_STR(build_error((const char *[]) { "a", "a.query=x", NULL }),
              "calls.a.query: a name is missing: query.NAME");
    CHECK_STR(build_error((const char *[]) { "a", "a.query.=x", NULL }),
              "calls.a.query.: a query argument's name is 1 to 128 visible "
              "characters");
    CHECK_STR(build_error((const char *[]) { "a", "a.header.=x", NULL }),
              "calls.a.header.: a header's name is 1 to 128 of A-Z a-z 0-9 "
              "-");
    CHECK_STR(build_error((const char *[]) { "a", "a.urls=/x", NULL }),
              "calls.a.urls: unknown key");
    CHECK_STR(build_error((const char *[]) {
                  "a", "a.header.Transfer-Encoding=chunked", NULL }),
              "calls.a.header.Transfer-Encoding: is hop-by-hop; it cannot "
              "be set");
    CHECK_STR(build_error((const char *[]) {
                  "a", "a.header.X_Y=1", NULL }),
              "calls.a.header.X_Y: a header's name is 1 to 128 of A-Z a-z "
              "0-9 -");
    CHECK_STR(build_error((const char *[]) {
                  "a", "a.header.X-A=1", "a.header.x-a=2", NULL }),
              "calls.a.header.x-a: set twice");
    CHECK_STR(build_error((const char *[]) {
                  "a", "a.header.X-A=a\r\nb", NULL }),
              "calls.a.header.X-A: a header's value has no CR or LF");
    CHECK_STR(build_error((const char *[]) {
                  "a", "a.body={\"a\": [1, 2}", NULL }),
              "calls.a.body: invalid JSON near byte 11");
    CHECK_STR(build_error((const char *[]) {
                  "a", "a.body={\"a\": 1} x", NULL }),
              "calls.a.body: invalid JSON near byte 9");
    CHECK_STR(build_error((const char *[]) {
                  "a", "a.body=[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
                  "[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
                  "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]", NULL }),
              "calls.a.body: nested deeper than 64 levels");
    CHECK_STR(build_error((const char *[]) {
                  "a", "a.body={\"x\": \"{user.id\"}", NULL }),
              "calls.a.body: \"{user.id\" has no closing \"}\"");
    CHECK_STR(build_error((const char *[]) {
                  "a", "a.timeout=1x", NULL }),
              "calls.a.timeout: \"1x\" is not a duration (500ms, 2s)");
    CHECK_STR(build_error((const char *[]) {
                  "a", "a.max_size=65m", NULL }),
              "calls.a.max_size: \"65m\" is out of range (1 to 64m)");
    CHECK_STR(build_error((const char *[]) {
                  "a", "a.max_size=1g", NULL }),
              "calls.a.max_size: \"1g\" is not a size (64k, 1m)");
    CHECK_STR(build_error((const char *[]) {
                  "a", "a.required=maybe", NULL }),
              "calls.a.required: \"maybe\" is not true or false");
    CHECK_STR(build_error((const char *[]) {
                  "a", "a.required=true", "a.optional=true", NULL }),
              "calls.a.optional: set twice (required and optional are one "
              "setting)");
    CHECK_STR(build_error((const char *[]) {
                  "a", "a.target=data..x", NULL }),
              "calls.a.target: \"data..x\" is not a dot path: an empty "
              "name");
    CHECK_STR(build_error((const char *[]) {
                  "a", "a.pick=a, b:c", NULL }),
              "calls.a.pick: \"b:c\" is not a dot path: a name has a "
              "space, a control character or one of , : { }");
    CHECK_STR(build_error((const char *[]) {
                  "a", "a.rename.x=", NULL }),
              "calls.a.rename.x: a new name is 1 to 128 characters, no "
              "control characters");
    CHECK_STR(build_error((const char *[]) {
                  "a", "a.rename.x=y", "a.rename.x=z", NULL }),
              "calls.a.rename.x: set twice");
    CHECK_STR(build_error((const char *[]) { "a", "a.key=errors", NULL }),
              "calls.a.key: \"errors\" is the answer's own member");
    CHECK_STR(build_error((const char *[]) { "a", "a.merge=1", NULL }),
              "calls.a.merge: \"1\" is not true or false");

    /* a key whose value was refused may be given again, whole */

    agg = faas_agg_create();
    CHECK(agg != NULL);

    if (agg) {
        CHECK_INT(faas_agg_call_add(agg, "a", &err), 0);
        CHECK_INT(faas_agg_call_set(agg, 0, "body", "{\"v\": \"{x.y\"}",
                                    &err), FAAS_ERROR);
        CHECK_INT(faas_agg_call_set(agg, 0, "body",
                                    "{\"v\": \"{params.a}\", \"w\": [\"b\"]}",
                                    &err), FAAS_OK);
        CHECK_INT(faas_agg_call_set(agg, 0, "url", "/a/{params.a}?{x", &err),
                  FAAS_ERROR);
        CHECK_INT(faas_agg_call_set(agg, 0, "url", "/a", &err), FAAS_OK);
        CHECK_INT(faas_agg_call_set(agg, 0, "target", "a..b", &err),
                  FAAS_ERROR);
        CHECK_INT(faas_agg_call_set(agg, 0, "target", "a.b", &err), FAAS_OK);
        CHECK_INT(faas_agg_compile(agg, &err), FAAS_OK);

        nfields = 0;
        field(FAAS_AGG_SRC_PARAM, "a", "1");

        run = start(agg);
        CHECK_STR(ready(run), "a");
        CHECK_STR(request(run, 0), "POST /a {\"v\":\"1\",\"w\":[\"b\"]}");

        nfields = 0;
        faas_agg_free(agg);
    }

    /* after compiling, nothing changes */

    agg = build((const char *[]) { "a", "a.url=/a", NULL });
    CHECK(agg != NULL);

    if (agg) {
        CHECK_INT(faas_agg_call_set(agg, 0, "url", "/b", &err), FAAS_ERROR);
        CHECK_STR(err.msg, "calls.a.url: the aggregation is compiled and "
                  "cannot change");
        CHECK_INT(faas_agg_call_add(agg, "b", &err), -1);
        CHECK_INT(faas_agg_set(agg, "timeout", "1s", &err), FAAS_ERROR);
        CHECK_INT(faas_agg_compile(agg, &err), FAAS_OK);
        faas_agg_free(agg);
    }
}


static void
test_compile(void)
{
    CHECK_STR(build_error((const char *[]) {
                  "user", "user.url=/u",
                  "orders", "orders.url=/orders/{usr.id}", NULL }),
              "calls.orders.url: {usr.id} names no call");
    CHECK_STR(build_error((const char *[]) {
                  "orders", "orders.url=/o", "orders.query.x={orders.id}",
                  NULL }),
              "calls.orders.query.x: {orders.id} names the call itself");
    CHECK_STR(build_error((const char *[]) {
                  "a", "a.url=/a/{b.id}", "b", "b.url=/b/{a.id}", NULL }),
              "calls a -> b -> a depend on each other");
    CHECK_STR(build_error((const char *[]) {
                  "a", "a.url=/a/{c.id}", "b", "b.url=/b",
                  "c", "c.body={\"x\": \"{d}\"}", "c.url=/c",
                  "d", "d.url=/d", "d.header.X-B={b.x}",
                  "d.header.X-A={a.x}", NULL }),
              "calls a -> c -> d -> a depend on each other");
    CHECK_STR(build_error((const char *[]) {
                  "a", "a.url=/a", "a.function=f", NULL }),
              "calls.a: both url and function; a call has one of them");
    CHECK_STR(build_error((const char *[]) { "a", "a.method=GET", NULL }),
              "calls.a: no url or function");
    CHECK_STR(build_error((const char *[]) { "timeout=1s", NULL }),
              "calls: none: an aggregation makes at least one call");
    CHECK_STR(build_error((const char *[]) {
                  "a", "a.url=/a", "a.key=user",
                  "user", "user.url=/u", NULL }),
              "calls.user.key: \"user\" is the key of call a too");

    /* merged or not in the answer: no conflict */

    CHECK_STR(build_error((const char *[]) {
                  "a", "a.url=/a", "a.key=user", "a.merge=true",
                  "user", "user.url=/u",
                  "b", "b.url=/b", "b.key=user", "b.output=false", NULL }),
              "(built)");
}


static void
test_info(void)
{
    faas_agg_t      *agg;
    faas_agg_run_t  *run;

    /* a run of an aggregation not compiled is refused */

    agg = faas_agg_create();
    CHECK(agg != NULL);

    if (agg) {
        CHECK_INT(faas_agg_call_add(agg, "a", &err), 0);
        CHECK(start(agg) == NULL);
        CHECK_INT(faas_agg_ncalls(agg), 1);
        faas_agg_free(agg);
    }

    /* the budget: 1 MiB, 8 times each max_size and the request's body */

    agg = build((const char *[]) {
        "a", "a.url=/a", "a.max_size=1k", "b", "b.url=/b", NULL });

    req_body = "{\"x\": 1}";
    run = agg ? start(agg) : NULL;
    req_body = NULL;

    CHECK(run != NULL);
    CHECK_INT(arena.max, 1024 * 1024 + 8 * 1024 + 8 * FAAS_AGG_MAX_SIZE
                         + 8 * 8);

    faas_agg_free(agg);
}


static void
test_ready(void)
{
    faas_agg_t      *agg;
    faas_agg_run_t  *run;

    /* c waits for a and b; d for c; e for nothing; f for d */

    agg = build((const char *[]) {
        "c", "c.url=/c/{a.id}/{b.id}",
        "a", "a.url=/a",
        "d", "d.url=/d", "d.query.x={c.x}",
        "b", "b.url=/b",
        "e", "e.url=/e",
        "f", "f.url=/f", "f.body={\"d\": \"{d}\"}", "f.optional=true",
        NULL });

    CHECK(agg != NULL);

    if (agg == NULL) {
        return;
    }

    run = start(agg);

    CHECK_STR(ready(run), "a b e");
    CHECK_STR(ready(run), "");
    CHECK(!faas_agg_finished(run));

    answer(run, 1, "{\"id\": 1}");
    CHECK_STR(ready(run), "");

    answer(run, 3, "{\"id\": 2}");
    CHECK_STR(ready(run), "c");
    CHECK_STR(request(run, 0), "GET /c/1/2");

    answer(run, 4, "[]");
    answer(run, 0, "{\"x\": true}");
    CHECK_STR(ready(run), "d");
    CHECK_STR(request(run, 2), "GET /d?x=true");

    /* a repeated answer, a late failure: ignored */

    answer(run, 0, "{\"x\": false}");
    faas_agg_fail(run, 0, 504, "timed out");
    CHECK(!faas_agg_call_failed(run, 0));
    CHECK_STR(reason(run, 0), "(none)");

    answer(run, 2, "7");
    CHECK_STR(ready(run), "f");
    CHECK(!faas_agg_finished(run));
    CHECK(faas_agg_call_finished(run, 2));
    CHECK(!faas_agg_call_finished(run, 5));
    CHECK_STR(request(run, 5), "POST /f {\"d\":7}");

    answer(run, 5, "null");
    CHECK(faas_agg_finished(run));
    CHECK_INT(faas_agg_required_failed(run), -1);

    /* a failure fails what waits for it, at once, down the chain */

    run = start(agg);

    CHECK_STR(ready(run), "a b e");
    faas_agg_fail(run, 1, 503, "no upstream");

    CHECK(faas_agg_call_failed(run, 0));
    CHECK_STR(reason(run, 0), "depends on a, which failed");
    CHECK_STR(reason(run, 2), "depends on c, which failed");
    CHECK_STR(reason(run, 5), "depends on d, which failed");
    CHECK_STR(reason(run, 1), "503 no upstream");
    CHECK_INT(faas_agg_required_failed(run), 0);
    CHECK_STR(ready(run), "");
    CHECK(!faas_agg_finished(run));

    answer(run, 3, "{}");
    answer(run, 4, "{}");
    CHECK(faas_agg_finished(run));

    /* a call whose request cannot be made fails so too */

    run = start(agg);

    CHECK_STR(ready(run), "a b e");
    answer(run, 1, "{\"id\": 1}");
    answer(run, 3, "{\"id\": null}");
    CHECK_STR(ready(run), "c");
    CHECK_STR(request(run, 0), "failed: {b.id} is null; a url takes a "
              "string, number or boolean");
    CHECK_STR(reason(run, 2), "depends on c, which failed");
    CHECK_INT(faas_agg_required_failed(run), 0);

    faas_agg_free(agg);
}


static void
test_render(void)
{
    size_t           out[FAAS_AGG_CALLS_MAX];
    faas_agg_t      *agg;
    faas_agg_run_t  *run;

    nfields = 0;
    field(FAAS_AGG_SRC_PARAM, "id", "42");
    field(FAAS_AGG_SRC_QUERY, "q", "a b&c=d/é");
    field(FAAS_AGG_SRC_QUERY, "page", "3");
    field(FAAS_AGG_SRC_QUERY, "on", "1");
    field(FAAS_AGG_SRC_QUERY, "bad", "a/b");
    field(FAAS_AGG_SRC_QUERY, "filter", "{\"a\": [1, 2]}");
    field(FAAS_AGG_SRC_HEADER, "x-user-id", "u7");
    field(FAAS_AGG_SRC_HEADER, "x-evil", "a\r\nb");
    field(FAAS_AGG_SRC_COOKIE, "sid", "s=1");

    agg = build((const char *[]) {
        "user", "user.url=/users/{params.id}?full=1&q={query.q}",
        "user.header.X-User={header.x-user-id}",
        "user.header.X-Sid=sid {cookie.sid}",
        "v", "v.url=/v/{user.n}/{user.f}/{user.t}/{user.s}/{user.big}"
        "/{user.a.b.1.c}/{user.neg}/{{x}/{1}/}",
        "w", "w.url=/w/{user.tags:json}/{user.tags.0}",
        "w.query.q={query.q}", "w.query.a+b={user.s}!",
        "w.query.e=", "w.method=delete",
        "x", "x.url=/x/{user.s:string}/{query.page:number}"
        "/{query.on:boolean}/{user.n:boolean}/{user.ns:number}",
        "y", "y.function=fn", "y.query.f={query.filter:json}",
        NULL });

    CHECK(agg != NULL);

    if (agg == NULL) {
        return;
    }

    run = start(agg);

    CHECK_INT(faas_agg_ready(run, out), 2);
    CHECK_STR(request(run, 0), "GET /users/42?full=1&q=a%20b%26c%3Dd%2F%C3%A9"
              " [X-User: u7] [X-Sid: sid s=1]");
    CHECK_STR(request(run, 4), "GET ?f=%7B%22a%22%3A%5B1%2C2%5D%7D");

    answer(run, 0, json("{'n': 1, 'f': 2.5, 't': true, 's': 'x y',"
                        " 'big': 1e20, 'neg': -0.125, 'ns': '12',"
                        " 'a': {'b': [0, {'c': 'deep'}]},"
                        " 'tags': ['t1', 't2'], 'o': {}, 'z': null,"
                        " 'slash': 'a/b', 'dots': '..', 'empty': '',"
                        " 'nl': 'a\\nb'}"));

    CHECK_INT(faas_agg_ready(run, out), 3);
    CHECK_STR(request(run, 1), "GET /v/1/2.5/true/x y/1e+20/deep/-0.125"
              "/{x}/{1}/}");
    CHECK_STR(request(run, 2), "DELETE /w/[\"t1\",\"t2\"]/t1"
              "?q=a%20b%26c%3Dd%2F%C3%A9&a%2Bb=x%20y%21&e=");
    CHECK_STR(request(run, 3), "GET /x/x y/3/true/true/12");

    faas_agg_free(agg);

    /* what cannot be sent: the call fails, with the reason */

#define RENDER_FAILS(url, want)                                              \
    do {                                                                     \
        agg = build((const char *[]) {                                       \
            "user", "user.url=/u", "c", "c.url=" url, NULL });               \
        CHECK(agg != NULL);                                                  \
        if (agg) {                                                           \
            run = start(agg);                                                \
            faas_agg_ready(run, out);                                        \
            answer(run, 0, json("{'n': 1, 's': 'x', 'tags': ['t'],"          \
                                " 'o': {}, 'z': null, 'slash': 'a/b',"       \
                                " 'dots': '..', 'empty': '', 'q': 'a?b'}")); \
            faas_agg_ready(run, out);                                        \
            CHECK_STR(request(run, 1), want);                                \
            CHECK(faas_agg_call_failed(run, 1));                             \
            CHECK_STR(reason(run, 1), (want) + 8);                           \
            faas_agg_free(agg);                                              \
        }                                                                    \
    } while (0)

    RENDER_FAILS("/c/{user.tags}", "failed: {user.tags} is an array; a url "
                 "takes a string, number or boolean");
    RENDER_FAILS("/c/{user.o}", "failed: {user.o} is an object; a url takes "
                 "a string, number or boolean");
    RENDER_FAILS("/c?x={user.z}", "failed: {user.z} is null; a url takes a "
                 "string, number or boolean");
    RENDER_FAILS("/c/{user.address.city}", "failed: {user.address.city}: "
                 "user has no field address");
    RENDER_FAILS("/c/{user.s.x}", "failed: {user.s.x}: user has no field "
                 "s.x");
    RENDER_FAILS("/c/{user.tags.3}", "failed: {user.tags.3}: user has no "
                 "index tags.3");
    RENDER_FAILS("/c/{user.slash}", "failed: {user.slash}: \"a/b\" cannot go "
                 "into a path segment");
    RENDER_FAILS("/c/{user.dots}", "failed: {user.dots}: \"..\" cannot go "
                 "into a path segment");
    RENDER_FAILS("/c/{user.empty}", "failed: {user.empty}: \"\" cannot go "
                 "into a path segment");
    RENDER_FAILS("/c/{user.q}", "failed: {user.q}: \"a?b\" cannot go into "
                 "a path segment");
    RENDER_FAILS("/c/{query.bad}", "failed: {query.bad}: \"a/b\" cannot go "
                 "into a path segment");
    RENDER_FAILS("/c/{query.nope}", "failed: {query.nope}: the request has "
                 "no query argument nope");
    RENDER_FAILS("/c/{params.x}", "failed: {params.x}: the request has no "
                 "path parameter x");
    RENDER_FAILS("/c/{cookie.x}", "failed: {cookie.x}: the request has no "
                 "cookie x");
    RENDER_FAILS("/c/{query.q:number}", "failed: {query.q:number}: "
                 "\"a b&c=d/\xc3\xa9\" is not a number");
    RENDER_FAILS("/c/{user.s:boolean}", "failed: {user.s:boolean}: \"x\" is "
                 "not a boolean");
    RENDER_FAILS("/c/{user.tags:number}", "failed: {user.tags:number}: an "
                 "array is not a number");
    RENDER_FAILS("/c/{query.q:json}", "failed: {query.q:json}: "
                 "\"a b&c=d/\xc3\xa9\" is not JSON");
    RENDER_FAILS("/c/{user.o:string}", "failed: {user.o:string} is an "
                 "object; a url takes a string, number or boolean");
    RENDER_FAILS("/c/{body.x}", "failed: {body.x}: the request body is not "
                 "JSON");

    /* a header's value: no CR or LF from a hole either */

    agg = build((const char *[]) {
        "a", "a.url=/a", "a.header.X-E=<{header.x-evil}>", NULL });
    CHECK(agg != NULL);

    if (agg) {
        run = start(agg);
        faas_agg_ready(run, out);
        CHECK_STR(request(run, 0), "failed: {header.x-evil}: \"a\\r\\nb\" "
                  "cannot go into a header");
        faas_agg_free(agg);
    }

    nfields = 0;
}


static void
test_render_body(void)
{
    size_t           out[FAAS_AGG_CALLS_MAX];
    faas_agg_t      *agg;
    faas_agg_run_t  *run;

    nfields = 0;
    field(FAAS_AGG_SRC_QUERY, "page", "3");
    field(FAAS_AGG_SRC_HEADER, "x-data", "[1,{\"k\":\"v\"}]");

    req_body = json("{'items': [{'id': 'i1', 'qty': 2}], 'note': 'hi'}");

    agg = build((const char *[]) {
        "user", "user.url=/u",
        "b", "b.url=/b", "b.method=PUT",
        "b.body=" "{\"id\": \"{user.id}\", \"name\": \"{user.name}\","
        " \"tags\": \"{user.tags}\", \"addr\": \"{user.addr}\","
        " \"none\": \"{user.none}\", \"ok\": \"{user.ok}\","
        " \"text\": \"id {user.id} of {user.name}\","
        " \"idstr\": \"{user.id:string}\", \"page\": \"{query.page}\","
        " \"pagenum\": \"{query.page:number}\","
        " \"data\": \"{header.x-data:json}\","
        " \"first\": \"{body.items.0}\", \"note\": \"{body.note}\","
        " \"all\": \"{user}\", \"lit\": [1, true, null, \"{{x}\", 2.5],"
        " \"nested\": {\"deep\": [\"{user.addr.city}\"]}}",
        "f", "f.url=/f", "f.body=forward",
        NULL });

    CHECK(agg != NULL);

    if (agg == NULL) {
        req_body = NULL;
        return;
    }

    run = start(agg);

    faas_agg_ready(run, out);
    CHECK_STR(request(run, 2), "POST /f");

    answer(run, 0, json("{'id': 7, 'name': 'Ann', 'tags': ['a', 'b'],"
                        " 'addr': {'city': 'Oslo'}, 'none': null,"
                        " 'ok': false}"));
    faas_agg_ready(run, out);

    CHECK_STR(request(run, 1), json(
              "PUT /b {'id':7,'name':'Ann','tags':['a','b'],"
              "'addr':{'city':'Oslo'},'none':null,'ok':false,"
              "'text':'id 7 of Ann','idstr':'7','page':'3','pagenum':3,"
              "'data':[1,{'k':'v'}],'first':{'id':'i1','qty':2},"
              "'note':'hi','all':{'id':7,'name':'Ann','tags':['a','b'],"
              "'addr':{'city':'Oslo'},'none':null,'ok':false},"
              "'lit':[1,true,null,'{x}',2.5],"
              "'nested':{'deep':['Oslo']}}"));

    /* the answer the body referred to is intact */

    answer(run, 1, "{}");
    answer(run, 2, "{}");
    CHECK_STR(document(run), json(
              "200 {'user':{'id':7,'name':'Ann','tags':['a','b'],"
              "'addr':{'city':'Oslo'},'none':null,'ok':false},"
              "'b':{},'f':{}}"));

    faas_agg_free(agg);

    /* text with an object in it fails; JSON text of it does not */

    agg = build((const char *[]) {
        "user", "user.url=/u",
        "b", "b.url=/b", "b.body={\"t\": \"x {user.o}\"}",
        "c", "c.url=/c", "c.body={\"t\": \"x {user.o:json}\"}",
        NULL });

    if (agg) {
        run = start(agg);
        faas_agg_ready(run, out);
        answer(run, 0, json("{'o': {'a': 1}}"));
        faas_agg_ready(run, out);
        CHECK_STR(request(run, 1), "failed: {user.o} is an object; text "
                  "takes a string, number or boolean");
        CHECK_STR(request(run, 2), json("POST /c {'t':'x {\\'a\\':1}'}"));
        faas_agg_free(agg);
    }

    /* a body that is not JSON */

    req_body = "not json";

    agg = build((const char *[]) {
        "b", "b.url=/b", "b.body={\"n\": \"{body.note}\"}", NULL });

    if (agg) {
        run = start(agg);
        faas_agg_ready(run, out);
        CHECK_STR(request(run, 0), "failed: {body.note}: the request body "
                  "is not JSON");
        faas_agg_free(agg);
    }

    req_body = NULL;
    nfields = 0;
}


static void
test_answers(void)
{
    static const char  *spec[] = { "a", "a.url=/a", NULL };
    static const char  *small[] = {
        "a", "a.url=/a", "a.max_size=8", NULL
    };
    char                deep[200];

    CHECK_STR(one_call(spec, "application/json", 200, "{\"a\":1}"),
              "200 {\"a\":{\"a\":1}}");
    CHECK_STR(one_call(spec, "Application/JSON; charset=utf-8", 201,
                       " [1] \n"),
              "200 {\"a\":[1]}");
    CHECK_STR(one_call(spec, "application/problem+json", 200, "\"x\""),
              "200 {\"a\":\"x\"}");
    CHECK_STR(one_call(spec, "text/json", 200, "true"),
              "200 {\"a\":true}");
    CHECK_STR(one_call(spec, NULL, 200, "42"), "200 {\"a\":42}");
    CHECK_STR(one_call(spec, "text/html", 204, NULL), "200 {\"a\":null}");
    CHECK_STR(one_call(spec, "text/html", 200, ""), "200 {\"a\":null}");
    CHECK_STR(one_call(spec, "text/html; charset=utf-8", 200, "<p>"),
              "200 content type \"text/html\", not JSON");
    CHECK_STR(one_call(spec, "application/+json", 200, "1"),
              "200 content type \"application/+json\", not JSON");
    CHECK_STR(one_call(spec, "application/json", 200, "{\"a\": }"),
              "200 invalid JSON near byte 6");
    CHECK_STR(one_call(spec, "application/json", 200, "{\"a\": 1} x"),
              "200 invalid JSON near byte 9");
    CHECK_STR(one_call(spec, NULL, 200, "<html>"),
              "200 invalid JSON near byte 0");
    CHECK_STR(one_call(spec, "application/json", 503, "{}"),
              "503 status 503");
    CHECK_STR(one_call(spec, "application/json", 302, ""),
              "302 status 302");
    CHECK_STR(one_call(small, "application/json", 200, "[1,2,3,4,5]"),
              "200 answer larger than max_size (8 bytes)");
    CHECK_STR(one_call(small, "application/json", 200, "[1,2,3]"),
              "200 {\"a\":[1,2,3]}");

    memset(deep, '[', 65);
    memset(deep + 65, ']', 65);
    deep[130] = '\0';

    CHECK_STR(one_call(spec, NULL, 200, deep),
              "200 JSON nested deeper than 64 levels");

    /* 64 levels are fine; brackets in strings do not count */

    deep[64] = '"';
    deep[65] = '[';
    deep[66] = '"';
    deep[67] = '\0';
    memset(deep + 67, ']', 64);
    deep[131] = '\0';

    CHECK(strncmp(one_call(spec, NULL, 200, deep), "200 {\"a\":[[[", 12)
          == 0);
}


static void
test_shaping(void)
{
    /* keyed, with a key of its own */

    CHECK_STR(shaped((const char *[]) {
                  "user", "user.url=/u", "user.key=profile",
                  "n", "n.url=/n", NULL },
                  "{\"id\": 1} | 5"),
              "200 {\"profile\":{\"id\":1},\"n\":5}");

    /* deep merge: objects merge, later calls win, arrays are replaced */

    CHECK_STR(shaped((const char *[]) {
                  "a", "a.url=/a", "a.merge=true",
                  "b", "b.url=/b", "b.merge=yes",
                  "c", "c.url=/c", "c.merge=on", NULL },
                  json("{'user': {'id': 1, 'name': 'A', 'tags': [1, 2]},"
                       " 'x': 1} | "
                       "{'user': {'name': 'B', 'tags': [3],"
                       " 'addr': {'c': 1}}, 'x': {'y': 2}} | "
                       "[1, 2]")),
              json("200 {'user':{'id':1,'name':'B','tags':[3],"
                   "'addr':{'c':1}},'x':{'y':2},'c':[1,2]}"));

    /* a keyed call and a merged one meet: the later wins, objects merge */

    CHECK_STR(shaped((const char *[]) {
                  "a", "a.url=/a", "a.key=user",
                  "b", "b.url=/b", "b.merge=true", NULL },
                  json("{'id': 1} | {'user': {'name': 'B'}}")),
              json("200 {'user':{'id':1,'name':'B'}}"));

    /* target */

    CHECK_STR(shaped((const char *[]) {
                  "a", "a.url=/a", "a.target=data.items", NULL },
                  json("{'data': {'items': [1, 2]}, 'meta': {}}")),
              json("200 {'a':[1,2]}"));
    CHECK_STR(shaped((const char *[]) {
                  "a", "a.url=/a", "a.target=data.1.v", NULL },
                  json("{'data': [{'v': 1}, {'v': 2}]}")),
              json("200 {'a':2}"));
    /* a missing target fails the call: 502 when required */

    CHECK_STR(shaped((const char *[]) {
                  "a", "a.url=/a", "a.target=data.x", NULL },
                  json("{'data': {}}")),
              json("502 {'error':'call a failed: target data.x: no such "
                   "field','call':'a','status':200,'reason':'target "
                   "data.x: no such field'}"));
    CHECK_STR(shaped((const char *[]) {
                  "a", "a.url=/a", "a.target=data.x", "a.optional=true",
                  NULL },
                  json("{'data': {}}")),
              json("200 partial {'a':null,'errors':[{'call':'a',"
                   "'status':200,'reason':'target data.x: no such "
                   "field'}]}"));

    /* pick: nested paths keep their structure; arrays, each element */

    CHECK_STR(shaped((const char *[]) {
                  "a", "a.url=/a", "a.pick=id, addr.city", "a.pick=gone",
                  NULL },
                  json("{'id': 1, 'name': 'A', 'addr': {'city': 'Oslo',"
                       " 'zip': '0150'}, 'x': 2}")),
              json("200 {'a':{'id':1,'addr':{'city':'Oslo'}}}"));
    CHECK_STR(shaped((const char *[]) {
                  "a", "a.url=/a", "a.pick=id tags.0", NULL },
                  json("[{'id': 1, 'n': 1, 'tags': ['x', 'y']}, 7,"
                       " {'n': 2}]")),
              json("200 {'a':[{'id':1,'tags':['x']},7,{}]}"));
    CHECK_STR(shaped((const char *[]) {
                  "a", "a.url=/a", "a.pick=items.name", NULL },
                  json("{'items': [{'name': 'a', 'p': 1}, {'p': 2}],"
                       " 'total': 2}")),
              json("200 {'a':{'items':[{'name':'a'},{}]}}"));
    CHECK_STR(shaped((const char *[]) {
                  "a", "a.url=/a", "a.pick=id.x", NULL },
                  json("{'id': 1}")),
              json("200 {'a':{}}"));

    /* omit */

    CHECK_STR(shaped((const char *[]) {
                  "a", "a.url=/a", "a.omit=secret, addr.zip, list.1", NULL },
                  json("{'id': 1, 'secret': 's', 'addr': {'city': 'Oslo',"
                       " 'zip': '0150'}, 'list': [0, 1, 2]}")),
              json("200 {'a':{'id':1,'addr':{'city':'Oslo'},"
                   "'list':[0,2]}}"));
    CHECK_STR(shaped((const char *[]) {
                  "a", "a.url=/a", "a.omit=pw", NULL },
                  json("[{'u': 1, 'pw': 'x'}, {'u': 2, 'pw': 'y'}, 3]")),
              json("200 {'a':[{'u':1},{'u':2},3]}"));

    /* rename: at the same level; nested; a swap; arrays */

    CHECK_STR(shaped((const char *[]) {
                  "a", "a.url=/a", "a.rename.user_id=id",
                  "a.rename.addr.zip=postcode", "a.rename.a=b",
                  "a.rename.b=a", NULL },
                  json("{'user_id': 1, 'addr': {'zip': '0150'}, 'a': 'A',"
                       " 'b': 'B'}")),
              json("200 {'a':{'id':1,'addr':{'postcode':'0150'},"
                   "'b':'A','a':'B'}}"));
    CHECK_STR(shaped((const char *[]) {
                  "a", "a.url=/a", "a.rename.n=name", NULL },
                  json("[{'n': 1, 'name': 'old'}, {'n': 2}]")),
              json("200 {'a':[{'name':1},{'name':2}]}"));

    /* all of them, in order: target, pick, omit, rename */

    CHECK_STR(shaped((const char *[]) {
                  "a", "a.url=/a", "a.target=data", "a.pick=u, p",
                  "a.omit=p.x", "a.rename.u=user", NULL },
                  json("{'data': {'u': 1, 'p': {'x': 1, 'y': 2}, 'z': 3}}")),
              json("200 {'a':{'user':1,'p':{'y':2}}}"));

    /* output false: not in the answer (test_pool: used by another) */

    CHECK_STR(shaped((const char *[]) {
                  "a", "a.url=/a", "a.output=false",
                  "b", "b.url=/b", NULL },
                  json("{'id': 1} | 2")),
              "200 {\"b\":2}");

    /* a merged value that is no object goes under its key */

    CHECK_STR(shaped((const char *[]) {
                  "a", "a.url=/a", "a.merge=true",
                  "b", "b.url=/b", "b.merge=true", NULL },
                  json("{'b': 1} | 'x'")),
              "200 {\"b\":\"x\"}");
}


static void
test_document(void)
{
    faas_agg_t      *agg;
    faas_agg_run_t  *run;

    agg = build((const char *[]) {
        "a", "a.url=/a",
        "b", "b.url=/b", "b.optional=true",
        "c", "c.url=/c/{b.id}", "c.optional=true",
        "d", "d.url=/d", "d.optional=true", "d.output=false",
        "e", "e.url=/e", "e.optional=true",
        "f", "f.url=/f", "f.optional=true", "f.merge=true",
        NULL });

    CHECK(agg != NULL);

    if (agg == NULL) {
        return;
    }

    run = start(agg);

    CHECK_STR(ready(run), "a b d e f");
    answer(run, 0, "{\"x\": 1}");
    faas_agg_fail(run, 1, 504, "timed out after 1000 ms");
    faas_agg_done(run, 3, 500, NULL, 0, "oops", 4);
    faas_agg_done(run, 5, 200, "application/json", 16,
                  "{\"errors\": 1, \"m\": 2}", 21);

    /* e never answered: the glue's deadline passed */

    CHECK(!faas_agg_finished(run));
    CHECK_INT(faas_agg_required_failed(run), -1);

    CHECK_STR(document(run), json(
              "200 partial {'a':{'x':1},'b':null,'c':null,'e':null,'m':2,"
              "'errors':[{'call':'b','status':504,'reason':'timed out "
              "after 1000 ms'},{'call':'c','reason':'depends on b, which "
              "failed'},{'call':'d','status':500,'reason':'status 500'},"
              "{'call':'e','reason':'not finished'}]}"));

    /* made once */

    CHECK_STR(document(run), json(
              "200 partial {'a':{'x':1},'b':null,'c':null,'e':null,'m':2,"
              "'errors':[{'call':'b','status':504,'reason':'timed out "
              "after 1000 ms'},{'call':'c','reason':'depends on b, which "
              "failed'},{'call':'d','status':500,'reason':'status 500'},"
              "{'call':'e','reason':'not finished'}]}"));

    faas_agg_free(agg);

    /* everything answered: complete */

    CHECK_STR(shaped((const char *[]) {
                  "a", "a.url=/a", "b", "b.url=/b", NULL }, "1 | 2"),
              "200 {\"a\":1,\"b\":2}");
}


static void
test_bad_gateway(void)
{
    faas_agg_t      *agg;
    faas_agg_run_t  *run;
    char             longer[300];

    agg = build((const char *[]) {
        "a", "a.url=/a", "b", "b.url=/b", "c", "c.url=/c",
        "c.optional=true", NULL });

    CHECK(agg != NULL);

    if (agg == NULL) {
        return;
    }

    trace_id = "0123456789abcdef0123456789abcdef";
    run = start(agg);
    trace_id = NULL;

    CHECK_STR(ready(run), "a b c");
    faas_agg_fail(run, 2, 500, "optional");
    CHECK_INT(faas_agg_required_failed(run), -1);

    faas_agg_done(run, 1, 503, "text/plain", 10, "busy", 4);
    CHECK_INT(faas_agg_required_failed(run), 1);

    CHECK_STR(document(run), json(
              "502 {'error':'call b failed: status 503','call':'b',"
              "'status':503,'reason':'status 503',"
              "'trace_id':'0123456789abcdef0123456789abcdef'}"));

    /* a required call not finished is the failure, when none failed */

    run = start(agg);
    CHECK_STR(ready(run), "a b c");
    answer(run, 1, "{}");

    CHECK_STR(document(run), json(
              "502 {'error':'call a failed: not finished','call':'a',"
              "'reason':'not finished'}"));

    /* reasons are bounded, and cut on a character */

    run = start(agg);
    CHECK_STR(ready(run), "a b c");

    memset(longer, 'x', sizeof(longer));
    memcpy(longer + 199, "\xc3\xa9", 2);
    longer[sizeof(longer) - 1] = '\0';

    faas_agg_fail(run, 0, 0, longer);
    CHECK_INT(strlen(reason(run, 0)), 199);

    faas_agg_free(agg);
}


static void
test_budget(void)
{
    char            *big;
    size_t           i, out[FAAS_AGG_CALLS_MAX];
    faas_agg_t      *agg;
    faas_agg_run_t  *run;

    agg = build((const char *[]) {
        "a", "a.url=/a", "a.max_size=1m", "a.optional=true",
        "b", "b.url=/b", NULL });

    big = malloc(600000);

    if (agg == NULL || big == NULL) {
        CHECK(agg != NULL && big != NULL);
        faas_agg_free(agg);
        free(big);
        return;
    }

    /* nodes take far more than their text: over a budget the glue set */

    big[0] = '[';

    for (i = 1; i < 599998; i++) {
        big[i] = (i % 2) ? '0' : ',';
    }

    big[599998] = ']';

    faas_arena_free(&arena);
    memset(&arena, 0, sizeof(faas_arena_t));
    arena.max = 2 * 1024 * 1024;

    current = agg;
    run = faas_agg_run_create(agg, NULL, &arena);
    CHECK(run != NULL);
    CHECK_INT(arena.max, 2 * 1024 * 1024);

    faas_agg_ready(run, out);
    faas_agg_done(run, 0, 200, NULL, 0, big, 599999);
    CHECK_STR(reason(run, 0), "200 answer too big to process");

    /* the run goes on */

    answer(run, 1, "{\"ok\": true}");
    CHECK_STR(document(run), json(
              "200 partial {'a':null,'b':{'ok':true},'errors':[{'call':'a',"
              "'status':200,'reason':'answer too big to process'}]}"));

    /* an answer that fits, then no room for the document */

    run = start(agg);
    faas_agg_ready(run, out);

    memset(big, 'x', 200000);
    big[0] = '"';
    big[199999] = '"';

    faas_agg_done(run, 0, 200, NULL, 0, big, 200000);
    answer(run, 1, "1");
    CHECK(!faas_agg_call_failed(run, 0));

    arena.max = arena.total;

    CHECK_STR(document(run), "FAAS_ERROR");
    CHECK_STR(document(run), "FAAS_ERROR");

    faas_agg_free(agg);
    free(big);
}


/* a request's pool: every block remembered, freed by its owner only */

typedef struct {
    void      *blocks[256];
    size_t     n;
} pool_t;


static void *
pool_alloc(void *data, size_t size)
{
    pool_t  *pool;

    pool = data;

    if (pool->n == 256) {
        return NULL;
    }

    pool->blocks[pool->n] = malloc(size);

    return pool->blocks[pool->n++];
}


static void
test_pool(void)
{
    size_t            i, out[FAAS_AGG_CALLS_MAX];
    pool_t            pool;
    faas_agg_t       *agg;
    faas_arena_t      a;
    faas_agg_run_t   *run;
    faas_agg_input_t  in;

    agg = build((const char *[]) {
        "a", "a.url=/a", "b", "b.url=/b/{a.id}", "b.body={\"x\":\"{a}\"}",
        NULL });

    CHECK(agg != NULL);

    if (agg == NULL) {
        return;
    }

    memset(&pool, 0, sizeof(pool_t));
    memset(&a, 0, sizeof(faas_arena_t));
    memset(&in, 0, sizeof(faas_agg_input_t));

    a.block_alloc = pool_alloc;
    a.block_data = &pool;

    run = faas_agg_run_create(agg, &in, &a);
    CHECK(run != NULL);

    faas_agg_ready(run, out);
    faas_agg_done(run, 0, 200, NULL, 0, "{\"id\": 5}", 9);
    faas_agg_ready(run, out);
    CHECK_STR(request(run, 1), "POST /b/5 {\"x\":{\"id\":5}}");
    faas_agg_done(run, 1, 200, NULL, 0, "[]", 2);
    CHECK_STR(document(run), "200 {\"a\":{\"id\":5},\"b\":[]}");

    CHECK(pool.n > 0);

    /* the arena forgets; ASan would see a double free otherwise */

    faas_arena_free(&a);

    for (i = 0; i < pool.n; i++) {
        free(pool.blocks[i]);
    }

    faas_agg_free(agg);
}


static void
test_json_arena(void)
{
    char          *text;
    cJSON         *root, *mine;
    faas_arena_t   a, *prev;

    memset(&a, 0, sizeof(faas_arena_t));

    /* a tree of malloc() before, deleted after: the hooks are plain */

    mine = cJSON_Parse("{\"a\": [1, 2, 3]}");

    prev = faas_json_arena(&a);
    CHECK(prev == NULL);

    root = cJSON_Parse("{\"b\": \"in the arena\"}");
    CHECK(root != NULL);
    CHECK(a.total > 0);

    /* deleting an arena's tree while it is set does nothing */

    cJSON_Delete(root);

    /* faas_json_print() copies with malloc() all the same */

    text = faas_json_print(cJSON_CreateString("x"));
    CHECK_STR(text, "\"x\"");

    CHECK(faas_json_arena(NULL) == &a);

    free(text);

    text = faas_json_print(mine);
    CHECK_STR(text, "{\"a\":[1,2,3]}");
    free(text);

    /* nested: the previous arena comes back */

    CHECK(faas_json_arena(&a) == NULL);
    CHECK(faas_json_arena(NULL) == &a);

    faas_arena_free(&a);
}


static void
test_edges(void)
{
    size_t           i;
    faas_agg_t      *agg;
    faas_agg_run_t  *run;
    char             line[FAAS_AGG_CALLS_MAX + 1][16];
    const char      *spec[FAAS_AGG_CALLS_MAX + 3];

    /* hole syntax */

    CHECK_STR(build_error((const char *[]) {
                  "a", "a.url=/a/{b{c}", NULL }),
              "calls.a.url: \"{b\" has no closing \"}\"");
    CHECK_STR(build_error((const char *[]) {
                  "a", "a.url=/a/{b$c}", NULL }),
              "calls.a.url: \"{b$c}\": a hole is {SOURCE.PATH}, SOURCE a "
              "call's name or params, query, header, cookie, body");
    CHECK_STR(build_error((const char *[]) {
                  "a", "a.url=/a/{query.a/b}", NULL }),
              "calls.a.url: \"{query.a/b}\": a query argument's name is "
              "letters, digits and !#$%&'*+-.^_`|~");

    /* limits */

    for (i = 0; i <= FAAS_AGG_CALLS_MAX; i++) {
        snprintf(line[i], sizeof(line[0]), "c%zu", i);
        spec[i] = line[i];
    }

    spec[i] = NULL;

    CHECK_STR(build_error(spec), "calls.c64: more than 64 calls");

    CHECK_STR(build_error((const char *[]) {
                  "a", "a.url=/a", "a.pick=a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a"
                  ".a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a"
                  ".a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a", NULL }),
              "calls.a.pick: \"a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a....\" "
              "is not a dot path: more than 64 steps");

    /* casts, and the places text goes */

    nfields = 0;
    field(FAAS_AGG_SRC_QUERY, "f", "-1.5e-3");
    field(FAAS_AGG_SRC_QUERY, "z", "0");
    field(FAAS_AGG_SRC_QUERY, "e", "1E+2");

    agg = build((const char *[]) {
        "u", "u.url=/u",
        "a", "a.url=/a/{query.f:number}/{query.z:boolean}/{u.t:boolean}"
        "/{u.n:number}/{u.sum}/{u.one:boolean}/{query.e:number}",
        "b", "b.url=/b", "b.query.x={u.o}",
        "c", "c.url=/c", "c.header.X-O={u.o}",
        "d", "d.url=/d/{u.big:number}",
        NULL });

    CHECK(agg != NULL);

    if (agg) {
        run = start(agg);
        CHECK_STR(ready(run), "u");
        answer(run, 0, json("{'t': false, 'n': 3, 'sum': 0.30000000000000004,"
                            " 'one': 1, 'o': {}, 'big': 1e999}"));
        CHECK_STR(ready(run), "a b c d");
        CHECK_STR(request(run, 1), "GET /a/-0.0015/false/false/3"
                  "/0.30000000000000004/true/100");
        CHECK_STR(request(run, 2), "failed: {u.o} is an object; a query "
                  "argument takes a string, number or boolean");
        CHECK_STR(request(run, 3), "failed: {u.o} is an object; a header "
                  "takes a string, number or boolean");

        /* cJSON reads 1e999 as infinity: no number for a url */

        CHECK_STR(request(run, 4), "failed: {u.big:number} is a number out "
                  "of range; a url takes a string, number or boolean");
        faas_agg_free(agg);
    }

    nfields = 0;

    /* shaping by index, into elements */

    CHECK_STR(shaped((const char *[]) {
                  "a", "a.url=/a", "a.pick=list.1.x", "a.rename.list.0.y=z",
                  NULL },
                  json("{'list': [{'x': 1, 'y': 2}, {'x': 3, 'y': 4}, 5]}")),
              json("200 {'a':{'list':[{'x':3}]}}"));
    CHECK_STR(shaped((const char *[]) {
                  "a", "a.url=/a", "a.rename.list.0.y=z", "a.rename.0=q",
                  NULL },
                  json("{'list': [{'x': 1, 'y': 2}, {'y': 4}]}")),
              json("200 {'a':{'list':[{'x':1,'z':2},{'y':4}]}}"));

    /* Content-Type: white space, and nothing but white space */

    CHECK_STR(one_call((const char *[]) { "a", "a.url=/a", NULL },
                       " application/json ;charset=utf-8", 200, "1"),
              "200 {\"a\":1}");
    CHECK_STR(one_call((const char *[]) { "a", "a.url=/a", NULL },
                       "  ", 200, "2"),
              "200 {\"a\":2}");

    /* a failure without a reason; a call out of range */

    agg = build((const char *[]) { "a", "a.url=/a", "a.optional=on", NULL });

    if (agg) {
        run = start(agg);
        CHECK_STR(ready(run), "a");
        faas_agg_fail(run, 7, 500, "none such");
        faas_agg_done(run, 7, 200, NULL, 0, "1", 1);
        CHECK(!faas_agg_call_finished(run, 7));
        CHECK(faas_agg_call_error(run, 7, NULL) == NULL);
        faas_agg_fail(run, 0, 0, NULL);
        CHECK_STR(reason(run, 0), "failed");
        CHECK_STR(document(run), json("200 partial {'a':null,'errors':"
                                      "[{'call':'a','reason':'failed'}]}"));
        faas_agg_free(agg);
    }
}


/* merging and renaming in objects of many members: indexed, not walked */

static void
test_large(void)
{
    char                 *one, *two, *p;
    size_t                i, n, out[FAAS_AGG_CALLS_MAX];
    cJSON                *root, *item;
    double                ms;
    clock_t               t0;
    unsigned              bad;
    faas_agg_t           *agg;
    faas_agg_run_t       *run;
    faas_agg_response_t   resp;

    agg = build((const char *[]) {
        "a", "a.url=/a", "a.merge=true", "a.max_size=1m",
        "b", "b.url=/b", "b.merge=true", "b.max_size=1m", "b.rename.d=dup",
        NULL });

    one = malloc(400000);
    two = malloc(400000);

    if (agg == NULL || one == NULL || two == NULL) {
        CHECK(agg != NULL && one != NULL && two != NULL);
        goto done;
    }

    /* a: k0..k19999 = 0; b: k10000..k29999 = 1; "o" in both merges */

    p = one;
    p += sprintf(p, "{\"o\": {\"x\": 1}");

    for (i = 0; i < 20000; i++) {
        p += sprintf(p, ", \"k%zu\": 0", i);
    }

    sprintf(p, "}");

    /* and 100 members "d", renamed "dup", in the place of the one "dup" */

    p = two;
    p += sprintf(p, "{\"dup\": \"gone\", \"o\": {\"y\": 2}");

    for (i = 10000; i < 30000; i++) {
        p += sprintf(p, ", \"k%zu\": 1", i);
    }

    for (i = 0; i < 100; i++) {
        p += sprintf(p, ", \"d\": %zu", i);
    }

    sprintf(p, "}");

    run = start(agg);
    faas_agg_ready(run, out);

    t0 = clock();

    faas_agg_done(run, 0, 200, NULL, 0, one, strlen(one));
    faas_agg_done(run, 1, 200, NULL, 0, two, strlen(two));

    CHECK_INT(faas_agg_response(run, &resp), FAAS_OK);

    ms = (double) (clock() - t0) * 1000 / CLOCKS_PER_SEC;

    CHECK_INT(resp.status, 200);

    root = cJSON_ParseWithLength(resp.body, resp.len);
    CHECK(root != NULL);

    if (root == NULL) {
        goto done;
    }

    n = 0;
    bad = 0;

    for (item = root->child; item; item = item->next) {
        n++;

        if (item->string[0] == 'k') {
            i = strtoul(item->string + 1, NULL, 10);
            bad += (item->valuedouble != (i < 10000 ? 0 : 1));

        } else if (strcmp(item->string, "dup") == 0) {
            bad += !cJSON_IsNumber(item);
        }
    }

    /* o, 30000 k, 100 dup, in the order of their first appearance */

    CHECK_INT(n, 1 + 30000 + 100);
    CHECK_INT(bad, 0);
    CHECK_STR(root->child->string, "o");
    CHECK_INT(cJSON_GetArraySize(root->child), 2);
    CHECK_STR(root->child->next->string, "k0");
    CHECK_STR(root->child->next->next->next->next->string, "k3");

    printf("# merge of 20000 and 20000 members, 100 renamed: %.1f ms "
           "(this build's flags)\n", ms);

    cJSON_Delete(root);

done:

    faas_agg_free(agg);
    free(one);
    free(two);
}


int
main(void)
{
    test_json_arena();
    test_setters();
    test_compile();
    test_info();
    test_ready();
    test_render();
    test_render_body();
    test_answers();
    test_shaping();
    test_document();
    test_bad_gateway();
    test_budget();
    test_pool();
    test_edges();
    test_large();

    faas_arena_free(&arena);

    return unit_done("test_aggregate");
}
