/*
 * Copyright (C) ngx_faas authors
 *
 * libFuzzer target: faas_table_parse_router() and faas_version_parse()
 * on arbitrary bytes (not NUL-terminated, as a Redis reply need not be).
 * The router kept holds every route of the table.
 * What parses must come back the same through its serialiser: the
 * round trip that faasctl and the gateways' disk cache rely on.  The
 * same bytes are also read as a Redis URL, whose "safe" form must never
 * hold the password, and as a start failure report (P:failure:FN:V),
 * which must come out bounded and without control characters but "\n".
 */


#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "faas_table.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
static int fuzz_str_equal(const char *a, const char *b);
static void fuzz_table(const uint8_t *data, size_t size);
static void fuzz_version(const uint8_t *data, size_t size);
static void fuzz_url(const uint8_t *data, size_t size);
static void fuzz_failure(const uint8_t *data, size_t size);


static int
fuzz_str_equal(const char *a, const char *b)
{
    if (a == NULL || b == NULL) {
        return a == b;
    }

    return strcmp(a, b) == 0;
}


static void
fuzz_table(const uint8_t *data, size_t size)
{
    char                         *one, *two;
    size_t                        i, j, nroutes;
    faas_error_t                  err;
    faas_table_t                 *t, *u;
    faas_router_t                *router;
    const faas_table_function_t  *f;
    char                          buf[512];

    if (faas_table_parse_router("fuzz", (const char *) data, size, &t,
                                &router, &err)
        != FAAS_OK)
    {
        if (t != NULL || router != NULL) {
            abort();
        }

        faas_error_format(&err, buf, sizeof(buf));
        return;
    }

    nroutes = 0;

    for (i = 0; i < t->nfunctions; i++) {
        f = &t->functions[i];
        nroutes += f->nroutes;

        if (faas_table_find(t, f->name) != f
            || f->active < f->versions
            || f->active >= f->versions + f->nversions
            || f->nversions == 0
            || f->nversions > FAAS_TABLE_VERSIONS_MAX
            || f->nroutes > FAAS_TABLE_ROUTES_MAX)
        {
            abort();
        }

        for (j = 0; j < f->nversions; j++) {
            if (f->versions[j].dir[0] != '/'
                || f->versions[j].handler == NULL
                || f->versions[j].instances < 1
                || f->versions[j].instances > FAAS_INSTANCES_MAX)
            {
                abort();
            }
        }
    }

    if (router == NULL || faas_router_count(router) != nroutes) {
        abort();
    }

    faas_router_free(router);

    one = faas_table_serialize(t);
    if (one == NULL) {
        abort();
    }

    if (faas_table_parse("fuzz", one, strlen(one), &u, &err) != FAAS_OK) {
        abort();
    }

    if (!faas_table_equal(t, u)) {
        abort();
    }

    two = faas_table_serialize(u);
    if (two == NULL || strcmp(one, two) != 0) {
        abort();
    }

    free(one);
    free(two);
    faas_table_free(u);
    faas_table_free(t);
}


static void
fuzz_version(const uint8_t *data, size_t size)
{
    char                *one, *two;
    size_t               n, n2;
    faas_error_t         err;
    faas_version_t      *v, *v2;
    faas_table_route_t  *r, *r2;
    char                 buf[512];

    if (faas_version_parse("fuzz", (const char *) data, size, &v, &r, &n,
                           &err)
        != FAAS_OK)
    {
        faas_error_format(&err, buf, sizeof(buf));
        return;
    }

    one = faas_version_serialize("f", v, r, n, 1);
    if (one == NULL) {
        abort();
    }

    if (faas_version_parse("fuzz", one, strlen(one), &v2, &r2, &n2, &err)
        != FAAS_OK
        || !faas_version_equal(v, v2)
        || n != n2
        || !faas_routes_equal(r, r2, n))
    {
        abort();
    }

    two = faas_version_serialize("f", v2, r2, n2, 1);
    if (two == NULL || strcmp(one, two) != 0) {
        abort();
    }

    free(one);
    free(two);
    faas_version_free(v2, r2, n2);
    faas_version_free(v, r, n);
}


/*
 * "safe" is the URL with its password as "***": it parses to the same
 * place, with "***" for a password, and is its own safe form.
 */

static void
fuzz_url(const uint8_t *data, size_t size)
{
    char              *url;
    faas_error_t       err;
    faas_redis_url_t   u, s;

    if (size > 512) {
        return;
    }

    url = malloc(size + 1);
    if (url == NULL) {
        return;
    }

    memcpy(url, data, size);
    url[size] = '\0';

    if (faas_redis_url_parse(url, &u, &err) != FAAS_OK) {
        free(url);
        return;
    }

    if (u.safe == NULL
        || (u.host == NULL) == (u.path == NULL)
        || (u.host && (u.port < 1 || u.port > 65535))
        || (u.user && u.password == NULL))
    {
        abort();
    }

    if (faas_redis_url_parse(u.safe, &s, &err) != FAAS_OK
        || !fuzz_str_equal(u.host, s.host)
        || !fuzz_str_equal(u.path, s.path)
        || !fuzz_str_equal(u.user, s.user)
        || !fuzz_str_equal(u.password ? "***" : NULL, s.password)
        || u.port != s.port
        || u.db != s.db
        || strcmp(u.safe, s.safe) != 0)
    {
        abort();
    }

    faas_redis_url_free(&s);
    faas_redis_url_free(&u);
    free(url);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_table(data, size);
    fuzz_version(data, size);
    fuzz_url(data, size);
    fuzz_failure(data, size);

    return 0;
}


static void
fuzz_failure(const uint8_t *data, size_t size)
{
    char            *json;
    size_t           i;
    faas_error_t     err;
    faas_failure_t   f, g;

    if (faas_failure_parse("fuzz", (const char *) data, size, &f, &err)
        != FAAS_OK)
    {
        return;
    }

    if (strlen(f.why) > FAAS_FAILURE_WHY_MAX
        || strlen(f.log) > FAAS_FAILURE_LOG_MAX)
    {
        abort();
    }

    for (i = 0; f.why[i]; i++) {
        if ((unsigned char) f.why[i] < 0x20 || f.why[i] == 0x7f) {
            abort();
        }
    }

    for (i = 0; f.log[i]; i++) {
        if (((unsigned char) f.log[i] < 0x20 && f.log[i] != '\n')
            || f.log[i] == 0x7f)
        {
            abort();
        }
    }

    json = faas_failure_encode(&f);
    if (json == NULL) {
        return;
    }

    if (faas_failure_parse("fuzz", json, strlen(json), &g, &err) != FAAS_OK
        || strcmp(f.why, g.why) != 0
        || strcmp(f.log, g.log) != 0
        || f.slot != g.slot
        || f.at != g.at)
    {
        abort();
    }

    free(json);
}
