/*
 * Copyright (C) ngx_faas authors
 *
 * libFuzzer target: release policies.  The input is read as JSON by
 * cJSON, then as a policy.  A policy that reads must pick only its
 * versions (or nothing, when it has no split and no rule matches) for
 * requests made of the policy's own strings and a few addresses, and
 * must come back the same through faas_release_to_json(): the same text
 * and the same picks.
 */


#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "faas_release.h"


#define FUZZ_STRINGS   64
#define FUZZ_PICKS     16

#define check(cond)    do { if (!(cond)) __builtin_trap(); } while (0)


/* a request: each value drawn from the pool by a small PRNG */

typedef struct {
    uint64_t        state;
    const char     *pool[FUZZ_STRINGS];
    size_t          npool;
    unsigned        calls;
} fuzz_req_t;


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
static void fuzz_collect(const cJSON *node, fuzz_req_t *r);
static uint64_t fuzz_next(fuzz_req_t *r);
static const char *fuzz_get(void *data, unsigned source, const char *name,
    size_t name_len, size_t *len);
static void fuzz_version(const char *v);


static const char  *fuzz_versions[] = {
    "v1", "v2", "v3", "v7", "v9", "v10", "canary", "stable"
};

#define FUZZ_NVERSIONS  (sizeof(fuzz_versions) / sizeof(fuzz_versions[0]))

static const char  *fuzz_addrs[] = {
    "10.1.2.3", "127.0.0.1", "::1", "[::1]", "::ffff:10.0.0.1",
    "fd00::1", "unix:", "", "192.168.1.200", "2001:db8::1"
};

#define FUZZ_NADDRS  (sizeof(fuzz_addrs) / sizeof(fuzz_addrs[0]))


/* the strings of the policy (names, values, CIDRs) are likely values */

static void
fuzz_collect(const cJSON *node, fuzz_req_t *r)
{
    for ( /* void */ ; node; node = node->next) {
        if (r->npool < FUZZ_STRINGS && node->string) {
            r->pool[r->npool++] = node->string;
        }

        if (r->npool < FUZZ_STRINGS && cJSON_IsString(node)) {
            r->pool[r->npool++] = node->valuestring;
        }

        fuzz_collect(node->child, r);
    }
}


static uint64_t
fuzz_next(fuzz_req_t *r)
{
    uint64_t  z;

    z = (r->state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;

    return z ^ (z >> 31);
}


static const char *
fuzz_get(void *data, unsigned source, const char *name, size_t name_len,
    size_t *len)
{
    uint64_t     x;
    fuzz_req_t  *r;
    const char  *v;

    r = data;
    r->calls++;

    check(source >= FAAS_SOURCE_HEADER && source <= FAAS_SOURCE_ADDR);
    check(source == FAAS_SOURCE_ADDR
          || (name != NULL && strlen(name) == name_len && name_len > 0));

    /* header names reach the getter lower-cased */

    if (source == FAAS_SOURCE_HEADER) {
        for (x = 0; x < name_len; x++) {
            check(!(name[x] >= 'A' && name[x] <= 'Z'));
        }
    }

    x = fuzz_next(r);

    switch (x % 4) {

    case 0:
        return NULL;

    case 1:
        v = fuzz_addrs[(x >> 8) % FUZZ_NADDRS];
        break;

    default:
        if (r->npool == 0) {
            return NULL;
        }

        v = r->pool[(x >> 8) % r->npool];
        break;
    }

    /* sometimes a prefix only: values are length-delimited */

    *len = strlen(v);

    if ((x >> 40) % 8 == 0 && *len) {
        *len = (x >> 44) % *len;
    }

    return v;
}


static void
fuzz_version(const char *v)
{
    size_t  i;

    if (v == NULL) {
        return;
    }

    for (i = 0; i < FUZZ_NVERSIONS; i++) {
        if (strcmp(v, fuzz_versions[i]) == 0) {
            return;
        }
    }

    __builtin_trap();
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char            *one, *two;
    size_t           i;
    cJSON           *root, *again;
    uint64_t         seed, c1, c2;
    unsigned         sources;
    fuzz_req_t       r;
    const char      *p, *q;
    faas_error_t     err;
    faas_release_t  *rel, *rel2;

    root = cJSON_ParseWithLength((const char *) data, size);
    if (root == NULL) {
        return 0;
    }

    rel = (faas_release_t *) 1;

    if (faas_release_from_json(root, fuzz_versions, FUZZ_NVERSIONS,
                               "functions.fuzz.release", &rel, &err)
        != FAAS_OK)
    {
        check(rel == NULL);
        check(memchr(err.msg, '\0', sizeof(err.msg)) != NULL);
        cJSON_Delete(root);
        return 0;
    }

    memset(&r, 0, sizeof(fuzz_req_t));
    fuzz_collect(root, &r);

    /* the round trip: same text, same picks */

    one = faas_release_to_json(rel);
    check(one != NULL || rel == NULL);

    again = one ? cJSON_Parse(one) : NULL;
    check(one == NULL || again != NULL);

    rel2 = NULL;

    check(faas_release_from_json(again, fuzz_versions, FUZZ_NVERSIONS,
                                 "functions.fuzz.release", &rel2, &err)
          == FAAS_OK);

    two = faas_release_to_json(rel2);
    check((one == NULL && two == NULL)
          || (one && two && strcmp(one, two) == 0));

    sources = faas_release_sources(rel);
    check(sources == faas_release_sources(rel2));
    check((sources & ~0x1eu) == 0);

    seed = 0;

    for (i = 0; i < size; i++) {
        seed = (seed ^ data[i]) * 0x100000001b3ULL;
    }

    c1 = seed;
    c2 = seed;

    for (i = 0; i < FUZZ_PICKS; i++) {
        r.state = seed + i;
        r.calls = 0;
        p = faas_release_pick(rel, "fuzz", fuzz_get, &r, &c1);
        fuzz_version(p);

        r.state = seed + i;
        q = faas_release_pick(rel2, "fuzz", fuzz_get, &r, &c2);
        fuzz_version(q);

        check((p == NULL && q == NULL) || (p && q && strcmp(p, q) == 0));
        check(c1 == c2);
        check(sources || r.calls == 0);

        if (p) {
            check(faas_release_names(rel, p));
        }
    }

    /* a request with nothing in it gets the top-level split, if any */

    p = faas_release_pick(rel, "fuzz", NULL, NULL, &c1);
    fuzz_version(p);

    if (rel) {
        check((p != NULL)
              == (cJSON_GetObjectItemCaseSensitive(again, "split") != NULL));
    }

    free(one);
    free(two);
    cJSON_Delete(again);
    cJSON_Delete(root);
    faas_release_free(rel);
    faas_release_free(rel2);

    return 0;
}
