/*
 * Copyright (C) ngx_faas authors
 *
 * The functions nginx knows, by name, and their workers' slots: from
 * the manifests at configuration time, from the Redis table as it
 * changes.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_faas_module.h"
#include "ngx_http_faas_registry.h"


ngx_http_faas_function_t *
ngx_http_faas_find_function(ngx_http_faas_main_conf_t *fmcf, ngx_str_t *name)
{
    ngx_uint_t                  i;
    ngx_http_faas_function_t  **fn;

    /* configuration time only: requests reach functions through routes */

    fn = fmcf->functions.elts;

    for (i = 0; i < fmcf->functions.nelts; i++) {
        if (fn[i]->name.len == name->len
            && ngx_strncmp(fn[i]->name.data, name->data, name->len) == 0)
        {
            return fn[i];
        }
    }

    return NULL;
}


/* the endpoint contract with faasd: faas_socket_path() */

ngx_int_t
ngx_http_faas_init_slots(ngx_log_t *log, ngx_uint_t level, ngx_pool_t *pool,
    ngx_str_t *dir, ngx_http_faas_function_t *fn)
{
    size_t                 len;
    ngx_uint_t             s;
    ngx_http_faas_slot_t  *slot;

    fn->slots = ngx_pcalloc(pool, fn->nslots * sizeof(ngx_http_faas_slot_t));
    if (fn->slots == NULL) {
        return NGX_ERROR;
    }

    for (s = 0; s < fn->nslots; s++) {
        slot = &fn->slots[s];

        len = faas_socket_path(slot->sockaddr.sun_path,
                               sizeof(slot->sockaddr.sun_path),
                               (char *) dir->data, dir->len,
                               (char *) fn->name.data, fn->name.len,
                               (char *) fn->version.data, fn->version.len,
                               s);

        if (len == 0) {
            ngx_log_error(level, log, 0,
                          "socket path \"%V/%V%s%V-%ui.sock\" is longer "
                          "than a Unix socket path may be (%d bytes): "
                          "shorten faas_socket_dir", dir, &fn->name,
                          fn->version.len ? "@" : "", &fn->version, s,
                          FAAS_SOCKET_PATH_MAX);
            return NGX_ERROR;
        }

        slot->sockaddr.sun_family = AF_UNIX;
        slot->socklen = offsetof(struct sockaddr_un, sun_path) + len + 1;

        slot->name.len = sizeof("unix:") - 1 + len;
        slot->name.data = ngx_pnalloc(pool, slot->name.len);
        if (slot->name.data == NULL) {
            return NGX_ERROR;
        }

        ngx_sprintf(slot->name.data, "unix:%s", slot->sockaddr.sun_path);

        ngx_queue_init(&slot->cache);
        ngx_queue_init(&slot->free);
    }

    return NGX_OK;
}
