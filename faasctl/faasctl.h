/*
 * Copyright (C) ngx_faas authors
 *
 * faasctl: deploys functions to the routing table kept in Redis and
 * shows it (docs/faasctl.md, docs/redis.md).
 */

#ifndef FAASCTL_H_INCLUDED
#define FAASCTL_H_INCLUDED


#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include "faas_common.h"
#include "faas_manifest.h"
#include "faas_release.h"
#include "faas_release_grammar.h"
#include "faas_table.h"


#define FAASCTL_REDIS_DEFAULT    "redis://127.0.0.1:6379"
#define FAASCTL_STORE_DEFAULT    "/var/lib/ngx_faas/code"
#define FAASCTL_WAIT_DEFAULT     30.0
#define FAASCTL_TIMEOUT_MS       5000      /* connect and each command */
#define FAASCTL_TRIES            10        /* WATCH conflicts */
#define FAASCTL_OLD_TABLE_TTL    3600      /* s, superseded tables */
#define FAASCTL_POLL_MS          50
#define FAASCTL_HISTORY_MAX      50        /* entries of P:history:FN */


typedef struct {
    const char         *url;
    const char         *prefix;
    unsigned            json:1;

    /* deploy's options */
    const char         *store;
    double              wait;           /* s; < 0: --no-wait */
    unsigned            stage:1;

    /* release's options */
    const char         *weights;
    const char         *sticky;
    const char        **rules;
    size_t              nrules;

    faas_redis_url_t    redis;
    redisContext       *ctx;
} faasctl_t;


/*
 * What a switch does to P:history:FN in its MULTI: LPOP the newest
 * entry, and/or LPUSH "push" and LTRIM to FAASCTL_HISTORY_MAX.
 */
typedef struct faasctl_hist_s  faasctl_hist_t;

struct faasctl_hist_s {
    const char         *function;
    const char         *push;           /* JSON; NULL: nothing pushed */
    unsigned            pop:1;
    faasctl_hist_t     *next;
};


/*
 * A table being made: its arrays are faasctl's, the strings and the
 * routes it points to are borrowed from the table in force, from the
 * manifest and from "allocs", all of which outlive it.  Policies made
 * for it are its own ("releases"); the others are borrowed too.
 */
typedef struct {
    faas_table_t        table;
    size_t              cap;            /* of table.functions */
    void              **allocs;
    size_t              nallocs;
    size_t              nallocs_cap;
    faas_release_t    **releases;
    size_t              nreleases;
    size_t              nreleases_cap;
    faasctl_hist_t     *hist;
    const char         *source;         /* names the table in messages */
} faasctl_view_t;


/* a version that must have live endpoints before a change goes on */
typedef struct {
    const char         *function;
    const char         *version;
    unsigned            instances;
} faasctl_warm_t;


/*
 * Makes the next table from the one in force ("current" is NULL for an
 * empty Redis).  Returns FAAS_OK, FAAS_ERROR (message printed), or
 * FAASCTL_UNCHANGED: nothing to write.
 */
#define FAASCTL_UNCHANGED  1

typedef int (*faasctl_build_pt)(faasctl_t *ctl, const faas_table_t *current,
    faasctl_view_t *next, void *data);


/* faasctl.c */
void faasctl_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
void faasctl_error_engine(const faas_error_t *err);
void faasctl_usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
uint64_t faasctl_now_ms(void);
uint64_t faasctl_monotonic_ms(void);
const char *faasctl_methods(unsigned methods, char *buf, size_t size);
int faasctl_json_print(void *json);

/* faasctl_redis.c */
int faasctl_connect(faasctl_t *ctl);
void faasctl_disconnect(faasctl_t *ctl);
redisReply *faasctl_command(faasctl_t *ctl, const char *key,
    const char *fmt, ...);
redisReply *faasctl_vcommand(faasctl_t *ctl, const char *key,
    const char *fmt, va_list args);
void faasctl_redis_error(faasctl_t *ctl, const char *what);
int faasctl_prefix_error(faasctl_t *ctl);
int faasctl_generation(faasctl_t *ctl, uint64_t *generation);
int faasctl_table_read(faasctl_t *ctl, int watch, uint64_t *generation,
    faas_table_t **table);
int faasctl_switch(faasctl_t *ctl, faasctl_build_pt build, void *data,
    uint64_t *generation);
int faasctl_check(faasctl_t *ctl, faasctl_build_pt build, void *data);
int faasctl_judge(faasctl_view_t *next, faas_table_t *current, int rc,
    const char *source);
size_t faasctl_key_history(faasctl_t *ctl, char *buf, size_t size,
    const char *function);
int faasctl_history_watch(faasctl_t *ctl, const char *function,
    const char *head, char *key, size_t size);
int faasctl_wait(faasctl_t *ctl, const faasctl_warm_t *warm, size_t n);
void faasctl_signals(int on);
int faasctl_interrupted(void);

/* faasctl_view.c */
int faasctl_view_init(faasctl_view_t *v, const faas_table_t *current,
    uint64_t generation);
void *faasctl_view_alloc(faasctl_view_t *v, size_t size);
char *faasctl_view_strdup(faasctl_view_t *v, const char *s);
faas_table_function_t *faasctl_view_find(faasctl_view_t *v,
    const char *name);
int faasctl_view_put(faasctl_view_t *v, const faas_table_function_t *f);
int faasctl_view_remove(faasctl_view_t *v, const char *name);
int faasctl_view_versions(faasctl_view_t *v, faas_table_function_t *f,
    const faas_version_t *add, const char *drop1, const char *drop2,
    const char *active);
int faasctl_view_set_versions(faasctl_view_t *v, faas_table_function_t *f,
    const faas_version_t *const *list, size_t n, const char *active);
int faasctl_view_release(faasctl_view_t *v, faas_table_function_t *f,
    const void *policy);
char *faasctl_view_entry(const faas_table_function_t *f);
int faasctl_view_history(faasctl_view_t *v, const char *function,
    const char *note, const char *entry, int pop, char **pushed);
void faasctl_view_free(faasctl_view_t *v);

/* faasctl_store.c */
int faasctl_store_open(const char *store, const char *src, char **real);
int faasctl_store_copy(const char *real, const char *function,
    const char *src, const char *shown, char **tmp);
int faasctl_store_commit(const char *tmp, const char *real,
    const char *function, const char *version, char *dir, size_t size);
void faasctl_store_discard(const char *tmp);

/* faasctl_deploy.c */
int faasctl_deploy(faasctl_t *ctl, int argc, char **argv);
int faasctl_rm(faasctl_t *ctl, int argc, char **argv);

/* faasctl_show.c */
int faasctl_ls(faasctl_t *ctl, int argc, char **argv);
int faasctl_routes(faasctl_t *ctl, int argc, char **argv);
int faasctl_show(faasctl_t *ctl, int argc, char **argv);
int faasctl_gen(faasctl_t *ctl, int argc, char **argv);
void faasctl_time(uint64_t ms, char *buf, size_t size);
int faasctl_function_args(const char *cmd, int argc, char **argv);
int faasctl_function_read(faasctl_t *ctl, const char *name,
    uint64_t *generation, faas_table_t **table,
    const faas_table_function_t **function);

/* faasctl_release.c */
int faasctl_release(faasctl_t *ctl, int argc, char **argv);
int faasctl_promote(faasctl_t *ctl, int argc, char **argv);
int faasctl_rollback(faasctl_t *ctl, int argc, char **argv);

/* faasctl_status.c */
int faasctl_history(faasctl_t *ctl, int argc, char **argv);
int faasctl_status(faasctl_t *ctl, int argc, char **argv);


#endif /* FAASCTL_H_INCLUDED */
