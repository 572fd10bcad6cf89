/*
 * Copyright (C) ngx_faas authors
 *
 * Microbenchmark of a Redis table's installation in a gateway: the time
 * to parse and check a table's JSON (faas_table_parse, which also builds
 * and throws away a router to judge the routes) and then build the
 * router that serves it, and the memory both hold, for tables of 1k, 10k
 * and 100k routes.  Not a test: numbers only.
 */


#include <malloc.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "faas_table.h"


#define BENCH_ROUTES_PER_FUNCTION  10


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
    size_t           i, len, heap0, heap1, heap2;
    double           t0, t1, t2;
    faas_error_t     err;
    faas_table_t    *table;
    faas_router_t   *router;
    char             msg[512];
    static size_t    sizes[] = { 100, 1000, 10000 };

    printf("%8s %10s %10s %11s %10s %10s\n", "routes", "JSON MB",
           "parse ms", "router ms", "table MB", "router MB");

    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        json = bench_table_json(sizes[i], &len);
        if (json == NULL) {
            return 1;
        }

        heap0 = bench_heap();
        t0 = bench_now();

        if (faas_table_parse("bench", json, len, &table, &err) != FAAS_OK) {
            faas_error_format(&err, msg, sizeof(msg));
            fprintf(stderr, "table_bench: %s\n", msg);
            return 1;
        }

        t1 = bench_now();
        heap1 = bench_heap();

        router = faas_router_create();

        if (router == NULL
            || faas_table_add_routes(table, router, "bench", &err) != FAAS_OK
            || faas_router_compile(router, &err) != FAAS_OK)
        {
            fprintf(stderr, "table_bench: router failed\n");
            return 1;
        }

        t2 = bench_now();
        heap2 = bench_heap();

        printf("%8zu %10.1f %10.1f %11.1f %10.1f %10.1f\n",
               sizes[i] * BENCH_ROUTES_PER_FUNCTION, len / 1048576.0,
               t1 - t0, t2 - t1, (heap1 - heap0) / 1048576.0,
               (heap2 - heap1) / 1048576.0);

        faas_router_free(router);
        faas_table_free(table);
        free(json);
    }

    printf("(parse: JSON parsed and every check, routes included; router: "
           "the one a gateway serves from)\n");

    return 0;
}
