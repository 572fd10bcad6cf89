/*
 * Copyright (C) ngx_faas authors
 *
 * Unit tests of BFF aggregation: the setters and their messages,
 * compiling (unknown calls, cycles, keys), the order calls start in, how
 * answers are judged, the memory budget, a request's pool, edge cases
 * and large objects.  Templates are tested in test_aggregate_template.c,
 * JSON in test_aggregate_json.c.
 */


#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "aggregate_unit.h"


static void test_setters(void);
static void test_compile(void);
static void test_info(void);
static void test_ready(void);
static void test_answers(void);
static void test_budget(void);
static void test_pool(void);
static void test_edges(void);
static void test_large(void);


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
    test_setters();
    test_compile();
    test_info();
    test_ready();
    test_answers();
    test_budget();
    test_pool();
    test_edges();
    test_large();

    faas_arena_free(&arena);

    return unit_done("test_aggregate");
}
