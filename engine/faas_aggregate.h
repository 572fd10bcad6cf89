/*
 * Copyright (C) ngx_faas authors
 *
 * BFF aggregation: one request fans out to several calls (nginx
 * locations, functions) and answers one JSON document made of their
 * results.  This is the engine's half: the declaration (built from f.yml
 * or from nginx.conf through the same setters), its templates and
 * dependencies, and at request time the state of one aggregation: which
 * calls may start, what each sends, how their results are judged and
 * shaped into the answer.  The glue makes the calls and keeps the time.
 * See docs/aggregation.md.
 */

#ifndef FAAS_AGGREGATE_H_INCLUDED
#define FAAS_AGGREGATE_H_INCLUDED


#include "faas_common.h"


#define FAAS_AGG_CALLS_MAX        64            /* calls of one aggregation */
#define FAAS_AGG_NAME_MAX         64            /* of a call */
#define FAAS_AGG_HEADERS_MAX      32            /* forwarded, per call */
#define FAAS_AGG_TIMEOUT          3000          /* ms, the whole request */
#define FAAS_AGG_CALL_TIMEOUT     1000          /* ms, one call */
#define FAAS_AGG_MAX_SIZE         (256 * 1024)  /* a call's answer */
#define FAAS_AGG_MAX_SIZE_LIMIT   (64 * 1024 * 1024)
#define FAAS_AGG_DEPTH_MAX        64            /* of JSON from backends */

/* where a template hole takes its value from */
#define FAAS_AGG_SRC_PARAM        1             /* {params.id} */
#define FAAS_AGG_SRC_QUERY        2             /* {query.page} */
#define FAAS_AGG_SRC_HEADER       3             /* {header.x-user} */
#define FAAS_AGG_SRC_COOKIE       4             /* {cookie.session} */
#define FAAS_AGG_SRC_BODY         5             /* {body.items.0.id} */
#define FAAS_AGG_SRC_CALL         6             /* {user.address.city} */

/* what a call is sent to */
#define FAAS_AGG_LOCATION         1             /* a URI of this server */
#define FAAS_AGG_FUNCTION         2             /* a function, by name */


typedef struct faas_agg_s      faas_agg_t;
typedef struct faas_agg_run_s  faas_agg_run_t;


/*
 * The declaration.  Built with faas_agg_create(), then faas_agg_set()
 * for the aggregation's own keys and faas_agg_call_add() +
 * faas_agg_call_set() for each call's, all with text values (as YAML
 * scalars and nginx.conf arguments both are), then faas_agg_compile().
 * Keys, with their values:
 *
 *   aggregation:
 *     timeout          a duration: "500ms", "2s", "1m", or plain
 *                      milliseconds; the whole request
 *     forward_headers  request headers passed to every call, a list
 *                      ("a, b" or repeated); replaces the default list
 *                      (Authorization, Cookie, Accept-Language,
 *                      User-Agent).  Hop-by-hop headers are refused.
 *
 *   call:
 *     url              "/backend/users/{params.id}?full=1": a location
 *                      URI of this server, with holes in its path and
 *                      query
 *     function         a function's name: the call goes through the
 *                      gateway's own dispatch (and release policy); the
 *                      answer to what URI is the glue's
 *     method           GET (default; POST when a body is set), POST, PUT,
 *                      PATCH, DELETE
 *     query.NAME       a query argument, a template (text)
 *     header.NAME      a header, a template (text)
 *     body             JSON text with holes in its strings: a string that
 *                      is one hole takes the value with its JSON type;
 *                      "forward" sends the incoming request's body as is
 *     timeout          a duration, this call's (FAAS_AGG_CALL_TIMEOUT)
 *     required         "true"/"false" (also on/off, yes/no): a required
 *                      call failing fails the whole answer (502); an
 *                      optional one leaves null and an "errors" entry.
 *                      Calls are required by default.
 *     optional         the opposite of required
 *     max_size         a size: "64k", "1m", or bytes; the largest answer
 *                      accepted (FAAS_AGG_MAX_SIZE)
 *     target           a dot path: the answer is replaced by that field
 *     pick             dot paths to keep, a list ("a, b.c" or repeated)
 *     omit             dot paths to drop, a list
 *     rename.PATH      the field at PATH gets the value's name
 *     key              the member of the answer it goes under (its name
 *                      by default)
 *     merge            "true": deep-merged into the answer's top level
 *                      instead of under its key
 *     output           "false": used by other calls only, not in the
 *                      answer
 *
 * Holes are "{SOURCE.PATH[:TYPE]}": SOURCE is params, query, header,
 * cookie, body (the incoming JSON body) or a call's name, PATH dot
 * separated names and array indexes, TYPE one of string, number,
 * boolean, json to convert.  "{{" is a literal "{".  A hole naming a
 * call makes the call wait for it.
 *
 * Errors say what is wrong and with which key ("calls.orders.url: ...");
 * the caller adds the place (file:line) it knows.
 */
faas_agg_t *faas_agg_create(void);
int faas_agg_set(faas_agg_t *agg, const char *key, const char *value,
    faas_error_t *err);
/* returns the call's index, or -1 with err set (bad or repeated name) */
int faas_agg_call_add(faas_agg_t *agg, const char *name, faas_error_t *err);
int faas_agg_call_set(faas_agg_t *agg, int call, const char *key,
    const char *value, faas_error_t *err);
/*
 * Checks the whole: each call has either url or function, holes name
 * known sources and calls, no cycle among calls (the cycle is named);
 * works out the order.  The declaration is read-only afterwards and may
 * be shared by any number of runs.
 */
int faas_agg_compile(faas_agg_t *agg, faas_error_t *err);
void faas_agg_free(faas_agg_t *agg);

/* what the glue needs to know of the declaration */
size_t faas_agg_ncalls(const faas_agg_t *agg);
unsigned faas_agg_timeout(const faas_agg_t *agg);             /* ms */
size_t faas_agg_nforward(const faas_agg_t *agg);
const char *faas_agg_forward(const faas_agg_t *agg, size_t i);  /* name */

typedef struct {
    const char         *name;
    unsigned            kind;           /* FAAS_AGG_LOCATION, _FUNCTION */
    const char         *function;       /* FAAS_AGG_FUNCTION */
    unsigned            timeout_ms;
    size_t              max_size;
    unsigned            required:1;
    unsigned            forward_body:1;
} faas_agg_call_info_t;

void faas_agg_call_info(const faas_agg_t *agg, size_t call,
    faas_agg_call_info_t *info);


/*
 * One request.  The incoming request is read through "lookup" (params,
 * query, header, cookie, by name: the value as text, query values
 * decoded; FAAS_OK with *value and *len set, FAAS_ERROR when absent) and
 * "body" (its bytes; parsed as JSON the first time a hole needs it).
 */
typedef int (*faas_agg_lookup_pt)(void *data, unsigned source,
    const char *name, size_t len, const char **value, size_t *vlen);

typedef struct {
    faas_agg_lookup_pt  lookup;
    void               *data;
    const char         *body;
    size_t              body_len;
    const char         *body_error;     /* why "body" is NULL, or NULL */
    const char         *trace_id;       /* for the 502 answer, or NULL */
} faas_agg_input_t;

/*
 * Everything a run allocates comes from "arena" (the glue gives one that
 * takes its blocks from the request's pool), within a budget worked out
 * from the calls' max_size.  NULL when out of memory.
 */
faas_agg_run_t *faas_agg_run_create(const faas_agg_t *agg,
    const faas_agg_input_t *in, faas_arena_t *arena);

/*
 * The calls that may start now (not started, every call they depend on
 * answered), each returned once, into out[] (room for
 * faas_agg_ncalls()); returns how many.  A call whose dependency failed
 * fails without starting ("depends on user, which failed").
 */
size_t faas_agg_ready(faas_agg_run_t *run, size_t *out);

/* what a call sends, in the run's arena */
typedef struct {
    const char         *name;
    size_t              len;
    const char         *value;
    size_t              value_len;
} faas_agg_header_t;

typedef struct {
    unsigned            method;         /* FAAS_METHOD_* */
    const char         *path;           /* decoded, as a request's URI */
    size_t              path_len;
    const char         *args;           /* encoded, without "?"; may be "" */
    size_t              args_len;
    faas_agg_header_t  *headers;        /* the call's own */
    size_t              nheaders;
    const char         *body;           /* NULL: none; see forward_body */
    size_t              body_len;
} faas_agg_request_t;

/*
 * Fills req for a call that faas_agg_ready() gave.  FAAS_ERROR when a
 * hole has no value (a missing field, a value of a type the place does
 * not take, a path value with "/"): the call has then failed, with the
 * reason recorded, and is not to be made.
 */
int faas_agg_request(faas_agg_run_t *run, size_t call,
    faas_agg_request_t *req);

/*
 * A call's answer: its status, Content-Type (NULL when none) and body.
 * 2xx with JSON (or no Content-Type and a body that parses) is a result;
 * 204 and an empty 2xx body are null.  Anything else fails the call with
 * the reason ("status 503", "invalid JSON near byte 17", "content type
 * \"text/html\", not JSON", "answer too big to process" when past the
 * run's memory budget).
 */
void faas_agg_done(faas_agg_run_t *run, size_t call, unsigned status,
    const char *content_type, size_t ct_len, const char *body, size_t len);

/* a call that failed in the glue: timeout, too big, no route, ... */
void faas_agg_fail(faas_agg_run_t *run, size_t call, unsigned status,
    const char *reason);

/* 1 when no call is waiting for an answer or for its turn */
int faas_agg_finished(const faas_agg_run_t *run);

/* 1 when the call has its answer or has failed */
int faas_agg_call_finished(const faas_agg_run_t *run, size_t call);

/* 1 when the call has failed (also: skipped for a failed dependency) */
int faas_agg_call_failed(const faas_agg_run_t *run, size_t call);

/*
 * Why the call failed, for a log line, and its status (0 when none);
 * NULL when it has not failed.
 */
const char *faas_agg_call_error(const faas_agg_run_t *run, size_t call,
    unsigned *status);

/* the first required call that failed, or -1; the answer will be 502 */
int faas_agg_required_failed(const faas_agg_run_t *run);

/*
 * The answer, once faas_agg_finished() or faas_agg_required_failed():
 * status 200 with the shaped document, "complete" 0 when an optional
 * call failed (the document then has "errors"), or 502 with the failed
 * required call.  Calls not finished count as failed with "not
 * finished".  The body is in the arena.  FAAS_ERROR when out of memory
 * or over the budget.
 */
typedef struct {
    unsigned            status;
    unsigned            complete:1;
    const char         *body;
    size_t              len;
} faas_agg_response_t;

int faas_agg_response(faas_agg_run_t *run, faas_agg_response_t *resp);


#endif /* FAAS_AGGREGATE_H_INCLUDED */
