/*
 * Copyright (C) ngx_faas authors
 *
 * faasctl status and history: a function's release, read only.
 */


#define _GNU_SOURCE

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "faasctl.h"


static int faasctl_status_versions(faasctl_t *ctl,
    const faas_table_function_t *f, cJSON *list);
static void faasctl_status_policy(const faas_table_function_t *f,
    cJSON *policy);
static void faasctl_print_split(cJSON *split);
static void faasctl_print_rule(cJSON *rule);


int
faasctl_status(faasctl_t *ctl, int argc, char **argv)
{
    int                           rc;
    char                         *json;
    cJSON                        *root, *list, *policy;
    uint64_t                      g;
    const char                   *name;
    faas_table_t                 *t;
    const faas_table_function_t  *f;

    rc = faasctl_function_args("status", argc, argv);
    if (rc != 0) {
        return rc;
    }

    name = argv[0];

    if (faasctl_function_read(ctl, name, &g, &t, &f) != FAAS_OK) {
        return 1;
    }

    /* the policy as the engine writes it: splits newest first */

    policy = NULL;

    if (f->release) {
        json = faas_release_to_json(f->release);
        policy = json ? cJSON_Parse(json) : NULL;
        free(json);

        if (policy == NULL) {
            faas_table_free(t);
            faasctl_error("out of memory");
            return 1;
        }
    }

    root = NULL;
    list = NULL;

    if (ctl->json) {
        root = cJSON_CreateObject();

        if (cJSON_AddStringToObject(root, "function", f->name) == NULL
            || cJSON_AddNumberToObject(root, "generation", (double) g)
               == NULL
            || cJSON_AddStringToObject(root, "active", f->active->name)
               == NULL
            || (list = cJSON_AddArrayToObject(root, "versions")) == NULL)
        {
            goto nomem;
        }

    } else {
        printf("function    %s\n", f->name);
        printf("generation  %" PRIu64 "\n", g);
        printf("active      %s\n", f->active->name);
    }

    rc = faasctl_status_versions(ctl, f, list);

    if (rc != FAAS_OK) {
        cJSON_Delete(root);
        cJSON_Delete(policy);
        faas_table_free(t);
        return 1;
    }

    if (!ctl->json) {
        faasctl_status_policy(f, policy);
        cJSON_Delete(policy);
        faas_table_free(t);
        return 0;
    }

    if (policy) {
        cJSON_AddItemToObject(root, "release", policy);
        policy = NULL;

    } else if (cJSON_AddNullToObject(root, "release") == NULL) {
        goto nomem;
    }

    faas_table_free(t);

    return faasctl_json_print(root);

nomem:

    cJSON_Delete(root);
    cJSON_Delete(policy);
    faas_table_free(t);

    return faasctl_json_print(NULL);
}


/* each version kept warm, with its live endpoints (ZCOUNT from now) */

static int
faasctl_status_versions(faasctl_t *ctl, const faas_table_function_t *f,
    cJSON *list)
{
    int                    w;
    char                   key[FAAS_KEY_MAX];
    size_t                 i;
    cJSON                 *item;
    long long              live;
    redisReply            *r;
    const char            *role;
    const faas_version_t  *v;

    w = 0;

    for (i = 0; i < f->nversions; i++) {
        if ((int) strlen(f->versions[i].name) > w) {
            w = strlen(f->versions[i].name);
        }
    }

    for (i = 0; i < f->nversions; i++) {
        v = &f->versions[i];

        if (faas_key_endpoints(key, sizeof(key), ctl->prefix, f->name,
                               v->name)
            == 0)
        {
            return faasctl_prefix_error(ctl);
        }

        r = faasctl_command(ctl, key, "ZCOUNT %s %" PRIu64 " +inf", key,
                            faasctl_now_ms());
        if (r == NULL) {
            return FAAS_ERROR;
        }

        live = (r->type == REDIS_REPLY_INTEGER) ? r->integer : 0;
        freeReplyObject(r);

        if (list == NULL) {
            if (v == f->active) {
                role = "  (active)";

            } else if (f->release && faas_release_names(f->release, v->name))
            {
                role = "";

            } else {
                role = "  (staged: no traffic)";
            }

            printf("%s%-*s  %lld/%u endpoints%s\n",
                   i ? "            " : "versions    ", w, v->name, live,
                   v->instances, role);
            continue;
        }

        item = cJSON_CreateObject();

        if (item == NULL
            || cJSON_AddStringToObject(item, "version", v->name) == NULL
            || cJSON_AddBoolToObject(item, "active", v == f->active) == NULL
            || cJSON_AddNumberToObject(item, "instances", v->instances)
               == NULL
            || cJSON_AddNumberToObject(item, "endpoints", (double) live)
               == NULL)
        {
            cJSON_Delete(item);
            faasctl_error("out of memory");
            return FAAS_ERROR;
        }

        cJSON_AddItemToArray(list, item);
    }

    return FAAS_OK;
}


/*
 * The policy in faasctl release's own words: rules in order, weights in
 * per cent, the sticky key.
 */

static void
faasctl_status_policy(const faas_table_function_t *f, cJSON *policy)
{
    int     i;
    cJSON  *rules, *rule, *split, *sticky;

    if (policy == NULL) {
        printf("release     none: %s serves every request\n",
               f->active->name);
        return;
    }

    rules = cJSON_GetObjectItemCaseSensitive(policy, "rules");
    split = cJSON_GetObjectItemCaseSensitive(policy, "split");
    sticky = cJSON_GetObjectItemCaseSensitive(policy, "sticky");

    i = 0;

    cJSON_ArrayForEach(rule, rules) {
        printf("%s%d. ", i ? "            " : "rules       ", i + 1);
        faasctl_print_rule(rule);
        printf("\n");
        i++;
    }

    if (i == 0) {
        printf("rules       -\n");
    }

    if (cJSON_IsObject(split)) {
        printf("split       ");
        faasctl_print_split(split);
        printf("\n");

    } else {
        printf("split       - (what no rule takes goes to %s)\n",
               f->active->name);
    }

    if (cJSON_IsObject(sticky) && sticky->child) {
        if (cJSON_IsString(sticky->child)) {
            printf("sticky      %s:%s\n", sticky->child->string,
                   sticky->child->valuestring);

        } else {
            printf("sticky      %s\n", sticky->child->string);
        }

    } else {
        printf("sticky      - (split per request)\n");
    }
}


/* "v2=10%,v1=90%" */

static void
faasctl_print_split(cJSON *split)
{
    char    pct[16];
    cJSON  *w;

    cJSON_ArrayForEach(w, split) {
        faas_release_percent((unsigned) w->valuedouble, pct, sizeof(pct));
        printf("%s%s=%s%%", w == split->child ? "" : ",", w->string, pct);
    }
}


/* "header:x-beta=1 -> v2", as --rule takes it */

static void
faasctl_print_rule(cJSON *rule)
{
    cJSON  *match, *m, *version, *split;

    match = cJSON_GetObjectItemCaseSensitive(rule, "match");

    cJSON_ArrayForEach(m, match) {
        if (strcmp(m->string, "equals") == 0) {
            printf("=%s", m->valuestring);

        } else if (strcmp(m->string, "regex") == 0) {
            printf("~%s", m->valuestring);

        } else if (cJSON_IsString(m)) {
            printf("%s:%s", m->string, m->valuestring);
        }
    }

    version = cJSON_GetObjectItemCaseSensitive(rule, "version");
    split = cJSON_GetObjectItemCaseSensitive(rule, "split");

    printf(" -> ");

    if (cJSON_IsString(version)) {
        printf("%s", version->valuestring);

    } else if (cJSON_IsObject(split)) {
        faasctl_print_split(split);
    }
}


int
faasctl_history(faasctl_t *ctl, int argc, char **argv)
{
    int           rc;
    char          key[FAAS_KEY_MAX], when[64];
    size_t        i;
    cJSON        *root, *list, *e, *at, *note, *item;
    redisReply   *r, *s;
    const char   *name;

    rc = faasctl_function_args("history", argc, argv);
    if (rc != 0) {
        return rc;
    }

    name = argv[0];

    if (faasctl_key_history(ctl, key, sizeof(key), name) == 0) {
        (void) faasctl_prefix_error(ctl);
        return 1;
    }

    r = faasctl_command(ctl, key, "LRANGE %s 0 -1", key);
    if (r == NULL) {
        return 1;
    }

    if (r->type != REDIS_REPLY_ARRAY) {
        freeReplyObject(r);
        faasctl_error("%s: unexpected reply", key);
        return 1;
    }

    root = NULL;
    list = NULL;

    if (ctl->json) {
        root = cJSON_CreateObject();

        if (cJSON_AddStringToObject(root, "function", name) == NULL
            || (list = cJSON_AddArrayToObject(root, "history")) == NULL)
        {
            goto nomem;
        }
    }

    for (i = 0; i < r->elements; i++) {
        s = r->element[i];

        e = (s->type == REDIS_REPLY_STRING) ? cJSON_Parse(s->str) : NULL;
        at = cJSON_GetObjectItemCaseSensitive(e, "at");
        note = cJSON_GetObjectItemCaseSensitive(e, "note");

        if (list == NULL) {
            if (cJSON_IsNumber(at)) {
                faasctl_time((uint64_t) at->valuedouble, when, sizeof(when));

            } else {
                snprintf(when, sizeof(when), "%-19s", "?");
            }

            printf("%s  %s\n", when, cJSON_IsString(note)
                                     ? note->valuestring
                                     : "(not a history entry)");
            cJSON_Delete(e);
            continue;
        }

        if (e == NULL) {
            item = cJSON_CreateObject();

            if (item == NULL
                || cJSON_AddNullToObject(item, "at") == NULL
                || cJSON_AddStringToObject(item, "note",
                                           "(not a history entry)") == NULL
                || cJSON_AddNullToObject(item, "entry") == NULL)
            {
                cJSON_Delete(item);
                goto nomem;
            }

            e = item;
        }

        cJSON_AddItemToArray(list, e);
    }

    freeReplyObject(r);

    return ctl->json ? faasctl_json_print(root) : 0;

nomem:

    freeReplyObject(r);
    cJSON_Delete(root);

    return faasctl_json_print(NULL);
}
