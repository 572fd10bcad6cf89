/*
 * Copyright (C) ngx_faas authors
 *
 * Unit tests of the f.yml loader: the model (service, provider,
 * functions, events, methods, paths), ignored keys, its errors, checks
 * across manifests, finding and loading files.  The YAML tree is tested
 * in test_yaml.c, the aggregate: section in test_manifest_aggregate.c.
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


static const char *test_methods(unsigned methods);
static void test_full(void);
static void test_service(void);
static void test_methods_forms(void);
static void test_paths(void);
static void test_ignored(void);
static void test_errors(void);
static void test_check(void);
static void test_find(void);
static void test_load(void);


static const char *
test_methods(unsigned methods)
{
    static char  buf[128];

    faas_methods_format(methods, buf, sizeof(buf));

    return buf;
}


static void
test_full(void)
{
    faas_function_t  *fn;
    faas_manifest_t  *m;

    m = test_parse(
        "service: demo\n"
        "provider:\n"
        "  name: aliyun\n"
        "  runtime: nodejs20\n"
        "  timeout: 10\n"
        "  initTimeout: 2.5\n"
        "  memorySize: 256\n"
        "  concurrency: 4\n"
        "  environment:\n"
        "    NODE_ENV: production\n"
        "    DB: main\n"
        "    DEBUG: false\n"
        "functions:\n"
        "  hello:\n"
        "    handler: src/hello.main\n"
        "    initializer: src/hello.init\n"
        "    runtime: nodejs18\n"
        "    timeout: 0.5\n"
        "    initTimeout: 1\n"
        "    memorySize: 512\n"
        "    concurrency: 20\n"
        "    instances: 3\n"
        "    environment:\n"
        "      DB: replica\n"
        "      ONLY: here\n"
        "    events:\n"
        "      - http:\n"
        "          path: /api/hello\n"
        "          method: get\n"
        "  plain:\n"
        "    events:\n"
        "      - http: {path: /api/plain}\n"
        "  bare:\n");

    CHECK(m != NULL);
    if (m == NULL) {
        return;
    }

    CHECK_STR(m->file, "f.yml");
    CHECK(m->dir == NULL);
    CHECK_STR(m->service, "demo");
    CHECK_INT(m->nfunctions, 3);

    fn = &m->functions[0];
    CHECK_STR(fn->name, "hello");
    CHECK_INT(fn->line, 14);
    CHECK_INT(fn->column, 3);
    CHECK_STR(fn->handler, "src/hello.main");
    CHECK_STR(fn->initializer, "src/hello.init");
    CHECK_STR(fn->runtime, "nodejs18");
    CHECK_INT(fn->timeout_ms, 500);
    CHECK_INT(fn->init_timeout_ms, 1000);
    CHECK_INT(fn->memory_mb, 512);
    CHECK_INT(fn->concurrency, 20);
    CHECK_INT(fn->instances, 3);

    /* the provider's order, the function's value, then its own keys */

    CHECK_INT(fn->nenv, 4);
    if (fn->nenv == 4) {
        CHECK_STR(fn->env[0].key, "NODE_ENV");
        CHECK_STR(fn->env[0].value, "production");
        CHECK_STR(fn->env[1].key, "DB");
        CHECK_STR(fn->env[1].value, "replica");
        CHECK_STR(fn->env[2].key, "DEBUG");
        CHECK_STR(fn->env[2].value, "false");
        CHECK_STR(fn->env[3].key, "ONLY");
        CHECK_STR(fn->env[3].value, "here");
    }

    CHECK_INT(fn->nevents, 1);
    if (fn->nevents == 1) {
        CHECK_STR(fn->events[0].path, "/api/hello");
        CHECK_INT(fn->events[0].methods, FAAS_METHOD_GET);
        CHECK_INT(fn->events[0].line, 27);
        CHECK_INT(fn->events[0].column, 9);
    }

    /* defaults: the provider's values, index.handler, one instance */

    fn = &m->functions[1];
    CHECK_STR(fn->name, "plain");
    CHECK_STR(fn->handler, "index.handler");
    CHECK(fn->initializer == NULL);
    CHECK_STR(fn->runtime, "nodejs20");
    CHECK_INT(fn->timeout_ms, 10000);
    CHECK_INT(fn->init_timeout_ms, 2500);
    CHECK_INT(fn->memory_mb, 256);
    CHECK_INT(fn->concurrency, 4);
    CHECK_INT(fn->instances, 1);
    CHECK_INT(fn->nenv, 3);
    if (fn->nenv == 3) {
        CHECK_STR(fn->env[1].value, "main");
    }

    CHECK_INT(fn->nevents, 1);
    if (fn->nevents == 1) {
        CHECK_STR(fn->events[0].path, "/api/plain");
        CHECK_INT(fn->events[0].methods, FAAS_METHODS_ANY);
    }

    /* an empty function: everything by default, no route */

    fn = &m->functions[2];
    CHECK_STR(fn->name, "bare");
    CHECK_STR(fn->handler, "index.handler");
    CHECK_INT(fn->nevents, 0);
    CHECK_INT(fn->instances, 1);

    faas_manifest_free(m);

    /* nothing from a provider: zeros for the caller's defaults */

    m = test_parse("functions:\n  f:\n    handler: index.handler\n");
    CHECK(m != NULL);
    if (m) {
        CHECK(m->service == NULL);
        CHECK(m->functions[0].runtime == NULL);
        CHECK_INT(m->functions[0].timeout_ms, 0);
        CHECK_INT(m->functions[0].init_timeout_ms, 0);
        CHECK_INT(m->functions[0].memory_mb, 0);
        CHECK_INT(m->functions[0].concurrency, 0);
        CHECK_INT(m->functions[0].nenv, 0);
        CHECK(m->functions[0].env == NULL);
        CHECK(m->functions[0].events == NULL);
        faas_manifest_free(m);
    }

    faas_manifest_free(NULL);
}


static void
test_service(void)
{
    faas_manifest_t  *m;

    m = test_parse("service: shop\nfunctions: {f: }\n");
    CHECK(m != NULL && m->service && strcmp(m->service, "shop") == 0);
    faas_manifest_free(m);

    m = test_parse("service:\n  name: shop2\n  other: 1\nfunctions: {f: }\n");
    CHECK(m != NULL && m->service && strcmp(m->service, "shop2") == 0);
    faas_manifest_free(m);

    m = test_parse("service: {}\nfunctions: {f: }\n");
    CHECK(m != NULL && m->service == NULL);
    faas_manifest_free(m);

    CHECK_STR(test_error("service: [a]\nfunctions: {f: }\n"),
              "f.yml:1:10: service: expected a name or a mapping with "
              "\"name\", got a sequence");

    CHECK_STR(test_error("service:\n  name: {a: 1}\nfunctions: {f: }\n"),
              "f.yml:2:9: service.name: expected a string, got a mapping");
}


static void
test_methods_forms(void)
{
    size_t            i;
    faas_manifest_t  *m;

    static const struct {
        const char  *yaml;
        unsigned     methods;
    } forms[] = {
        { "{path: /x, method: get}", FAAS_METHOD_GET },
        { "{path: /x, method: GET}", FAAS_METHOD_GET },
        { "{path: /x, method: Post}", FAAS_METHOD_POST },
        { "{path: /x, method: any}", FAAS_METHODS_ANY },
        { "{path: /x, method: ALL}", FAAS_METHODS_ANY },
        { "{path: /x}", FAAS_METHODS_ANY },
        { "{path: /x, method: }", FAAS_METHODS_ANY },
        { "{path: /x, method: []}", FAAS_METHODS_ANY },
        { "{path: /x, method: ''}", FAAS_METHODS_ANY },
        { "{path: /x, method: [get, POST]}",
          FAAS_METHOD_GET|FAAS_METHOD_POST },
        { "{path: /x, method: [get, any]}", FAAS_METHODS_ANY },
        { "{path: /x, method: 'get,post'}",
          FAAS_METHOD_GET|FAAS_METHOD_POST },
        { "{path: /x, method: 'get, post ,put'}",
          FAAS_METHOD_GET|FAAS_METHOD_POST|FAAS_METHOD_PUT },
        { "{path: /x, method: [options, head]}",
          FAAS_METHOD_OPTIONS|FAAS_METHOD_HEAD },
        { "{path: /x, method: [delete, patch]}",
          FAAS_METHOD_DELETE|FAAS_METHOD_PATCH },
        { "true", FAAS_METHODS_ANY },
    };

    char  text[256];

    for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        snprintf(text, sizeof(text),
                 "functions:\n  f:\n    events:\n      - http: %s\n",
                 forms[i].yaml);

        m = test_parse(text);
        CHECK(m != NULL);
        if (m == NULL) {
            continue;
        }

        CHECK_INT(m->functions[0].nevents, 1);

        if (m->functions[0].nevents == 1
            && m->functions[0].events[0].methods != forms[i].methods)
        {
            fprintf(stderr, "%s: got %s\n", forms[i].yaml,
                    test_methods(m->functions[0].events[0].methods));
            CHECK(0);
        }

        faas_manifest_free(m);
    }

    /* any/all has no OPTIONS, as in Midway */

    CHECK((FAAS_METHODS_ANY & FAAS_METHOD_OPTIONS) == 0);

    /* apigw is http; "http: false" is no route */

    m = test_parse("functions:\n  f:\n    events:\n"
                   "      - apigw: {path: /gw, method: put}\n"
                   "      - http: false\n"
                   "      - http: True\n");
    CHECK(m != NULL);
    if (m) {
        CHECK_INT(m->functions[0].nevents, 2);
        CHECK_STR(m->functions[0].events[0].path, "/gw");
        CHECK_INT(m->functions[0].events[0].methods, FAAS_METHOD_PUT);
        CHECK_INT(m->functions[0].events[0].line, 4);
        CHECK_INT(m->functions[0].events[0].column, 9);
        CHECK_STR(m->functions[0].events[1].path, "/*");
        CHECK_INT(m->functions[0].events[1].line, 6);
        faas_manifest_free(m);
    }

    CHECK_STR(test_error("functions:\n  f:\n    events:\n"
                         "      - http:\n"
                         "          path: /x\n"
                         "          method: FETCH\n"),
              "f.yml:6:19: functions.f.events[0].http.method: unknown "
              "method \"FETCH\"");

    CHECK_STR(test_error("functions:\n  f:\n    events:\n"
                         "      - http: {method: [get, connect]}\n"),
              "f.yml:4:30: functions.f.events[0].http.method: unknown "
              "method \"connect\"");

    CHECK_STR(test_error("functions:\n  f:\n    events:\n"
                         "      - http: {method: 'get,trace'}\n"),
              "f.yml:4:24: functions.f.events[0].http.method: unknown "
              "method \"trace\"");

    CHECK_STR(test_error("functions:\n  f:\n    events:\n"
                         "      - http: {method: [get, [post]]}\n"),
              "f.yml:4:30: functions.f.events[0].http.method: expected a "
              "method, got a sequence");

    CHECK_STR(test_error("functions:\n  f:\n    events:\n"
                         "      - http: {method: {get: 1}}\n"),
              "f.yml:4:24: functions.f.events[0].http.method: expected a "
              "method, a list of methods or \"any\", got a mapping");
}


static void
test_paths(void)
{
    faas_manifest_t  *m;

    m = test_parse("functions:\n  f:\n    events:\n"
                   "      - http: {method: get}\n"
                   "      - http:\n"
                   "          path:\n"
                   "      - http: {path: '/users/:id/*'}\n");
    CHECK(m != NULL);
    if (m) {
        CHECK_INT(m->functions[0].nevents, 3);
        CHECK_STR(m->functions[0].events[0].path, "/*");
        CHECK_STR(m->functions[0].events[1].path, "/*");
        CHECK_STR(m->functions[0].events[2].path, "/users/:id/*");
        faas_manifest_free(m);
    }

    CHECK_STR(test_error("functions:\n  f:\n    events:\n"
                         "      - http: {path: api/x}\n"),
              "f.yml:4:22: functions.f.events[0].http.path: must start "
              "with \"/\", got \"api/x\"");

    CHECK_STR(test_error("functions:\n  f:\n    events:\n"
                         "      - http: {path: '/a b'}\n"),
              "f.yml:4:22: functions.f.events[0].http.path: may not hold "
              "spaces, control characters, \"?\" or \"#\", got \"/a b\"");

    CHECK_STR(test_error("functions:\n  f:\n    events:\n"
                         "      - http: {path: '/a?b=1'}\n"),
              "f.yml:4:22: functions.f.events[0].http.path: may not hold "
              "spaces, control characters, \"?\" or \"#\", got \"/a?b=1\"");

    CHECK_STR(test_error("functions:\n  f:\n    events:\n"
                         "      - http: {path: ''}\n"),
              "f.yml:4:22: functions.f.events[0].http.path: must start "
              "with \"/\", got \"\"");
}


static void
test_ignored(void)
{
    faas_manifest_t  *m;

    m = test_parse(
        "service: x\n"
        "provider:\n"
        "  name: aliyun\n"
        "  stage: dev\n"
        "  region: cn-hangzhou\n"
        "  vpcConfig: {vpcId: v}\n"
        "deployType: egg\n"
        "layers:\n"
        "  eggLayer: {path: 'npm:@midwayjs/egg-layer'}\n"
        "aggregation:\n"
        "  index: {deployOrigin: false, functions: [f]}\n"
        "package: {include: [a/*], exclude: [b/*]}\n"
        "custom: {customDomain: {domainName: auto}}\n"
        "plugins: [a, b]\n"
        "resources: ~\n"
        "functions:\n"
        "  f:\n"
        "    description: ignored\n"
        "    codeUri: ./\n"
        "    events:\n"
        "      - timer: {type: cron, value: '0 0 * * *'}\n"
        "      - oss: {bucket: b, events: [a]}\n"
        "      - mq: {topic: t}\n"
        "      - log: {}\n"
        "      - http: {path: /x, cors: true, name: n, version: v}\n"
        "      - cos: ~\n");

    CHECK(m != NULL);
    if (m) {
        CHECK_INT(m->nfunctions, 1);
        CHECK_INT(m->functions[0].nevents, 1);
        if (m->functions[0].nevents == 1) {
            CHECK_STR(m->functions[0].events[0].path, "/x");
            CHECK_INT(m->functions[0].events[0].line, 25);
        }

        /* each noted with its place, for a debug log */

        CHECK_INT(m->nnotes, 20);
        if (m->nnotes == 20) {
            CHECK_STR(m->notes[0], "f.yml:7:1: deployType is ignored");
            CHECK_STR(m->notes[7], "f.yml:4:3: provider.stage is ignored");
            CHECK_STR(m->notes[10],
                      "f.yml:18:5: functions.f.description is ignored");
            CHECK_STR(m->notes[12],
                      "f.yml:21:9: functions.f.events[0].timer is ignored");
            CHECK_STR(m->notes[16], "f.yml:25:26: "
                      "functions.f.events[4].http.cors is ignored");
        }

        faas_manifest_free(m);
    }

    /* notes are bounded */

    {
        char    text[2048], *p;
        size_t  i;

        p = text;

        for (i = 0; i < 40; i++) {
            p += sprintf(p, "unused%zu: 1\n", i);
        }

        sprintf(p, "functions: {f: {}}\n");

        m = test_parse(text);
        CHECK(m != NULL);
        if (m) {
            CHECK_INT(m->nnotes, FAAS_MANIFEST_NOTES_MAX);
            faas_manifest_free(m);
        }
    }

    /* anchors alone are fine; tags are ignored */

    m = test_parse("custom: &c {a: 1}\nfunctions:\n"
                   "  f: {timeout: !!str 5, runtime: !!str nodejs}\n");
    CHECK(m != NULL);
    if (m) {
        CHECK_INT(m->functions[0].timeout_ms, 5000);
        faas_manifest_free(m);
    }
}


static void
test_errors(void)
{
    /* types */

    CHECK_STR(test_error("functions: [a, b]\n"),
              "f.yml:1:12: functions: expected a mapping, got a sequence");

    CHECK_STR(test_error("functions: yes\n"),
              "f.yml:1:12: functions: expected a mapping, got \"yes\"");

    CHECK_STR(test_error("provider: [a]\nfunctions: {f: }\n"),
              "f.yml:1:11: provider: expected a mapping, got a sequence");

    CHECK_STR(test_error("functions:\n  f: index.handler\n"),
              "f.yml:2:6: functions.f: expected a mapping, got "
              "\"index.handler\"");

    CHECK_STR(test_error("functions:\n  f:\n    runtime: [a]\n"),
              "f.yml:3:14: functions.f.runtime: expected a string, got a "
              "sequence");

    CHECK_STR(test_error("functions:\n  f:\n    events: {http: true}\n"),
              "f.yml:3:13: functions.f.events: expected a sequence of events "
              "like \"- http: {path: /x}\", got a mapping");

    CHECK_STR(test_error("functions:\n  f:\n    events:\n      - http\n"),
              "f.yml:4:9: functions.f.events[0]: expected an event like "
              "\"http: {path: /x}\", got \"http\"");

    CHECK_STR(test_error("functions:\n  f:\n    events:\n      - http:\n"),
              "f.yml:4:9: functions.f.events[0].http: expected true or a "
              "mapping like {path: /x, method: get}, got an empty value");

    CHECK_STR(test_error("functions:\n  f:\n    events:\n"
                         "      - http: [/x]\n"),
              "f.yml:4:15: functions.f.events[0].http: expected true or a "
              "mapping like {path: /x, method: get}, got a sequence");

    /* the classic indentation mistake */

    CHECK_STR(test_error("functions:\n  f:\n    events:\n"
                         "      - http:\n"
                         "        path: /x\n"
                         "        method: get\n"),
              "f.yml:5:9: functions.f.events[0]: an event has one type, this "
              "one has 3 keys (check the indentation: \"- http:\" takes its "
              "path and method indented under it)");

    /* numbers */

    CHECK_STR(test_error("functions:\n  hello:\n    timeout: abc\n"),
              "f.yml:3:14: functions.hello.timeout: expected a number of "
              "seconds, got \"abc\"");

    CHECK_STR(test_error("functions:\n  hello:\n    timeout: -1\n"),
              "f.yml:3:14: functions.hello.timeout: must be more than 0 "
              "seconds, got \"-1\"");

    CHECK_STR(test_error("functions:\n  hello:\n    timeout: 0\n"),
              "f.yml:3:14: functions.hello.timeout: must be more than 0 "
              "seconds, got \"0\"");

    CHECK_STR(test_error("functions:\n  hello:\n    timeout: 0.000\n"),
              "f.yml:3:14: functions.hello.timeout: must be more than 0 "
              "seconds, got \"0.000\"");

    CHECK_STR(test_error("functions:\n  hello:\n"
                         "    timeout: 99999999999999999999999\n"),
              "f.yml:3:14: functions.hello.timeout: must be at most 86400 "
              "seconds (a day), got \"99999999999999999999999\"");

    CHECK_STR(test_error("functions:\n  hello:\n    timeout: 86400.001\n"),
              "f.yml:3:14: functions.hello.timeout: must be at most 86400 "
              "seconds (a day), got \"86400.001\"");

    CHECK_STR(test_error("functions:\n  hello:\n    timeout: 1e3\n"),
              "f.yml:3:14: functions.hello.timeout: expected a number of "
              "seconds, got \"1e3\"");

    CHECK_STR(test_error("functions:\n  hello:\n    timeout: 3s\n"),
              "f.yml:3:14: functions.hello.timeout: expected a number of "
              "seconds, got \"3s\"");

    CHECK_STR(test_error("provider:\n  initTimeout: .\nfunctions: {f: }\n"),
              "f.yml:2:16: provider.initTimeout: expected a number of "
              "seconds, got \".\"");

    CHECK_STR(test_error("functions:\n  f:\n    memorySize: 0\n"),
              "f.yml:3:17: functions.f.memorySize: must be from 1 to 65536, "
              "got \"0\"");

    CHECK_STR(test_error("functions:\n  f:\n    concurrency: 1001\n"),
              "f.yml:3:18: functions.f.concurrency: must be from 1 to 1000, "
              "got \"1001\"");

    CHECK_STR(test_error("functions:\n  f:\n    instances: 65\n"),
              "f.yml:3:16: functions.f.instances: must be from 1 to 64, "
              "got \"65\"");

    CHECK_STR(test_error("functions:\n  f:\n    instances: -2\n"),
              "f.yml:3:16: functions.f.instances: must be from 1 to 64, "
              "got \"-2\"");

    CHECK_STR(test_error("functions:\n  f:\n    instances: 1.5\n"),
              "f.yml:3:16: functions.f.instances: expected a positive "
              "integer, got \"1.5\"");

    CHECK_STR(test_error("functions:\n  f:\n    instances: [1]\n"),
              "f.yml:3:16: functions.f.instances: expected a positive "
              "integer, got a sequence");

    /* handlers */

    CHECK_STR(test_error("functions:\n  f:\n    handler: index\n"),
              "f.yml:3:14: functions.f.handler: expected \"file.export\" "
              "like \"index.handler\", got \"index\"");

    CHECK_STR(test_error("functions:\n  f:\n    handler: .handler\n"),
              "f.yml:3:14: functions.f.handler: expected \"file.export\" "
              "like \"index.handler\", got \".handler\"");

    CHECK_STR(test_error("functions:\n  f:\n    handler: 'index.'\n"),
              "f.yml:3:14: functions.f.handler: expected \"file.export\" "
              "like \"index.handler\", got \"index.\"");

    CHECK_STR(test_error("functions:\n  f:\n    handler: /srv/index.h\n"),
              "f.yml:3:14: functions.f.handler: the file part must be a "
              "relative path, got \"/srv/index.h\"");

    CHECK_STR(test_error("functions:\n  f:\n    handler: ../up.handler\n"),
              "f.yml:3:14: functions.f.handler: the file part may not leave "
              "the manifest's directory with \"..\", got \"../up.handler\"");

    CHECK_STR(test_error("functions:\n  f:\n"
                         "    initializer: a/../../b.init\n"),
              "f.yml:3:18: functions.f.initializer: the file part may not "
              "leave the manifest's directory with \"..\", got "
              "\"a/../../b.init\"");

    CHECK_STR(test_error("functions:\n  f:\n    handler: a/...handler\n"),
              "f.yml:3:14: functions.f.handler: the file part may not leave "
              "the manifest's directory with \"..\", got \"a/...handler\"");

    CHECK_STR(test_error("functions:\n  f:\n    handler: index.a-b\n"),
              "f.yml:3:14: functions.f.handler: the export after the last "
              "\".\" must be a JavaScript name, got \"index.a-b\"");

    CHECK_STR(test_error("functions:\n  f:\n    handler: \"a\\0b.c\"\n"),
              "f.yml:3:14: functions.f.handler: contains a NUL character");

    /* names */

    CHECK_STR(test_error("functions:\n  bad name: {}\n"),
              "f.yml:2:3: functions: invalid function name \"bad name\": use "
              "1 to 64 of A-Z a-z 0-9 _ -, not starting with \"-\"");

    CHECK_STR(test_error("functions:\n  -dash: {}\n"),
              "f.yml:2:3: functions: invalid function name \"-dash\": use "
              "1 to 64 of A-Z a-z 0-9 _ -, not starting with \"-\"");

    CHECK_STR(test_error("functions:\n  ../x: {}\n"),
              "f.yml:2:3: functions: invalid function name \"../x\": use "
              "1 to 64 of A-Z a-z 0-9 _ -, not starting with \"-\"");

    CHECK_STR(test_error("functions:\n  '': {}\n"),
              "f.yml:2:3: functions: invalid function name \"\": use "
              "1 to 64 of A-Z a-z 0-9 _ -, not starting with \"-\"");

    CHECK_STR(test_error("functions:\n  "
                         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                         "aaaaaaaaaaaaaa: {}\n"),
              "f.yml:2:3: functions: invalid function name "
              "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\": use "
              "1 to 64 of A-Z a-z 0-9 _ -, not starting with \"-\"");

    /* values in messages are escaped and cut, within the message */

    CHECK_STR(test_error("functions: \"\\x01\\x01\\x01\\x01\\x01\\x01"
                         "\\x01\\x01\\x01\\x01\\x01\\x01\\x01\\x01\\x01"
                         "\\x01\\x01\\x01\\x01\\x01\"\n"),
              "f.yml:1:12: functions: expected a mapping, got "
              "\"\\x01\\x01\\x01\\x01\\x01\\x01\\x01\\x01\\x01"
              "\\x01\\x01\\x01...\"");

    CHECK_STR(test_error("functions: \"a\\tb\\nc\\\"d\\\\\"\n"),
              "f.yml:1:12: functions: expected a mapping, got "
              "\"a\\tb\\nc\\\"d\\\\\"");

    /* the document */

    CHECK_STR(test_error(""), "f.yml: the manifest is empty");
    CHECK_STR(test_error("# nothing\n"), "f.yml: the manifest is empty");
    CHECK_STR(test_error("---\n...\n"), "f.yml: the manifest is empty");

    CHECK_STR(test_error("- a\n- b\n"),
              "f.yml:1:1: expected a mapping at the top of the manifest, got "
              "a sequence");

    CHECK_STR(test_error("just text\n"),
              "f.yml:1:1: expected a mapping at the top of the manifest, got "
              "\"just text\"");

    CHECK_STR(test_error("service: x\n"),
              "f.yml:1:1: no functions: the manifest has no \"functions\" "
              "mapping");

    CHECK_STR(test_error("service: x\nfunctions:\n"),
              "f.yml:2:1: functions: no functions are declared");

    CHECK_STR(test_error("service: x\nfunctions: {}\n"),
              "f.yml:2:12: functions: no functions are declared");

    /* duplicate keys, at any level */

    CHECK_STR(test_error("functions:\n  hello: {}\n  world: {}\n"
                         "  hello: {}\n"),
              "f.yml:4:3: functions: duplicate key \"hello\", first at line "
              "2 column 3");

    CHECK_STR(test_error("functions:\n  f:\n    timeout: 1\n"
                         "    timeout: 2\n"),
              "f.yml:4:5: functions.f: duplicate key \"timeout\", first at "
              "line 3 column 5");

    CHECK_STR(test_error("functions: {f: }\ncustom:\n  a:\n"
                         "    - {x: 1, x: 2}\n"),
              "f.yml:4:14: custom.a[0]: duplicate key \"x\", first at line 4 "
              "column 8");

    CHECK_STR(test_error("service: a\nfunctions: {f: }\nservice: b\n"),
              "f.yml:3:1: duplicate key \"service\", first at line 1 "
              "column 1");
}


static void
test_check(void)
{
    faas_error_t      err;
    faas_manifest_t  *g, *set[3];
    char              buf[512];

    set[0] = test_parse("functions:\n"
                        "  users:\n"
                        "    events:\n"
                        "      - http: {path: '/api/users/:id', "
                        "method: [get, put]}\n"
                        "      - http: {path: /api/users, method: post}\n"
                        "  root:\n"
                        "    events:\n"
                        "      - http: true\n");

    set[1] = test_parse("functions:\n"
                        "  other:\n"
                        "    events:\n"
                        "      - http: {path: '/api/users/:uid', "
                        "method: delete}\n"
                        "      - http: {path: /api/users, method: get}\n"
                        "      - http: {path: /api/users/*}\n");

    set[2] = test_parse("functions:\n"
                        "  more:\n"
                        "    events:\n"
                        "      - http: {path: '/api/users/:user', "
                        "method: 'put,patch'}\n"
                        "  users: {}\n");

    CHECK(set[0] && set[1] && set[2]);
    if (!(set[0] && set[1] && set[2])) {
        goto done;
    }

    set[1]->file = "g.yml";
    set[2]->file = "h.yml";

    /* different methods on one shape, a catch-all beside a prefix: fine */

    CHECK_INT(faas_manifests_check(set, 2, &err), FAAS_OK);
    CHECK_INT(faas_manifests_check(set, 1, &err), FAAS_OK);
    CHECK_INT(faas_manifests_check(NULL, 0, &err), FAAS_OK);

    /* "users" twice, in f.yml and h.yml; the route clash comes later */

    CHECK_INT(faas_manifests_check(set, 3, &err), FAAS_ERROR);
    faas_error_format(&err, buf, sizeof(buf));
    CHECK_STR(buf, "h.yml:5:3: function \"users\" is already declared at "
              "f.yml:2:3");

    /* routes are the router's to judge, per server */

    set[2]->functions[1].name = "users2";
    CHECK_INT(faas_manifests_check(set, 3, &err), FAAS_OK);

    /* the same manifest twice clashes on its first function */

    g = set[1];
    set[1] = set[0];
    CHECK_INT(faas_manifests_check(set, 2, &err), FAAS_ERROR);
    faas_error_format(&err, buf, sizeof(buf));
    CHECK_STR(buf, "f.yml:2:3: function \"users\" is already declared at "
              "f.yml:2:3");

    set[1] = g;

    /* routes of one manifest, as faasd and faasctl judge them alone */

    CHECK_INT(faas_manifest_check_routes(set[0], &err), FAAS_OK);
    CHECK_INT(faas_manifest_check_routes(set[1], &err), FAAS_OK);

    g = test_parse("functions:\n"
                   "  a:\n"
                   "    events:\n"
                   "      - http: {path: /x, method: get}\n"
                   "  b:\n"
                   "    events:\n"
                   "      - http: {path: /x, method: [post, get]}\n");
    CHECK(g != NULL);

    if (g) {
        CHECK_INT(faas_manifest_check_routes(g, &err), FAAS_ERROR);
        faas_error_format(&err, buf, sizeof(buf));
        CHECK_STR(buf, "f.yml:7:9: route \"GET /x\" conflicts with "
                  "\"GET /x\" declared at f.yml:4:9");
        faas_manifest_free(g);
    }

done:

    faas_manifest_free(set[0]);
    faas_manifest_free(set[1]);
    faas_manifest_free(set[2]);
}


static void
test_find(void)
{
    faas_manifest_t        *set[2];
    const faas_function_t  *fn;
    const faas_manifest_t  *owner;

    set[0] = test_parse("functions: {a: {}, b: {}}\n");
    set[1] = test_parse("functions: {c: {handler: c.main}}\n");

    CHECK(set[0] && set[1]);
    if (set[0] && set[1]) {
        owner = NULL;
        fn = faas_manifest_find(set, 2, "c", &owner);
        CHECK(fn != NULL && strcmp(fn->handler, "c.main") == 0);
        CHECK(owner == set[1]);

        fn = faas_manifest_find(set, 2, "b", NULL);
        CHECK(fn == &set[0]->functions[1]);

        CHECK(faas_manifest_find(set, 2, "d", &owner) == NULL);
        CHECK(faas_manifest_find(set, 0, "a", &owner) == NULL);
    }

    faas_manifest_free(set[0]);
    faas_manifest_free(set[1]);
}


static void
test_load(void)
{
    FILE             *f;
    char             *cwd, *real;
    size_t            i;
    faas_error_t      err;
    faas_manifest_t  *m;
    char              dir[] = "/tmp/test_manifest.XXXXXX";
    char              path[PATH_MAX], buf[PATH_MAX + 256];

    if (mkdtemp(dir) == NULL) {
        CHECK(0);
        return;
    }

    snprintf(path, sizeof(path), "%s/f.yml", dir);

    f = fopen(path, "w");
    if (f == NULL) {
        CHECK(0);
        return;
    }

    fputs("functions:\n  f:\n    runtime: ${env.TEST_MANIFEST_RT}\n", f);
    fclose(f);

    setenv("TEST_MANIFEST_RT", "nodejs20", 1);

    CHECK_INT(faas_manifest_load(path, &m, &err), FAAS_OK);
    if (m) {
        real = realpath(dir, NULL);
        CHECK_STR(m->file, path);
        CHECK_STR(m->dir, real);
        CHECK_STR(m->functions[0].runtime, "nodejs20");
        free(real);
        faas_manifest_free(m);
    }

    /* a relative path, resolved against the current directory */

    cwd = getcwd(NULL, 0);

    if (cwd && chdir(dir) == 0) {
        CHECK_INT(faas_manifest_load("f.yml", &m, &err), FAAS_OK);
        if (m) {
            real = realpath(dir, NULL);
            CHECK_STR(m->file, "f.yml");
            CHECK_STR(m->dir, real);
            free(real);
            faas_manifest_free(m);
        }

        CHECK(chdir(cwd) == 0);
    }

    free(cwd);

    /* errors name the file */

    snprintf(buf, sizeof(buf), "%s/none.yml", dir);
    CHECK_INT(faas_manifest_load(buf, &m, &err), FAAS_ERROR);
    CHECK(m == NULL);
    CHECK(err.file == buf);
    CHECK_STR(err.msg, "cannot open: No such file or directory");

    CHECK_INT(faas_manifest_load(dir, &m, &err), FAAS_ERROR);
    CHECK_STR(err.msg, "is not a regular file");

    f = fopen(path, "w");
    if (f == NULL) {
        CHECK(0);
        return;
    }

    fputs("functions:\n  f:\n    timeout: x\n", f);
    fclose(f);

    CHECK_INT(faas_manifest_load(path, &m, &err), FAAS_ERROR);
    CHECK(err.file == path);
    CHECK_STR(err.msg, "functions.f.timeout: expected a number of seconds, "
              "got \"x\"");
    CHECK_INT(err.line, 3);
    CHECK_INT(err.column, 14);

    /* over 1 MiB */

    f = fopen(path, "w");
    if (f == NULL) {
        CHECK(0);
        return;
    }

    for (i = 0; i < FAAS_MANIFEST_MAX_SIZE / 16 + 1; i++) {
        fputs("# 16 bytes .....", f);
    }

    fclose(f);

    CHECK_INT(faas_manifest_load(path, &m, &err), FAAS_ERROR);
    CHECK_STR(err.msg, "is larger than 1048576 bytes (1 MiB): 1048592 bytes");

    unlink(path);
    rmdir(dir);
}


int
main(void)
{
    test_full();
    test_service();
    test_methods_forms();
    test_paths();
    test_ignored();
    test_errors();
    test_check();
    test_find();
    test_load();

    return unit_done("test_manifest");
}
