/*
 * Copyright (C) ngx_faas authors
 *
 * Inside the table's codec: what faas_table_read.c (reading a table or
 * a version record) and faas_table.c (the rest) share.  Not for the
 * table's users, who have faas_table.h.
 */

#ifndef FAAS_TABLE_IMPL_H_INCLUDED
#define FAAS_TABLE_IMPL_H_INCLUDED


#include "faas_table.h"


/* what faas_table_parse() and faas_version_parse() hand out */

typedef struct {
    faas_table_t    table;
    faas_arena_t    arena;
} faas_table_impl_t;


typedef struct {
    faas_version_t  version;
    faas_arena_t    arena;
} faas_version_impl_t;


int faas_routes_check(const faas_table_t *table, const char *function,
    const faas_table_route_t *routes, size_t nroutes, const char *source,
    faas_router_t **keep, faas_error_t *err);
uint32_t faas_name_hash(const char *name);


#endif /* FAAS_TABLE_IMPL_H_INCLUDED */
