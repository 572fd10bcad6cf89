/*
 * Copyright (C) ngx_faas authors
 *
 * What the unit tests of the f.yml loader share (test_manifest.c,
 * test_manifest_aggregate.c, test_yaml.c): a manifest parsed from text
 * with a made-up environment, or the error it gives.
 */

#ifndef FAAS_MANIFEST_UNIT_H_INCLUDED
#define FAAS_MANIFEST_UNIT_H_INCLUDED


#include <stdio.h>
#include <string.h>

#include "faas_manifest.h"
#include "unit.h"


static const char *test_getenv(const char *name, void *data);
static faas_manifest_t *test_parse(const char *text);
static const char *test_error(const char *text);


static const char *
test_getenv(const char *name, void *data)
{
    (void) data;

    if (strcmp(name, "REGION") == 0) {
        return "hz";
    }

    if (strcmp(name, "SECONDS") == 0) {
        return "30";
    }

    if (strcmp(name, "ON") == 0) {
        return "true";
    }

    if (strcmp(name, "EMPTY") == 0) {
        return "";
    }

    return NULL;
}


static faas_manifest_t *
test_parse(const char *text)
{
    faas_error_t      err;
    faas_manifest_t  *m;
    char              buf[512];

    if (faas_manifest_parse("f.yml", text, strlen(text), test_getenv, NULL,
                            &m, &err)
        != FAAS_OK)
    {
        faas_error_format(&err, buf, sizeof(buf));
        fprintf(stderr, "unexpected error: %s\n", buf);
        return NULL;
    }

    return m;
}


/* the formatted error, or "(parsed)" */

static const char *
test_error(const char *text)
{
    faas_error_t      err;
    faas_manifest_t  *m;

    static char       buf[512];

    m = (faas_manifest_t *) 1;

    if (faas_manifest_parse("f.yml", text, strlen(text), test_getenv, NULL,
                            &m, &err)
        == FAAS_OK)
    {
        faas_manifest_free(m);
        return "(parsed)";
    }

    if (m != NULL) {
        return "(out not NULL on error)";
    }

    faas_error_format(&err, buf, sizeof(buf));

    return buf;
}


#endif /* FAAS_MANIFEST_UNIT_H_INCLUDED */
