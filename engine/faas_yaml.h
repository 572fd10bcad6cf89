/*
 * Copyright (C) ngx_faas authors
 *
 * f.yml's YAML tree (faas_yaml.c), internal to the manifest's parts: its
 * nodes, the context a manifest is read in (files, arenas, the path of
 * the value being read, for messages), and what the parts call.
 */

#ifndef FAAS_YAML_H_INCLUDED
#define FAAS_YAML_H_INCLUDED


#include "faas_manifest.h"


#define FAAS_DEPTH_MAX         64
#define FAAS_SCALAR_MAX        (1024 * 1024) /* after substitution */
#define FAAS_ARENA_MAX         (128 * 1024 * 1024)

#define FAAS_Y_SCALAR          1
#define FAAS_Y_SEQUENCE        2
#define FAAS_Y_MAPPING         3


typedef struct faas_ynode_s  faas_ynode_t;

struct faas_ynode_s {
    faas_ynode_t  *next;       /* in a mapping, keys and values alternate */
    faas_ynode_t  *child;
    faas_ynode_t  *last;
    char          *value;      /* a scalar's text, NUL-terminated */
    size_t         len;
    size_t         n;          /* children */
    unsigned       type;
    unsigned       plain;      /* untagged plain scalar: may be null/bool */
    unsigned       line;
    unsigned       column;
};


typedef struct {
    const char        *file;
    faas_error_t      *err;
    faas_arena_t      *tree;
    faas_arena_t      *pool;
    faas_getenv_pt     getenv_fn;
    void              *getenv_data;
    size_t             subst_total;
    size_t             env_total;
    size_t             path_len;
    size_t             agg_path;   /* of "functions.NAME.aggregate" */
    char               path[200];
    char             **notes;
    size_t             nnotes;
} faas_ctx_t;


int faas_nomem(faas_ctx_t *ctx, faas_arena_t *a);

int faas_yaml_read(faas_ctx_t *ctx, const char *text, size_t len,
    faas_ynode_t **root);

int faas_read_string(faas_ctx_t *ctx, faas_ynode_t *node,
    char **out);
int faas_read_seconds(faas_ctx_t *ctx, faas_ynode_t *node,
    unsigned *ms);
int faas_read_uint(faas_ctx_t *ctx, faas_ynode_t *node,
    unsigned min, unsigned max, unsigned *out);

int faas_is_null(faas_ynode_t *node);
int faas_is_bool(faas_ynode_t *node, int *value);
int faas_key_is(faas_ynode_t *key, const char *name);
const char *faas_describe(faas_ynode_t *node, char *buf,
    size_t size);
size_t faas_path_push(faas_ctx_t *ctx, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void faas_path_key(faas_ctx_t *ctx, const char *s, size_t len);
void faas_ignored(faas_ctx_t *ctx, faas_ynode_t *key,
    int in_path, const char *why);
void faas_path_pop(faas_ctx_t *ctx, size_t len);
int faas_fail(faas_ctx_t *ctx, faas_ynode_t *node, const char *fmt,
    ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;


#endif /* FAAS_YAML_H_INCLUDED */
