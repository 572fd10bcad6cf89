/*
 * Copyright (C) ngx_faas authors
 *
 * What the manifest's parts share (faas_manifest.c and
 * faas_manifest_aggregate.c), over the YAML tree's faas_yaml.h.
 */

#ifndef FAAS_MANIFEST_INT_H_INCLUDED
#define FAAS_MANIFEST_INT_H_INCLUDED


#include "faas_yaml.h"


int faas_read_aggregate(faas_ctx_t *ctx, faas_ynode_t *key,
    faas_ynode_t *node, faas_function_t *fn);


#endif /* FAAS_MANIFEST_INT_H_INCLUDED */
