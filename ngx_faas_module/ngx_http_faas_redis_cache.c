/*
 * Copyright (C) ngx_faas authors
 *
 * The faas_redis_cache file: the last good table, which gives a worker
 * a table before Redis answers (and while it does not).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_faas_module.h"
#include "ngx_http_faas_redis_int.h"
#include "ngx_http_faas_redis_cache.h"
#include "ngx_http_faas_table.h"


void
ngx_http_faas_redis_cache_load(ngx_http_faas_redis_t *rd)
{
    char                   *buf;
    size_t                  size, got;
    ssize_t                 n;
    ngx_fd_t                fd;
    ngx_err_t               err;
    ngx_log_t              *log;
    faas_table_t           *t;
    faas_error_t            ferr;
    faas_router_t          *router;
    ngx_file_info_t         fi;
    ngx_http_faas_table_t  *table;
    u_char                  msg[NGX_MAX_ERROR_STR];

    log = rd->cycle->log;

    fd = ngx_open_file(rd->fmcf->redis_cache.data, NGX_FILE_RDONLY,
                       NGX_FILE_OPEN, 0);

    if (fd == NGX_INVALID_FILE) {
        err = ngx_errno;

        if (err == NGX_ENOENT) {
            ngx_log_error(NGX_LOG_INFO, log, 0,
                          "faas redis: no table cache \"%V\" yet",
                          &rd->fmcf->redis_cache);
            return;
        }

        ngx_log_error(NGX_LOG_ERR, log, err,
                      "faas redis: cannot open the table cache \"%V\"",
                      &rd->fmcf->redis_cache);
        return;
    }

    buf = NULL;

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      "faas redis: cannot stat the table cache \"%V\"",
                      &rd->fmcf->redis_cache);
        goto done;
    }

    if (ngx_file_size(&fi) > FAAS_TABLE_MAX_SIZE) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "faas redis: the table cache \"%V\" is larger than a "
                      "table may be (256 MiB): not used",
                      &rd->fmcf->redis_cache);
        goto done;
    }

    size = (size_t) ngx_file_size(&fi);

    buf = ngx_alloc(size + 1, log);
    if (buf == NULL) {
        goto done;
    }

    for (got = 0; got < size; got += n) {
        n = ngx_read_fd(fd, buf + got, size - got);

        if (n == -1) {
            ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                          "faas redis: cannot read the table cache \"%V\"",
                          &rd->fmcf->redis_cache);
            goto done;
        }

        if (n == 0) {
            break;
        }
    }

    if (faas_table_parse_router((char *) rd->fmcf->redis_cache.data, buf,
                                got, &t, &router, &ferr)
        != FAAS_OK)
    {
        faas_error_format(&ferr, (char *) msg, sizeof(msg));
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "faas redis: the table cache is not used: %s", msg);
        goto done;
    }

    table = ngx_http_faas_table_create(rd->cycle, t, router,
                                       (char *) rd->fmcf->redis_cache.data);
    if (table == NULL) {
        goto done;
    }

    ngx_http_faas_table_install(rd->cycle, table);

    /* in force as if fetched: Redis naming it again changes nothing */
    faas_sync_applied(&rd->sync, table->generation, table->table->epoch);

    ngx_log_error(NGX_LOG_NOTICE, log, 0,
                  "faas redis: serving the cached table of generation %uL "
                  "from %V", table->generation, &rd->fmcf->redis_cache);

done:

    if (buf) {
        ngx_free(buf);
    }

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_ALERT, log, ngx_errno,
                      ngx_close_file_n " \"%V\" failed",
                      &rd->fmcf->redis_cache);
    }
}


/* a temporary file beside it, then rename(): readers see one or the other */

void
ngx_http_faas_redis_cache_save(ngx_http_faas_redis_t *rd, const char *json,
    size_t len)
{
    u_char     *p;
    size_t      done;
    ssize_t     n;
    ngx_fd_t    fd;
    ngx_err_t   err;
    ngx_str_t  *path;
    u_char      tmp[NGX_MAX_PATH + 1];

    path = &rd->fmcf->redis_cache;

    p = ngx_snprintf(tmp, NGX_MAX_PATH, "%V.%P.tmp", path, ngx_pid);

    if (p == tmp + NGX_MAX_PATH) {
        err = NGX_ENAMETOOLONG;
        goto failed;
    }

    *p = '\0';

    fd = ngx_open_file(tmp, NGX_FILE_WRONLY, NGX_FILE_TRUNCATE,
                       NGX_FILE_DEFAULT_ACCESS);

    if (fd == NGX_INVALID_FILE) {
        err = ngx_errno;
        goto failed;
    }

    for (done = 0; done < len; done += n) {
        n = ngx_write_fd(fd, (u_char *) json + done, len - done);

        if (n == -1) {
            err = ngx_errno;
            (void) ngx_close_file(fd);
            (void) ngx_delete_file(tmp);
            goto failed;
        }
    }

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        err = ngx_errno;
        (void) ngx_delete_file(tmp);
        goto failed;
    }

    if (ngx_rename_file(tmp, path->data) == NGX_FILE_ERROR) {
        err = ngx_errno;
        (void) ngx_delete_file(tmp);
        goto failed;
    }

    if (rd->cache_failed) {
        ngx_log_error(NGX_LOG_NOTICE, rd->cycle->log, 0,
                      "faas redis: the table cache \"%V\" is written again",
                      path);
        rd->cache_failed = 0;
    }

    return;

failed:

    if (!rd->cache_failed) {
        ngx_log_error(NGX_LOG_ERR, rd->cycle->log, err,
                      "faas redis: cannot write the table cache \"%V\"",
                      path);
        rd->cache_failed = 1;
    }
}
