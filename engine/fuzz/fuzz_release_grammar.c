/*
 * Copyright (C) ngx_faas authors
 *
 * libFuzzer target: the command line's grammar of a release policy.
 * The input is lines, each an option as faasctl takes it: "--weights
 * V=PCT,...", "--sticky KEY" or "--rule 'SOURCE:NAME=VALUE -> TARGET'"
 * (any other line is a rule too, so that mutations reach the rules'
 * grammar most).  What reads must be a policy in JSON naming only valid
 * versions, each once, with weights that sum to 100% and print back the
 * same; the policy's reader then takes it or says why not.  What does
 * not read must say why, and leave nothing.
 */


#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "faas_release_grammar.h"
#include "faas_table.h"


#define FUZZ_RULES     8
#define FUZZ_MAX       4096

#define check(cond)    do { if (!(cond)) __builtin_trap(); } while (0)


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
static void fuzz_split(const cJSON *split, const faas_release_args_t *a);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                   rc;
    char                 *text, *line, *next, *s;
    size_t                i, k, nrules;
    cJSON                *policy, *rule;
    const char           *weights, *sticky, *rules[FUZZ_RULES];
    faas_error_t          err;
    faas_release_t       *rel;
    faas_release_args_t   a;

    if (size > FUZZ_MAX) {
        return 0;
    }

    text = malloc(size + 1);
    if (text == NULL) {
        return 0;
    }

    memcpy(text, data, size);
    text[size] = '\0';

    weights = NULL;
    sticky = NULL;
    nrules = 0;

    for (line = text; line; line = next) {
        next = strchr(line, '\n');

        if (next) {
            *next++ = '\0';
        }

        if (strncmp(line, "--weights ", 10) == 0) {
            weights = line + 10;

        } else if (strncmp(line, "--sticky ", 9) == 0) {
            sticky = line + 9;

        } else if (nrules < FUZZ_RULES) {
            rules[nrules++] = strncmp(line, "--rule ", 7) == 0 ? line + 7
                                                               : line;
        }
    }

    memset(&a, 0, sizeof(faas_release_args_t));
    memset(&err, 0, sizeof(faas_error_t));

    rc = faas_release_args_parse(&a, weights, sticky, rules, nrules, &err);

    if (rc != FAAS_OK) {
        check(rc == FAAS_ERROR);
        check(err.msg[0] != '\0');
        check(a.policy == NULL && a.note == NULL);
        check(err.file == NULL || err.file == a.where);

        faas_release_args_free(&a);
        free(text);
        return 0;
    }

    policy = a.policy;
    check(policy != NULL && cJSON_IsObject(policy));
    check(a.note != NULL && strncmp(a.note, "release", 7) == 0);

    /* every version named is valid, and named once */

    for (i = 0; i < a.nnames; i++) {
        check(faas_version_name_valid(a.names[i], strlen(a.names[i])));

        for (k = 0; k < i; k++) {
            check(strcmp(a.names[i], a.names[k]) != 0);
        }
    }

    fuzz_split(cJSON_GetObjectItemCaseSensitive(policy, "split"), &a);

    rule = cJSON_GetObjectItemCaseSensitive(policy, "rules");
    check(cJSON_GetArraySize(rule) == (int) nrules);

    for (rule = rule ? rule->child : NULL; rule; rule = rule->next) {
        check(cJSON_GetObjectItemCaseSensitive(rule, "match") != NULL);
        fuzz_split(cJSON_GetObjectItemCaseSensitive(rule, "split"), &a);

        s = cJSON_GetStringValue(
                cJSON_GetObjectItemCaseSensitive(rule, "version"));
        check(s != NULL
              || cJSON_GetObjectItemCaseSensitive(rule, "split") != NULL);

        if (s) {
            for (i = 0; i < a.nnames && strcmp(a.names[i], s) != 0; i++) {
                /* void */
            }

            check(i < a.nnames);
        }
    }

    /* the reader takes it, with the versions it names, or says why */

    rel = NULL;
    rc = faas_release_from_json(policy, (const char *const *) a.names,
                                a.nnames, NULL, &rel, &err);

    if (rc == FAAS_OK) {
        s = faas_release_to_json(rel);
        check(s != NULL || rel == NULL);
        free(s);
        faas_release_free(rel);

    } else {
        check(rel == NULL && err.msg[0] != '\0');
    }

    faas_release_args_free(&a);
    free(text);

    return 0;
}


/* weights in basis points that sum to the whole, and print back */

static void
fuzz_split(const cJSON *split, const faas_release_args_t *a)
{
    char       pct[16];
    size_t     i;
    unsigned   sum, bp;
    cJSON     *w;

    if (split == NULL) {
        return;
    }

    sum = 0;

    cJSON_ArrayForEach(w, split) {
        check(cJSON_IsNumber(w) && w->valuedouble >= 0
              && w->valuedouble <= FAAS_RELEASE_WHOLE);

        bp = (unsigned) w->valuedouble;
        sum += bp;

        faas_release_percent(bp, pct, sizeof(pct));
        check(faas_release_percent_parse(pct, strlen(pct), &bp) == FAAS_OK);
        check(bp == (unsigned) w->valuedouble);

        for (i = 0; i < a->nnames && strcmp(a->names[i], w->string) != 0;
             i++)
        {
            /* void */
        }

        check(i < a->nnames);
    }

    check(sum == FAAS_RELEASE_WHOLE);
}
