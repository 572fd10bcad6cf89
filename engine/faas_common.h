/*
 * Copyright (C) ngx_faas authors
 *
 * Shared definitions of the ngx_faas engine: plain C, no nginx types,
 * used by the nginx module, faasd and faasctl alike.
 */

#ifndef FAAS_COMMON_H_INCLUDED
#define FAAS_COMMON_H_INCLUDED


#include <stddef.h>
#include <stdint.h>


#define FAAS_OK          0
#define FAAS_ERROR      -1
#define FAAS_AGAIN      -2


/* HTTP methods as a bit set; a route holds the set it accepts */
#define FAAS_METHOD_GET      0x0001
#define FAAS_METHOD_HEAD     0x0002
#define FAAS_METHOD_POST     0x0004
#define FAAS_METHOD_PUT      0x0008
#define FAAS_METHOD_DELETE   0x0010
#define FAAS_METHOD_PATCH    0x0020
#define FAAS_METHOD_OPTIONS  0x0040

/* what "any" / "all" / a missing method means in Midway: no OPTIONS */
#define FAAS_METHODS_ANY     (FAAS_METHOD_GET|FAAS_METHOD_HEAD          \
                              |FAAS_METHOD_POST|FAAS_METHOD_PUT         \
                              |FAAS_METHOD_DELETE|FAAS_METHOD_PATCH)

#define FAAS_METHODS_IDEMPOTENT (FAAS_METHOD_GET|FAAS_METHOD_HEAD        \
                                 |FAAS_METHOD_PUT|FAAS_METHOD_DELETE     \
                                 |FAAS_METHOD_OPTIONS)


/*
 * An error with the place it comes from.  "file" points to memory owned
 * by whoever set it (a manifest's path); line and column are 1-based,
 * 0 when unknown.
 */
typedef struct {
    const char  *file;
    unsigned     line;
    unsigned     column;
    char         msg[256];
} faas_error_t;


void faas_error_set(faas_error_t *err, const char *file, unsigned line,
    unsigned column, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

/* "file:line:column: msg" (the parts that are known) into buf */
size_t faas_error_format(const faas_error_t *err, char *buf, size_t size);

/* "GET" -> FAAS_METHOD_GET, case-insensitive; 0 when unknown */
unsigned faas_method_parse(const char *name, size_t len);

/* "GET, HEAD, POST" for an Allow header; returns the length written */
size_t faas_methods_format(unsigned methods, char *buf, size_t size);

/* FAAS_METHOD_GET -> "GET"; NULL for anything but one method's bit */
const char *faas_method_name(unsigned method);


/*
 * Values in messages, as the manifest and the table readers write them.
 * faas_quote(): in double quotes, escaped, at most FAAS_QUOTE_MAX bytes
 * of the value then "...".  faas_quote_key(): a key for a place
 * ("functions.KEY.handler"), unquoted, control bytes as "?", shortened
 * the same way; it returns the length written.  Both write at most
 * FAAS_QUOTE_SIZE bytes, the NUL included, and faas_quote() fewer when
 * "size" is smaller.
 */
#define FAAS_QUOTE_MAX   40
#define FAAS_QUOTE_SIZE  56

void faas_quote(const char *s, size_t len, char *buf, size_t size);
size_t faas_quote_key(const char *s, size_t len, char *buf);

/* 1 when each of the "len" bytes is A-Z a-z 0-9 or one of "extra" */
int faas_name_chars(const char *s, size_t len, const char *extra);


/*
 * An arena: zeroed, 16-byte aligned pieces from 64 KiB blocks, freed all
 * at once, so that a reader that fails anywhere frees everything with
 * one call.  Set "max" (bytes of blocks, 0 for no limit) before the
 * first allocation; an allocation beyond it fails with "over" set, which
 * tells an input too big from a malloc() failure.
 *
 * Blocks come from malloc(), or, with "block_alloc" set, from the
 * caller's allocator (the nginx glue gives the request's pool, so that
 * nothing of a request is allocated outside it): faas_arena_free() then
 * forgets the blocks, as their owner frees them.  A zeroed arena is a
 * malloc() one.
 */
typedef struct faas_arena_block_s  faas_arena_block_t;

typedef struct {
    faas_arena_block_t  *head;
    size_t               total;
    size_t               max;
    unsigned             over;
    void              *(*block_alloc)(void *data, size_t size);
    void                *block_data;
} faas_arena_t;

void *faas_arena_alloc(faas_arena_t *a, size_t size);

/* NUL-terminated copies: of "len" bytes, of a string */
char *faas_arena_strndup(faas_arena_t *a, const char *s, size_t len);
char *faas_arena_strdup(faas_arena_t *a, const char *s);

/* the arena can be used again; "max" and "block_alloc" stay */
void faas_arena_free(faas_arena_t *a);


/*
 * The engine's one hash: FNV-1a over bytes, then splitmix64's finaliser,
 * since FNV-1a alone leaves the high bits weakly mixed for short inputs
 * that differ in their last byte ("u1", "u2").  Sticky release buckets
 * are kept by users' cookies across upgrades: the values must not change.
 */
#define FAAS_FNV_BASIS  0xcbf29ce484222325ULL
#define FAAS_FNV_PRIME  0x100000001b3ULL

static inline uint64_t
faas_fnv1a(uint64_t h, const void *data, size_t len)
{
    const unsigned char  *p = data;

    while (len--) {
        h = (h ^ *p++) * FAAS_FNV_PRIME;
    }

    return h;
}


/* a bijection: distinct inputs stay distinct */

static inline uint64_t
faas_mix64(uint64_t x)
{
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}


/*
 * Trace ids: 32 hex digits, like nginx's $request_id, without a call
 * into the CSPRNG per request.  The high half is random per process,
 * the low half a bijective mix of a counter, so ids never repeat within
 * a process and differ between processes.  Unique, not secret.
 */
#define FAAS_TRACE_ID_LEN  32

typedef struct {
    uint64_t     prefix;
    uint64_t     seed;
    uint64_t     counter;
} faas_trace_t;

void faas_trace_init(faas_trace_t *trace, uint64_t prefix, uint64_t seed);

/* writes FAAS_TRACE_ID_LEN hex digits, no NUL */
void faas_trace_next(faas_trace_t *trace, char *out);


#endif /* FAAS_COMMON_H_INCLUDED */
