/*
 * Copyright (C) ngx_faas authors
 *
 * Unit tests of the Redis routing table: its JSON codec and checks,
 * and version records (the messages of bad tables: test_table_errors.c;
 * key names and Redis URLs: test_redis.c).
 */


#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faas_table.h"
#include "unit.h"
#include "table_unit.h"


static faas_table_t *test_parse(const char *text);
static void test_release(void);
static const char *test_verror(const char *text);
static void test_minimal(void);
static void test_full(void);
static void test_defaults(void);
static void test_round_trip(void);
static void test_find(void);
static int test_found(const faas_table_t *t, int n);
static void test_add_routes(void);
static void test_routed(const faas_router_t *router, const faas_table_t *t);
static void test_parse_router(void);
static void test_version_record(void);
static void test_names(void);


/* two functions' routes, as test_routed() expects them to be served */

static const char  routes_json[] =
    "{'generation':4,'functions':{"
    "'hello':{'active':'v1','versions':{'v1':{'dir':'/h'}},"
    "  'routes':[{'path':'/api/hello','methods':['GET']},"
    "            {'path':'/api/*'}]},"
    "'users':{'active':'v1','versions':{'v1':{'dir':'/u'}},"
    "  'routes':[{'path':'/api/users/:id',"
    "             'methods':['GET','PUT']}]}}}";


static faas_table_t *
test_parse(const char *text)
{
    faas_table_t  *t;
    char           buf[512];

    text = json(text);

    memset(&err, 0, sizeof(err));

    if (faas_table_parse(SRC, text, strlen(text), &t, &err) != FAAS_OK) {
        faas_error_format(&err, buf, sizeof(buf));
        fprintf(stderr, "unexpected error: %s\n", buf);
        return NULL;
    }

    return t;
}


static const char *
test_verror(const char *text)
{
    size_t               n;
    faas_version_t      *v;
    faas_table_route_t  *r;
    static char          buf[512];

    text = json(text);

    memset(&err, 0, sizeof(err));

    if (faas_version_parse("faas:version:hello:v3", text, strlen(text), &v,
                           &r, &n, &err)
        == FAAS_OK)
    {
        faas_version_free(v, r, n);
        return "(parsed)";
    }

    if (v != NULL || r != NULL || n != 0) {
        return "(an error left a version)";
    }

    faas_error_format(&err, buf, sizeof(buf));

    return buf;
}


static void
test_minimal(void)
{
    faas_table_t  *t;

    t = test_parse("{'generation':1,'functions':{}}");
    CHECK(t != NULL);

    if (t) {
        CHECK_INT(t->generation, 1);
        CHECK_INT(t->nfunctions, 0);
        CHECK(faas_table_find(t, "hello") == NULL);
        faas_table_free(t);
    }

    /* white space around, unknown members, the largest generation */

    t = test_parse(" \n{'functions':{},'x':[1,{'y':null}],"
                   "'generation':9007199254740992}\r\n\t ");
    CHECK(t != NULL);

    if (t) {
        CHECK(t->generation == 9007199254740992ULL);
        faas_table_free(t);
    }

    /* an epoch: kept; absent or null: "" */

    t = test_parse("{'generation':3,'epoch':'9f2c01AB','functions':{}}");
    CHECK(t != NULL);

    if (t) {
        CHECK_STR(t->epoch, "9f2c01AB");
        faas_table_free(t);
    }

    t = test_parse("{'generation':3,'epoch':null,'functions':{}}");
    CHECK(t != NULL);

    if (t) {
        CHECK_STR(t->epoch, "");
        faas_table_free(t);
    }

    /* 1.0 and 1e3 are integers */

    t = test_parse("{'generation':1e3,'functions':{}}");
    CHECK(t != NULL);

    if (t) {
        CHECK_INT(t->generation, 1000);
        faas_table_free(t);
    }

    faas_table_free(NULL);
}


static void
test_full(void)
{
    faas_table_t                 *t;
    const faas_version_t         *v;
    const faas_table_function_t  *fn;

    t = test_parse(
        "{'generation':12,'functions':{"
        "'zeta':{'active':'v1','routes':[{'path':'/z'}],"
        "        'versions':{'v1':{'dir':'/srv/z/v1'}}},"
        "'hello':{"
        "  'active':'v3',"
        "  'routes':["
        "    {'path':'/api/hello','methods':['GET']},"
        "    {'path':'/api/hello/:name','methods':['get','Post','GET']}"
        "  ],"
        "  'versions':{"
        "    'v2':{'dir':'/var/lib/ngx_faas/code/hello/v2'},"
        "    'v3':{'dir':'/var/lib/ngx_faas/code/hello/v3',"
        "          'handler':'src/index.main','initializer':'index.init',"
        "          'runtime':'nodejs20','timeout_ms':3000,"
        "          'init_timeout_ms':86400000,'memory_mb':65536,"
        "          'concurrency':1000,'instances':64,"
        "          'env':{'A':'1','EMPTY':'','UTF':'\xc3\xa9'},"
        "          'future':{'ignored':true}}"
        "  }},"
        "'alpha':{'active':'1.0.0-rc_1','versions':{'1.0.0-rc_1':"
        "         {'dir':'/'}}}"
        "}}");

    CHECK(t != NULL);

    if (t == NULL) {
        return;
    }

    CHECK_INT(t->generation, 12);
    CHECK_INT(t->nfunctions, 3);

    /* sorted by name */

    CHECK_STR(t->functions[0].name, "alpha");
    CHECK_STR(t->functions[1].name, "hello");
    CHECK_STR(t->functions[2].name, "zeta");

    fn = faas_table_find(t, "hello");
    CHECK(fn == &t->functions[1]);

    CHECK_INT(fn->nversions, 2);
    CHECK(fn->active == &fn->versions[1]);
    CHECK_STR(fn->versions[0].name, "v2");
    CHECK_STR(fn->versions[0].handler, "index.handler");
    CHECK_INT(fn->versions[0].instances, 1);
    CHECK(fn->versions[0].initializer == NULL);
    CHECK(fn->versions[0].runtime == NULL);
    CHECK_INT(fn->versions[0].nenv, 0);

    v = fn->active;
    CHECK_STR(v->name, "v3");
    CHECK_STR(v->dir, "/var/lib/ngx_faas/code/hello/v3");
    CHECK_STR(v->handler, "src/index.main");
    CHECK_STR(v->initializer, "index.init");
    CHECK_STR(v->runtime, "nodejs20");
    CHECK_INT(v->timeout_ms, 3000);
    CHECK_INT(v->init_timeout_ms, 86400000);
    CHECK_INT(v->memory_mb, 65536);
    CHECK_INT(v->concurrency, 1000);
    CHECK_INT(v->instances, 64);
    CHECK_INT(v->nenv, 3);
    CHECK_STR(v->env[0].key, "A");
    CHECK_STR(v->env[0].value, "1");
    CHECK_STR(v->env[1].key, "EMPTY");
    CHECK_STR(v->env[1].value, "");
    CHECK_STR(v->env[2].value, "\xc3\xa9");

    CHECK_INT(fn->nroutes, 2);
    CHECK_STR(fn->routes[0].path, "/api/hello");
    CHECK_INT(fn->routes[0].methods, FAAS_METHOD_GET);
    CHECK_STR(fn->routes[1].path, "/api/hello/:name");
    CHECK_INT(fn->routes[1].methods, FAAS_METHOD_GET|FAAS_METHOD_POST);

    fn = faas_table_find(t, "zeta");
    CHECK(fn != NULL);

    if (fn) {
        CHECK_INT(fn->routes[0].methods, FAAS_METHODS_ANY);
    }

    fn = faas_table_find(t, "alpha");
    CHECK(fn != NULL && fn->nroutes == 0 && fn->routes == NULL);

    faas_table_free(t);
}


static void
test_defaults(void)
{
    faas_table_t  *t;

    /* null is "not set" for what is optional */

    t = test_parse(fn_json("'handler':null,'initializer':null,"
                           "'runtime':null,'timeout_ms':null,"
                           "'instances':null,'env':null"));
    CHECK(t != NULL);

    if (t) {
        CHECK_STR(t->functions[0].active->handler, "index.handler");
        CHECK(t->functions[0].active->initializer == NULL);
        CHECK(t->functions[0].active->runtime == NULL);
        CHECK_INT(t->functions[0].active->timeout_ms, 0);
        CHECK_INT(t->functions[0].active->instances, 1);
        CHECK_INT(t->functions[0].nroutes, 0);
        faas_table_free(t);
    }

    t = test_parse("{'generation':1,'functions':{'f':{'active':'v1',"
                   "'routes':null,'versions':{'v1':{'dir':'/d'}}}}}");
    CHECK(t != NULL);
    faas_table_free(t);

    t = test_parse("{'generation':1,'functions':{'f':{'active':'v1',"
                   "'routes':[{'path':'/a','methods':null}],"
                   "'versions':{'v1':{'dir':'/d'}}}}}");
    CHECK(t != NULL);

    if (t) {
        CHECK_INT(t->functions[0].routes[0].methods, FAAS_METHODS_ANY);
        faas_table_free(t);
    }
}


static void
test_round_trip(void)
{
    char          *one, *two;
    faas_table_t  *t, *u;
    const char    *text;

    t = test_parse(
        "{'generation':12,'functions':{"
        "'zeta':{'active':'v1','routes':[{'path':'/z/*'}],"
        "        'versions':{'v1':{'dir':'/srv/z/v1'}}},"
        "'hello':{'active':'v3','routes':["
        "    {'path':'/api/hello','methods':['GET','HEAD','OPTIONS']},"
        "    {'path':'/api/hello/:name','methods':['delete','PATCH']}],"
        "  'versions':{"
        "    'v3':{'dir':'/var/lib/x \\\" \\\\ \\u00e9 \\/',"
        "          'handler':'src/index.main','initializer':'index.init',"
        "          'runtime':'nodejs20','timeout_ms':3000,"
        "          'init_timeout_ms':1,'memory_mb':128,"
        "          'concurrency':4,'instances':2,"
        "          'env':{'A':'1','Q':'\\\"\\n\\u0001'}},"
        "    'v2':{'dir':'/v2'}"
        "  }}}}");

    CHECK(t != NULL);

    if (t == NULL) {
        return;
    }

    one = faas_table_serialize(t);
    CHECK(one != NULL);

    if (one == NULL) {
        faas_table_free(t);
        return;
    }

    /* compact: no white space outside strings */

    CHECK(strstr(one, "\": ") == NULL && strchr(one, '\n') == NULL);
    CHECK(strstr(one, "\"methods\":[\"GET\",\"HEAD\",\"OPTIONS\"]") != NULL);
    CHECK(strstr(one, "\"methods\":[\"GET\",\"HEAD\",\"POST\",\"PUT\","
                 "\"DELETE\",\"PATCH\"]") != NULL);
    CHECK(strncmp(one, "{\"generation\":12,\"functions\":{\"hello\":", 38)
          == 0);

    memset(&err, 0, sizeof(err));
    CHECK(faas_table_parse(SRC, one, strlen(one), &u, &err) == FAAS_OK);

    if (u) {
        CHECK(faas_table_equal(t, u));

        two = faas_table_serialize(u);
        CHECK(two != NULL && strcmp(one, two) == 0);
        free(two);
        faas_table_free(u);
    }

    free(one);

    /* the epoch goes after the generation, and counts in equality */

    strcpy(t->epoch, "e1");
    one = faas_table_serialize(t);
    CHECK(one != NULL
          && strncmp(one, "{\"generation\":12,\"epoch\":\"e1\",", 30) == 0);

    if (one && faas_table_parse(SRC, one, strlen(one), &u, &err) == FAAS_OK) {
        CHECK_STR(u->epoch, "e1");
        CHECK(faas_table_equal(t, u));
        strcpy(u->epoch, "e2");
        CHECK(!faas_table_equal(t, u));
        faas_table_free(u);

    } else {
        CHECK(0);
    }

    free(one);
    faas_table_free(t);

    /* an empty table; generation 2^53 printed exactly */

    t = test_parse("{'generation':9007199254740992,'functions':{}}");
    CHECK(t != NULL);

    if (t) {
        one = faas_table_serialize(t);
        CHECK_STR(one, "{\"generation\":9007199254740992,\"functions\":{}}");
        free(one);
        faas_table_free(t);
    }

    /* a table made in memory, as faasctl makes one */

    {
        faas_table_t           mine;
        faas_version_t         v[2];
        faas_table_route_t     r[1];
        faas_table_function_t  fn[2];

        memset(&mine, 0, sizeof(mine));
        memset(v, 0, sizeof(v));
        memset(fn, 0, sizeof(fn));

        v[0].name = "v1";
        v[0].dir = "/d";
        v[0].handler = "index.handler";
        v[0].instances = 1;
        v[1] = v[0];
        v[1].name = "v2";

        r[0].path = "/x/:id";
        r[0].methods = FAAS_METHOD_POST;

        fn[0].name = "b";
        fn[0].versions = &v[0];
        fn[0].nversions = 1;
        fn[0].active = &v[0];
        fn[0].routes = r;
        fn[0].nroutes = 1;

        fn[1].name = "a";
        fn[1].versions = &v[1];
        fn[1].nversions = 1;
        fn[1].active = &v[1];

        mine.generation = 7;
        mine.functions = fn;
        mine.nfunctions = 2;

        text = faas_table_serialize(&mine);
        CHECK_STR(text,
                  "{\"generation\":7,\"functions\":{"
                  "\"b\":{\"active\":\"v1\",\"routes\":[{\"path\":\"/x/:id\","
                  "\"methods\":[\"POST\"]}],\"versions\":{\"v1\":{\"dir\":"
                  "\"/d\",\"handler\":\"index.handler\",\"instances\":1}}},"
                  "\"a\":{\"active\":\"v2\",\"routes\":[],\"versions\":{"
                  "\"v2\":{\"dir\":\"/d\",\"handler\":\"index.handler\","
                  "\"instances\":1}}}}}");

        memset(&err, 0, sizeof(err));
        CHECK(faas_table_parse(SRC, text, strlen(text), &t, &err) == FAAS_OK);

        if (t) {
            CHECK_STR(t->functions[0].name, "a");
            CHECK_STR(t->functions[1].name, "b");
            faas_table_free(t);
        }

        free((char *) text);
    }
}


static void
test_find(void)
{
    int            i;
    char          *text, *p;
    faas_table_t  *t;

    text = malloc(1024 * 1024);
    CHECK(text != NULL);

    if (text == NULL) {
        return;
    }

    /* 1000 functions in a scrambled order */

    p = text;
    p += sprintf(p, "{\"generation\":3,\"functions\":{");

    for (i = 0; i < 1000; i++) {
        p += sprintf(p, "%s\"f%d\":{\"active\":\"v1\",\"versions\":{\"v1\":"
                     "{\"dir\":\"/d/%d\"}},\"routes\":[{\"path\":\"/f/%d\"}]}",
                     i ? "," : "", (i * 7919) % 1000, i, (i * 7919) % 1000);
    }

    sprintf(p, "}}");

    memset(&err, 0, sizeof(err));
    CHECK(faas_table_parse(SRC, text, strlen(text), &t, &err) == FAAS_OK);

    if (t) {
        CHECK_INT(t->nfunctions, 1000);

        for (i = 1; i < 1000; i++) {
            if (strcmp(t->functions[i - 1].name, t->functions[i].name) >= 0) {
                break;
            }
        }

        CHECK_INT(i, 1000);

        CHECK_INT(test_found(t, 1000), 1000);
        CHECK(faas_table_find(t, "f1000") == NULL);
        CHECK(faas_table_find(t, "") == NULL);
        CHECK(faas_table_find(t, "f") == NULL);
        CHECK(faas_table_find(t, "zzz") == NULL);
        CHECK(faas_table_find(t, NULL) == NULL);
        CHECK(faas_table_find(NULL, "f1") == NULL);

        /* by the index: at most half full */

        CHECK(t->by_name != NULL && t->by_name_mask + 1 >= 2000);

        /* without it (a table made in memory), by bisection alike */

        t->by_name = NULL;

        CHECK_INT(test_found(t, 1000), 1000);
        CHECK(faas_table_find(t, "f1000") == NULL);

        faas_table_free(t);
    }

    free(text);
}


/* how many of f0..f(n-1), in order, faas_table_find() finds */

static int
test_found(const faas_table_t *t, int n)
{
    int                           i;
    char                          name[32];
    const faas_table_function_t  *f;

    for (i = 0; i < n; i++) {
        snprintf(name, sizeof(name), "f%d", i);

        f = faas_table_find(t, name);

        if (f == NULL || strcmp(f->name, name) != 0) {
            break;
        }
    }

    return i;
}


static void
test_add_routes(void)
{
    faas_table_t   *t;
    faas_router_t  *router;

    t = test_parse(routes_json);
    CHECK(t != NULL);

    if (t == NULL) {
        return;
    }

    router = faas_router_create();
    CHECK(router != NULL);

    /* a manifest route of the server first, as the module adds them */

    CHECK(faas_router_add(router, "/local", FAAS_METHODS_ANY, NULL,
                          "/etc/f.yml", 3, 5, &err)
          == FAAS_OK);

    memset(&err, 0, sizeof(err));
    CHECK(faas_table_add_routes(t, router, SRC, &err) == FAAS_OK);
    CHECK(faas_router_compile(router, &err) == FAAS_OK);
    CHECK_INT(faas_router_count(router), 4);

    test_routed(router, t);

    faas_router_free(router);

    /* a conflict with a manifest route names the manifest's place */

    router = faas_router_create();

    CHECK(faas_router_add(router, "/api/hello", FAAS_METHOD_GET, NULL,
                          "/etc/f.yml", 3, 5, &err)
          == FAAS_OK);

    memset(&err, 0, sizeof(err));
    CHECK(faas_table_add_routes(t, router, SRC, &err) == FAAS_ERROR);
    CHECK_STR(err.file, SRC);
    CHECK_STR(err.msg, "function \"hello\": route \"GET /api/hello\" "
              "conflicts with \"GET /api/hello\" declared at "
              "/etc/f.yml:3:5");

    faas_router_free(router);
    faas_table_free(t);
}


/* each route's data is its function, in the table */

static void
test_routed(const faas_router_t *router, const faas_table_t *t)
{
    faas_match_t                  m;
    const faas_table_function_t  *hello, *users;

    hello = faas_table_find(t, "hello");
    users = faas_table_find(t, "users");

    CHECK(faas_router_match(router, FAAS_METHOD_GET, "/api/hello", 10, &m)
          == FAAS_MATCH_OK);
    CHECK(m.data == hello);

    CHECK(faas_router_match(router, FAAS_METHOD_PUT, "/api/users/7", 12, &m)
          == FAAS_MATCH_OK);
    CHECK(m.data == users);
    CHECK_STR(m.pattern, "/api/users/:id");
    CHECK_MEM(m.params[0].value, m.params[0].value_len, "7");

    CHECK(faas_router_match(router, FAAS_METHOD_POST, "/api/other", 10, &m)
          == FAAS_MATCH_OK);
    CHECK(m.data == hello);

    CHECK(faas_router_match(router, FAAS_METHOD_GET, "/nope", 5, &m)
          == FAAS_MATCH_NOT_FOUND);
}


/* the router a table was checked with, kept: what a gateway serves from */

static void
test_parse_router(void)
{
    const char     *text;
    faas_table_t   *t;
    faas_match_t    m;
    faas_router_t  *router;
    char            one[512], two[512];

    text = json(routes_json);

    memset(&err, 0, sizeof(err));
    router = (faas_router_t *) &err;

    CHECK(faas_table_parse_router(SRC, text, strlen(text), &t, &router,
                                  &err)
          == FAAS_OK);
    CHECK(t != NULL);
    CHECK(router != NULL);

    if (t == NULL || router == NULL) {
        return;
    }

    /* compiled: the table's routes, served */

    CHECK_INT(t->generation, 4);
    CHECK_INT(faas_router_count(router), 3);

    test_routed(router, t);

    CHECK(faas_router_match(router, FAAS_METHOD_OPTIONS, "/api/hello", 10,
                            &m)
          == FAAS_MATCH_METHOD);
    CHECK_INT(m.allowed, FAAS_METHODS_ANY);

    faas_router_free(router);
    faas_table_free(t);

    /* no routes: a router all the same, that matches nothing */

    text = json(fn_json(""));
    router = NULL;

    CHECK(faas_table_parse_router(SRC, text, strlen(text), &t, &router,
                                  &err)
          == FAAS_OK);
    CHECK(router != NULL);
    CHECK_INT(faas_router_count(router), 0);
    CHECK(faas_router_match(router, FAAS_METHOD_GET, "/", 1, &m)
          == FAAS_MATCH_NOT_FOUND);

    faas_router_free(router);
    faas_table_free(t);

    /* refused: no router, no table, the message of faas_table_parse() */

    text = json("{'generation':1,'functions':{"
                "'zz':{'active':'v1','versions':{'v1':{'dir':'/'}},"
                "'routes':[{'path':'/u/:id','methods':['PUT']}]},"
                "'aa':{'active':'v1','versions':{'v1':{'dir':'/'}},"
                "'routes':[{'path':'/u/:name'}]}}}");

    memset(&err, 0, sizeof(err));
    router = (faas_router_t *) &err;

    CHECK(faas_table_parse_router(SRC, text, strlen(text), &t, &router,
                                  &err)
          == FAAS_ERROR);
    CHECK(t == NULL);
    CHECK(router == NULL);

    faas_error_format(&err, one, sizeof(one));
    CHECK_STR(one, SRC ": function \"zz\": route \"PUT /u/:id\" conflicts "
              "with \"PUT /u/:name\" of function \"aa\"");

    memset(&err, 0, sizeof(err));
    CHECK(faas_table_parse(SRC, text, strlen(text), &t, &err) == FAAS_ERROR);
    faas_error_format(&err, two, sizeof(two));
    CHECK_STR(two, one);

    /* an error before the routes are looked at leaves no router either */

    text = json("{'generation':0,'functions':{}}");
    router = (faas_router_t *) &err;

    CHECK(faas_table_parse_router(SRC, text, strlen(text), &t, &router,
                                  &err)
          == FAAS_ERROR);
    CHECK(t == NULL);
    CHECK(router == NULL);

    /* without a router to keep, it is faas_table_parse() */

    text = json(fn_json(""));

    CHECK(faas_table_parse_router(SRC, text, strlen(text), &t, NULL, &err)
          == FAAS_OK);
    CHECK(t != NULL);

    faas_table_free(t);
}


static void
test_version_record(void)
{
    char                *one, *two;
    size_t               n, n2;
    faas_version_t      *v, *v2;
    faas_table_route_t  *r, *r2;
    const char          *text;

    text = json("{'function':'hello','version':'v3','deployed_at':"
                "1700000000000,'dir':'/code/hello/v3','handler':'a/b.c',"
                "'timeout_ms':3000,'instances':2,'env':{'K':'V'},"
                "'routes':[{'path':'/api/hello','methods':['GET','post']},"
                "{'path':'/api/hello/*'}],'extra':1}");

    memset(&err, 0, sizeof(err));
    CHECK(faas_version_parse("k", text, strlen(text), &v, &r, &n, &err)
          == FAAS_OK);

    if (v == NULL) {
        return;
    }

    CHECK_STR(v->name, "v3");
    CHECK_STR(v->dir, "/code/hello/v3");
    CHECK_STR(v->handler, "a/b.c");
    CHECK_INT(v->timeout_ms, 3000);
    CHECK_INT(v->instances, 2);
    CHECK_INT(v->nenv, 1);
    CHECK_INT(n, 2);
    CHECK_STR(r[0].path, "/api/hello");
    CHECK_INT(r[0].methods, FAAS_METHOD_GET|FAAS_METHOD_POST);
    CHECK_INT(r[1].methods, FAAS_METHODS_ANY);

    one = faas_version_serialize("hello", v, r, n, 1700000000000ULL);
    CHECK_STR(one,
              "{\"function\":\"hello\",\"version\":\"v3\",\"deployed_at\":"
              "1700000000000,\"dir\":\"/code/hello/v3\",\"handler\":\"a/b.c\","
              "\"timeout_ms\":3000,\"instances\":2,\"env\":{\"K\":\"V\"},"
              "\"routes\":[{\"path\":\"/api/hello\",\"methods\":[\"GET\","
              "\"POST\"]},{\"path\":\"/api/hello/*\",\"methods\":[\"GET\","
              "\"HEAD\",\"POST\",\"PUT\",\"DELETE\",\"PATCH\"]}]}");

    if (one) {
        memset(&err, 0, sizeof(err));
        CHECK(faas_version_parse("k", one, strlen(one), &v2, &r2, &n2, &err)
              == FAAS_OK);

        if (v2) {
            CHECK(faas_version_equal(v, v2));
            CHECK_INT(n2, n);
            two = faas_version_serialize("hello", v2, r2, n2,
                                         1700000000000ULL);
            CHECK(two != NULL && strcmp(one, two) == 0);
            free(two);
            faas_version_free(v2, r2, n2);
        }

        free(one);
    }

    faas_version_free(v, r, n);
    faas_version_free(NULL, NULL, 0);

    /* no routes, no deployed_at */

    text = json("{'function':'f','version':'v1','dir':'/d'}");
    memset(&err, 0, sizeof(err));
    CHECK(faas_version_parse("k", text, strlen(text), &v, &r, &n, &err)
          == FAAS_OK);
    CHECK(v != NULL && r == NULL && n == 0);
    faas_version_free(v, r, n);

    /* errors */

    CHECK_STR(test_verror("{'version':'v3','dir':'/d'}"),
              "faas:version:hello:v3: \"function\" is missing");

    CHECK_STR(test_verror("{'function':'hello','dir':'/d'}"),
              "faas:version:hello:v3: \"version\" is missing");

    CHECK_STR(test_verror("{'function':'hello','version':'v3'}"),
              "faas:version:hello:v3: \"dir\" is missing");

    CHECK_STR(test_verror("{'function':'a b','version':'v3','dir':'/d'}"),
              "faas:version:hello:v3: function: invalid function name "
              "\"a b\": use 1 to 64 of A-Z a-z 0-9 _ -, not starting with "
              "\"-\"");

    CHECK_STR(test_verror("{'function':5,'version':'v3','dir':'/d'}"),
              "faas:version:hello:v3: function: expected a name, got 5");

    CHECK_STR(test_verror("{'function':'f','version':'v/3','dir':'/d'}"),
              "faas:version:hello:v3: version: invalid version name "
              "\"v/3\": use 1 to 32 of A-Z a-z 0-9 . _ -");

    CHECK_STR(test_verror("{'function':'f','version':'v3','dir':'/d',"
                          "'deployed_at':-1}"),
              "faas:version:hello:v3: deployed_at: expected an integer "
              "from 0 to 9007199254740992, got -1");

    CHECK_STR(test_verror("{'function':'f','version':'v3','dir':'/d',"
                          "'memory_mb':0}"),
              "faas:version:hello:v3: memory_mb: expected an integer "
              "from 1 to 65536, got 0");

    CHECK_STR(test_verror("{'function':'f','version':'v3','dir':'/d',"
                          "'routes':[{'path':'/a'},{'path':'/a'}]}"),
              "faas:version:hello:v3: function \"f\": route \"GET,HEAD,"
              "POST,PUT,DELETE,PATCH /a\" conflicts with \"GET,HEAD,POST,"
              "PUT,DELETE,PATCH /a\" of function \"f\"");

    CHECK_STR(test_verror("{'function':'f','version':'v3','dir':'/d',"
                          "'routes':[{'path':'/a','methods':['PUT']}],"
                          "'routes':[]}"),
              "faas:version:hello:v3: \"routes\" is there twice");

    CHECK_STR(test_verror("{'function':'f','version':'v3','dir':'/d',"
                          "'routes':[{'path':'/a','methods':['PUT']},"
                          "{'path':'/a/:'}]}"),
              "faas:version:hello:v3: function \"f\": route \"/a/:\" has a "
              "parameter without a name");

    CHECK_STR(test_verror("[1]"),
              "faas:version:hello:v3: expected an object, got an array");

    CHECK_STR(test_verror("{"),
              "faas:version:hello:v3: invalid JSON at byte 0, near \"{\"");
}


static void
test_names(void)
{
    CHECK(faas_function_name_valid("hello", 5));
    CHECK(faas_function_name_valid("a-b_C9", 6));
    CHECK(!faas_function_name_valid("-a", 2));
    CHECK(!faas_function_name_valid("", 0));
    CHECK(!faas_function_name_valid("a.b", 3));
    CHECK(!faas_function_name_valid("a:b", 3));
    CHECK(faas_function_name_valid(
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        64));
    CHECK(!faas_function_name_valid(
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        65));

    CHECK(faas_version_name_valid("v1", 2));
    CHECK(faas_version_name_valid("1.0.0-rc_1", 10));
    CHECK(faas_version_name_valid("-", 1));
    CHECK(!faas_version_name_valid("v:1", 3));
    CHECK(!faas_version_name_valid("v/1", 3));
    CHECK(!faas_version_name_valid("", 0));
    CHECK(faas_version_name_valid("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 32));
    CHECK(!faas_version_name_valid("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 33));

    /* P:generation: what nginx, faasd and faasctl all accept */
    {
        uint64_t  g;

        g = 7;
        CHECK(faas_table_generation_parse("1", 1, &g) == FAAS_OK && g == 1);
        CHECK(faas_table_generation_parse("0042", 4, &g) == FAAS_OK
              && g == 42);
        CHECK(faas_table_generation_parse("9007199254740992", 16, &g)
              == FAAS_OK && g == FAAS_TABLE_GENERATION_MAX);

        g = 7;
        CHECK(faas_table_generation_parse("9007199254740993", 16, &g)
              == FAAS_ERROR);
        CHECK(faas_table_generation_parse("18446744073709551617", 20, &g)
              == FAAS_ERROR);
        CHECK(faas_table_generation_parse("0", 1, &g) == FAAS_ERROR);
        CHECK(faas_table_generation_parse("", 0, &g) == FAAS_ERROR);
        CHECK(faas_table_generation_parse("-1", 2, &g) == FAAS_ERROR);
        CHECK(faas_table_generation_parse("12 ", 3, &g) == FAAS_ERROR);
        CHECK(faas_table_generation_parse("1e3", 3, &g) == FAAS_ERROR);
        CHECK(g == 7);
    }
}


/* a function's release policy: compiled, kept, written back, judged */

static void
test_release(void)
{
    char          *text;
    faas_table_t  *t, *again;
    const char    *table;

    table = json("{'generation':3,'functions':{'hello':{'active':'v1',"
                 "'versions':{'v1':{'dir':'/c/1'},'v2':{'dir':'/c/2'}},"
                 "'release':{'rules':[{'match':{'header':'x-beta'},"
                 "'version':'v2'}],'split':{'v1':9000,'v2':1000},"
                 "'sticky':{'cookie':'uid'}}}}}");

    t = test_parse(table);
    CHECK(t != NULL);
    if (t == NULL) {
        return;
    }

    CHECK(t->functions[0].release != NULL);
    CHECK_INT(faas_release_sources(t->functions[0].release),
              (1 << FAAS_SOURCE_HEADER) | (1 << FAAS_SOURCE_COOKIE));

    text = faas_table_serialize(t);
    CHECK(text != NULL);

    again = text ? test_parse(text) : NULL;
    CHECK(again != NULL && again->functions[0].release != NULL);

    if (again) {
        free(text);
        text = faas_table_serialize(again);
        faas_table_free(again);
    }

    free(text);
    faas_table_free(t);

    CHECK_STR(test_error(json("{'generation':3,'functions':{'hello':"
                              "{'active':'v1','versions':{'v1':{'dir':'/c'}},"
                              "'release':{'split':{'v9':10000}}}}}")),
              "faas:table:12: functions.hello.release.split.v9: unknown "
              "version \"v9\"");
}


int
main(void)
{
    test_minimal();
    test_full();
    test_defaults();
    test_round_trip();
    test_find();
    test_add_routes();
    test_parse_router();
    test_release();
    test_version_record();
    test_names();

    return unit_done("test_table");
}
