/*
 * Copyright (C) ngx_faas authors
 *
 * Unit tests of BFF aggregation's templates: what each call sends, its
 * url, query arguments, headers and body rendered from the request's
 * values and from other calls' answers.
 */


#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "aggregate_unit.h"


static void test_render(void);
static void test_render_body(void);


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


int
main(void)
{
    test_render();
    test_render_body();

    faas_arena_free(&arena);

    return unit_done("test_aggregate_template");
}
