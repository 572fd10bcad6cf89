/*
 * Copyright (C) ngx_faas authors
 *
 * faasctl release, promote and rollback: changes to one function's entry
 * that may need versions warmed up first (docs/faasctl.md).  Each is
 * judged whole before anything is written, then made in up to two
 * generations: the versions it needs join "versions", and once they are
 * ready, the change itself, with the function's previous entry pushed
 * onto P:history:FN (or popped from it, for a rollback) in the same
 * transaction.
 */


#define _GNU_SOURCE

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "faasctl.h"


typedef enum {
    FAASCTL_WARM = 0,           /* the versions needed join "versions" */
    FAASCTL_APPLY,              /* the change */
    FAASCTL_UNWARM              /* they did not come up: they leave */
} faasctl_phase_e;


typedef struct faasctl_change_s  faasctl_change_t;

typedef int (*faasctl_apply_pt)(faasctl_t *ctl, faasctl_view_t *next,
    faas_table_function_t *f, faasctl_change_t *c);


/* a version read from its record, P:version:FN:V */
typedef struct {
    faas_version_t        *version;
    faas_table_route_t    *routes;
    size_t                 nroutes;
} faasctl_record_t;


struct faasctl_change_s {
    const char            *function;
    faasctl_phase_e        phase;
    faasctl_apply_pt       apply;
    unsigned               checking:1;
    unsigned               warmed:1;

    /* what must be warm; the active one if the function comes back */
    const faas_version_t **need;
    size_t                 nneed;
    const char            *need_active;

    const char           **added;       /* by the warm-up */
    size_t                 nadded;

    char                  *before;      /* the entry before, JSON */
    char                  *note;        /* NULL: nothing pushed */

    /* release */
    cJSON                 *policy;
    char                  *result;      /* the policy written, JSON */

    /* release and promote */
    faasctl_record_t      *records;
    size_t                 nrecords;
    const char            *version;     /* promote */
    faasctl_record_t      *promoted;

    /* rollback */
    char                  *head;        /* the history entry undone */
    cJSON                 *head_json;
    faas_table_t          *restore;     /* NULL: the function goes */
};


static int faasctl_change_run(faasctl_t *ctl, faasctl_change_t *c,
    uint64_t *generation);
static int faasctl_change_build(faasctl_t *ctl, const faas_table_t *current,
    faasctl_view_t *next, void *data);
static int faasctl_change_warm(faasctl_view_t *next,
    faas_table_function_t *f, faasctl_change_t *c);
static int faasctl_change_unwarm(faasctl_view_t *next,
    faas_table_function_t *f, faasctl_change_t *c);
static void faasctl_change_back(faasctl_t *ctl, faasctl_change_t *c);
static void faasctl_change_free(faasctl_change_t *c);
static int faasctl_need(faasctl_change_t *c, const faas_version_t *v);
static int faasctl_has_version(const faas_table_function_t *f,
    const char *name);
static int faasctl_record(faasctl_t *ctl, faasctl_change_t *c,
    const char *version, faasctl_record_t **out);
static int faasctl_no_function(faasctl_view_t *next, const char *name);
static int faasctl_function_arg(const char *name);
static int faasctl_unchanged(faasctl_t *ctl, const char *function);
static int faasctl_change_write(faasctl_t *ctl, faasctl_change_t *c,
    uint64_t *generation, int *rc);

static int faasctl_release_apply(faasctl_t *ctl, faasctl_view_t *next,
    faas_table_function_t *f, faasctl_change_t *c);
static int faasctl_promote_apply(faasctl_t *ctl, faasctl_view_t *next,
    faas_table_function_t *f, faasctl_change_t *c);
static int faasctl_routes_equal(const faas_table_function_t *f,
    const faasctl_record_t *rec);
static int faasctl_rollback_load(faasctl_t *ctl, faasctl_change_t *c);
static int faasctl_rollback_apply(faasctl_t *ctl, faasctl_view_t *next,
    faas_table_function_t *f, faasctl_change_t *c);


int
faasctl_release(faasctl_t *ctl, int argc, char **argv)
{
    int                   rc;
    size_t                i, k;
    cJSON                *root, *item, *list;
    uint64_t              g;
    faas_error_t          err;
    faasctl_record_t     *rec;
    faasctl_change_t      c;
    faas_release_args_t   args;

    if (argc != 1) {
        faasctl_usage_error(argc ? "release takes one function"
                                 : "release: no function");
        return 2;
    }

    if (ctl->weights == NULL && ctl->nrules == 0) {
        faasctl_usage_error("release: --weights or --rule needed");
        return 2;
    }

    memset(&c, 0, sizeof(faasctl_change_t));
    memset(&args, 0, sizeof(faas_release_args_t));

    c.function = argv[0];
    c.apply = faasctl_release_apply;

    /* the engine reads the options; what it says is faasctl's to print */

    if (faas_release_args_parse(&args, ctl->weights, ctl->sticky, ctl->rules,
                                ctl->nrules, &err)
        != FAAS_OK)
    {
        if (args.syntax) {
            faasctl_usage_error("%s: %s", err.file, err.msg);
            rc = 2;

        } else {
            if (err.file) {
                faasctl_error("%s: %s", err.file, err.msg);

            } else {
                faasctl_error("%s", err.msg);
            }

            rc = 1;
        }

        goto done;
    }

    c.policy = args.policy;
    c.note = args.note;
    args.policy = NULL;
    args.note = NULL;

    rc = 1;

    if (!faasctl_function_arg(argv[0])) {
        goto done;
    }

    /*
     * Every version named is loaded from its record, so that one that is
     * not warm can be warmed up; one without a record must be warm.
     */

    c.records = calloc(args.nnames + 1, sizeof(faasctl_record_t));
    c.need = calloc(args.nnames + 1, sizeof(faas_version_t *));
    c.added = calloc(args.nnames + 1, sizeof(char *));

    if (c.records == NULL || c.need == NULL || c.added == NULL) {
        faasctl_error("out of memory");
        goto done;
    }

    for (i = 0; i < args.nnames; i++) {
        switch (faasctl_record(ctl, &c, args.names[i], &rec)) {
        case FAAS_OK:
            if (faasctl_need(&c, rec->version) != FAAS_OK) {
                goto done;
            }

            break;
        case FAASCTL_UNCHANGED:
            break;
        default:
            goto done;
        }
    }

    if (faasctl_change_write(ctl, &c, &g, &rc) != FAAS_OK) {
        goto done;
    }

    if (!ctl->json) {
        printf("%s: %s (generation %" PRIu64 ")\n", argv[0], c.note, g);
        rc = 0;
        goto done;
    }

    root = cJSON_CreateObject();
    item = c.result ? cJSON_Parse(c.result) : NULL;

    if (item) {
        cJSON_AddItemToObject(root, "release", item);
    }

    if (item == NULL
        || cJSON_AddStringToObject(root, "function", argv[0]) == NULL
        || cJSON_AddNumberToObject(root, "generation", (double) g) == NULL
        || cJSON_AddTrueToObject(root, "changed") == NULL
        || cJSON_AddStringToObject(root, "note", c.note) == NULL
        || (list = cJSON_AddArrayToObject(root, "warmed")) == NULL)
    {
        cJSON_Delete(root);
        rc = faasctl_json_print(NULL);
        goto done;
    }

    for (k = 0; k < c.nadded; k++) {
        item = cJSON_CreateString(c.added[k]);
        if (item == NULL) {
            cJSON_Delete(root);
            root = NULL;
            break;
        }

        cJSON_AddItemToArray(list, item);
    }

    rc = faasctl_json_print(root);

done:

    faasctl_change_free(&c);
    faas_release_args_free(&args);

    return rc;
}


int
faasctl_promote(faasctl_t *ctl, int argc, char **argv)
{
    int               rc;
    cJSON            *root;
    uint64_t          g;
    faasctl_change_t  c;

    if (argc != 2) {
        faasctl_usage_error(argc > 2 ? "promote takes a function and a "
                                       "version"
                                     : "promote: FUNCTION VERSION needed");
        return 2;
    }

    if (!faasctl_function_arg(argv[0])) {
        return 1;
    }

    if (!faas_version_name_valid(argv[1], strlen(argv[1]))) {
        faasctl_error("invalid version name \"%s\"", argv[1]);
        return 1;
    }

    memset(&c, 0, sizeof(faasctl_change_t));

    c.function = argv[0];
    c.version = argv[1];
    c.apply = faasctl_promote_apply;

    rc = 1;

    c.records = calloc(1, sizeof(faasctl_record_t));
    c.need = calloc(1, sizeof(faas_version_t *));
    c.added = calloc(1, sizeof(char *));

    if (c.records == NULL || c.need == NULL || c.added == NULL
        || asprintf(&c.note, "promote %s", argv[1]) < 0)
    {
        c.note = NULL;
        faasctl_error("out of memory");
        goto done;
    }

    /* the routes are the record's: it must be there */

    switch (faasctl_record(ctl, &c, argv[1], &c.promoted)) {
    case FAAS_OK:
        break;
    case FAASCTL_UNCHANGED:
        faasctl_error("%s has no version \"%s\" to promote (no record)",
                      argv[0], argv[1]);
        goto done;
    default:
        goto done;
    }

    if (faasctl_need(&c, c.promoted->version) != FAAS_OK) {
        goto done;
    }

    if (faasctl_change_write(ctl, &c, &g, &rc) != FAAS_OK) {
        goto done;
    }

    if (!ctl->json) {
        printf("%s %s (generation %" PRIu64 ")\n", argv[0], argv[1], g);
        rc = 0;
        goto done;
    }

    root = cJSON_CreateObject();

    if (cJSON_AddStringToObject(root, "function", argv[0]) == NULL
        || cJSON_AddStringToObject(root, "version", argv[1]) == NULL
        || cJSON_AddNumberToObject(root, "generation", (double) g) == NULL
        || cJSON_AddTrueToObject(root, "changed") == NULL)
    {
        cJSON_Delete(root);
        root = NULL;
    }

    rc = faasctl_json_print(root);

done:

    faasctl_change_free(&c);

    return rc;
}


int
faasctl_rollback(faasctl_t *ctl, int argc, char **argv)
{
    int                           rc;
    cJSON                        *root, *entry, *note;
    uint64_t                      g;
    const char                   *what;
    faasctl_change_t              c;

    rc = faasctl_function_args("rollback", argc, argv);
    if (rc != 0) {
        return rc;
    }

    memset(&c, 0, sizeof(faasctl_change_t));

    c.function = argv[0];
    c.apply = faasctl_rollback_apply;

    rc = 1;

    if (faasctl_rollback_load(ctl, &c) != FAAS_OK) {
        goto done;
    }

    if (faasctl_change_run(ctl, &c, &g) != FAAS_OK) {
        goto done;
    }

    note = cJSON_GetObjectItemCaseSensitive(c.head_json, "note");
    what = cJSON_IsString(note) ? note->valuestring : "?";

    if (!ctl->json) {
        printf("%s: undid \"%s\"%s (generation %" PRIu64 ")\n", argv[0],
               what, c.restore ? "" : ", removed", g);
        rc = 0;
        goto done;
    }

    root = cJSON_CreateObject();
    entry = cJSON_GetObjectItemCaseSensitive(c.head_json, "entry");
    entry = entry ? cJSON_Duplicate(entry, 1) : cJSON_CreateNull();

    if (entry) {
        cJSON_AddItemToObject(root, "entry", entry);
    }

    if (entry == NULL
        || cJSON_AddStringToObject(root, "function", argv[0]) == NULL
        || cJSON_AddNumberToObject(root, "generation", (double) g) == NULL
        || cJSON_AddStringToObject(root, "undone", what) == NULL)
    {
        cJSON_Delete(root);
        root = NULL;
    }

    rc = faasctl_json_print(root);

done:

    faasctl_change_free(&c);

    return rc;
}


/*
 * The change, judged, then made: FAAS_OK, FAAS_ERROR (said), or
 * FAASCTL_UNCHANGED when the function already is as asked.
 */

static int
faasctl_change_run(faasctl_t *ctl, faasctl_change_t *c, uint64_t *generation)
{
    int              rc;
    size_t           i, k;
    faasctl_warm_t  *warm;

    if (faasctl_connect(ctl) != FAAS_OK) {
        return FAAS_ERROR;
    }

    /* the table it ends with, as if the versions were warm already */

    c->phase = FAASCTL_APPLY;
    c->checking = 1;

    rc = faasctl_check(ctl, faasctl_change_build, c);

    c->checking = 0;

    if (rc != FAAS_OK) {
        return rc;
    }

    faasctl_signals(1);

    c->phase = FAASCTL_WARM;

    rc = faasctl_switch(ctl, faasctl_change_build, c, generation);

    if (rc == FAAS_ERROR) {
        return FAAS_ERROR;
    }

    if (rc == FAAS_OK) {
        c->warmed = 1;

        warm = calloc(c->nadded + 1, sizeof(faasctl_warm_t));
        if (warm == NULL) {
            faasctl_error("out of memory");
            faasctl_change_back(ctl, c);
            return FAAS_ERROR;
        }

        for (i = 0; i < c->nadded; i++) {
            warm[i].function = c->function;
            warm[i].version = c->added[i];
            warm[i].instances = 1;

            for (k = 0; k < c->nneed; k++) {
                if (strcmp(c->need[k]->name, c->added[i]) == 0) {
                    warm[i].instances = c->need[k]->instances;
                }
            }
        }

        rc = faasctl_wait(ctl, warm, c->nadded);
        free(warm);

        if (rc != FAAS_OK) {
            faasctl_change_back(ctl, c);
            return FAAS_ERROR;
        }
    }

    c->phase = FAASCTL_APPLY;

    rc = faasctl_switch(ctl, faasctl_change_build, c, generation);

    if (rc != FAAS_OK && c->warmed) {
        faasctl_change_back(ctl, c);
    }

    return rc;
}


static int
faasctl_change_build(faasctl_t *ctl, const faas_table_t *current,
    faasctl_view_t *next, void *data)
{
    int                     rc;
    faasctl_change_t       *c;
    faas_table_function_t  *f;

    (void) current;

    c = data;
    f = faasctl_view_find(next, c->function);

    if (c->phase == FAASCTL_UNWARM) {
        return faasctl_change_unwarm(next, f, c);
    }

    /* what the history keeps: the entry before the first generation */

    if (!c->checking && (c->phase == FAASCTL_WARM || !c->warmed)) {
        free(c->before);

        c->before = faasctl_view_entry(f);
        if (c->before == NULL) {
            return FAAS_ERROR;
        }
    }

    if (c->phase == FAASCTL_WARM) {
        return faasctl_change_warm(next, f, c);
    }

    rc = c->apply(ctl, next, f, c);

    if (rc != FAAS_OK || c->checking || c->note == NULL) {
        return rc;
    }

    return faasctl_view_history(next, c->function, c->note, c->before, 0,
                                NULL);
}


/* the versions needed that are not warm join "versions" */

static int
faasctl_change_warm(faasctl_view_t *next, faas_table_function_t *f,
    faasctl_change_t *c)
{
    size_t                   i, n;
    faas_table_function_t    entry;
    const faas_version_t   **list;

    c->nadded = 0;

    if (f == NULL && c->need_active == NULL) {
        /* gone meanwhile: the change says so */
        return FAASCTL_UNCHANGED;
    }

    n = f ? f->nversions : 0;

    list = faasctl_view_alloc(next, (n + c->nneed + 1) * sizeof(void *));
    if (list == NULL) {
        return FAAS_ERROR;
    }

    for (i = 0; i < n; i++) {
        list[i] = &f->versions[i];
    }

    for (i = 0; i < c->nneed; i++) {
        if (!faasctl_has_version(f, c->need[i]->name)) {
            list[n++] = c->need[i];
            c->added[c->nadded++] = c->need[i]->name;
        }
    }

    if (c->nadded == 0) {
        return FAASCTL_UNCHANGED;
    }

    if (f) {
        return faasctl_view_set_versions(next, f, list, n, f->active->name);
    }

    /* a function that comes back: warm first, with no routes yet */

    memset(&entry, 0, sizeof(faas_table_function_t));
    entry.name = (char *) c->function;

    if (faasctl_view_set_versions(next, &entry, list, n, c->need_active)
        != FAAS_OK)
    {
        return FAAS_ERROR;
    }

    return faasctl_view_put(next, &entry);
}


/*
 * The versions the warm-up added leave again, but for those that became
 * active or that a policy names meanwhile; a function that came back
 * with them leaves whole.
 */

static int
faasctl_change_unwarm(faasctl_view_t *next, faas_table_function_t *f,
    faasctl_change_t *c)
{
    size_t                   i, k, n;
    const char              *name;
    const faas_version_t   **keep;

    if (f == NULL) {
        return FAASCTL_UNCHANGED;
    }

    keep = faasctl_view_alloc(next, (f->nversions + 1) * sizeof(void *));
    if (keep == NULL) {
        return FAAS_ERROR;
    }

    n = 0;

    for (i = 0; i < f->nversions; i++) {
        name = f->versions[i].name;

        for (k = 0; k < c->nadded; k++) {
            if (strcmp(name, c->added[k]) == 0) {
                break;
            }
        }

        if (k < c->nadded
            && f->active != &f->versions[i]
            && !faas_release_names(f->release, name))
        {
            continue;
        }

        keep[n++] = &f->versions[i];
    }

    if (c->before && strcmp(c->before, "null") == 0 && f->nroutes == 0
        && n == 1 && f->release == NULL)
    {
        for (k = 0; k < c->nadded; k++) {
            if (strcmp(keep[0]->name, c->added[k]) == 0) {
                return faasctl_view_remove(next, c->function);
            }
        }
    }

    if (n == f->nversions) {
        return FAASCTL_UNCHANGED;
    }

    return faasctl_view_set_versions(next, f, keep, n, f->active->name);
}


/* a failed change: the versions it warmed up leave */

static void
faasctl_change_back(faasctl_t *ctl, faasctl_change_t *c)
{
    uint64_t  g;

    if (ctl->ctx == NULL && faasctl_connect(ctl) != FAAS_OK) {
        faasctl_error("versions warmed up for %s are still in the table",
                      c->function);
        return;
    }

    c->phase = FAASCTL_UNWARM;

    if (faasctl_switch(ctl, faasctl_change_build, c, &g) == FAAS_ERROR) {
        faasctl_error("versions warmed up for %s are still in the table",
                      c->function);
    }
}


static void
faasctl_change_free(faasctl_change_t *c)
{
    size_t  i;

    faasctl_signals(0);

    for (i = 0; c->records && i < c->nrecords; i++) {
        faas_version_free(c->records[i].version, c->records[i].routes,
                          c->records[i].nroutes);
    }

    free(c->records);
    free(c->need);
    free(c->added);
    free(c->before);
    free(c->note);
    free(c->result);
    free(c->head);

    cJSON_Delete(c->policy);
    cJSON_Delete(c->head_json);
    faas_table_free(c->restore);
}


static int
faasctl_need(faasctl_change_t *c, const faas_version_t *v)
{
    size_t  i;

    for (i = 0; i < c->nneed; i++) {
        if (strcmp(c->need[i]->name, v->name) == 0) {
            return FAAS_OK;
        }
    }

    c->need[c->nneed++] = v;

    return FAAS_OK;
}


static int
faasctl_has_version(const faas_table_function_t *f, const char *name)
{
    size_t  i;

    for (i = 0; f && i < f->nversions; i++) {
        if (strcmp(f->versions[i].name, name) == 0) {
            return 1;
        }
    }

    return 0;
}


/*
 * P:version:FN:V, checked with the engine: FAAS_OK, FAASCTL_UNCHANGED
 * when there is none, FAAS_ERROR (said).  "c->records" has room.
 */

static int
faasctl_record(faasctl_t *ctl, faasctl_change_t *c, const char *version,
    faasctl_record_t **out)
{
    int                rc;
    char               key[FAAS_KEY_MAX];
    redisReply        *r;
    faas_error_t       err;
    faasctl_record_t  *rec;

    if (faas_key_version(key, sizeof(key), ctl->prefix, c->function, version)
        == 0)
    {
        return faasctl_prefix_error(ctl);
    }

    r = faasctl_command(ctl, key, "GET %s", key);
    if (r == NULL) {
        return FAAS_ERROR;
    }

    if (r->type != REDIS_REPLY_STRING) {
        freeReplyObject(r);
        return FAASCTL_UNCHANGED;
    }

    rec = &c->records[c->nrecords];

    rc = faas_version_parse(key, r->str, r->len, &rec->version, &rec->routes,
                            &rec->nroutes, &err);
    freeReplyObject(r);

    if (rc != FAAS_OK) {
        faasctl_error_engine(&err);
        return FAAS_ERROR;
    }

    c->nrecords++;
    *out = rec;

    if (strcmp(rec->version->name, version) != 0) {
        faasctl_error("%s: the record of version \"%s\"", key,
                      rec->version->name);
        return FAAS_ERROR;
    }

    return FAAS_OK;
}


static int
faasctl_no_function(faasctl_view_t *next, const char *name)
{
    faasctl_error("no function \"%s\" in the table (generation %" PRIu64 ")",
                  name, next->table.generation - 1);

    return FAAS_ERROR;
}


static int
faasctl_function_arg(const char *name)
{
    if (!faas_function_name_valid(name, strlen(name))) {
        faasctl_error("invalid function name \"%s\"", name);
        return 0;
    }

    return 1;
}


/*
 * Writes the change: FAAS_OK with the generation written; otherwise
 * FAAS_ERROR with the exit code in "rc", that of faasctl_unchanged() when
 * there was nothing to write.
 */

static int
faasctl_change_write(faasctl_t *ctl, faasctl_change_t *c,
    uint64_t *generation, int *rc)
{
    switch (faasctl_change_run(ctl, c, generation)) {
    case FAAS_OK:
        return FAAS_OK;
    case FAASCTL_UNCHANGED:
        *rc = faasctl_unchanged(ctl, c->function);
        return FAAS_ERROR;
    default:
        *rc = 1;
        return FAAS_ERROR;
    }
}


/* the function already is as asked: nothing written */

static int
faasctl_unchanged(faasctl_t *ctl, const char *function)
{
    cJSON     *root;
    uint64_t   g;

    if (faasctl_generation(ctl, &g) != FAAS_OK) {
        return 1;
    }

    if (!ctl->json) {
        printf("%s: nothing to change (generation %" PRIu64 ")\n", function,
               g);
        return 0;
    }

    root = cJSON_CreateObject();

    if (cJSON_AddStringToObject(root, "function", function) == NULL
        || cJSON_AddNumberToObject(root, "generation", (double) g) == NULL
        || cJSON_AddFalseToObject(root, "changed") == NULL)
    {
        cJSON_Delete(root);
        root = NULL;
    }

    return faasctl_json_print(root);
}


/*
 * The policy replaces the one in force; the versions it names join
 * "versions" (warm by now, or being judged); active version and routes
 * stay.
 */

static int
faasctl_release_apply(faasctl_t *ctl, faasctl_view_t *next,
    faas_table_function_t *f, faasctl_change_t *c)
{
    int                      same;
    char                    *was;
    size_t                   i, n, added;
    const faas_version_t   **list;
    const faas_release_t    *old;

    (void) ctl;

    if (f == NULL) {
        return faasctl_no_function(next, c->function);
    }

    list = faasctl_view_alloc(next,
                              (f->nversions + c->nneed + 1) * sizeof(void *));
    if (list == NULL) {
        return FAAS_ERROR;
    }

    for (n = 0; n < f->nversions; n++) {
        list[n] = &f->versions[n];
    }

    added = 0;

    for (i = 0; i < c->nneed; i++) {
        if (!faasctl_has_version(f, c->need[i]->name)) {
            list[n++] = c->need[i];
            added++;
        }
    }

    if (added
        && faasctl_view_set_versions(next, f, list, n, f->active->name)
           != FAAS_OK)
    {
        return FAAS_ERROR;
    }

    old = f->release;

    if (faasctl_view_release(next, f, c->policy) != FAAS_OK) {
        return FAAS_ERROR;
    }

    free(c->result);

    c->result = faas_release_to_json(f->release);
    was = old ? faas_release_to_json(old) : NULL;

    if (c->result == NULL || (old && was == NULL)) {
        free(was);
        faasctl_error("out of memory");
        return FAAS_ERROR;
    }

    same = (added == 0 && was && strcmp(was, c->result) == 0);
    free(was);

    return same ? FAASCTL_UNCHANGED : FAAS_OK;
}


/*
 * All the traffic to one version: active, with the routes of its record,
 * alone in "versions", no policy.
 */

static int
faasctl_promote_apply(faasctl_t *ctl, faasctl_view_t *next,
    faas_table_function_t *f, faasctl_change_t *c)
{
    size_t                 i;
    const faas_version_t  *v;

    (void) ctl;

    if (f == NULL) {
        return faasctl_no_function(next, c->function);
    }

    if (f->nversions == 1 && f->release == NULL
        && strcmp(f->active->name, c->version) == 0
        && faasctl_routes_equal(f, c->promoted))
    {
        return FAASCTL_UNCHANGED;
    }

    /* the version as it is warm, when it is */

    v = c->promoted->version;

    for (i = 0; i < f->nversions; i++) {
        if (strcmp(f->versions[i].name, c->version) == 0) {
            v = &f->versions[i];
        }
    }

    if (faasctl_view_set_versions(next, f, &v, 1, c->version) != FAAS_OK) {
        return FAAS_ERROR;
    }

    f->routes = c->promoted->routes;
    f->nroutes = c->promoted->nroutes;
    f->release = NULL;

    return FAAS_OK;
}


static int
faasctl_routes_equal(const faas_table_function_t *f,
    const faasctl_record_t *rec)
{
    size_t  i;

    if (f->nroutes != rec->nroutes) {
        return 0;
    }

    for (i = 0; i < f->nroutes; i++) {
        if (strcmp(f->routes[i].path, rec->routes[i].path) != 0
            || f->routes[i].methods != rec->routes[i].methods)
        {
            return 0;
        }
    }

    return 1;
}


/*
 * The newest entry of P:history:FN, {"at", "note", "entry"}, and the
 * entry read as the engine reads a table.
 */

static int
faasctl_rollback_load(faasctl_t *ctl, faasctl_change_t *c)
{
    int                           rc;
    char                         *json, key[FAAS_KEY_MAX];
    char                          source[FAAS_KEY_MAX + 8];
    size_t                        i;
    cJSON                        *entry, *wrap, *fns;
    redisReply                   *r;
    faas_error_t                  err;
    const faas_table_function_t  *f;

    if (faasctl_key_history(ctl, key, sizeof(key), c->function) == 0) {
        return faasctl_prefix_error(ctl);
    }

    r = faasctl_command(ctl, key, "LINDEX %s 0", key);
    if (r == NULL) {
        return FAAS_ERROR;
    }

    if (r->type != REDIS_REPLY_STRING) {
        freeReplyObject(r);
        faasctl_error("nothing to roll back: no history of %s (%s is empty)",
                      c->function, key);
        return FAAS_ERROR;
    }

    c->head = strdup(r->str);
    freeReplyObject(r);

    if (c->head == NULL) {
        faasctl_error("out of memory");
        return FAAS_ERROR;
    }

    c->head_json = cJSON_Parse(c->head);
    entry = cJSON_GetObjectItemCaseSensitive(c->head_json, "entry");

    if (!cJSON_IsObject(c->head_json) || entry == NULL) {
        faasctl_error("%s: its newest entry is not {\"at\", \"note\", "
                      "\"entry\"}: repair it by hand (LPOP)", key);
        return FAAS_ERROR;
    }

    if (cJSON_IsNull(entry)) {
        /* the function was not there: it goes */
        return FAAS_OK;
    }

    wrap = cJSON_CreateObject();
    fns = cJSON_AddObjectToObject(wrap, "functions");

    if (fns == NULL || cJSON_AddNumberToObject(wrap, "generation", 1) == NULL)
    {
        cJSON_Delete(wrap);
        faasctl_error("out of memory");
        return FAAS_ERROR;
    }

    cJSON_AddItemReferenceToObject(fns, c->function, entry);

    json = cJSON_PrintUnformatted(wrap);
    cJSON_Delete(wrap);

    if (json == NULL) {
        faasctl_error("out of memory");
        return FAAS_ERROR;
    }

    snprintf(source, sizeof(source), "%s[0]", key);

    rc = faas_table_parse(source, json, strlen(json), &c->restore, &err);
    free(json);

    if (rc != FAAS_OK) {
        c->restore = NULL;
        faasctl_error_engine(&err);
        return FAAS_ERROR;
    }

    f = &c->restore->functions[0];

    c->need = calloc(f->nversions + 1, sizeof(faas_version_t *));
    c->added = calloc(f->nversions + 1, sizeof(char *));

    if (c->need == NULL || c->added == NULL) {
        faasctl_error("out of memory");
        return FAAS_ERROR;
    }

    for (i = 0; i < f->nversions; i++) {
        c->need[c->nneed++] = &f->versions[i];
    }

    c->need_active = f->active->name;

    return FAAS_OK;
}


/*
 * The entry goes back to what the history says, and the history loses
 * it, in one transaction; P:history:FN is watched, so that two rollbacks
 * at once undo two changes, not one twice.
 */

static int
faasctl_rollback_apply(faasctl_t *ctl, faasctl_view_t *next,
    faas_table_function_t *f, faasctl_change_t *c)
{
    int                     rc;
    char                    key[FAAS_KEY_MAX];
    faas_table_function_t   entry;

    if (!c->checking) {
        rc = faasctl_history_watch(ctl, c->function, c->head, key,
                                   sizeof(key));

        if (rc == FAASCTL_UNCHANGED) {
            faasctl_error("%s changed meanwhile (another change to %s): "
                          "nothing rolled back", key, c->function);
        }

        if (rc != FAAS_OK) {
            return FAAS_ERROR;
        }

        if (faasctl_view_history(next, c->function, NULL, NULL, 1, NULL)
            != FAAS_OK)
        {
            return FAAS_ERROR;
        }
    }

    if (c->restore == NULL) {
        if (f) {
            (void) faasctl_view_remove(next, c->function);
        }

        return FAAS_OK;
    }

    entry = c->restore->functions[0];
    entry.name = (char *) c->function;

    return faasctl_view_put(next, &entry);
}
