/*
 * Copyright (C) ngx_faas authors
 *
 * The f.yml loader.  libyaml's events are first gathered into a small
 * tree (so that "provider" may follow "functions" and duplicate keys are
 * seen whole), then the tree is read into the model.  Both live in arenas:
 * an error anywhere frees everything with one call.
 *
 * The tree and its values are faas_yaml.c's, the aggregate: section is
 * faas_manifest_aggregate.c's.
 */


#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/stat.h>

#include "faas_manifest_int.h"
#include "faas_router.h"


#define FAAS_ENV_MAX           1024          /* per environment mapping */
#define FAAS_ENV_TOTAL_MAX     100000        /* in a whole manifest */
#define FAAS_HANDLER_MAX       1024
#define FAAS_PATH_MAX          2048


typedef struct {
    char              *runtime;
    unsigned           timeout_ms;
    unsigned           init_timeout_ms;
    unsigned           memory_mb;
    unsigned           concurrency;
    faas_kv_t         *env;
    size_t             nenv;
} faas_provider_t;


typedef struct {
    faas_manifest_t    manifest;
    faas_arena_t       arena;
} faas_manifest_impl_t;


typedef struct {
    const char             *key;
    size_t                  order;
    const faas_manifest_t  *manifest;
    unsigned                line;
    unsigned                column;
} faas_seen_t;


static int faas_read_top(faas_ctx_t *ctx, faas_ynode_t *root,
    faas_manifest_t *m);
static int faas_read_service(faas_ctx_t *ctx, faas_ynode_t *node,
    faas_manifest_t *m);
static int faas_read_provider(faas_ctx_t *ctx, faas_ynode_t *node,
    faas_provider_t *prov);
static int faas_read_functions(faas_ctx_t *ctx, faas_ynode_t *node,
    faas_provider_t *prov, faas_manifest_t *m);
static int faas_read_function(faas_ctx_t *ctx, faas_ynode_t *node,
    faas_provider_t *prov, faas_function_t *fn);
static int faas_read_events(faas_ctx_t *ctx, faas_ynode_t *node,
    faas_function_t *fn);
static int faas_read_http(faas_ctx_t *ctx, faas_ynode_t *item,
    faas_ynode_t *value, faas_function_t *fn);
static int faas_read_methods(faas_ctx_t *ctx, faas_ynode_t *node,
    unsigned *methods);
static int faas_read_method_list(faas_ctx_t *ctx, faas_ynode_t *node,
    unsigned *methods);
static int faas_read_env(faas_ctx_t *ctx, faas_ynode_t *node,
    faas_kv_t **env, size_t *nenv);
static int faas_merge_env(faas_ctx_t *ctx, faas_ynode_t *node,
    faas_provider_t *prov, faas_kv_t *own, size_t nown, faas_function_t *fn);
static int faas_read_handler(faas_ctx_t *ctx, faas_ynode_t *node,
    char **out);
static int faas_read_path(faas_ctx_t *ctx, faas_ynode_t *node, char **out);
static int faas_check_name(faas_ctx_t *ctx, faas_ynode_t *key);

static const char *faas_getenv_process(const char *name, void *data);
static int faas_seen_cmp(const void *one, const void *two);


int
faas_manifest_parse(const char *file, const char *text, size_t len,
    faas_getenv_pt getenv_fn, void *getenv_data, faas_manifest_t **out,
    faas_error_t *err)
{
    int                    rc;
    faas_ctx_t             ctx;
    faas_arena_t           tree;
    faas_ynode_t          *root;
    faas_manifest_impl_t  *impl;

    *out = NULL;

    if (file == NULL) {
        file = "(manifest)";
    }

    if (text == NULL) {
        text = "";
        len = 0;
    }

    if (len > FAAS_MANIFEST_MAX_SIZE) {
        faas_error_set(err, file, 0, 0,
                       "is larger than %d bytes (1 MiB): %zu bytes",
                       FAAS_MANIFEST_MAX_SIZE, len);
        return FAAS_ERROR;
    }

    impl = calloc(1, sizeof(faas_manifest_impl_t));
    if (impl == NULL) {
        faas_error_set(err, file, 0, 0, "out of memory");
        return FAAS_ERROR;
    }

    memset(&tree, 0, sizeof(faas_arena_t));
    memset(&ctx, 0, sizeof(faas_ctx_t));

    tree.max = FAAS_ARENA_MAX;
    impl->arena.max = FAAS_ARENA_MAX;

    ctx.file = file;
    ctx.err = err;
    ctx.tree = &tree;
    ctx.pool = &impl->arena;
    ctx.getenv_fn = getenv_fn;
    ctx.getenv_data = getenv_data;

    impl->manifest.file = faas_arena_strndup(ctx.pool, file, strlen(file));
    if (impl->manifest.file == NULL) {
        rc = faas_nomem(&ctx, ctx.pool);
        goto done;
    }

    rc = faas_yaml_read(&ctx, text, len, &root);
    if (rc != FAAS_OK) {
        goto done;
    }

    rc = faas_read_top(&ctx, root, &impl->manifest);

    impl->manifest.notes = ctx.notes;
    impl->manifest.nnotes = ctx.nnotes;

done:

    faas_arena_free(&tree);

    if (rc != FAAS_OK) {
        faas_manifest_free(&impl->manifest);
        return FAAS_ERROR;
    }

    *out = &impl->manifest;

    return FAAS_OK;
}


int
faas_manifest_load(const char *path, faas_manifest_t **out,
    faas_error_t *err)
{
    int               fd, rc;
    char             *text, *copy, *slash, *real;
    size_t            len;
    ssize_t           n;
    struct stat       st;
    faas_manifest_t  *m;

    *out = NULL;

    fd = open(path, O_RDONLY|O_NONBLOCK|O_CLOEXEC);
    if (fd == -1) {
        faas_error_set(err, path, 0, 0, "cannot open: %s", strerror(errno));
        return FAAS_ERROR;
    }

    if (fstat(fd, &st) == -1) {
        faas_error_set(err, path, 0, 0, "cannot stat: %s", strerror(errno));
        close(fd);
        return FAAS_ERROR;
    }

    if (!S_ISREG(st.st_mode)) {
        faas_error_set(err, path, 0, 0, "is not a regular file");
        close(fd);
        return FAAS_ERROR;
    }

    if (st.st_size > FAAS_MANIFEST_MAX_SIZE) {
        faas_error_set(err, path, 0, 0,
                       "is larger than %d bytes (1 MiB): %lld bytes",
                       FAAS_MANIFEST_MAX_SIZE, (long long) st.st_size);
        close(fd);
        return FAAS_ERROR;
    }

    /* one byte more than the limit tells a file that grew meanwhile */

    text = malloc(FAAS_MANIFEST_MAX_SIZE + 1);
    if (text == NULL) {
        faas_error_set(err, path, 0, 0, "out of memory");
        close(fd);
        return FAAS_ERROR;
    }

    len = 0;

    while (len < FAAS_MANIFEST_MAX_SIZE + 1) {
        n = read(fd, text + len, FAAS_MANIFEST_MAX_SIZE + 1 - len);

        if (n == -1) {
            if (errno == EINTR) {
                continue;
            }

            faas_error_set(err, path, 0, 0, "cannot read: %s",
                           strerror(errno));
            free(text);
            close(fd);
            return FAAS_ERROR;
        }

        if (n == 0) {
            break;
        }

        len += n;
    }

    close(fd);

    if (len > FAAS_MANIFEST_MAX_SIZE) {
        faas_error_set(err, path, 0, 0, "is larger than %d bytes (1 MiB)",
                       FAAS_MANIFEST_MAX_SIZE);
        free(text);
        return FAAS_ERROR;
    }

    copy = strdup(path);
    if (copy == NULL) {
        faas_error_set(err, path, 0, 0, "out of memory");
        free(text);
        return FAAS_ERROR;
    }

    slash = strrchr(copy, '/');

    if (slash == NULL) {
        real = realpath(".", NULL);

    } else {
        if (slash == copy) {
            slash++;
        }

        *slash = '\0';
        real = realpath(copy, NULL);
    }

    free(copy);

    if (real == NULL) {
        faas_error_set(err, path, 0, 0, "cannot resolve its directory: %s",
                       strerror(errno));
        free(text);
        return FAAS_ERROR;
    }

    rc = faas_manifest_parse(path, text, len, faas_getenv_process, NULL, &m,
                             err);
    free(text);

    if (rc != FAAS_OK) {
        free(real);
        return FAAS_ERROR;
    }

    m->dir = faas_arena_strndup(&((faas_manifest_impl_t *) m)->arena, real,
                                strlen(real));
    free(real);

    if (m->dir == NULL) {
        faas_manifest_free(m);
        faas_error_set(err, path, 0, 0, "out of memory");
        return FAAS_ERROR;
    }

    *out = m;

    return FAAS_OK;
}


void
faas_manifest_free(faas_manifest_t *m)
{
    size_t                 i;
    faas_manifest_impl_t  *impl;

    if (m == NULL) {
        return;
    }

    /* aggregates are the only parts not in the arena */

    for (i = 0; i < m->nfunctions; i++) {
        if (m->functions[i].aggregate) {
            faas_agg_free(m->functions[i].aggregate);
            m->functions[i].aggregate = NULL;
        }
    }

    /* the manifest is the first member of its implementation */

    impl = (faas_manifest_impl_t *) m;

    faas_arena_free(&impl->arena);
    free(impl);
}


const faas_function_t *
faas_manifest_find(faas_manifest_t *const *manifests, size_t n,
    const char *name, const faas_manifest_t **owner)
{
    size_t  i, j;

    for (i = 0; i < n; i++) {
        if (manifests[i] == NULL) {
            continue;
        }

        for (j = 0; j < manifests[i]->nfunctions; j++) {
            if (strcmp(manifests[i]->functions[j].name, name) == 0) {
                if (owner) {
                    *owner = manifests[i];
                }

                return &manifests[i]->functions[j];
            }
        }
    }

    return NULL;
}


int
faas_manifests_check(faas_manifest_t *const *manifests, size_t n,
    faas_error_t *err)
{
    size_t                   i, j, nfn, g;
    faas_seen_t             *seen, *first, *second, *s;
    const faas_function_t   *fn;

    nfn = 0;

    for (i = 0; i < n; i++) {
        if (manifests[i] != NULL) {
            nfn += manifests[i]->nfunctions;
        }
    }

    seen = calloc(nfn + 1, sizeof(faas_seen_t));
    if (seen == NULL) {
        faas_error_set(err, NULL, 0, 0, "out of memory");
        return FAAS_ERROR;
    }

    /* sorted by name, then by the order of declaration */

    s = seen;

    for (i = 0; i < n; i++) {
        if (manifests[i] == NULL) {
            continue;
        }

        for (j = 0; j < manifests[i]->nfunctions; j++) {
            fn = &manifests[i]->functions[j];

            s->key = fn->name;
            s->order = s - seen;
            s->manifest = manifests[i];
            s->line = fn->line;
            s->column = fn->column;
            s++;
        }
    }

    qsort(seen, nfn, sizeof(faas_seen_t), faas_seen_cmp);

    first = NULL;
    second = NULL;

    for (i = 1, g = 0; i < nfn; i++) {
        if (strcmp(seen[i].key, seen[g].key) != 0) {
            g = i;
            continue;
        }

        if (i == g + 1 && (second == NULL || seen[i].order < second->order))
        {
            first = &seen[g];
            second = &seen[i];
        }
    }

    if (second) {
        faas_error_set(err, second->manifest->file, second->line,
                       second->column,
                       "function \"%s\" is already declared at %s:%u:%u",
                       second->key, first->manifest->file, first->line,
                       first->column);
        free(seen);
        return FAAS_ERROR;
    }

    free(seen);

    return FAAS_OK;
}


/*
 * A route nginx would refuse (a bad pattern, two that conflict) is
 * refused where nothing is routed too: the routes are compiled as nginx
 * compiles a server's, each manifest alone, and thrown away.
 */

int
faas_manifest_check_routes(const faas_manifest_t *m, faas_error_t *err)
{
    int                       rc;
    size_t                    i, j;
    faas_router_t            *router;
    const faas_function_t    *f;
    const faas_http_event_t  *ev;

    router = faas_router_create();
    if (router == NULL) {
        faas_error_set(err, m->file, 0, 0, "out of memory");
        return FAAS_ERROR;
    }

    rc = FAAS_OK;

    for (i = 0; i < m->nfunctions && rc == FAAS_OK; i++) {
        f = &m->functions[i];

        for (j = 0; j < f->nevents && rc == FAAS_OK; j++) {
            ev = &f->events[j];
            rc = faas_router_add(router, ev->path, ev->methods, (void *) f,
                                 m->file, ev->line, ev->column, err);
        }
    }

    if (rc == FAAS_OK) {
        rc = faas_router_compile(router, err);
    }

    faas_router_free(router);

    return rc;
}


static int
faas_seen_cmp(const void *one, const void *two)
{
    int                 rc;
    const faas_seen_t  *a, *b;

    a = one;
    b = two;

    rc = strcmp(a->key, b->key);
    if (rc != 0) {
        return rc;
    }

    return (a->order > b->order) - (a->order < b->order);
}


static const char *
faas_getenv_process(const char *name, void *data)
{
    (void) data;

    return getenv(name);
}


/* the tree into the model */

static int
faas_read_top(faas_ctx_t *ctx, faas_ynode_t *root, faas_manifest_t *m)
{
    faas_ynode_t     *k, *v, *provider, *functions;
    faas_provider_t   prov;
    char              got[FAAS_QUOTE_SIZE];

    if (root->type != FAAS_Y_MAPPING) {
        return faas_fail(ctx, root, "expected a mapping at the top of the "
                         "manifest, got %s",
                         faas_describe(root, got, sizeof(got)));
    }

    provider = NULL;
    functions = NULL;

    for (k = root->child; k && k->next; k = k->next->next) {
        v = k->next;

        if (faas_key_is(k, "service")) {
            if (faas_read_service(ctx, v, m) != FAAS_OK) {
                return FAAS_ERROR;
            }

        } else if (faas_key_is(k, "provider")) {
            provider = v;

        } else if (faas_key_is(k, "functions")) {
            functions = v;

        } else {
            faas_ignored(ctx, k, 0, NULL);
        }
    }

    memset(&prov, 0, sizeof(faas_provider_t));

    if (provider && faas_read_provider(ctx, provider, &prov) != FAAS_OK) {
        return FAAS_ERROR;
    }

    if (functions == NULL) {
        faas_error_set(ctx->err, ctx->file, root->line, root->column,
                       "no functions: the manifest has no \"functions\" "
                       "mapping");
        return FAAS_ERROR;
    }

    return faas_read_functions(ctx, functions, &prov, m);
}


static int
faas_read_service(faas_ctx_t *ctx, faas_ynode_t *node, faas_manifest_t *m)
{
    int            rc;
    size_t         saved, kp;
    faas_ynode_t  *k;
    char           got[FAAS_QUOTE_SIZE];

    saved = faas_path_push(ctx, "service");

    if (node->type == FAAS_Y_SCALAR) {
        rc = faas_read_string(ctx, node, &m->service);
        faas_path_pop(ctx, saved);
        return rc;
    }

    if (node->type != FAAS_Y_MAPPING) {
        return faas_fail(ctx, node, "expected a name or a mapping with "
                         "\"name\", got %s",
                         faas_describe(node, got, sizeof(got)));
    }

    for (k = node->child; k && k->next; k = k->next->next) {
        if (!faas_key_is(k, "name")) {
            continue;
        }

        kp = faas_path_push(ctx, ".name");

        if (faas_read_string(ctx, k->next, &m->service) != FAAS_OK) {
            return FAAS_ERROR;
        }

        faas_path_pop(ctx, kp);
    }

    faas_path_pop(ctx, saved);

    return FAAS_OK;
}


static int
faas_read_provider(faas_ctx_t *ctx, faas_ynode_t *node,
    faas_provider_t *prov)
{
    int            rc;
    char          *name;
    size_t         saved, kp;
    faas_ynode_t  *k, *v;
    char           got[FAAS_QUOTE_SIZE];

    saved = faas_path_push(ctx, "provider");

    if (faas_is_null(node)) {
        faas_path_pop(ctx, saved);
        return FAAS_OK;
    }

    if (node->type != FAAS_Y_MAPPING) {
        return faas_fail(ctx, node, "expected a mapping, got %s",
                         faas_describe(node, got, sizeof(got)));
    }

    for (k = node->child; k && k->next; k = k->next->next) {
        v = k->next;
        kp = ctx->path_len;
        faas_path_key(ctx, k->value, k->len);

        if (faas_key_is(k, "name")) {
            rc = faas_read_string(ctx, v, &name);

        } else if (faas_key_is(k, "runtime")) {
            rc = faas_read_string(ctx, v, &prov->runtime);

        } else if (faas_key_is(k, "timeout")) {
            rc = faas_read_seconds(ctx, v, &prov->timeout_ms);

        } else if (faas_key_is(k, "initTimeout")) {
            rc = faas_read_seconds(ctx, v, &prov->init_timeout_ms);

        } else if (faas_key_is(k, "memorySize")) {
            rc = faas_read_uint(ctx, v, 1, FAAS_MEMORY_MB_MAX,
                                &prov->memory_mb);

        } else if (faas_key_is(k, "concurrency")) {
            rc = faas_read_uint(ctx, v, 1, FAAS_CONCURRENCY_MAX,
                                &prov->concurrency);

        } else if (faas_key_is(k, "environment")) {
            rc = faas_read_env(ctx, v, &prov->env, &prov->nenv);

        } else {
            faas_ignored(ctx, k, 1, NULL);
            rc = FAAS_OK;
        }

        if (rc != FAAS_OK) {
            return FAAS_ERROR;
        }

        faas_path_pop(ctx, kp);
    }

    faas_path_pop(ctx, saved);

    return FAAS_OK;
}


static int
faas_read_functions(faas_ctx_t *ctx, faas_ynode_t *node,
    faas_provider_t *prov, faas_manifest_t *m)
{
    size_t            i, saved, kp;
    faas_ynode_t     *k;
    faas_function_t  *fn;
    char              got[FAAS_QUOTE_SIZE];

    saved = faas_path_push(ctx, "functions");

    if (faas_is_null(node) || (node->type == FAAS_Y_MAPPING && node->n == 0))
    {
        return faas_fail(ctx, node, "no functions are declared");
    }

    if (node->type != FAAS_Y_MAPPING) {
        return faas_fail(ctx, node, "expected a mapping, got %s",
                         faas_describe(node, got, sizeof(got)));
    }

    if (node->n / 2 > FAAS_FUNCTIONS_MAX) {
        return faas_fail(ctx, node, "more than %d functions",
                         FAAS_FUNCTIONS_MAX);
    }

    m->functions = faas_arena_alloc(ctx->pool,
                                    node->n / 2 * sizeof(faas_function_t));
    if (m->functions == NULL) {
        return faas_nomem(ctx, ctx->pool);
    }

    for (i = 0, k = node->child; k && k->next; k = k->next->next, i++) {

        if (faas_check_name(ctx, k) != FAAS_OK) {
            return FAAS_ERROR;
        }

        fn = &m->functions[i];

        fn->name = faas_arena_strndup(ctx->pool, k->value, k->len);
        if (fn->name == NULL) {
            return faas_nomem(ctx, ctx->pool);
        }

        fn->line = k->line;
        fn->column = k->column;

        kp = ctx->path_len;
        faas_path_key(ctx, k->value, k->len);

        /* counted first, so that a failure frees its aggregate too */

        m->nfunctions++;

        if (faas_read_function(ctx, k->next, prov, fn) != FAAS_OK) {
            return FAAS_ERROR;
        }

        faas_path_pop(ctx, kp);
    }

    faas_path_pop(ctx, saved);

    return FAAS_OK;
}


static int
faas_read_function(faas_ctx_t *ctx, faas_ynode_t *node,
    faas_provider_t *prov, faas_function_t *fn)
{
    int            rc;
    size_t         kp, nown;
    faas_kv_t     *own;
    faas_ynode_t  *k, *v, *env, *handler, *aggregate;
    char           got[FAAS_QUOTE_SIZE];

    fn->runtime = prov->runtime;
    fn->timeout_ms = prov->timeout_ms;
    fn->init_timeout_ms = prov->init_timeout_ms;
    fn->memory_mb = prov->memory_mb;
    fn->concurrency = prov->concurrency;
    fn->instances = 1;

    own = NULL;
    nown = 0;
    env = node;
    handler = NULL;
    aggregate = NULL;

    if (faas_is_null(node)) {
        goto defaults;
    }

    if (node->type != FAAS_Y_MAPPING) {
        return faas_fail(ctx, node, "expected a mapping, got %s",
                         faas_describe(node, got, sizeof(got)));
    }

    for (k = node->child; k && k->next; k = k->next->next) {
        v = k->next;
        kp = ctx->path_len;
        faas_path_key(ctx, k->value, k->len);

        if (faas_key_is(k, "handler")) {
            rc = faas_read_handler(ctx, v, &fn->handler);
            handler = k;
            fn->handler_line = k->line;
            fn->handler_column = k->column;

        } else if (faas_key_is(k, "aggregate")) {
            rc = faas_read_aggregate(ctx, k, v, fn);
            aggregate = k;

        } else if (faas_key_is(k, "initializer")) {
            rc = faas_read_handler(ctx, v, &fn->initializer);
            fn->initializer_line = k->line;
            fn->initializer_column = k->column;

        } else if (faas_key_is(k, "runtime")) {
            rc = faas_read_string(ctx, v, &fn->runtime);

            if (rc == FAAS_OK && fn->runtime == NULL) {
                fn->runtime = prov->runtime;
            }

        } else if (faas_key_is(k, "timeout")) {
            rc = faas_read_seconds(ctx, v, &fn->timeout_ms);

            if (rc == FAAS_OK && fn->timeout_ms == 0) {
                fn->timeout_ms = prov->timeout_ms;
            }

        } else if (faas_key_is(k, "initTimeout")) {
            rc = faas_read_seconds(ctx, v, &fn->init_timeout_ms);

            if (rc == FAAS_OK && fn->init_timeout_ms == 0) {
                fn->init_timeout_ms = prov->init_timeout_ms;
            }

        } else if (faas_key_is(k, "memorySize")) {
            rc = faas_read_uint(ctx, v, 1, FAAS_MEMORY_MB_MAX, &fn->memory_mb);

            if (rc == FAAS_OK && fn->memory_mb == 0) {
                fn->memory_mb = prov->memory_mb;
            }

        } else if (faas_key_is(k, "concurrency")) {
            rc = faas_read_uint(ctx, v, 1, FAAS_CONCURRENCY_MAX,
                                &fn->concurrency);

            if (rc == FAAS_OK && fn->concurrency == 0) {
                fn->concurrency = prov->concurrency;
            }

        } else if (faas_key_is(k, "instances")) {
            rc = faas_read_uint(ctx, v, 1, FAAS_INSTANCES_MAX,
                                &fn->instances);

            if (rc == FAAS_OK && fn->instances == 0) {
                fn->instances = 1;
            }

        } else if (faas_key_is(k, "environment")) {
            rc = faas_read_env(ctx, v, &own, &nown);
            env = v;

        } else if (faas_key_is(k, "events")) {
            rc = faas_read_events(ctx, v, fn);

        } else {
            faas_ignored(ctx, k, 1, NULL);
            rc = FAAS_OK;
        }

        if (rc != FAAS_OK) {
            return FAAS_ERROR;
        }

        faas_path_pop(ctx, kp);
    }

    if (aggregate) {
        if (fn->handler) {
            return faas_fail(ctx, aggregate, "a function either runs a "
                             "handler or aggregates calls, not both "
                             "(\"handler\" is at line %u)",
                             handler->line);
        }

        /* what would describe its workers, which it has none of */

        for (k = node->child; k && k->next; k = k->next->next) {
            if (faas_key_is(k, "initializer") || faas_key_is(k, "runtime")
                || faas_key_is(k, "timeout")
                || faas_key_is(k, "initTimeout")
                || faas_key_is(k, "memorySize")
                || faas_key_is(k, "concurrency")
                || faas_key_is(k, "instances")
                || faas_key_is(k, "environment"))
            {
                faas_ignored(ctx, k, 0, "an aggregate runs no workers");
            }
        }

        return faas_merge_env(ctx, env, prov, own, nown, fn);
    }

defaults:

    if (fn->handler == NULL) {
        fn->handler = faas_arena_strndup(ctx->pool, "index.handler",
                                         sizeof("index.handler") - 1);
        if (fn->handler == NULL) {
            return faas_nomem(ctx, ctx->pool);
        }

        fn->handler_line = fn->line;
        fn->handler_column = fn->column;
    }

    return faas_merge_env(ctx, env, prov, own, nown, fn);
}


static int
faas_read_events(faas_ctx_t *ctx, faas_ynode_t *node, faas_function_t *fn)
{
    size_t         i, kp, saved;
    faas_ynode_t  *item, *k;
    char           got[FAAS_QUOTE_SIZE];

    if (faas_is_null(node)) {
        return FAAS_OK;
    }

    if (node->type != FAAS_Y_SEQUENCE) {
        return faas_fail(ctx, node, "expected a sequence of events like "
                         "\"- http: {path: /x}\", got %s",
                         faas_describe(node, got, sizeof(got)));
    }

    if (node->n > FAAS_EVENTS_MAX) {
        return faas_fail(ctx, node, "more than %d events", FAAS_EVENTS_MAX);
    }

    if (node->n == 0) {
        return FAAS_OK;
    }

    fn->events = faas_arena_alloc(ctx->pool,
                                  node->n * sizeof(faas_http_event_t));
    if (fn->events == NULL) {
        return faas_nomem(ctx, ctx->pool);
    }

    for (i = 0, item = node->child; item; item = item->next, i++) {
        saved = faas_path_push(ctx, "[%zu]", i);

        if (item->type != FAAS_Y_MAPPING || item->n == 0) {
            return faas_fail(ctx, item, "expected an event like "
                             "\"http: {path: /x}\", got %s",
                             faas_describe(item, got, sizeof(got)));
        }

        if (item->n > 2) {
            return faas_fail(ctx, item->child->next->next,
                             "an event has one type, this one has %zu keys "
                             "(check the indentation: \"- http:\" takes "
                             "its path and method indented under it)",
                             item->n / 2);
        }

        k = item->child;

        if (faas_key_is(k, "http") || faas_key_is(k, "apigw")) {
            kp = ctx->path_len;
            faas_path_key(ctx, k->value, k->len);

            if (faas_read_http(ctx, item, k->next, fn) != FAAS_OK) {
                return FAAS_ERROR;
            }

            faas_path_pop(ctx, kp);

        } else {
            /* timer, oss, mq, ...: not routes */
            faas_ignored(ctx, k, 0, NULL);
        }

        faas_path_pop(ctx, saved);
    }

    return FAAS_OK;
}


static int
faas_read_http(faas_ctx_t *ctx, faas_ynode_t *item, faas_ynode_t *value,
    faas_function_t *fn)
{
    int                 on;
    size_t              kp;
    faas_ynode_t       *k, *v;
    faas_http_event_t  *ev;
    char                got[FAAS_QUOTE_SIZE];

    ev = &fn->events[fn->nevents];

    ev->line = item->line;
    ev->column = item->column;
    ev->methods = FAAS_METHODS_ANY;

    if (faas_is_bool(value, &on)) {
        if (!on) {
            return FAAS_OK;
        }

        goto catch_all;
    }

    if (value->type != FAAS_Y_MAPPING) {
        return faas_fail(ctx, value, "expected true or a mapping like "
                         "{path: /x, method: get}, got %s",
                         faas_describe(value, got, sizeof(got)));
    }

    for (k = value->child; k && k->next; k = k->next->next) {
        v = k->next;
        kp = ctx->path_len;

        if (faas_key_is(k, "path")) {
            faas_path_push(ctx, ".path");

            if (faas_read_path(ctx, v, &ev->path) != FAAS_OK) {
                return FAAS_ERROR;
            }

        } else if (faas_key_is(k, "method")) {
            faas_path_push(ctx, ".method");

            if (faas_read_methods(ctx, v, &ev->methods) != FAAS_OK) {
                return FAAS_ERROR;
            }

        } else {
            faas_ignored(ctx, k, 0, NULL);
        }

        faas_path_pop(ctx, kp);
    }

catch_all:

    if (ev->path == NULL) {
        ev->path = faas_arena_strndup(ctx->pool, "/*", 2);
        if (ev->path == NULL) {
            return faas_nomem(ctx, ctx->pool);
        }
    }

    fn->nevents++;

    return FAAS_OK;
}


static int
faas_read_methods(faas_ctx_t *ctx, faas_ynode_t *node, unsigned *methods)
{
    faas_ynode_t  *item;
    char           got[FAAS_QUOTE_SIZE];

    if (faas_is_null(node)) {
        *methods = FAAS_METHODS_ANY;
        return FAAS_OK;
    }

    *methods = 0;

    if (node->type == FAAS_Y_SCALAR) {
        if (faas_read_method_list(ctx, node, methods) != FAAS_OK) {
            return FAAS_ERROR;
        }

        goto done;
    }

    if (node->type != FAAS_Y_SEQUENCE) {
        return faas_fail(ctx, node, "expected a method, a list of methods "
                         "or \"any\", got %s",
                         faas_describe(node, got, sizeof(got)));
    }

    for (item = node->child; item; item = item->next) {
        if (item->type != FAAS_Y_SCALAR || faas_is_null(item)) {
            return faas_fail(ctx, item, "expected a method, got %s",
                             faas_describe(item, got, sizeof(got)));
        }

        if (faas_read_method_list(ctx, item, methods) != FAAS_OK) {
            return FAAS_ERROR;
        }
    }

done:

    /* Midway: an empty list or string is "any" */

    if (*methods == 0) {
        *methods = FAAS_METHODS_ANY;
    }

    return FAAS_OK;
}


/* "get", "any", or the "get,post" of Midway's documentation */

static int
faas_read_method_list(faas_ctx_t *ctx, faas_ynode_t *node, unsigned *methods)
{
    size_t       i, start, end;
    unsigned     m;
    const char  *s;
    char         name[FAAS_QUOTE_SIZE];

    s = node->value;
    i = 0;

    while (i <= node->len) {
        start = i;

        while (i < node->len && s[i] != ',') {
            i++;
        }

        end = i++;

        while (start < end && (s[start] == ' ' || s[start] == '\t')) {
            start++;
        }

        while (end > start && (s[end - 1] == ' ' || s[end - 1] == '\t')) {
            end--;
        }

        if (end == start) {
            continue;
        }

        if ((end - start == 3 && strncasecmp(s + start, "any", 3) == 0)
            || (end - start == 3 && strncasecmp(s + start, "all", 3) == 0))
        {
            *methods |= FAAS_METHODS_ANY;
            continue;
        }

        m = faas_method_parse(s + start, end - start);

        if (m == 0) {
            faas_quote(s + start, end - start, name, sizeof(name));
            return faas_fail(ctx, node, "unknown method %s", name);
        }

        *methods |= m;
    }

    return FAAS_OK;
}


static int
faas_read_env(faas_ctx_t *ctx, faas_ynode_t *node, faas_kv_t **env,
    size_t *nenv)
{
    size_t         i, kp;
    faas_kv_t     *kv;
    faas_ynode_t  *k;
    char           got[FAAS_QUOTE_SIZE], name[FAAS_QUOTE_SIZE];

    *env = NULL;
    *nenv = 0;

    if (faas_is_null(node)) {
        return FAAS_OK;
    }

    if (node->type != FAAS_Y_MAPPING) {
        return faas_fail(ctx, node, "expected a mapping of variables, got %s",
                         faas_describe(node, got, sizeof(got)));
    }

    if (node->n / 2 > FAAS_ENV_MAX) {
        return faas_fail(ctx, node, "more than %d variables", FAAS_ENV_MAX);
    }

    if (node->n == 0) {
        return FAAS_OK;
    }

    kv = faas_arena_alloc(ctx->pool, node->n / 2 * sizeof(faas_kv_t));
    if (kv == NULL) {
        return faas_nomem(ctx, ctx->pool);
    }

    for (i = 0, k = node->child; k && k->next; k = k->next->next, i++) {

        if (k->len == 0 || memchr(k->value, '=', k->len)
            || strlen(k->value) != k->len)
        {
            faas_quote(k->value, k->len, name, sizeof(name));
            return faas_fail(ctx, k, "invalid variable name %s", name);
        }

        kv[i].key = faas_arena_strndup(ctx->pool, k->value, k->len);
        if (kv[i].key == NULL) {
            return faas_nomem(ctx, ctx->pool);
        }

        kp = ctx->path_len;
        faas_path_key(ctx, k->value, k->len);

        /* values are taken as written: "true" stays "true" */

        if (faas_read_string(ctx, k->next, &kv[i].value) != FAAS_OK) {
            return FAAS_ERROR;
        }

        faas_path_pop(ctx, kp);

        if (kv[i].value == NULL) {
            kv[i].value = faas_arena_strndup(ctx->pool, "", 0);
            if (kv[i].value == NULL) {
                return faas_nomem(ctx, ctx->pool);
            }
        }
    }

    *env = kv;
    *nenv = i;

    return FAAS_OK;
}


/* the provider's variables in their order, the function's over them */

static int
faas_merge_env(faas_ctx_t *ctx, faas_ynode_t *node, faas_provider_t *prov,
    faas_kv_t *own, size_t nown, faas_function_t *fn)
{
    size_t      i, j, n;
    faas_kv_t  *env;

    if (nown == 0) {
        /* shared: the arena frees it once */
        fn->env = prov->env;
        fn->nenv = prov->nenv;
        return FAAS_OK;
    }

    n = prov->nenv + nown;
    ctx->env_total += n;

    if (ctx->env_total > FAAS_ENV_TOTAL_MAX) {
        return faas_fail(ctx, node, "more than %d environment variables in "
                         "all functions together", FAAS_ENV_TOTAL_MAX);
    }

    env = faas_arena_alloc(ctx->pool, n * sizeof(faas_kv_t));
    if (env == NULL) {
        return faas_nomem(ctx, ctx->pool);
    }

    if (prov->nenv) {
        memcpy(env, prov->env, prov->nenv * sizeof(faas_kv_t));
    }

    n = prov->nenv;

    for (i = 0; i < nown; i++) {
        for (j = 0; j < prov->nenv; j++) {
            if (strcmp(env[j].key, own[i].key) == 0) {
                env[j].value = own[i].value;
                break;
            }
        }

        if (j == prov->nenv) {
            env[n++] = own[i];
        }
    }

    fn->env = env;
    fn->nenv = n;

    return FAAS_OK;
}


/* "file.export": a code path under the manifest's directory, an export */

static int
faas_read_handler(faas_ctx_t *ctx, faas_ynode_t *node, char **out)
{
    char  msg[200];

    if (faas_read_string(ctx, node, out) != FAAS_OK) {
        return FAAS_ERROR;
    }

    if (*out == NULL) {
        return FAAS_OK;
    }

    if (faas_handler_check(node->value, node->len, msg, sizeof(msg))
        != FAAS_OK)
    {
        return faas_fail(ctx, node, "%s", msg);
    }

    return FAAS_OK;
}


int
faas_handler_check(const char *s, size_t len, char *msg, size_t size)
{
    size_t  i, dot, seg;
    char    got[FAAS_QUOTE_SIZE];

    faas_quote(s, len, got, sizeof(got));

    if (len > FAAS_HANDLER_MAX) {
        snprintf(msg, size, "longer than %d bytes", FAAS_HANDLER_MAX);
        return FAAS_ERROR;
    }

    if (memchr(s, '\0', len) != NULL) {
        snprintf(msg, size, "contains a NUL character");
        return FAAS_ERROR;
    }

    for (dot = len; dot > 0 && s[dot - 1] != '.'; dot--) {
        /* void */
    }

    if (dot < 2 || dot == len) {
        snprintf(msg, size, "expected \"file.export\" like "
                 "\"index.handler\", got %s", got);
        return FAAS_ERROR;
    }

    for (i = dot; i < len; i++) {
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')
              || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '$'))
        {
            snprintf(msg, size, "the export after the last \".\" must be "
                     "a JavaScript name, got %s", got);
            return FAAS_ERROR;
        }
    }

    if (s[0] == '/') {
        snprintf(msg, size, "the file part must be a relative path, got %s",
                 got);
        return FAAS_ERROR;
    }

    for (i = 0; i < dot - 1; i++) {
        if ((unsigned char) s[i] < 0x20 || s[i] == 0x7f || s[i] == '\\') {
            snprintf(msg, size, "the file part may not hold control "
                     "characters or \"\\\", got %s", got);
            return FAAS_ERROR;
        }
    }

    /* ".." as a whole segment only: "a..b.handler" is a name */

    for (seg = 0, i = 0; i <= dot - 1; i++) {
        if (i == dot - 1 || s[i] == '/') {
            if (i - seg == 2 && s[seg] == '.' && s[seg + 1] == '.') {
                snprintf(msg, size, "the file part may not leave the "
                         "manifest's directory with \"..\", got %s", got);
                return FAAS_ERROR;
            }

            seg = i + 1;
        }
    }

    return FAAS_OK;
}


int
faas_manifest_check_code(const faas_manifest_t *m, faas_error_t *err)
{
    int                     rc;
    char                    path[PATH_MAX];
    size_t                  i, k, len;
    unsigned                line, column;
    const char             *dir, *ref, *what;
    const faas_function_t  *fn;

    dir = m->dir ? m->dir : ".";

    for (i = 0; i < m->nfunctions; i++) {
        fn = &m->functions[i];

        if (fn->aggregate != NULL) {
            continue;
        }

        for (k = 0; k < 2; k++) {
            if (k == 0) {
                what = "handler";
                ref = fn->handler;
                line = fn->handler_line;
                column = fn->handler_column;

            } else {
                what = "initializer";
                ref = fn->initializer;
                line = fn->initializer_line;
                column = fn->initializer_column;
            }

            if (ref == NULL) {
                continue;
            }

            rc = faas_code_file(dir, ref, path, sizeof(path));

            if (rc != FAAS_AGAIN) {
                continue;
            }

            len = strrchr(ref, '.') - ref;

            faas_error_set(err, m->file, line, column,
                           "functions.%s.%s: \"%s\" needs %.*s.js (or "
                           "%.*s, .cjs, .mjs) in %s, and there is none",
                           fn->name, what, ref, (int) len, ref, (int) len,
                           ref, dir);
            return FAAS_ERROR;
        }
    }

    return FAAS_OK;
}


int
faas_code_file(const char *dir, const char *ref, char *path, size_t size)
{
    int           n;
    size_t        i, base;
    struct stat   st;
    const char   *dot;

    static const char  *exts[] = { "", ".js", ".cjs", ".mjs" };

    dot = strrchr(ref, '.');
    if (dot == NULL || dot == ref) {
        errno = EINVAL;
        return FAAS_ERROR;
    }

    n = snprintf(path, size, "%s/%.*s", dir, (int) (dot - ref), ref);
    if (n < 0 || (size_t) n + sizeof(".cjs") > size) {
        errno = ENAMETOOLONG;
        return FAAS_ERROR;
    }

    base = n;

    for (i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
        memcpy(path + base, exts[i], strlen(exts[i]) + 1);

        if (stat(path, &st) == 0) {
            if (S_ISREG(st.st_mode)) {
                return FAAS_OK;
            }

            continue;
        }

        if (errno != ENOENT && errno != ENOTDIR) {
            return FAAS_ERROR;
        }
    }

    path[base] = '\0';

    return FAAS_AGAIN;
}


static int
faas_read_path(faas_ctx_t *ctx, faas_ynode_t *node, char **out)
{
    size_t       i;
    const char  *s;
    char         got[FAAS_QUOTE_SIZE];

    if (faas_read_string(ctx, node, out) != FAAS_OK) {
        return FAAS_ERROR;
    }

    if (*out == NULL) {
        return FAAS_OK;
    }

    s = node->value;

    faas_quote(s, node->len, got, sizeof(got));

    if (node->len == 0 || s[0] != '/') {
        return faas_fail(ctx, node, "must start with \"/\", got %s", got);
    }

    if (node->len > FAAS_PATH_MAX) {
        return faas_fail(ctx, node, "longer than %d bytes", FAAS_PATH_MAX);
    }

    for (i = 0; i < node->len; i++) {
        if ((unsigned char) s[i] <= 0x20 || s[i] == 0x7f || s[i] == '?'
            || s[i] == '#')
        {
            return faas_fail(ctx, node, "may not hold spaces, control "
                             "characters, \"?\" or \"#\", got %s", got);
        }
    }

    return FAAS_OK;
}


/* names become socket file names: faas_socket_path() */

static int
faas_check_name(faas_ctx_t *ctx, faas_ynode_t *key)
{
    char  name[FAAS_QUOTE_SIZE];

    if (!faas_function_name_valid(key->value, key->len)) {
        faas_quote(key->value, key->len, name, sizeof(name));
        return faas_fail(ctx, key, "invalid function name %s: use 1 to %d "
                         "of A-Z a-z 0-9 _ -, not starting with \"-\"",
                         name, FAAS_FUNCTION_NAME_MAX);
    }

    return FAAS_OK;
}


int
faas_function_name_valid(const char *name, size_t len)
{
    return len > 0 && len <= FAAS_FUNCTION_NAME_MAX && name[0] != '-'
           && faas_name_chars(name, len, "_-");
}
