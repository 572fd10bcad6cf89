/*
 * Copyright (C) ngx_faas authors
 *
 * Unit tests of the route compiler and matcher.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faas_router.h"
#include "unit.h"


#define GET      FAAS_METHOD_GET
#define HEAD     FAAS_METHOD_HEAD
#define POST     FAAS_METHOD_POST
#define PUT      FAAS_METHOD_PUT
#define DELETE   FAAS_METHOD_DELETE
#define OPTIONS  FAAS_METHOD_OPTIONS


static faas_error_t  err;
static faas_match_t  m;


static int
add(faas_router_t *router, const char *pattern, unsigned methods)
{
    memset(&err, 0, sizeof(err));

    /* a route's data is its own pattern, so matches name themselves */
    return faas_router_add(router, pattern, methods, (void *) pattern,
                           "f.yml", 3, 5, &err);
}


static int
match(faas_router_t *router, unsigned method, const char *path)
{
    memset(&m, 0xa5, sizeof(m));
    return faas_router_match(router, method, path, strlen(path), &m);
}


/* the pattern of the route that took "method path", or a status */

static const char *
route(faas_router_t *router, unsigned method, const char *path)
{
    switch (match(router, method, path)) {
    case FAAS_MATCH_OK:
        return m.data;
    case FAAS_MATCH_METHOD:
        return "405";
    default:
        return "404";
    }
}


static const char *
param(const char *name)
{
    size_t       i;
    static char  buf[256];

    for (i = 0; i < m.nparams; i++) {
        if (strlen(name) == m.params[i].name_len
            && memcmp(name, m.params[i].name, m.params[i].name_len) == 0)
        {
            snprintf(buf, sizeof(buf), "%.*s", (int) m.params[i].value_len,
                     m.params[i].value);
            return buf;
        }
    }

    return "(none)";
}


static faas_router_t *
build(const char **patterns, unsigned methods)
{
    faas_router_t  *router;

    router = faas_router_create();

    for ( /* void */ ; *patterns; patterns++) {
        if (add(router, *patterns, methods) != FAAS_OK) {
            fprintf(stderr, "add \"%s\": %s\n", *patterns, err.msg);
            unit_failed++;
        }
    }

    CHECK_INT(faas_router_compile(router, &err), FAAS_OK);

    return router;
}


static void
test_static(void)
{
    faas_router_t  *r;
    const char     *p[] = { "/api/hello", "/api/users", "/", NULL };
    const char     *q[] = { "/abcdefgh", "/abcdefghij/x", "/abcdefghik/x",
                            "/abcdefghijklmnopqrstuvwxyz0123456789", "/abc",
                            NULL };

    r = build(p, GET);

    CHECK_STR(route(r, GET, "/api/hello"), "/api/hello");
    CHECK_STR(route(r, GET, "/api/hello/"), "/api/hello");
    CHECK_STR(route(r, GET, "/api/users"), "/api/users");
    CHECK_STR(route(r, GET, "/"), "/");
    CHECK_STR(route(r, GET, "/api/hellox"), "404");
    CHECK_STR(route(r, GET, "/api/hell"), "404");
    CHECK_STR(route(r, GET, "/api"), "404");
    CHECK_STR(route(r, GET, "/api/hello/x"), "404");
    CHECK_STR(route(r, GET, "/API/hello"), "404");
    CHECK_INT(match(r, GET, "/api/hello"), FAAS_MATCH_OK);
    CHECK_INT(m.nparams, 0);
    CHECK_INT(m.allowed, 0);
    CHECK_STR(m.pattern, "/api/hello");
    CHECK_INT(faas_router_count(r), 3);
    CHECK(faas_router_memory(r) > 0);

    faas_router_free(r);

    /* segments alike in their first eight bytes, or in all but length */
    r = build(q, GET);

    CHECK_STR(route(r, GET, "/abcdefgh"), "/abcdefgh");
    CHECK_STR(route(r, GET, "/abcdefghij/x"), "/abcdefghij/x");
    CHECK_STR(route(r, GET, "/abcdefghik/x"), "/abcdefghik/x");
    CHECK_STR(route(r, GET, "/abcdefghil/x"), "404");
    CHECK_STR(route(r, GET, "/abcdefghi/x"), "404");
    CHECK_STR(route(r, GET, "/abcdefghijklmnopqrstuvwxyz0123456789"),
              "/abcdefghijklmnopqrstuvwxyz0123456789");
    CHECK_STR(route(r, GET, "/abcdefghijklmnopqrstuvwxyz012345678"), "404");
    CHECK_STR(route(r, GET, "/abcdefghijklmnopqrstuvwxyz0123456788"), "404");
    CHECK_STR(route(r, GET, "/abc"), "/abc");
    CHECK_INT(faas_router_match(r, GET, "/abc\0", 5, &m),
              FAAS_MATCH_NOT_FOUND);
    CHECK_INT(faas_router_match(r, GET, "/abc\0\0\0\0\0", 9, &m),
              FAAS_MATCH_NOT_FOUND);

    faas_router_free(r);
}


static void
test_precedence(void)
{
    faas_router_t  *r;
    const char     *exact[] = { "/a/*", "/a/b", "/a/:id", NULL };
    const char     *longer[] = { "/*", "/a/*", "/a/b/*", NULL };
    const char     *longer_rev[] = { "/a/b/*", "/a/*", "/*", NULL };
    const char     *root[] = { "/*", "/", NULL };
    const char     *stat[] = { "/a/:x", "/a/b", NULL };
    const char     *back[] = { "/a/b/c", "/a/:x/d", NULL };
    const char     *back_wild[] = { "/a/b/c", "/a/*", NULL };
    const char     *tie[] = { "/a/:x/*", "/a/b/*", NULL };
    const char     *deep[] = { "/a/*", "/:x/b/*", NULL };
    const char     *first[] = { "/:x/b", "/a/:y", NULL };

    /* an exact route, static or with parameters, beats a wildcard */
    r = build(exact, GET);
    CHECK_STR(route(r, GET, "/a/b"), "/a/b");
    CHECK_STR(route(r, GET, "/a/c"), "/a/:id");
    CHECK_STR(param("id"), "c");
    CHECK_STR(route(r, GET, "/a/c/d"), "/a/*");
    CHECK_STR(param("*"), "c/d");
    CHECK_STR(route(r, GET, "/a"), "/a/*");
    CHECK_STR(param("*"), "");
    CHECK_STR(route(r, GET, "/a/"), "/a/*");
    CHECK_STR(param("*"), "");
    CHECK_STR(route(r, GET, "/a/b/"), "/a/b");
    CHECK_STR(route(r, GET, "/ab"), "404");
    faas_router_free(r);

    /* the longer prefix wins, in whatever order they were declared */
    r = build(longer, GET);
    CHECK_STR(route(r, GET, "/a/b/c"), "/a/b/*");
    CHECK_STR(param("*"), "c");
    CHECK_STR(route(r, GET, "/a/b"), "/a/b/*");
    CHECK_STR(route(r, GET, "/a/x"), "/a/*");
    CHECK_STR(param("*"), "x");
    CHECK_STR(route(r, GET, "/a"), "/a/*");
    CHECK_STR(route(r, GET, "/x/y"), "/*");
    CHECK_STR(param("*"), "x/y");
    CHECK_STR(route(r, GET, "/"), "/*");
    CHECK_STR(param("*"), "");
    faas_router_free(r);

    r = build(longer_rev, GET);
    CHECK_STR(route(r, GET, "/a/b/c/d"), "/a/b/*");
    CHECK_STR(param("*"), "c/d");
    CHECK_STR(route(r, GET, "/a/bb"), "/a/*");
    CHECK_STR(route(r, GET, "/b"), "/*");
    faas_router_free(r);

    /* "/" beats the catch-all for "/" */
    r = build(root, GET);
    CHECK_STR(route(r, GET, "/"), "/");
    CHECK_STR(route(r, GET, "/x"), "/*");
    faas_router_free(r);

    /* a static segment beats ":param" */
    r = build(stat, GET);
    CHECK_STR(route(r, GET, "/a/b"), "/a/b");
    CHECK_INT(m.nparams, 0);
    CHECK_STR(route(r, GET, "/a/c"), "/a/:x");
    CHECK_STR(param("x"), "c");
    faas_router_free(r);

    /* the static branch fails deeper: back to ":param" */
    r = build(back, GET);
    CHECK_STR(route(r, GET, "/a/b/d"), "/a/:x/d");
    CHECK_STR(param("x"), "b");
    CHECK_STR(route(r, GET, "/a/b/c"), "/a/b/c");
    CHECK_STR(route(r, GET, "/a/z/c"), "404");
    faas_router_free(r);

    /* ... and then to a wildcard */
    r = build(back_wild, GET);
    CHECK_STR(route(r, GET, "/a/b/d"), "/a/*");
    CHECK_STR(param("*"), "b/d");
    CHECK_STR(route(r, GET, "/a/b/c"), "/a/b/c");
    CHECK_STR(route(r, GET, "/a/b/c/d"), "/a/*");
    faas_router_free(r);

    /* equal prefixes: static before ":param" at the first difference */
    r = build(tie, GET);
    CHECK_STR(route(r, GET, "/a/b/z"), "/a/b/*");
    CHECK_STR(route(r, GET, "/a/c/z"), "/a/:x/*");
    CHECK_STR(param("x"), "c");
    CHECK_STR(param("*"), "z");
    CHECK_INT(m.nparams, 2);
    faas_router_free(r);

    /* a longer prefix with a parameter beats a shorter static one */
    r = build(deep, GET);
    CHECK_STR(route(r, GET, "/a/b/c"), "/:x/b/*");
    CHECK_STR(param("x"), "a");
    CHECK_STR(route(r, GET, "/a/c"), "/a/*");
    faas_router_free(r);

    r = build(first, GET);
    CHECK_STR(route(r, GET, "/a/b"), "/a/:y");
    CHECK_STR(route(r, GET, "/c/b"), "/:x/b");
    faas_router_free(r);
}


static void
test_methods(void)
{
    char            allow[128];
    faas_router_t  *r;

    r = faas_router_create();

    CHECK_INT(add(r, "/a/b", GET), FAAS_OK);
    CHECK_INT(add(r, "/a/:x", POST), FAAS_OK);
    CHECK_INT(add(r, "/a/*", DELETE), FAAS_OK);
    CHECK_INT(add(r, "/x", GET | POST), FAAS_OK);
    CHECK_INT(add(r, "/h", GET), FAAS_OK);
    CHECK_INT(add(r, "/h2", GET), FAAS_OK);
    CHECK_INT(faas_router_add(r, "/h2", HEAD, "head", "f.yml", 9, 1, &err),
              FAAS_OK);
    CHECK_INT(add(r, "/g/b", GET), FAAS_OK);
    CHECK_INT(add(r, "/g/:x", HEAD), FAAS_OK);
    CHECK_INT(add(r, "/o", OPTIONS), FAAS_OK);
    CHECK_INT(faas_router_compile(r, &err), FAAS_OK);

    /* the first route in precedence order that takes the method */
    CHECK_STR(route(r, GET, "/a/b"), "/a/b");
    CHECK_STR(route(r, POST, "/a/b"), "/a/:x");
    CHECK_STR(param("x"), "b");
    CHECK_STR(route(r, DELETE, "/a/b"), "/a/*");
    CHECK_STR(param("*"), "b");
    CHECK_INT(m.nparams, 1);

    CHECK_INT(match(r, PUT, "/a/b"), FAAS_MATCH_METHOD);
    CHECK_INT(m.allowed, GET | HEAD | POST | DELETE);
    faas_methods_format(m.allowed, allow, sizeof(allow));
    CHECK_STR(allow, "GET, HEAD, POST, DELETE");

    CHECK_INT(match(r, GET, "/a/b/c"), FAAS_MATCH_METHOD);
    CHECK_INT(m.allowed, DELETE);

    CHECK_INT(match(r, DELETE, "/x"), FAAS_MATCH_METHOD);
    CHECK_INT(m.allowed, GET | HEAD | POST);
    CHECK(m.data == NULL);

    /* an unknown method: 405 when the path matches, else 404 */
    CHECK_INT(match(r, 0, "/x"), FAAS_MATCH_METHOD);
    CHECK_INT(m.allowed, GET | HEAD | POST);
    CHECK_INT(match(r, 0, "/nowhere"), FAAS_MATCH_NOT_FOUND);
    CHECK_INT(match(r, OPTIONS, "/o"), FAAS_MATCH_OK);
    CHECK_INT(match(r, GET, "/o"), FAAS_MATCH_METHOD);
    CHECK_INT(m.allowed, OPTIONS);

    /* HEAD through GET; a route naming HEAD itself first */
    CHECK_STR(route(r, HEAD, "/h"), "/h");
    CHECK_STR(route(r, HEAD, "/x"), "/x");
    CHECK_STR(route(r, HEAD, "/h2"), "head");
    CHECK_STR(route(r, GET, "/h2"), "/h2");
    CHECK_STR(route(r, HEAD, "/g/b"), "/g/b");
    CHECK_STR(route(r, HEAD, "/g/c"), "/g/:x");
    CHECK_STR(route(r, GET, "/g/c"), "405");
    CHECK_INT(m.allowed, HEAD);
    CHECK_STR(route(r, HEAD, "/a/c"), "405");
    CHECK_INT(m.allowed, POST | DELETE);

    faas_router_free(r);
}


static void
test_params(void)
{
    size_t          i;
    char            pat[512], path[512], name[8];
    const char     *u;
    faas_router_t  *r;

    r = faas_router_create();
    CHECK_INT(add(r, "/u/:uid/posts/:pid", GET), FAAS_OK);
    CHECK_INT(add(r, "/f/:id/*", GET), FAAS_OK);
    CHECK_INT(add(r, "/w/*", GET), FAAS_OK);
    CHECK_INT(add(r, "/t/:a_B9/", GET), FAAS_OK);
    CHECK_INT(faas_router_compile(r, &err), FAAS_OK);

    u = "/u/42/posts/seven";
    CHECK_INT(faas_router_match(r, GET, u, strlen(u), &m), FAAS_MATCH_OK);
    CHECK_INT(m.nparams, 2);
    CHECK_MEM(m.params[0].name, m.params[0].name_len, "uid");
    CHECK_MEM(m.params[0].value, m.params[0].value_len, "42");
    CHECK(m.params[0].value == u + 3);
    CHECK_MEM(m.params[1].name, m.params[1].name_len, "pid");
    CHECK_MEM(m.params[1].value, m.params[1].value_len, "seven");
    CHECK(m.params[1].value == u + 12);
    CHECK_STR(m.pattern, "/u/:uid/posts/:pid");

    /* a path not NUL-terminated: the length bounds the walk */
    CHECK_INT(faas_router_match(r, GET, "/u/1/posts/2xyz", 12, &m),
              FAAS_MATCH_OK);
    CHECK_STR(param("pid"), "2");

    CHECK_STR(route(r, GET, "/u/42/posts"), "404");
    CHECK_STR(route(r, GET, "/u//posts/1"), "404");

    CHECK_STR(route(r, GET, "/f/7/a/b/"), "/f/:id/*");
    CHECK_INT(m.nparams, 2);
    CHECK_MEM(m.params[0].name, m.params[0].name_len, "id");
    CHECK_MEM(m.params[1].name, m.params[1].name_len, "*");
    CHECK_STR(param("id"), "7");
    CHECK_STR(param("*"), "a/b/");
    CHECK_STR(route(r, GET, "/f/7"), "/f/:id/*");
    CHECK_STR(param("*"), "");
    CHECK_STR(route(r, GET, "/f"), "404");

    CHECK_STR(route(r, GET, "/w//x"), "/w/*");
    CHECK_STR(param("*"), "/x");

    CHECK_STR(route(r, GET, "/t/v"), "/t/:a_B9/");
    CHECK_STR(param("a_B9"), "v");

    faas_router_free(r);

    /* the most parameters a route may have, and the most segments */

    r = faas_router_create();

    pat[0] = '\0';
    path[0] = '\0';

    for (i = 0; i < FAAS_ROUTER_MAX_PARAMS; i++) {
        snprintf(pat + strlen(pat), sizeof(pat) - strlen(pat), "/:p%zu", i);
        snprintf(path + strlen(path), sizeof(path) - strlen(path), "/v%zu",
                 i);
    }

    CHECK_INT(add(r, pat, GET), FAAS_OK);

    pat[0] = '\0';

    for (i = 0; i < FAAS_ROUTER_MAX_PARAMS - 1; i++) {
        snprintf(pat + strlen(pat), sizeof(pat) - strlen(pat), "/s/:p%zu",
                 i);
    }

    strcat(pat, "/*");
    CHECK_INT(add(r, pat, GET), FAAS_OK);

    pat[0] = '\0';

    for (i = 0; i < FAAS_ROUTER_MAX_SEGMENTS; i++) {
        strcat(pat, "/x");
    }

    CHECK_INT(add(r, pat, GET), FAAS_OK);
    CHECK_INT(faas_router_compile(r, &err), FAAS_OK);

    CHECK_INT(match(r, GET, path), FAAS_MATCH_OK);
    CHECK_INT(m.nparams, FAAS_ROUTER_MAX_PARAMS);

    for (i = 0; i < FAAS_ROUTER_MAX_PARAMS; i++) {
        snprintf(name, sizeof(name), "p%zu", i);
        snprintf(pat, sizeof(pat), "v%zu", i);
        CHECK_STR(param(name), pat);
    }

    path[0] = '\0';

    for (i = 0; i < FAAS_ROUTER_MAX_PARAMS - 1; i++) {
        snprintf(path + strlen(path), sizeof(path) - strlen(path), "/s/%zu",
                 i);
    }

    strcat(path, "/tail/end");
    CHECK_INT(match(r, GET, path), FAAS_MATCH_OK);
    CHECK_INT(m.nparams, FAAS_ROUTER_MAX_PARAMS);
    CHECK_STR(param("p14"), "14");
    CHECK_STR(param("*"), "tail/end");

    path[0] = '\0';

    for (i = 0; i < FAAS_ROUTER_MAX_SEGMENTS; i++) {
        strcat(path, "/x");
    }

    CHECK_INT(match(r, GET, path), FAAS_MATCH_OK);
    strcat(path, "/x");
    CHECK_INT(match(r, GET, path), FAAS_MATCH_NOT_FOUND);

    faas_router_free(r);
}


static void
test_invalid(void)
{
    size_t          i;
    char            pat[512];
    faas_router_t  *r;

    static const struct {
        const char  *pattern;
        const char  *msg;
    } bad[] = {
        { "", "route \"\" does not start with \"/\"" },
        { "api", "route \"api\" does not start with \"/\"" },
        { "*", "route \"*\" does not start with \"/\"" },
        { "/a/*/b", "route \"/a/*/b\": \"*\" is allowed only as the whole "
                    "last segment" },
        { "/a*", "route \"/a*\": \"*\" is allowed only as the whole last "
                 "segment" },
        { "/a/**", "route \"/a/**\": \"*\" is allowed only as the whole "
                   "last segment" },
        { "/*/*", "route \"/*/*\": \"*\" is allowed only as the whole last "
                  "segment" },
        { "/:", "route \"/:\" has a parameter without a name" },
        { "/a/:/b", "route \"/a/:/b\" has a parameter without a name" },
        { "/:a-b", "route \"/:a-b\": the name of parameter \"a-b\" has "
                   "characters other than letters, digits and \"_\"" },
        { "/:id?", "route \"/:id?\": the name of parameter \"id?\" has "
                   "characters other than letters, digits and \"_\"" },
        { "/:id/x/:id", "route \"/:id/x/:id\" has parameter \"id\" twice" },
        { "//", "route \"//\" has an empty segment" },
        { "/a//b", "route \"/a//b\" has an empty segment" },
        { "/a b", "route \"/a b\" has an invalid character in segment "
                  "\"a b\"" },
        { "/a:b", "route \"/a:b\" has an invalid character in segment "
                  "\"a:b\"" },
        { "/a?x=1", "route \"/a?x=1\" has an invalid character in segment "
                    "\"a?x=1\"" },
    };

    r = faas_router_create();

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK_INT(add(r, bad[i].pattern, GET), FAAS_ERROR);
        CHECK_STR(err.msg, bad[i].msg);
        CHECK_STR(err.file, "f.yml");
        CHECK_INT(err.line, 3);
        CHECK_INT(err.column, 5);
    }

    pat[0] = '\0';

    for (i = 0; i <= FAAS_ROUTER_MAX_PARAMS; i++) {
        snprintf(pat + strlen(pat), sizeof(pat) - strlen(pat), "/:p%zu", i);
    }

    CHECK_INT(add(r, pat, GET), FAAS_ERROR);
    CHECK(strstr(err.msg, "has more than 16 parameters") != NULL);
    CHECK(strstr(err.msg, "/:p0/:p1/") != NULL);

    pat[0] = '\0';

    for (i = 0; i < FAAS_ROUTER_MAX_PARAMS; i++) {
        snprintf(pat + strlen(pat), sizeof(pat) - strlen(pat), "/:p%zu", i);
    }

    strcat(pat, "/*");
    CHECK_INT(add(r, pat, GET), FAAS_ERROR);
    CHECK(strstr(err.msg, "has more than 16 parameters") != NULL);

    pat[0] = '\0';

    for (i = 0; i <= FAAS_ROUTER_MAX_SEGMENTS; i++) {
        strcat(pat, "/x");
    }

    CHECK_INT(add(r, pat, GET), FAAS_ERROR);
    CHECK(strstr(err.msg, "has more than 64 segments") != NULL);

    CHECK_INT(add(r, "/a", 0), FAAS_ERROR);
    CHECK_STR(err.msg, "route \"/a\" has no valid method");
    CHECK_INT(add(r, "/a", 0x10000), FAAS_ERROR);
    CHECK_INT(faas_router_add(r, NULL, GET, NULL, "f.yml", 1, 1, &err),
              FAAS_ERROR);
    CHECK_STR(err.msg, "route without a path");

    /* NULL err is allowed: the caller does not want the message */
    CHECK_INT(faas_router_add(r, "/a/*/b", GET, NULL, NULL, 0, 0, NULL),
              FAAS_ERROR);

    /* nothing was added on the way */
    CHECK_INT(faas_router_count(r), 0);
    CHECK_INT(faas_router_compile(r, &err), FAAS_OK);
    CHECK_STR(route(r, GET, "/a"), "404");
    CHECK_STR(route(r, GET, "/"), "404");

    /* compiled: frozen */
    CHECK_INT(add(r, "/late", GET), FAAS_ERROR);
    CHECK_STR(err.msg,
              "route \"/late\" added after the routes were compiled");
    CHECK_INT(faas_router_count(r), 0);

    faas_router_free(r);
}


static void
test_duplicates(void)
{
    faas_router_t  *r;

    r = faas_router_create();

    CHECK_INT(faas_router_add(r, "/a/:id", GET, "first", "a/f.yml", 7, 9,
                              &err),
              FAAS_OK);
    CHECK_INT(add(r, "/a/:uid", GET), FAAS_ERROR);
    CHECK_STR(err.msg, "route \"GET /a/:uid\" conflicts with "
                       "\"GET /a/:id\" declared at a/f.yml:7:9");
    CHECK_STR(err.file, "f.yml");
    CHECK_INT(err.line, 3);
    CHECK_INT(err.column, 5);

    CHECK_INT(add(r, "/a/:uid", GET | POST), FAAS_ERROR);
    CHECK_STR(err.msg, "route \"GET /a/:uid\" conflicts with "
                       "\"GET /a/:id\" declared at a/f.yml:7:9");

    /* the same shape with other methods is fine */
    CHECK_INT(add(r, "/a/:uid", POST | PUT), FAAS_OK);
    CHECK_INT(add(r, "/a/:x", PUT), FAAS_ERROR);
    CHECK_STR(err.msg, "route \"PUT /a/:x\" conflicts with "
                       "\"PUT /a/:uid\" declared at f.yml:3:5");

    /* a trailing slash makes no other route */
    CHECK_INT(add(r, "/b", FAAS_METHODS_ANY), FAAS_OK);
    CHECK_INT(add(r, "/b/", FAAS_METHODS_ANY), FAAS_ERROR);
    CHECK_STR(err.msg, "route \"GET,HEAD,POST,PUT,DELETE,PATCH /b/\" "
                       "conflicts with \"GET,HEAD,POST,PUT,DELETE,PATCH "
                       "/b\" declared at f.yml:3:5");

    /* a wildcard and an exact route are other shapes */
    CHECK_INT(add(r, "/b/*", GET | POST | PUT), FAAS_OK);
    CHECK_INT(add(r, "/b/*", GET | DELETE | PUT), FAAS_ERROR);
    CHECK_STR(err.msg, "route \"GET,PUT /b/*\" conflicts with "
                       "\"GET,PUT /b/*\" declared at f.yml:3:5");
    CHECK_INT(add(r, "/b/:x", GET), FAAS_OK);
    CHECK_INT(add(r, "/", GET), FAAS_OK);
    CHECK_INT(add(r, "/*", GET), FAAS_OK);
    CHECK_INT(add(r, "/", GET), FAAS_ERROR);

    /* a new deeper route that conflicts leaves no trace */
    CHECK_INT(add(r, "/c/d/e", GET), FAAS_OK);
    CHECK_INT(add(r, "/c/d/e", GET), FAAS_ERROR);

    CHECK_INT(faas_router_count(r), 8);
    CHECK_INT(faas_router_compile(r, &err), FAAS_OK);

    CHECK_STR(route(r, GET, "/a/1"), "first");
    CHECK_STR(route(r, POST, "/a/1"), "/a/:uid");
    CHECK_STR(param("uid"), "1");
    CHECK_STR(route(r, PUT, "/a/1"), "/a/:uid");
    CHECK_STR(route(r, DELETE, "/a/1"), "405");
    CHECK_STR(route(r, POST, "/b/"), "/b");
    CHECK_STR(route(r, GET, "/c/d/e"), "/c/d/e");

    faas_router_free(r);
}


static void
test_paths(void)
{
    size_t          i;
    char           *big;
    faas_router_t  *r;
    unsigned char   bytes[64];

    r = faas_router_create();
    CHECK_INT(add(r, "/a/:x", GET), FAAS_OK);
    CHECK_INT(add(r, "/a/b/*", GET), FAAS_OK);
    CHECK_INT(add(r, "/%C3%A9/\xc3\xa9", GET), FAAS_OK);
    CHECK_INT(faas_router_compile(r, &err), FAAS_OK);

    CHECK_INT(faas_router_match(r, GET, "", 0, &m), FAAS_MATCH_NOT_FOUND);
    CHECK_INT(faas_router_match(r, GET, NULL, 0, &m), FAAS_MATCH_NOT_FOUND);
    CHECK_INT(faas_router_match(NULL, GET, "/a", 2, &m),
              FAAS_MATCH_NOT_FOUND);
    CHECK_STR(route(r, GET, "a/b"), "404");
    CHECK_STR(route(r, GET, "*"), "404");
    CHECK_STR(route(r, GET, "/"), "404");
    CHECK_STR(route(r, GET, "//"), "404");
    CHECK_STR(route(r, GET, "/a//"), "404");
    CHECK_STR(route(r, GET, "//a/b"), "404");
    CHECK_STR(route(r, GET, "/a/b//c"), "/a/b/*");
    CHECK_STR(param("*"), "/c");
    CHECK_STR(route(r, GET, "/%C3%A9/\xc3\xa9"), "/%C3%A9/\xc3\xa9");

    /* a NUL inside the path is a byte like another */
    CHECK_INT(faas_router_match(r, GET, "/a/x\0y", 6, &m), FAAS_MATCH_OK);
    CHECK_INT(m.params[0].value_len, 3);

    /* every byte value in a segment */
    bytes[0] = '/';
    bytes[1] = 'a';
    bytes[2] = '/';

    for (i = 0; i < 256; i++) {
        bytes[3] = (unsigned char) i;
        bytes[4] = 'z';
        CHECK_INT(faas_router_match(r, GET, (char *) bytes, 5, &m),
                  i == '/' ? FAAS_MATCH_NOT_FOUND : FAAS_MATCH_OK);
    }

    /* a path much deeper than any route */
    big = malloc(200001);
    for (i = 0; i < 100000; i++) {
        big[2 * i] = '/';
        big[2 * i + 1] = (i == 1) ? 'b' : 'a';
    }
    big[200000] = '\0';

    CHECK_INT(faas_router_match(r, GET, big, 200000, &m), FAAS_MATCH_OK);
    CHECK_STR(m.data, "/a/b/*");
    CHECK_INT(m.params[0].value_len, 200000 - 5);
    big[3] = 'c';
    CHECK_INT(faas_router_match(r, GET, big, 200000, &m),
              FAAS_MATCH_NOT_FOUND);

    free(big);
    faas_router_free(r);

    faas_router_free(NULL);
    CHECK_INT(faas_router_count(NULL), 0);
    CHECK_INT(faas_router_memory(NULL), 0);

    /* an empty router */
    r = faas_router_create();
    CHECK_INT(faas_router_compile(r, &err), FAAS_OK);
    CHECK_STR(route(r, GET, "/"), "404");
    CHECK_STR(route(r, GET, "/x/y"), "404");
    faas_router_free(r);
}


/* 10k routes of realistic shapes, each found by its own paths */

static void
test_many(void)
{
    size_t          i, bad;
    char            buf[128], want[128];
    char          **pats;
    faas_router_t  *r;

    r = faas_router_create();
    pats = calloc(30000, sizeof(char *));

    for (i = 0; i < 10000; i++) {
        snprintf(buf, sizeof(buf), "/api/v1/svc%zu/items/:id", i);
        pats[3 * i] = strdup(buf);
        snprintf(buf, sizeof(buf), "/api/v1/svc%zu/health", i);
        pats[3 * i + 1] = strdup(buf);
        snprintf(buf, sizeof(buf), "/static/s%zu/*", i);
        pats[3 * i + 2] = strdup(buf);
    }

    bad = 0;

    for (i = 0; i < 30000; i++) {
        if (faas_router_add(r, pats[i], (i % 3 == 0) ? GET | POST : GET,
                            pats[i], "many.yml", (unsigned) i + 1, 1, &err)
            != FAAS_OK)
        {
            bad++;
        }
    }

    CHECK_INT(bad, 0);
    CHECK_INT(faas_router_compile(r, &err), FAAS_OK);
    CHECK_INT(faas_router_count(r), 30000);

    for (i = 0; i < 10000; i += 7) {
        snprintf(buf, sizeof(buf), "/api/v1/svc%zu/items/%zu", i, i * 31);
        snprintf(want, sizeof(want), "/api/v1/svc%zu/items/:id", i);

        if (match(r, POST, buf) != FAAS_MATCH_OK
            || strcmp(m.data, want) != 0
            || strtoul(param("id"), NULL, 10) != i * 31)
        {
            bad++;
        }

        snprintf(buf, sizeof(buf), "/api/v1/svc%zu/health", i);

        if (match(r, GET, buf) != FAAS_MATCH_OK || strcmp(m.data, buf) != 0) {
            bad++;
        }

        if (match(r, POST, buf) != FAAS_MATCH_METHOD
            || m.allowed != (GET | HEAD))
        {
            bad++;
        }

        snprintf(buf, sizeof(buf), "/static/s%zu/css/site.css", i);
        snprintf(want, sizeof(want), "/static/s%zu/*", i);

        if (match(r, GET, buf) != FAAS_MATCH_OK
            || strcmp(m.data, want) != 0
            || strcmp(param("*"), "css/site.css") != 0)
        {
            bad++;
        }

        snprintf(buf, sizeof(buf), "/api/v1/svc%zu/other", i);

        if (match(r, GET, buf) != FAAS_MATCH_NOT_FOUND) {
            bad++;
        }
    }

    CHECK_INT(bad, 0);
    CHECK_STR(route(r, GET, "/api/v1/svc10000/health"), "404");
    CHECK_STR(route(r, GET, "/static/s10000/x"), "404");

    faas_router_free(r);

    for (i = 0; i < 30000; i++) {
        free(pats[i]);
    }

    free(pats);
}


static void
test_conflict(void)
{
    faas_router_t  *r;
    faas_error_t    e;

    r = faas_router_create();

    CHECK_INT(add(r, "/api/users/:id", GET|POST), FAAS_OK);
    CHECK_INT(add(r, "/api/files/*", GET), FAAS_OK);
    CHECK_INT(add(r, "/api/hello", PUT), FAAS_OK);

    /* before and after compiling: only reads */

    memset(&e, 0, sizeof(e));
    CHECK_INT(faas_router_conflict(r, "/api/users/:name", POST, &e), 1);
    CHECK(strstr(e.msg, "\"POST /api/users/:name\" conflicts with "
                 "\"POST /api/users/:id\" declared at f.yml:3:5") != NULL);

    CHECK_INT(faas_router_compile(r, &err), FAAS_OK);

    CHECK_INT(faas_router_conflict(r, "/api/users/:x", GET|PUT, &e), 1);
    CHECK_INT(faas_router_conflict(r, "/api/users/:x", PUT, &e), 0);
    CHECK_INT(faas_router_conflict(r, "/api/users/me", GET, &e), 0);
    CHECK_INT(faas_router_conflict(r, "/api/users", GET, &e), 0);
    CHECK_INT(faas_router_conflict(r, "/api/files/*", GET, &e), 1);
    CHECK_INT(faas_router_conflict(r, "/api/files", GET, &e), 0);
    CHECK_INT(faas_router_conflict(r, "/api/hello/", PUT, &e), 1);
    CHECK_INT(faas_router_conflict(r, "/api/hello/*", PUT, &e), 0);
    CHECK_INT(faas_router_conflict(r, "/nope/:id", GET, &e), 0);

    /* invalid patterns conflict with nothing; NULLs are harmless */

    CHECK_INT(faas_router_conflict(r, "api/hello", PUT, &e), 0);
    CHECK_INT(faas_router_conflict(r, "/api/*/x", GET, &e), 0);
    CHECK_INT(faas_router_conflict(r, NULL, GET, &e), 0);
    CHECK_INT(faas_router_conflict(NULL, "/api/hello", PUT, &e), 0);

    faas_router_free(r);
}


int
main(void)
{
    test_static();
    test_precedence();
    test_methods();
    test_params();
    test_invalid();
    test_duplicates();
    test_paths();
    test_many();
    test_conflict();

    return unit_done("test_router");
}
