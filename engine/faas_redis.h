/*
 * Copyright (C) ngx_faas authors
 *
 * What lives in Redis besides the table's JSON (docs/redis.md): key
 * names and their prefix, a version's start failure (P:failure:FN:V),
 * and Redis URLs.  Shared by the nginx module, faasd and faasctl.
 */

#ifndef FAAS_REDIS_H_INCLUDED
#define FAAS_REDIS_H_INCLUDED


#include "faas_common.h"


#define FAAS_REDIS_PREFIX        "faas"
#define FAAS_REDIS_PREFIX_MAX    64
#define FAAS_KEY_MAX             256


/* 1 when a key prefix is 1..FAAS_REDIS_PREFIX_MAX of [A-Za-z0-9._:-] */
int faas_redis_prefix_valid(const char *prefix, size_t len);


/*
 * Key names.  Each writes "prefix:..." into buf and returns its length,
 * or 0 (and "") when it does not fit or an argument is NULL.  Names are
 * not checked here: FAAS_KEY_MAX holds the longest valid ones.
 */
size_t faas_key_generation(char *buf, size_t size, const char *prefix);
size_t faas_key_epoch(char *buf, size_t size, const char *prefix);
size_t faas_key_table(char *buf, size_t size, const char *prefix,
    uint64_t generation);
size_t faas_key_version(char *buf, size_t size, const char *prefix,
    const char *function, const char *version);
size_t faas_key_versions(char *buf, size_t size, const char *prefix,
    const char *function);
size_t faas_key_seq(char *buf, size_t size, const char *prefix,
    const char *function);
size_t faas_key_endpoints(char *buf, size_t size, const char *prefix,
    const char *function, const char *version);
size_t faas_key_events(char *buf, size_t size, const char *prefix);
size_t faas_key_failure(char *buf, size_t size, const char *prefix,
    const char *function, const char *version);


/*
 * A version's start failure, which faasd reports in P:failure:FN:V
 * (docs/redis.md) for faasctl to show: why a worker that was never ready
 * went, and the tail of what it wrote to stderr.  Everything is bounded
 * when written, and checked again when read back: anyone who can write
 * to Redis can write there.
 */
#define FAAS_FAILURE_WHY_MAX     256
#define FAAS_FAILURE_LOG_MAX     2048        /* bytes of stderr kept */
#define FAAS_FAILURE_LOG_LINES   20
#define FAAS_FAILURE_MAX_SIZE    16384       /* of the JSON value */
#define FAAS_FAILURE_TTL_S       3600

typedef struct {
    uint64_t     at;                         /* wall-clock ms */
    unsigned     slot;
    char         why[FAAS_FAILURE_WHY_MAX + 1];
    char         log[FAAS_FAILURE_LOG_MAX + 1];  /* lines, each ending
                                                    in "\n" */
} faas_failure_t;

/*
 * Appends a line (without its "\n") to a log of at most
 * FAAS_FAILURE_LOG_LINES lines and FAAS_FAILURE_LOG_MAX bytes, dropping
 * the oldest lines to make room; a longer line keeps its start.
 */
void faas_failure_log_append(char *log, size_t *len, const char *line,
    size_t n);

/* the JSON value, malloc()ed; NULL without memory */
char *faas_failure_encode(const faas_failure_t *f);

/*
 * Reads a value back.  Control characters other than "\n" in the log
 * (and any in "why") become "?", so that what is printed cannot move a
 * terminal's cursor.  "key" names the value in errors.
 */
int faas_failure_parse(const char *key, const char *json, size_t len,
    faas_failure_t *f, faas_error_t *err);


/*
 * redis://[user:password@]host[:port][/db] (host: a name, IPv4, or IPv6
 * in brackets; db 0..1000), or unix:///path, unix:/path and
 * unix://[user:password@]/path, with ?db=N&user=U&password=P.  User and
 * password are percent-decoded; a user needs a password; rediss:// is
 * refused.  Messages never quote the URL (a misplaced password could be
 * anywhere in it); log "safe" instead.
 */
typedef struct {
    char        *host;          /* NULL for a Unix socket */
    unsigned     port;          /* 6379 by default */
    char        *path;          /* the Unix socket, NULL for TCP */
    char        *user;          /* NULL: AUTH with the password alone */
    char        *password;      /* NULL: no AUTH */
    unsigned     db;
    char        *safe;          /* the URL with the password as "***" */
} faas_redis_url_t;

int faas_redis_url_parse(const char *url, faas_redis_url_t *u,
    faas_error_t *err);

/* also on a zeroed struct; wipes the password */
void faas_redis_url_free(faas_redis_url_t *u);


#endif /* FAAS_REDIS_H_INCLUDED */
