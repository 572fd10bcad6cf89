/*
 * Copyright (C) ngx_faas authors
 *
 * Directives and configuration of ngx_http_faas_module.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_faas_module.h"
#include "ngx_http_faas_aggregate_conf.h"
#include "ngx_http_faas_capture.h"
#include "ngx_http_faas_handler.h"
#include "ngx_http_faas_manifest.h"
#include "ngx_http_faas_peer.h"
#include "ngx_http_faas_redis.h"
#include "ngx_http_faas_registry.h"
#include "ngx_http_faas_variables.h"

#include <grp.h>
#include <pwd.h>


#define NGX_HTTP_FAAS_GROUPS_MAX  256


static ngx_int_t ngx_http_faas_preconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_faas_postconfiguration(ngx_conf_t *cf);
static void ngx_http_faas_check_socket_dir(ngx_conf_t *cf,
    ngx_http_faas_main_conf_t *fmcf);
static ngx_int_t ngx_http_faas_init_process(ngx_cycle_t *cycle);
static void ngx_http_faas_exit_process(ngx_cycle_t *cycle);
static void *ngx_http_faas_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_faas_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_faas_create_srv_conf(ngx_conf_t *cf);
static char *ngx_http_faas_merge_srv_conf(ngx_conf_t *cf, void *parent,
    void *child);
static void *ngx_http_faas_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_faas_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_faas_pass(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


static ngx_str_t  ngx_http_faas_hide_headers[] = {
    ngx_string("Date"),
    ngx_string("Server"),
    ngx_string("X-Accel-Expires"),
    ngx_string("X-Accel-Redirect"),
    ngx_string("X-Accel-Limit-Rate"),
    ngx_string("X-Accel-Buffering"),
    ngx_string("X-Accel-Charset"),
    ngx_null_string
};


static ngx_command_t  ngx_http_faas_commands[] = {

    { ngx_string("faas_manifest"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_http_faas_manifest,
      NGX_HTTP_SRV_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("faas_pass"),
      NGX_HTTP_LOC_CONF|NGX_HTTP_LIF_CONF|NGX_CONF_NOARGS|NGX_CONF_TAKE1,
      ngx_http_faas_pass,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("faas_aggregate"),
      NGX_HTTP_LOC_CONF|NGX_CONF_BLOCK|NGX_CONF_NOARGS,
      ngx_http_faas_aggregate_block,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    /* inside "faas_aggregate { }" */

    { ngx_string("timeout"),
      NGX_HTTP_FAAS_AGG_CONF|NGX_CONF_TAKE1,
      ngx_http_faas_aggregate_key,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("forward_headers"),
      NGX_HTTP_FAAS_AGG_CONF|NGX_CONF_1MORE,
      ngx_http_faas_aggregate_key,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("call"),
      NGX_HTTP_FAAS_AGG_CONF|NGX_CONF_BLOCK|NGX_CONF_TAKE1,
      ngx_http_faas_aggregate_call,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    /* inside "call NAME { }" */

    { ngx_string("url"),
      NGX_HTTP_FAAS_CALL_CONF|NGX_CONF_TAKE1,
      ngx_http_faas_aggregate_key,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("function"),
      NGX_HTTP_FAAS_CALL_CONF|NGX_CONF_TAKE1,
      ngx_http_faas_aggregate_key,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("method"),
      NGX_HTTP_FAAS_CALL_CONF|NGX_CONF_TAKE1,
      ngx_http_faas_aggregate_key,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("body"),
      NGX_HTTP_FAAS_CALL_CONF|NGX_CONF_TAKE1,
      ngx_http_faas_aggregate_key,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("timeout"),
      NGX_HTTP_FAAS_CALL_CONF|NGX_CONF_TAKE1,
      ngx_http_faas_aggregate_key,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("required"),
      NGX_HTTP_FAAS_CALL_CONF|NGX_CONF_TAKE1,
      ngx_http_faas_aggregate_key,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("optional"),
      NGX_HTTP_FAAS_CALL_CONF|NGX_CONF_NOARGS,
      ngx_http_faas_aggregate_key,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("max_size"),
      NGX_HTTP_FAAS_CALL_CONF|NGX_CONF_TAKE1,
      ngx_http_faas_aggregate_key,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("target"),
      NGX_HTTP_FAAS_CALL_CONF|NGX_CONF_TAKE1,
      ngx_http_faas_aggregate_key,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("pick"),
      NGX_HTTP_FAAS_CALL_CONF|NGX_CONF_1MORE,
      ngx_http_faas_aggregate_key,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("omit"),
      NGX_HTTP_FAAS_CALL_CONF|NGX_CONF_1MORE,
      ngx_http_faas_aggregate_key,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("rename"),
      NGX_HTTP_FAAS_CALL_CONF|NGX_CONF_TAKE2,
      ngx_http_faas_aggregate_key,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("key"),
      NGX_HTTP_FAAS_CALL_CONF|NGX_CONF_TAKE1,
      ngx_http_faas_aggregate_key,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("merge"),
      NGX_HTTP_FAAS_CALL_CONF|NGX_CONF_TAKE1,
      ngx_http_faas_aggregate_key,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("output"),
      NGX_HTTP_FAAS_CALL_CONF|NGX_CONF_TAKE1,
      ngx_http_faas_aggregate_key,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("query"),
      NGX_HTTP_FAAS_CALL_CONF|NGX_CONF_TAKE2,
      ngx_http_faas_aggregate_key,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("header"),
      NGX_HTTP_FAAS_CALL_CONF|NGX_CONF_TAKE2,
      ngx_http_faas_aggregate_key,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("faas_socket_dir"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_faas_main_conf_t, socket_dir),
      NULL },

    { ngx_string("faas_keepalive"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_faas_main_conf_t, keepalive),
      NULL },

    { ngx_string("faas_keepalive_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_faas_main_conf_t, keepalive_timeout),
      NULL },

    { ngx_string("faas_connect_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_faas_loc_conf_t, upstream.connect_timeout),
      NULL },

    { ngx_string("faas_send_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_faas_loc_conf_t, upstream.send_timeout),
      NULL },

    { ngx_string("faas_read_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_faas_loc_conf_t, upstream.read_timeout),
      NULL },

    { ngx_string("faas_redis"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_faas_redis,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("faas_redis_prefix"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_faas_main_conf_t, redis_prefix),
      &ngx_http_faas_redis_prefix_post },

    { ngx_string("faas_redis_cache"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_faas_main_conf_t, redis_cache),
      NULL },

    { ngx_string("faas_redis_check"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_faas_main_conf_t, redis_check),
      NULL },

    { ngx_string("faas_redis_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_faas_main_conf_t, redis_timeout),
      NULL },

    { ngx_string("faas_version_header"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_faas_loc_conf_t, version_header),
      NULL },

    { ngx_string("faas_buffer_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_faas_loc_conf_t, upstream.buffer_size),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_faas_module_ctx = {
    ngx_http_faas_preconfiguration,        /* preconfiguration */
    ngx_http_faas_postconfiguration,       /* postconfiguration */

    ngx_http_faas_create_main_conf,        /* create main configuration */
    ngx_http_faas_init_main_conf,          /* init main configuration */

    ngx_http_faas_create_srv_conf,         /* create server configuration */
    ngx_http_faas_merge_srv_conf,          /* merge server configuration */

    ngx_http_faas_create_loc_conf,         /* create location configuration */
    ngx_http_faas_merge_loc_conf           /* merge location configuration */
};


ngx_module_t  ngx_http_faas_module = {
    NGX_MODULE_V1,
    &ngx_http_faas_module_ctx,             /* module context */
    ngx_http_faas_commands,                /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_faas_init_process,            /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_faas_exit_process,            /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_int_t
ngx_http_faas_preconfiguration(ngx_conf_t *cf)
{
    return ngx_http_faas_add_variables(cf);
}


static ngx_int_t
ngx_http_faas_postconfiguration(ngx_conf_t *cf)
{
    ngx_http_faas_main_conf_t  *fmcf;

    fmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_faas_module);

    if (ngx_http_faas_init_functions(cf, fmcf) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_faas_capture_init(cf) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_http_faas_check_socket_dir(cf, fmcf);

    return ngx_http_faas_keepalive_init(cf, fmcf);
}


/*
 * Workers that cannot enter the socket directory fail every request
 * with 502 and a "Permission denied" per connect(); said once here
 * instead, at start, reload and nginx -t, where a warning is seen (the
 * configured error_log is not in force yet).  Each component of the
 * path is judged by its mode bits for the workers' uid, primary and
 * supplementary groups, as the kernel would, except for ACLs and
 * capabilities.  "user" is as far as it is read: a "user" after the
 * http block is not known yet, and nginx's default is assumed.  A
 * directory that does not exist yet is faasd's to create.
 */

static void
ngx_http_faas_check_socket_dir(ngx_conf_t *cf,
    ngx_http_faas_main_conf_t *fmcf)
{
    int               i, ngroups;
    char             *user, *p, path[NGX_MAX_PATH + 1];
    char              owner[32], group[32], name[32];
    gid_t             gid, groups[NGX_HTTP_FAAS_GROUPS_MAX];
    uid_t             uid;
    u_char            mode[5];
    mode_t            bit;
    struct stat       st;
    struct group     *gr;
    struct passwd    *pw;
    ngx_str_t        *dir;
    ngx_core_conf_t  *ccf;

    dir = &fmcf->socket_dir;

    if ((fmcf->functions.nelts == 0 && fmcf->redis == NULL)
        || dir->len == 0 || dir->len > NGX_MAX_PATH || dir->data[0] != '/')
    {
        return;
    }

    ccf = (ngx_core_conf_t *) ngx_get_conf(cf->cycle->conf_ctx,
                                           ngx_core_module);

    ngroups = 0;
    user = NULL;

    if (ccf->user != (ngx_uid_t) NGX_CONF_UNSET_UINT) {
        uid = ccf->user;
        gid = ccf->group;
        user = ccf->username;

    } else if (geteuid() == 0) {

        /* as ngx_core_module_init_conf() will decide */

        pw = getpwnam(NGX_USER);
        gr = getgrnam(NGX_GROUP);

        if (pw == NULL || gr == NULL) {
            return;
        }

        uid = pw->pw_uid;
        gid = gr->gr_gid;
        user = NGX_USER;

    } else {

        /* not root: the workers are nginx's user, with its groups */

        uid = geteuid();
        gid = getegid();
        ngroups = getgroups(NGX_HTTP_FAAS_GROUPS_MAX, groups);

        /* getpwuid()'s buffer is reused below */

        pw = getpwuid(uid);

        if (pw != NULL) {
            ngx_cpystrn((u_char *) name, (u_char *) pw->pw_name,
                        sizeof(name));
            user = name;
        }
    }

    if (uid == 0) {
        return;
    }

    if (geteuid() == 0 && user != NULL) {
        ngroups = NGX_HTTP_FAAS_GROUPS_MAX;

        if (getgrouplist(user, gid, groups, &ngroups) == -1) {
            ngroups = 0;
        }
    }

    if (ngroups < 0) {
        ngroups = 0;
    }

    ngx_memcpy(path, dir->data, dir->len);
    path[dir->len] = '\0';

    /* "/", "/run", "/run/ngx_faas" */

    for (p = path + 1; ; p++) {
        if (*p != '/' && *p != '\0') {
            continue;
        }

        *p = '\0';

        if (stat(p == path + 1 ? "/" : path, &st) == -1) {

            if (ngx_errno == NGX_ENOENT) {
                ngx_log_error(NGX_LOG_NOTICE, cf->log, 0,
                              "faas_socket_dir \"%V\" does not exist yet "
                              "(\"%s\" is missing): faasd -s creates it",
                              dir, path);
            }

            return;
        }

        if (!S_ISDIR(st.st_mode)) {
            ngx_log_error(NGX_LOG_WARN, cf->log, 0,
                          "faas_socket_dir \"%V\": \"%s\" is not a "
                          "directory", dir, path);
            return;
        }

        if (st.st_uid == uid) {
            bit = S_IXUSR;

        } else {
            bit = S_IXOTH;

            if (st.st_gid == gid) {
                bit = S_IXGRP;
            }

            for (i = 0; i < ngroups; i++) {
                if (groups[i] == st.st_gid) {
                    bit = S_IXGRP;
                }
            }
        }

        if (!(st.st_mode & bit)) {
            pw = getpwuid(st.st_uid);
            ngx_cpystrn((u_char *) owner,
                        (u_char *) (pw ? pw->pw_name : "?"), sizeof(owner));
            gr = getgrgid(st.st_gid);
            ngx_cpystrn((u_char *) group,
                        (u_char *) (gr ? gr->gr_name : "?"), sizeof(group));

            /* nginx's formats have no octal */

            for (i = 0; i < 4; i++) {
                mode[i] = (u_char) ('0' + ((st.st_mode >> (9 - 3 * i)) & 7));
            }

            mode[4] = '\0';

            ngx_log_error(NGX_LOG_WARN, cf->log, 0,
                          "faas_socket_dir \"%V\": \"%s\" cannot be "
                          "entered by user \"%s\" (mode %s, owner %s, "
                          "group %s), which nginx's workers run as, so "
                          "they cannot connect to the functions' sockets: "
                          "%s", dir, p == path + 1 ? "/" : path,
                          user ? user : "?", mode, owner, group,
                          p == path + dir->len
                          ? "run faasd with -g, a group of that user"
                          : "give that user search permission on it");
            return;
        }

        if (p == path + dir->len) {
            return;
        }

        *p = '/';
    }
}


static ngx_int_t
ngx_http_faas_init_process(ngx_cycle_t *cycle)
{
    if (ngx_http_faas_trace_init(cycle) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_faas_redis_init_process(cycle);
}


static void
ngx_http_faas_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_faas_redis_exit_process(cycle);
}


static void *
ngx_http_faas_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_faas_main_conf_t  *fmcf;

    fmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_faas_main_conf_t));
    if (fmcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     fmcf->socket_dir = { 0, NULL };
     *     fmcf->redis = NULL;
     *     fmcf->redis_prefix = { 0, NULL };
     *     fmcf->redis_cache = { 0, NULL };
     */

    if (ngx_array_init(&fmcf->loaded, cf->pool, 4,
                       sizeof(ngx_http_faas_loaded_t))
        != NGX_OK)
    {
        return NULL;
    }

    if (ngx_array_init(&fmcf->functions, cf->pool, 16,
                       sizeof(ngx_http_faas_function_t *))
        != NGX_OK)
    {
        return NULL;
    }

    fmcf->keepalive = NGX_CONF_UNSET_UINT;
    fmcf->keepalive_timeout = NGX_CONF_UNSET_MSEC;
    fmcf->redis_check = NGX_CONF_UNSET_MSEC;
    fmcf->redis_timeout = NGX_CONF_UNSET_MSEC;

    return fmcf;
}


static char *
ngx_http_faas_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_faas_main_conf_t *fmcf = conf;

    if (fmcf->socket_dir.data == NULL) {
        ngx_str_set(&fmcf->socket_dir, "/run/ngx_faas");
    }

    while (fmcf->socket_dir.len > 1
           && fmcf->socket_dir.data[fmcf->socket_dir.len - 1] == '/')
    {
        fmcf->socket_dir.len--;
    }

    ngx_conf_init_uint_value(fmcf->keepalive, 32);
    ngx_conf_init_msec_value(fmcf->keepalive_timeout, 60000);

    return ngx_http_faas_redis_init_conf(cf, fmcf);
}


static void *
ngx_http_faas_create_srv_conf(ngx_conf_t *cf)
{
    ngx_http_faas_srv_conf_t  *fscf;

    fscf = ngx_pcalloc(cf->pool, sizeof(ngx_http_faas_srv_conf_t));
    if (fscf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     fscf->manifests = NULL;
     *     fscf->router = NULL;
     */

    return fscf;
}


static char *
ngx_http_faas_merge_srv_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_faas_srv_conf_t *prev = parent;
    ngx_http_faas_srv_conf_t *conf = child;

    /* like other array directives, a server's own list replaces http's */

    if (conf->manifests == NULL) {
        conf->manifests = prev->manifests;
        conf->router = prev->router;
    }

    if (conf->manifests == NULL || conf->router != NULL) {
        return NGX_CONF_OK;
    }

    if (ngx_http_faas_compile_routes(cf, conf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (prev->manifests == conf->manifests) {
        prev->router = conf->router;
    }

    return NGX_CONF_OK;
}


static void *
ngx_http_faas_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_faas_loc_conf_t  *flcf;

    flcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_faas_loc_conf_t));
    if (flcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     flcf->function_name = { 0, NULL };
     *     flcf->function = NULL;
     *     flcf->upstream.bufs.num = 0;
     *     flcf->upstream.next_upstream = 0;
     */

    flcf->enabled = NGX_CONF_UNSET;
    flcf->version_header = NGX_CONF_UNSET;

    flcf->upstream.local = NGX_CONF_UNSET_PTR;
    flcf->upstream.next_upstream_tries = NGX_CONF_UNSET_UINT;
    flcf->upstream.connect_timeout = NGX_CONF_UNSET_MSEC;
    flcf->upstream.send_timeout = NGX_CONF_UNSET_MSEC;
    flcf->upstream.read_timeout = NGX_CONF_UNSET_MSEC;
    flcf->upstream.next_upstream_timeout = NGX_CONF_UNSET_MSEC;
    flcf->upstream.buffer_size = NGX_CONF_UNSET_SIZE;

    flcf->upstream.hide_headers = NGX_CONF_UNSET_PTR;
    flcf->upstream.pass_headers = NGX_CONF_UNSET_PTR;

    /* the fixed behaviour of a function location */

    flcf->upstream.cyclic_temp_file = 0;
    flcf->upstream.buffering = 0;
    flcf->upstream.ignore_client_abort = 0;
    flcf->upstream.send_lowat = 0;
    flcf->upstream.bufs.num = 0;
    flcf->upstream.busy_buffers_size = 0;
    flcf->upstream.max_temp_file_size = 0;
    flcf->upstream.temp_file_write_size = 0;
    flcf->upstream.intercept_errors = 0;
    flcf->upstream.intercept_404 = 0;
    flcf->upstream.pass_request_headers = 0;
    flcf->upstream.pass_request_body = 0;

    /*
     * a function's answer is made per request: no "Accept-Ranges: bytes"
     * (a function that serves ranges says so itself, and it is passed on)
     */
    flcf->upstream.force_ranges = 0;

    return flcf;
}


static char *
ngx_http_faas_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_faas_loc_conf_t *prev = parent;
    ngx_http_faas_loc_conf_t *conf = child;

    u_char                      where[NGX_MAX_PATH + 32];
    ngx_hash_init_t             hash;
    ngx_http_faas_srv_conf_t   *fscf;
    ngx_http_faas_main_conf_t  *fmcf;

    ngx_conf_merge_value(conf->version_header, prev->version_header, 0);

    ngx_conf_merge_ptr_value(conf->upstream.local, prev->upstream.local, NULL);

    ngx_conf_merge_msec_value(conf->upstream.connect_timeout,
                              prev->upstream.connect_timeout, 1000);
    ngx_conf_merge_msec_value(conf->upstream.send_timeout,
                              prev->upstream.send_timeout, 60000);
    ngx_conf_merge_msec_value(conf->upstream.read_timeout,
                              prev->upstream.read_timeout, 60000);
    ngx_conf_merge_msec_value(conf->upstream.next_upstream_timeout,
                              prev->upstream.next_upstream_timeout, 0);
    ngx_conf_merge_size_value(conf->upstream.buffer_size,
                              prev->upstream.buffer_size, 16 * 1024);

    if (conf->upstream.buffer_size < 1024) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"faas_buffer_size\" must be at least 1k");
        return NGX_CONF_ERROR;
    }

    /*
     * one retry, on another worker, and only for a worker that failed
     * before answering: a timeout is the function's, not the worker's
     */

    ngx_conf_merge_uint_value(conf->upstream.next_upstream_tries,
                              prev->upstream.next_upstream_tries, 2);
    conf->upstream.next_upstream = NGX_HTTP_UPSTREAM_FT_ERROR;

    hash.max_size = 512;
    hash.bucket_size = ngx_align(64, ngx_cacheline_size);
    hash.name = "faas_headers_hash";

    if (ngx_http_upstream_hide_headers_hash(cf, &conf->upstream,
            &prev->upstream, ngx_http_faas_hide_headers, &hash)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (conf->enabled == NGX_CONF_UNSET) {
        conf->enabled = 0;
        return NGX_CONF_OK;
    }

    fmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_faas_module);
    conf->upstream.upstream = ngx_pcalloc(cf->pool,
                                        sizeof(ngx_http_upstream_srv_conf_t));
    if (conf->upstream.upstream == NULL) {
        return NGX_CONF_ERROR;
    }

    conf->upstream.upstream->peer.init = ngx_http_faas_peer_init;
    conf->upstream.upstream->peer.data = fmcf;
    conf->upstream.upstream->file_name = conf->conf_file.data;
    conf->upstream.upstream->line = conf->conf_line;
    conf->upstream.upstream->host = conf->function_name;

    if (conf->agg_parsed != NULL) {

        /* a content handler's configuration is not inherited */

        ngx_snprintf(where, sizeof(where), "%V:%ui%Z",
                     &conf->conf_file, conf->conf_line);

        conf->aggregate = ngx_http_faas_aggregate_resolve(cf,
                                                          conf->agg_parsed,
                                                          (char *) where);
        if (conf->aggregate == NULL) {
            return NGX_CONF_ERROR;
        }

        return NGX_CONF_OK;
    }

    if (conf->function_name.len == 0) {
        fscf = ngx_http_conf_get_module_srv_conf(cf, ngx_http_faas_module);

        if (fscf->router == NULL && fmcf->redis == NULL) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "\"faas_pass\" without a function name needs "
                          "\"faas_manifest\" in its server or in http, "
                          "or \"faas_redis\", in %V:%ui",
                          &conf->conf_file, conf->conf_line);
            return NGX_CONF_ERROR;
        }

        return NGX_CONF_OK;
    }

    conf->function = ngx_http_faas_find_function(fmcf, &conf->function_name);

    if (conf->function == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "faas_pass: unknown function \"%V\" in %V:%ui "
                      "(no loaded f.yml declares it)",
                      &conf->function_name, &conf->conf_file,
                      conf->conf_line);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_faas_pass(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_faas_loc_conf_t *flcf = conf;

    ngx_str_t                 *value;
    ngx_http_core_loc_conf_t  *clcf;

    if (flcf->agg_parsed != NULL) {
        return "cannot be used with \"faas_aggregate\" in the same location";
    }

    if (flcf->enabled != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    flcf->enabled = 1;
    flcf->conf_file = cf->conf_file->file.name;
    flcf->conf_line = cf->conf_file->line;

    if (cf->args->nelts == 2) {
        value = cf->args->elts;
        flcf->function_name = value[1];
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_faas_handler;

    return NGX_CONF_OK;
}
