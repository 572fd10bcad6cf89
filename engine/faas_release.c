/*
 * Copyright (C) ngx_faas authors
 *
 * Release policies: read from cJSON, checked and compiled once (regexes,
 * CIDRs, the split's ranges), so that choosing a version per request is a
 * few comparisons, a hash and no allocation.  A policy is a handful of
 * small blocks owned by the policy; regexes are freed with regfree().
 */


#include <arpa/inet.h>
#include <netinet/in.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cjson/cJSON.h>

#include "faas_json.h"
#include "faas_release.h"


#define FAAS_RBLOCK_SIZE       1024
#define FAAS_RADDR_MAX         63            /* of a client address's text */

#define FAAS_GOLDEN            0x9E3779B97F4A7C15ULL


typedef struct faas_rblock_s  faas_rblock_t;

struct faas_rblock_s {
    faas_rblock_t  *next;
    size_t          size;
    size_t          used;
};

/* the data of a block starts at this offset, suitably aligned */
#define FAAS_RBLOCK_HEAD                                                     \
    ((sizeof(faas_rblock_t) + 15) & ~(size_t) 15)


typedef struct {
    unsigned        family;     /* AF_INET or AF_INET6 */
    unsigned        bits;       /* the prefix's length */
    unsigned char   addr[16];   /* network order, zero past "bits" */
} faas_cidr_t;


typedef struct {
    faas_split_t   *ways;       /* newest version first */
    unsigned       *ends;       /* ways[i] takes the buckets below ends[i] */
    size_t          n;          /* 0: no split */
} faas_weights_t;


typedef struct {
    unsigned        source;     /* FAAS_SOURCE_* */
    unsigned        test;       /* FAAS_MATCH_*; 0: the value is there */
    char           *name;       /* NULL for FAAS_SOURCE_ADDR */
    size_t          name_len;
    char           *value;      /* the string of "equals" or "regex" */
    size_t          value_len;
    regex_t         regex;
    faas_cidr_t     cidr;
    const char     *version;    /* NULL: the rule has a split */
    faas_weights_t  split;
} faas_rule_t;


struct faas_release_s {
    faas_rule_t     *rules;
    size_t           nrules;    /* the rules compiled: regfree() these */
    faas_weights_t   split;
    unsigned         sticky;    /* FAAS_SOURCE_*, 0: not sticky */
    char            *sticky_name;
    size_t           sticky_len;
    unsigned         sources;
    faas_rblock_t   *blocks;
};


/* the reader's state: where it is, for messages */

typedef struct {
    faas_json_t          j;
    faas_release_t      *rel;
    const char *const   *versions;
    size_t               nversions;
    const char         **names;     /* versions[] copied */
} faas_rctx_t;


static void *faas_ralloc(faas_release_t *rel, size_t size);
static char *faas_rstrndup(faas_release_t *rel, const char *s, size_t len);

static int faas_read_rules(faas_rctx_t *ctx, cJSON *node);
static int faas_read_rule(faas_rctx_t *ctx, cJSON *node, faas_rule_t *rule);
static int faas_read_match(faas_rctx_t *ctx, cJSON *node, faas_rule_t *rule);
static int faas_read_source(faas_rctx_t *ctx, cJSON *node,
    unsigned *source, cJSON **value);
static int faas_read_source_name(faas_rctx_t *ctx, unsigned source,
    cJSON *node, char **name, size_t *len);
static int faas_read_regex(faas_rctx_t *ctx, cJSON *node, faas_rule_t *rule);
static int faas_read_cidr(faas_rctx_t *ctx, cJSON *node, faas_cidr_t *cidr);
static int faas_read_split(faas_rctx_t *ctx, cJSON *node,
    faas_weights_t *w);
static int faas_read_sticky(faas_rctx_t *ctx, cJSON *node);
static int faas_read_version(faas_rctx_t *ctx, cJSON *node,
    const char **out);
static const char *faas_version_find(faas_rctx_t *ctx, const char *name);
static int faas_split_cmp(const void *one, const void *two);

static int faas_cidr_parse(const char *s, size_t len, faas_cidr_t *cidr);
static int faas_addr_parse(const char *s, size_t len, unsigned *family,
    unsigned char *addr);
static int faas_cidr_match(const faas_cidr_t *cidr, unsigned family,
    const unsigned char *addr);

static int faas_rule_match(const faas_rule_t *rule, faas_release_get_pt get,
    void *data);
static const char *faas_weights_pick(const faas_release_t *rel,
    const faas_weights_t *w, const char *function, faas_release_get_pt get,
    void *data, uint64_t *counter);

static cJSON *faas_json_rule(const faas_rule_t *rule);
static cJSON *faas_json_split(const faas_weights_t *w);
static int faas_json_source(cJSON *o, unsigned source, const char *name);
static int faas_json_cidr(cJSON *o, const faas_cidr_t *cidr);


/* the members each object may have; others are ignored, as in a table */

enum { FAAS_P_RULES, FAAS_P_SPLIT, FAAS_P_STICKY };

static const char  *faas_policy_keys[] = {
    "rules", "split", "sticky", NULL
};

enum { FAAS_U_MATCH, FAAS_U_VERSION, FAAS_U_SPLIT };

static const char  *faas_rule_keys[] = { "match", "version", "split", NULL };

/*
 * A match and a sticky key are closed sets: a misspelt test ("equal")
 * would otherwise widen a match to every request that has the value.
 * The sources come first, in FAAS_SOURCE_* order.
 */

enum {
    FAAS_M_HEADER, FAAS_M_COOKIE, FAAS_M_QUERY, FAAS_M_ADDR,
    FAAS_M_EQUALS, FAAS_M_REGEX, FAAS_M_N
};

static const char  *faas_match_keys[] = {
    "header", "cookie", "query", "addr", "equals", "regex", NULL
};

static const char  *faas_sticky_keys[] = {
    "header", "cookie", "query", "addr", NULL
};

static uint64_t  faas_release_counter;


int
faas_release_from_json(const void *cjson, const char *const *versions,
    size_t nversions, const char *path, faas_release_t **out,
    faas_error_t *err)
{
    size_t        n;
    cJSON        *node, *found[3];
    faas_rctx_t   ctx;
    char          got[FAAS_QUOTE_SIZE];

    *out = NULL;

    node = (cJSON *) cjson;

    /* null is the same as no policy, as for any optional member */

    if (faas_json_is_null(node)) {
        return FAAS_OK;
    }

    memset(&ctx, 0, sizeof(faas_rctx_t));

    ctx.j.err = err;
    ctx.versions = versions;
    ctx.nversions = nversions;

    if (path == NULL) {
        path = "release";
    }

    /* a message has 255 bytes: the prefix takes at most half of them */

    n = strlen(path);

    if (n > FAAS_JSON_PREFIX_MAX) {
        n = FAAS_JSON_PREFIX_MAX;
    }

    ctx.j.prefix = path;
    ctx.j.prefix_len = n;

    if (!cJSON_IsObject(node)) {
        return faas_json_fail(&ctx.j, "expected an object with \"rules\", "
                              "\"split\" and \"sticky\", got %s",
                              faas_json_describe(node, got, sizeof(got)));
    }

    ctx.rel = calloc(1, sizeof(faas_release_t));
    if (ctx.rel == NULL) {
        return faas_json_fail(&ctx.j, "out of memory");
    }

    /* the policy's own copies of the names, for pick() to return */

    if (nversions) {
        ctx.names = faas_ralloc(ctx.rel, nversions * sizeof(char *));
        if (ctx.names == NULL) {
            faas_json_fail(&ctx.j, "out of memory");
            goto failed;
        }
    }

    for (n = 0; n < nversions; n++) {
        if (versions[n] == NULL) {
            continue;
        }

        ctx.names[n] = faas_rstrndup(ctx.rel, versions[n],
                                     strlen(versions[n]));
        if (ctx.names[n] == NULL) {
            faas_json_fail(&ctx.j, "out of memory");
            goto failed;
        }
    }

    if (faas_json_members(&ctx.j, node, faas_policy_keys, found, 0) != FAAS_OK
        || faas_read_rules(&ctx, found[FAAS_P_RULES]) != FAAS_OK)
    {
        goto failed;
    }

    if (!faas_json_is_null(found[FAAS_P_SPLIT])) {
        n = faas_json_key(&ctx.j, "split");

        if (faas_read_split(&ctx, found[FAAS_P_SPLIT], &ctx.rel->split)
            != FAAS_OK)
        {
            goto failed;
        }

        faas_json_pop(&ctx.j, n);
    }

    if (faas_read_sticky(&ctx, found[FAAS_P_STICKY]) != FAAS_OK) {
        goto failed;
    }

    *out = ctx.rel;

    return FAAS_OK;

failed:

    faas_release_free(ctx.rel);

    return FAAS_ERROR;
}


void
faas_release_free(faas_release_t *rel)
{
    size_t          i;
    faas_rblock_t  *b, *next;

    if (rel == NULL) {
        return;
    }

    for (i = 0; i < rel->nrules; i++) {
        if (rel->rules[i].test == FAAS_MATCH_REGEX) {
            regfree(&rel->rules[i].regex);
        }
    }

    for (b = rel->blocks; b; b = next) {
        next = b->next;
        free(b);
    }

    free(rel);
}


unsigned
faas_release_sources(const faas_release_t *rel)
{
    return rel ? rel->sources : 0;
}


int
faas_release_names(const faas_release_t *rel, const char *version)
{
    size_t              i, j;
    const faas_rule_t  *r;

    if (rel == NULL || version == NULL) {
        return 0;
    }

    for (i = 0; i < rel->split.n; i++) {
        if (strcmp(rel->split.ways[i].version, version) == 0) {
            return 1;
        }
    }

    for (i = 0; i < rel->nrules; i++) {
        r = &rel->rules[i];

        if (r->version && strcmp(r->version, version) == 0) {
            return 1;
        }

        for (j = 0; j < r->split.n; j++) {
            if (strcmp(r->split.ways[j].version, version) == 0) {
                return 1;
            }
        }
    }

    return 0;
}


/*
 * Newest first: a longer name, then the greater one byte by byte, so
 * that faasctl's v10 > v9 > v2 > v1.
 */

int
faas_release_version_cmp(const char *one, const char *two)
{
    size_t  a, b;

    a = strlen(one);
    b = strlen(two);

    if (a != b) {
        return (a > b) ? -1 : 1;
    }

    return -strcmp(one, two);
}


/* choosing */

const char *
faas_release_pick(const faas_release_t *rel, const char *function,
    faas_release_get_pt get, void *data, uint64_t *counter)
{
    size_t              i;
    const faas_rule_t  *r;

    if (rel == NULL) {
        return NULL;
    }

    for (i = 0; i < rel->nrules; i++) {
        r = &rel->rules[i];

        if (!faas_rule_match(r, get, data)) {
            continue;
        }

        if (r->version) {
            return r->version;
        }

        return faas_weights_pick(rel, &r->split, function, get, data,
                                 counter);
    }

    if (rel->split.n == 0) {
        return NULL;
    }

    return faas_weights_pick(rel, &rel->split, function, get, data, counter);
}


uint64_t
faas_release_hash(const char *function, const char *key, size_t len)
{
    uint64_t  h;

    h = FAAS_FNV_BASIS;

    if (function) {
        h = faas_fnv1a(h, function, strlen(function));
    }

    /* the '\0' between the two, so that ("ab", "c") is not ("a", "bc") */

    h *= FAAS_FNV_PRIME;

    return faas_mix64(faas_fnv1a(h, key, len));
}


unsigned
faas_release_bucket(uint64_t hash)
{
    return (unsigned) (((hash >> 32) * FAAS_RELEASE_WHOLE) >> 32);
}


static const char *
faas_weights_pick(const faas_release_t *rel, const faas_weights_t *w,
    const char *function, faas_release_get_pt get, void *data,
    uint64_t *counter)
{
    size_t       i, len;
    unsigned     bucket;
    uint64_t     n;
    const char  *key;

    key = NULL;
    len = 0;

    if (rel->sticky && get) {
        key = get(data, rel->sticky, rel->sticky_name, rel->sticky_len,
                  &len);
    }

    /* an empty key is shared by everyone who sends it: no key at all */

    if (key && len) {
        bucket = faas_release_bucket(faas_release_hash(function, key, len));

    } else {
        if (counter == NULL) {
            counter = &faas_release_counter;
        }

        /*
         * A Weyl sequence: n times the golden ratio, modulo 1.  Any run
         * of consecutive values spreads over [0, 1) almost evenly (three
         * gap lengths at most), so each range gets its share to within
         * a few requests over any window, and nothing accumulates.
         */

        n = (*counter)++;
        bucket = faas_release_bucket(n * FAAS_GOLDEN);
    }

    for (i = 0; i + 1 < w->n; i++) {
        if (bucket < w->ends[i]) {
            break;
        }
    }

    return w->ways[i].version;
}


static int
faas_rule_match(const faas_rule_t *rule, faas_release_get_pt get,
    void *data)
{
    size_t          len;
    unsigned        family;
    const char     *v;
    unsigned char   addr[16];
    char            buf[FAAS_RELEASE_VALUE_MAX + 1];

    if (get == NULL) {
        return 0;
    }

    len = 0;

    v = get(data, rule->source, rule->name, rule->name_len, &len);
    if (v == NULL) {
        return 0;
    }

    switch (rule->test) {

    case FAAS_MATCH_EXACT:
        return len == rule->value_len && memcmp(v, rule->value, len) == 0;

    case FAAS_MATCH_REGEX:

        /*
         * regexec() wants a C string: a copy on the stack.  A longer
         * value, or one with a NUL (that regexec() would stop at), does
         * not match.
         */

        if (len > FAAS_RELEASE_VALUE_MAX || memchr(v, '\0', len) != NULL) {
            return 0;
        }

        memcpy(buf, v, len);
        buf[len] = '\0';

        return regexec(&rule->regex, buf, 0, NULL, 0) == 0;

    case FAAS_MATCH_CIDR:

        if (faas_addr_parse(v, len, &family, addr) != FAAS_OK) {
            return 0;
        }

        return faas_cidr_match(&rule->cidr, family, addr);

    default:
        return len > 0;
    }
}


/* "127.0.0.1", "::1" or "[::1]"; anything else ("unix:") is no address */

static int
faas_addr_parse(const char *s, size_t len, unsigned *family,
    unsigned char *addr)
{
    char  buf[FAAS_RADDR_MAX + 1];

    if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
        s++;
        len -= 2;
    }

    if (len == 0 || len > FAAS_RADDR_MAX) {
        return FAAS_ERROR;
    }

    memcpy(buf, s, len);
    buf[len] = '\0';

    if (memchr(buf, ':', len)) {
        *family = AF_INET6;
        return (inet_pton(AF_INET6, buf, addr) == 1) ? FAAS_OK : FAAS_ERROR;
    }

    *family = AF_INET;

    return (inet_pton(AF_INET, buf, addr) == 1) ? FAAS_OK : FAAS_ERROR;
}


static int
faas_cidr_match(const faas_cidr_t *cidr, unsigned family,
    const unsigned char *addr)
{
    unsigned  full, rest;

    static const unsigned char  mapped[12] = {
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
    };

    /* an IPv4-mapped IPv6 address (::ffff:10.1.2.3) is its IPv4 address */

    if (family == AF_INET6 && cidr->family == AF_INET
        && memcmp(addr, mapped, sizeof(mapped)) == 0)
    {
        addr += sizeof(mapped);
        family = AF_INET;
    }

    if (family != cidr->family) {
        return 0;
    }

    full = cidr->bits / 8;
    rest = cidr->bits % 8;

    if (memcmp(addr, cidr->addr, full) != 0) {
        return 0;
    }

    if (rest == 0) {
        return 1;
    }

    return (addr[full] & (0xff00 >> rest)) == cidr->addr[full];
}


/* reading */

static int
faas_read_rules(faas_rctx_t *ctx, cJSON *node)
{
    int       n;
    size_t    i, kp, ip;
    cJSON    *item;
    char      got[FAAS_QUOTE_SIZE];

    if (faas_json_is_null(node)) {
        return FAAS_OK;
    }

    kp = faas_json_key(&ctx->j, "rules");

    if (!cJSON_IsArray(node)) {
        return faas_json_fail(&ctx->j, "expected an array of rules, got %s",
                              faas_json_describe(node, got, sizeof(got)));
    }

    n = cJSON_GetArraySize(node);

    if (n > FAAS_RELEASE_RULES_MAX) {
        return faas_json_fail(&ctx->j,
                              "more than %d rules", FAAS_RELEASE_RULES_MAX);
    }

    if (n == 0) {
        faas_json_pop(&ctx->j, kp);
        return FAAS_OK;
    }

    ctx->rel->rules = faas_ralloc(ctx->rel, n * sizeof(faas_rule_t));
    if (ctx->rel->rules == NULL) {
        return faas_json_fail(&ctx->j, "out of memory");
    }

    i = 0;

    cJSON_ArrayForEach(item, node) {
        ip = faas_json_index(&ctx->j, i);

        /* counted first, so that a failure frees the rule's regex too */

        ctx->rel->nrules = i + 1;

        if (faas_read_rule(ctx, item, &ctx->rel->rules[i]) != FAAS_OK) {
            return FAAS_ERROR;
        }

        faas_json_pop(&ctx->j, ip);

        i++;
    }

    faas_json_pop(&ctx->j, kp);

    return FAAS_OK;
}


static int
faas_read_rule(faas_rctx_t *ctx, cJSON *node, faas_rule_t *rule)
{
    size_t   kp;
    cJSON   *found[3];
    char     got[FAAS_QUOTE_SIZE];

    if (!cJSON_IsObject(node)) {
        return faas_json_fail(&ctx->j, "expected an object with \"match\" and "
                              "\"version\" or \"split\", got %s",
                              faas_json_describe(node, got, sizeof(got)));
    }

    if (faas_json_members(&ctx->j, node, faas_rule_keys, found, 0)
        != FAAS_OK)
    {
        return FAAS_ERROR;
    }

    if (faas_json_is_null(found[FAAS_U_MATCH])) {
        return faas_json_fail(&ctx->j, "\"match\" is missing");
    }

    kp = faas_json_key(&ctx->j, "match");

    if (faas_read_match(ctx, found[FAAS_U_MATCH], rule) != FAAS_OK) {
        return FAAS_ERROR;
    }

    faas_json_pop(&ctx->j, kp);

    if (faas_json_is_null(found[FAAS_U_VERSION])
        == faas_json_is_null(found[FAAS_U_SPLIT]))
    {
        return faas_json_fail(&ctx->j,
                              "expected exactly one of version, split");
    }

    if (!faas_json_is_null(found[FAAS_U_VERSION])) {
        kp = faas_json_key(&ctx->j, "version");

        if (faas_read_version(ctx, found[FAAS_U_VERSION], &rule->version)
            != FAAS_OK)
        {
            return FAAS_ERROR;
        }

    } else {
        kp = faas_json_key(&ctx->j, "split");

        if (faas_read_split(ctx, found[FAAS_U_SPLIT], &rule->split)
            != FAAS_OK)
        {
            return FAAS_ERROR;
        }
    }

    faas_json_pop(&ctx->j, kp);

    return FAAS_OK;
}


static int
faas_read_match(faas_rctx_t *ctx, cJSON *node, faas_rule_t *rule)
{
    size_t   kp;
    cJSON   *found[FAAS_M_N], *value;
    char     got[FAAS_QUOTE_SIZE];

    if (!cJSON_IsObject(node)) {
        return faas_json_fail(&ctx->j, "expected an object, got %s",
                              faas_json_describe(node, got, sizeof(got)));
    }

    if (faas_json_members(&ctx->j, node, faas_match_keys, found, 1) != FAAS_OK
        || faas_read_source(ctx, node, &rule->source, &value) != FAAS_OK)
    {
        return FAAS_ERROR;
    }

    ctx->rel->sources |= 1u << rule->source;

    if (!faas_json_is_null(found[FAAS_M_EQUALS])
        && !faas_json_is_null(found[FAAS_M_REGEX]))
    {
        return faas_json_fail(&ctx->j,
                              "expected at most one of equals, regex");
    }

    if (rule->source == FAAS_SOURCE_ADDR) {
        if (!faas_json_is_null(found[FAAS_M_EQUALS])
            || !faas_json_is_null(found[FAAS_M_REGEX]))
        {
            return faas_json_fail(&ctx->j, "\"addr\" takes a CIDR and no "
                                  "\"equals\" or \"regex\"");
        }

        kp = faas_json_key(&ctx->j, "addr");

        if (faas_read_cidr(ctx, value, &rule->cidr) != FAAS_OK) {
            return FAAS_ERROR;
        }

        faas_json_pop(&ctx->j, kp);

        rule->test = FAAS_MATCH_CIDR;

        return FAAS_OK;
    }

    kp = faas_json_key(&ctx->j, faas_match_keys[rule->source - 1]);

    if (faas_read_source_name(ctx, rule->source, value, &rule->name,
                              &rule->name_len)
        != FAAS_OK)
    {
        return FAAS_ERROR;
    }

    faas_json_pop(&ctx->j, kp);

    if (!faas_json_is_null(found[FAAS_M_EQUALS])) {
        kp = faas_json_key(&ctx->j, "equals");

        value = found[FAAS_M_EQUALS];

        if (!cJSON_IsString(value)) {
            return faas_json_fail(&ctx->j, "expected a string, got %s",
                                  faas_json_describe(value, got, sizeof(got)));
        }

        rule->value_len = strlen(value->valuestring);

        if (rule->value_len > FAAS_RELEASE_VALUE_MAX) {
            return faas_json_fail(&ctx->j, "longer than %d bytes",
                                  FAAS_RELEASE_VALUE_MAX);
        }

        rule->value = faas_rstrndup(ctx->rel, value->valuestring,
                                    rule->value_len);
        if (rule->value == NULL) {
            return faas_json_fail(&ctx->j, "out of memory");
        }

        rule->test = FAAS_MATCH_EXACT;

        faas_json_pop(&ctx->j, kp);

    } else if (!faas_json_is_null(found[FAAS_M_REGEX])) {
        kp = faas_json_key(&ctx->j, "regex");

        if (faas_read_regex(ctx, found[FAAS_M_REGEX], rule) != FAAS_OK) {
            return FAAS_ERROR;
        }

        faas_json_pop(&ctx->j, kp);
    }

    return FAAS_OK;
}


/*
 * The one source of a match or a sticky key: its FAAS_SOURCE_* and its
 * member; "node" was checked by faas_json_members().
 */

static int
faas_read_source(faas_rctx_t *ctx, cJSON *node, unsigned *source,
    cJSON **value)
{
    size_t   i;
    cJSON   *item;

    *source = 0;
    *value = NULL;

    cJSON_ArrayForEach(item, node) {
        for (i = 0; i < 4; i++) {
            if (strcmp(item->string, faas_sticky_keys[i]) != 0
                || faas_json_is_null(item))
            {
                continue;
            }

            if (*source) {
                goto failed;
            }

            *source = i + 1;
            *value = item;
        }
    }

    if (*source) {
        return FAAS_OK;
    }

failed:

    return faas_json_fail(&ctx->j,
                          "expected exactly one of header, cookie, query, "
                          "addr");
}


/*
 * Header and cookie names are tokens (RFC 9110, RFC 6265); a query
 * argument's name is compared as sent, like nginx's $arg_NAME: printable
 * ASCII without "&", "=" and "#".  Header names are lower-cased here, so
 * the getter receives them lower-cased.
 */

static int
faas_read_source_name(faas_rctx_t *ctx, unsigned source, cJSON *node,
    char **name, size_t *len)
{
    size_t          i, n;
    unsigned char   c;
    char           *s;
    char            got[FAAS_QUOTE_SIZE];

    static const char  *what[] = {
        "", "header name", "cookie name", "query argument's name"
    };

    if (!cJSON_IsString(node)) {
        return faas_json_fail(&ctx->j, "expected a %s, got %s", what[source],
                              faas_json_describe(node, got, sizeof(got)));
    }

    n = strlen(node->valuestring);

    if (n == 0 || n > FAAS_RELEASE_NAME_MAX) {
        faas_quote(node->valuestring, n, got, sizeof(got));
        return faas_json_fail(&ctx->j,
                              "expected a %s of 1 to %d bytes, got %s",
                              what[source], FAAS_RELEASE_NAME_MAX, got);
    }

    s = faas_rstrndup(ctx->rel, node->valuestring, n);
    if (s == NULL) {
        return faas_json_fail(&ctx->j, "out of memory");
    }

    for (i = 0; i < n; i++) {
        c = (unsigned char) s[i];

        if (c <= 0x20 || c >= 0x7f
            || (source == FAAS_SOURCE_QUERY
                ? (c == '&' || c == '=' || c == '#')
                : (strchr("\"(),/:;<=>?@[\\]{}", c) != NULL)))
        {
            faas_quote(node->valuestring, n, got, sizeof(got));
            return faas_json_fail(&ctx->j, "invalid %s %s", what[source], got);
        }

        if (source == FAAS_SOURCE_HEADER && c >= 'A' && c <= 'Z') {
            s[i] = c | 0x20;
        }
    }

    *name = s;
    *len = n;

    return FAAS_OK;
}


static int
faas_read_regex(faas_rctx_t *ctx, cJSON *node, faas_rule_t *rule)
{
    int          rc;
    size_t       len;
    const char  *re, *why;
    char         got[FAAS_QUOTE_SIZE], msg[160];

    if (!cJSON_IsString(node)) {
        return faas_json_fail(&ctx->j, "expected a regex, got %s",
                              faas_json_describe(node, got, sizeof(got)));
    }

    re = node->valuestring;
    len = strlen(re);

    faas_quote(re, len, got, sizeof(got));

    if (len == 0 || len > FAAS_RELEASE_REGEX_MAX) {
        return faas_json_fail(&ctx->j, "bad regex %s: expected 1 to %d bytes",
                              got, FAAS_RELEASE_REGEX_MAX);
    }

    /*
     * glibc's regex takes exponential time on some patterns that are
     * valid: refused here, before regcomp() (see faas_release_regex_check()).
     */

    why = faas_release_regex_check(re, len);

    if (why != NULL) {
        return faas_json_fail(&ctx->j, "bad regex %s: %s", got, why);
    }

    rule->value = faas_rstrndup(ctx->rel, re, len);
    if (rule->value == NULL) {
        return faas_json_fail(&ctx->j, "out of memory");
    }

    rule->value_len = len;

    rc = regcomp(&rule->regex, re, REG_EXTENDED | REG_NOSUB);

    if (rc != 0) {
        regerror(rc, &rule->regex, msg, sizeof(msg));
        return faas_json_fail(&ctx->j, "bad regex %s: %s", got, msg);
    }

    rule->test = FAAS_MATCH_REGEX;

    return FAAS_OK;
}


static int
faas_read_cidr(faas_rctx_t *ctx, cJSON *node, faas_cidr_t *cidr)
{
    const char  *s;
    char         got[FAAS_QUOTE_SIZE];

    if (!cJSON_IsString(node)) {
        return faas_json_fail(&ctx->j, "expected a CIDR (\"10.0.0.0/8\", "
                              "\"fd00::/8\"), got %s",
                              faas_json_describe(node, got, sizeof(got)));
    }

    s = node->valuestring;

    if (faas_cidr_parse(s, strlen(s), cidr) != FAAS_OK) {
        faas_quote(s, strlen(s), got, sizeof(got));
        return faas_json_fail(&ctx->j, "bad CIDR %s", got);
    }

    return FAAS_OK;
}


/*
 * "a.b.c.d/n" or an IPv6 address "/n"; a bare address is /32 or /128.
 * Bits set past the prefix are cleared ("10.1.2.3/8" is 10.0.0.0/8), as
 * the text says which network is meant.
 */

static int
faas_cidr_parse(const char *s, size_t len, faas_cidr_t *cidr)
{
    size_t       n, i, max;
    unsigned     bits;
    const char  *slash;

    memset(cidr, 0, sizeof(faas_cidr_t));

    slash = memchr(s, '/', len);
    n = slash ? (size_t) (slash - s) : len;

    if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
        return FAAS_ERROR;
    }

    if (faas_addr_parse(s, n, &cidr->family, cidr->addr) != FAAS_OK) {
        return FAAS_ERROR;
    }

    max = (cidr->family == AF_INET) ? 32 : 128;

    if (slash == NULL) {
        cidr->bits = max;
        return FAAS_OK;
    }

    /* 1 to 3 digits, at most "max" */

    bits = 0;

    for (i = n + 1; i < len; i++) {
        if (s[i] < '0' || s[i] > '9' || i - n > 3) {
            return FAAS_ERROR;
        }

        bits = bits * 10 + (s[i] - '0');
    }

    if (i == n + 1 || bits > max) {
        return FAAS_ERROR;
    }

    cidr->bits = bits;

    for (i = 0; i < 16; i++) {
        if (i * 8 >= bits) {
            cidr->addr[i] = 0;

        } else if (i * 8 + 8 > bits) {
            cidr->addr[i] &= 0xff00 >> (bits - i * 8);
        }
    }

    return FAAS_OK;
}


/*
 * A split: an object of version -> basis points, 1 to
 * FAAS_RELEASE_SPLIT_MAX versions, summing to FAAS_RELEASE_WHOLE.  The
 * versions are then sorted newest first and given their ranges in that
 * order.
 */

static int
faas_read_split(faas_rctx_t *ctx, cJSON *node, faas_weights_t *w)
{
    int        n;
    double     d;
    size_t     i, j, kp;
    cJSON     *item;
    unsigned   sum;
    char       got[FAAS_QUOTE_SIZE];

    if (!cJSON_IsObject(node)) {
        return faas_json_fail(&ctx->j,
                              "expected an object of version: weight in "
                              "basis points (10000 is 100%%), got %s",
                              faas_json_describe(node, got, sizeof(got)));
    }

    n = cJSON_GetArraySize(node);

    if (n < 1 || n > FAAS_RELEASE_SPLIT_MAX) {
        return faas_json_fail(&ctx->j, "expected 1 to %d versions, got %d",
                              FAAS_RELEASE_SPLIT_MAX, n);
    }

    w->ways = faas_ralloc(ctx->rel, n * sizeof(faas_split_t));
    w->ends = faas_ralloc(ctx->rel, n * sizeof(unsigned));

    if (w->ways == NULL || w->ends == NULL) {
        return faas_json_fail(&ctx->j, "out of memory");
    }

    i = 0;
    sum = 0;

    cJSON_ArrayForEach(item, node) {
        kp = faas_json_key(&ctx->j, item->string);

        w->ways[i].version = faas_version_find(ctx, item->string);

        if (w->ways[i].version == NULL) {
            faas_quote(item->string, strlen(item->string), got,
                       sizeof(got));
            return faas_json_fail(&ctx->j, "unknown version %s", got);
        }

        for (j = 0; j < i; j++) {
            if (w->ways[j].version == w->ways[i].version) {
                return faas_json_fail(&ctx->j, "is there twice");
            }
        }

        d = cJSON_IsNumber(item) ? item->valuedouble : -1;

        /* false for NaN; the bounds first, so that the cast is defined */

        if (!(d >= 0 && d <= FAAS_RELEASE_WHOLE
              && d == (double) (unsigned) d))
        {
            return faas_json_fail(&ctx->j,
                                  "expected an integer from 0 to %d (basis "
                                  "points), got %s", FAAS_RELEASE_WHOLE,
                                  faas_json_describe(item, got, sizeof(got)));
        }

        w->ways[i].weight = (unsigned) d;
        sum += w->ways[i].weight;

        faas_json_pop(&ctx->j, kp);

        i++;
    }

    if (sum != FAAS_RELEASE_WHOLE) {
        return faas_json_fail(&ctx->j,
                              "weights sum to %u, not %d (100%%)", sum,
                              FAAS_RELEASE_WHOLE);
    }

    w->n = i;

    qsort(w->ways, w->n, sizeof(faas_split_t), faas_split_cmp);

    sum = 0;

    for (i = 0; i < w->n; i++) {
        sum += w->ways[i].weight;
        w->ends[i] = sum;
    }

    return FAAS_OK;
}


static int
faas_split_cmp(const void *one, const void *two)
{
    const faas_split_t  *a, *b;

    a = one;
    b = two;

    return faas_release_version_cmp(a->version, b->version);
}


static int
faas_read_sticky(faas_rctx_t *ctx, cJSON *node)
{
    size_t           kp, vp;
    cJSON           *found[4], *value;
    faas_release_t  *rel;
    char             got[FAAS_QUOTE_SIZE];

    if (faas_json_is_null(node)) {
        return FAAS_OK;
    }

    rel = ctx->rel;

    kp = faas_json_key(&ctx->j, "sticky");

    if (!cJSON_IsObject(node)) {
        return faas_json_fail(&ctx->j,
                              "expected an object such as {\"cookie\": "
                              "\"uid\"}, got %s",
                              faas_json_describe(node, got, sizeof(got)));
    }

    if (faas_json_members(&ctx->j, node, faas_sticky_keys, found, 1) != FAAS_OK
        || faas_read_source(ctx, node, &rel->sticky, &value) != FAAS_OK)
    {
        return FAAS_ERROR;
    }

    vp = faas_json_key(&ctx->j, faas_sticky_keys[rel->sticky - 1]);

    if (rel->sticky == FAAS_SOURCE_ADDR) {
        if (!cJSON_IsTrue(value)) {
            return faas_json_fail(&ctx->j,
                                  "expected true (the client address is "
                                  "the key), got %s",
                                  faas_json_describe(value, got, sizeof(got)));
        }

    } else if (faas_read_source_name(ctx, rel->sticky, value,
                                     &rel->sticky_name, &rel->sticky_len)
               != FAAS_OK)
    {
        return FAAS_ERROR;
    }

    faas_json_pop(&ctx->j, vp);
    faas_json_pop(&ctx->j, kp);

    rel->sources |= 1u << rel->sticky;

    return FAAS_OK;
}


static int
faas_read_version(faas_rctx_t *ctx, cJSON *node, const char **out)
{
    const char  *s;
    char         got[FAAS_QUOTE_SIZE];

    if (!cJSON_IsString(node)) {
        return faas_json_fail(&ctx->j,
                              "expected the name of one of the versions, "
                              "got %s",
                              faas_json_describe(node, got, sizeof(got)));
    }

    s = node->valuestring;

    *out = faas_version_find(ctx, s);

    if (*out == NULL) {
        faas_quote(s, strlen(s), got, sizeof(got));
        return faas_json_fail(&ctx->j, "unknown version %s", got);
    }

    return FAAS_OK;
}


/* the policy's copy of a version's name; NULL when it is none of them */

static const char *
faas_version_find(faas_rctx_t *ctx, const char *name)
{
    size_t  i;

    for (i = 0; i < ctx->nversions; i++) {
        if (ctx->names[i] && strcmp(ctx->names[i], name) == 0) {
            return ctx->names[i];
        }
    }

    return NULL;
}


/* writing */

char *
faas_release_to_json(const faas_release_t *rel)
{
    size_t   i;
    cJSON   *root, *rules, *o;

    if (rel == NULL) {
        return NULL;
    }

    root = cJSON_CreateObject();
    if (root == NULL) {
        return NULL;
    }

    if (rel->nrules) {
        rules = cJSON_AddArrayToObject(root, "rules");
        if (rules == NULL) {
            goto failed;
        }

        for (i = 0; i < rel->nrules; i++) {
            o = faas_json_rule(&rel->rules[i]);
            if (o == NULL) {
                goto failed;
            }

            cJSON_AddItemToArray(rules, o);
        }
    }

    if (rel->split.n) {
        o = faas_json_split(&rel->split);
        if (o == NULL) {
            goto failed;
        }

        cJSON_AddItemToObject(root, "split", o);
    }

    if (rel->sticky) {
        o = cJSON_AddObjectToObject(root, "sticky");

        if (o == NULL
            || faas_json_source(o, rel->sticky, rel->sticky_name) != FAAS_OK)
        {
            goto failed;
        }
    }

    return faas_json_print(root);

failed:

    cJSON_Delete(root);

    return NULL;
}


static cJSON *
faas_json_rule(const faas_rule_t *rule)
{
    cJSON  *o, *m, *split;

    o = cJSON_CreateObject();
    if (o == NULL) {
        return NULL;
    }

    m = cJSON_AddObjectToObject(o, "match");
    if (m == NULL) {
        goto failed;
    }

    if (rule->source == FAAS_SOURCE_ADDR) {
        if (faas_json_cidr(m, &rule->cidr) != FAAS_OK) {
            goto failed;
        }

    } else if (faas_json_source(m, rule->source, rule->name) != FAAS_OK) {
        goto failed;
    }

    if (rule->test == FAAS_MATCH_EXACT || rule->test == FAAS_MATCH_REGEX) {
        if (cJSON_AddStringToObject(m, rule->test == FAAS_MATCH_EXACT
                                       ? "equals" : "regex", rule->value)
            == NULL)
        {
            goto failed;
        }
    }

    if (rule->version) {
        if (cJSON_AddStringToObject(o, "version", rule->version) == NULL) {
            goto failed;
        }

    } else {
        split = faas_json_split(&rule->split);
        if (split == NULL) {
            goto failed;
        }

        cJSON_AddItemToObject(o, "split", split);
    }

    return o;

failed:

    cJSON_Delete(o);

    return NULL;
}


static cJSON *
faas_json_split(const faas_weights_t *w)
{
    size_t   i;
    cJSON   *o;

    o = cJSON_CreateObject();
    if (o == NULL) {
        return NULL;
    }

    for (i = 0; i < w->n; i++) {
        if (cJSON_AddNumberToObject(o, w->ways[i].version, w->ways[i].weight)
            == NULL)
        {
            cJSON_Delete(o);
            return NULL;
        }
    }

    return o;
}


/* {"header": NAME} and the like; the sticky key's {"addr": true} */

static int
faas_json_source(cJSON *o, unsigned source, const char *name)
{
    if (source == FAAS_SOURCE_ADDR) {
        return cJSON_AddTrueToObject(o, "addr") ? FAAS_OK : FAAS_ERROR;
    }

    return cJSON_AddStringToObject(o, faas_sticky_keys[source - 1], name)
           ? FAAS_OK : FAAS_ERROR;
}


/* {"addr": "10.0.0.0/8"}: the network, always with its prefix */

static int
faas_json_cidr(cJSON *o, const faas_cidr_t *cidr)
{
    size_t  n;
    char    buf[INET6_ADDRSTRLEN + 8];

    if (inet_ntop(cidr->family, cidr->addr, buf, INET6_ADDRSTRLEN) == NULL) {
        return FAAS_ERROR;
    }

    n = strlen(buf);
    snprintf(buf + n, sizeof(buf) - n, "/%u", cidr->bits);

    return cJSON_AddStringToObject(o, "addr", buf) ? FAAS_OK : FAAS_ERROR;
}


/* memory */

static void *
faas_ralloc(faas_release_t *rel, size_t size)
{
    size_t          bsize;
    faas_rblock_t  *b;

    size = (size + 15) & ~(size_t) 15;

    b = rel->blocks;

    if (b && b->size - b->used >= size) {
        b->used += size;
        return memset((char *) b + FAAS_RBLOCK_HEAD + b->used - size, 0,
                      size);
    }

    bsize = (size > FAAS_RBLOCK_SIZE / 4) ? size : FAAS_RBLOCK_SIZE;

    b = malloc(FAAS_RBLOCK_HEAD + bsize);
    if (b == NULL) {
        return NULL;
    }

    b->size = bsize;
    b->used = size;

    /* a big block goes behind the head, so the head keeps its room */

    if (rel->blocks && bsize == size) {
        b->next = rel->blocks->next;
        rel->blocks->next = b;

    } else {
        b->next = rel->blocks;
        rel->blocks = b;
    }

    return memset((char *) b + FAAS_RBLOCK_HEAD, 0, size);
}


static char *
faas_rstrndup(faas_release_t *rel, const char *s, size_t len)
{
    char  *p;

    p = faas_ralloc(rel, len + 1);
    if (p != NULL) {
        memcpy(p, s, len);
        p[len] = '\0';
    }

    return p;
}
