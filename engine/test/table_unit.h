/*
 * Copyright (C) ngx_faas authors
 *
 * What the table's unit tests share: a table parsed for its message,
 * and a table of one function "hello" around a version's fields.
 */

#ifndef FAAS_TABLE_UNIT_H_INCLUDED
#define FAAS_TABLE_UNIT_H_INCLUDED


#include <stdio.h>
#include <string.h>

#include "faas_table.h"
#include "unit.h"


#define SRC  "faas:table:12"


static faas_error_t  err;


static inline const char *
test_error(const char *text)
{
    faas_table_t  *t;
    static char    buf[512];

    text = json(text);

    memset(&err, 0, sizeof(err));

    if (faas_table_parse(SRC, text, strlen(text), &t, &err) == FAAS_OK) {
        faas_table_free(t);
        return "(parsed)";
    }

    if (t != NULL) {
        return "(an error left a table)";
    }

    faas_error_format(&err, buf, sizeof(buf));

    return buf;
}


/* a table of one function "hello" with one version "v1" */

static inline const char *
fn_json(const char *version_fields)
{
    static char  buf[32768];

    snprintf(buf, sizeof(buf),
             "{'generation':1,'functions':{'hello':{'active':'v1',"
             "'versions':{'v1':{'dir':'/srv/hello'%s%s}}}}}",
             version_fields[0] ? "," : "", version_fields);

    return buf;
}


#endif /* FAAS_TABLE_UNIT_H_INCLUDED */
