/*
 * Copyright (C) ngx_faas authors
 *
 * A table being made from the one in force.  faasctl never edits a
 * parsed table: a view copies its array of functions and points into it,
 * and replaces only the entries that change.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "faasctl.h"


static int faasctl_view_grow(faasctl_view_t *v);


int
faasctl_view_init(faasctl_view_t *v, const faas_table_t *current,
    uint64_t generation)
{
    size_t  n;

    memset(v, 0, sizeof(faasctl_view_t));

    v->table.generation = generation;

    if (current) {
        memcpy(v->table.epoch, current->epoch, sizeof(current->epoch));
    }

    n = current ? current->nfunctions : 0;
    v->cap = n + 8;

    v->table.functions = malloc(v->cap * sizeof(faas_table_function_t));
    if (v->table.functions == NULL) {
        faasctl_error("out of memory");
        return FAAS_ERROR;
    }

    if (n) {
        memcpy(v->table.functions, current->functions,
               n * sizeof(faas_table_function_t));
    }

    v->table.nfunctions = n;

    return FAAS_OK;
}


void *
faasctl_view_alloc(faasctl_view_t *v, size_t size)
{
    void   *p, **a;
    size_t  cap;

    if (v->nallocs == v->nallocs_cap) {
        cap = v->nallocs_cap ? v->nallocs_cap * 2 : 16;

        a = realloc(v->allocs, cap * sizeof(void *));
        if (a == NULL) {
            faasctl_error("out of memory");
            return NULL;
        }

        v->allocs = a;
        v->nallocs_cap = cap;
    }

    p = calloc(1, size ? size : 1);
    if (p == NULL) {
        faasctl_error("out of memory");
        return NULL;
    }

    v->allocs[v->nallocs++] = p;

    return p;
}


char *
faasctl_view_strdup(faasctl_view_t *v, const char *s)
{
    char    *p;
    size_t   len;

    len = strlen(s) + 1;

    p = faasctl_view_alloc(v, len);
    if (p) {
        memcpy(p, s, len);
    }

    return p;
}


faas_table_function_t *
faasctl_view_find(faasctl_view_t *v, const char *name)
{
    size_t  i;

    for (i = 0; i < v->table.nfunctions; i++) {
        if (strcmp(v->table.functions[i].name, name) == 0) {
            return &v->table.functions[i];
        }
    }

    return NULL;
}


static int
faasctl_view_grow(faasctl_view_t *v)
{
    size_t                  cap;
    faas_table_function_t  *f;

    if (v->table.nfunctions < v->cap) {
        return FAAS_OK;
    }

    cap = v->cap * 2;

    f = realloc(v->table.functions, cap * sizeof(faas_table_function_t));
    if (f == NULL) {
        faasctl_error("out of memory");
        return FAAS_ERROR;
    }

    v->table.functions = f;
    v->cap = cap;

    return FAAS_OK;
}


/* replaces the entry of the same name, or inserts it in name order */

int
faasctl_view_put(faasctl_view_t *v, const faas_table_function_t *f)
{
    size_t                  i;
    faas_table_function_t  *old;

    old = faasctl_view_find(v, f->name);
    if (old) {
        *old = *f;
        return FAAS_OK;
    }

    if (faasctl_view_grow(v) != FAAS_OK) {
        return FAAS_ERROR;
    }

    for (i = 0; i < v->table.nfunctions; i++) {
        if (strcmp(v->table.functions[i].name, f->name) > 0) {
            break;
        }
    }

    memmove(&v->table.functions[i + 1], &v->table.functions[i],
            (v->table.nfunctions - i) * sizeof(faas_table_function_t));

    v->table.functions[i] = *f;
    v->table.nfunctions++;

    return FAAS_OK;
}


/* FAAS_OK, or FAASCTL_UNCHANGED when it is not there */

int
faasctl_view_remove(faasctl_view_t *v, const char *name)
{
    size_t                  i;
    faas_table_function_t  *f;

    f = faasctl_view_find(v, name);
    if (f == NULL) {
        return FAASCTL_UNCHANGED;
    }

    i = f - v->table.functions;

    memmove(&v->table.functions[i], &v->table.functions[i + 1],
            (v->table.nfunctions - i - 1) * sizeof(faas_table_function_t));

    v->table.nfunctions--;

    return FAAS_OK;
}


/*
 * Gives an entry of the view new versions: its own but "drop1", "drop2"
 * and add's name, then "add" (when not NULL); the active one is named by
 * "active", else stays the one it was.
 */

int
faasctl_view_versions(faasctl_view_t *v, faas_table_function_t *f,
    const faas_version_t *add, const char *drop1, const char *drop2,
    const char *active)
{
    size_t           i, n;
    const char      *name;
    faas_version_t  *vs;

    vs = faasctl_view_alloc(v, (f->nversions + 1) * sizeof(faas_version_t));
    if (vs == NULL) {
        return FAAS_ERROR;
    }

    n = 0;

    for (i = 0; i < f->nversions; i++) {
        name = f->versions[i].name;

        if ((drop1 && strcmp(name, drop1) == 0)
            || (drop2 && strcmp(name, drop2) == 0)
            || (add && strcmp(name, add->name) == 0))
        {
            continue;
        }

        vs[n++] = f->versions[i];
    }

    if (add) {
        vs[n++] = *add;
    }

    if (active == NULL) {
        active = f->active ? f->active->name : NULL;
    }

    f->active = NULL;

    for (i = 0; active && i < n; i++) {
        if (strcmp(vs[i].name, active) == 0) {
            f->active = &vs[i];
            break;
        }
    }

    f->versions = vs;
    f->nversions = n;

    if (f->active == NULL) {
        faasctl_error("function \"%s\": version \"%s\" would be active and is "
                      "not kept", f->name, active ? active : "(none)");
        return FAAS_ERROR;
    }

    return FAAS_OK;
}


/*
 * The same, from a list: the entry keeps exactly these versions, in this
 * order, with "active" (one of them) active.
 */

int
faasctl_view_set_versions(faasctl_view_t *v, faas_table_function_t *f,
    const faas_version_t *const *list, size_t n, const char *active)
{
    size_t           i;
    faas_version_t  *vs;

    vs = faasctl_view_alloc(v, (n + 1) * sizeof(faas_version_t));
    if (vs == NULL) {
        return FAAS_ERROR;
    }

    f->active = NULL;

    for (i = 0; i < n; i++) {
        vs[i] = *list[i];

        if (strcmp(vs[i].name, active) == 0) {
            f->active = &vs[i];
        }
    }

    f->versions = vs;
    f->nversions = n;

    if (f->active == NULL) {
        faasctl_error("function \"%s\": version \"%s\" would be active and is "
                      "not kept", f->name, active);
        return FAAS_ERROR;
    }

    return FAAS_OK;
}


/*
 * Gives an entry of the view the policy "policy" (cJSON), judged by the
 * engine against the entry's versions, which must be set first.  The
 * message names the table being made, as the switch's check would.
 */

int
faasctl_view_release(faasctl_view_t *v, faas_table_function_t *f,
    const void *policy)
{
    char              path[FAAS_FUNCTION_NAME_MAX + 32];
    size_t            i, cap;
    const char      **names;
    faas_error_t      err;
    faas_release_t   *rel, **a;

    if (v->nreleases == v->nreleases_cap) {
        cap = v->nreleases_cap ? v->nreleases_cap * 2 : 4;

        a = realloc(v->releases, cap * sizeof(faas_release_t *));
        if (a == NULL) {
            faasctl_error("out of memory");
            return FAAS_ERROR;
        }

        v->releases = a;
        v->nreleases_cap = cap;
    }

    names = faasctl_view_alloc(v, (f->nversions + 1) * sizeof(char *));
    if (names == NULL) {
        return FAAS_ERROR;
    }

    for (i = 0; i < f->nversions; i++) {
        names[i] = f->versions[i].name;
    }

    snprintf(path, sizeof(path), "functions.%s.release", f->name);

    if (faas_release_from_json(policy, names, f->nversions, path, &rel, &err)
        != FAAS_OK)
    {
        err.file = v->source ? v->source : "the new table";
        faasctl_error_engine(&err);
        return FAAS_ERROR;
    }

    v->releases[v->nreleases++] = rel;
    f->release = rel;

    return FAAS_OK;
}


/*
 * The JSON of one entry of a table, as faas_table_serialize() writes it
 * (so that it reads back equal), malloc()ed; "null" for no entry.
 */

char *
faasctl_view_entry(const faas_table_function_t *f)
{
    char          *json, *s;
    cJSON         *root, *fns;
    faas_table_t   t;

    if (f == NULL) {
        s = strdup("null");
        goto done;
    }

    memset(&t, 0, sizeof(faas_table_t));

    t.generation = 1;
    t.functions = (faas_table_function_t *) f;
    t.nfunctions = 1;

    json = faas_table_serialize(&t);
    if (json == NULL) {
        s = NULL;
        goto done;
    }

    root = cJSON_Parse(json);
    free(json);

    fns = cJSON_GetObjectItemCaseSensitive(root, "functions");

    s = (fns && fns->child) ? cJSON_PrintUnformatted(fns->child) : NULL;

    cJSON_Delete(root);

done:

    if (s == NULL) {
        faasctl_error("out of memory");
    }

    return s;
}


/*
 * Asks the switch to LPUSH {"at": ms, "note": note, "entry": entry} onto
 * P:history:FN (when "note" is not NULL) and/or to LPOP it first.
 * "pushed", when not NULL, gets a malloc()ed copy of what is pushed.
 */

int
faasctl_view_history(faasctl_view_t *v, const char *function,
    const char *note, const char *entry, int pop, char **pushed)
{
    char            *s;
    cJSON           *o, *e;
    faasctl_hist_t  *h, **last;

    h = faasctl_view_alloc(v, sizeof(faasctl_hist_t));
    if (h == NULL) {
        return FAAS_ERROR;
    }

    h->function = function;
    h->pop = pop ? 1 : 0;

    if (note) {
        o = cJSON_CreateObject();
        e = cJSON_Parse(entry);

        if (o == NULL || e == NULL
            || cJSON_AddNumberToObject(o, "at", (double) faasctl_now_ms())
               == NULL
            || cJSON_AddStringToObject(o, "note", note) == NULL)
        {
            cJSON_Delete(o);
            cJSON_Delete(e);
            faasctl_error("out of memory");
            return FAAS_ERROR;
        }

        cJSON_AddItemToObject(o, "entry", e);

        s = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);

        if (s == NULL) {
            faasctl_error("out of memory");
            return FAAS_ERROR;
        }

        h->push = faasctl_view_strdup(v, s);

        if (pushed && h->push) {
            free(*pushed);
            *pushed = s;

        } else {
            free(s);
        }

        if (h->push == NULL) {
            return FAAS_ERROR;
        }
    }

    for (last = &v->hist; *last; last = &(*last)->next) { /* void */ }

    *last = h;

    return FAAS_OK;
}


void
faasctl_view_free(faasctl_view_t *v)
{
    size_t  i;

    for (i = 0; i < v->nallocs; i++) {
        free(v->allocs[i]);
    }

    for (i = 0; i < v->nreleases; i++) {
        faas_release_free(v->releases[i]);
    }

    free(v->releases);
    free(v->allocs);
    free(v->table.functions);

    memset(v, 0, sizeof(faasctl_view_t));
}
