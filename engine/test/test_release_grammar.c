/*
 * Copyright (C) ngx_faas authors
 *
 * Unit tests of the command line's grammar of a release policy: what
 * --weights, --sticky and --rule become (the policy's JSON, the history's
 * note, the versions named), the messages faasctl prints for what is not
 * of the grammar, and percentages.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "faas_release_grammar.h"
#include "unit.h"


static int parse(const char *weights, const char *sticky,
    const char *rule1, const char *rule2);
static const char *policy(void);
static const char *failed(const char *weights, const char *sticky,
    const char *rule, unsigned syntax);
static void test_policies(void);
static void test_names(void);
static void test_judged(void);
static void test_errors(void);
static void test_percent(void);


static faas_release_args_t  args;
static faas_error_t         err;
static char                 text[2048];


/* the options, as faasctl passes them; args then holds the result */

static int
parse(const char *weights, const char *sticky, const char *rule1,
    const char *rule2)
{
    size_t       n;
    const char  *rules[2];

    faas_release_args_free(&args);
    memset(&err, 0, sizeof(faas_error_t));

    n = 0;

    if (rule1) {
        rules[n++] = rule1;
    }

    if (rule2) {
        rules[n++] = rule2;
    }

    return faas_release_args_parse(&args, weights, sticky, rules, n, &err);
}


static const char *
policy(void)
{
    char  *s;

    s = cJSON_PrintUnformatted(args.policy);
    snprintf(text, sizeof(text), "%s", s ? s : "(none)");
    free(s);

    return text;
}


/* the message as faasctl prints it, after "faasctl: " */

static const char *
failed(const char *weights, const char *sticky, const char *rule,
    unsigned syntax)
{
    if (parse(weights, sticky, rule, NULL) == FAAS_OK) {
        return "(parsed)";
    }

    if (args.policy != NULL || args.note != NULL) {
        return "(a failure left a policy)";
    }

    if (args.syntax != syntax) {
        return syntax ? "(not a usage error)" : "(a usage error)";
    }

    if (err.file) {
        snprintf(text, sizeof(text), "%s: %s", err.file, err.msg);

    } else {
        snprintf(text, sizeof(text), "%s", err.msg);
    }

    return text;
}


static void
test_policies(void)
{
    CHECK_INT(parse("v1=90,v2=10", "cookie:uid",
                    "header:x-beta=1 -> v2", "query:c~^(a|b)$ -> v3"),
              FAAS_OK);
    CHECK_STR(policy(), "{\"split\":{\"v1\":9000,\"v2\":1000},"
                        "\"sticky\":{\"cookie\":\"uid\"},\"rules\":["
                        "{\"match\":{\"header\":\"x-beta\",\"equals\":\"1\"},"
                        "\"version\":\"v2\"},"
                        "{\"match\":{\"query\":\"c\",\"regex\":\"^(a|b)$\"},"
                        "\"version\":\"v3\"}]}");
    CHECK_STR(args.note, "release v1=90%,v2=10% sticky cookie:uid "
                         "rule 'header:x-beta=1 -> v2' "
                         "rule 'query:c~^(a|b)$ -> v3'");

    /* "%" and decimals; the note normalises them */

    CHECK_INT(parse("v1=99.99%,v2=0.01", NULL, NULL, NULL), FAAS_OK);
    CHECK_STR(policy(), "{\"split\":{\"v1\":9999,\"v2\":1}}");
    CHECK_STR(args.note, "release v1=99.99%,v2=0.01%");

    CHECK_INT(parse("v1=50.5,v2=49.50%", NULL, NULL, NULL), FAAS_OK);
    CHECK_STR(args.note, "release v1=50.5%,v2=49.5%");

    /* a rule alone: present, addr, a split as target, spaces around */

    CHECK_INT(parse(NULL, NULL, "  cookie:beta   ->   v2 ", NULL), FAAS_OK);
    CHECK_STR(policy(), "{\"rules\":[{\"match\":{\"cookie\":\"beta\"},"
                        "\"version\":\"v2\"}]}");
    CHECK_STR(args.note, "release rule 'cookie:beta -> v2'");

    CHECK_INT(parse(NULL, "addr", "addr:10.0.0.0/8 -> v1=50,v2=50", NULL),
              FAAS_OK);
    CHECK_STR(policy(), "{\"sticky\":{\"addr\":true},\"rules\":["
                        "{\"match\":{\"addr\":\"10.0.0.0/8\"},"
                        "\"split\":{\"v1\":5000,\"v2\":5000}}]}");
    CHECK_STR(args.note, "release sticky addr rule "
                         "'addr:10.0.0.0/8 -> v1=50%,v2=50%'");

    /* the last "->" divides: a regex may hold one */

    CHECK_INT(parse(NULL, NULL, "header:x~a->b -> v2", NULL), FAAS_OK);
    CHECK_STR(policy(), "{\"rules\":[{\"match\":{\"header\":\"x\","
                        "\"regex\":\"a->b\"},\"version\":\"v2\"}]}");

    CHECK_INT(parse(NULL, "header:X-User", NULL, NULL), FAAS_OK);
    CHECK_STR(policy(), "{\"sticky\":{\"header\":\"X-User\"}}");
    CHECK_INT(parse(NULL, "query:u", NULL, NULL), FAAS_OK);
    CHECK_STR(policy(), "{\"sticky\":{\"query\":\"u\"}}");

    /* nothing given: an empty policy, which faasctl refuses before */

    CHECK_INT(parse(NULL, NULL, NULL, NULL), FAAS_OK);
    CHECK_STR(policy(), "{}");
    CHECK_STR(args.note, "release");
}


/* the versions named, each once, in the order named */

static void
test_names(void)
{
    CHECK_INT(parse("v1=90,v2=10", NULL, "header:a -> v3",
                    "cookie:b -> v2=50,v3=50"), FAAS_OK);
    CHECK_INT(args.nnames, 3);

    if (args.nnames == 3) {
        CHECK_STR(args.names[0], "v1");
        CHECK_STR(args.names[1], "v2");
        CHECK_STR(args.names[2], "v3");
    }
}


/* what the grammar passes, the policy's reader takes or refuses */

static void
test_judged(void)
{
    faas_release_t     *rel;
    static const char  *versions[] = { "v1", "v2" };

    CHECK_INT(parse("v1=90,v2=10", "cookie:uid", "header:x=1 -> v2",
                    "addr:10.0.0.0/8 -> v1"), FAAS_OK);
    CHECK_INT(faas_release_from_json(args.policy, versions, 2, NULL, &rel,
                                     &err), FAAS_OK);
    CHECK(rel != NULL);
    CHECK(faas_release_names(rel, "v2"));
    faas_release_free(rel);

    CHECK_INT(parse(NULL, NULL, "addr:10.0.0.0/33 -> v2", NULL), FAAS_OK);
    CHECK_INT(faas_release_from_json(args.policy, versions, 2, NULL, &rel,
                                     &err), FAAS_ERROR);
    CHECK(strstr(err.msg, "bad CIDR \"10.0.0.0/33\"") != NULL);
}


/* the texts of t/faasctl_release.t, whole */

static void
test_errors(void)
{
    /* not of the grammar: usage errors */

    CHECK_STR(failed(NULL, NULL, "header:x=1 v2", 1),
              "--rule \"header:x=1 v2\": expected SOURCE:NAME=VALUE -> "
              "TARGET, SOURCE:NAME~REGEX -> TARGET, SOURCE:NAME -> TARGET "
              "or addr:CIDR -> TARGET");
    CHECK_STR(failed(NULL, NULL, "body:x -> v2", 1),
              "--rule \"body:x -> v2\": unknown source \"body\" (header, "
              "cookie, query or addr)");
    CHECK(strncmp(failed(NULL, NULL, "header:=1 -> v2", 1),
                  "--rule \"header:=1 -> v2\": expected SOURCE:", 41) == 0);
    CHECK(strncmp(failed(NULL, NULL, "query:a ->", 1),
                  "--rule \"query:a ->\": expected SOURCE:", 36) == 0);
    CHECK(strncmp(failed(NULL, NULL, "addr: -> v1", 1),
                  "--rule \"addr: -> v1\": expected SOURCE:", 37) == 0);
    CHECK(strncmp(failed(NULL, NULL, "x -> v1", 1),
                  "--rule \"x -> v1\": expected SOURCE:", 33) == 0);
    CHECK_STR(failed(NULL, NULL, "query:a -> v 2", 1),
              "--rule \"query:a -> v 2\": invalid version \"v 2\"");
    CHECK_STR(failed("v1=100", "session", NULL, 1),
              "--sticky \"session\": expected header:NAME, cookie:NAME, "
              "query:NAME or addr");
    CHECK_STR(failed("v1=100", "cookie:", NULL, 1),
              "--sticky \"cookie:\": expected header:NAME, cookie:NAME, "
              "query:NAME or addr");
    CHECK_STR(failed("v1=100", "body:x", NULL, 1),
              "--sticky \"body:x\": expected header:NAME, cookie:NAME, "
              "query:NAME or addr");
    CHECK_STR(failed("v1=99.995,v2=0.005", NULL, NULL, 1),
              "--weights \"v1=99.995,v2=0.005\": expected "
              "VERSION=PERCENT,... (\"v1=90,v2=10\", up to two decimals, "
              "at most 100)");
    CHECK_STR(failed("v1=101", NULL, NULL, 1),
              "--weights \"v1=101\": expected VERSION=PERCENT,... "
              "(\"v1=90,v2=10\", up to two decimals, at most 100)");
    CHECK(strncmp(failed("=100", NULL, NULL, 1), "--weights \"=100\": "
                  "expected VERSION=PERCENT", 41) == 0);
    CHECK(strncmp(failed("v1=50,,v2=50", NULL, NULL, 1),
                  "--weights \"v1=50,,v2=50\": expected", 34) == 0);
    CHECK(strncmp(failed("v:1=100", NULL, NULL, 1),
                  "--weights \"v:1=100\": expected", 29) == 0);
    CHECK(strncmp(failed("v1=1.", NULL, NULL, 1),
                  "--weights \"v1=1.\": expected", 27) == 0);
    CHECK_STR(failed("v1=50,v1=50", NULL, NULL, 1),
              "--weights \"v1=50,v1=50\": version \"v1\" named twice");
    CHECK_STR(failed(NULL, NULL, "query:a -> v2=100,v2=0", 1),
              "--rule \"v2=100,v2=0\": version \"v2\" named twice");

    /* of the grammar, but no policy: errors */

    CHECK_STR(failed("v1=80,v2=10", NULL, NULL, 0),
              "--weights \"v1=80,v2=10\": the weights sum to 90%, not 100%");
    CHECK_STR(failed("v1=0,v2=0", NULL, NULL, 0),
              "--weights \"v1=0,v2=0\": the weights sum to 0%, not 100%");
    CHECK_STR(failed("v1=60,v2=60", NULL, NULL, 0),
              "--weights \"v1=60,v2=60\": the weights sum to 120%, not "
              "100%");
    CHECK_STR(failed(NULL, NULL, "header:x -> v1=50,v2=49.5", 0),
              "--rule \"v1=50,v2=49.5\": the weights sum to 99.5%, not "
              "100%");

    /* the first wrong option is the one said: --weights, --sticky, rules */

    CHECK(strncmp(failed("v1=x", "nope", "x", 1), "--weights", 9) == 0);
    CHECK(strncmp(failed("v1=100", "nope", "x", 1), "--sticky", 8) == 0);

    /* a long rule is said whole: it is not cut to err->msg's size */

    {
        char  rule[1200];

        memset(rule, 'a', sizeof(rule) - 1);
        rule[sizeof(rule) - 1] = '\0';
        memcpy(rule, "body:", 5);

        failed(NULL, NULL, rule, 1);
        CHECK(err.file != NULL && strlen(err.file) == 7 + 1199 + 2);
    }
}


static void
test_percent(void)
{
    char      buf[16];
    unsigned  bp;

    bp = 7;
    CHECK(faas_release_percent_parse("12.34", 5, &bp) == FAAS_OK
          && bp == 1234);
    CHECK(faas_release_percent_parse("7", 1, &bp) == FAAS_OK && bp == 700);
    CHECK(faas_release_percent_parse("0.01", 4, &bp) == FAAS_OK && bp == 1);
    CHECK(faas_release_percent_parse("0.5%", 4, &bp) == FAAS_OK
          && bp == 50);
    CHECK(faas_release_percent_parse("100%", 4, &bp) == FAAS_OK
          && bp == 10000);
    CHECK(faas_release_percent_parse("007", 3, &bp) == FAAS_OK
          && bp == 700);

    bp = 7;
    CHECK(faas_release_percent_parse("100.01", 6, &bp) == FAAS_ERROR);
    CHECK(faas_release_percent_parse("1000", 4, &bp) == FAAS_ERROR);
    CHECK(faas_release_percent_parse("1.234", 5, &bp) == FAAS_ERROR);
    CHECK(faas_release_percent_parse("1.", 2, &bp) == FAAS_ERROR);
    CHECK(faas_release_percent_parse(".5", 2, &bp) == FAAS_ERROR);
    CHECK(faas_release_percent_parse("", 0, &bp) == FAAS_ERROR);
    CHECK(faas_release_percent_parse("%", 1, &bp) == FAAS_ERROR);
    CHECK(faas_release_percent_parse("5%%", 3, &bp) == FAAS_ERROR);
    CHECK(faas_release_percent_parse("-1", 2, &bp) == FAAS_ERROR);
    CHECK(faas_release_percent_parse("1 ", 2, &bp) == FAAS_ERROR);
    CHECK(bp == 7);

    faas_release_percent(9000, buf, sizeof(buf));
    CHECK_STR(buf, "90");
    faas_release_percent(1050, buf, sizeof(buf));
    CHECK_STR(buf, "10.5");
    faas_release_percent(1, buf, sizeof(buf));
    CHECK_STR(buf, "0.01");
    faas_release_percent(0, buf, sizeof(buf));
    CHECK_STR(buf, "0");
    faas_release_percent(12000, buf, sizeof(buf));
    CHECK_STR(buf, "120");
}


int
main(void)
{
    test_policies();
    test_names();
    test_judged();
    test_errors();
    test_percent();

    faas_release_args_free(&args);

    return unit_done("test_release_grammar");
}
