/*
 * Copyright (C) ngx_faas authors
 *
 * Unit tests of release policies: reading and its messages, rule
 * precedence, the sticky split's stability and monotone ramp, the
 * unkeyed split's exactness, and the JSON round trip.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "faas_release.h"
#include "unit.h"


#define PATH        "functions.hello.release"
#define REQ_FIELDS  8


typedef struct {
    unsigned        source;
    const char     *name;
    const char     *value;
    size_t          len;
} req_field_t;


/* a request as the getter sees it; "names" records what it was asked */

typedef struct {
    req_field_t     fields[REQ_FIELDS];
    size_t          n;
    unsigned        calls;
    unsigned        bad_name;
} req_t;


static faas_release_t *test_parse(const char *text);
static const char *test_error(const char *text);
static const char *test_regex_error(const char *re);
static const char *req_get(void *data, unsigned source, const char *name,
    size_t name_len, size_t *len);
static void req_set(req_t *r, unsigned source, const char *name,
    const char *value);
static const char *pick(const faas_release_t *rel, req_t *r);
static faas_release_t *split_policy(const char *split, const char *sticky);
static void test_example(void);
static void test_matches(void);
static void test_regex(void);
static void test_cidr(void);
static void test_errors(void);
static void test_limits(void);
static void test_round_trip(void);
static void test_order(void);
static void test_sticky(void);
static void test_ramp(void);
static void test_sticky_three_way(void);
static void test_unkeyed(void);
static void test_unkeyed_windows(void);
static void test_speed(void);


static const char  *versions[] = { "v1", "v2", "v3", "v7", "v9", "v10" };

#define NVERSIONS  (sizeof(versions) / sizeof(versions[0]))

static faas_error_t  err;
static uint64_t      counter;

static const char  example[] =
    "{'rules': ["
    "  {'match': {'header': 'x-faas-version', 'equals': 'v7'},"
    "   'version': 'v7'},"
    "  {'match': {'cookie': 'beta', 'regex': '^(1|yes)$'},"
    "   'split': {'v2': 5000, 'v1': 5000}},"
    "  {'match': {'addr': '10.0.0.0/8'}, 'version': 'v2'},"
    "  {'match': {'query': 'canary'}, 'version': 'v2'}"
    "],"
    " 'split': {'v1': 9000, 'v2': 1000},"
    " 'sticky': {'cookie': 'uid'}}";


static faas_release_t *
test_parse(const char *text)
{
    cJSON           *root;
    faas_release_t  *rel;

    root = cJSON_Parse(json(text));
    if (root == NULL) {
        fprintf(stderr, "bad JSON in a test: %s\n", text);
        return NULL;
    }

    memset(&err, 0, sizeof(err));

    if (faas_release_from_json(root, versions, NVERSIONS, PATH, &rel, &err)
        != FAAS_OK)
    {
        fprintf(stderr, "unexpected error: %s\n", err.msg);
        rel = NULL;
    }

    cJSON_Delete(root);

    return rel;
}


static const char *
test_error(const char *text)
{
    cJSON           *root;
    faas_release_t  *rel;
    static char      buf[512];

    root = cJSON_Parse(json(text));
    if (root == NULL) {
        return "(bad JSON in the test)";
    }

    memset(&err, 0, sizeof(err));

    rel = (faas_release_t *) 1;

    if (faas_release_from_json(root, versions, NVERSIONS, PATH, &rel, &err)
        == FAAS_OK)
    {
        cJSON_Delete(root);
        faas_release_free(rel);
        return "(parsed)";
    }

    cJSON_Delete(root);

    if (rel != NULL) {
        return "(an error left a policy)";
    }

    faas_error_format(&err, buf, sizeof(buf));

    return buf;
}


/* NULL when the regex is taken, else the message after the path */

static const char *
test_regex_error(const char *re)
{
    const char  *msg;
    char         text[1024];

    snprintf(text, sizeof(text), "{'rules': [{'match': {'header': 'a',"
             " 'regex': '%s'}, 'version': 'v1'}]}", re);

    msg = test_error(text);

    if (strcmp(msg, "(parsed)") == 0) {
        return NULL;
    }

    return strncmp(msg, PATH ".rules[0].match.regex: ",
                   sizeof(PATH ".rules[0].match.regex: ") - 1) == 0
           ? msg + sizeof(PATH ".rules[0].match.regex: ") - 1 : msg;
}


static const char *
req_get(void *data, unsigned source, const char *name, size_t name_len,
    size_t *len)
{
    size_t  i;
    req_t  *r;

    r = data;
    r->calls++;

    if (source != FAAS_SOURCE_ADDR
        && (name == NULL || strlen(name) != name_len))
    {
        r->bad_name++;
        return NULL;
    }

    for (i = 0; i < r->n; i++) {
        if (r->fields[i].source != source) {
            continue;
        }

        if (source == FAAS_SOURCE_ADDR
            || (r->fields[i].name
                && strlen(r->fields[i].name) == name_len
                && memcmp(r->fields[i].name, name, name_len) == 0))
        {
            *len = r->fields[i].len;
            return r->fields[i].value;
        }
    }

    return NULL;
}


static void
req_set(req_t *r, unsigned source, const char *name, const char *value)
{
    size_t  i;

    for (i = 0; i < r->n; i++) {
        if (r->fields[i].source == source
            && (source == FAAS_SOURCE_ADDR
                || strcmp(r->fields[i].name, name) == 0))
        {
            break;
        }
    }

    if (i == REQ_FIELDS) {
        return;
    }

    r->fields[i].source = source;
    r->fields[i].name = name;
    r->fields[i].value = value;
    r->fields[i].len = value ? strlen(value) : 0;

    if (i == r->n) {
        r->n++;
    }
}


static const char *
pick(const faas_release_t *rel, req_t *r)
{
    return faas_release_pick(rel, "hello", req_get, r, &counter);
}


/* {'split': SPLIT, 'sticky': STICKY} */

static faas_release_t *
split_policy(const char *split, const char *sticky)
{
    char  buf[512];

    snprintf(buf, sizeof(buf), "{'split': %s%s%s}", split,
             sticky ? ", 'sticky': " : "", sticky ? sticky : "");

    return test_parse(buf);
}


static void
test_example(void)
{
    req_t            r;
    unsigned         i, n1, n2, other;
    const char      *v;
    faas_release_t  *rel;

    rel = test_parse(example);
    CHECK(rel != NULL);

    if (rel == NULL) {
        return;
    }

    CHECK_INT(faas_release_sources(rel),
              (1 << FAAS_SOURCE_HEADER) | (1 << FAAS_SOURCE_COOKIE)
              | (1 << FAAS_SOURCE_QUERY) | (1 << FAAS_SOURCE_ADDR));

    CHECK(faas_release_names(rel, "v7"));
    CHECK(faas_release_names(rel, "v1"));
    CHECK(!faas_release_names(rel, "v3"));

    /* the pre-release lane: only through its rule */

    memset(&r, 0, sizeof(r));
    req_set(&r, FAAS_SOURCE_HEADER, "x-faas-version", "v7");
    req_set(&r, FAAS_SOURCE_ADDR, NULL, "10.1.2.3");
    CHECK_STR(pick(rel, &r), "v7");
    CHECK_INT(r.bad_name, 0);

    req_set(&r, FAAS_SOURCE_HEADER, "x-faas-version", "V7");
    CHECK_STR(pick(rel, &r), "v2");          /* equals is case-sensitive */

    /* the third rule, then the fourth: the first that matches wins */

    memset(&r, 0, sizeof(r));
    req_set(&r, FAAS_SOURCE_ADDR, NULL, "10.255.0.1");
    req_set(&r, FAAS_SOURCE_QUERY, "canary", "1");
    CHECK_STR(pick(rel, &r), "v2");

    memset(&r, 0, sizeof(r));
    req_set(&r, FAAS_SOURCE_ADDR, NULL, "11.0.0.1");
    req_set(&r, FAAS_SOURCE_QUERY, "canary", "x");
    req_set(&r, FAAS_SOURCE_COOKIE, "uid", "alice");
    CHECK_STR(pick(rel, &r), "v2");

    /* present but empty is not there */

    req_set(&r, FAAS_SOURCE_QUERY, "canary", "");

    v = pick(rel, &r);
    CHECK(v != NULL && (strcmp(v, "v1") == 0 || strcmp(v, "v2") == 0));

    /* the beta cookie: a 50/50 split by uid; no rule: 90/10 */

    n1 = 0;
    n2 = 0;
    other = 0;

    for (i = 0; i < 2000; i++) {
        char  uid[32];

        snprintf(uid, sizeof(uid), "user%u", i);

        memset(&r, 0, sizeof(r));
        req_set(&r, FAAS_SOURCE_ADDR, NULL, "192.168.0.1");
        req_set(&r, FAAS_SOURCE_COOKIE, "uid", uid);
        req_set(&r, FAAS_SOURCE_COOKIE, "beta", (i & 1) ? "yes" : "no");

        v = pick(rel, &r);

        if (v == NULL) {
            other++;

        } else if (i & 1) {
            n2 += strcmp(v, "v2") == 0;
            other += strcmp(v, "v2") != 0 && strcmp(v, "v1") != 0;

        } else {
            n1 += strcmp(v, "v2") == 0;
            other += strcmp(v, "v2") != 0 && strcmp(v, "v1") != 0;
        }
    }

    CHECK_INT(other, 0);
    CHECK(n2 > 400 && n2 < 600);             /* of 1000, at 50% */
    CHECK(n1 > 50 && n1 < 150);              /* of 1000, at 10% */

    /* a request with nothing: the unkeyed top-level split */

    memset(&r, 0, sizeof(r));
    v = pick(rel, &r);
    CHECK(v != NULL && (strcmp(v, "v1") == 0 || strcmp(v, "v2") == 0));

    /* no getter: no rule matches, no key */

    v = faas_release_pick(rel, "hello", NULL, NULL, &counter);
    CHECK(v != NULL && (strcmp(v, "v1") == 0 || strcmp(v, "v2") == 0));

    faas_release_free(rel);
}


static void
test_matches(void)
{
    req_t            r;
    faas_release_t  *rel;
    cJSON           *null;

    /* no split, no match: the caller's default */

    rel = test_parse("{'rules': [{'match': {'header': 'X-Beta'},"
                     " 'version': 'v3'}]}");
    CHECK(rel != NULL);

    memset(&r, 0, sizeof(r));
    CHECK(pick(rel, &r) == NULL);

    /* header names are lower-cased at parse; present means non-empty */

    req_set(&r, FAAS_SOURCE_HEADER, "x-beta", "");
    CHECK(pick(rel, &r) == NULL);

    req_set(&r, FAAS_SOURCE_HEADER, "x-beta", "0");
    CHECK_STR(pick(rel, &r), "v3");
    CHECK_INT(r.bad_name, 0);

    CHECK_INT(faas_release_sources(rel), 1 << FAAS_SOURCE_HEADER);

    faas_release_free(rel);

    /* cookie and query names are not */

    rel = test_parse("{'rules': [{'match': {'cookie': 'Beta',"
                     " 'equals': 'on'}, 'version': 'v3'}]}");
    CHECK(rel != NULL);

    memset(&r, 0, sizeof(r));
    req_set(&r, FAAS_SOURCE_COOKIE, "beta", "on");
    CHECK(pick(rel, &r) == NULL);

    req_set(&r, FAAS_SOURCE_COOKIE, "Beta", "on");
    CHECK_STR(pick(rel, &r), "v3");

    req_set(&r, FAAS_SOURCE_COOKIE, "Beta", "onn");
    CHECK(pick(rel, &r) == NULL);

    faas_release_free(rel);

    /* equals "" matches a value that is there and empty */

    rel = test_parse("{'rules': [{'match': {'query': 'debug',"
                     " 'equals': ''}, 'version': 'v3'}]}");
    CHECK(rel != NULL);

    memset(&r, 0, sizeof(r));
    CHECK(pick(rel, &r) == NULL);

    req_set(&r, FAAS_SOURCE_QUERY, "debug", "");
    CHECK_STR(pick(rel, &r), "v3");

    faas_release_free(rel);

    /* null or no policy */

    null = cJSON_CreateNull();
    rel = (faas_release_t *) 1;

    CHECK_INT(faas_release_from_json(null, versions, NVERSIONS, PATH, &rel,
                                     &err), FAAS_OK);
    CHECK(rel == NULL);
    CHECK_INT(faas_release_from_json(NULL, versions, NVERSIONS, PATH, &rel,
                                     &err), FAAS_OK);
    CHECK(rel == NULL);

    cJSON_Delete(null);

    CHECK(faas_release_pick(NULL, "hello", req_get, &r, &counter) == NULL);
    CHECK_INT(faas_release_sources(NULL), 0);
    CHECK(faas_release_to_json(NULL) == NULL);
    faas_release_free(NULL);

    /* an empty policy: valid, always the default */

    rel = test_parse("{'rules': [], 'split': null, 'sticky': null,"
                     " 'note': 'unknown members are ignored'}");
    CHECK(rel != NULL);
    CHECK(pick(rel, &r) == NULL);
    CHECK_INT(faas_release_sources(rel), 0);
    faas_release_free(rel);
}


static void
test_regex(void)
{
    req_t            r;
    char             big[FAAS_RELEASE_VALUE_MAX + 2];
    faas_release_t  *rel;

    rel = test_parse("{'rules': [{'match': {'cookie': 'beta',"
                     " 'regex': '^(1|yes)$'}, 'version': 'v3'},"
                     " {'match': {'header': 'x-long', 'regex': '^a+$'},"
                     " 'version': 'v7'}]}");
    CHECK(rel != NULL);

    memset(&r, 0, sizeof(r));
    req_set(&r, FAAS_SOURCE_COOKIE, "beta", "yes");
    CHECK_STR(pick(rel, &r), "v3");

    req_set(&r, FAAS_SOURCE_COOKIE, "beta", "1");
    CHECK_STR(pick(rel, &r), "v3");

    req_set(&r, FAAS_SOURCE_COOKIE, "beta", "yess");
    CHECK(pick(rel, &r) == NULL);

    req_set(&r, FAAS_SOURCE_COOKIE, "beta", "");
    CHECK(pick(rel, &r) == NULL);

    /* a NUL inside the value: no match (regexec() would stop at it) */

    r.fields[0].value = "1\0x";
    r.fields[0].len = 3;
    CHECK(pick(rel, &r) == NULL);

    /* values are length-delimited: "1" out of "1x" */

    r.fields[0].value = "1x";
    r.fields[0].len = 1;
    CHECK_STR(pick(rel, &r), "v3");

    /* up to FAAS_RELEASE_VALUE_MAX bytes, then no match */

    memset(&r, 0, sizeof(r));
    memset(big, 'a', sizeof(big));
    big[FAAS_RELEASE_VALUE_MAX] = '\0';

    req_set(&r, FAAS_SOURCE_HEADER, "x-long", big);
    CHECK_STR(pick(rel, &r), "v7");

    big[FAAS_RELEASE_VALUE_MAX] = 'a';
    big[FAAS_RELEASE_VALUE_MAX + 1] = '\0';

    req_set(&r, FAAS_SOURCE_HEADER, "x-long", big);
    CHECK(pick(rel, &r) == NULL);

    faas_release_free(rel);

    /* character classes, bounds and alternatives within the limits */

    rel = test_parse("{'rules': [{'match': {'header': 'a',"
                     " 'regex': '^[[:alpha:]]{1,120}$'}, 'version': 'v3'},"
                     " {'match': {'header': 'b',"
                     " 'regex': '^([]a-c]|x){2}(\\\\.[0-9]+)?$'},"
                     " 'version': 'v7'}]}");
    CHECK(rel != NULL);

    memset(&r, 0, sizeof(r));
    req_set(&r, FAAS_SOURCE_HEADER, "a", "Hello");
    CHECK_STR(pick(rel, &r), "v3");

    memset(&r, 0, sizeof(r));
    req_set(&r, FAAS_SOURCE_HEADER, "b", "]x.25");
    CHECK_STR(pick(rel, &r), "v7");

    req_set(&r, FAAS_SOURCE_HEADER, "b", "]x.");
    CHECK(pick(rel, &r) == NULL);

    faas_release_free(rel);
}


static void
test_cidr(void)
{
    size_t           i;
    req_t            r;
    char             text[256];
    faas_release_t  *rel;

    static const struct {
        const char  *cidr;
        const char  *addr;
        int          match;
    } cases[] = {
        { "10.0.0.0/8",       "10.1.2.3",           1 },
        { "10.0.0.0/8",       "11.1.2.3",           0 },
        { "10.0.0.0/8",       "::ffff:10.1.2.3",    1 },
        { "10.0.0.0/8",       "::10.1.2.3",         0 },
        { "10.0.0.0/8",       "unix:",              0 },
        { "10.0.0.0/8",       "",                   0 },
        { "10.0.0.0/8",       "10.1.2",             0 },
        { "10.0.0.0/8",       "fe80::1%eth0",       0 },
        { "192.168.1.128/25", "192.168.1.200",      1 },
        { "192.168.1.128/25", "192.168.1.127",      0 },
        { "127.0.0.1",        "127.0.0.1",          1 },
        { "127.0.0.1",        "127.0.0.2",          0 },
        { "0.0.0.0/0",        "203.0.113.9",        1 },
        { "0.0.0.0/0",        "::1",                0 },
        { "::1/128",          "::1",                1 },
        { "::1",              "[::1]",              1 },
        { "::1",              "::2",                0 },
        { "::1",              "127.0.0.1",          0 },
        { "fd00::/8",         "fd12:3456::1",       1 },
        { "fd00::/8",         "fe12:3456::1",       0 },
        { "2001:db8::/33",    "2001:db8:7fff::1",   1 },
        { "2001:db8::/33",    "2001:db8:8000::1",   0 },
        { "::/0",             "2001:db8::1",        1 },
        { "10.1.2.3/8",       "10.200.0.1",         1 },
    };

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(text, sizeof(text), "{'rules': [{'match': {'addr': '%s'},"
                 " 'version': 'v3'}]}", cases[i].cidr);

        rel = test_parse(text);
        CHECK(rel != NULL);

        memset(&r, 0, sizeof(r));
        req_set(&r, FAAS_SOURCE_ADDR, NULL, cases[i].addr);

        if ((pick(rel, &r) != NULL) != cases[i].match) {
            fprintf(stderr, "%s against %s: want %d\n", cases[i].cidr,
                    cases[i].addr, cases[i].match);
            CHECK(0);
        }

        CHECK_INT(faas_release_sources(rel), 1 << FAAS_SOURCE_ADDR);

        faas_release_free(rel);
    }
}


static void
test_errors(void)
{
    CHECK_STR(test_error("[]"),
              PATH ": expected an object with \"rules\", \"split\" and "
              "\"sticky\", got an array");
    CHECK_STR(test_error("{'rules': {}}"),
              PATH ".rules: expected an array of rules, got an object");
    CHECK_STR(test_error("{'rules': [5]}"),
              PATH ".rules[0]: expected an object with \"match\" and "
              "\"version\" or \"split\", got 5");
    CHECK_STR(test_error("{'rules': [{'version': 'v1'}]}"),
              PATH ".rules[0]: \"match\" is missing");

    /* the messages of the brief */

    CHECK_STR(test_error("{'rules': [{'match': {'header': 'a'},"
                         " 'version': 'v1'}, {'match': {}, 'version':"
                         " 'v1'}]}"),
              PATH ".rules[1].match: expected exactly one of header, "
              "cookie, query, addr");
    CHECK_STR(test_error("{'rules': [{'match': {'header': 'a', 'cookie':"
                         " 'b'}, 'version': 'v1'}]}"),
              PATH ".rules[0].match: expected exactly one of header, "
              "cookie, query, addr");
    CHECK_STR(test_error("{'split': {'v1': 5000, 'v9x': 5000}}"),
              PATH ".split.v9x: unknown version \"v9x\"");
    CHECK_STR(test_error("{'rules': [{'match': {'header': 'a'},"
                         " 'split': {'v8': 10000}}]}"),
              PATH ".rules[0].split.v8: unknown version \"v8\"");
    CHECK_STR(test_error("{'rules': [{'match': {'header': 'a',"
                         " 'regex': '('}, 'version': 'v1'}]}"),
              PATH ".rules[0].match.regex: bad regex \"(\": Unmatched ( "
              "or \\(");
    CHECK_STR(test_error("{'rules': [{'match': {'header': 'a'},"
                         " 'version': 'v1'}, {'match': {'header': 'b'},"
                         " 'version': 'v1'}, {'match': {'addr':"
                         " '10.0.0.0/33'}, 'version': 'v1'}]}"),
              PATH ".rules[2].match.addr: bad CIDR \"10.0.0.0/33\"");
    CHECK_STR(test_error("{'split': {'v1': 9000}}"),
              PATH ".split: weights sum to 9000, not 10000 (100%)");
    CHECK_STR(test_error("{'split': {'v1': 0, 'v2': 0}}"),
              PATH ".split: weights sum to 0, not 10000 (100%)");

    /* versions and weights */

    CHECK_STR(test_error("{'rules': [{'match': {'header': 'a'},"
                         " 'version': 'v4'}]}"),
              PATH ".rules[0].version: unknown version \"v4\"");
    CHECK_STR(test_error("{'rules': [{'match': {'header': 'a'},"
                         " 'version': 4}]}"),
              PATH ".rules[0].version: expected the name of one of the "
              "versions, got 4");
    CHECK_STR(test_error("{'rules': [{'match': {'header': 'a'}}]}"),
              PATH ".rules[0]: expected exactly one of version, split");
    CHECK_STR(test_error("{'rules': [{'match': {'header': 'a'},"
                         " 'version': 'v1', 'split': {'v1': 10000}}]}"),
              PATH ".rules[0]: expected exactly one of version, split");
    CHECK_STR(test_error("{'split': {'v1': 10000, 'v1': 0}}"),
              PATH ".split.v1: is there twice");
    CHECK_STR(test_error("{'split': {'v1': 9999.5, 'v2': 0.5}}"),
              PATH ".split.v1: expected an integer from 0 to 10000 (basis "
              "points), got 9999.5");
    CHECK_STR(test_error("{'split': {'v1': -1}}"),
              PATH ".split.v1: expected an integer from 0 to 10000 (basis "
              "points), got -1");
    CHECK_STR(test_error("{'split': {'v1': 10001}}"),
              PATH ".split.v1: expected an integer from 0 to 10000 (basis "
              "points), got 10001");
    CHECK_STR(test_error("{'split': {'v1': '10000'}}"),
              PATH ".split.v1: expected an integer from 0 to 10000 (basis "
              "points), got \"10000\"");
    CHECK_STR(test_error("{'split': {}}"),
              PATH ".split: expected 1 to 16 versions, got 0");
    CHECK_STR(test_error("{'split': [10000]}"),
              PATH ".split: expected an object of version: weight in basis "
              "points (10000 is 100%), got an array");
    CHECK_STR(test_error("{'split': {'v\\u0001': 10000}}"),
              PATH ".split.v?: unknown version \"v\\x01\"");

    /* matches */

    CHECK_STR(test_error("{'rules': [{'match': {'header': 'a', 'equal':"
                         " 'x'}, 'version': 'v1'}]}"),
              PATH ".rules[0].match: unknown member \"equal\"");
    CHECK_STR(test_error("{'rules': [{'match': {'header': 'a', 'equals':"
                         " 'x', 'regex': 'x'}, 'version': 'v1'}]}"),
              PATH ".rules[0].match: expected at most one of equals, regex");
    CHECK_STR(test_error("{'rules': [{'match': {'header': 'a', 'header':"
                         " 'b'}, 'version': 'v1'}]}"),
              PATH ".rules[0].match: \"header\" is there twice");
    CHECK_STR(test_error("{'rules': [{'match': {'addr': '10.0.0.0/8',"
                         " 'equals': '10.0.0.1'}, 'version': 'v1'}]}"),
              PATH ".rules[0].match: \"addr\" takes a CIDR and no "
              "\"equals\" or \"regex\"");
    CHECK_STR(test_error("{'rules': [{'match': {'addr': true},"
                         " 'version': 'v1'}]}"),
              PATH ".rules[0].match.addr: expected a CIDR (\"10.0.0.0/8\", "
              "\"fd00::/8\"), got true");
    CHECK_STR(test_error("{'rules': [{'match': {'header': 5},"
                         " 'version': 'v1'}]}"),
              PATH ".rules[0].match.header: expected a header name, got 5");
    CHECK_STR(test_error("{'rules': [{'match': {'header': ''},"
                         " 'version': 'v1'}]}"),
              PATH ".rules[0].match.header: expected a header name of 1 to "
              "256 bytes, got \"\"");
    CHECK_STR(test_error("{'rules': [{'match': {'header': 'x y'},"
                         " 'version': 'v1'}]}"),
              PATH ".rules[0].match.header: invalid header name \"x y\"");
    CHECK_STR(test_error("{'rules': [{'match': {'cookie': 'a;b'},"
                         " 'version': 'v1'}]}"),
              PATH ".rules[0].match.cookie: invalid cookie name \"a;b\"");
    CHECK_STR(test_error("{'rules': [{'match': {'query': 'a=b'},"
                         " 'version': 'v1'}]}"),
              PATH ".rules[0].match.query: invalid query argument's name "
              "\"a=b\"");
    CHECK_STR(test_error("{'rules': [{'match': {'query': 'a', 'equals':"
                         " 1}, 'version': 'v1'}]}"),
              PATH ".rules[0].match.equals: expected a string, got 1");
    CHECK_STR(test_error("{'rules': [{'match': 'x-beta', 'version':"
                         " 'v1'}]}"),
              PATH ".rules[0].match: expected an object, got \"x-beta\"");

    /* regexes */

    CHECK_STR(test_error("{'rules': [{'match': {'header': 'a',"
                         " 'regex': '(a)\\\\1'}, 'version': 'v1'}]}"),
              PATH ".rules[0].match.regex: bad regex \"(a)\\\\1\": "
              "back-references are not supported");
    CHECK_STR(test_error("{'rules': [{'match': {'header': 'a',"
                         " 'regex': '((a{255}){255}){255}'},"
                         " 'version': 'v1'}]}"),
              PATH ".rules[0].match.regex: bad regex \"((a{255}){255}){255}"
              "\": too complex, more than 128 items once repetitions are "
              "counted out");
    CHECK_STR(test_error("{'rules': [{'match': {'header': 'a',"
                         " 'regex': '([a-z]{1,30}){1,30}x'},"
                         " 'version': 'v1'}]}"),
              PATH ".rules[0].match.regex: bad regex \"([a-z]{1,30}){1,30}x"
              "\": too complex, more than 128 items once repetitions are "
              "counted out");
    CHECK_STR(test_error("{'rules': [{'match': {'header': 'a',"
                         " 'regex': '(a|b+)+++++++++x'},"
                         " 'version': 'v1'}]}"),
              PATH ".rules[0].match.regex: bad regex \"(a|b+)+++++++++x"
              "\": too complex, more than 128 items once repetitions are "
              "counted out");
    CHECK_STR(test_regex_error("(a*)*"), "bad regex \"(a*)*\": a "
              "repetition of something that can match nothing (as "
              "\"(a*)*\" or \"a**\"): write it without");
    CHECK(test_regex_error("a**") != NULL);
    CHECK(test_regex_error("a+?") == NULL);
    CHECK(test_regex_error("a?+") != NULL);
    CHECK(test_regex_error("(a|)+") != NULL);
    CHECK(test_regex_error("(|a){2}") != NULL);
    CHECK(test_regex_error("(a{0,3}){2}") != NULL);
    CHECK(test_regex_error("(a?b*)+x") != NULL);
    CHECK(test_regex_error("(^)*") != NULL);
    CHECK(test_regex_error("(\\\\b)*") != NULL);
    CHECK(test_regex_error("((a*))*") != NULL);
    CHECK(test_regex_error("(x|(a*))*") != NULL);
    CHECK(test_regex_error("((a*)b)*") == NULL);
    CHECK(test_regex_error("(ab*)+") == NULL);
    CHECK(test_regex_error("([a-z]+\\\\.)*[a-z]+") == NULL);
    CHECK(test_regex_error("^[0-9]{1,3}(\\\\.[0-9]{1,3}){3}$") == NULL);
    CHECK(test_regex_error("a{0,3}b") == NULL);
    CHECK(test_regex_error("(a|b)*c") == NULL);
    CHECK(test_regex_error("[*+?]+") == NULL);
    CHECK(test_regex_error("\\\\*+") == NULL);

    CHECK_STR(test_error("{'rules': [{'match': {'header': 'a',"
                         " 'regex': 'a{300}'}, 'version': 'v1'}]}"),
              PATH ".rules[0].match.regex: bad regex \"a{300}\": too "
              "complex, more than 128 items once repetitions are counted "
              "out");
    CHECK_STR(test_error("{'rules': [{'match': {'header': 'a',"
                         " 'regex': ''}, 'version': 'v1'}]}"),
              PATH ".rules[0].match.regex: bad regex \"\": expected 1 to "
              "256 bytes");
    CHECK_STR(test_error("{'rules': [{'match': {'header': 'a',"
                         " 'regex': 'a{2,1}'}, 'version': 'v1'}]}"),
              PATH ".rules[0].match.regex: bad regex \"a{2,1}\": Invalid "
              "content of \\{\\}");

    /* a compiled regex, then an error: nothing leaks (ASan) */

    CHECK_STR(test_error("{'rules': [{'match': {'header': 'a',"
                         " 'regex': '^x$'}, 'version': 'v1'},"
                         " {'match': {'header': 'b', 'regex': '^y$'},"
                         " 'version': 'v0'}]}"),
              PATH ".rules[1].version: unknown version \"v0\"");

    /* CIDRs */

    CHECK_STR(test_error("{'rules': [{'match': {'addr': '10.0.0.0/'},"
                         " 'version': 'v1'}]}"),
              PATH ".rules[0].match.addr: bad CIDR \"10.0.0.0/\"");
    CHECK_STR(test_error("{'rules': [{'match': {'addr': '10.0.0/8'},"
                         " 'version': 'v1'}]}"),
              PATH ".rules[0].match.addr: bad CIDR \"10.0.0/8\"");
    CHECK_STR(test_error("{'rules': [{'match': {'addr': '::1/129'},"
                         " 'version': 'v1'}]}"),
              PATH ".rules[0].match.addr: bad CIDR \"::1/129\"");
    CHECK_STR(test_error("{'rules': [{'match': {'addr': '::1/0128'},"
                         " 'version': 'v1'}]}"),
              PATH ".rules[0].match.addr: bad CIDR \"::1/0128\"");
    CHECK_STR(test_error("{'rules': [{'match': {'addr': '10.0.0.0/8 '},"
                         " 'version': 'v1'}]}"),
              PATH ".rules[0].match.addr: bad CIDR \"10.0.0.0/8 \"");
    CHECK_STR(test_error("{'rules': [{'match': {'addr': '[::1]/128'},"
                         " 'version': 'v1'}]}"),
              PATH ".rules[0].match.addr: bad CIDR \"[::1]/128\"");
    CHECK_STR(test_error("{'rules': [{'match': {'addr': ''},"
                         " 'version': 'v1'}]}"),
              PATH ".rules[0].match.addr: bad CIDR \"\"");

    /* sticky */

    CHECK_STR(test_error("{'sticky': 'uid'}"),
              PATH ".sticky: expected an object such as {\"cookie\": "
              "\"uid\"}, got \"uid\"");
    CHECK_STR(test_error("{'sticky': {}}"),
              PATH ".sticky: expected exactly one of header, cookie, query, "
              "addr");
    CHECK_STR(test_error("{'sticky': {'addr': false}}"),
              PATH ".sticky.addr: expected true (the client address is the "
              "key), got false");
    CHECK_STR(test_error("{'sticky': {'cookie': 'uid', 'hash': 'md5'}}"),
              PATH ".sticky: unknown member \"hash\"");
    CHECK_STR(test_error("{'sticky': {'cookie': 7}}"),
              PATH ".sticky.cookie: expected a cookie name, got 7");
}


static void
test_limits(void)
{
    size_t           i, n;
    char             buf[8192];
    const char      *many[FAAS_RELEASE_SPLIT_MAX + 1];
    char             names[FAAS_RELEASE_SPLIT_MAX + 1][8];
    cJSON           *root;
    faas_release_t  *rel;

    /* FAAS_RELEASE_RULES_MAX rules, then one more */

    n = snprintf(buf, sizeof(buf), "{'rules': [");

    for (i = 0; i < FAAS_RELEASE_RULES_MAX; i++) {
        n += snprintf(buf + n, sizeof(buf) - n, "%s{'match': {'header':"
                      " 'h%zu', 'regex': '^%zu$'}, 'version': 'v1'}",
                      i ? "," : "", i, i);
    }

    snprintf(buf + n, sizeof(buf) - n, "]}");

    rel = test_parse(buf);
    CHECK(rel != NULL);
    faas_release_free(rel);

    snprintf(buf + n, sizeof(buf) - n, ",{'match': {'header': 'x'},"
             " 'version': 'v1'}]}");

    CHECK_STR(test_error(buf), PATH ".rules: more than 32 rules");

    /* FAAS_RELEASE_SPLIT_MAX versions in a split, then one more */

    for (i = 0; i <= FAAS_RELEASE_SPLIT_MAX; i++) {
        snprintf(names[i], sizeof(names[i]), "v%zu", i + 1);
        many[i] = names[i];
    }

    for (n = FAAS_RELEASE_SPLIT_MAX; n <= FAAS_RELEASE_SPLIT_MAX + 1; n++) {
        size_t  len;

        len = snprintf(buf, sizeof(buf), "{\"split\": {");

        for (i = 0; i < n; i++) {
            len += snprintf(buf + len, sizeof(buf) - len, "%s\"%s\": %d",
                            i ? "," : "", many[i],
                            i ? 0 : FAAS_RELEASE_WHOLE);
        }

        snprintf(buf + len, sizeof(buf) - len, "}}");

        root = cJSON_Parse(buf);
        rel = NULL;

        CHECK_INT(faas_release_from_json(root, many, n, NULL, &rel, &err),
                  n <= FAAS_RELEASE_SPLIT_MAX ? FAAS_OK : FAAS_ERROR);

        if (n > FAAS_RELEASE_SPLIT_MAX) {
            CHECK_STR(err.msg, "release.split: expected 1 to 16 versions, "
                      "got 17");
        }

        faas_release_free(rel);
        cJSON_Delete(root);
    }

    /* a long path is cut, never overflowed */

    memset(buf, 'p', 1000);
    buf[1000] = '\0';

    root = cJSON_Parse("{\"split\": {\"v1\": 1}}");
    CHECK_INT(faas_release_from_json(root, versions, NVERSIONS, buf, &rel,
                                     &err), FAAS_ERROR);
    CHECK(strstr(err.msg, "weights sum to 1") != NULL);
    cJSON_Delete(root);
}


static void
test_round_trip(void)
{
    char            *one, *two;
    cJSON           *root;
    faas_release_t  *rel, *again;

    static const char  *texts[] = {
        example,
        "{'rules': [{'match': {'header': 'X-Faas-Version', 'equals': 'v7'},"
        " 'version': 'v7'}, {'match': {'addr': '10.1.2.3/8'}, 'split':"
        " {'v1': 1, 'v3': 3333, 'v10': 6666}}, {'match': {'addr':"
        " '2001:DB8::1'}, 'version': 'v1'}, {'match': {'query': 'q',"
        " 'regex': '^a\\\\.b\\\"c$'}, 'version': 'v9'}],"
        " 'sticky': {'addr': true}}",
        "{'split': {'v1': 10000}, 'sticky': {'header': 'X-User'}}",
        "{'sticky': {'query': 'uid'}}",
        "{}",
    };

    static const char  *want[] = {
        "{\"rules\":[{\"match\":{\"header\":\"x-faas-version\",\"equals\":"
        "\"v7\"},\"version\":\"v7\"},{\"match\":{\"cookie\":\"beta\","
        "\"regex\":\"^(1|yes)$\"},\"split\":{\"v2\":5000,\"v1\":5000}},"
        "{\"match\":{\"addr\":\"10.0.0.0/8\"},\"version\":\"v2\"},"
        "{\"match\":{\"query\":\"canary\"},\"version\":\"v2\"}],"
        "\"split\":{\"v2\":1000,\"v1\":9000},\"sticky\":{\"cookie\":"
        "\"uid\"}}",
        "{\"rules\":[{\"match\":{\"header\":\"x-faas-version\",\"equals\":"
        "\"v7\"},\"version\":\"v7\"},{\"match\":{\"addr\":\"10.0.0.0/8\"},"
        "\"split\":{\"v10\":6666,\"v3\":3333,\"v1\":1}},{\"match\":"
        "{\"addr\":\"2001:db8::1/128\"},\"version\":\"v1\"},{\"match\":"
        "{\"query\":\"q\",\"regex\":\"^a\\\\.b\\\"c$\"},\"version\":\"v9\"}],"
        "\"sticky\":{\"addr\":true}}",
        "{\"split\":{\"v1\":10000},\"sticky\":{\"header\":\"x-user\"}}",
        "{\"sticky\":{\"query\":\"uid\"}}",
        "{}",
    };

    size_t  i;

    for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        rel = test_parse(texts[i]);
        CHECK(rel != NULL);

        one = faas_release_to_json(rel);
        CHECK_STR(one, want[i]);

        root = one ? cJSON_Parse(one) : NULL;
        again = NULL;

        CHECK_INT(faas_release_from_json(root, versions, NVERSIONS, PATH,
                                         &again, &err), FAAS_OK);

        two = faas_release_to_json(again);
        CHECK_STR(two, one);

        CHECK_INT(faas_release_sources(again), faas_release_sources(rel));

        cJSON_Delete(root);
        free(one);
        free(two);
        faas_release_free(rel);
        faas_release_free(again);
    }
}


static void
test_order(void)
{
    CHECK(faas_release_version_cmp("v10", "v9") < 0);
    CHECK(faas_release_version_cmp("v9", "v2") < 0);
    CHECK(faas_release_version_cmp("v2", "v1") < 0);
    CHECK(faas_release_version_cmp("v1", "v10") > 0);
    CHECK(faas_release_version_cmp("v3", "v3") == 0);

    CHECK_INT(faas_release_bucket(0), 0);
    CHECK_INT(faas_release_bucket(UINT64_MAX), FAAS_RELEASE_WHOLE - 1);
    CHECK_INT(faas_release_bucket(1ULL << 63), FAAS_RELEASE_WHOLE / 2);

    /* the '\0' between function and key */

    CHECK(faas_release_hash("ab", "c", 1) != faas_release_hash("a", "bc", 2));

    /*
     * users keep their sticky version across upgrades only while the hash
     * keeps its values: these are the first release's
     */

    CHECK(faas_release_hash("hello", "user-42", 7) == 0x111464a0abb0e121ULL);
    CHECK(faas_release_hash(NULL, "", 0) == 0x25fc6dd36ce04b20ULL);
    CHECK(faas_release_hash("fn", "192.0.2.7", 9) == 0xb2ff121b155fd90fULL);
}


static void
test_sticky(void)
{
    req_t            r;
    char             key[32];
    unsigned         i, b, same, moved;
    const char      *v, *w;
    faas_release_t  *rel, *rel2;

    rel = split_policy("{'v1': 7000, 'v2': 2000, 'v3': 1000}",
                       "{'cookie': 'uid'}");
    rel2 = split_policy("{'v1': 7000, 'v2': 2000, 'v3': 1000}",
                        "{'header': 'X-User'}");
    CHECK(rel != NULL && rel2 != NULL);

    CHECK_INT(faas_release_sources(rel), 1 << FAAS_SOURCE_COOKIE);

    same = 0;
    moved = 0;

    for (i = 0; i < 10000; i++) {
        snprintf(key, sizeof(key), "%u", i);

        memset(&r, 0, sizeof(r));
        req_set(&r, FAAS_SOURCE_COOKIE, "uid", key);

        /* the ranges: v3 [0, 1000), v2 [1000, 3000), v1 [3000, 10000) */

        b = faas_release_bucket(faas_release_hash("hello", key,
                                                  strlen(key)));

        v = pick(rel, &r);
        CHECK_STR(v, b < 1000 ? "v3" : b < 3000 ? "v2" : "v1");

        /* 100% sticky, and the counter is left alone */

        CHECK(pick(rel, &r) == v);

        /* the same key from a header: the same version */

        memset(&r, 0, sizeof(r));
        req_set(&r, FAAS_SOURCE_HEADER, "x-user", key);
        w = pick(rel2, &r);
        same += w != NULL && strcmp(w, v) == 0;

        /* another function splits independently */

        w = faas_release_pick(rel, "other", req_get, &r, &counter);
        moved += w != NULL && strcmp(w, v) != 0;
    }

    CHECK_INT(same, 10000);

    /* independent: 1 - (0.7^2 + 0.2^2 + 0.1^2) = 46% move */

    CHECK(moved > 4000 && moved < 5200);

    /* no key, or an empty one: the unkeyed sequence */

    counter = 0;
    memset(&r, 0, sizeof(r));
    pick(rel, &r);
    CHECK_INT(counter, 1);

    req_set(&r, FAAS_SOURCE_COOKIE, "uid", "");
    pick(rel, &r);
    CHECK_INT(counter, 2);

    req_set(&r, FAAS_SOURCE_COOKIE, "uid", "u");
    pick(rel, &r);
    CHECK_INT(counter, 2);

    faas_release_free(rel);
    faas_release_free(rel2);

    /* the client address as the key */

    rel = split_policy("{'v1': 5000, 'v2': 5000}", "{'addr': true}");
    CHECK(rel != NULL);

    memset(&r, 0, sizeof(r));
    req_set(&r, FAAS_SOURCE_ADDR, NULL, "192.0.2.7");

    b = faas_release_bucket(faas_release_hash("hello", "192.0.2.7", 9));
    CHECK_STR(pick(rel, &r), b < 5000 ? "v2" : "v1");
    CHECK_INT(counter, 2);

    faas_release_free(rel);
}


/*
 * The monotone ramp: v2 at 10%, 20%, 50% over 100k keys.  Every key on
 * v2 at one step is on v2 at the next, and each step is within a point.
 */

static void
test_ramp(void)
{
    req_t            r;
    char             key[32];
    unsigned         i, s, n[3], kept, lost;
    unsigned char   *on;
    faas_release_t  *rel[3];

    static const char  *splits[3] = {
        "{'v1': 9000, 'v2': 1000}",
        "{'v1': 8000, 'v2': 2000}",
        "{'v2': 5000, 'v1': 5000}",
    };

    static const unsigned  want[3] = { 10000, 20000, 50000 };

    on = calloc(100000, 1);
    CHECK(on != NULL);

    if (on == NULL) {
        return;
    }

    for (s = 0; s < 3; s++) {
        rel[s] = split_policy(splits[s], "{'cookie': 'uid'}");
        CHECK(rel[s] != NULL);
        n[s] = 0;
    }

    kept = 0;
    lost = 0;

    for (i = 0; i < 100000; i++) {
        snprintf(key, sizeof(key), "user-%u", i);

        memset(&r, 0, sizeof(r));
        req_set(&r, FAAS_SOURCE_COOKIE, "uid", key);

        for (s = 0; s < 3; s++) {
            if (strcmp(pick(rel[s], &r), "v2") == 0) {
                n[s]++;

                if (s > 0) {
                    kept += on[i];
                }

                on[i] = 1;

            } else if (on[i]) {
                lost++;
            }
        }
    }

    CHECK_INT(lost, 0);
    CHECK_INT(kept, n[0] + n[1]);

    printf("# ramp over 100000 keys: v2 at 10%% %u, 20%% %u, 50%% %u; "
           "%u kept their version, %u lost it\n", n[0], n[1], n[2], kept,
           lost);

    for (s = 0; s < 3; s++) {
        CHECK(n[s] + 1000 >= want[s] && n[s] <= want[s] + 1000);
        faas_release_free(rel[s]);
    }

    free(on);
}


static void
test_sticky_three_way(void)
{
    req_t            r;
    char             key[32];
    unsigned         i, j, n[3];
    const char      *v;
    faas_release_t  *rel;

    static const char  *names[3] = { "v1", "v2", "v3" };
    static const unsigned  want[3] = { 50000, 30000, 20000 };

    rel = split_policy("{'v1': 5000, 'v2': 3000, 'v3': 2000}",
                       "{'header': 'x-user'}");
    CHECK(rel != NULL);

    n[0] = n[1] = n[2] = 0;

    for (i = 0; i < 100000; i++) {
        snprintf(key, sizeof(key), "%u", i * 7919 + 13);

        memset(&r, 0, sizeof(r));
        req_set(&r, FAAS_SOURCE_HEADER, "x-user", key);

        v = pick(rel, &r);

        for (j = 0; j < 3; j++) {
            n[j] += v != NULL && strcmp(v, names[j]) == 0;
        }
    }

    printf("# sticky 50/30/20 over 100000 keys: %u %u %u\n", n[0], n[1],
           n[2]);

    for (j = 0; j < 3; j++) {
        CHECK(n[j] + 1000 >= want[j] && n[j] <= want[j] + 1000);
    }

    faas_release_free(rel);
}


/*
 * The unkeyed split over 20,000 consecutive requests, from a few
 * starting points of the counter: within a point; the largest deviation
 * seen, in requests, is printed.
 */

static void
test_unkeyed(void)
{
    req_t            r;
    long             d, worst[3];
    size_t           s, k, j, c;
    unsigned         i, n[3];
    const char      *v;
    faas_release_t  *rel;

    static const struct {
        const char  *split;
        const char  *names[3];
        unsigned     weights[3];
    } splits[] = {
        { "{'v1': 5000, 'v2': 5000}", { "v1", "v2", NULL }, { 5000, 5000 } },
        { "{'v1': 9000, 'v2': 1000}", { "v1", "v2", NULL }, { 9000, 1000 } },
        { "{'v1': 5000, 'v2': 3000, 'v3': 2000}", { "v1", "v2", "v3" },
          { 5000, 3000, 2000 } },
    };

    static const uint64_t  starts[] = {
        0, 1, 123456789, 0xfffffffffffff000ULL
    };

    static const unsigned  windows[] = { 100, 1000, 20000 };

    memset(&r, 0, sizeof(r));

    for (s = 0; s < 3; s++) {
        rel = split_policy(splits[s].split, "{'cookie': 'uid'}");
        CHECK(rel != NULL);

        worst[0] = worst[1] = worst[2] = 0;

        for (c = 0; c < sizeof(starts) / sizeof(starts[0]); c++) {
            for (k = 0; k < 3; k++) {
                counter = starts[c];
                n[0] = n[1] = n[2] = 0;

                for (i = 0; i < windows[k]; i++) {
                    v = pick(rel, &r);

                    for (j = 0; j < 3; j++) {
                        n[j] += splits[s].names[j]
                                && strcmp(v, splits[s].names[j]) == 0;
                    }
                }

                CHECK(counter == starts[c] + windows[k]);

                for (j = 0; j < 3; j++) {
                    d = (long) n[j] - (long) (windows[k]
                                              * splits[s].weights[j]
                                              / FAAS_RELEASE_WHOLE);
                    d = d < 0 ? -d : d;

                    if (d > worst[k]) {
                        worst[k] = d;
                    }

                    if (k == 2) {

                        /* within a point: 200 of 20,000 */

                        CHECK(d <= 200);
                    }
                }
            }
        }

        printf("# unkeyed %s: worst deviation %ld of 100, %ld of 1000, "
               "%ld of 20000 requests (%.3f points)\n", splits[s].split,
               worst[0], worst[1], worst[2], worst[2] * 100.0 / 20000);

        CHECK(worst[2] <= 10);

        faas_release_free(rel);
    }

    test_unkeyed_windows();
}


/*
 * Every window of 20,000 (and of 100) consecutive requests in a run of
 * 100,000, not only those that start at a round counter: the sequence
 * has no phase to drift from.
 */

static void
test_unkeyed_windows(void)
{
    req_t            r;
    long             d, worst[2];
    size_t           i, j, k, s, w;
    unsigned        *prefix[3];
    const char      *v;
    faas_release_t  *rel;

    static const size_t  sizes[2] = { 100, 20000 };

    static const struct {
        const char  *split;
        const char  *names[3];
        unsigned     weights[3];
    } splits[] = {
        { "{'v1': 5000, 'v2': 5000}", { "v1", "v2", NULL }, { 5000, 5000 } },
        { "{'v1': 9000, 'v2': 1000}", { "v1", "v2", NULL }, { 9000, 1000 } },
        { "{'v1': 5000, 'v2': 3000, 'v3': 2000}", { "v1", "v2", "v3" },
          { 5000, 3000, 2000 } },
    };

    for (j = 0; j < 3; j++) {
        prefix[j] = calloc(100001, sizeof(unsigned));
        CHECK(prefix[j] != NULL);

        if (prefix[j] == NULL) {
            return;
        }
    }

    memset(&r, 0, sizeof(r));

    for (s = 0; s < 3; s++) {
        rel = split_policy(splits[s].split, NULL);
        CHECK(rel != NULL);

        counter = 987654321;

        for (i = 0; i < 100000; i++) {
            v = pick(rel, &r);

            for (j = 0; j < 3; j++) {
                prefix[j][i + 1] = prefix[j][i]
                                   + (splits[s].names[j]
                                      && strcmp(v, splits[s].names[j]) == 0);
            }
        }

        for (k = 0; k < 2; k++) {
            w = sizes[k];
            worst[k] = 0;

            for (j = 0; j < 3; j++) {
                for (i = 0; i + w <= 100000; i++) {
                    d = (long) (prefix[j][i + w] - prefix[j][i])
                        - (long) (w * splits[s].weights[j]
                                  / FAAS_RELEASE_WHOLE);
                    d = d < 0 ? -d : d;
                    worst[k] = d > worst[k] ? d : worst[k];
                }
            }
        }

        printf("# unkeyed %s, every window in 100,000 requests: worst "
               "deviation %ld of 100, %ld of 20000\n", splits[s].split,
               worst[0], worst[1]);

        CHECK(worst[0] <= 3);
        CHECK(worst[1] <= 10);

        faas_release_free(rel);
    }

    for (j = 0; j < 3; j++) {
        free(prefix[j]);
    }
}


/* 2 rules and a sticky three-way split: time a pick (printed only) */

static void
test_speed(void)
{
    req_t            r;
    double           ns;
    size_t           i, n, hits;
    struct timespec  t0, t1;
    faas_release_t  *rel;

    rel = test_parse("{'rules': ["
                     " {'match': {'header': 'x-faas-version', 'equals':"
                     " 'v7'}, 'version': 'v7'},"
                     " {'match': {'cookie': 'beta', 'regex': '^(1|yes)$'},"
                     " 'version': 'v3'}],"
                     " 'split': {'v1': 5000, 'v2': 3000, 'v3': 2000},"
                     " 'sticky': {'cookie': 'uid'}}");
    CHECK(rel != NULL);

    memset(&r, 0, sizeof(r));
    req_set(&r, FAAS_SOURCE_HEADER, "x-faas-version", "v1");
    req_set(&r, FAAS_SOURCE_COOKIE, "beta", "no");
    req_set(&r, FAAS_SOURCE_COOKIE, "uid", "8c1f4a9e-user-42");

    n = 200000;
    hits = 0;

    clock_gettime(CLOCK_MONOTONIC, &t0);

    for (i = 0; i < n; i++) {
        hits += faas_release_pick(rel, "hello", req_get, &r, &counter)
                != NULL;
    }

    clock_gettime(CLOCK_MONOTONIC, &t1);

    CHECK_INT(hits, n);

    ns = ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / n;

    printf("# pick, 2 rules (exact, regex) + sticky 3-way split: %.0f ns "
           "(this build's flags)\n", ns);

    faas_release_free(rel);
}


int
main(void)
{
    test_example();
    test_matches();
    test_regex();
    test_cidr();
    test_errors();
    test_limits();
    test_round_trip();
    test_order();
    test_sticky();
    test_ramp();
    test_sticky_three_way();
    test_unkeyed();
    test_speed();

    return unit_done("test_release");
}
