/*
 * Copyright (C) ngx_faas authors
 */


#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "faas_common.h"


#define FAAS_ARENA_BLOCK  (64 * 1024)
#define FAAS_ARENA_FIRST  (4 * 1024)


struct faas_arena_block_s {
    faas_arena_block_t  *next;
    size_t               size;
    size_t               used;
};

/* the data of a block starts at this offset, suitably aligned */
#define FAAS_ARENA_HEAD                                                      \
    ((sizeof(faas_arena_block_t) + 15) & ~(size_t) 15)


static const struct {
    const char  *name;
    size_t       len;
    unsigned     method;
} faas_methods[] = {
    { "GET",     3, FAAS_METHOD_GET },
    { "HEAD",    4, FAAS_METHOD_HEAD },
    { "POST",    4, FAAS_METHOD_POST },
    { "PUT",     3, FAAS_METHOD_PUT },
    { "DELETE",  6, FAAS_METHOD_DELETE },
    { "PATCH",   5, FAAS_METHOD_PATCH },
    { "OPTIONS", 7, FAAS_METHOD_OPTIONS },
};

#define FAAS_NMETHODS  (sizeof(faas_methods) / sizeof(faas_methods[0]))


void
faas_error_set(faas_error_t *err, const char *file, unsigned line,
    unsigned column, const char *fmt, ...)
{
    va_list  args;

    if (err == NULL) {
        return;
    }

    err->file = file;
    err->line = line;
    err->column = column;

    va_start(args, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, args);
    va_end(args);
}


size_t
faas_error_format(const faas_error_t *err, char *buf, size_t size)
{
    int  n;

    if (size == 0) {
        return 0;
    }

    if (err->file && err->line && err->column) {
        n = snprintf(buf, size, "%s:%u:%u: %s", err->file, err->line,
                     err->column, err->msg);

    } else if (err->file && err->line) {
        n = snprintf(buf, size, "%s:%u: %s", err->file, err->line, err->msg);

    } else if (err->file) {
        n = snprintf(buf, size, "%s: %s", err->file, err->msg);

    } else {
        n = snprintf(buf, size, "%s", err->msg);
    }

    if (n < 0) {
        buf[0] = '\0';
        return 0;
    }

    return ((size_t) n < size) ? (size_t) n : size - 1;
}


unsigned
faas_method_parse(const char *name, size_t len)
{
    size_t  i;

    for (i = 0; i < FAAS_NMETHODS; i++) {
        if (faas_methods[i].len == len
            && strncasecmp(faas_methods[i].name, name, len) == 0)
        {
            return faas_methods[i].method;
        }
    }

    return 0;
}


size_t
faas_methods_format(unsigned methods, char *buf, size_t size)
{
    size_t  i, n, len;

    n = 0;

    if (size == 0) {
        return 0;
    }

    buf[0] = '\0';

    for (i = 0; i < FAAS_NMETHODS; i++) {
        if (!(methods & faas_methods[i].method)) {
            continue;
        }

        len = faas_methods[i].len + (n ? 2 : 0);

        if (n + len + 1 > size) {
            break;
        }

        if (n) {
            buf[n++] = ',';
            buf[n++] = ' ';
        }

        memcpy(buf + n, faas_methods[i].name, faas_methods[i].len);
        n += faas_methods[i].len;
        buf[n] = '\0';
    }

    return n;
}


const char *
faas_method_name(unsigned method)
{
    size_t  i;

    for (i = 0; i < FAAS_NMETHODS; i++) {
        if (faas_methods[i].method == method) {
            return faas_methods[i].name;
        }
    }

    return NULL;
}


void
faas_quote(const char *s, size_t len, char *buf, size_t size)
{
    size_t         i, n;
    unsigned char  c;

    static const char  hex[] = "0123456789abcdef";

    n = 0;
    buf[n++] = '"';

    for (i = 0; i < len; i++) {

        /* room for an escaped byte, "...", the quote and the NUL */

        if (n + 4 + 3 + 2 > size || i == FAAS_QUOTE_MAX) {
            memcpy(buf + n, "...", 3);
            n += 3;
            break;
        }

        c = s[i];

        if (c == '"' || c == '\\') {
            buf[n++] = '\\';
            buf[n++] = c;

        } else if (c == '\n' || c == '\t' || c == '\r') {
            buf[n++] = '\\';
            buf[n++] = (c == '\n') ? 'n' : (c == '\t') ? 't' : 'r';

        } else if (c < 0x20 || c == 0x7f) {
            buf[n++] = '\\';
            buf[n++] = 'x';
            buf[n++] = hex[c >> 4];
            buf[n++] = hex[c & 0xf];

        } else {
            buf[n++] = c;
        }
    }

    buf[n++] = '"';
    buf[n] = '\0';
}


size_t
faas_quote_key(const char *s, size_t len, char *buf)
{
    size_t  i;

    for (i = 0; i < len && i < FAAS_QUOTE_MAX; i++) {
        buf[i] = ((unsigned char) s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
    }

    if (i < len) {
        memcpy(buf + i, "...", 3);
        i += 3;
    }

    buf[i] = '\0';

    return i;
}


int
faas_name_chars(const char *s, size_t len, const char *extra)
{
    char    c;
    size_t  i;

    for (i = 0; i < len; i++) {
        c = s[i];

        if (!((c >= 'a' && c <= 'z')
              || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9')
              || (c != '\0' && strchr(extra, c) != NULL)))
        {
            return 0;
        }
    }

    return 1;
}


void *
faas_arena_alloc(faas_arena_t *a, size_t size)
{
    void                *p;
    size_t               bsize;
    faas_arena_block_t  *b;

    size = (size + 15) & ~(size_t) 15;

    if (size == 0) {
        size = 16;
    }

    b = a->head;

    if (b && b->size - b->used >= size) {
        b->used += size;
        return memset((char *) b + FAAS_ARENA_HEAD + b->used - size, 0,
                      size);
    }

    if (size > FAAS_ARENA_BLOCK / 4) {
        bsize = size;

    } else if (a->block_alloc) {

        /*
         * A request's pool: most aggregations need a few KiB, so blocks
         * start small and double (the arena's total so far) up to the
         * usual size.
         */

        bsize = (a->total < FAAS_ARENA_FIRST) ? FAAS_ARENA_FIRST : a->total;

        if (bsize > FAAS_ARENA_BLOCK) {
            bsize = FAAS_ARENA_BLOCK;
        }

        if (bsize < size) {
            bsize = size;
        }

    } else {
        bsize = FAAS_ARENA_BLOCK;
    }

    if (a->max && a->total + bsize > a->max) {
        a->over = 1;
        return NULL;
    }

    if (a->block_alloc) {

        /* a pool aligns less than the 16 bytes promised: room to align */

        p = a->block_alloc(a->block_data, FAAS_ARENA_HEAD + bsize + 15);
        if (p == NULL) {
            return NULL;
        }

        b = (faas_arena_block_t *) (((uintptr_t) p + 15) & ~(uintptr_t) 15);

    } else {
        b = malloc(FAAS_ARENA_HEAD + bsize);
        if (b == NULL) {
            return NULL;
        }
    }

    a->total += bsize;

    b->size = bsize;
    b->used = size;

    /* a large block goes second, so the current one keeps serving */

    if (bsize == size && a->head) {
        b->next = a->head->next;
        a->head->next = b;

    } else {
        b->next = a->head;
        a->head = b;
    }

    return memset((char *) b + FAAS_ARENA_HEAD, 0, size);
}


char *
faas_arena_strndup(faas_arena_t *a, const char *s, size_t len)
{
    char  *p;

    p = faas_arena_alloc(a, len + 1);
    if (p == NULL) {
        return NULL;
    }

    memcpy(p, s, len);
    p[len] = '\0';

    return p;
}


char *
faas_arena_strdup(faas_arena_t *a, const char *s)
{
    return faas_arena_strndup(a, s, strlen(s));
}


void
faas_arena_free(faas_arena_t *a)
{
    faas_arena_block_t  *b, *next;

    /* blocks of the caller's allocator are its to free */

    if (a->block_alloc == NULL) {
        for (b = a->head; b; b = next) {
            next = b->next;
            free(b);
        }
    }

    a->head = NULL;
    a->total = 0;
    a->over = 0;
}


void
faas_trace_init(faas_trace_t *trace, uint64_t prefix, uint64_t seed)
{
    trace->prefix = prefix;
    trace->seed = seed;
    trace->counter = 0;
}


void
faas_trace_next(faas_trace_t *trace, char *out)
{
    int                    i;
    uint64_t               lo;
    static const char      hex[] = "0123456789abcdef";

    lo = faas_mix64(trace->seed + trace->counter++);

    for (i = 15; i >= 0; i--) {
        out[i] = hex[(trace->prefix >> ((15 - i) * 4)) & 0xf];
        out[16 + i] = hex[(lo >> ((15 - i) * 4)) & 0xf];
    }
}
