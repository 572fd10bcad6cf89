/*
 * Copyright (C) ngx_faas authors
 *
 * BFF aggregation's JSON: backends' and the request's JSON parsed within
 * the run's budget and depth, then answers shaped (target, pick, omit,
 * rename) and merged or keyed into the response document, or the 502 of
 * a required call that failed.
 */


#include <stdio.h>
#include <string.h>

#include "faas_aggregate_int.h"


/* a dot path being followed by a shaping walk: which, and how far */

typedef struct {
    unsigned char       path;
    unsigned char       off;
} faas_agg_act_t;


/*
 * An object's members by name, so that merging or renaming in objects of
 * thousands of members (an answer may have them) is not quadratic.
 */

typedef struct {
    cJSON             **slots;          /* NULL: no index, walk instead */
    size_t              mask;
} faas_agg_index_t;


static int faas_agg_too_deep(const char *p, size_t len);

static int faas_agg_bad_gateway(faas_agg_run_t *run, size_t call,
    faas_agg_response_t *resp);
static int faas_agg_document(faas_agg_run_t *run, faas_agg_response_t *resp);
static int faas_agg_shape(faas_agg_run_t *run, size_t call, cJSON **value,
    const char **reason);
static cJSON *faas_agg_target(cJSON *root, const faas_agg_path_t *path);
static void faas_agg_pick(cJSON *node, const faas_agg_path_t *paths,
    const faas_agg_act_t *act, size_t n);
static void faas_agg_omit(cJSON *node, const faas_agg_path_t *paths,
    const faas_agg_act_t *act, size_t n);
static void faas_agg_rename(faas_arena_t *a, cJSON *node,
    const faas_agg_call_t *c, const faas_agg_act_t *act, size_t n);
static void faas_agg_dedup(faas_arena_t *a, cJSON *node, size_t n,
    size_t renamed);
static void faas_agg_merge(faas_arena_t *a, cJSON *dst, cJSON *src);
static void faas_agg_index(faas_arena_t *a, faas_agg_index_t *ix,
    cJSON *node, size_t n, unsigned renamed);
static cJSON **faas_agg_slot(faas_agg_index_t *ix, const char *key);
static int faas_agg_put(cJSON *root, const char *key, cJSON *value);
static int faas_agg_error_entry(cJSON **errors, const char *name,
    unsigned status, const char *reason);


/* JSON */

/*
 * JSON text into a tree in arena "a".  The depth is checked on the text
 * first, so that no parser or walk recurses deeper than that; "*pos" is
 * where invalid JSON went wrong.  Only white space may follow the value.
 *
 * A budget is kept short of its end while parsing, so that an answer too
 * big still leaves room to record why, and to answer without it.
 */

unsigned
faas_agg_parse(faas_arena_t *a, const char *text, size_t len, cJSON **out,
    size_t *pos)
{
    size_t         i, max, reserve;
    cJSON         *root;
    unsigned       over, grew;
    const char    *end;
    faas_arena_t  *prev;

    *out = NULL;
    *pos = 0;

    if (text == NULL || len == 0) {
        return FAAS_AGG_JSON_BAD;
    }

    if (faas_agg_too_deep(text, len)) {
        return FAAS_AGG_JSON_DEEP;
    }

    /* "over" tells this parse's failure from an earlier one's */

    over = a->over;
    a->over = 0;

    max = a->max;

    if (max) {
        reserve = (max / 4 < FAAS_AGG_RESERVE) ? max / 4 : FAAS_AGG_RESERVE;
        a->max = max - reserve;
    }

    prev = faas_json_arena(a);

    end = NULL;
    root = cJSON_ParseWithLengthOpts(text, len, &end, 0);

    faas_json_arena(prev);

    a->max = max;

    grew = a->over;
    a->over |= over;

    if (root == NULL) {
        if (grew) {
            return FAAS_AGG_JSON_BIG;
        }

        if (end != NULL && end >= text && end <= text + len) {
            *pos = end - text;
        }

        return FAAS_AGG_JSON_BAD;
    }

    for (i = end - text; i < len; i++) {
        if (text[i] != ' ' && text[i] != '\t' && text[i] != '\n'
            && text[i] != '\r')
        {
            *pos = i;
            return FAAS_AGG_JSON_BAD;
        }
    }

    *out = root;

    return FAAS_AGG_JSON_OK;
}


/*
 * Whether arrays and objects nest deeper than FAAS_AGG_DEPTH_MAX: exact
 * for valid JSON, which is all that reaches a walk, as the parser
 * refuses the rest.
 */

static int
faas_agg_too_deep(const char *p, size_t len)
{
    size_t    i, depth;
    unsigned  in_string;

    depth = 0;
    in_string = 0;

    for (i = 0; i < len; i++) {
        if (in_string) {
            if (p[i] == '\\') {
                i++;

            } else if (p[i] == '"') {
                in_string = 0;
            }

            continue;
        }

        switch (p[i]) {

        case '"':
            in_string = 1;
            break;

        case '[':
        case '{':
            if (++depth > FAAS_AGG_DEPTH_MAX) {
                return 1;
            }

            break;

        case ']':
        case '}':
            if (depth) {
                depth--;
            }

            break;
        }
    }

    return 0;
}


/* the answer */

int
faas_agg_response(faas_agg_run_t *run, faas_agg_response_t *resp)
{
    int            rc, bad;
    size_t         i;
    faas_arena_t  *prev;

    /*
     * Made once: shaping takes the answers apart, so that the document
     * costs no copy of them.
     */

    if (run->responded) {
        *resp = run->resp;
        return FAAS_OK;
    }

    if (run->response_failed) {
        return FAAS_ERROR;
    }

    memset(resp, 0, sizeof(faas_agg_response_t));

    bad = faas_agg_required_failed(run);

    for (i = 0; bad < 0 && i < run->agg->ncalls; i++) {
        if (run->agg->calls[i]->required
            && run->calls[i].state != FAAS_AGG_ANSWERED)
        {
            bad = (int) i;
        }
    }

    prev = faas_json_arena(run->arena);

    if (bad >= 0) {
        rc = faas_agg_bad_gateway(run, bad, resp);

    } else {
        rc = faas_agg_document(run, resp);
    }

    faas_json_arena(prev);

    if (rc != FAAS_OK) {
        run->response_failed = 1;
        memset(resp, 0, sizeof(faas_agg_response_t));
        return FAAS_ERROR;
    }

    run->resp = *resp;
    run->responded = 1;

    return FAAS_OK;
}


/* {"error":"call NAME failed: REASON","call":...,"status":...,...} */

static int
faas_agg_bad_gateway(faas_agg_run_t *run, size_t call,
    faas_agg_response_t *resp)
{
    char                    *text;
    size_t                   len;
    cJSON                   *root;
    const char              *reason;
    faas_agg_state_t        *st;
    const faas_agg_call_t   *c;

    st = &run->calls[call];
    c = run->agg->calls[call];

    reason = (st->state == FAAS_AGG_FAILED) ? st->reason : "not finished";

    len = sizeof("call  failed: ") + c->len + strlen(reason);

    text = faas_arena_alloc(run->arena, len);
    root = cJSON_CreateObject();

    if (text == NULL || root == NULL) {
        return FAAS_ERROR;
    }

    snprintf(text, len, "call %s failed: %s", c->name, reason);

    if (cJSON_AddStringToObject(root, "error", text) == NULL
        || cJSON_AddStringToObject(root, "call", c->name) == NULL
        || (st->state == FAAS_AGG_FAILED && st->status
            && cJSON_AddNumberToObject(root, "status", st->status) == NULL)
        || cJSON_AddStringToObject(root, "reason", reason) == NULL
        || (run->in.trace_id
            && cJSON_AddStringToObject(root, "trace_id", run->in.trace_id)
               == NULL))
    {
        return FAAS_ERROR;
    }

    resp->body = cJSON_PrintUnformatted(root);
    if (resp->body == NULL) {
        return FAAS_ERROR;
    }

    resp->len = strlen(resp->body);
    resp->status = 502;
    resp->complete = 0;

    return FAAS_OK;
}


/*
 * The document: each call's value, in the order of the declaration,
 * under its key or merged into the top; then "errors", when any call
 * failed.
 */

static int
faas_agg_document(faas_agg_run_t *run, faas_agg_response_t *resp)
{
    size_t                  i;
    cJSON                  *root, *errors, *value, *old;
    unsigned                status;
    const char             *reason;
    faas_agg_state_t       *st;
    const faas_agg_call_t  *c;

    root = cJSON_CreateObject();
    if (root == NULL) {
        return FAAS_ERROR;
    }

    errors = NULL;

    for (i = 0; i < run->agg->ncalls; i++) {
        st = &run->calls[i];
        c = run->agg->calls[i];

        value = NULL;
        reason = NULL;
        status = st->status;

        if (st->state == FAAS_AGG_ANSWERED) {
            value = st->result;

            if (c->output
                && faas_agg_shape(run, i, &value, &reason) != FAAS_OK)
            {
                return FAAS_ERROR;
            }

        } else if (st->state == FAAS_AGG_FAILED) {
            reason = st->reason;

        } else {
            reason = "not finished";
            status = 0;
        }

        if (reason
            && faas_agg_error_entry(&errors, c->name, status, reason)
               != FAAS_OK)
        {
            return FAAS_ERROR;
        }

        if (!c->output) {
            continue;
        }

        if (value == NULL) {
            value = cJSON_CreateNull();
            if (value == NULL) {
                return FAAS_ERROR;
            }
        }

        if (c->merge && cJSON_IsObject(value)) {
            faas_agg_merge(run->arena, root, value);
            continue;
        }

        if (faas_agg_put(root, c->key, value) != FAAS_OK) {
            return FAAS_ERROR;
        }
    }

    if (errors) {

        /* a merged answer's "errors" gives way to the answer's own */

        old = cJSON_GetObjectItemCaseSensitive(root, "errors");

        if (old) {
            cJSON_DetachItemViaPointer(root, old);
        }

        if (!cJSON_AddItemToObjectCS(root, "errors", errors)) {
            return FAAS_ERROR;
        }
    }

    resp->body = cJSON_PrintUnformatted(root);
    if (resp->body == NULL) {
        return FAAS_ERROR;
    }

    resp->len = strlen(resp->body);
    resp->status = 200;
    resp->complete = (errors == NULL);

    return FAAS_OK;
}


static int
faas_agg_error_entry(cJSON **errors, const char *name, unsigned status,
    const char *reason)
{
    cJSON  *e;

    if (*errors == NULL) {
        *errors = cJSON_CreateArray();
        if (*errors == NULL) {
            return FAAS_ERROR;
        }
    }

    e = cJSON_CreateObject();

    if (e == NULL
        || !cJSON_AddItemToArray(*errors, e)
        || !cJSON_AddItemToObjectCS(e, "call",
                                    cJSON_CreateStringReference(name))
        || (status
            && !cJSON_AddItemToObjectCS(e, "status",
                                        cJSON_CreateNumber(status)))
        || !cJSON_AddItemToObjectCS(e, "reason",
                                    cJSON_CreateStringReference(reason)))
    {
        return FAAS_ERROR;
    }

    return FAAS_OK;
}


/*
 * target, then pick, omit, rename; a value that is an array has them
 * applied to each of its objects.  A target that is not there leaves
 * null and a reason for "errors".
 */

static int
faas_agg_shape(faas_agg_run_t *run, size_t call, cJSON **value,
    const char **reason)
{
    char                   *buf;
    size_t                  i, len;
    cJSON                  *v;
    const faas_agg_call_t  *c;
    faas_agg_act_t          act[FAAS_AGG_PATHS_MAX];

    c = run->agg->calls[call];
    v = *value;

    if (c->target.n) {
        v = faas_agg_target(v, &c->target);

        if (v == NULL) {
            len = sizeof("target : no such field") + strlen(c->target.text);

            buf = faas_arena_alloc(run->arena, len);
            if (buf == NULL) {
                return FAAS_ERROR;
            }

            snprintf(buf, len, "target %s: no such field", c->target.text);

            *reason = buf;
            *value = NULL;

            return FAAS_OK;
        }
    }

    if (c->npick) {
        for (i = 0; i < c->npick; i++) {
            act[i].path = i;
            act[i].off = 0;
        }

        faas_agg_pick(v, c->pick, act, c->npick);
    }

    if (c->nomit) {
        for (i = 0; i < c->nomit; i++) {
            act[i].path = i;
            act[i].off = 0;
        }

        faas_agg_omit(v, c->omit, act, c->nomit);
    }

    if (c->nrenames) {
        for (i = 0; i < c->nrenames; i++) {
            act[i].path = i;
            act[i].off = 0;
        }

        faas_agg_rename(run->arena, v, c, act, c->nrenames);
    }

    *value = v;

    return FAAS_OK;
}


/* the node at "path", taken out of its tree; NULL when it is not there */

const cJSON *
faas_agg_target_find(cJSON *root, const faas_agg_path_t *path)
{
    size_t   i;
    cJSON   *node;

    node = root;

    for (i = 0; node && i < path->n; i++) {
        node = faas_agg_step(node, &path->segs[i]);
    }

    return node;
}


static cJSON *
faas_agg_target(cJSON *root, const faas_agg_path_t *path)
{
    size_t   i;
    cJSON   *node, *next;

    node = root;

    for (i = 0; i < path->n; i++) {
        next = faas_agg_step(node, &path->segs[i]);
        if (next == NULL) {
            return NULL;
        }

        if (i == path->n - 1) {
            return cJSON_DetachItemViaPointer(node, next);
        }

        node = next;
    }

    return root;
}


/* one step down: a member by its name, an element by its index */

cJSON *
faas_agg_step(cJSON *node, const faas_agg_seg_t *seg)
{
    if (cJSON_IsObject(node)) {
        return cJSON_GetObjectItemCaseSensitive(node, seg->name);
    }

    if (cJSON_IsArray(node) && seg->index >= 0) {
        return cJSON_GetArrayItem(node, (int) seg->index);
    }

    return NULL;
}


/*
 * The shaping walks follow several paths at once: act[] holds each
 * path's next step.  In an object, a step names a member.  In an array,
 * a step of digits names an element, and a step of a name is for each
 * element, so that "items.id" reaches the id of every item; such a
 * step goes down a level of the tree without being used, which bounds
 * the recursion by the tree's depth, not the path's.
 */

static void
faas_agg_pick(cJSON *node, const faas_agg_path_t *paths,
    const faas_agg_act_t *act, size_t n)
{
    long                   index;
    size_t                 k, m;
    cJSON                 *item, *next;
    unsigned               whole, hit, box;
    const faas_agg_seg_t  *seg;
    faas_agg_act_t         sub[FAAS_AGG_PATHS_MAX];

    if (cJSON_IsObject(node)) {
        for (item = node->child; item; item = next) {
            next = item->next;
            whole = 0;
            m = 0;

            for (k = 0; k < n; k++) {
                seg = &paths[act[k].path].segs[act[k].off];

                if (strcmp(seg->name, item->string) != 0) {
                    continue;
                }

                if (act[k].off + 1u == paths[act[k].path].n) {
                    whole = 1;
                    break;
                }

                sub[m].path = act[k].path;
                sub[m].off = act[k].off + 1;
                m++;
            }

            if (whole) {
                continue;
            }

            if (m && (cJSON_IsObject(item) || cJSON_IsArray(item))) {
                faas_agg_pick(item, paths, sub, m);
                continue;
            }

            cJSON_DetachItemViaPointer(node, item);
        }

        return;
    }

    if (!cJSON_IsArray(node)) {
        return;
    }

    for (item = node->child, index = 0; item; item = next, index++) {
        next = item->next;
        box = cJSON_IsObject(item) || cJSON_IsArray(item);
        whole = 0;
        hit = 0;
        m = 0;

        for (k = 0; k < n; k++) {
            seg = &paths[act[k].path].segs[act[k].off];

            if (seg->index < 0) {
                sub[m++] = act[k];
                continue;
            }

            if (seg->index != index) {
                continue;
            }

            hit = 1;

            if (act[k].off + 1u == paths[act[k].path].n) {
                whole = 1;
                break;
            }

            sub[m].path = act[k].path;
            sub[m].off = act[k].off + 1;
            m++;
        }

        if (whole) {
            continue;
        }

        if (box && m) {
            faas_agg_pick(item, paths, sub, m);
            continue;
        }

        /* an index not asked for; a path that goes on into a scalar */

        if (m == 0 || hit) {
            cJSON_DetachItemViaPointer(node, item);
        }
    }
}


static void
faas_agg_omit(cJSON *node, const faas_agg_path_t *paths,
    const faas_agg_act_t *act, size_t n)
{
    long                   index;
    size_t                 k, m;
    cJSON                 *item, *next;
    unsigned               whole, object;
    const faas_agg_seg_t  *seg;
    faas_agg_act_t         sub[FAAS_AGG_PATHS_MAX];

    object = cJSON_IsObject(node);

    if (!object && !cJSON_IsArray(node)) {
        return;
    }

    for (item = node->child, index = 0; item; item = next, index++) {
        next = item->next;
        whole = 0;
        m = 0;

        for (k = 0; k < n; k++) {
            seg = &paths[act[k].path].segs[act[k].off];

            if (!object && seg->index < 0) {
                sub[m++] = act[k];
                continue;
            }

            if (object ? strcmp(seg->name, item->string) != 0
                       : seg->index != index)
            {
                continue;
            }

            if (act[k].off + 1u == paths[act[k].path].n) {
                whole = 1;
                break;
            }

            sub[m].path = act[k].path;
            sub[m].off = act[k].off + 1;
            m++;
        }

        if (whole) {
            cJSON_DetachItemViaPointer(node, item);
            continue;
        }

        if (m && (cJSON_IsObject(item) || cJSON_IsArray(item))) {
            faas_agg_omit(item, paths, sub, m);
        }
    }
}


/*
 * A member renamed takes the place of one of that name already there,
 * once the object is done, so that "a: b" and "b: a" swap them.  The
 * renamed are marked with cJSON_StringIsConst: their names are the
 * declaration's.
 */

static void
faas_agg_rename(faas_arena_t *a, cJSON *node, const faas_agg_call_t *c,
    const faas_agg_act_t *act, size_t n)
{
    long                   index;
    size_t                 k, m, renamed;
    cJSON                 *item;
    unsigned               object;
    const char            *to;
    const faas_agg_seg_t  *seg;
    faas_agg_act_t         sub[FAAS_AGG_PATHS_MAX];

    object = cJSON_IsObject(node);

    if (!object && !cJSON_IsArray(node)) {
        return;
    }

    renamed = 0;

    for (item = node->child, index = 0; item; item = item->next, index++) {
        to = NULL;
        m = 0;

        for (k = 0; k < n; k++) {
            seg = &c->renames[act[k].path].segs[act[k].off];

            if (!object && seg->index < 0) {
                sub[m++] = act[k];
                continue;
            }

            if (object ? strcmp(seg->name, item->string) != 0
                       : seg->index != index)
            {
                continue;
            }

            if (act[k].off + 1u == c->renames[act[k].path].n) {

                /* an element has no name to change */

                if (object && to == NULL) {
                    to = c->rename_to[act[k].path];
                }

                continue;
            }

            sub[m].path = act[k].path;
            sub[m].off = act[k].off + 1;
            m++;
        }

        if (m && (cJSON_IsObject(item) || cJSON_IsArray(item))) {
            faas_agg_rename(a, item, c, sub, m);
        }

        if (to && strcmp(to, item->string) != 0) {
            item->string = (char *) to;
            item->type |= cJSON_StringIsConst;
            renamed++;
        }
    }

    if (renamed) {
        faas_agg_dedup(a, node, (size_t) index, renamed);
    }
}


/* the members not renamed that have the name of one renamed go */

static void
faas_agg_dedup(faas_arena_t *a, cJSON *node, size_t n, size_t renamed)
{
    cJSON             *item, *other, *next, **slot;
    faas_agg_index_t   ix;

    ix.slots = NULL;

    if (n * renamed > 4096) {
        faas_agg_index(a, &ix, node, renamed, 1);
    }

    if (ix.slots) {
        for (other = node->child; other; other = next) {
            next = other->next;

            if (other->type & cJSON_StringIsConst) {
                continue;
            }

            slot = faas_agg_slot(&ix, other->string);

            if (*slot) {
                cJSON_DetachItemViaPointer(node, other);
            }
        }

        return;
    }

    for (item = node->child; item; item = item->next) {
        if (!(item->type & cJSON_StringIsConst)) {
            continue;
        }

        for (other = node->child; other; other = next) {
            next = other->next;

            if (other != item && !(other->type & cJSON_StringIsConst)
                && strcmp(other->string, item->string) == 0)
            {
                cJSON_DetachItemViaPointer(node, other);
            }
        }
    }
}


/*
 * "src" into "dst": objects in both merge, anything else of "src" takes
 * the place of what "dst" has under its name; arrays are values, not
 * concatenated.  "src" is taken apart.  Only the members "dst" had are
 * looked for: what comes from "src" is added after them.
 */

static void
faas_agg_merge(faas_arena_t *a, cJSON *dst, cJSON *src)
{
    size_t             n, m;
    cJSON             *item, *old, *last, **slot;
    faas_agg_index_t   ix;

    n = 0;
    m = 0;

    for (item = dst->child; item; item = item->next) {
        n++;
    }

    for (item = src->child; item; item = item->next) {
        m++;
    }

    last = dst->child ? dst->child->prev : NULL;

    ix.slots = NULL;

    if (n * m > 4096) {
        faas_agg_index(a, &ix, dst, n, 0);
    }

    while ((item = src->child) != NULL) {
        cJSON_DetachItemViaPointer(src, item);

        slot = NULL;
        old = NULL;

        if (ix.slots) {
            slot = faas_agg_slot(&ix, item->string);
            old = *slot;

        } else if (last) {
            for (old = dst->child; old; old = old->next) {
                if (strcmp(old->string, item->string) == 0) {
                    break;
                }

                if (old == last) {
                    old = NULL;
                    break;
                }
            }
        }

        if (old == NULL) {

            /* appended with the name it has */

            cJSON_AddItemToArray(dst, item);
            continue;
        }

        if (cJSON_IsObject(old) && cJSON_IsObject(item)) {
            faas_agg_merge(a, old, item);
            continue;
        }

        if (old == last) {
            last = item;
        }

        cJSON_ReplaceItemViaPointer(dst, old, item);

        if (slot) {
            *slot = item;
        }
    }
}


/*
 * An index of room for "n" members of "node", the first of each name;
 * "renamed": of those marked renamed only.  No index (ix->slots NULL)
 * when there is no memory for one: the callers walk instead.
 */

static void
faas_agg_index(faas_arena_t *a, faas_agg_index_t *ix, cJSON *node,
    size_t n, unsigned renamed)
{
    size_t   size;
    cJSON   *item, **slot;

    ix->slots = NULL;

    for (size = 16; size < n + n / 2 + 1; size *= 2) {
        /* void */
    }

    ix->slots = faas_arena_alloc(a, size * sizeof(cJSON *));
    if (ix->slots == NULL) {
        return;
    }

    ix->mask = size - 1;

    for (item = node->child; item; item = item->next) {
        if (renamed && !(item->type & cJSON_StringIsConst)) {
            continue;
        }

        slot = faas_agg_slot(ix, item->string);

        if (*slot == NULL) {
            *slot = item;
        }
    }
}


/* the slot of a name, or the empty one where it would go (FNV-1a) */

static cJSON **
faas_agg_slot(faas_agg_index_t *ix, const char *key)
{
    size_t                i;
    uint64_t              h;
    const unsigned char  *p;

    h = 0xcbf29ce484222325ULL;

    for (p = (const unsigned char *) key; *p; p++) {
        h = (h ^ *p) * 0x100000001b3ULL;
    }

    for (i = h & ix->mask; ix->slots[i]; i = (i + 1) & ix->mask) {
        if (strcmp(ix->slots[i]->string, key) == 0) {
            break;
        }
    }

    return &ix->slots[i];
}


/* root[key] = value, in the place of one there, else at the end */

static int
faas_agg_put(cJSON *root, const char *key, cJSON *value)
{
    cJSON  *old;

    old = cJSON_GetObjectItemCaseSensitive(root, key);

    value->string = (char *) key;
    value->type |= cJSON_StringIsConst;

    if (old) {
        return cJSON_ReplaceItemViaPointer(root, old, value)
               ? FAAS_OK : FAAS_ERROR;
    }

    return cJSON_AddItemToArray(root, value) ? FAAS_OK : FAAS_ERROR;
}
