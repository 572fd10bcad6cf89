/*
 * Copyright (C) ngx_faas authors
 *
 * BFF aggregation's run: a request's state machine.  Which calls may
 * start (their dependencies answered), what each sends, how its answer is
 * judged (status, type, size, JSON), and its failure passed on to the
 * calls that wait for it.
 */


#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "faas_aggregate_int.h"


static void faas_agg_record(faas_agg_run_t *run, size_t call,
    unsigned status, const char *reason);
static void faas_agg_skip(faas_agg_run_t *run);
static void faas_agg_cut(char *s, size_t len);

static int faas_agg_json_type(const char *ct, size_t len, size_t *mlen);


/* a run */

faas_agg_run_t *
faas_agg_run_create(const faas_agg_t *agg, const faas_agg_input_t *in,
    faas_arena_t *arena)
{
    size_t           i, budget, body;
    faas_agg_run_t  *run;

    if (!agg->compiled) {
        return NULL;
    }

    if (arena->max == 0) {

        /*
         * A parsed answer takes several times its text (a node is 64
         * bytes, "[0,0,..." two bytes a node), and the answer's text is
         * printed once more: 8 times each call's max_size, the body's
         * likewise, and room for the rest.
         */

        budget = FAAS_AGG_BUDGET;

        for (i = 0; i < agg->ncalls; i++) {
            budget += 8 * agg->calls[i]->max_size;
        }

        body = in ? in->body_len : 0;
        budget += (body < SIZE_MAX / 16) ? 8 * body : SIZE_MAX / 2;

        arena->max = arena->total + budget;
    }

    run = faas_arena_alloc(arena, sizeof(faas_agg_run_t));
    if (run == NULL) {
        return NULL;
    }

    run->calls = faas_arena_alloc(arena,
                                  agg->ncalls * sizeof(faas_agg_state_t));
    if (run->calls == NULL) {
        return NULL;
    }

    run->agg = agg;
    run->arena = arena;

    if (in) {
        run->in = *in;
    }

    return run;
}


size_t
faas_agg_ready(faas_agg_run_t *run, size_t *out)
{
    size_t              i, n;
    const faas_agg_t   *agg;
    faas_agg_state_t   *st;

    agg = run->agg;
    n = 0;

    /* a call whose dependency failed has failed already (faas_agg_skip) */

    for (i = 0; i < agg->ncalls; i++) {
        st = &run->calls[i];

        if (st->state != FAAS_AGG_WAITING
            || (agg->calls[i]->deps & ~run->answered) != 0)
        {
            continue;
        }

        st->state = FAAS_AGG_STARTED;
        out[n++] = i;
    }

    return n;
}


int
faas_agg_request(faas_agg_run_t *run, size_t call, faas_agg_request_t *req)
{
    int                     rc;
    size_t                  k, n;
    cJSON                  *body;
    faas_arena_t           *prev;
    faas_agg_arg_t         *arg;
    faas_agg_str_t          path, query, value;
    faas_agg_state_t       *st;
    const faas_agg_call_t  *c;

    memset(req, 0, sizeof(faas_agg_request_t));

    if (call >= run->agg->ncalls) {
        return FAAS_ERROR;
    }

    st = &run->calls[call];

    if (st->state == FAAS_AGG_ANSWERED || st->state == FAAS_AGG_FAILED) {
        return FAAS_ERROR;
    }

    st->state = FAAS_AGG_STARTED;
    c = run->agg->calls[call];

    prev = faas_json_arena(run->arena);

    rc = FAAS_ERROR;

    req->method = c->method;

    query.data = "";
    query.len = 0;

    if (c->kind == FAAS_AGG_LOCATION) {
        if (faas_agg_render(run, call, &c->path, FAAS_AGG_IN_PATH, &path)
            != FAAS_OK
            || faas_agg_render(run, call, &c->query, FAAS_AGG_IN_QUERY,
                               &query)
               != FAAS_OK)
        {
            goto done;
        }

        req->path = path.data;
        req->path_len = path.len;
    }

    if (faas_agg_args(run, call, &query, req) != FAAS_OK) {
        goto done;
    }

    if (c->nheaders) {
        req->headers = faas_arena_alloc(run->arena,
                                        c->nheaders
                                        * sizeof(faas_agg_header_t));
        if (req->headers == NULL) {
            faas_agg_nomem(run, call);
            goto done;
        }
    }

    for (arg = c->headers, n = 0; arg; arg = arg->next, n++) {
        if (faas_agg_render(run, call, &arg->value, FAAS_AGG_IN_HEADER,
                            &value)
            != FAAS_OK)
        {
            goto done;
        }

        req->headers[n].name = arg->name;
        req->headers[n].len = arg->len;
        req->headers[n].value = value.data;
        req->headers[n].value_len = value.len;
    }

    req->nheaders = n;

    if (c->body) {
        k = 0;

        body = faas_agg_body_node(run, call, c->body, &k);
        if (body == NULL) {
            if (st->state != FAAS_AGG_FAILED) {
                faas_agg_nomem(run, call);
            }

            goto done;
        }

        req->body = cJSON_PrintUnformatted(body);
        if (req->body == NULL) {
            faas_agg_nomem(run, call);
            goto done;
        }

        req->body_len = strlen(req->body);
    }

    rc = FAAS_OK;

done:

    faas_json_arena(prev);

    if (rc != FAAS_OK) {
        memset(req, 0, sizeof(faas_agg_request_t));
    }

    return rc;
}


/* answers */

void
faas_agg_done(faas_agg_run_t *run, size_t call, unsigned status,
    const char *content_type, size_t ct_len, const char *body, size_t len)
{
    size_t                  pos, mlen;
    cJSON                  *result;
    faas_arena_t           *prev;
    faas_agg_state_t       *st;
    const faas_agg_call_t  *c;
    char                    got[FAAS_QUOTE_SIZE];

    if (call >= run->agg->ncalls) {
        return;
    }

    st = &run->calls[call];

    if (st->state == FAAS_AGG_ANSWERED || st->state == FAAS_AGG_FAILED) {
        return;
    }

    c = run->agg->calls[call];

    if (status < 200 || status > 299) {
        faas_agg_failed(run, call, status, "status %u", status);
        return;
    }

    if (len > c->max_size) {
        faas_agg_failed(run, call, status, "answer larger than max_size "
                        "(%zu bytes)", c->max_size);
        return;
    }

    if (status != 204 && len > 0) {
        if (content_type && ct_len
            && !faas_agg_json_type(content_type, ct_len, &mlen))
        {
            faas_quote(content_type, mlen, got, sizeof(got));
            faas_agg_failed(run, call, status, "content type %s, not JSON",
                            got);
            return;
        }

        switch (faas_agg_parse(run->arena, body, len, &result, &pos)) {

        case FAAS_AGG_JSON_OK:
            break;

        case FAAS_AGG_JSON_DEEP:
            faas_agg_failed(run, call, status, "JSON nested deeper than %d "
                            "levels", FAAS_AGG_DEPTH_MAX);
            return;

        case FAAS_AGG_JSON_BIG:
            faas_agg_failed(run, call, status, "answer too big to process");
            return;

        default:
            faas_agg_failed(run, call, status, "invalid JSON near byte %zu",
                            pos);
            return;
        }

    } else {
        prev = faas_json_arena(run->arena);
        result = cJSON_CreateNull();
        faas_json_arena(prev);

        if (result == NULL) {
            faas_agg_failed(run, call, status, "answer too big to process");
            return;
        }
    }

    /* a target that is not there fails the call, as a missing field does */

    if (c->target.n && faas_agg_target_find(result, &c->target) == NULL) {
        faas_agg_failed(run, call, status, "target %s: no such field",
                        c->target.text);
        return;
    }

    st->state = FAAS_AGG_ANSWERED;
    st->status = status;
    st->result = result;

    run->answered |= FAAS_AGG_BIT(call);
}


/*
 * application/json, application/...+json, text/json, whatever the
 * case, parameters aside; "*mlen": the media type's length, for a
 * message.  Nothing but white space is no type, as no header.
 */

static int
faas_agg_json_type(const char *ct, size_t len, size_t *mlen)
{
    size_t       n;
    const char  *semi;

    semi = memchr(ct, ';', len);
    n = semi ? (size_t) (semi - ct) : len;

    while (n && (ct[n - 1] == ' ' || ct[n - 1] == '\t')) {
        n--;
    }

    while (n && (ct[0] == ' ' || ct[0] == '\t')) {
        ct++;
        n--;
    }

    *mlen = n;

    if (n == 0 && semi == NULL) {
        return 1;
    }

    if (n == 16 && strncasecmp(ct, "application/json", 16) == 0) {
        return 1;
    }

    if (n == 9 && strncasecmp(ct, "text/json", 9) == 0) {
        return 1;
    }

    return n > 17 && strncasecmp(ct, "application/", 12) == 0
           && strncasecmp(ct + n - 5, "+json", 5) == 0;
}


void
faas_agg_fail(faas_agg_run_t *run, size_t call, unsigned status,
    const char *reason)
{
    size_t  len;
    char    buf[FAAS_AGG_REASON_MAX + 1];

    if (call >= run->agg->ncalls
        || run->calls[call].state == FAAS_AGG_ANSWERED
        || run->calls[call].state == FAAS_AGG_FAILED)
    {
        return;
    }

    if (reason == NULL) {
        reason = "failed";
    }

    len = strnlen(reason, sizeof(buf) - 1);

    memcpy(buf, reason, len);
    buf[len] = '\0';

    faas_agg_cut(buf, reason[len] ? len : 0);

    faas_agg_record(run, call, status, buf);
    faas_agg_skip(run);
}


/* the reason formatted, recorded, and the calls waiting for it failed */

void
faas_agg_failed(faas_agg_run_t *run, size_t call, unsigned status,
    const char *fmt, ...)
{
    int      n;
    va_list  args;
    char     buf[FAAS_AGG_REASON_MAX + 1];

    va_start(args, fmt);
    n = vsnprintf(buf, sizeof(buf), fmt, args);
    va_end(args);

    faas_agg_cut(buf, (n >= (int) sizeof(buf)) ? sizeof(buf) - 1 : 0);

    faas_agg_record(run, call, status, buf);
    faas_agg_skip(run);
}


static void
faas_agg_record(faas_agg_run_t *run, size_t call, unsigned status,
    const char *reason)
{
    faas_agg_state_t  *st;

    st = &run->calls[call];

    st->state = FAAS_AGG_FAILED;
    st->status = status;
    st->result = NULL;

    /* a reason that finds no room still says what it can */

    st->reason = faas_arena_strdup(run->arena, reason);
    if (st->reason == NULL) {
        st->reason = "failed (no memory left for the reason)";
    }

    run->failed |= FAAS_AGG_BIT(call);
}


void
faas_agg_nomem(faas_agg_run_t *run, size_t call)
{
    faas_agg_failed(run, call, 0, run->arena->over
                                  ? "over the aggregation's memory budget"
                                  : "out of memory");
}


/*
 * The calls that wait for a failed call fail too, without starting; in
 * dependency order, so that one pass reaches those that wait for them.
 */

static void
faas_agg_skip(faas_agg_run_t *run)
{
    size_t             k, i, j;
    uint64_t           bad;
    const faas_agg_t  *agg;
    char               buf[FAAS_AGG_REASON_MAX + 1];

    agg = run->agg;

    for (k = 0; k < agg->ncalls; k++) {
        i = agg->order[k];

        if (run->calls[i].state != FAAS_AGG_WAITING) {
            continue;
        }

        bad = agg->calls[i]->deps & run->failed;

        if (bad == 0) {
            continue;
        }

        for (j = 0; !(bad & FAAS_AGG_BIT(j)); j++) {
            /* void */
        }

        snprintf(buf, sizeof(buf), "depends on %s, which failed",
                 agg->calls[j]->name);

        faas_agg_record(run, i, 0, buf);
    }
}


/* a reason cut at "len" bytes (0: not cut) loses a split UTF-8 character */

static void
faas_agg_cut(char *s, size_t len)
{
    size_t         i, need;
    unsigned char  c;

    if (len == 0) {
        return;
    }

    i = len;

    while (i > 0 && ((unsigned char) s[i - 1] & 0xc0) == 0x80) {
        i--;
    }

    if (i == 0) {
        return;
    }

    c = s[i - 1];

    if (c < 0xc0) {
        return;
    }

    need = (c >= 0xf0) ? 4 : (c >= 0xe0) ? 3 : 2;

    if (len - (i - 1) < need) {
        s[i - 1] = '\0';
    }
}


int
faas_agg_finished(const faas_agg_run_t *run)
{
    size_t  i;

    for (i = 0; i < run->agg->ncalls; i++) {
        if (run->calls[i].state != FAAS_AGG_ANSWERED
            && run->calls[i].state != FAAS_AGG_FAILED)
        {
            return 0;
        }
    }

    return 1;
}


int
faas_agg_call_finished(const faas_agg_run_t *run, size_t call)
{
    return call < run->agg->ncalls
           && (run->calls[call].state == FAAS_AGG_ANSWERED
               || run->calls[call].state == FAAS_AGG_FAILED);
}


int
faas_agg_call_failed(const faas_agg_run_t *run, size_t call)
{
    return call < run->agg->ncalls
           && run->calls[call].state == FAAS_AGG_FAILED;
}


const char *
faas_agg_call_error(const faas_agg_run_t *run, size_t call, unsigned *status)
{
    if (status) {
        *status = 0;
    }

    if (!faas_agg_call_failed(run, call)) {
        return NULL;
    }

    if (status) {
        *status = run->calls[call].status;
    }

    return run->calls[call].reason;
}


int
faas_agg_required_failed(const faas_agg_run_t *run)
{
    size_t  i;

    for (i = 0; i < run->agg->ncalls; i++) {
        if (run->agg->calls[i]->required
            && run->calls[i].state == FAAS_AGG_FAILED)
        {
            return (int) i;
        }
    }

    return -1;
}
