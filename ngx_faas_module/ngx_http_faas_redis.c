/*
 * Copyright (C) ngx_faas authors
 *
 * The Redis client of a worker process (docs/redis.md, "Gateways"): its
 * directives, and its start and end in each worker.  Its parts, each
 * calling only those after it:
 *
 *   ngx_http_faas_redis_first.c  the first table, read blocking
 *   ngx_http_faas_redis_sync.c   following P:generation: fetch, check,
 *                                apply
 *   ngx_http_faas_redis_cache.c  the faas_redis_cache file
 *   ngx_http_faas_redis_conn.c   the two connections nginx drives
 *
 * Redis being away never stops the table in force from serving, and the
 * faas_redis_cache file gives a worker a table before Redis answers.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_faas_module.h"
#include "ngx_http_faas_redis.h"
#include "ngx_http_faas_redis_int.h"
#include "ngx_http_faas_redis_cache.h"
#include "ngx_http_faas_redis_conn.h"
#include "ngx_http_faas_redis_first.h"
#include "ngx_http_faas_redis_sync.h"
#include "ngx_http_faas_table.h"


static char *ngx_http_faas_redis_prefix_check(ngx_conf_t *cf, void *post,
    void *data);
static void ngx_http_faas_redis_url_cleanup(void *data);


ngx_conf_post_handler_pt  ngx_http_faas_redis_prefix_post =
    ngx_http_faas_redis_prefix_check;


/* per worker process */
static ngx_http_faas_redis_t  *ngx_http_faas_redis_state;


/* configuration */

char *
ngx_http_faas_redis(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_faas_main_conf_t *fmcf = conf;

    size_t               len;
    ngx_str_t           *value;
    ngx_url_t            url;
    faas_error_t         err;
    faas_redis_url_t    *u;
    ngx_pool_cleanup_t  *cln;
    struct sockaddr_un  *sun;
    u_char               msg[NGX_MAX_ERROR_STR];

    if (fmcf->redis) {
        return "is duplicate";
    }

    value = cf->args->elts;

    u = ngx_pcalloc(cf->pool, sizeof(faas_redis_url_t));
    if (u == NULL) {
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_CONF_ERROR;
    }

    /* the engine's messages never quote the URL: it may hold a password */

    if (faas_redis_url_parse((char *) value[1].data, u, &err) != FAAS_OK) {
        faas_error_format(&err, (char *) msg, sizeof(msg));
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "faas_redis: %s", msg);
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_faas_redis_url_cleanup;
    cln->data = u;

    fmcf->redis = u;
    fmcf->redis_name.data = (u_char *) u->safe;
    fmcf->redis_name.len = ngx_strlen(u->safe);

    if (u->path) {
        len = ngx_strlen(u->path);

        sun = ngx_pcalloc(cf->pool, sizeof(struct sockaddr_un));
        if (sun == NULL) {
            return NGX_CONF_ERROR;
        }

        if (len >= sizeof(sun->sun_path)) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "faas_redis: the socket path is longer than "
                               "a Unix socket path may be (%uz bytes)",
                               sizeof(sun->sun_path) - 1);
            return NGX_CONF_ERROR;
        }

        sun->sun_family = AF_UNIX;
        ngx_memcpy(sun->sun_path, u->path, len);

        fmcf->redis_sockaddr = (struct sockaddr *) sun;
        fmcf->redis_socklen = sizeof(struct sockaddr_un);

        return NGX_CONF_OK;
    }

    /* resolved here, like proxy_pass's names: workers never block on DNS */

    ngx_memzero(&url, sizeof(ngx_url_t));

    len = ngx_strlen(u->host);

    url.url.data = ngx_pnalloc(cf->pool, len + sizeof("[]:65535"));
    if (url.url.data == NULL) {
        return NGX_CONF_ERROR;
    }

    url.url.len = ngx_sprintf(url.url.data,
                              ngx_strlchr((u_char *) u->host,
                                          (u_char *) u->host + len, ':')
                              ? "[%s]:%ud" : "%s:%ud",
                              u->host, u->port)
                  - url.url.data;
    url.default_port = (in_port_t) u->port;
    url.no_resolve = 0;

    if (ngx_parse_url(cf->pool, &url) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "faas_redis: %s in \"%V\"",
                           url.err ? url.err : "invalid address",
                           &url.url);
        return NGX_CONF_ERROR;
    }

    if (url.naddrs == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "faas_redis: host \"%s\" not found", u->host);
        return NGX_CONF_ERROR;
    }

    fmcf->redis_sockaddr = url.addrs[0].sockaddr;
    fmcf->redis_socklen = url.addrs[0].socklen;

    return NGX_CONF_OK;
}


static char *
ngx_http_faas_redis_prefix_check(ngx_conf_t *cf, void *post, void *data)
{
    ngx_str_t  *prefix = data;

    if (!faas_redis_prefix_valid((char *) prefix->data, prefix->len)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid faas_redis_prefix \"%V\": 1 to %d of "
                           "[A-Za-z0-9._:-]", prefix, FAAS_REDIS_PREFIX_MAX);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


char *
ngx_http_faas_redis_init_conf(ngx_conf_t *cf, ngx_http_faas_main_conf_t *fmcf)
{
    if (fmcf->redis_prefix.data == NULL) {
        ngx_str_set(&fmcf->redis_prefix, FAAS_REDIS_PREFIX);
    }

    ngx_conf_init_msec_value(fmcf->redis_check, 1000);
    ngx_conf_init_msec_value(fmcf->redis_timeout, 1000);

    if (fmcf->redis_check == 0 || fmcf->redis_timeout == 0) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"faas_redis_check\" and \"faas_redis_timeout\" "
                      "must be longer than 0");
        return NGX_CONF_ERROR;
    }

    if (fmcf->redis_cache.len
        && ngx_conf_full_name(cf->cycle, &fmcf->redis_cache, 0) != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static void
ngx_http_faas_redis_url_cleanup(void *data)
{
    faas_redis_url_free(data);
}


ngx_uint_t
ngx_http_faas_redis_reconnections(void)
{
    return ngx_http_faas_redis_state
           ? ngx_http_faas_redis_state->reconnections : 0;
}


/* worker processes */

ngx_int_t
ngx_http_faas_redis_init_process(ngx_cycle_t *cycle)
{
    ngx_http_faas_redis_t      *rd;
    ngx_http_faas_main_conf_t  *fmcf;

    fmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_faas_module);

    if (fmcf == NULL || fmcf->redis == NULL) {
        return NGX_OK;
    }

    /* not the cache manager and loader */

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    rd = ngx_pcalloc(cycle->pool, sizeof(ngx_http_faas_redis_t));
    if (rd == NULL) {
        return NGX_ERROR;
    }

    rd->cycle = cycle;
    rd->fmcf = fmcf;

    if (faas_key_generation(rd->generation_key, FAAS_KEY_MAX,
                            (char *) fmcf->redis_prefix.data)
        == 0
        || faas_key_epoch(rd->epoch_key, FAAS_KEY_MAX,
                          (char *) fmcf->redis_prefix.data)
           == 0
        || faas_key_events(rd->events_key, FAAS_KEY_MAX,
                           (char *) fmcf->redis_prefix.data)
           == 0)
    {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "faas redis: prefix \"%V\" is too long",
                      &fmcf->redis_prefix);
        return NGX_ERROR;
    }

    ngx_http_faas_redis_conn_init(rd, &rd->cmd, "commands");
    ngx_http_faas_redis_conn_init(rd, &rd->sub, "events");

    if (rd->cmd.out == NULL || rd->sub.out == NULL) {
        return NGX_ERROR;
    }

    ngx_http_faas_redis_sync_init(rd);

    ngx_http_faas_redis_state = rd;

    if (fmcf->redis_cache.len) {
        ngx_http_faas_redis_cache_load(rd);
    }

    if (ngx_http_faas_table_current() == NULL) {
        ngx_http_faas_redis_first_table(rd);
    }

    ngx_http_faas_redis_connect(&rd->sub);
    ngx_http_faas_redis_connect(&rd->cmd);

    ngx_add_timer(&rd->check, fmcf->redis_check);

    return NGX_OK;
}


void
ngx_http_faas_redis_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_faas_redis_t  *rd;

    rd = ngx_http_faas_redis_state;

    if (rd == NULL) {
        return;
    }

    ngx_http_faas_redis_state = NULL;

    /* closed before nginx looks for sockets left open */

    ngx_http_faas_redis_close(&rd->cmd);
    ngx_http_faas_redis_close(&rd->sub);

    if (rd->check.timer_set) {
        ngx_del_timer(&rd->check);
    }

    if (rd->cmd.retry.timer_set) {
        ngx_del_timer(&rd->cmd.retry);
    }

    if (rd->sub.retry.timer_set) {
        ngx_del_timer(&rd->sub.retry);
    }

    ngx_http_faas_table_exit();
}

