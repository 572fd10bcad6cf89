/*
 * Copyright (C) ngx_faas authors
 *
 * What lives in Redis besides the table's JSON (docs/redis.md): key
 * names and their prefix, a version's start failure (P:failure:FN:V),
 * and Redis URLs.
 */


#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "faas_manifest.h"
#include "faas_redis.h"
#include "faas_socket.h"


#define FAAS_URL_MAX           4096
#define FAAS_URL_HOST_MAX      255
#define FAAS_URL_DB_MAX        1000


static size_t faas_key_format(char *buf, size_t size, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static int faas_url_userinfo(const char *s, size_t len, faas_redis_url_t *u,
    size_t *pw, size_t *pwlen, size_t base, faas_error_t *err);
static int faas_url_host(const char *s, size_t len, faas_redis_url_t *u,
    faas_error_t *err);
static int faas_url_query(const char *s, size_t len, faas_redis_url_t *u,
    size_t *pw, size_t *pwlen, size_t base, faas_error_t *err);
static int faas_url_number(const char *s, size_t len, unsigned max,
    unsigned *out);
static char *faas_url_decode(const char *s, size_t len);
static int faas_url_hex(char c);


int
faas_redis_prefix_valid(const char *prefix, size_t len)
{
    return len > 0 && len <= FAAS_REDIS_PREFIX_MAX
           && faas_name_chars(prefix, len, "._-:");
}


/* key names */

size_t
faas_key_generation(char *buf, size_t size, const char *prefix)
{
    if (prefix == NULL) {
        return 0;
    }

    return faas_key_format(buf, size, "%s:generation", prefix);
}


size_t
faas_key_epoch(char *buf, size_t size, const char *prefix)
{
    if (prefix == NULL) {
        return 0;
    }

    return faas_key_format(buf, size, "%s:epoch", prefix);
}


size_t
faas_key_table(char *buf, size_t size, const char *prefix,
    uint64_t generation)
{
    if (prefix == NULL) {
        return 0;
    }

    return faas_key_format(buf, size, "%s:table:%" PRIu64, prefix,
                           generation);
}


size_t
faas_key_version(char *buf, size_t size, const char *prefix,
    const char *function, const char *version)
{
    if (prefix == NULL || function == NULL || version == NULL) {
        return 0;
    }

    return faas_key_format(buf, size, "%s:version:%s:%s", prefix, function,
                           version);
}


size_t
faas_key_versions(char *buf, size_t size, const char *prefix,
    const char *function)
{
    if (prefix == NULL || function == NULL) {
        return 0;
    }

    return faas_key_format(buf, size, "%s:versions:%s", prefix, function);
}


size_t
faas_key_seq(char *buf, size_t size, const char *prefix,
    const char *function)
{
    if (prefix == NULL || function == NULL) {
        return 0;
    }

    return faas_key_format(buf, size, "%s:seq:%s", prefix, function);
}


size_t
faas_key_endpoints(char *buf, size_t size, const char *prefix,
    const char *function, const char *version)
{
    if (prefix == NULL || function == NULL || version == NULL) {
        return 0;
    }

    return faas_key_format(buf, size, "%s:endpoints:%s:%s", prefix,
                           function, version);
}


size_t
faas_key_events(char *buf, size_t size, const char *prefix)
{
    if (prefix == NULL) {
        return 0;
    }

    return faas_key_format(buf, size, "%s:events", prefix);
}


size_t
faas_key_failure(char *buf, size_t size, const char *prefix,
    const char *function, const char *version)
{
    if (prefix == NULL || function == NULL || version == NULL) {
        return 0;
    }

    return faas_key_format(buf, size, "%s:failure:%s:%s", prefix,
                           function, version);
}


/* a version's start failure (faas_redis.h) */

void
faas_failure_log_append(char *log, size_t *len, const char *line, size_t n)
{
    char    *nl;
    size_t   lines, i, drop;

    if (n > FAAS_FAILURE_LOG_MAX - 1) {
        n = FAAS_FAILURE_LOG_MAX - 1;
    }

    for (lines = 0, i = 0; i < *len; i++) {
        if (log[i] == '\n') {
            lines++;
        }
    }

    /* the oldest lines go until the new one fits */

    drop = 0;

    while (drop < *len
           && (*len - drop + n + 1 > FAAS_FAILURE_LOG_MAX
               || lines >= FAAS_FAILURE_LOG_LINES))
    {
        nl = memchr(log + drop, '\n', *len - drop);
        drop = nl ? (size_t) (nl - log) + 1 : *len;
        lines--;
    }

    if (drop) {
        memmove(log, log + drop, *len - drop);
        *len -= drop;
    }

    memcpy(log + *len, line, n);
    *len += n;
    log[(*len)++] = '\n';
    log[*len] = '\0';
}


char *
faas_failure_encode(const faas_failure_t *f)
{
    char   *json;
    cJSON  *root;

    root = cJSON_CreateObject();
    if (root == NULL) {
        return NULL;
    }

    json = NULL;

    if (cJSON_AddNumberToObject(root, "at", (double) f->at) != NULL
        && cJSON_AddNumberToObject(root, "slot", f->slot) != NULL
        && cJSON_AddStringToObject(root, "why", f->why) != NULL
        && cJSON_AddStringToObject(root, "log", f->log) != NULL)
    {
        json = cJSON_PrintUnformatted(root);
    }

    cJSON_Delete(root);

    return json;
}


int
faas_failure_parse(const char *key, const char *json, size_t len,
    faas_failure_t *f, faas_error_t *err)
{
    int          rc;
    char        *p;
    cJSON       *root, *item;
    size_t       n;
    const char  *what;

    memset(f, 0, sizeof(faas_failure_t));

    if (len > FAAS_FAILURE_MAX_SIZE) {
        faas_error_set(err, key, 0, 0, "longer than %d bytes",
                       FAAS_FAILURE_MAX_SIZE);
        return FAAS_ERROR;
    }

    root = cJSON_ParseWithLength(json, len);

    if (root == NULL || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        faas_error_set(err, key, 0, 0, "expected a JSON object");
        return FAAS_ERROR;
    }

    rc = FAAS_ERROR;
    what = "\"why\": expected a string";

    item = cJSON_GetObjectItemCaseSensitive(root, "why");

    if (!cJSON_IsString(item)) {
        goto done;
    }

    n = strlen(item->valuestring);

    if (n > FAAS_FAILURE_WHY_MAX) {
        what = "\"why\": too long";
        goto done;
    }

    memcpy(f->why, item->valuestring, n + 1);

    item = cJSON_GetObjectItemCaseSensitive(root, "log");

    if (item != NULL && !cJSON_IsNull(item)) {
        what = "\"log\": expected a string";

        if (!cJSON_IsString(item)) {
            goto done;
        }

        n = strlen(item->valuestring);

        if (n > FAAS_FAILURE_LOG_MAX) {
            what = "\"log\": too long";
            goto done;
        }

        memcpy(f->log, item->valuestring, n + 1);
    }

    item = cJSON_GetObjectItemCaseSensitive(root, "at");

    if (cJSON_IsNumber(item) && item->valuedouble >= 0
        && item->valuedouble <= 9007199254740992.0)
    {
        f->at = (uint64_t) item->valuedouble;
    }

    item = cJSON_GetObjectItemCaseSensitive(root, "slot");

    if (cJSON_IsNumber(item) && item->valuedouble >= 0
        && item->valuedouble < FAAS_INSTANCES_MAX)
    {
        f->slot = (unsigned) item->valuedouble;
    }

    for (p = f->why; *p; p++) {
        if ((unsigned char) *p < 0x20 || *p == 0x7f) {
            *p = '?';
        }
    }

    for (p = f->log; *p; p++) {
        if (((unsigned char) *p < 0x20 && *p != '\n') || *p == 0x7f) {
            *p = '?';
        }
    }

    rc = FAAS_OK;

done:

    cJSON_Delete(root);

    if (rc != FAAS_OK) {
        memset(f, 0, sizeof(faas_failure_t));
        faas_error_set(err, key, 0, 0, "%s", what);
    }

    return rc;
}


static size_t
faas_key_format(char *buf, size_t size, const char *fmt, ...)
{
    int      n;
    va_list  args;

    if (buf == NULL || size == 0) {
        return 0;
    }

    va_start(args, fmt);
    n = vsnprintf(buf, size, fmt, args);
    va_end(args);

    if (n < 0 || (size_t) n >= size) {
        buf[0] = '\0';
        return 0;
    }

    return n;
}


/*
 * Redis URLs.  No message quotes any part of the URL: a password that
 * is not where it is expected (an unescaped "/" in it, say) could be in
 * any of them.
 */

int
faas_redis_url_parse(const char *url, faas_redis_url_t *u,
    faas_error_t *err)
{
    char        *safe;
    size_t       len, pw, pwlen, at, end, n, base;
    const char  *s, *slash;

    memset(u, 0, sizeof(faas_redis_url_t));
    u->port = 6379;

    pw = 0;
    pwlen = 0;

    if (url == NULL || url[0] == '\0') {
        faas_error_set(err, NULL, 0, 0, "invalid Redis URL: it is empty");
        return FAAS_ERROR;
    }

    len = strlen(url);

    if (len > FAAS_URL_MAX) {
        faas_error_set(err, NULL, 0, 0, "invalid Redis URL: longer than %d "
                       "bytes", FAAS_URL_MAX);
        return FAAS_ERROR;
    }

    if (strncmp(url, "redis://", 8) == 0) {
        base = 8;
        s = url + base;
        n = len - base;

        /* the last "@": a password may hold unescaped "@", "/", "?" */

        for (at = n; at > 0 && s[at - 1] != '@'; at--) {
            /* void */
        }

        if (at > 0
            && faas_url_userinfo(s, at - 1, u, &pw, &pwlen, base, err)
               != FAAS_OK)
        {
            goto failed;
        }

        s += at;
        n -= at;

        if (memchr(s, '?', n) || memchr(s, '#', n)) {
            faas_error_set(err, NULL, 0, 0, "invalid Redis URL: a redis:// "
                           "URL takes no query or fragment; the database "
                           "goes as \"/N\"");
            goto failed;
        }

        slash = memchr(s, '/', n);
        end = slash ? (size_t) (slash - s) : n;

        if (faas_url_host(s, end, u, err) != FAAS_OK) {
            goto failed;
        }

        if (slash && end + 1 < n
            && faas_url_number(s + end + 1, n - end - 1, FAAS_URL_DB_MAX,
                               &u->db)
               != FAAS_OK)
        {
            faas_error_set(err, NULL, 0, 0, "invalid Redis URL: the "
                           "database must be a number from 0 to %d, as in "
                           "redis://host:6379/0", FAAS_URL_DB_MAX);
            goto failed;
        }

    } else if (strncmp(url, "unix:", 5) == 0) {

        /* "unix:///path", "unix://[user:password@]/path", "unix:/path" */

        base = 5;

        if (strncmp(url + 5, "//", 2) == 0) {
            base = 7;
        }

        s = url + base;
        n = len - base;

        if (base == 7 && s[0] != '/') {
            slash = strchr(s, '/');
            at = slash ? (size_t) (slash - s) : 0;

            if (at == 0 || s[at - 1] != '@') {
                faas_error_set(err, NULL, 0, 0, "invalid Redis URL: "
                               "expected unix:///path/to/redis.sock");
                goto failed;
            }

            if (faas_url_userinfo(s, at - 1, u, &pw, &pwlen, base, err)
                != FAAS_OK)
            {
                goto failed;
            }

            s += at;
            n -= at;
            base += at;
        }

        if (s[0] != '/') {
            faas_error_set(err, NULL, 0, 0, "invalid Redis URL: the socket "
                           "path must be absolute, as in "
                           "unix:///run/redis/redis.sock");
            goto failed;
        }

        end = strcspn(s, "?#");

        if (s[end] == '#') {
            faas_error_set(err, NULL, 0, 0, "invalid Redis URL: a fragment "
                           "(\"#\") is not allowed");
            goto failed;
        }

        u->path = faas_url_decode(s, end);

        if (u->path == NULL || strlen(u->path) < 2
            || u->path[strlen(u->path) - 1] == '/')
        {
            faas_error_set(err, NULL, 0, 0, "invalid Redis URL: %s",
                           u->path ? "expected the path of a socket file"
                                   : "invalid percent-encoding in the "
                                     "socket path");
            goto failed;
        }

        if (strlen(u->path) > FAAS_SOCKET_PATH_MAX) {
            faas_error_set(err, NULL, 0, 0, "invalid Redis URL: the socket "
                           "path is longer than %d bytes",
                           FAAS_SOCKET_PATH_MAX);
            goto failed;
        }

        if (s[end] == '?'
            && faas_url_query(s + end + 1, n - end - 1, u, &pw, &pwlen,
                              base + end + 1, err)
               != FAAS_OK)
        {
            goto failed;
        }

    } else if (strncmp(url, "rediss://", 9) == 0) {
        faas_error_set(err, NULL, 0, 0, "invalid Redis URL: TLS (rediss://) "
                       "is not supported");
        goto failed;

    } else {
        faas_error_set(err, NULL, 0, 0, "invalid Redis URL: expected "
                       "redis://[user:password@]host[:port][/db] or "
                       "unix:///path/to/redis.sock[?db=N]");
        goto failed;
    }

    if (u->user && u->password == NULL) {
        faas_error_set(err, NULL, 0, 0, "invalid Redis URL: a user without "
                       "a password; write user:password@, or :password@ "
                       "for a password alone");
        goto failed;
    }

    /* the URL with its password as "***" */

    safe = malloc(len + 4);
    if (safe == NULL) {
        faas_error_set(err, NULL, 0, 0, "out of memory");
        goto failed;
    }

    if (u->password) {
        memcpy(safe, url, pw);
        memcpy(safe + pw, "***", 3);
        memcpy(safe + pw + 3, url + pw + pwlen, len - pw - pwlen + 1);

    } else {
        memcpy(safe, url, len + 1);
    }

    u->safe = safe;

    return FAAS_OK;

failed:

    faas_redis_url_free(u);

    return FAAS_ERROR;
}


void
faas_redis_url_free(faas_redis_url_t *u)
{
    if (u == NULL) {
        return;
    }

    free(u->host);
    free(u->path);
    free(u->user);

    if (u->password) {
        /* not left in freed memory */
        memset(u->password, 0, strlen(u->password));
        free(u->password);
    }

    free(u->safe);

    memset(u, 0, sizeof(faas_redis_url_t));
}


/*
 * "user:password" or ":password", s[0..len); "pw" gets where the
 * password is in the whole URL, for "safe".  An empty password is no
 * password.
 */

static int
faas_url_userinfo(const char *s, size_t len, faas_redis_url_t *u,
    size_t *pw, size_t *pwlen, size_t base, faas_error_t *err)
{
    const char  *colon;

    if (len == 0) {
        return FAAS_OK;
    }

    colon = memchr(s, ':', len);

    if (colon == NULL) {
        faas_error_set(err, NULL, 0, 0, "invalid Redis URL: a user without "
                       "a password; write user:password@, or :password@ "
                       "for a password alone");
        return FAAS_ERROR;
    }

    if (colon > s) {
        u->user = faas_url_decode(s, colon - s);

        if (u->user == NULL) {
            faas_error_set(err, NULL, 0, 0, "invalid Redis URL: invalid "
                           "percent-encoding in the user");
            return FAAS_ERROR;
        }
    }

    if (colon + 1 < s + len) {
        u->password = faas_url_decode(colon + 1, s + len - colon - 1);

        if (u->password == NULL) {
            faas_error_set(err, NULL, 0, 0, "invalid Redis URL: invalid "
                           "percent-encoding in the password");
            return FAAS_ERROR;
        }

        *pw = base + (colon + 1 - s);
        *pwlen = s + len - colon - 1;
    }

    return FAAS_OK;
}


/* "host", "host:port", "[v6]", "[v6]:port" */

static int
faas_url_host(const char *s, size_t len, faas_redis_url_t *u,
    faas_error_t *err)
{
    size_t       i, hlen;
    const char  *host, *port;

    port = NULL;

    if (len > 0 && s[0] == '[') {
        for (i = 1; i < len && s[i] != ']'; i++) {
            if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')
                  || (s[i] >= 'A' && s[i] <= 'F') || s[i] == ':'
                  || s[i] == '.'))
            {
                goto invalid;
            }
        }

        if (i == len || i == 1) {
            goto invalid;
        }

        host = s + 1;
        hlen = i - 1;

        if (i + 1 < len) {
            if (s[i + 1] != ':') {
                goto invalid;
            }

            port = s + i + 2;
        }

    } else {
        for (i = 0; i < len && s[i] != ':'; i++) {
            if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z')
                  || (s[i] >= 'A' && s[i] <= 'Z') || s[i] == '.'
                  || s[i] == '-' || s[i] == '_'))
            {
                goto invalid;
            }
        }

        if (i == 0) {
            faas_error_set(err, NULL, 0, 0, "invalid Redis URL: no host");
            return FAAS_ERROR;
        }

        host = s;
        hlen = i;

        if (i < len) {
            port = s + i + 1;
        }
    }

    if (hlen > FAAS_URL_HOST_MAX) {
        goto invalid;
    }

    if (port
        && (faas_url_number(port, s + len - port, 65535, &u->port) != FAAS_OK
            || u->port == 0))
    {
        faas_error_set(err, NULL, 0, 0, "invalid Redis URL: the port must "
                       "be a number from 1 to 65535");
        return FAAS_ERROR;
    }

    u->host = malloc(hlen + 1);
    if (u->host == NULL) {
        faas_error_set(err, NULL, 0, 0, "out of memory");
        return FAAS_ERROR;
    }

    memcpy(u->host, host, hlen);
    u->host[hlen] = '\0';

    return FAAS_OK;

invalid:

    faas_error_set(err, NULL, 0, 0, "invalid Redis URL: invalid host; "
                   "expected a name, an IPv4 address or an IPv6 address in "
                   "brackets");
    return FAAS_ERROR;
}


/* "db=N&user=U&password=P" of a unix: URL */

static int
faas_url_query(const char *s, size_t len, faas_redis_url_t *u, size_t *pw,
    size_t *pwlen, size_t base, faas_error_t *err)
{
    char       **to;
    size_t       i, end, eq;
    const char  *what;

    for (i = 0; i < len; i = end + 1) {
        end = i;

        while (end < len && s[end] != '&') {
            end++;
        }

        if (end == i) {
            continue;
        }

        for (eq = i; eq < end && s[eq] != '='; eq++) {
            /* void */
        }

        if (eq - i == 2 && memcmp(s + i, "db", 2) == 0 && eq < end) {
            if (faas_url_number(s + eq + 1, end - eq - 1, FAAS_URL_DB_MAX,
                                &u->db)
                != FAAS_OK)
            {
                faas_error_set(err, NULL, 0, 0, "invalid Redis URL: the "
                               "database must be a number from 0 to %d, as "
                               "in ?db=0", FAAS_URL_DB_MAX);
                return FAAS_ERROR;
            }

            continue;
        }

        if (eq - i == 4 && memcmp(s + i, "user", 4) == 0 && eq < end) {
            to = &u->user;
            what = "user";

        } else if (eq - i == 8 && memcmp(s + i, "password", 8) == 0
                   && eq < end)
        {
            to = &u->password;
            what = "password";

            *pw = base + eq + 1;
            *pwlen = end - eq - 1;

        } else {
            faas_error_set(err, NULL, 0, 0, "invalid Redis URL: unknown "
                           "parameter; a unix: URL takes db=, user= and "
                           "password=");
            return FAAS_ERROR;
        }

        if (*to != NULL) {
            faas_error_set(err, NULL, 0, 0, "invalid Redis URL: the %s is "
                           "given twice", what);
            return FAAS_ERROR;
        }

        if (end == eq + 1) {
            continue;
        }

        *to = faas_url_decode(s + eq + 1, end - eq - 1);

        if (*to == NULL) {
            faas_error_set(err, NULL, 0, 0, "invalid Redis URL: invalid "
                           "percent-encoding in the %s", what);
            return FAAS_ERROR;
        }
    }

    return FAAS_OK;
}


static int
faas_url_number(const char *s, size_t len, unsigned max, unsigned *out)
{
    size_t    i;
    unsigned  n;

    if (len == 0) {
        return FAAS_ERROR;
    }

    n = 0;

    for (i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return FAAS_ERROR;
        }

        n = n * 10 + (s[i] - '0');

        if (n > max) {
            return FAAS_ERROR;
        }
    }

    *out = n;

    return FAAS_OK;
}


/* percent-decoding; NULL on a bad "%" or a NUL (or out of memory) */

static char *
faas_url_decode(const char *s, size_t len)
{
    int      hi, lo;
    char    *out, *p;
    size_t   i;

    out = malloc(len + 1);
    if (out == NULL) {
        return NULL;
    }

    p = out;

    for (i = 0; i < len; i++) {
        if (s[i] != '%') {
            *p++ = s[i];
            continue;
        }

        hi = (i + 2 < len) ? faas_url_hex(s[i + 1]) : -1;
        lo = (hi >= 0) ? faas_url_hex(s[i + 2]) : -1;

        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
            free(out);
            return NULL;
        }

        *p++ = (char) (hi * 16 + lo);
        i += 2;
    }

    *p = '\0';

    return out;
}


static int
faas_url_hex(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }

    return -1;
}
