/*
 * Copyright (C) ngx_faas authors
 */


#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "faas_common.h"


static int
test_compare(const void *a, const void *b)
{
    return memcmp(a, b, FAAS_TRACE_ID_LEN);
}


static int
test_hex(const char *p, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f'))) {
            return 0;
        }
    }

    return 1;
}


static void
test_methods(void)
{
    char  buf[64];

    CHECK_INT(faas_method_parse("get", 3), FAAS_METHOD_GET);
    CHECK_INT(faas_method_parse("OPTIONS", 7), FAAS_METHOD_OPTIONS);
    CHECK_INT(faas_method_parse("GETX", 4), 0);
    CHECK_INT(faas_method_parse("GE", 2), 0);

    CHECK_INT(faas_methods_format(FAAS_METHODS_ANY, buf, sizeof(buf)),
              strlen("GET, HEAD, POST, PUT, DELETE, PATCH"));
    CHECK_STR(buf, "GET, HEAD, POST, PUT, DELETE, PATCH");

    /* too small a buffer: whole names only, always terminated */
    faas_methods_format(FAAS_METHOD_GET|FAAS_METHOD_POST, buf, 8);
    CHECK_STR(buf, "GET");

    CHECK_INT(faas_methods_format(0, buf, sizeof(buf)), 0);
    CHECK_STR(buf, "");

    CHECK_STR(faas_method_name(FAAS_METHOD_GET), "GET");
    CHECK_STR(faas_method_name(FAAS_METHOD_OPTIONS), "OPTIONS");
    CHECK(faas_method_name(FAAS_METHOD_GET|FAAS_METHOD_HEAD) == NULL);
    CHECK(faas_method_name(0) == NULL);
}


static void
test_quote(void)
{
    char    buf[FAAS_QUOTE_SIZE], small[12];
    size_t  n;

    faas_quote("a\"b\\c\n\x01", 7, buf, sizeof(buf));
    CHECK_STR(buf, "\"a\\\"b\\\\c\\n\\x01\"");

    /* FAAS_QUOTE_MAX bytes of a longer value, then "..." */
    faas_quote("0123456789012345678901234567890123456789xyz", 43, buf,
               sizeof(buf));
    CHECK_STR(buf, "\"0123456789012345678901234567890123456789...\"");

    faas_quote("abcdefghij", 10, small, sizeof(small));
    CHECK_STR(small, "\"abc...\"");

    n = faas_quote_key("a\tb", 3, buf);
    CHECK_INT(n, 3);
    CHECK_STR(buf, "a?b");

    n = faas_quote_key("0123456789012345678901234567890123456789xyz", 43,
                       buf);
    CHECK_INT(n, FAAS_QUOTE_MAX + 3);
    CHECK_STR(buf, "0123456789012345678901234567890123456789...");

    CHECK(faas_name_chars("Ab-0_9", 6, "_-"));
    CHECK(!faas_name_chars("a.b", 3, "_-"));
    CHECK(faas_name_chars("a.b", 3, "."));
    CHECK(!faas_name_chars("a\0b", 3, "."));
    CHECK(faas_name_chars("", 0, ""));
}


static void
test_arena(void)
{
    char          *s, *big;
    size_t         i;
    faas_arena_t   a;

    memset(&a, 0, sizeof(faas_arena_t));

    s = faas_arena_strndup(&a, "hello", 3);
    CHECK_STR(s, "hel");
    CHECK_STR(faas_arena_strdup(&a, "world"), "world");
    CHECK(((uintptr_t) faas_arena_alloc(&a, 1) & 15) == 0);

    /* a large piece has its own block; the current one keeps serving */
    big = faas_arena_alloc(&a, 100000);
    CHECK(big != NULL && big[99999] == 0);
    CHECK(faas_arena_alloc(&a, 16) == s + 48);

    faas_arena_free(&a);
    CHECK(a.head == NULL && a.total == 0);

    /* past "max": refused, and told from a failed malloc() */
    a.max = 256 * 1024;

    for (i = 0; i < 8 && faas_arena_alloc(&a, 60000) != NULL; i++) {
        /* void */
    }

    CHECK_INT(i, 4);
    CHECK(a.over);

    faas_arena_free(&a);
}


/* a pool, as the glue's: blocks handed out from a buffer, misaligned */

typedef struct {
    char      *buf;
    size_t     size;
    size_t     used;
    unsigned   calls;
} test_pool_t;


static void *
test_pool_alloc(void *data, size_t size)
{
    char         *p;
    test_pool_t  *pool;

    pool = data;
    pool->calls++;

    if (pool->size - pool->used < size + 8) {
        return NULL;
    }

    /* 8 bytes past a 16-byte boundary, as ngx_palloc() may give */

    pool->used = ((pool->used + 15) & ~(size_t) 15) + 8;
    p = pool->buf + pool->used;
    pool->used += size;

    return p;
}


static void
test_arena_blocks(void)
{
    char          *p, *q, *big;
    size_t         i;
    test_pool_t    pool;
    faas_arena_t   a;

    memset(&pool, 0, sizeof(test_pool_t));
    pool.size = 1024 * 1024;
    pool.buf = malloc(pool.size);

    if (pool.buf == NULL) {
        CHECK(pool.buf != NULL);
        return;
    }

    memset(&a, 0, sizeof(faas_arena_t));
    a.block_alloc = test_pool_alloc;
    a.block_data = &pool;

    p = faas_arena_strdup(&a, "pooled");
    CHECK_STR(p, "pooled");
    CHECK_INT(pool.calls, 1);
    CHECK(p >= pool.buf && p < pool.buf + pool.size);

    /* aligned all the same, and zeroed, as ngx_palloc() does not */

    memset(pool.buf + pool.used, 0xa5, pool.size - pool.used);

    q = faas_arena_alloc(&a, 20);
    CHECK(((uintptr_t) p & 15) == 0 && ((uintptr_t) q & 15) == 0);
    CHECK_INT(pool.calls, 1);

    big = faas_arena_alloc(&a, 100000);
    CHECK(big != NULL && ((uintptr_t) big & 15) == 0);
    CHECK(big != NULL && big[0] == 0 && big[99999] == 0);
    CHECK_INT(pool.calls, 2);
    CHECK_INT(a.total, 4 * 1024 + 100000);

    /* a pool's blocks start at 4 KiB and double, up to 64 KiB */

    CHECK(faas_arena_alloc(&a, 10000) != NULL);
    CHECK_INT(a.total, 4 * 1024 + 100000 + 64 * 1024);

    /* forgotten, not freed: the pool's owner frees */

    faas_arena_free(&a);
    CHECK(a.head == NULL && a.total == 0);
    CHECK(a.block_alloc == test_pool_alloc);

    /* "max" holds in this mode too */

    a.max = 256 * 1024;

    for (i = 0; i < 8 && faas_arena_alloc(&a, 60000) != NULL; i++) {
        /* void */
    }

    CHECK_INT(i, 4);
    CHECK(a.over);

    faas_arena_free(&a);
    CHECK(!a.over);

    /* the pool running dry is a failure, not "over" */

    a.max = 0;
    pool.used = pool.size;

    CHECK(faas_arena_alloc(&a, 100000) == NULL);
    CHECK(!a.over);

    faas_arena_free(&a);
    free(pool.buf);
}


static void
test_errors(void)
{
    char          buf[64];
    faas_error_t  err;

    faas_error_set(&err, "f.yml", 3, 7, "bad %s", "thing");
    faas_error_format(&err, buf, sizeof(buf));
    CHECK_STR(buf, "f.yml:3:7: bad thing");

    faas_error_set(&err, "f.yml", 0, 0, "unreadable");
    faas_error_format(&err, buf, sizeof(buf));
    CHECK_STR(buf, "f.yml: unreadable");

    faas_error_set(&err, NULL, 0, 0, "plain");
    faas_error_format(&err, buf, sizeof(buf));
    CHECK_STR(buf, "plain");

    faas_error_set(&err, "a-very-long-file-name.yml", 1, 1, "cut");
    CHECK_INT(faas_error_format(&err, buf, 8), 7);
    CHECK_STR(buf, "a-very-");
}


static void
test_trace_ids(void)
{
    char          *ids, *p;
    size_t         i, n, bad, dups;
    faas_trace_t   a, b;

    n = 100000;

    ids = malloc(n * FAAS_TRACE_ID_LEN);
    if (ids == NULL) {
        CHECK(ids != NULL);
        return;
    }

    faas_trace_init(&a, 0x0123456789abcdefULL, 42);

    bad = 0;

    for (i = 0; i < n; i++) {
        p = ids + i * FAAS_TRACE_ID_LEN;
        faas_trace_next(&a, p);

        bad += test_hex(p, FAAS_TRACE_ID_LEN) == 0;
    }

    CHECK_INT(bad, 0);
    CHECK_MEM(ids, 16, "0123456789abcdef");

    qsort(ids, n, FAAS_TRACE_ID_LEN, test_compare);

    dups = 0;

    for (i = 1; i < n; i++) {
        dups += memcmp(ids + (i - 1) * FAAS_TRACE_ID_LEN,
                       ids + i * FAAS_TRACE_ID_LEN, FAAS_TRACE_ID_LEN) == 0;
    }

    CHECK_INT(dups, 0);

    /* two processes, same seed by chance: the prefixes keep them apart */

    faas_trace_init(&a, 1, 7);
    faas_trace_init(&b, 2, 7);
    faas_trace_next(&a, ids);
    faas_trace_next(&b, ids + FAAS_TRACE_ID_LEN);
    CHECK(memcmp(ids, ids + FAAS_TRACE_ID_LEN, FAAS_TRACE_ID_LEN) != 0);
    CHECK(memcmp(ids + 16, ids + FAAS_TRACE_ID_LEN + 16, 16) == 0);

    free(ids);
}


int
main(void)
{
    test_methods();
    test_quote();
    test_arena();
    test_arena_blocks();
    test_errors();
    test_trace_ids();

    return unit_done("test_common");
}
