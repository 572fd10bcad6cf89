/*
 * Copyright (C) ngx_faas authors
 *
 * A table being made from the one in force.  faasctl never edits a
 * parsed table: a view copies its array of functions and points into it,
 * and replaces only the entries that change.
 */


#include <stdlib.h>
#include <string.h>

#include "faasctl.h"


static int faasctl_view_grow(faasctl_view_t *v);


int
faasctl_view_init(faasctl_view_t *v, const faas_table_t *current,
    uint64_t generation)
{
    size_t  n;

    memset(v, 0, sizeof(faasctl_view_t));

    v->table.generation = generation;

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


void
faasctl_view_free(faasctl_view_t *v)
{
    size_t  i;

    for (i = 0; i < v->nallocs; i++) {
        free(v->allocs[i]);
    }

    free(v->allocs);
    free(v->table.functions);

    memset(v, 0, sizeof(faasctl_view_t));
}
