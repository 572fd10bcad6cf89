/*
 * Copyright (C) ngx_faas authors
 *
 * libFuzzer target: faas_manifest_parse() on arbitrary bytes, then the
 * checks and lookups a consumer runs on what it returns.
 */


#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "faas_manifest.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
static const char *fuzz_getenv(const char *name, void *data);


/* a fixed environment, so that runs are reproducible */

static const char *
fuzz_getenv(const char *name, void *data)
{
    static char  big[4096];

    (void) data;

    if (strcmp(name, "A") == 0) {
        return "a";
    }

    if (strcmp(name, "EMPTY") == 0) {
        return "";
    }

    if (strcmp(name, "ON") == 0) {
        return "true";
    }

    if (strcmp(name, "BIG") == 0) {
        if (big[0] == '\0') {
            memset(big, 'x', sizeof(big) - 1);
        }

        return big;
    }

    return NULL;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t            i, j;
    faas_error_t      err;
    faas_manifest_t  *m, *set[2];
    char              buf[512];

    if (faas_manifest_parse("fuzz.yml", (const char *) data, size,
                            fuzz_getenv, NULL, &m, &err)
        != FAAS_OK)
    {
        faas_error_format(&err, buf, sizeof(buf));
        return 0;
    }

    /* touch every string, so that ASan sees a dangling one */

    for (i = 0; i < m->nfunctions; i++) {
        buf[0] = (char) strlen(m->functions[i].name);

        /* an aggregate has no handler */

        if (m->functions[i].aggregate) {
            buf[0] += (char) faas_agg_ncalls(m->functions[i].aggregate);

        } else {
            buf[0] += (char) strlen(m->functions[i].handler);
        }

        for (j = 0; j < m->functions[i].nenv; j++) {
            buf[0] += (char) strlen(m->functions[i].env[j].key);
            buf[0] += (char) strlen(m->functions[i].env[j].value);
        }

        for (j = 0; j < m->functions[i].nevents; j++) {
            buf[0] += (char) strlen(m->functions[i].events[j].path);
        }

        if (faas_manifest_find(&m, 1, m->functions[i].name, NULL)
            != &m->functions[i])
        {
            /* names are unique keys of one mapping */
            abort();
        }
    }

    set[0] = m;
    set[1] = m;

    if (faas_manifests_check(set, 1, &err) != FAAS_OK) {
        faas_error_format(&err, buf, sizeof(buf));
    }

    /* the same manifest twice always clashes on its first function */

    if (faas_manifests_check(set, 2, &err) != FAAS_ERROR) {
        abort();
    }

    faas_error_format(&err, buf, sizeof(buf));

    faas_manifest_free(m);

    return 0;
}
