/*
 * Copyright (C) ngx_faas authors
 *
 * Gray release: which version of a function of the Redis table serves a
 * request.  The engine's policy (faas_release.c) decides; this file
 * hands it the request's values, read in place: a header, a cookie, a
 * query argument or the client address, only when a rule or the sticky
 * key asks for one, and without allocating.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_faas_module.h"
#include "ngx_http_faas_release.h"
#include "ngx_http_faas_request.h"


static const char *ngx_http_faas_release_get(void *data, unsigned source,
    const char *name, size_t name_len, size_t *len);


/*
 * Per worker process: the position of unkeyed requests in the engine's
 * Weyl sequence.  Each worker's own run is spread evenly over the
 * split's ranges, so the sum over workers is too.
 */
static uint64_t  ngx_http_faas_release_counter;


/*
 * A random start, so that the first unkeyed request of every worker
 * does not land on the same range, the newest version's: the canary
 */

void
ngx_http_faas_release_init(uint64_t seed)
{
    ngx_http_faas_release_counter = seed;
}


/*
 * The index in tf->versions of the version that serves the request: the
 * policy's pick, or the active version when there is no policy or it
 * picks none.  Versions are at most FAAS_TABLE_VERSIONS_MAX: a scan.
 */

size_t
ngx_http_faas_release_pick(ngx_http_request_t *r,
    const faas_table_function_t *tf)
{
    size_t       i;
    const char  *name;

    if (tf->release == NULL) {
        return tf->active - tf->versions;
    }

    name = faas_release_pick(tf->release, tf->name,
                             ngx_http_faas_release_get, r,
                             &ngx_http_faas_release_counter);

    if (name == NULL) {
        return tf->active - tf->versions;
    }

    for (i = 0; i < tf->nversions; i++) {
        if (ngx_strcmp(tf->versions[i].name, name) == 0) {
            ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                           "faas release: function \"%s\" version \"%s\"",
                           tf->name, name);
            return i;
        }
    }

    /* a table's policy names only its versions: checked when parsed */

    return tf->active - tf->versions;
}


static const char *
ngx_http_faas_release_get(void *data, unsigned source, const char *name,
    size_t name_len, size_t *len)
{
    return ngx_http_faas_request_value(data, source, name, name_len, len);
}
