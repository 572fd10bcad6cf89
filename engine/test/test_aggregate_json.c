/*
 * Copyright (C) ngx_faas authors
 *
 * Unit tests of BFF aggregation's JSON: answers shaped (target, pick,
 * omit, rename, merge), the document and its errors, the 502 answer,
 * and cJSON in an arena.
 */


#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "aggregate_unit.h"


static void test_shaping(void);
static void test_document(void);
static void test_bad_gateway(void);
static void test_json_arena(void);


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


int
main(void)
{
    test_json_arena();
    test_shaping();
    test_document();
    test_bad_gateway();

    faas_arena_free(&arena);

    return unit_done("test_aggregate_json");
}
