/*
 * Copyright (C) ngx_faas authors
 */


#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "faas_common.h"


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


void
faas_trace_init(faas_trace_t *trace, uint64_t prefix, uint64_t seed)
{
    trace->prefix = prefix;
    trace->seed = seed;
    trace->counter = 0;
}


/* splitmix64's finaliser: a bijection, so distinct counters stay distinct */

static uint64_t
faas_mix64(uint64_t x)
{
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
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
