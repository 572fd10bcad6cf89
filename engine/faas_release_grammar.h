/*
 * Copyright (C) ngx_faas authors
 *
 * The command line's grammar of a release policy (docs/faasctl.md):
 * "--weights v1=90,v2=10", "--sticky cookie:uid" and "--rule
 * 'header:x-beta=1 -> v2'" into the policy's JSON (docs/redis.md,
 * "Release policies"), which faas_release_from_json() then judges.
 * Only the grammar is checked here: names, regexes, CIDRs and whether
 * the versions exist are left to the policy's reader.
 */

#ifndef FAAS_RELEASE_GRAMMAR_H_INCLUDED
#define FAAS_RELEASE_GRAMMAR_H_INCLUDED


#include "faas_common.h"
#include "faas_release.h"


typedef struct {
    void         *policy;       /* a cJSON object: "split", "sticky",
                                   "rules", as given */
    char         *note;         /* "release v1=90%,v2=10% sticky
                                   cookie:uid rule 'query:a -> v2'" */
    char        **names;        /* the versions named, each once */
    size_t        nnames;
    size_t        cap;

    /*
     * On failure: 1 when the text is not of the grammar (faasctl: a
     * usage error), 0 when it is but cannot be a policy (weights that do
     * not sum to 100%) or memory ran out.
     */
    unsigned      syntax:1;

    char         *where;        /* err->file: the option and its text */
} faas_release_args_t;


/*
 * Reads the options (each may be NULL, "rules" then has "nrules"
 * items) into "a", which must be zeroed.  On failure err->file names the
 * option and its text ('--rule "query:a ->"'; NULL when out of memory)
 * and points into "a": faas_release_args_free() frees everything, after
 * failure too.  The caller may take "policy" and "note" (setting them to
 * NULL) before freeing.
 */
int faas_release_args_parse(faas_release_args_t *a, const char *weights,
    const char *sticky, const char *const *rules, size_t nrules,
    faas_error_t *err);

void faas_release_args_free(faas_release_args_t *a);

/* "12.34", "7", "0.01", "100%": basis points, at most 10000 */
int faas_release_percent_parse(const char *s, size_t len, unsigned *bp);

/* 9000 -> "90", 1050 -> "10.5", 1 -> "0.01" */
void faas_release_percent(unsigned bp, char *buf, size_t size);


#endif /* FAAS_RELEASE_GRAMMAR_H_INCLUDED */
