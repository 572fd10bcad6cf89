/*
 * Copyright (C) ngx_faas authors
 *
 * The f.yml manifest model (Midway Serverless format) and its loader.
 */

#ifndef FAAS_MANIFEST_H_INCLUDED
#define FAAS_MANIFEST_H_INCLUDED


#include "faas_common.h"
#include "faas_aggregate.h"


#define FAAS_FUNCTION_NAME_MAX   64
#define FAAS_INSTANCES_MAX       64
#define FAAS_MEMORY_MB_MAX       65536           /* memorySize */
#define FAAS_CONCURRENCY_MAX     1000
#define FAAS_MANIFEST_NOTES_MAX  32

#define FAAS_MANIFEST_MAX_SIZE   (1024 * 1024)   /* bytes of f.yml */
#define FAAS_FUNCTIONS_MAX       10000           /* in one manifest */
#define FAAS_EVENTS_MAX          1024            /* of one function */


typedef struct {
    char        *key;
    char        *value;
} faas_kv_t;


typedef struct {
    char        *path;          /* "/api/users/:id"; a catch-all when
                                   missing */
    unsigned     methods;       /* FAAS_METHOD_* set */
    unsigned     line;          /* where the event is declared */
    unsigned     column;
} faas_http_event_t;


typedef struct {
    char               *name;          /* key under "functions" */
    char               *handler;       /* "index.handler" by default;
                                          NULL for an aggregate */
    char               *initializer;   /* NULL when not set */
    char               *runtime;       /* from function, else provider */

    /* 0 means "not set" for the four below; callers apply defaults */
    unsigned            timeout_ms;        /* f.yml gives seconds */
    unsigned            init_timeout_ms;
    unsigned            memory_mb;
    unsigned            concurrency;

    unsigned            instances;     /* ngx_faas extension, 1 by default */

    faas_kv_t          *env;           /* provider's, then function's over */
    size_t              nenv;

    faas_http_event_t  *events;
    size_t              nevents;

    /*
     * ngx_faas extension: the calls the function is made of, compiled
     * (docs/aggregation.md); NULL for a function with a handler.  An
     * aggregate has no workers: the fields above that describe them are
     * read and checked, and not used.
     */
    faas_agg_t         *aggregate;

    unsigned            line;
    unsigned            column;

    /* where "handler" and "initializer" are; the function's when absent */
    unsigned            handler_line;
    unsigned            handler_column;
    unsigned            initializer_line;
    unsigned            initializer_column;
} faas_function_t;


typedef struct {
    char               *file;          /* the path it was loaded from */
    char               *dir;           /* its directory: the code root */
    char               *service;       /* service or service.name;
                                          NULL when absent */

    faas_function_t    *functions;
    size_t              nfunctions;

    /*
     * what was read and is not used, "file:line:column: key is ignored"
     * (the first FAAS_MANIFEST_NOTES_MAX), for a debug log
     */
    char              **notes;
    size_t              nnotes;
} faas_manifest_t;


/*
 * Looks up ${env.NAME}; returns NULL when unset, in which case the text
 * is left as it is (Midway does the same).  A NULL faas_getenv_pt given
 * to faas_manifest_parse() leaves every ${env.NAME} as it is.
 */
typedef const char *(*faas_getenv_pt)(const char *name, void *data);


/*
 * Parses a manifest held in memory.  "file" names it in errors and becomes
 * m->file.  On failure returns FAAS_ERROR with err set to
 * file:line:column and a message a person understands; nothing is leaked.
 */
int faas_manifest_parse(const char *file, const char *text, size_t len,
    faas_getenv_pt getenv_fn, void *getenv_data, faas_manifest_t **out,
    faas_error_t *err);

/* reads the file and parses it, with the process environment */
int faas_manifest_load(const char *path, faas_manifest_t **out,
    faas_error_t *err);

/* frees the manifest, its functions' aggregates included */
void faas_manifest_free(faas_manifest_t *m);

/* finds a function by name in a set of manifests; NULL when absent */
const faas_function_t *faas_manifest_find(faas_manifest_t *const *manifests,
    size_t n, const char *name, const faas_manifest_t **owner);

/*
 * Checks a set of manifests together: function names are unique across
 * all of them (a name is a socket's and, later, a Redis key's).  Reports
 * the second place with a reference to the first.  Routes are not
 * compared here: they only meet within one nginx server, where the
 * router (faas_router_add) is the one that judges them.
 */
int faas_manifests_check(faas_manifest_t *const *manifests, size_t n,
    faas_error_t *err);

/*
 * For faasd and faasctl, which route nothing: FAAS_ERROR when a route of
 * the manifest would fail nginx's configuration, with err as nginx
 * gives it (the route's place, the route it conflicts with).
 */
int faas_manifest_check_routes(const faas_manifest_t *m, faas_error_t *err);


/*
 * What can be checked of a function's code without running it: the file
 * of each handler and initializer exists, as the Node runtime looks it
 * up (runtime/node/lib/loader.js): "src/api.get" is DIR/src/api, else
 * DIR/src/api.js, .cjs or .mjs, a regular file (a link to one will do).
 * FAAS_ERROR with err at the key's place when none is.  A file that
 * cannot be looked at (EACCES, say) is not judged here: a worker's start
 * will tell.  Whether it exports that name needs the code run, and is
 * said when a worker starts.  Aggregates have no code: skipped.
 */
int faas_manifest_check_code(const faas_manifest_t *m, faas_error_t *err);

/*
 * The file of "file.export" under dir, into path: FAAS_OK when found,
 * FAAS_AGAIN when none of the names is a regular file, FAAS_ERROR when
 * one cannot be looked at (errno set) or the path is too long.
 */
int faas_code_file(const char *dir, const char *ref, char *path,
    size_t size);


/*
 * The rules of f.yml that Redis tables share (faas_table.c): a function
 * name is 1 to FAAS_FUNCTION_NAME_MAX of [A-Za-z0-9_-], not starting
 * with "-" (it names sockets and Redis keys).  A handler or initializer
 * is "file.export": a relative file path that stays under the code
 * directory, then a JavaScript name; when it is not, faas_handler_check()
 * returns FAAS_ERROR with what is wrong in msg (the value quoted, no
 * place).
 */
int faas_function_name_valid(const char *name, size_t len);
int faas_handler_check(const char *handler, size_t len, char *msg,
    size_t size);


#endif /* FAAS_MANIFEST_H_INCLUDED */
