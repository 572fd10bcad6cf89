/*
 * Copyright (C) ngx_faas authors
 *
 * A tiny unit test harness for the engine: each CHECK counts, a failed
 * one prints where and why, and unit_done() prints the plain closing
 * line "N passed, N failed" and gives the exit status.
 */

#ifndef FAAS_UNIT_H_INCLUDED
#define FAAS_UNIT_H_INCLUDED


#include <stdio.h>
#include <string.h>


static unsigned  unit_passed;
static unsigned  unit_failed;


#define CHECK(cond)                                                          \
    do {                                                                     \
        if (cond) {                                                          \
            unit_passed++;                                                   \
        } else {                                                             \
            unit_failed++;                                                   \
            fprintf(stderr, "%s:%d: check failed: %s\n",                     \
                    __FILE__, __LINE__, #cond);                              \
        }                                                                    \
    } while (0)


#define CHECK_INT(got, want)                                                 \
    do {                                                                     \
        long long  g_ = (long long) (got), w_ = (long long) (want);          \
        if (g_ == w_) {                                                      \
            unit_passed++;                                                   \
        } else {                                                             \
            unit_failed++;                                                   \
            fprintf(stderr, "%s:%d: %s is %lld, want %lld\n",                \
                    __FILE__, __LINE__, #got, g_, w_);                       \
        }                                                                    \
    } while (0)


#define CHECK_STR(got, want)                                                 \
    do {                                                                     \
        const char  *g_ = (got), *w_ = (want);                               \
        if (g_ != NULL && w_ != NULL && strcmp(g_, w_) == 0) {               \
            unit_passed++;                                                   \
        } else {                                                             \
            unit_failed++;                                                   \
            fprintf(stderr, "%s:%d: %s is \"%s\", want \"%s\"\n",            \
                    __FILE__, __LINE__, #got, g_ ? g_ : "(null)",            \
                    w_ ? w_ : "(null)");                                     \
        }                                                                    \
    } while (0)


/* a length-delimited string against a C string */
#define CHECK_MEM(got, got_len, want)                                        \
    do {                                                                     \
        const char  *w_ = (want);                                            \
        size_t       l_ = (size_t) (got_len);                                \
        if (l_ == strlen(w_) && memcmp((got), w_, l_) == 0) {                \
            unit_passed++;                                                   \
        } else {                                                             \
            unit_failed++;                                                   \
            fprintf(stderr, "%s:%d: %s is \"%.*s\", want \"%s\"\n",          \
                    __FILE__, __LINE__, #got, (int) l_,                      \
                    (const char *) (got), w_);                               \
        }                                                                    \
    } while (0)


static int
unit_done(const char *name)
{
    printf("%s: %u passed, %u failed\n", name, unit_passed, unit_failed);
    return unit_failed ? 1 : 0;
}


/*
 * JSON written with ' for ", to keep the tests readable; eight results
 * may be in use at once
 */

static inline const char *
json(const char *text)
{
    size_t       i;
    static char  buf[8][32768];
    static int   next;
    char        *b;

    b = buf[next++ % 8];

    for (i = 0; text[i] && i < sizeof(buf[0]) - 1; i++) {
        b[i] = (text[i] == '\'') ? '"' : text[i];
    }

    b[i] = '\0';

    return b;
}


#endif /* FAAS_UNIT_H_INCLUDED */
