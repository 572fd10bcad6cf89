/*
 * Copyright (C) ngx_faas authors
 *
 * BFF aggregation's insides, shared by its parts:
 *
 *   faas_aggregate.c           the declaration: setters and compiling
 *   faas_aggregate_template.c  the template and path language
 *   faas_aggregate_run.c       a run: which calls start, their answers
 *   faas_aggregate_json.c      JSON parsed within budget, then shaped
 *
 * The declaration lives in an arena of its own (malloc()) and is
 * read-only once compiled; a run lives wholly in the caller's arena,
 * cJSON's trees included (faas_json_arena()), within a budget made of
 * what its calls may answer, so that a request's memory is its pool's
 * and bounded.  JSON from backends and from the request is checked for
 * depth before it is parsed: the walks that recurse (shaping, merging,
 * rendering a body, cJSON's printing) recurse no deeper than
 * FAAS_AGG_DEPTH_MAX plus a few levels.
 */

#ifndef FAAS_AGGREGATE_INT_H_INCLUDED
#define FAAS_AGGREGATE_INT_H_INCLUDED


#include <cjson/cJSON.h>

#include "faas_aggregate.h"
#include "faas_json.h"


#define FAAS_AGG_DAY           (24 * 60 * 60 * 1000)
#define FAAS_AGG_KEY_MAX       128          /* of a member's name */
#define FAAS_AGG_ARG_MAX       128          /* of a query or header name */
#define FAAS_AGG_PATHS_MAX     64           /* pick, omit, rename: each */
#define FAAS_AGG_REASON_MAX    200          /* of a failed call's reason */
#define FAAS_AGG_WHERE_SIZE    128          /* "calls.NAME.KEY" */
#define FAAS_AGG_BUDGET        (1024 * 1024)
#define FAAS_AGG_RESERVE       (256 * 1024) /* of it, kept from parsing */
#define FAAS_AGG_HOLE_SHOWN    80           /* of a hole, in a message */

/* where a template's text goes: what its holes may hold, and how */
#define FAAS_AGG_IN_PATH       1            /* a url's path */
#define FAAS_AGG_IN_QUERY      2            /* a url's query: holes encoded */
#define FAAS_AGG_IN_ARG        3            /* query.NAME, encoded later */
#define FAAS_AGG_IN_HEADER     4
#define FAAS_AGG_IN_BODY       5            /* a string of a body */

/* a call in a run */
#define FAAS_AGG_WAITING       0
#define FAAS_AGG_STARTED       1
#define FAAS_AGG_ANSWERED      2
#define FAAS_AGG_FAILED        3

/* what faas_agg_parse() found */
#define FAAS_AGG_JSON_OK       0
#define FAAS_AGG_JSON_BAD      1
#define FAAS_AGG_JSON_DEEP     2
#define FAAS_AGG_JSON_BIG      3            /* over the arena's budget */

#define FAAS_AGG_BIT(i)        ((uint64_t) 1 << (i))


/* a step of a dot path: a member's name, or digits, also an index */

typedef struct {
    const char         *name;
    size_t              len;
    long                index;          /* -1: not digits */
} faas_agg_seg_t;


typedef struct {
    faas_agg_seg_t     *segs;
    size_t              n;              /* 0: no path */
    const char         *text;           /* as written, for messages */
} faas_agg_path_t;


/* a template is text and holes, in order */

typedef struct {
    unsigned            source;         /* FAAS_AGG_SRC_*, 0: text */
    unsigned            cast;           /* FAAS_AGG_CAST_*, 0: none */
    size_t              call;           /* FAAS_AGG_SRC_CALL, compiled */
    const char         *text;           /* text; a hole as written */
    size_t              len;
    const char         *name;           /* a call's, a request value's */
    size_t              name_len;
    faas_agg_path_t     path;           /* below the body or an answer */
} faas_agg_part_t;


typedef struct {
    faas_agg_part_t    *parts;
    size_t              n;
    const char         *where;          /* "calls.user.url" */
} faas_agg_tmpl_t;


typedef struct faas_agg_arg_s  faas_agg_arg_t;

struct faas_agg_arg_s {                 /* query.NAME, header.NAME */
    faas_agg_arg_t     *next;
    const char         *name;
    size_t              len;
    faas_agg_tmpl_t     value;
};


typedef struct {
    const char         *name;
    size_t              len;
    unsigned            kind;           /* 0 until url or function */
    const char         *function;
    unsigned            method;         /* 0: by the body, at compile */
    unsigned            set;            /* FAAS_AGG_K_*: given */
    faas_agg_tmpl_t     path;           /* the url's */
    faas_agg_tmpl_t     query;          /* the url's, after "?" */
    faas_agg_arg_t     *args;
    faas_agg_arg_t    **args_last;
    faas_agg_arg_t     *headers;
    faas_agg_arg_t    **headers_last;
    size_t              nheaders;
    cJSON              *body;           /* the template, NULL: none */
    faas_agg_tmpl_t    *strings;        /* the body's, in a walk's order */
    size_t              nstrings;
    unsigned            timeout;        /* ms, 0: the default */
    size_t              max_size;
    faas_agg_path_t     target;
    faas_agg_path_t    *pick;
    size_t              npick;
    faas_agg_path_t    *omit;
    size_t              nomit;
    faas_agg_path_t    *renames;
    const char        **rename_to;
    size_t              nrenames;
    const char         *key;
    uint64_t            deps;           /* bit i: waits for call i */
    unsigned            required:1;
    unsigned            forward_body:1;
    unsigned            merge:1;
    unsigned            output:1;
} faas_agg_call_t;


struct faas_agg_s {
    faas_arena_t        arena;
    faas_agg_call_t    *calls[FAAS_AGG_CALLS_MAX];
    size_t              ncalls;
    size_t              order[FAAS_AGG_CALLS_MAX];  /* dependencies first */
    unsigned            timeout;
    const char         *forward[FAAS_AGG_HEADERS_MAX];
    size_t              nforward;
    unsigned            timeout_set:1;
    unsigned            forward_set:1;
    unsigned            compiled:1;
};


typedef struct {
    unsigned            state;          /* FAAS_AGG_WAITING ... */
    unsigned            status;
    cJSON              *result;
    const char         *reason;
} faas_agg_state_t;


struct faas_agg_run_s {
    const faas_agg_t   *agg;
    faas_agg_input_t    in;
    faas_arena_t       *arena;
    faas_agg_state_t   *calls;
    uint64_t            answered;       /* bit i: call i answered */
    uint64_t            failed;
    cJSON              *body;           /* the request's, once read */
    faas_agg_response_t resp;
    unsigned            body_read:1;
    unsigned            responded:1;
    unsigned            response_failed:1;
};


typedef struct {
    const char         *data;
    size_t              len;
} faas_agg_str_t;


/* the sources of holes, FAAS_AGG_SRC_* - 1, and what a message calls them */

typedef struct {
    const char         *name;
    size_t              len;
    const char         *what;
} faas_agg_source_t;

#define FAAS_AGG_NSOURCES      FAAS_AGG_SRC_BODY


extern const faas_agg_source_t  faas_agg_sources[FAAS_AGG_NSOURCES];


/* faas_aggregate.c */

int faas_agg_error(faas_error_t *err, const char *where,
    const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;


/* faas_aggregate_template.c */

int faas_agg_tmpl_parse(faas_agg_t *agg, faas_agg_tmpl_t *t,
    const char *s, size_t len, const char *where, faas_error_t *err);
const char *faas_agg_path_parse(faas_arena_t *a,
    faas_agg_path_t *path, const char *s, size_t len);
int faas_agg_body_strings(faas_agg_t *agg, const cJSON *node,
    faas_agg_tmpl_t *strings, size_t *n, const char *where,
    faas_error_t *err);
int faas_agg_render(faas_agg_run_t *run, size_t call,
    const faas_agg_tmpl_t *t, unsigned in, faas_agg_str_t *out);
cJSON *faas_agg_body_node(faas_agg_run_t *run, size_t call,
    const cJSON *t, size_t *k);
int faas_agg_args(faas_agg_run_t *run, size_t call,
    faas_agg_str_t *query, faas_agg_request_t *req);


/* faas_aggregate_run.c */

void faas_agg_failed(faas_agg_run_t *run, size_t call,
    unsigned status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
void faas_agg_nomem(faas_agg_run_t *run, size_t call);


/* faas_aggregate_json.c */

unsigned faas_agg_parse(faas_arena_t *a, const char *text,
    size_t len, cJSON **out, size_t *pos);
cJSON *faas_agg_step(cJSON *node, const faas_agg_seg_t *seg);
const cJSON *faas_agg_target_find(cJSON *root,
    const faas_agg_path_t *path);


#endif /* FAAS_AGGREGATE_INT_H_INCLUDED */
