/*
 * Copyright (C) ngx_faas authors
 *
 * What the engine's cJSON users share (faas_table.c, faas_release.c,
 * faas_aggregate.c): the place a reader is at, messages that name it,
 * checks of members, and cJSON's memory.  Engine-internal: plain C and
 * cJSON.
 */

#ifndef FAAS_JSON_H_INCLUDED
#define FAAS_JSON_H_INCLUDED


#include <stddef.h>

#include <cjson/cJSON.h>

#include "faas_common.h"


#define FAAS_JSON_DEPTH       8             /* of a path in messages */
#define FAAS_JSON_PREFIX_MAX  128           /* half of a message */


/*
 * Where a reader is, as the keys and indexes that lead there; made into
 * text ("functions.hello.routes[2].path") only for a message, as most
 * inputs have no error and many nodes.  "prefix", when set, stands
 * before the keys ("functions.hello.release" for ".rules[1]"): at most
 * "prefix_len" bytes of it.
 */

typedef struct {
    const char         *key;        /* NULL: an index */
    size_t              index;
} faas_json_frame_t;


typedef struct {
    const char         *source;     /* the file of faas_error_t, or NULL */
    faas_error_t       *err;
    const char         *prefix;
    size_t              prefix_len;
    size_t              depth;
    faas_json_frame_t   frames[FAAS_JSON_DEPTH];
} faas_json_t;


/* a step down; each returns what faas_json_pop() takes to step back */
size_t faas_json_key(faas_json_t *j, const char *key);
size_t faas_json_index(faas_json_t *j, size_t index);
void faas_json_pop(faas_json_t *j, size_t depth);

/* "functions.hello.routes[2]: msg" into j->err; returns FAAS_ERROR */
int faas_json_fail(faas_json_t *j, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/*
 * The members of an object named in "names", into found[] in that order;
 * a known one twice is an error.  "strict": any other is an error too.
 */
int faas_json_members(faas_json_t *j, cJSON *node, const char **names,
    cJSON **found, int strict);

/* missing or null */
int faas_json_is_null(const cJSON *node);

/* a value for "got %s": "null", "an object", "42", a quoted string */
const char *faas_json_describe(const cJSON *node, char *buf, size_t size);

/*
 * The tree as compact text, copied with malloc(), as the engine's API
 * says, whatever allocator cJSON was given (an arena too); the tree is
 * freed in any case.  NULL when out of memory.
 */
char *faas_json_print(cJSON *root);

/*
 * cJSON allocates from arena "a" until this is called again with NULL;
 * returns the arena set before, for the caller to put back.  cJSON has
 * only global hooks: they are installed on first use and, with no arena
 * set, are plain malloc() and free(), so that readers of tables and
 * policies see no change (but for print(), which copies where it would
 * realloc(), as cJSON takes no realloc hook).
 *
 * While an arena is set, free does nothing, so the rules are:
 *  - never cJSON_Delete() a malloc()ed tree while an arena is set (it
 *    would leak);
 *  - never cJSON_Delete() or cJSON_free() an arena's tree or text once
 *    its arena is no longer set (free() of arena memory): they go with
 *    the arena;
 *  - put back the previous arena before returning to code that may use
 *    cJSON on its own.
 * One cJSON per process and one thread using it, as the engine is used.
 */
faas_arena_t *faas_json_arena(faas_arena_t *a);


#endif /* FAAS_JSON_H_INCLUDED */
