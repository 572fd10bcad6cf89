/*
 * Copyright (C) ngx_faas authors
 *
 * Microbenchmark of the router: build time, memory and lookup time for
 * 1k, 10k and 100k routes of API-like shapes.  Not a test: numbers only.
 *
 *   gcc -O2 -Iengine -o /tmp/router_bench bench/router_bench.c \
 *       engine/faas_common.c engine/faas_router.c && /tmp/router_bench
 */


#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "faas_router.h"


#define BENCH_PATHS     4096            /* a power of two */
#define BENCH_LOOKUPS   (512 * 1024)    /* per round */
#define BENCH_ROUNDS    8
#define BENCH_SHAPES    10              /* routes per service */


/* each service declares ten routes: five static, four with ":param", one
   wildcard */

static const char  *bench_shapes[BENCH_SHAPES] = {
    "/api/v1/svc%u/health",
    "/api/v1/svc%u/status",
    "/api/v1/svc%u/metrics",
    "/api/v1/svc%u/config/current",
    "/api/v2/svc%u/docs/index",
    "/api/v1/svc%u/items/:id",
    "/api/v1/svc%u/items/:id/comments/:cid",
    "/api/v1/svc%u/users/:uid/profile",
    "/api/v1/svc%u/orders/:oid",
    "/static/svc%u/*",
};


typedef struct {
    const char  *name;
    char        *paths[BENCH_PATHS];
    size_t       lens[BENCH_PATHS];
} bench_set_t;


static double
bench_now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return ts.tv_sec * 1e9 + ts.tv_nsec;
}


static uint32_t
bench_random(void)
{
    static uint32_t  x = 2463534242u;

    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;

    return x;
}


static void
bench_fill(bench_set_t *set, unsigned services, const char *kind)
{
    size_t    i;
    unsigned  s, n;
    char      buf[256];

    for (i = 0; i < BENCH_PATHS; i++) {
        s = bench_random() % services;
        n = bench_random() % 1000000;

        if (strcmp(kind, "static") == 0) {
            snprintf(buf, sizeof(buf), (n & 1) ? "/api/v1/svc%u/health"
                                               : "/api/v1/svc%u/config/current",
                     s);

        } else if (strcmp(kind, ":param") == 0) {
            if (n & 1) {
                snprintf(buf, sizeof(buf), "/api/v1/svc%u/items/%u", s, n);

            } else {
                snprintf(buf, sizeof(buf),
                         "/api/v1/svc%u/items/%u/comments/%u", s, n, n / 3);
            }

        } else if (strcmp(kind, "wildcard") == 0) {
            snprintf(buf, sizeof(buf), "/static/svc%u/js/app.%u.js", s, n);

        } else {
            snprintf(buf, sizeof(buf), "/api/v1/svc%u/nothing/%u", s, n);
        }

        free(set->paths[i]);
        set->paths[i] = strdup(buf);
        set->lens[i] = strlen(buf);
    }

    set->name = kind;
}


/*
 * Mean ns per lookup, the best of BENCH_ROUNDS rounds, so that another
 * process on the machine disturbs the figure less; "sink" keeps the
 * results alive.
 */

static double
bench_lookups(const faas_router_t *router, const bench_set_t *set,
    int want, uintptr_t *sink)
{
    int            rc;
    size_t         i, k, round;
    double         start, ns, best;
    faas_match_t   m;

    /* warm up, and check that the set finds what it should */
    for (i = 0; i < BENCH_PATHS; i++) {
        rc = faas_router_match(router, FAAS_METHOD_GET, set->paths[i],
                               set->lens[i], &m);
        if (rc != want) {
            fprintf(stderr, "router_bench: \"%s\" gave %d, want %d\n",
                    set->paths[i], rc, want);
            exit(1);
        }
    }

    best = 0;

    for (round = 0; round < BENCH_ROUNDS; round++) {
        start = bench_now();

        for (i = 0; i < BENCH_LOOKUPS; i++) {
            k = i & (BENCH_PATHS - 1);
            rc = faas_router_match(router, FAAS_METHOD_GET, set->paths[k],
                                   set->lens[k], &m);
            *sink += (uintptr_t) rc + (uintptr_t) m.data + m.nparams;
        }

        ns = (bench_now() - start) / BENCH_LOOKUPS;

        if (round == 0 || ns < best) {
            best = ns;
        }
    }

    return best;
}


int
main(void)
{
    size_t          i, t, s, nroutes;
    double          start, build;
    unsigned        services;
    uintptr_t       sink;
    faas_error_t    err;
    faas_router_t  *router;
    char            pattern[256];
    static const size_t  sizes[] = { 1000, 10000, 100000 };
    static bench_set_t   sets[4];
    static const char   *kinds[] = { "static", ":param", "wildcard", "404" };
    static const int     want[] = { FAAS_MATCH_OK, FAAS_MATCH_OK,
                                    FAAS_MATCH_OK, FAAS_MATCH_NOT_FOUND };

    sink = 0;

    printf("%8s %10s %10s %10s %10s %10s %10s\n", "routes", "build ms",
           "memory MB", "static ns", ":param ns", "wild ns", "404 ns");

    for (t = 0; t < sizeof(sizes) / sizeof(sizes[0]); t++) {
        nroutes = sizes[t];
        services = (unsigned) (nroutes / BENCH_SHAPES);

        start = bench_now();

        router = faas_router_create();
        if (router == NULL) {
            return 1;
        }

        for (s = 0; s < services; s++) {
            for (i = 0; i < BENCH_SHAPES; i++) {
                snprintf(pattern, sizeof(pattern), bench_shapes[i],
                         (unsigned) s);

                if (faas_router_add(router, pattern, FAAS_METHODS_ANY,
                                    (void *) (uintptr_t) (s * 16 + i + 1),
                                    "bench", 1, 1, &err)
                    != FAAS_OK)
                {
                    fprintf(stderr, "router_bench: %s\n", err.msg);
                    return 1;
                }
            }
        }

        if (faas_router_compile(router, &err) != FAAS_OK) {
            fprintf(stderr, "router_bench: %s\n", err.msg);
            return 1;
        }

        build = (bench_now() - start) / 1e6;

        printf("%8zu %10.1f %10.2f", faas_router_count(router), build,
               faas_router_memory(router) / (1024.0 * 1024.0));

        for (i = 0; i < 4; i++) {
            bench_fill(&sets[i], services, kinds[i]);
            printf(" %10.1f", bench_lookups(router, &sets[i], want[i],
                                            &sink));
        }

        printf("\n");

        faas_router_free(router);
    }

    for (i = 0; i < 4; i++) {
        for (s = 0; s < BENCH_PATHS; s++) {
            free(sets[i].paths[s]);
        }
    }

    /* printed so that no lookup can be optimised away */
    printf("(ns: mean of %d lookups, best of %d rounds; checksum %lx)\n",
           BENCH_LOOKUPS, BENCH_ROUNDS, (unsigned long) (sink & 0xffff));

    return 0;
}
