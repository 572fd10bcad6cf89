/*
 * Copyright (C) ngx_faas authors
 *
 * Release policies (gray release): which version of a function serves a
 * request.  An ordered list of rules, then a weighted split, optionally
 * sticky by a key.  Plain C: the caller hands in the request's values
 * through a callback, so nginx, tests and fuzzers use the same code.
 *
 * Weights are in basis points: 10000 is the whole traffic, so 0.01% is
 * the finest step.  A sticky split hashes the key (with the function's
 * name, so that two functions split independently) into 0..9999 and
 * gives each version a range; the ranges are laid out from 0 in a fixed
 * order of versions (newest first), so that growing a version's weight
 * only ever moves keys onto it (a monotone ramp).  Without a key, a
 * per-process Weyl sequence spreads requests over the same ranges: the
 * split is exact to a request or so over any window, with no state that
 * can drift.
 */

#ifndef FAAS_RELEASE_H_INCLUDED
#define FAAS_RELEASE_H_INCLUDED


#include "faas_common.h"


#define FAAS_RELEASE_WHOLE        10000      /* basis points */
#define FAAS_RELEASE_RULES_MAX    32
#define FAAS_RELEASE_SPLIT_MAX    16
#define FAAS_RELEASE_NAME_MAX     256        /* of a header, cookie, arg */

/*
 * A value longer than FAAS_RELEASE_VALUE_MAX never matches a regex (it
 * is copied to the stack to be NUL-terminated); "equals" holds at most
 * as much.  A regex is at most FAAS_RELEASE_REGEX_MAX bytes, without
 * back-references or repetitions of what can match nothing (glibc takes
 * exponential time on both), and at most FAAS_RELEASE_REGEX_ITEMS items
 * once its repetitions are counted out (glibc copies them out).  Within
 * these limits a match still costs up to about 0.7 ms on a 1 KiB value
 * (".{0,126}x"): docs/redis.md.
 */
#define FAAS_RELEASE_VALUE_MAX    1024
#define FAAS_RELEASE_REGEX_MAX    256
#define FAAS_RELEASE_REGEX_ITEMS  128
#define FAAS_RELEASE_REGEX_ITEMS_TEXT  "128"

/* where a rule or a sticky key reads the request */
#define FAAS_SOURCE_HEADER        1
#define FAAS_SOURCE_COOKIE        2
#define FAAS_SOURCE_QUERY         3          /* a query argument */
#define FAAS_SOURCE_ADDR          4          /* the client address */

#define FAAS_MATCH_EXACT          1
#define FAAS_MATCH_REGEX          2          /* POSIX extended */
#define FAAS_MATCH_CIDR           3          /* with FAAS_SOURCE_ADDR */


typedef struct faas_release_s  faas_release_t;


typedef struct {
    const char  *version;       /* a name of the table's versions */
    unsigned     weight;        /* basis points */
} faas_split_t;


/*
 * The request's value for a source and a name (the name is ignored for
 * FAAS_SOURCE_ADDR): NULL when absent.  "len" gets its length.
 */
typedef const char *(*faas_release_get_pt)(void *data, unsigned source,
    const char *name, size_t name_len, size_t *len);


/*
 * Builds a policy from its JSON (docs/redis.md, "release"), already
 * parsed by cJSON; "versions" lists the function's version names, every
 * version named must be one of them.  Regexes and CIDRs are compiled
 * here; a bad one is an error naming it.  "path" prefixes messages
 * ("functions.hello.release"; "release" when NULL); err->file is left
 * NULL for the caller to name its source.  A NULL or JSON null "cjson"
 * is no policy: FAAS_OK with *out NULL, which every function here takes.
 * On failure *out is NULL and nothing is leaked.  The policy keeps
 * copies of what it needs: the JSON and "versions" may go.
 */
int faas_release_from_json(const void *cjson, const char *const *versions,
    size_t nversions, const char *path, faas_release_t **out,
    faas_error_t *err);

/*
 * The policy's JSON, compact, for faas_table_serialize(); malloc()ed;
 * NULL for no policy or out of memory.  faas_release_from_json() of it
 * gives the same policy (splits come out newest first, header names
 * lower-cased, CIDRs as "network/bits").
 */
char *faas_release_to_json(const faas_release_t *release);

void faas_release_free(faas_release_t *release);

/*
 * The version that serves a request: the first rule that matches, else
 * the split.  "function" salts the sticky hash.  "counter" is the
 * caller's per-process request counter for unkeyed splits (incremented
 * here, only when an unkeyed split is used; NULL: one of this file's).
 * Allocates nothing.  Returns a name owned by the policy, or NULL when
 * no rule matches and there is no split: the caller then uses the
 * function's active version.  "get" may be NULL (a request with
 * nothing).
 */
const char *faas_release_pick(const faas_release_t *release,
    const char *function, faas_release_get_pt get, void *data,
    uint64_t *counter);

/* the sources a policy reads, FAAS_SOURCE_* as bits (1 << source) */
unsigned faas_release_sources(const faas_release_t *release);

/* 1 when the policy sends traffic to "version" (a rule or a split) */
int faas_release_names(const faas_release_t *release, const char *version);

/*
 * The order of a split's ranges, newest first: a longer name first, then
 * the greater one byte by byte (v10, v9, v2, v1).  qsort()-style.
 */
int faas_release_version_cmp(const char *one, const char *two);

/*
 * The sticky hash (FNV-1a of function, '\0', key, then splitmix64's
 * finaliser) and a 64-bit value's bucket, 0..FAAS_RELEASE_WHOLE - 1
 * (from its high 32 bits).  Exposed for tests and tools that want to say
 * where a key lands.
 */
uint64_t faas_release_hash(const char *function, const char *key,
    size_t len);
unsigned faas_release_bucket(uint64_t value);


/*
 * Why a rule's regex is refused before it is compiled (back-references,
 * stacked repetitions of what can match nothing, too many items once
 * repetitions are counted out); NULL when it is not.
 */
const char *faas_release_regex_check(const char *re, size_t len);


#endif /* FAAS_RELEASE_H_INCLUDED */
