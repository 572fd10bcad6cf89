/*
 * Copyright (C) ngx_faas authors
 */


#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faas_json.h"


static void *faas_json_malloc(size_t size);
static void faas_json_free(void *p);


/* the arena cJSON allocates from, NULL: malloc() */

static faas_arena_t  *faas_json_current;
static unsigned       faas_json_hooked;


size_t
faas_json_key(faas_json_t *j, const char *key)
{
    size_t  saved;

    saved = j->depth;

    if (saved < FAAS_JSON_DEPTH) {
        j->frames[saved].key = key;
        j->depth++;
    }

    return saved;
}


size_t
faas_json_index(faas_json_t *j, size_t index)
{
    size_t  saved;

    saved = j->depth;

    if (saved < FAAS_JSON_DEPTH) {
        j->frames[saved].key = NULL;
        j->frames[saved].index = index;
        j->depth++;
    }

    return saved;
}


void
faas_json_pop(faas_json_t *j, size_t depth)
{
    j->depth = depth;
}


int
faas_json_fail(faas_json_t *j, const char *fmt, ...)
{
    size_t              i, n;
    va_list             args;
    faas_json_frame_t  *f;
    char                path[FAAS_JSON_PREFIX_MAX
                             + FAAS_JSON_DEPTH * (FAAS_QUOTE_MAX + 8)];
    char                msg[256];

    n = 0;

    if (j->prefix != NULL) {
        n = j->prefix_len;
        memcpy(path, j->prefix, n);
    }

    for (i = 0; i < j->depth; i++) {
        f = &j->frames[i];

        if (f->key == NULL) {
            n += snprintf(path + n, sizeof(path) - n, "[%zu]", f->index);
            continue;
        }

        if (i > 0 || j->prefix != NULL) {
            path[n++] = '.';
        }

        /* keys come from the JSON: shortened, control bytes as "?" */

        n += faas_quote_key(f->key, strnlen(f->key, FAAS_QUOTE_MAX + 1),
                            path + n);
    }

    path[n] = '\0';

    va_start(args, fmt);
    vsnprintf(msg, sizeof(msg), fmt, args);
    va_end(args);

    faas_error_set(j->err, j->source, 0, 0, "%s%s%s", path,
                   n ? ": " : "", msg);

    return FAAS_ERROR;
}


int
faas_json_members(faas_json_t *j, cJSON *node, const char **names,
    cJSON **found, int strict)
{
    size_t   i;
    cJSON   *item;
    char     got[FAAS_QUOTE_SIZE];

    for (i = 0; names[i]; i++) {
        found[i] = NULL;
    }

    /* cJSON keeps both of a pair, and readers could see either */

    cJSON_ArrayForEach(item, node) {
        for (i = 0; names[i]; i++) {
            if (strcmp(item->string, names[i]) != 0) {
                continue;
            }

            if (found[i] != NULL) {
                return faas_json_fail(j, "\"%s\" is there twice", names[i]);
            }

            found[i] = item;
            break;
        }

        if (strict && names[i] == NULL) {
            faas_quote(item->string, strlen(item->string), got, sizeof(got));
            return faas_json_fail(j, "unknown member %s", got);
        }
    }

    return FAAS_OK;
}


int
faas_json_is_null(const cJSON *node)
{
    return node == NULL || cJSON_IsNull(node);
}


const char *
faas_json_describe(const cJSON *node, char *buf, size_t size)
{
    double  d;

    if (node == NULL || cJSON_IsNull(node)) {
        return "null";
    }

    if (cJSON_IsTrue(node)) {
        return "true";
    }

    if (cJSON_IsFalse(node)) {
        return "false";
    }

    if (cJSON_IsObject(node)) {
        return "an object";
    }

    if (cJSON_IsArray(node)) {
        return "an array";
    }

    if (cJSON_IsString(node)) {
        faas_quote(node->valuestring, strlen(node->valuestring), buf, size);
        return buf;
    }

    if (cJSON_IsNumber(node)) {
        d = node->valuedouble;

        /* the bounds first, so that the cast is defined */

        if (d > -1e15 && d < 1e15 && d == (double) (long long) d) {
            snprintf(buf, size, "%lld", (long long) d);

        } else {
            snprintf(buf, size, "%.17g", d);
        }

        return buf;
    }

    return "a value";
}


char *
faas_json_print(cJSON *root)
{
    char    *text, *copy;
    size_t   len;

    text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);

    if (text == NULL) {
        return NULL;
    }

    len = strlen(text);

    copy = malloc(len + 1);
    if (copy != NULL) {
        memcpy(copy, text, len + 1);
    }

    cJSON_free(text);

    return copy;
}


faas_arena_t *
faas_json_arena(faas_arena_t *a)
{
    cJSON_Hooks    hooks;
    faas_arena_t  *prev;

    if (!faas_json_hooked) {
        hooks.malloc_fn = faas_json_malloc;
        hooks.free_fn = faas_json_free;

        cJSON_InitHooks(&hooks);

        faas_json_hooked = 1;
    }

    prev = faas_json_current;
    faas_json_current = a;

    return prev;
}


static void *
faas_json_malloc(size_t size)
{
    if (faas_json_current) {
        return faas_arena_alloc(faas_json_current, size);
    }

    return malloc(size);
}


/* arena memory goes with its arena */

static void
faas_json_free(void *p)
{
    if (faas_json_current == NULL) {
        free(p);
    }
}
