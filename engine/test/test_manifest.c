/*
 * Copyright (C) ngx_faas authors
 *
 * Unit tests of the f.yml loader.
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

#include "faas_manifest.h"
#include "unit.h"


static const char *test_getenv(const char *name, void *data);
static faas_manifest_t *test_parse(const char *text);
static const char *test_error(const char *text);
static const char *test_methods(unsigned methods);
static void test_full(void);
static void test_service(void);
static void test_methods_forms(void);
static void test_paths(void);
static void test_env(void);
static void test_ignored(void);
static void test_values(void);
static void test_errors(void);
static void test_yaml_errors(void);
static void test_check(void);
static void test_find(void);
static void test_load(void);
static void test_aggregate(void);
static void test_aggregate_errors(void);
static int test_lookup(void *data, unsigned source, const char *name,
    size_t len, const char **value, size_t *vlen);
static void test_aggregate_body(void);


static const char *
test_getenv(const char *name, void *data)
{
    (void) data;

    if (strcmp(name, "REGION") == 0) {
        return "hz";
    }

    if (strcmp(name, "SECONDS") == 0) {
        return "30";
    }

    if (strcmp(name, "ON") == 0) {
        return "true";
    }

    if (strcmp(name, "EMPTY") == 0) {
        return "";
    }

    return NULL;
}


static faas_manifest_t *
test_parse(const char *text)
{
    faas_error_t      err;
    faas_manifest_t  *m;
    char              buf[512];

    if (faas_manifest_parse("f.yml", text, strlen(text), test_getenv, NULL,
                            &m, &err)
        != FAAS_OK)
    {
        faas_error_format(&err, buf, sizeof(buf));
        fprintf(stderr, "unexpected error: %s\n", buf);
        return NULL;
    }

    return m;
}


/* the formatted error, or "(parsed)" */

static const char *
test_error(const char *text)
{
    faas_error_t      err;
    faas_manifest_t  *m;

    static char       buf[512];

    m = (faas_manifest_t *) 1;

    if (faas_manifest_parse("f.yml", text, strlen(text), test_getenv, NULL,
                            &m, &err)
        == FAAS_OK)
    {
        faas_manifest_free(m);
        return "(parsed)";
    }

    if (m != NULL) {
        return "(out not NULL on error)";
    }

    faas_error_format(&err, buf, sizeof(buf));

    return buf;
}


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
test_env(void)
{
    faas_function_t  *fn;
    faas_manifest_t  *m;
    faas_error_t      err;

    m = test_parse(
        "provider:\n"
        "  timeout: ${env.SECONDS}\n"
        "  environment:\n"
        "    REGION: ${env.REGION}\n"
        "    UNSET: ${env.NOT_SET_ANYWHERE}\n"
        "    SPACES: \"${ env.REGION }-${env.REGION}\"\n"
        "    OTHER: \"${opt.stage}\"\n"
        "    TWO_DOTS: \"${env.A.B}\"\n"
        "    OPEN: \"${env.REGION\"\n"
        "    QUOTED: '${env.REGION}'\n"
        "    EMPTY: x${env.EMPTY}y\n"
        "    DOLLAR: \"$${env.REGION}$\"\n"
        "functions:\n"
        "  f:\n"
        "    events:\n"
        "      - http: ${env.ON}\n"
        "  g:\n"
        "    runtime: ${env.EMPTY}\n");

    CHECK(m != NULL);
    if (m == NULL) {
        return;
    }

    fn = &m->functions[0];
    CHECK_INT(fn->timeout_ms, 30000);
    CHECK_INT(fn->nenv, 9);

    if (fn->nenv == 9) {
        CHECK_STR(fn->env[0].value, "hz");
        CHECK_STR(fn->env[1].value, "${env.NOT_SET_ANYWHERE}");
        CHECK_STR(fn->env[2].value, "hz-hz");
        CHECK_STR(fn->env[3].value, "${opt.stage}");
        CHECK_STR(fn->env[4].value, "${env.A.B}");
        CHECK_STR(fn->env[5].value, "${env.REGION");
        CHECK_STR(fn->env[6].value, "hz");
        CHECK_STR(fn->env[7].value, "xy");
        CHECK_STR(fn->env[8].value, "$hz$");
    }

    /* "${env.ON}" became a plain true, as Midway's text substitution */

    CHECK_INT(fn->nevents, 1);
    if (fn->nevents == 1) {
        CHECK_STR(fn->events[0].path, "/*");
    }

    /* an empty substitution is an empty value: "not set" */

    CHECK(m->functions[1].runtime == NULL);

    faas_manifest_free(m);

    /* keys are not substituted; a NULL getenv substitutes nothing */

    m = test_parse("functions:\n  f:\n    environment:\n"
                   "      ${env.REGION}: 1\n");
    CHECK(m != NULL);
    if (m) {
        CHECK_STR(m->functions[0].env[0].key, "${env.REGION}");
        faas_manifest_free(m);
    }

    CHECK(faas_manifest_parse("f.yml",
                              "functions: {f: {runtime: '${env.REGION}'}}",
                              42, NULL, NULL, &m, &err)
          == FAAS_OK);
    if (m) {
        CHECK_STR(m->functions[0].runtime, "${env.REGION}");
        faas_manifest_free(m);
    }

    CHECK_STR(test_error("functions:\n  f:\n    environment: [A]\n"),
              "f.yml:3:18: functions.f.environment: expected a mapping of "
              "variables, got a sequence");

    CHECK_STR(test_error("provider:\n  environment:\n    \"A=B\": 1\n"
                         "functions: {f: }\n"),
              "f.yml:3:5: provider.environment: invalid variable name "
              "\"A=B\"");

    CHECK_STR(test_error("functions:\n  f:\n    environment:\n"
                         "      A: {b: 1}\n"),
              "f.yml:4:10: functions.f.environment.A: expected a string, "
              "got a mapping");
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
test_values(void)
{
    faas_manifest_t  *m;

    m = test_parse("functions:\n  a: {timeout: 0.0001}\n"
                   "  b: {timeout: 86400}\n"
                   "  c: {timeout: '1.25', initTimeout: .5}\n"
                   "  d: {timeout: +2, memorySize: 65536, "
                   "concurrency: 1000, instances: 64}\n"
                   "  A-b_9: {handler: 'lib/a.b/c..d.$h_1'}\n");
    CHECK(m != NULL);
    if (m == NULL) {
        return;
    }

    CHECK_INT(m->functions[0].timeout_ms, 1);
    CHECK_INT(m->functions[1].timeout_ms, 86400000);
    CHECK_INT(m->functions[2].timeout_ms, 1250);
    CHECK_INT(m->functions[2].init_timeout_ms, 500);
    CHECK_INT(m->functions[3].timeout_ms, 2000);
    CHECK_INT(m->functions[3].memory_mb, 65536);
    CHECK_INT(m->functions[3].concurrency, 1000);
    CHECK_INT(m->functions[3].instances, 64);
    CHECK_STR(m->functions[4].name, "A-b_9");
    CHECK_STR(m->functions[4].handler, "lib/a.b/c..d.$h_1");

    faas_manifest_free(m);

    /* a 64-character name is the longest */

    m = test_parse("functions:\n  "
                   "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                   "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                   ": {}\n");
    CHECK(m != NULL);
    faas_manifest_free(m);
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
test_yaml_errors(void)
{
    size_t   i;
    char    *deep;

    CHECK_STR(test_error("functions:\n  f: {\n"),
              "f.yml:3:1: YAML syntax error: did not find expected node "
              "content while parsing a flow node (at line 3 column 1)");

    CHECK_STR(test_error("a: b: c\n"),
              "f.yml:1:5: YAML syntax error: mapping values are not allowed "
              "in this context");

    CHECK_STR(test_error("functions:\n  - a\n  b: c\n"),
              "f.yml:3:3: YAML syntax error: did not find expected '-' "
              "indicator while parsing a block collection (at line 2 "
              "column 3)");

    CHECK_STR(test_error("a:\n\tb: 1\n"),
              "f.yml:2:1: YAML syntax error: found character that cannot "
              "start any token while scanning for the next token (at line 2 "
              "column 1)");

    CHECK_STR(test_error("functions:\n  f: {handler: \"\xff\"}\n"),
              "f.yml:2:17: YAML: invalid leading UTF-8 octet (byte 0xFF)");

    CHECK_STR(test_error("a: 1\n---\nb: 2\n"),
              "f.yml:2:1: a manifest holds one YAML document, this is a "
              "second one");

    CHECK_STR(test_error("base: &b {timeout: 3}\nfunctions:\n  f: *b\n"),
              "f.yml:3:6: YAML aliases (*b) are not supported");

    CHECK_STR(test_error("functions:\n  f:\n    <<: {timeout: 3}\n"),
              "f.yml:3:5: YAML merge keys (<<) are not supported");

    CHECK_STR(test_error("functions:\n  ? [a]\n  : 1\n"),
              "f.yml:2:5: functions: expected a plain key, got a sequence "
              "(complex keys are not supported)");

    /* bounded nesting: no deep recursion anywhere */

    deep = malloc(20001);
    if (deep == NULL) {
        CHECK(0);
        return;
    }

    for (i = 0; i < 10000; i++) {
        deep[i] = '[';
        deep[10000 + i] = ']';
    }

    deep[20000] = '\0';

    CHECK_STR(test_error(deep),
              "f.yml:1:65: nested deeper than 64 levels");

    free(deep);
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
    test_full();
    test_service();
    test_methods_forms();
    test_paths();
    test_env();
    test_ignored();
    test_values();
    test_errors();
    test_yaml_errors();
    test_check();
    test_find();
    test_load();
    test_aggregate();
    test_aggregate_errors();
    test_aggregate_body();

    return unit_done("test_manifest");
}
