/*
 * Copyright (C) ngx_faas authors
 *
 * Unit tests of f.yml's aggregate: section: read into an aggregation,
 * its errors with their places, and its body from YAML into JSON.
 */


#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "manifest_unit.h"


static void test_aggregate(void);
static void test_aggregate_errors(void);
static int test_lookup(void *data, unsigned source, const char *name,
    size_t len, const char **value, size_t *vlen);
static void test_aggregate_body(void);


static void
test_aggregate(void)
{
    faas_error_t           err;
    faas_function_t       *fn;
    faas_manifest_t       *m;
    faas_agg_call_info_t   info;
    char                   buf[512];

    m = test_parse(
        "functions:\n"
        "  page:\n"
        "    events:\n"
        "      - http: { path: /api/page/:id, method: get }\n"
        "    aggregate:\n"
        "      timeout: 800ms\n"
        "      forward_headers: [authorization, cookie]\n"
        "      calls:\n"
        "        user:\n"
        "          url: /backend/users/{params.id}\n"
        "          timeout: 200ms\n"
        "        orders:\n"
        "          url: /backend/orders\n"
        "          query: { user: \"{user.id}\", limit: 10 }\n"
        "          optional: true\n"
        "          max_size: 1m\n"
        "          target: data\n"
        "          pick: [id, total]\n"
        "          rename: { total: amount }\n"
        "        price:\n"
        "          function: pricing\n"
        "          method: POST\n"
        "          body: { user: \"{user.id}\", vip: \"{user.vip}\", "
        "items: [1, 2], note: null }\n"
        "          header: { x-tenant: \"{header.x-tenant}\" }\n"
        "  pricing:\n"
        "    handler: price.handler\n"
        "    events:\n"
        "      - http: { path: /api/pricing, method: post }\n");

    CHECK(m != NULL);
    if (m == NULL) {
        return;
    }

    CHECK_INT(m->nfunctions, 2);

    fn = &m->functions[0];
    CHECK_STR(fn->name, "page");
    CHECK(fn->handler == NULL);
    CHECK(fn->aggregate != NULL);

    /* its http events stay routes: nginx routes them to the aggregate */

    CHECK_INT(fn->nevents, 1);
    if (fn->nevents == 1) {
        CHECK_STR(fn->events[0].path, "/api/page/:id");
        CHECK_INT(fn->events[0].methods, FAAS_METHOD_GET);
    }

    if (fn->aggregate) {
        CHECK_INT(faas_agg_timeout(fn->aggregate), 800);
        CHECK_INT(faas_agg_nforward(fn->aggregate), 2);
        if (faas_agg_nforward(fn->aggregate) == 2) {
            CHECK(strcasecmp(faas_agg_forward(fn->aggregate, 0),
                             "authorization") == 0);
            CHECK(strcasecmp(faas_agg_forward(fn->aggregate, 1), "cookie")
                  == 0);
        }

        /* the calls in the order written */

        CHECK_INT(faas_agg_ncalls(fn->aggregate), 3);

        if (faas_agg_ncalls(fn->aggregate) == 3) {
            faas_agg_call_info(fn->aggregate, 0, &info);
            CHECK_STR(info.name, "user");
            CHECK_INT(info.kind, FAAS_AGG_LOCATION);
            CHECK_INT(info.timeout_ms, 200);
            CHECK_INT(info.max_size, FAAS_AGG_MAX_SIZE);
            CHECK_INT(info.required, 1);

            faas_agg_call_info(fn->aggregate, 1, &info);
            CHECK_STR(info.name, "orders");
            CHECK_INT(info.kind, FAAS_AGG_LOCATION);

            /* the default second, within the aggregation's 800 ms */
            CHECK_INT(info.timeout_ms, 800);
            CHECK_INT(info.max_size, 1024 * 1024);
            CHECK_INT(info.required, 0);

            faas_agg_call_info(fn->aggregate, 2, &info);
            CHECK_STR(info.name, "price");
            CHECK_INT(info.kind, FAAS_AGG_FUNCTION);
            CHECK_STR(info.function, "pricing");
            CHECK_INT(info.required, 1);
            CHECK_INT(info.forward_body, 0);
        }
    }

    /* a function beside it keeps its handler */

    fn = &m->functions[1];
    CHECK_STR(fn->handler, "price.handler");
    CHECK(fn->aggregate == NULL);

    CHECK_INT(faas_manifest_check_routes(m, &err), FAAS_OK);

    faas_manifest_free(m);

    /* an empty list forwards no header, an empty value the default */

    m = test_parse("functions:\n"
                   "  a:\n"
                   "    aggregate:\n"
                   "      forward_headers: []\n"
                   "      calls: {u: {url: /u}}\n"
                   "  b:\n"
                   "    aggregate:\n"
                   "      forward_headers:\n"
                   "      calls: {u: {url: /u}}\n");
    CHECK(m != NULL);
    if (m) {
        CHECK_INT(faas_agg_nforward(m->functions[0].aggregate), 0);
        CHECK_INT(faas_agg_nforward(m->functions[1].aggregate), 4);
        faas_manifest_free(m);
    }

    /* an aggregate's routes meet the others' */

    m = test_parse("functions:\n"
                   "  a:\n"
                   "    events:\n"
                   "      - http: {path: /x, method: get}\n"
                   "  b:\n"
                   "    events:\n"
                   "      - http: {path: /x, method: get}\n"
                   "    aggregate:\n"
                   "      calls: {u: {url: /u}}\n");
    CHECK(m != NULL);
    if (m) {
        CHECK_INT(faas_manifest_check_routes(m, &err), FAAS_ERROR);
        faas_error_format(&err, buf, sizeof(buf));
        CHECK_STR(buf, "f.yml:7:9: route \"GET /x\" conflicts with "
                  "\"GET /x\" declared at f.yml:4:9");
        faas_manifest_free(m);
    }

    /*
     * A manifest of aggregates only; what describes workers is checked
     * and noted as ignored; "forward", body as text, lists written as
     * text, ${env.*}, empty values (defaults).
     */

    m = test_parse("provider:\n"
                   "  timeout: 5\n"
                   "functions:\n"
                   "  page:\n"
                   "    instances: 3\n"
                   "    timeout: 2\n"
                   "    handler:\n"
                   "    aggregate:\n"
                   "      timeout:\n"
                   "      forward_headers: 'authorization, x-${env.REGION}'\n"
                   "      calls:\n"
                   "        up:\n"
                   "          url: /upload\n"
                   "          method: post\n"
                   "          body: forward\n"
                   "          optional: TRUE\n"
                   "          output: False\n"
                   "        raw:\n"
                   "          url: /raw\n"
                   "          body: '{\"a\": [1, 2]}'\n"
                   "          pick: a\n"
                   "    description: a page\n");
    CHECK(m != NULL);
    if (m) {
        fn = &m->functions[0];
        CHECK(fn->handler == NULL);
        CHECK(fn->aggregate != NULL);
        CHECK_INT(fn->nevents, 0);

        if (fn->aggregate) {
            CHECK_INT(faas_agg_timeout(fn->aggregate), FAAS_AGG_TIMEOUT);
            CHECK_INT(faas_agg_nforward(fn->aggregate), 2);
            if (faas_agg_nforward(fn->aggregate) == 2) {
                CHECK(strcasecmp(faas_agg_forward(fn->aggregate, 1),
                                 "x-hz") == 0);
            }

            CHECK_INT(faas_agg_ncalls(fn->aggregate), 2);
            faas_agg_call_info(fn->aggregate, 0, &info);
            CHECK_INT(info.forward_body, 1);
            CHECK_INT(info.required, 0);
        }

        CHECK_INT(m->nnotes, 3);
        if (m->nnotes == 3) {
            CHECK_STR(m->notes[0], "f.yml:22:5: functions.page.description "
                      "is ignored");
            CHECK_STR(m->notes[1], "f.yml:5:5: functions.page.instances is "
                      "ignored: an aggregate runs no workers");
            CHECK_STR(m->notes[2], "f.yml:6:5: functions.page.timeout is "
                      "ignored: an aggregate runs no workers");
        }

        faas_manifest_free(m);
    }
}


static void
test_aggregate_errors(void)
{
    /* the model's own */

    CHECK_STR(test_error("functions:\n"
                         "  page:\n"
                         "    handler: index.handler\n"
                         "    aggregate:\n"
                         "      calls: {u: {url: /u}}\n"),
              "f.yml:4:5: functions.page: a function either runs a handler "
              "or aggregates calls, not both (\"handler\" is at line 3)");

    CHECK_STR(test_error("functions:\n"
                         "  page:\n"
                         "    aggregate:\n"
                         "      calls: {u: {url: /u}}\n"
                         "    handler: index.handler\n"),
              "f.yml:3:5: functions.page: a function either runs a handler "
              "or aggregates calls, not both (\"handler\" is at line 5)");

    CHECK_STR(test_error("functions:\n  page:\n    aggregate:\n"),
              "f.yml:3:5: functions.page.aggregate: expected a mapping with "
              "\"calls\", got an empty value");

    CHECK_STR(test_error("functions:\n  page:\n    aggregate: [a]\n"),
              "f.yml:3:16: functions.page.aggregate: expected a mapping with "
              "\"calls\", got a sequence");

    CHECK_STR(test_error("functions:\n  page:\n    aggregate:\n"
                         "      timeout: 1s\n"),
              "f.yml:3:5: functions.page.aggregate: no \"calls\": an "
              "aggregate makes at least one call");

    CHECK_STR(test_error("functions:\n  page:\n    aggregate:\n"
                         "      calls: [u]\n"),
              "f.yml:4:14: functions.page.aggregate.calls: expected a "
              "mapping of calls like \"user: {url: /backend/users}\", got a "
              "sequence");

    CHECK_STR(test_error("functions:\n  page:\n    aggregate:\n"
                         "      calls: {}\n"),
              "f.yml:4:14: functions.page.aggregate.calls: expected a "
              "mapping of calls like \"user: {url: /backend/users}\", got a "
              "mapping");

    CHECK_STR(test_error("functions:\n  page:\n    aggregate:\n"
                         "      calls:\n        u: /u\n"),
              "f.yml:5:12: functions.page.aggregate.calls.u: expected a "
              "mapping like {url: /backend/x} or {function: name}, got "
              "\"/u\"");

    CHECK_STR(test_error("functions:\n  page:\n    aggregate:\n"
                         "      calls:\n        u:\n"
                         "          url: /u\n"
                         "          timeout: [1s]\n"),
              "f.yml:7:20: functions.page.aggregate.calls.u.timeout: "
              "expected a single value, got a sequence");

    CHECK_STR(test_error("functions:\n  page:\n    aggregate:\n"
                         "      calls:\n        u:\n"
                         "          url: /u\n"
                         "          pick: [a, {b: 1}]\n"),
              "f.yml:7:21: functions.page.aggregate.calls.u.pick[1]: "
              "expected a name, got a mapping");

    CHECK_STR(test_error("functions:\n  page:\n    aggregate:\n"
                         "      calls:\n        u:\n"
                         "          url: /u\n"
                         "          pick: {a: 1}\n"),
              "f.yml:7:17: functions.page.aggregate.calls.u.pick: "
              "expected a list of names, got a mapping");

    CHECK_STR(test_error("functions:\n  page:\n    aggregate:\n"
                         "      calls:\n        u:\n"
                         "          url: /u\n"
                         "          query: a=1\n"),
              "f.yml:7:18: functions.page.aggregate.calls.u.query: "
              "expected a mapping like {name: value}, got \"a=1\"");

    CHECK_STR(test_error("functions:\n  page:\n    aggregate:\n"
                         "      calls:\n        u:\n"
                         "          url: /u\n"
                         "          query: {a: [1]}\n"),
              "f.yml:7:22: functions.page.aggregate.calls.u.query.a: "
              "expected a single value, got a sequence");

    CHECK_STR(test_error("functions:\n  page:\n    aggregate:\n"
                         "      calls:\n        u:\n"
                         "          url: /u\n"
                         "          body: {n: .inf}\n"),
              "f.yml:7:21: functions.page.aggregate.calls.u.body.n: "
              "\".inf\" is a number JSON cannot hold; quote it for a "
              "string");

    /* the setters', placed at the value they refused */

    CHECK_STR(test_error("functions:\n  page:\n    aggregate:\n"
                         "      calls:\n        u:\n"
                         "          url: \"/u\\0x\"\n"),
              "f.yml:6:16: functions.page.aggregate.calls.u.url: contains "
              "a NUL character");

    /* the setters', placed at the value they refused */

    CHECK_STR(test_error("functions:\n  page:\n    aggregate:\n"
                         "      timeout: soon\n"
                         "      calls: {u: {url: /u}}\n"),
              "f.yml:4:16: functions.page.aggregate.timeout: \"soon\" is "
              "not a duration (500ms, 2s)");

    CHECK_STR(test_error("functions:\n  page:\n    aggregate:\n"
                         "      calls:\n        u:\n"
                         "          url: /u\n"
                         "          timeout: 5 s\n"),
              "f.yml:7:20: functions.page.aggregate.calls.u.timeout: "
              "\"5 s\" is not a duration (500ms, 2s)");

    CHECK_STR(test_error("functions:\n  page:\n    aggregate:\n"
                         "      other: 1\n"
                         "      calls: {u: {url: /u}}\n"),
              "f.yml:4:14: functions.page.aggregate.other: unknown key "
              "(timeout, forward_headers)");

    CHECK_STR(test_error("functions:\n  page:\n    aggregate:\n"
                         "      forward_headers: [authorization, "
                         "connection]\n"
                         "      calls: {u: {url: /u}}\n"),
              "f.yml:4:40: functions.page.aggregate.forward_headers: "
              "\"connection\" is hop-by-hop; it is not forwarded");

    CHECK_STR(test_error("functions:\n  page:\n    aggregate:\n"
                         "      calls:\n        u:\n"
                         "          url: /u\n"
                         "          retries: 3\n"),
              "f.yml:7:20: functions.page.aggregate.calls.u.retries: "
              "unknown key");

    CHECK_STR(test_error("functions:\n  page:\n    aggregate:\n"
                         "      calls:\n        u:\n"
                         "          url: /u\n"
                         "          optional: maybe\n"),
              "f.yml:7:21: functions.page.aggregate.calls.u.optional: "
              "\"maybe\" is not true or false");

    CHECK_STR(test_error("functions:\n  page:\n    aggregate:\n"
                         "      calls:\n        u:\n"
                         "          url: /u\n"
                         "          pick: [a, 'b..c']\n"),
              "f.yml:7:21: functions.page.aggregate.calls.u.pick: \"b..c\" "
              "is not a dot path: an empty name");

    CHECK_STR(test_error("functions:\n  page:\n    aggregate:\n"
                         "      calls:\n        u:\n"
                         "          url: /u\n"
                         "          header: {x-a: \"a\\nb\"}\n"),
              "f.yml:7:25: functions.page.aggregate.calls.u.header.x-a: a "
              "header's value has no CR or LF");

    CHECK_STR(test_error("functions:\n  page:\n    aggregate:\n"
                         "      calls:\n        params:\n"
                         "          url: /u\n"),
              "f.yml:5:9: functions.page.aggregate.calls.params: "
              "\"params\" is a source of holes (params, query, header, "
              "cookie, body), not a call's name");

    CHECK_STR(test_error("functions:\n  page:\n    aggregate:\n"
                         "      calls:\n        u b:\n"
                         "          url: /u\n"),
              "f.yml:5:9: functions.page.aggregate: calls.u b: a call's "
              "name is 1 to 64 of A-Z a-z 0-9 _ -");

    /* a bad body: JSON text as the engine reads it */

    CHECK_STR(test_error("functions:\n  page:\n    aggregate:\n"
                         "      calls:\n        u:\n"
                         "          url: /u\n"
                         "          body: '{\"a\": '\n"),
              "f.yml:7:17: functions.page.aggregate.calls.u.body: invalid "
              "JSON near byte 5");

    /* the whole, at "aggregate" */

    CHECK_STR(test_error("functions:\n  page:\n    aggregate:\n"
                         "      calls:\n        u:\n"
                         "          url: /u/{nobody.id}\n"),
              "f.yml:3:5: functions.page.aggregate.calls.u.url: "
              "{nobody.id} names no call");

    CHECK_STR(test_error("functions:\n  page:\n    aggregate:\n"
                         "      calls:\n        u:\n"
                         "          url: /u\n"
                         "          body: {a: \"{nobody.x}\"}\n"),
              "f.yml:3:5: functions.page.aggregate.calls.u.body: "
              "{nobody.x} names no call");

    CHECK_STR(test_error("functions:\n  page:\n    aggregate:\n"
                         "      calls:\n"
                         "        a:\n          url: /a/{b.id}\n"
                         "        b:\n          url: /b/{a.id}\n"),
              "f.yml:3:5: functions.page.aggregate: calls a -> b -> a "
              "depend on each other");

    CHECK_STR(test_error("functions:\n  page:\n    aggregate:\n"
                         "      calls:\n        u:\n"
                         "          timeout: 1s\n"),
              "f.yml:3:5: functions.page.aggregate.calls.u: no url or "
              "function");

    /* ${env.*} first, then the setter */

    CHECK_STR(test_error("functions:\n  page:\n    aggregate:\n"
                         "      timeout: ${env.REGION}\n"
                         "      calls: {u: {url: /u}}\n"),
              "f.yml:4:16: functions.page.aggregate.timeout: \"hz\" is "
              "not a duration (500ms, 2s)");
}


/* params.id is "42", header x-tenant "acme"; nothing else is set */

static int
test_lookup(void *data, unsigned source, const char *name, size_t len,
    const char **value, size_t *vlen)
{
    (void) data;

    if (source == FAAS_AGG_SRC_PARAM && len == 2
        && memcmp(name, "id", 2) == 0)
    {
        *value = "42";
        *vlen = 2;
        return FAAS_OK;
    }

    if (source == FAAS_AGG_SRC_HEADER && len == 8
        && strncasecmp(name, "x-tenant", 8) == 0)
    {
        *value = "acme";
        *vlen = 4;
        return FAAS_OK;
    }

    return FAAS_ERROR;
}


/* the body's YAML typing, as a run sends it */

static void
test_aggregate_body(void)
{
    size_t               n, out[FAAS_AGG_CALLS_MAX];
    cJSON               *json, *item;
    faas_arena_t         arena;
    faas_agg_run_t      *run;
    faas_manifest_t     *m;
    faas_agg_input_t     in;
    faas_agg_request_t   req;

    m = test_parse(
        "functions:\n"
        "  page:\n"
        "    aggregate:\n"
        "      calls:\n"
        "        post:\n"
        "          url: /post\n"
        "          body:\n"
        "            n: 3\n"
        "            s: \"3\"\n"
        "            b: true\n"
        "            B: FALSE\n"
        "            q: 'true'\n"
        "            z: null\n"
        "            e:\n"
        "            t: ~\n"
        "            f: -.5e1\n"
        "            p: +007\n"
        "            h: 0x1F\n"
        "            o: 0o17\n"
        "            w: 1.\n"
        "            x: 12abc\n"
        "            r: ${env.REGION}\n"
        "            id: \"{params.id}\"\n"
        "            l: [1, \"two\", ~, {k: \"a\\\"b\\n\"}]\n"
        "          header: {x-t: \"{header.x-tenant}\",\n"
        "                   x-r: \"${env.REGION}\"}\n");

    CHECK(m != NULL);
    if (m == NULL) {
        return;
    }

    memset(&arena, 0, sizeof(faas_arena_t));
    memset(&in, 0, sizeof(faas_agg_input_t));
    in.lookup = test_lookup;

    run = faas_agg_run_create(m->functions[0].aggregate, &in, &arena);
    CHECK(run != NULL);
    if (run == NULL) {
        goto done;
    }

    n = faas_agg_ready(run, out);
    CHECK_INT(n, 1);
    if (n != 1) {
        goto done;
    }

    memset(&req, 0, sizeof(faas_agg_request_t));

    CHECK_INT(faas_agg_request(run, out[0], &req), FAAS_OK);
    CHECK_INT(req.method, FAAS_METHOD_POST);
    CHECK_MEM(req.path, req.path_len, "/post");
    CHECK(req.body != NULL);
    if (req.body == NULL) {
        goto done;
    }

    json = cJSON_ParseWithLength(req.body, req.body_len);
    CHECK(json != NULL);
    if (json == NULL) {
        fprintf(stderr, "body: %.*s\n", (int) req.body_len, req.body);
        goto done;
    }

    item = cJSON_GetObjectItemCaseSensitive(json, "n");
    CHECK(cJSON_IsNumber(item) && item->valuedouble == 3);
    item = cJSON_GetObjectItemCaseSensitive(json, "s");
    CHECK(cJSON_IsString(item) && strcmp(item->valuestring, "3") == 0);
    CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(json, "b")));
    CHECK(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(json, "B")));
    item = cJSON_GetObjectItemCaseSensitive(json, "q");
    CHECK(cJSON_IsString(item) && strcmp(item->valuestring, "true") == 0);
    CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(json, "z")));
    CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(json, "e")));
    CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(json, "t")));
    item = cJSON_GetObjectItemCaseSensitive(json, "f");
    CHECK(cJSON_IsNumber(item) && item->valuedouble == -5);
    item = cJSON_GetObjectItemCaseSensitive(json, "p");
    CHECK(cJSON_IsNumber(item) && item->valuedouble == 7);
    item = cJSON_GetObjectItemCaseSensitive(json, "h");
    CHECK(cJSON_IsNumber(item) && item->valuedouble == 31);
    item = cJSON_GetObjectItemCaseSensitive(json, "o");
    CHECK(cJSON_IsNumber(item) && item->valuedouble == 15);
    item = cJSON_GetObjectItemCaseSensitive(json, "w");
    CHECK(cJSON_IsNumber(item) && item->valuedouble == 1);
    item = cJSON_GetObjectItemCaseSensitive(json, "x");
    CHECK(cJSON_IsString(item) && strcmp(item->valuestring, "12abc") == 0);
    item = cJSON_GetObjectItemCaseSensitive(json, "r");
    CHECK(cJSON_IsString(item) && strcmp(item->valuestring, "hz") == 0);
    item = cJSON_GetObjectItemCaseSensitive(json, "id");
    CHECK(cJSON_IsString(item) && strcmp(item->valuestring, "42") == 0);

    item = cJSON_GetObjectItemCaseSensitive(json, "l");
    CHECK(cJSON_IsArray(item) && cJSON_GetArraySize(item) == 4);
    if (cJSON_IsArray(item) && cJSON_GetArraySize(item) == 4) {
        CHECK(cJSON_IsNumber(cJSON_GetArrayItem(item, 0)));
        CHECK(cJSON_IsString(cJSON_GetArrayItem(item, 1)));
        CHECK(cJSON_IsNull(cJSON_GetArrayItem(item, 2)));
        item = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(item, 3),
                                                "k");
        CHECK(cJSON_IsString(item)
              && strcmp(item->valuestring, "a\"b\n") == 0);
    }

    cJSON_Delete(json);

    /* headers are templates too, ${env.*} done at load time */

    CHECK_INT(req.nheaders, 2);
    if (req.nheaders == 2) {
        CHECK_MEM(req.headers[0].value, req.headers[0].value_len, "acme");
        CHECK_MEM(req.headers[1].value, req.headers[1].value_len, "hz");
    }

done:

    faas_arena_free(&arena);
    faas_manifest_free(m);
}


int
main(void)
{
    test_aggregate();
    test_aggregate_errors();
    test_aggregate_body();

    return unit_done("test_manifest_aggregate");
}
