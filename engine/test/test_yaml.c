/*
 * Copyright (C) ngx_faas authors
 *
 * Unit tests of f.yml's YAML tree, through the loader: ${env.NAME}
 * substitution, the values read from scalars (seconds, integers, names),
 * and YAML's own errors.
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


static void test_env(void);
static void test_values(void);
static void test_yaml_errors(void);


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


int
main(void)
{
    test_env();
    test_values();
    test_yaml_errors();

    return unit_done("test_yaml");
}
