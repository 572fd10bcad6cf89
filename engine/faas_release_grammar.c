/*
 * Copyright (C) ngx_faas authors
 *
 * The command line's grammar of a release policy: --weights, --sticky
 * and --rule into the policy's JSON, the note a change's history keeps,
 * and the versions named (faas_release_grammar.h).
 */


#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "faas_release_grammar.h"
#include "faas_table.h"


static int faas_release_weights_parse(faas_release_args_t *a,
    const char *what, const char *s, cJSON **split, FILE *note,
    faas_error_t *err);
static int faas_release_rule_parse(faas_release_args_t *a, const char *s,
    cJSON **rule, FILE *note, faas_error_t *err);
static int faas_release_sticky_parse(faas_release_args_t *a,
    const char *s, cJSON **sticky, FILE *note, faas_error_t *err);
static int faas_release_names_add(faas_release_args_t *a,
    const char *name);
static char *faas_release_trim(const char *s, size_t len);
static int faas_release_fail(faas_release_args_t *a, unsigned syntax,
    const char *what, const char *s, faas_error_t *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 6, 7)))
#endif
    ;
static int faas_release_nomem(faas_release_args_t *a, faas_error_t *err);


/*
 * What is not of the grammar is said before anything the policy's
 * reader judges (names, regexes, CIDRs, versions): the options are read
 * in the order faasctl gives them, --weights, --sticky, then each rule.
 */

int
faas_release_args_parse(faas_release_args_t *a, const char *weights,
    const char *sticky, const char *const *rules, size_t nrules,
    faas_error_t *err)
{
    int      rc;
    char    *note;
    FILE    *f;
    size_t   i, len;
    cJSON   *policy, *list, *item;

    note = NULL;
    len = 0;

    f = open_memstream(&note, &len);
    policy = cJSON_CreateObject();
    list = NULL;

    if (f == NULL || policy == NULL) {
        goto nomem;
    }

    fputs("release", f);

    if (weights) {
        fputc(' ', f);

        rc = faas_release_weights_parse(a, "--weights", weights, &item, f,
                                        err);
        if (rc != FAAS_OK) {
            goto failed;
        }

        cJSON_AddItemToObject(policy, "split", item);
    }

    if (sticky) {
        fputs(" sticky ", f);

        rc = faas_release_sticky_parse(a, sticky, &item, f, err);
        if (rc != FAAS_OK) {
            goto failed;
        }

        cJSON_AddItemToObject(policy, "sticky", item);
    }

    if (nrules) {
        list = cJSON_AddArrayToObject(policy, "rules");
        if (list == NULL) {
            goto nomem;
        }
    }

    for (i = 0; i < nrules; i++) {
        fputs(" rule '", f);

        rc = faas_release_rule_parse(a, rules[i], &item, f, err);
        if (rc != FAAS_OK) {
            goto failed;
        }

        fputc('\'', f);

        cJSON_AddItemToArray(list, item);
    }

    if (fclose(f) != 0) {
        f = NULL;
        goto nomem;
    }

    a->policy = policy;
    a->note = note;

    return FAAS_OK;

nomem:

    faas_release_nomem(a, err);

failed:

    if (f) {
        fclose(f);
    }

    free(note);
    cJSON_Delete(policy);

    return FAAS_ERROR;
}


void
faas_release_args_free(faas_release_args_t *a)
{
    size_t  i;

    cJSON_Delete(a->policy);
    free(a->note);

    for (i = 0; i < a->nnames; i++) {
        free(a->names[i]);
    }

    free(a->names);
    free(a->where);

    memset(a, 0, sizeof(faas_release_args_t));
}


/*
 * "v1=90,v2=10" (a "%" may follow each number) into {"v1": 9000,
 * "v2": 1000}, in basis points; the versions go to "names" and the
 * normalised list ("v1=90%,v2=10%") to "note".
 */

static int
faas_release_weights_parse(faas_release_args_t *a, const char *what,
    const char *s, cJSON **split, FILE *note, faas_error_t *err)
{
    char         name[FAAS_VERSION_NAME_MAX + 1], pct[16];
    size_t       len, nlen;
    unsigned     bp, sum;
    cJSON       *o, *n;
    const char  *p, *end, *eq;

    *split = NULL;

    o = cJSON_CreateObject();
    if (o == NULL) {
        return faas_release_nomem(a, err);
    }

    sum = 0;
    p = s;

    for ( ;; ) {
        end = strchr(p, ',');
        len = end ? (size_t) (end - p) : strlen(p);

        eq = memchr(p, '=', len);
        nlen = eq ? (size_t) (eq - p) : 0;

        if (eq == NULL || nlen == 0 || nlen > FAAS_VERSION_NAME_MAX
            || !faas_version_name_valid(p, nlen)
            || faas_release_percent_parse(eq + 1, len - nlen - 1, &bp)
               != FAAS_OK)
        {
            cJSON_Delete(o);
            return faas_release_fail(a, 1, what, s, err,
                                     "expected VERSION=PERCENT,... "
                                     "(\"v1=90,v2=10\", up to two "
                                     "decimals, at most 100)");
        }

        memcpy(name, p, nlen);
        name[nlen] = '\0';

        if (cJSON_GetObjectItemCaseSensitive(o, name)) {
            cJSON_Delete(o);
            return faas_release_fail(a, 1, what, s, err,
                                     "version \"%s\" named twice", name);
        }

        n = cJSON_CreateNumber(bp);

        if (n == NULL || faas_release_names_add(a, name) != FAAS_OK) {
            cJSON_Delete(n);
            cJSON_Delete(o);
            return faas_release_nomem(a, err);
        }

        cJSON_AddItemToObject(o, name, n);

        faas_release_percent(bp, pct, sizeof(pct));
        fprintf(note, "%s%s=%s%%", p == s ? "" : ",", name, pct);

        sum += bp;

        if (end == NULL) {
            break;
        }

        p = end + 1;
    }

    if (sum != FAAS_RELEASE_WHOLE) {
        faas_release_percent(sum, pct, sizeof(pct));
        cJSON_Delete(o);
        return faas_release_fail(a, 0, what, s, err,
                                 "the weights sum to %s%%, not 100%%", pct);
    }

    *split = o;

    return FAAS_OK;
}


int
faas_release_percent_parse(const char *s, size_t len, unsigned *bp)
{
    size_t    i, digits, decimals;
    unsigned  whole, frac;

    if (len && s[len - 1] == '%') {
        len--;
    }

    whole = 0;
    frac = 0;
    digits = 0;
    decimals = 0;

    for (i = 0; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
        whole = whole * 10 + (s[i] - '0');

        if (++digits > 3) {
            return FAAS_ERROR;
        }
    }

    if (digits == 0) {
        return FAAS_ERROR;
    }

    if (i < len && s[i] == '.') {
        for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
            frac = frac * 10 + (s[i] - '0');

            if (++decimals > 2) {
                return FAAS_ERROR;
            }
        }

        if (decimals == 0) {
            return FAAS_ERROR;
        }

        if (decimals == 1) {
            frac *= 10;
        }
    }

    if (i != len || whole * 100 + frac > FAAS_RELEASE_WHOLE) {
        return FAAS_ERROR;
    }

    *bp = whole * 100 + frac;

    return FAAS_OK;
}


void
faas_release_percent(unsigned bp, char *buf, size_t size)
{
    if (bp % 100 == 0) {
        snprintf(buf, size, "%u", bp / 100);

    } else if (bp % 10 == 0) {
        snprintf(buf, size, "%u.%u", bp / 100, bp % 100 / 10);

    } else {
        snprintf(buf, size, "%u.%02u", bp / 100, bp % 100);
    }
}


/*
 * One rule: "SOURCE:NAME=VALUE -> TARGET" (exact), "SOURCE:NAME~REGEX
 * -> TARGET", "SOURCE:NAME -> TARGET" (present) or "addr:CIDR ->
 * TARGET"; TARGET is a version or a weight list.  The last "->" divides,
 * so that a regex may hold one.
 */

static int
faas_release_rule_parse(faas_release_args_t *a, const char *s,
    cJSON **rule, FILE *note, faas_error_t *err)
{
    int          rc;
    char        *lhs, *rhs, *colon, *sep, *value;
    cJSON       *r, *match, *split;
    const char  *arrow, *p, *source, *test;

    *rule = NULL;

    lhs = NULL;
    rhs = NULL;
    r = NULL;
    rc = FAAS_ERROR;

    arrow = NULL;

    for (p = strstr(s, "->"); p; p = strstr(p + 1, "->")) {
        arrow = p;
    }

    if (arrow == NULL) {
        goto syntax;
    }

    lhs = faas_release_trim(s, arrow - s);
    rhs = faas_release_trim(arrow + 2, strlen(arrow + 2));

    if (lhs == NULL || rhs == NULL) {
        goto nomem;
    }

    colon = strchr(lhs, ':');

    if (colon == NULL || rhs[0] == '\0') {
        goto syntax;
    }

    *colon = '\0';
    source = lhs;
    value = colon + 1;

    if (strcmp(source, "header") != 0 && strcmp(source, "cookie") != 0
        && strcmp(source, "query") != 0 && strcmp(source, "addr") != 0)
    {
        faas_release_fail(a, 1, "--rule", s, err, "unknown source \"%s\" "
                          "(header, cookie, query or addr)", source);
        goto failed;
    }

    r = cJSON_CreateObject();
    match = cJSON_AddObjectToObject(r, "match");

    if (match == NULL) {
        goto nomem;
    }

    fprintf(note, "%s:", source);

    if (strcmp(source, "addr") == 0) {
        if (value[0] == '\0') {
            goto syntax;
        }

        if (cJSON_AddStringToObject(match, "addr", value) == NULL) {
            goto nomem;
        }

        fputs(value, note);

    } else {
        sep = strpbrk(value, "=~");

        if (sep == value || value[0] == '\0') {
            goto syntax;
        }

        fputs(value, note);

        test = NULL;

        if (sep) {
            test = (*sep == '=') ? "equals" : "regex";
            *sep++ = '\0';
        }

        if (cJSON_AddStringToObject(match, source, value) == NULL
            || (test && cJSON_AddStringToObject(match, test, sep) == NULL))
        {
            goto nomem;
        }
    }

    fputs(" -> ", note);

    if (strchr(rhs, '=')) {
        rc = faas_release_weights_parse(a, "--rule", rhs, &split, note, err);
        if (rc != FAAS_OK) {
            goto failed;
        }

        cJSON_AddItemToObject(r, "split", split);

    } else {
        if (!faas_version_name_valid(rhs, strlen(rhs))) {
            faas_release_fail(a, 1, "--rule", s, err,
                              "invalid version \"%s\"", rhs);
            goto failed;
        }

        if (cJSON_AddStringToObject(r, "version", rhs) == NULL
            || faas_release_names_add(a, rhs) != FAAS_OK)
        {
            goto nomem;
        }

        fputs(rhs, note);
    }

    free(lhs);
    free(rhs);

    *rule = r;

    return FAAS_OK;

syntax:

    faas_release_fail(a, 1, "--rule", s, err, "expected SOURCE:NAME=VALUE "
                      "-> TARGET, SOURCE:NAME~REGEX -> TARGET, SOURCE:NAME "
                      "-> TARGET or addr:CIDR -> TARGET");
    goto failed;

nomem:

    faas_release_nomem(a, err);

failed:

    free(lhs);
    free(rhs);
    cJSON_Delete(r);

    return FAAS_ERROR;
}


/* "header:NAME", "cookie:NAME", "query:NAME" or "addr" */

static int
faas_release_sticky_parse(faas_release_args_t *a, const char *s,
    cJSON **sticky, FILE *note, faas_error_t *err)
{
    size_t       len;
    cJSON       *o;
    const char  *colon;

    *sticky = NULL;

    o = cJSON_CreateObject();
    if (o == NULL) {
        return faas_release_nomem(a, err);
    }

    colon = strchr(s, ':');
    len = colon ? (size_t) (colon - s) : strlen(s);

    if (colon == NULL && strcmp(s, "addr") == 0) {
        if (cJSON_AddTrueToObject(o, "addr") == NULL) {
            goto nomem;
        }

    } else if (colon && colon[1] != '\0'
               && ((len == 6 && strncmp(s, "header", 6) == 0)
                   || (len == 6 && strncmp(s, "cookie", 6) == 0)
                   || (len == 5 && strncmp(s, "query", 5) == 0)))
    {
        if (cJSON_AddStringToObject(o, len == 5 ? "query"
                                       : (s[0] == 'h' ? "header" : "cookie"),
                                    colon + 1)
            == NULL)
        {
            goto nomem;
        }

    } else {
        cJSON_Delete(o);
        return faas_release_fail(a, 1, "--sticky", s, err,
                                 "expected header:NAME, cookie:NAME, "
                                 "query:NAME or addr");
    }

    fputs(s, note);

    *sticky = o;

    return FAAS_OK;

nomem:

    cJSON_Delete(o);

    return faas_release_nomem(a, err);
}


static int
faas_release_names_add(faas_release_args_t *a, const char *name)
{
    char    *copy, **names;
    size_t   i, cap;

    for (i = 0; i < a->nnames; i++) {
        if (strcmp(a->names[i], name) == 0) {
            return FAAS_OK;
        }
    }

    if (a->nnames == a->cap) {
        cap = a->cap ? a->cap * 2 : 8;

        names = realloc(a->names, cap * sizeof(char *));
        if (names == NULL) {
            return FAAS_ERROR;
        }

        a->names = names;
        a->cap = cap;
    }

    copy = strdup(name);
    if (copy == NULL) {
        return FAAS_ERROR;
    }

    a->names[a->nnames++] = copy;

    return FAAS_OK;
}


/* a copy without the spaces around */

static char *
faas_release_trim(const char *s, size_t len)
{
    while (len && (*s == ' ' || *s == '\t')) {
        s++;
        len--;
    }

    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t')) {
        len--;
    }

    return strndup(s, len);
}


/*
 * The option and its text go to err->file, whole: err->msg is bounded,
 * and a rule's text is the user's, of any length.
 */

static int
faas_release_fail(faas_release_args_t *a, unsigned syntax, const char *what,
    const char *s, faas_error_t *err, const char *fmt, ...)
{
    char     *where;
    size_t    len;
    va_list   args;

    len = strlen(what) + strlen(s) + sizeof(" \"\"");

    where = malloc(len);
    if (where == NULL) {
        return faas_release_nomem(a, err);
    }

    snprintf(where, len, "%s \"%s\"", what, s);

    free(a->where);
    a->where = where;
    a->syntax = syntax;

    if (err) {
        err->file = where;
        err->line = 0;
        err->column = 0;

        va_start(args, fmt);
        vsnprintf(err->msg, sizeof(err->msg), fmt, args);
        va_end(args);
    }

    return FAAS_ERROR;
}


static int
faas_release_nomem(faas_release_args_t *a, faas_error_t *err)
{
    a->syntax = 0;
    faas_error_set(err, NULL, 0, 0, "out of memory");

    return FAAS_ERROR;
}
