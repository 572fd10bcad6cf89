/*
 * Copyright (C) ngx_faas authors
 *
 * The routing table kept in Redis (docs/redis.md): its JSON codec and
 * checks.  Shared by the nginx module, faasd and faasctl, so that all
 * three judge a table alike.  Key names and Redis URLs are in
 * faas_redis.h, included here for the table's users.
 */

#ifndef FAAS_TABLE_H_INCLUDED
#define FAAS_TABLE_H_INCLUDED


#include "faas_common.h"
#include "faas_manifest.h"
#include "faas_redis.h"
#include "faas_release.h"
#include "faas_router.h"


#define FAAS_VERSION_NAME_MAX    32
#define FAAS_TABLE_MAX_SIZE      (64 * 1024 * 1024)

/* the limits of a table, beside FAAS_INSTANCES_MAX (faas_manifest.h) */
#define FAAS_TABLE_FUNCTIONS_MAX 100000
#define FAAS_TABLE_VERSIONS_MAX  16          /* of one function */
#define FAAS_TABLE_ROUTES_MAX    1024        /* of one function */
#define FAAS_TABLE_ENV_MAX       1024        /* of one version: as f.yml */
#define FAAS_TABLE_DIR_MAX       1024        /* bytes of a code directory */
#define FAAS_TABLE_MS_MAX        86400000    /* timeouts: one day */
#define FAAS_TABLE_GENERATION_MAX  9007199254740992ULL  /* 2^53, exact in
                                                          a JSON double */
#define FAAS_TABLE_EPOCH_MAX     32          /* characters of an epoch */


typedef struct {
    char              *path;
    unsigned           methods;         /* FAAS_METHOD_* */
} faas_table_route_t;


/* what a worker of one version needs */
typedef struct {
    char              *name;            /* "v3" */
    char              *dir;             /* absolute code directory */
    char              *handler;         /* "index.handler" */
    char              *initializer;     /* NULL when not set */
    char              *runtime;         /* NULL when not set */
    unsigned           timeout_ms;      /* 0: not set */
    unsigned           init_timeout_ms;
    unsigned           memory_mb;
    unsigned           concurrency;
    unsigned           instances;       /* 1..FAAS_INSTANCES_MAX */
    faas_kv_t         *env;
    size_t             nenv;
} faas_version_t;


typedef struct {
    char                *name;
    faas_version_t      *active;        /* one of versions[] */
    faas_version_t      *versions;
    size_t               nversions;
    faas_table_route_t  *routes;
    size_t               nroutes;
    faas_release_t      *release;       /* NULL: "active" serves all */
} faas_table_function_t;


/*
 * A table is known by its generation and its epoch.  The epoch is a
 * random name faasctl gives when it makes generation 1 of an empty Redis
 * (P:epoch), and every later table keeps: generations counted again after
 * Redis lost its data never pass for the tables gateways had before.
 * "" for a table without one.
 */

typedef struct {
    uint64_t                generation;
    char                    epoch[FAAS_TABLE_EPOCH_MAX + 1];
    faas_table_function_t  *functions;  /* sorted by name */
    size_t                  nfunctions;

    /*
     * An open-addressing index of functions by name (index + 1, 0 for an
     * empty slot), so that faas_table_find() costs the same at 100000
     * functions as at 10.  NULL in a table not made by faas_table_parse();
     * faas_table_find() searches those by bisection.
     */
    uint32_t               *by_name;
    uint32_t                by_name_mask;
} faas_table_t;


/*
 * Parses and checks a table (untrusted: it comes from Redis or from a
 * cache file).  Every check of docs/redis.md applies, routes included
 * (a router is built and thrown away).  "source" names the table in
 * errors (a key or a file): err->file points to it.  "json" need not be
 * NUL-terminated.  On failure returns FAAS_ERROR with err set (err may
 * be NULL); nothing is leaked.  Only faas_table_free() frees a table,
 * and it frees everything in it (one arena, and the release policies,
 * which hold compiled regexes of their own).
 */
int faas_table_parse(const char *source, const char *json, size_t len,
    faas_table_t **out, faas_error_t *err);

/*
 * The same, for a gateway: the router the routes were checked with is
 * handed back rather than thrown away, so that a table is routed with
 * one build.  It is compiled and holds what faas_table_add_routes()
 * would add: each route's data is its faas_table_function_t.  The
 * caller frees it with faas_router_free(), before the table, which it
 * borrows names from.  "router" may be NULL (faas_table_parse()); on
 * failure *router is NULL.
 */
int faas_table_parse_router(const char *source, const char *json,
    size_t len, faas_table_t **out, faas_router_t **router,
    faas_error_t *err);

/*
 * The JSON of a table, compact, malloc()ed (free() it); NULL when out of
 * memory.  It takes tables made in memory too (faasctl's): functions are
 * written in their order, NULL strings and 0 numbers are left out, and
 * what faas_table_parse() returns comes back equal.
 */
char *faas_table_serialize(const faas_table_t *table);

/* only for what faas_table_parse() returned; NULL is fine */
void faas_table_free(faas_table_t *table);

/* binary search: the functions must be sorted by name, as parsed ones are */
/*
 * Whether two tables, versions or route lists say the same (release
 * policies compared through their JSON); for round-trip checks.
 */
int faas_table_equal(const faas_table_t *a, const faas_table_t *b);
int faas_version_equal(const faas_version_t *a, const faas_version_t *b);
int faas_routes_equal(const faas_table_route_t *a,
    const faas_table_route_t *b, size_t n);

const faas_table_function_t *faas_table_find(const faas_table_t *table,
    const char *name);

/*
 * Adds the routes of the table's functions to a router, with the
 * function as each route's data.  Errors name "source" and the function:
 * 'faas:table:12: function "b": route "GET /x" conflicts with "GET /x"
 * of function "a"' (or "declared at f.yml:3:5" for a manifest's route).
 * The router keeps the functions' names for its messages: the table
 * must outlive it.
 */
int faas_table_add_routes(const faas_table_t *table, faas_router_t *router,
    const char *source, faas_error_t *err);

/*
 * One version record (P:version:FN:V): the version and its routes, with
 * the checks of a table (the routes are checked against each other).
 * The routes live in the version's allocation: faas_version_free() frees
 * both, and only what faas_version_parse() returned.
 */
int faas_version_parse(const char *source, const char *json, size_t len,
    faas_version_t **version, faas_table_route_t **routes, size_t *nroutes,
    faas_error_t *err);

/* malloc()ed, like faas_table_serialize() */
char *faas_version_serialize(const char *function, const faas_version_t *v,
    const faas_table_route_t *routes, size_t nroutes, uint64_t deployed_at);

void faas_version_free(faas_version_t *version, faas_table_route_t *routes,
    size_t nroutes);

/*
 * 1 when a function name / version name is well formed; the function
 * name's rule is f.yml's, so faas_function_name_valid() is declared in
 * faas_manifest.h (included above).
 */
int faas_version_name_valid(const char *name, size_t len);

/*
 * P:generation's value, as every reader takes it: 1 to 16 decimal
 * digits, 1 to FAAS_TABLE_GENERATION_MAX.  FAAS_OK, or FAAS_ERROR.
 */
int faas_table_generation_parse(const char *s, size_t len,
    uint64_t *generation);

/* 1 when an epoch is 1..FAAS_TABLE_EPOCH_MAX of [A-Za-z0-9] */
int faas_table_epoch_valid(const char *epoch, size_t len);


#endif /* FAAS_TABLE_H_INCLUDED */
