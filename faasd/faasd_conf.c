/*
 * Copyright (C) ngx_faas authors
 *
 * Loads the manifests named by -m into the set of functions faasd runs.
 * A set is built whole or not at all, so a reload with a bad manifest
 * leaves the running set as it is.
 */


#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "faasd.h"


typedef struct {
    faas_manifest_t  **items;
    char             **real;
    size_t             n;
    size_t             cap;
} faasd_manifests_t;


static int faasd_conf_glob(faasd_manifests_t *ms, const char *pattern,
    char *errbuf, size_t size);
static int faasd_conf_glob_error(const char *path, int en);
static int faasd_conf_file(faasd_manifests_t *ms, const char *path,
    char *errbuf, size_t size);
static faasd_fn_t *faasd_conf_fn(const faas_manifest_t *m,
    const faas_function_t *f, const char *dir, const char *sockdir,
    faas_error_t *err);
static int faasd_conf_version(const faas_table_function_t *f,
    const faas_version_t *v, const char *source, const char *sockdir,
    faasd_fn_t **out);
static int faasd_conf_env(faasd_fn_t *fn, const faas_kv_t *env, size_t n,
    const char **bad);
static int faasd_str_same(const char *a, const char *b);
static void faasd_manifests_free(faasd_manifests_t *ms);


/* glob(3)'s error callback has no argument of ours */
static int   faasd_glob_errno;
static char  faasd_glob_path[PATH_MAX];


int
faasd_conf_load(char **globs, size_t nglobs, const char *sockdir,
    faasd_fnset_t *set, char *errbuf, size_t size)
{
    char                   *dir;
    size_t                  i, j;
    faasd_fn_t             *fn, **last;
    faas_error_t            err;
    faasd_manifests_t       ms;
    faas_manifest_t        *m;
    const faas_function_t  *f;

    memset(&ms, 0, sizeof(ms));
    set->head = NULL;
    set->n = 0;
    set->naggregates = 0;
    last = &set->head;

    for (i = 0; i < nglobs; i++) {
        if (faasd_conf_glob(&ms, globs[i], errbuf, size) != 0) {
            goto failed;
        }
    }

    if (faas_manifests_check(ms.items, ms.n, &err) != FAAS_OK) {
        faas_error_format(&err, errbuf, size);
        goto failed;
    }

    /*
     * faasd routes nothing, but a manifest nginx would refuse must not run
     * either.  Each manifest alone, as nginx may give different servers
     * different ones.
     */

    for (i = 0; i < ms.n; i++) {
        if (faas_manifest_check_routes(ms.items[i], &err) != FAAS_OK) {
            faas_error_format(&err, errbuf, size);
            goto failed;
        }
    }

    for (i = 0; i < ms.n; i++) {
        m = ms.items[i];

        /* the code root is handed to workers that run elsewhere */
        dir = realpath(m->dir ? m->dir : ".", NULL);
        if (dir == NULL) {
            snprintf(errbuf, size, "%s: cannot resolve its directory: %s",
                     m->file, strerror(errno));
            goto failed;
        }

        for (j = 0; j < m->nfunctions; j++) {
            f = &m->functions[j];

            /* nginx makes an aggregate's calls itself */

            if (f->aggregate) {
                faasd_log(FAASD_LOG_INFO, "%s:%u:%u: function \"%s\" is "
                          "an aggregate, served by nginx: no workers",
                          m->file, f->line, f->column, f->name);
                set->naggregates++;
                continue;
            }

            fn = faasd_conf_fn(m, f, dir, sockdir, &err);
            if (fn == NULL) {
                free(dir);
                faas_error_format(&err, errbuf, size);
                goto failed;
            }

            *last = fn;
            last = &fn->next;
            set->n++;
        }

        free(dir);
    }

    faasd_manifests_free(&ms);

    return 0;

failed:

    faasd_manifests_free(&ms);
    faasd_conf_free(set);

    return -1;
}


/*
 * When workers run as another user, what they need is checked as that
 * user, in a child: a runtime or code directory they cannot read would
 * otherwise show only as workers failing over and over.
 */

int
faasd_conf_access(faasd_fnset_t *set, char *errbuf, size_t size)
{
    int           fd[2], status;
    char         *path, code[PATH_MAX];
    pid_t         pid;
    ssize_t       n;
    faasd_fn_t   *fn;

    if (!faasd_cycle.switch_user) {
        return 0;
    }

    status = -1;

    if (pipe2(fd, O_CLOEXEC) == -1) {
        snprintf(errbuf, size, "pipe() failed: %s", strerror(errno));
        return -1;
    }

    pid = fork();

    if (pid == -1) {
        snprintf(errbuf, size, "fork() failed: %s", strerror(errno));
        close(fd[0]);
        close(fd[1]);
        return -1;
    }

    if (pid == 0) {
        close(fd[0]);

        path = "";

        if (setgroups(faasd_cycle.ngroups, faasd_cycle.groups) == -1
            || setgid(faasd_cycle.gid) == -1
            || setuid(faasd_cycle.uid) == -1)
        {
            goto failed;
        }

        path = faasd_cycle.node;
        if (access(path, X_OK) == -1) {
            goto failed;
        }

        path = faasd_cycle.runtime;
        if (access(path, R_OK) == -1) {
            goto failed;
        }

        for (fn = set->head; fn; fn = fn->next) {
            path = fn->dir;
            if (access(path, R_OK|X_OK) == -1) {
                goto failed;
            }

            path = code;

            if (faas_code_file(fn->dir, fn->handler, code, sizeof(code))
                == FAAS_OK
                && access(code, R_OK) == -1)
            {
                goto failed;
            }
        }

        _exit(0);

    failed:

        n = snprintf(errbuf, size, "workers run as %s cannot use \"%s\": %s",
                     faasd_cycle.user_env[1] + sizeof("USER=") - 1, path,
                     strerror(errno));
        n = (n < 0) ? 0 : ((size_t) n < size ? n : (ssize_t) size - 1);

        /* a failed write leaves the parent without the reason, no worse */
        if (write(fd[1], errbuf, n) != n) {
            _exit(1);
        }

        _exit(1);
    }

    close(fd[1]);

    n = read(fd[0], errbuf, size - 1);
    errbuf[n > 0 ? n : 0] = '\0';
    close(fd[0]);

    while (waitpid(pid, &status, 0) == -1 && errno == EINTR) {
        /* void */
    }

    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        return 0;
    }

    if (errbuf[0] == '\0') {
        snprintf(errbuf, size, "checking what workers can use failed");
    }

    return -1;
}


void
faasd_conf_free(faasd_fnset_t *set)
{
    faasd_fn_t  *fn, *next;

    for (fn = set->head; fn; fn = next) {
        next = fn->next;
        fn->next = NULL;
        faasd_fn_release(fn);
    }

    set->head = NULL;
    set->n = 0;
    set->naggregates = 0;
}


void
faasd_fn_release(faasd_fn_t *fn)
{
    size_t  i;

    if (fn == NULL || --fn->refs > 0) {
        return;
    }

    for (i = 0; i < fn->nenv; i++) {
        free(fn->env[i]);
    }

    free(fn->env);
    free(fn->name);
    free(fn->version);
    free(fn->label);
    free(fn->service);
    free(fn->dir);
    free(fn->handler);
    free(fn->initializer);
    free(fn);
}


static int
faasd_conf_glob(faasd_manifests_t *ms, const char *pattern, char *errbuf,
    size_t size)
{
    int     rc;
    size_t  i;
    glob_t  g;

    /* a plain path is loaded as it is, so a missing file says why */
    if (strpbrk(pattern, "*?[") == NULL) {
        return faasd_conf_file(ms, pattern, errbuf, size);
    }

    faasd_glob_errno = 0;
    faasd_glob_path[0] = '\0';

    rc = glob(pattern, 0, faasd_conf_glob_error, &g);

    if (rc == GLOB_NOMATCH) {
        snprintf(errbuf, size, "%s: no manifest matches", pattern);
        return -1;
    }

    if (rc != 0) {
        if (faasd_glob_errno) {
            snprintf(errbuf, size, "%s: cannot read \"%s\": %s", pattern,
                     faasd_glob_path, strerror(faasd_glob_errno));

        } else {
            snprintf(errbuf, size, "%s: out of memory", pattern);
        }

        globfree(&g);
        return -1;
    }

    for (i = 0; i < g.gl_pathc; i++) {
        if (faasd_conf_file(ms, g.gl_pathv[i], errbuf, size) != 0) {
            globfree(&g);
            return -1;
        }
    }

    globfree(&g);

    return 0;
}


static int
faasd_conf_file(faasd_manifests_t *ms, const char *path, char *errbuf,
    size_t size)
{
    char              *real, **rn;
    size_t             i, cap;
    faas_error_t       err;
    faas_manifest_t   *m, **mn;

    real = realpath(path, NULL);
    if (real == NULL) {
        snprintf(errbuf, size, "%s: %s", path, strerror(errno));
        return -1;
    }

    /* two globs may name the same file: it is loaded once */
    for (i = 0; i < ms->n; i++) {
        if (strcmp(ms->real[i], real) == 0) {
            free(real);
            return 0;
        }
    }

    if (ms->n == ms->cap) {
        cap = ms->cap ? ms->cap * 2 : 8;

        mn = realloc(ms->items, cap * sizeof(faas_manifest_t *));
        if (mn == NULL) {
            goto nomem;
        }

        ms->items = mn;

        rn = realloc(ms->real, cap * sizeof(char *));
        if (rn == NULL) {
            goto nomem;
        }

        ms->real = rn;
        ms->cap = cap;
    }

    memset(&err, 0, sizeof(err));

    if (faas_manifest_load(path, &m, &err) != FAAS_OK) {
        faas_error_format(&err, errbuf, size);
        free(real);
        return -1;
    }

    if (faas_manifest_check_code(m, &err) != FAAS_OK) {
        faas_error_format(&err, errbuf, size);
        faas_manifest_free(m);
        free(real);
        return -1;
    }

    /* a misspelt key ("timout") is only ever seen here */

    for (i = 0; i < m->nnotes; i++) {
        faasd_log(FAASD_LOG_INFO, "%s", m->notes[i]);
    }

    ms->items[ms->n] = m;
    ms->real[ms->n] = real;
    ms->n++;

    return 0;

nomem:

    free(real);
    snprintf(errbuf, size, "%s: out of memory", path);
    return -1;
}


/*
 * A directory that does not exist just matches nothing; one that cannot
 * be read stops the load, as a manifest silently missed would change
 * the routes.
 */

static int
faasd_conf_glob_error(const char *path, int en)
{
    if (en == ENOENT || en == ENOTDIR) {
        return 0;
    }

    faasd_glob_errno = en;
    snprintf(faasd_glob_path, sizeof(faasd_glob_path), "%s", path);

    return 1;
}


static faasd_fn_t *
faasd_conf_fn(const faas_manifest_t *m, const faas_function_t *f,
    const char *dir, const char *sockdir, faas_error_t *err)
{
    faasd_fn_t  *fn;
    const char  *name, *key;

    name = f->name ? f->name : "";

    if (!faas_function_name_valid(name, strlen(name))) {
        faas_error_set(err, m->file, f->line, f->column,
                       "function name \"%s\" cannot name a socket: use 1 "
                       "to %d of A-Z a-z 0-9 _ -, not starting with \"-\"",
                       name, FAAS_FUNCTION_NAME_MAX);
        return NULL;
    }

    if (f->instances > FAAS_INSTANCES_MAX) {
        faas_error_set(err, m->file, f->line, f->column,
                       "function \"%s\": at most %d instances", name,
                       FAAS_INSTANCES_MAX);
        return NULL;
    }

    if (sockdir != NULL
        && !faas_socket_dir_fits(sockdir, strlen(sockdir), name,
                                 strlen(name), NULL, 0))
    {
        faas_error_set(err, m->file, f->line, f->column,
                       "function \"%s\": socket paths under \"%s\" would "
                       "be longer than the %zu bytes a Unix socket "
                       "allows", name, sockdir, (size_t) FAAS_SOCKET_PATH_MAX);
        return NULL;
    }

    fn = calloc(1, sizeof(faasd_fn_t));
    if (fn == NULL) {
        goto nomem;
    }

    fn->refs = 1;
    fn->timeout_ms = f->timeout_ms ? f->timeout_ms : FAASD_DEFAULT_TIMEOUT_MS;
    fn->init_timeout_ms = f->init_timeout_ms ? f->init_timeout_ms
                                             : FAASD_DEFAULT_INIT_TIMEOUT_MS;
    fn->memory_mb = f->memory_mb;
    fn->concurrency = f->concurrency ? f->concurrency
                                     : FAASD_DEFAULT_CONCURRENCY;
    fn->instances = f->instances ? f->instances : 1;

    fn->name = strdup(name);
    fn->label = strdup(name);
    fn->service = strdup(m->service ? m->service : "");
    fn->dir = strdup(dir);
    fn->handler = strdup(f->handler ? f->handler : "index.handler");

    if (fn->name == NULL || fn->label == NULL || fn->service == NULL
        || fn->dir == NULL || fn->handler == NULL)
    {
        goto nomem;
    }

    if (f->initializer) {
        fn->initializer = strdup(f->initializer);
        if (fn->initializer == NULL) {
            goto nomem;
        }
    }

    switch (faasd_conf_env(fn, f->env, f->nenv, &key)) {

    case 0:
        break;

    case -1:
        goto nomem;

    default:
        faas_error_set(err, m->file, f->line, f->column,
                       "function \"%s\": environment variable name "
                       "\"%s\" is invalid", name, key);
        faasd_fn_release(fn);
        return NULL;
    }

    return fn;

nomem:

    faasd_fn_release(fn);
    faas_error_set(err, m->file, f->line, f->column, "out of memory");
    return NULL;
}


/*
 * The versions of a Redis table, each a function of its own for the
 * slots ("name@version").  The table was checked by faas_table_parse();
 * what is left to judge is local (the socket directory), and a version
 * that fails it is logged and left out rather than holding back the
 * others.  Returns -1 when out of memory.
 */

int
faasd_conf_table(const faas_table_t *table, const char *source,
    const char *sockdir, faasd_fnset_t *set)
{
    size_t                        i, j;
    faasd_fn_t                   *fn, **last;
    const faas_table_function_t  *f;

    set->head = NULL;
    set->n = 0;
    set->naggregates = 0;
    last = &set->head;

    for (i = 0; i < table->nfunctions; i++) {
        f = &table->functions[i];

        for (j = 0; j < f->nversions; j++) {
            if (faasd_conf_version(f, &f->versions[j], source, sockdir, &fn)
                != 0)
            {
                faasd_conf_free(set);
                return -1;
            }

            if (fn == NULL) {
                continue;
            }

            *last = fn;
            last = &fn->next;
            set->n++;
        }
    }

    return 0;
}


/* -1 when out of memory; *out is NULL for a version left out (logged) */

static int
faasd_conf_version(const faas_table_function_t *f, const faas_version_t *v,
    const char *source, const char *sockdir, faasd_fn_t **out)
{
    int          rc;
    size_t       len;
    faasd_fn_t  *fn;
    const char  *key;

    *out = NULL;
    len = strlen(f->name) + 1 + strlen(v->name) + 1;

    if (!faas_function_name_valid(f->name, strlen(f->name))
        || !faas_version_name_valid(v->name, strlen(v->name)))
    {
        faasd_log(FAASD_LOG_ERR, "redis: %s: function \"%s\" version \"%s\" "
                  "cannot name a socket; not started", source, f->name,
                  v->name);
        return 0;
    }

    if (v->dir == NULL || v->dir[0] != '/') {
        faasd_log(FAASD_LOG_ERR, "redis: %s: function %s version %s: code "
                  "directory \"%s\" is not absolute; not started", source,
                  f->name, v->name, v->dir ? v->dir : "");
        return 0;
    }

    fn = calloc(1, sizeof(faasd_fn_t));
    if (fn == NULL) {
        goto nomem;
    }

    fn->refs = 1;

    fn->label = malloc(len);
    if (fn->label == NULL) {
        goto nomem;
    }

    snprintf(fn->label, len, "%s@%s", f->name, v->name);

    if (sockdir != NULL
        && !faas_socket_dir_fits(sockdir, strlen(sockdir), f->name,
                                 strlen(f->name), v->name, strlen(v->name)))
    {
        faasd_log(FAASD_LOG_ERR, "redis: %s: function %s version %s: socket "
                  "paths under \"%s\" would be longer than the %zu bytes a "
                  "Unix socket allows; not started", source, f->name,
                  v->name, sockdir, (size_t) FAAS_SOCKET_PATH_MAX);
        faasd_fn_release(fn);
        return 0;
    }

    fn->timeout_ms = v->timeout_ms ? v->timeout_ms : FAASD_DEFAULT_TIMEOUT_MS;
    fn->init_timeout_ms = v->init_timeout_ms ? v->init_timeout_ms
                                             : FAASD_DEFAULT_INIT_TIMEOUT_MS;
    fn->memory_mb = v->memory_mb;
    fn->concurrency = v->concurrency ? v->concurrency
                                     : FAASD_DEFAULT_CONCURRENCY;
    fn->instances = v->instances;

    if (fn->instances == 0 || fn->instances > FAAS_INSTANCES_MAX) {
        fn->instances = fn->instances ? FAAS_INSTANCES_MAX : 1;
    }

    fn->name = strdup(f->name);
    fn->version = strdup(v->name);
    fn->service = strdup("");
    fn->dir = strdup(v->dir);
    fn->handler = strdup(v->handler ? v->handler : "index.handler");

    if (fn->name == NULL || fn->version == NULL || fn->service == NULL
        || fn->dir == NULL || fn->handler == NULL)
    {
        goto nomem;
    }

    if (v->initializer) {
        fn->initializer = strdup(v->initializer);
        if (fn->initializer == NULL) {
            goto nomem;
        }
    }

    rc = faasd_conf_env(fn, v->env, v->nenv, &key);

    if (rc == -1) {
        goto nomem;
    }

    if (rc != 0) {
        faasd_log(FAASD_LOG_ERR, "redis: %s: function %s version %s: "
                  "environment variable name \"%s\" is invalid; not started",
                  source, f->name, v->name, key);
        faasd_fn_release(fn);
        return 0;
    }

    *out = fn;

    return 0;

nomem:

    faasd_fn_release(fn);
    faasd_log(FAASD_LOG_ERR, "redis: %s: out of memory", source);

    return -1;
}


/* 0, -1 when out of memory, 1 with *bad set to an invalid name */

static int
faasd_conf_env(faasd_fn_t *fn, const faas_kv_t *env, size_t n,
    const char **bad)
{
    char        *p;
    size_t       i, len;
    const char  *key, *value;

    if (n == 0) {
        return 0;
    }

    fn->env = calloc(n, sizeof(char *));
    if (fn->env == NULL) {
        return -1;
    }

    for (i = 0; i < n; i++) {
        key = env[i].key;
        value = env[i].value ? env[i].value : "";

        if (key == NULL || key[0] == '\0' || strchr(key, '=') != NULL) {
            *bad = key ? key : "";
            return 1;
        }

        len = strlen(key) + 1 + strlen(value) + 1;

        p = malloc(len);
        if (p == NULL) {
            return -1;
        }

        snprintf(p, len, "%s=%s", key, value);
        fn->env[fn->nenv++] = p;
    }

    return 0;
}


/* the longest name a slot's socket can take: its temporary one */

/*
 * Whether two functions would run the same workers: a Redis version is
 * immutable, so the same record in a later table keeps its workers.
 * The number of instances does not count: slots come and go alone.
 */

int
faasd_fn_same(const faasd_fn_t *a, const faasd_fn_t *b)
{
    size_t  i;

    if (a == b) {
        return 1;
    }

    if (!faasd_str_same(a->name, b->name)
        || !faasd_str_same(a->version, b->version)
        || !faasd_str_same(a->service, b->service)
        || !faasd_str_same(a->dir, b->dir)
        || !faasd_str_same(a->handler, b->handler)
        || !faasd_str_same(a->initializer, b->initializer)
        || a->timeout_ms != b->timeout_ms
        || a->init_timeout_ms != b->init_timeout_ms
        || a->memory_mb != b->memory_mb
        || a->concurrency != b->concurrency
        || a->nenv != b->nenv)
    {
        return 0;
    }

    for (i = 0; i < a->nenv; i++) {
        if (strcmp(a->env[i], b->env[i]) != 0) {
            return 0;
        }
    }

    return 1;
}


static int
faasd_str_same(const char *a, const char *b)
{
    if (a == NULL || b == NULL) {
        return a == b;
    }

    return strcmp(a, b) == 0;
}


/*
 * nginx derives the same socket names from the manifests: a name must
 * stay one path component, and not a hidden one, which is where the
 * temporary names live.
 */

static void
faasd_manifests_free(faasd_manifests_t *ms)
{
    size_t  i;

    for (i = 0; i < ms->n; i++) {
        faas_manifest_free(ms->items[i]);
        free(ms->real[i]);
    }

    free(ms->items);
    free(ms->real);
    memset(ms, 0, sizeof(*ms));
}
