/*
 * Copyright (C) ngx_faas authors
 *
 * Unit tests of the Redis routing table: the messages of what is not a
 * table, whole, from the JSON to a route.
 */


#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faas_table.h"
#include "unit.h"
#include "table_unit.h"


static void test_json_errors(void);
static void test_table_errors(void);
static void test_function_errors(void);
static void test_version_errors(void);
static void test_route_errors(void);


static void
test_json_errors(void)
{
    char           big[64];
    faas_table_t  *t;

    CHECK_STR(test_error(""), SRC ": is empty: expected a JSON object");
    CHECK_STR(test_error(" \n "), SRC ": is empty: expected a JSON object");

    CHECK_STR(test_error("{'generation':1,}"),
              SRC ": invalid JSON at byte 16, near \"}\"");

    CHECK_STR(test_error("{'generation':1,'functions':{}} x"),
              SRC ": invalid JSON at byte 32: unexpected text after the "
              "value: \"x\"");

    CHECK_STR(test_error("{'generation':1,'functions':{}}{}"),
              SRC ": invalid JSON at byte 31: unexpected text after the "
              "value: \"{}\"");

    CHECK_STR(test_error("{'generation':1,'functions':{'a':\n\t'b'\x01}"),
              SRC ": invalid JSON at byte 39, near \"}\"");

    CHECK_STR(test_error("{'generation':tru}"),
              SRC ": invalid JSON at byte 14, near \"tru}\"");

    /* the snippet is cut */

    CHECK_STR(test_error("[,'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa']"),
              SRC ": invalid JSON at byte 1, near "
              "\",\\\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\"");

    /* cJSON puts an error at the end on the last byte */

    CHECK_STR(test_error("{'generation':"),
              SRC ": invalid JSON at byte 13, near \":\"");

    /* nesting is bounded: no stack overflow */

    {
        char    *deep;
        size_t   i;

        deep = malloc(200001);
        CHECK(deep != NULL);

        if (deep) {
            for (i = 0; i < 100000; i++) {
                deep[i] = '[';
                deep[200000 - 1 - i] = ']';
            }

            deep[200000] = '\0';

            memset(&err, 0, sizeof(err));
            CHECK(faas_table_parse(SRC, deep, 200000, &t, &err)
                  == FAAS_ERROR);
            CHECK(strncmp(err.msg, "invalid JSON at byte 1000", 25) == 0);
            free(deep);
        }
    }

    /* not NUL-terminated: the length bounds it */

    memcpy(big, "{\"generation\":1,\"functions\":{}}garbage", 38);
    memset(&err, 0, sizeof(err));
    CHECK(faas_table_parse(SRC, big, 31, &t, &err) == FAAS_OK);
    faas_table_free(t);

    /* too big: refused before parsing */

    memset(&err, 0, sizeof(err));
    CHECK(faas_table_parse(SRC, big, (size_t) FAAS_TABLE_MAX_SIZE + 1, &t,
                           &err)
          == FAAS_ERROR);
    CHECK_STR(err.msg, "is larger than 67108864 bytes (64 MiB): "
              "67108865 bytes");

    memset(&err, 0, sizeof(err));
    CHECK(faas_table_parse(NULL, NULL, 0, &t, &err) == FAAS_ERROR);
    CHECK_STR(err.file, "(table)");
    CHECK(t == NULL);

    /* no err: no crash */

    CHECK(faas_table_parse(SRC, "{", 1, &t, NULL) == FAAS_ERROR);
    CHECK(faas_table_parse(SRC, "{\"generation\":1,\"functions\":{\"a\":{"
                           "\"active\":\"v\",\"routes\":[{\"path\":\"x\"}],"
                           "\"versions\":{\"v\":{\"dir\":\"/\"}}}}}", 93,
                           &t, NULL)
          == FAAS_ERROR);
}


static void
test_table_errors(void)
{
    CHECK_STR(test_error("[]"),
              SRC ": expected an object at the top of the table, got an "
              "array");

    CHECK_STR(test_error("'x'"),
              SRC ": expected an object at the top of the table, got "
              "\"x\"");

    CHECK_STR(test_error("{'functions':{}}"),
              SRC ": \"generation\" is missing");

    CHECK_STR(test_error("{'generation':1}"),
              SRC ": \"functions\" is missing");

    CHECK_STR(test_error("{'generation':1,'functions':{},'generation':2}"),
              SRC ": \"generation\" is there twice");

    CHECK_STR(test_error("{'generation':1,'epoch':'','functions':{}}"),
              SRC ": epoch: invalid epoch \"\": use 1 to 32 of "
              "A-Z a-z 0-9");

    CHECK_STR(test_error("{'generation':1,'epoch':'a-b','functions':{}}"),
              SRC ": epoch: invalid epoch \"a-b\": use 1 to 32 of "
              "A-Z a-z 0-9");

    CHECK_STR(test_error("{'generation':1,"
                         "'epoch':'0123456789abcdef0123456789abcdef0',"
                         "'functions':{}}"),
              SRC ": epoch: invalid epoch "
              "\"0123456789abcdef0123456789abcdef0\": use 1 to 32 of "
              "A-Z a-z 0-9");

    CHECK_STR(test_error("{'generation':1,'epoch':7,'functions':{}}"),
              SRC ": epoch: expected a string, got 7");

    CHECK_STR(test_error("{'generation':0,'functions':{}}"),
              SRC ": generation: expected an integer from 1 to "
              "9007199254740992, got 0");

    CHECK_STR(test_error("{'generation':-5,'functions':{}}"),
              SRC ": generation: expected an integer from 1 to "
              "9007199254740992, got -5");

    CHECK_STR(test_error("{'generation':1.5,'functions':{}}"),
              SRC ": generation: expected an integer from 1 to "
              "9007199254740992, got 1.5");

    CHECK_STR(test_error("{'generation':9007199254740993,'functions':{}}"),
              "(parsed)");  /* the double is 2^53: JSON cannot tell */

    CHECK_STR(test_error("{'generation':9007199254740994,'functions':{}}"),
              SRC ": generation: expected an integer from 1 to "
              "9007199254740992, got 9007199254740994");

    CHECK_STR(test_error("{'generation':1e300,'functions':{}}"),
              SRC ": generation: expected an integer from 1 to "
              "9007199254740992, got 1.0000000000000001e+300");

    CHECK_STR(test_error("{'generation':1e999,'functions':{}}"),
              SRC ": generation: expected an integer from 1 to "
              "9007199254740992, got inf");

    CHECK_STR(test_error("{'generation':'12','functions':{}}"),
              SRC ": generation: expected an integer from 1 to "
              "9007199254740992, got \"12\"");

    CHECK_STR(test_error("{'generation':null,'functions':{}}"),
              SRC ": generation: expected an integer from 1 to "
              "9007199254740992, got null");

    CHECK_STR(test_error("{'generation':true,'functions':{}}"),
              SRC ": generation: expected an integer from 1 to "
              "9007199254740992, got true");

    CHECK_STR(test_error("{'generation':1,'functions':[]}"),
              SRC ": functions: expected an object, got an array");

    CHECK_STR(test_error("{'generation':1,'functions':{'bad name':{}}}"),
              SRC ": functions: invalid function name \"bad name\": use 1 "
              "to 64 of A-Z a-z 0-9 _ -, not starting with \"-\"");

    CHECK_STR(test_error("{'generation':1,'functions':{'-x':{}}}"),
              SRC ": functions: invalid function name \"-x\": use 1 "
              "to 64 of A-Z a-z 0-9 _ -, not starting with \"-\"");

    CHECK_STR(test_error("{'generation':1,'functions':{'':{}}}"),
              SRC ": functions: invalid function name \"\": use 1 "
              "to 64 of A-Z a-z 0-9 _ -, not starting with \"-\"");

    /* cJSON ends a string at \u0000: the name is "a" */

    CHECK_STR(test_error("{'generation':1,'functions':{'a\\u0000b':{}}}"),
              SRC ": functions.a: \"versions\" is missing");

    CHECK_STR(test_error("{'generation':1,'functions':{'a\\nb':{}}}"),
              SRC ": functions: invalid function name \"a\\nb\": use 1 "
              "to 64 of A-Z a-z 0-9 _ -, not starting with \"-\"");

    CHECK_STR(test_error("{'generation':1,'functions':{"
                         "'hello':{'active':'v','versions':{'v':{'dir':'/'}}},"
                         "'hello':{'active':'v','versions':{'v':{'dir':'/'}}}"
                         "}}"),
              SRC ": functions: function \"hello\" is there twice");
}


static void
test_function_errors(void)
{
    CHECK_STR(test_error("{'generation':1,'functions':{'hello':[]}}"),
              SRC ": functions.hello: expected an object, got an array");

    CHECK_STR(test_error("{'generation':1,'functions':{'hello':{}}}"),
              SRC ": functions.hello: \"versions\" is missing");

    CHECK_STR(test_error("{'generation':1,'functions':{'hello':"
                         "{'versions':{'v1':{'dir':'/d'}}}}}"),
              SRC ": functions.hello: \"active\" is missing");

    CHECK_STR(test_error("{'generation':1,'functions':{'hello':"
                         "{'active':'v1','active':'v1',"
                         "'versions':{'v1':{'dir':'/d'}}}}}"),
              SRC ": functions.hello: \"active\" is there twice");

    CHECK_STR(test_error("{'generation':1,'functions':{'hello':"
                         "{'active':'v9','versions':{'v1':{'dir':'/d'}}}}}"),
              SRC ": functions.hello.active: \"v9\" is not one of the "
              "versions");

    CHECK_STR(test_error("{'generation':1,'functions':{'hello':"
                         "{'active':1,'versions':{'v1':{'dir':'/d'}}}}}"),
              SRC ": functions.hello.active: expected the name of one of "
              "the versions, got 1");

    CHECK_STR(test_error("{'generation':1,'functions':{'hello':"
                         "{'active':'v1','versions':{}}}}"),
              SRC ": functions.hello.versions: expected 1 to 16 versions, "
              "got 0");

    CHECK_STR(test_error("{'generation':1,'functions':{'hello':"
                         "{'active':'v1','versions':["
                         "{'dir':'/d'}]}}}"),
              SRC ": functions.hello.versions: expected an object, got an "
              "array");

    CHECK_STR(test_error("{'generation':1,'functions':{'hello':"
                         "{'active':'v1','versions':{"
                         "'1':{'dir':'/'},'2':{'dir':'/'},'3':{'dir':'/'},"
                         "'4':{'dir':'/'},'5':{'dir':'/'},'6':{'dir':'/'},"
                         "'7':{'dir':'/'},'8':{'dir':'/'},'9':{'dir':'/'},"
                         "'10':{'dir':'/'},'11':{'dir':'/'},'12':{'dir':'/'},"
                         "'13':{'dir':'/'},'14':{'dir':'/'},'15':{'dir':'/'},"
                         "'16':{'dir':'/'},'17':{'dir':'/'}}}}}"),
              SRC ": functions.hello.versions: expected 1 to 16 versions, "
              "got 17");

    CHECK_STR(test_error("{'generation':1,'functions':{'hello':"
                         "{'active':'v1','versions':{'v 1':{'dir':'/'}}}}}"),
              SRC ": functions.hello.versions: invalid version name "
              "\"v 1\": use 1 to 32 of A-Z a-z 0-9 . _ -");

    CHECK_STR(test_error("{'generation':1,'functions':{'hello':"
                         "{'active':'v1','versions':{"
                         "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa':"
                         "{'dir':'/'}}}}}"),
              SRC ": functions.hello.versions: invalid version name "
              "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\": use 1 to 32 of A-Z "
              "a-z 0-9 . _ -");

    CHECK_STR(test_error("{'generation':1,'functions':{'hello':"
                         "{'active':'v1','versions':{'v1':{'dir':'/'},"
                         "'v1':{'dir':'/'}}}}}"),
              SRC ": functions.hello.versions: version \"v1\" is there "
              "twice");

    CHECK_STR(test_error("{'generation':1,'functions':{'hello':"
                         "{'active':'v1','versions':{'v1':'/d'}}}}"),
              SRC ": functions.hello.versions.v1: expected an object, got "
              "\"/d\"");
}


static void
test_version_errors(void)
{
    char   buf[32768];
    char  *p;
    int    i;

    CHECK_STR(test_error(fn_json("'dir':'/x'")),
              SRC ": functions.hello.versions.v1: \"dir\" is there twice");

    CHECK_STR(test_error("{'generation':1,'functions':{'hello':"
                         "{'active':'v1','versions':{'v1':{}}}}}"),
              SRC ": functions.hello.versions.v1: \"dir\" is missing");

    CHECK_STR(test_error("{'generation':1,'functions':{'hello':"
                         "{'active':'v1','versions':{'v1':{'dir':'srv'}}}}}"),
              SRC ": functions.hello.versions.v1.dir: expected an absolute "
              "path, got \"srv\"");

    CHECK_STR(test_error("{'generation':1,'functions':{'hello':"
                         "{'active':'v1','versions':{'v1':{'dir':null}}}}}"),
              SRC ": functions.hello.versions.v1.dir: expected an absolute "
              "path, got null");

    CHECK_STR(test_error("{'generation':1,'functions':{'hello':"
                         "{'active':'v1','versions':{'v1':{'dir':''}}}}}"),
              SRC ": functions.hello.versions.v1.dir: expected an absolute "
              "path, got \"\"");

    CHECK_STR(test_error("{'generation':1,'functions':{'hello':"
                         "{'active':'v1','versions':{'v1':"
                         "{'dir':'/srv/../etc'}}}}}"),
              SRC ": functions.hello.versions.v1.dir: may not hold a \"..\" "
              "segment, got \"/srv/../etc\"");

    CHECK_STR(test_error("{'generation':1,'functions':{'hello':"
                         "{'active':'v1','versions':{'v1':"
                         "{'dir':'/srv/..'}}}}}"),
              SRC ": functions.hello.versions.v1.dir: may not hold a \"..\" "
              "segment, got \"/srv/..\"");

    CHECK_STR(test_error("{'generation':1,'functions':{'hello':"
                         "{'active':'v1','versions':{'v1':"
                         "{'dir':'/..'}}}}}"),
              SRC ": functions.hello.versions.v1.dir: may not hold a \"..\" "
              "segment, got \"/..\"");

    CHECK_STR(test_error("{'generation':1,'functions':{'hello':"
                         "{'active':'v1','versions':{'v1':"
                         "{'dir':'/a\\nb'}}}}}"),
              SRC ": functions.hello.versions.v1.dir: may not hold control "
              "characters, got \"/a\\nb\"");

    /* "..." and "..x" are names */

    CHECK_STR(test_error("{'generation':1,'functions':{'hello':"
                         "{'active':'v1','versions':{'v1':"
                         "{'dir':'/srv/.../..x/x..'}}}}}"),
              "(parsed)");

    p = buf;
    p += sprintf(p, "{'generation':1,'functions':{'hello':{'active':'v1',"
                 "'versions':{'v1':{'dir':'");

    for (i = 0; i < 1025; i++) {
        *p++ = (i % 10) ? 'a' : '/';
    }

    sprintf(p, "'}}}}}");

    CHECK_STR(test_error(buf),
              SRC ": functions.hello.versions.v1.dir: longer than 1024 "
              "bytes");

    buf[strlen(buf) - 7] = '\0';
    strcat(buf, "'}}}}}");
    CHECK_STR(test_error(buf), "(parsed)");

    /* handlers: the f.yml rule */

    CHECK_STR(test_error(fn_json("'handler':'index'")),
              SRC ": functions.hello.versions.v1.handler: expected "
              "\"file.export\" like \"index.handler\", got \"index\"");

    CHECK_STR(test_error(fn_json("'handler':'../up.handler'")),
              SRC ": functions.hello.versions.v1.handler: the file part may "
              "not leave the manifest's directory with \"..\", got "
              "\"../up.handler\"");

    CHECK_STR(test_error(fn_json("'initializer':'/abs.init'")),
              SRC ": functions.hello.versions.v1.initializer: the file part "
              "must be a relative path, got \"/abs.init\"");

    CHECK_STR(test_error(fn_json("'initializer':'index.a-b'")),
              SRC ": functions.hello.versions.v1.initializer: the export "
              "after the last \".\" must be a JavaScript name, got "
              "\"index.a-b\"");

    CHECK_STR(test_error(fn_json("'handler':5")),
              SRC ": functions.hello.versions.v1.handler: expected a "
              "string, got 5");

    CHECK_STR(test_error(fn_json("'runtime':['nodejs20']")),
              SRC ": functions.hello.versions.v1.runtime: expected a "
              "string, got an array");

    /* numbers */

    CHECK_STR(test_error(fn_json("'timeout_ms':-5")),
              SRC ": functions.hello.versions.v1.timeout_ms: expected an "
              "integer from 1 to 86400000, got -5");

    CHECK_STR(test_error(fn_json("'timeout_ms':0")),
              SRC ": functions.hello.versions.v1.timeout_ms: expected an "
              "integer from 1 to 86400000, got 0");

    CHECK_STR(test_error(fn_json("'init_timeout_ms':86400001")),
              SRC ": functions.hello.versions.v1.init_timeout_ms: expected "
              "an integer from 1 to 86400000, got 86400001");

    CHECK_STR(test_error(fn_json("'memory_mb':65537")),
              SRC ": functions.hello.versions.v1.memory_mb: expected an "
              "integer from 1 to 65536, got 65537");

    CHECK_STR(test_error(fn_json("'concurrency':1.5")),
              SRC ": functions.hello.versions.v1.concurrency: expected an "
              "integer from 1 to 1000, got 1.5");

    CHECK_STR(test_error(fn_json("'instances':65")),
              SRC ": functions.hello.versions.v1.instances: expected an "
              "integer from 1 to 64, got 65");

    CHECK_STR(test_error(fn_json("'instances':'2'")),
              SRC ": functions.hello.versions.v1.instances: expected an "
              "integer from 1 to 64, got \"2\"");

    CHECK_STR(test_error(fn_json("'instances':4294967297")),
              SRC ": functions.hello.versions.v1.instances: expected an "
              "integer from 1 to 64, got 4294967297");

    /* env */

    CHECK_STR(test_error(fn_json("'env':['A=1']")),
              SRC ": functions.hello.versions.v1.env: expected an object "
              "of strings, got an array");

    CHECK_STR(test_error(fn_json("'env':{'A':1}")),
              SRC ": functions.hello.versions.v1.env.A: expected a string, "
              "got 1");

    CHECK_STR(test_error(fn_json("'env':{'A':null}")),
              SRC ": functions.hello.versions.v1.env.A: expected a string, "
              "got null");

    CHECK_STR(test_error(fn_json("'env':{'A=B':'1'}")),
              SRC ": functions.hello.versions.v1.env: invalid variable name "
              "\"A=B\"");

    CHECK_STR(test_error(fn_json("'env':{'':'1'}")),
              SRC ": functions.hello.versions.v1.env: invalid variable name "
              "\"\"");

    CHECK_STR(test_error(fn_json("'env':{'A':'1','B':'2','A':'3'}")),
              SRC ": functions.hello.versions.v1.env: variable \"A\" is "
              "there twice");

    CHECK_STR(test_error(fn_json("'env':{'A\\u0001':true}")),
              SRC ": functions.hello.versions.v1.env.A?: expected a string, "
              "got true");

    p = buf;
    p += sprintf(p, "'env':{");

    for (i = 0; i < 1025; i++) {
        p += sprintf(p, "%s'V%d':''", i ? "," : "", i);
    }

    sprintf(p, "}");

    CHECK_STR(test_error(fn_json(buf)),
              SRC ": functions.hello.versions.v1.env: more than 1024 "
              "variables");
}


static void
test_route_errors(void)
{
    int    i;
    char  *p, *big;

    CHECK_STR(test_error("{'generation':1,'functions':{'hello':{"
                         "'active':'v1','versions':{'v1':{'dir':'/'}},"
                         "'routes':{'path':'/x'}}}}"),
              SRC ": functions.hello.routes: expected an array of routes, "
              "got an object");

    CHECK_STR(test_error("{'generation':1,'functions':{'hello':{"
                         "'active':'v1','versions':{'v1':{'dir':'/'}},"
                         "'routes':['/x']}}}"),
              SRC ": functions.hello.routes[0]: expected an object with "
              "\"path\" and \"methods\", got \"/x\"");

    CHECK_STR(test_error("{'generation':1,'functions':{'hello':{"
                         "'active':'v1','versions':{'v1':{'dir':'/'}},"
                         "'routes':[{'path':'/a'},{'methods':['GET']}]}}}"),
              SRC ": functions.hello.routes[1]: \"path\" is missing");

    CHECK_STR(test_error("{'generation':1,'functions':{'hello':{"
                         "'active':'v1','versions':{'v1':{'dir':'/'}},"
                         "'routes':[{'path':7}]}}}"),
              SRC ": functions.hello.routes[0].path: expected a string, "
              "got 7");

    CHECK_STR(test_error("{'generation':1,'functions':{'hello':{"
                         "'active':'v1','versions':{'v1':{'dir':'/'}},"
                         "'routes':[{'path':'/a','methods':'GET'}]}}}"),
              SRC ": functions.hello.routes[0].methods: expected an array "
              "of method names, got \"GET\"");

    CHECK_STR(test_error("{'generation':1,'functions':{'hello':{"
                         "'active':'v1','versions':{'v1':{'dir':'/'}},"
                         "'routes':[{'path':'/a','methods':[]}]}}}"),
              SRC ": functions.hello.routes[0].methods: expected at least "
              "one method");

    CHECK_STR(test_error("{'generation':1,'functions':{'hello':{"
                         "'active':'v1','versions':{'v1':{'dir':'/'}},"
                         "'routes':[{'path':'/a','methods':['GET','FOO']}]"
                         "}}}"),
              SRC ": functions.hello.routes[0].methods[1]: expected one of "
              "GET HEAD POST PUT DELETE PATCH OPTIONS, got \"FOO\"");

    CHECK_STR(test_error("{'generation':1,'functions':{'hello':{"
                         "'active':'v1','versions':{'v1':{'dir':'/'}},"
                         "'routes':[{'path':'/a','methods':['any']}]"
                         "}}}"),
              SRC ": functions.hello.routes[0].methods[0]: expected one of "
              "GET HEAD POST PUT DELETE PATCH OPTIONS, got \"any\"");

    CHECK_STR(test_error("{'generation':1,'functions':{'hello':{"
                         "'active':'v1','versions':{'v1':{'dir':'/'}},"
                         "'routes':[{'path':'/a','methods':[1]}]"
                         "}}}"),
              SRC ": functions.hello.routes[0].methods[0]: expected one of "
              "GET HEAD POST PUT DELETE PATCH OPTIONS, got 1");

    /* the router's judgement, with the function */

    CHECK_STR(test_error("{'generation':1,'functions':{'hello':{"
                         "'active':'v1','versions':{'v1':{'dir':'/'}},"
                         "'routes':[{'path':'api'}]}}}"),
              SRC ": function \"hello\": route \"api\" does not start with "
              "\"/\"");

    CHECK_STR(test_error("{'generation':1,'functions':{'hello':{"
                         "'active':'v1','versions':{'v1':{'dir':'/'}},"
                         "'routes':[{'path':'/a/*/b'}]}}}"),
              SRC ": function \"hello\": route \"/a/*/b\": \"*\" is allowed "
              "only as the whole last segment");

    CHECK_STR(test_error("{'generation':1,'functions':{'hello':{"
                         "'active':'v1','versions':{'v1':{'dir':'/'}},"
                         "'routes':[{'path':'/a/:'}]}}}"),
              SRC ": function \"hello\": route \"/a/:\" has a parameter "
              "without a name");

    CHECK_STR(test_error("{'generation':1,'functions':{'hello':{"
                         "'active':'v1','versions':{'v1':{'dir':'/'}},"
                         "'routes':[{'path':'/a','methods':['GET']},"
                         "{'path':'/a/','methods':['POST','GET']}]}}}"),
              SRC ": function \"hello\": route \"GET /a/\" conflicts with "
              "\"GET /a\" of function \"hello\"");

    /* between functions, in sorted order */

    CHECK_STR(test_error("{'generation':1,'functions':{"
                         "'zz':{'active':'v1','versions':{'v1':{'dir':'/'}},"
                         "'routes':[{'path':'/u/:id','methods':['PUT']}]},"
                         "'aa':{'active':'v1','versions':{'v1':{'dir':'/'}},"
                         "'routes':[{'path':'/u/:name'}]}}}"),
              SRC ": function \"zz\": route \"PUT /u/:id\" conflicts with "
              "\"PUT /u/:name\" of function \"aa\"");

    /* the same shape with other methods is no conflict */

    CHECK_STR(test_error("{'generation':1,'functions':{"
                         "'zz':{'active':'v1','versions':{'v1':{'dir':'/'}},"
                         "'routes':[{'path':'/u/:id','methods':['OPTIONS']}]},"
                         "'aa':{'active':'v1','versions':{'v1':{'dir':'/'}},"
                         "'routes':[{'path':'/u/:name'}]}}}"),
              "(parsed)");

    /* 1024 routes, not 1025 */

    big = malloc(64 * 1024);
    CHECK(big != NULL);

    if (big == NULL) {
        return;
    }

    p = big;
    p += sprintf(p, "{'generation':1,'functions':{'hello':{'active':'v1',"
                 "'versions':{'v1':{'dir':'/'}},'routes':[");

    for (i = 0; i < 1024; i++) {
        p += sprintf(p, "%s{'path':'/r%d'}", i ? "," : "", i);
    }

    strcpy(p, "]}}}");

    {
        faas_table_t  *t;
        char          *text;

        for (text = big; *text; text++) {
            if (*text == '\'') {
                *text = '"';
            }
        }

        memset(&err, 0, sizeof(err));
        CHECK(faas_table_parse(SRC, big, strlen(big), &t, &err) == FAAS_OK);
        CHECK(t != NULL && t->functions[0].nroutes == 1024);
        faas_table_free(t);

        sprintf(p, ",{\"path\":\"/r1024\"}]}}}");

        memset(&err, 0, sizeof(err));
        CHECK(faas_table_parse(SRC, big, strlen(big), &t, &err)
              == FAAS_ERROR);
        CHECK_STR(err.msg, "functions.hello.routes: more than 1024 routes");
    }

    free(big);
}


int
main(void)
{
    test_json_errors();
    test_table_errors();
    test_function_errors();
    test_version_errors();
    test_route_errors();

    return unit_done("test_table_errors");
}
