/*
 * Copyright (C) ngx_faas authors
 *
 * Microbenchmark of a Redis table's installation in a gateway, for
 * tables of 1k, 10k and 100k routes: the time to parse and check a
 * table's JSON and route it, and the memory the table and its router
 * hold.  Two ways: faas_table_parse() (which builds a router to judge
 * the routes and throws it away) then a second router built to serve
 * from, as gateways did; and faas_table_parse_router(), which keeps the
 * router it judged the routes with, as they do now.  Each the best of
 * BENCH_RUNS.  Not a test: numbers only.
 */


#include <malloc.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "faas_table.h"


#define BENCH_ROUTES_PER_FUNCTION  10
#define BENCH_RUNS                 3


static double
bench_now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}


static size_t
bench_heap(void)
{
    struct mallinfo2  mi;

    mi = mallinfo2();

    return mi.uordblks + mi.hblkhd;
}


/* n functions of ten API-like routes each, as faasctl would write them */

static char *
bench_table_json(size_t nfunctions, size_t *len)
{
    char    *json, *p;
    size_t   i, size;

    size = 256 + nfunctions * 1024;

    json = malloc(size);
    if (json == NULL) {
        return NULL;
    }

    p = json;
    p += sprintf(p, "{\"generation\":7,\"functions\":{");

    for (i = 0; i < nfunctions; i++) {
        p += sprintf(p,
            "%s\"svc%zu\":{\"active\":\"v1\",\"versions\":{\"v1\":"
            "{\"dir\":\"/srv/code/svc%zu/v1\",\"handler\":\"index.handler\","
            "\"instances\":2,\"timeout_ms\":3000}},\"routes\":["
            "{\"path\":\"/api/v1/svc%zu/health\",\"methods\":[\"GET\"]},"
            "{\"path\":\"/api/v1/svc%zu/status\",\"methods\":[\"GET\"]},"
            "{\"path\":\"/api/v1/svc%zu/config/current\"},"
            "{\"path\":\"/api/v2/svc%zu/docs/index\"},"
            "{\"path\":\"/api/v1/svc%zu/items\",\"methods\":[\"POST\"]},"
            "{\"path\":\"/api/v1/svc%zu/items/:id\",\"methods\":[\"GET\"]},"
            "{\"path\":\"/api/v1/svc%zu/items/:id/comments/:cid\"},"
            "{\"path\":\"/api/v1/svc%zu/users/:uid/profile\"},"
            "{\"path\":\"/api/v1/svc%zu/orders/:oid\",\"methods\":"
            "[\"GET\",\"PUT\"]},"
            "{\"path\":\"/static/svc%zu/*\"}]}",
            i ? "," : "", i, i, i, i, i, i, i, i, i, i, i, i);
    }

    p += sprintf(p, "}}");
    *len = p - json;

    return json;
}


int
main(void)
{
    char            *json;
    size_t           i, r, len, heap0, heap1, heap2;
    double           t0, t1, t2, parse, route, one;
    faas_error_t     err;
    faas_table_t    *table;
    faas_router_t   *router;
    char             msg[512];
    static size_t    sizes[] = { 100, 1000, 10000 };

    printf("%8s %8s %9s %10s %9s %10s %9s %10s\n", "routes", "JSON MB",
           "parse ms", "router ms", "both ms", "one ms", "table MB",
           "router MB");

    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        json = bench_table_json(sizes[i], &len);
        if (json == NULL) {
            return 1;
        }

        parse = 1e9;
        route = 1e9;
        one = 1e9;
        heap1 = 0;
        heap2 = 0;

        for (r = 0; r < BENCH_RUNS; r++) {

            /* the routes judged by a router thrown away, then routed */

            t0 = bench_now();

            if (faas_table_parse("bench", json, len, &table, &err)
                != FAAS_OK)
            {
                faas_error_format(&err, msg, sizeof(msg));
                fprintf(stderr, "table_bench: %s\n", msg);
                return 1;
            }

            t1 = bench_now();

            router = faas_router_create();

            if (router == NULL
                || faas_table_add_routes(table, router, "bench", &err)
                   != FAAS_OK
                || faas_router_compile(router, &err) != FAAS_OK)
            {
                fprintf(stderr, "table_bench: router failed\n");
                return 1;
            }

            t2 = bench_now();

            faas_router_free(router);
            faas_table_free(table);

            if (t1 - t0 + t2 - t1 < parse + route) {
                parse = t1 - t0;
                route = t2 - t1;
            }

            /* judged and routed with one router */

            heap0 = bench_heap();
            t0 = bench_now();

            if (faas_table_parse_router("bench", json, len, &table, &router,
                                        &err)
                != FAAS_OK)
            {
                faas_error_format(&err, msg, sizeof(msg));
                fprintf(stderr, "table_bench: %s\n", msg);
                return 1;
            }

            t1 = bench_now();

            if (t1 - t0 < one) {
                one = t1 - t0;
            }

            /* what each holds: the router freed first, then the table */

            heap1 = bench_heap();
            faas_router_free(router);
            heap2 = bench_heap();
            faas_table_free(table);

            heap1 -= heap0;
            heap2 -= heap0;
        }

        printf("%8zu %8.1f %9.1f %10.1f %9.1f %10.1f %9.1f %10.1f\n",
               sizes[i] * BENCH_ROUTES_PER_FUNCTION, len / 1048576.0,
               parse, route, parse + route, one, heap2 / 1048576.0,
               (heap1 - heap2) / 1048576.0);

        free(json);
    }

    printf("(parse: faas_table_parse(), every check, routes included, in a "
           "router thrown away;\n router: the router served from, built "
           "again; both: the two, as gateways did;\n one: "
           "faas_table_parse_router(), checked and routed with one router)"
           "\n");

    return 0;
}
