/*
 * Copyright (C) ngx_faas authors
 *
 * faasctl's Redis: a synchronous hiredis connection with timeouts, the
 * table in force, and the switch to a new generation (docs/redis.md).
 */


#define _GNU_SOURCE

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/random.h>
#include <sys/time.h>

#include "faasctl.h"


static int faasctl_auth(faasctl_t *ctl);
static redisReply *faasctl_reply(faasctl_t *ctl, redisReply *r,
    const char *what);
static int faasctl_exec_check(faasctl_t *ctl, redisReply *r,
    const char *what);
static int faasctl_exec(faasctl_t *ctl, faasctl_view_t *next,
    const char *json, size_t len, uint64_t g, int new_epoch,
    const char *gkey, const char *tkey, const char *okey, const char *ekey,
    const char *pkey, redisReply **r);
static int faasctl_epoch_new(char *epoch);
static void faasctl_unwatch(faasctl_t *ctl);
static void faasctl_backoff(unsigned try);


int
faasctl_connect(faasctl_t *ctl)
{
    redisReply      *r;
    redisContext    *c;
    struct timeval   tv;

    if (ctl->ctx) {
        return FAAS_OK;
    }

    tv.tv_sec = FAASCTL_TIMEOUT_MS / 1000;
    tv.tv_usec = (FAASCTL_TIMEOUT_MS % 1000) * 1000;

    if (ctl->redis.path) {
        c = redisConnectUnixWithTimeout(ctl->redis.path, tv);

    } else {
        c = redisConnectWithTimeout(ctl->redis.host, (int) ctl->redis.port,
                                    tv);
    }

    if (c == NULL) {
        faasctl_error("cannot connect to %s: out of memory", ctl->redis.safe);
        return FAAS_ERROR;
    }

    if (c->err) {
        faasctl_error("cannot connect to %s: %s", ctl->redis.safe,
                      c->errstr);
        redisFree(c);
        return FAAS_ERROR;
    }

    /* a command that hangs fails instead */
    if (redisSetTimeout(c, tv) != REDIS_OK) {
        faasctl_error("cannot connect to %s: cannot set a timeout: %s",
                      ctl->redis.safe, c->errstr);
        redisFree(c);
        return FAAS_ERROR;
    }

    ctl->ctx = c;

    if (ctl->redis.password && faasctl_auth(ctl) != FAAS_OK) {
        faasctl_disconnect(ctl);
        return FAAS_ERROR;
    }

    if (ctl->redis.db) {
        r = faasctl_command(ctl, NULL, "SELECT %u", ctl->redis.db);
        if (r == NULL) {
            faasctl_disconnect(ctl);
            return FAAS_ERROR;
        }

        freeReplyObject(r);
    }

    return FAAS_OK;
}


/* the password is an argument of the command, never part of a message */

static int
faasctl_auth(faasctl_t *ctl)
{
    redisReply  *r;

    if (ctl->redis.user) {
        r = redisCommand(ctl->ctx, "AUTH %s %s", ctl->redis.user,
                         ctl->redis.password);

    } else {
        r = redisCommand(ctl->ctx, "AUTH %s", ctl->redis.password);
    }

    if (r == NULL) {
        faasctl_redis_error(ctl, "AUTH");
        return FAAS_ERROR;
    }

    if (r->type == REDIS_REPLY_ERROR) {
        faasctl_error("%s: AUTH refused: %.*s", ctl->redis.safe,
                      (int) r->len, r->str);
        freeReplyObject(r);
        return FAAS_ERROR;
    }

    freeReplyObject(r);

    return FAAS_OK;
}


void
faasctl_disconnect(faasctl_t *ctl)
{
    if (ctl->ctx) {
        redisFree(ctl->ctx);
        ctl->ctx = NULL;
    }
}


void
faasctl_redis_error(faasctl_t *ctl, const char *what)
{
    const char  *msg;

    if (ctl->ctx == NULL || ctl->ctx->err == 0) {
        msg = "out of memory";

    } else if (ctl->ctx->err == REDIS_ERR_IO
               && (errno == EAGAIN || errno == EWOULDBLOCK))
    {
        msg = "timed out";

    } else if (ctl->ctx->err == REDIS_ERR_EOF) {
        msg = "connection closed by the server";

    } else {
        msg = ctl->ctx->errstr;
    }

    faasctl_error("%s: %s: %s", ctl->redis.safe, what, msg);
}


/*
 * Sends one command and returns its reply, or NULL with the error
 * printed, named by the command and "key" (NULL: the command alone).
 * Error replies are errors.
 */

redisReply *
faasctl_command(faasctl_t *ctl, const char *key, const char *fmt, ...)
{
    va_list      args;
    redisReply  *r;

    va_start(args, fmt);
    r = faasctl_vcommand(ctl, key, fmt, args);
    va_end(args);

    return r;
}


redisReply *
faasctl_vcommand(faasctl_t *ctl, const char *key, const char *fmt,
    va_list args)
{
    char         what[FAAS_KEY_MAX + 32];
    redisReply  *r;

    /* "GET faas:table:7": the format's first word, then the key */

    snprintf(what, sizeof(what), "%.*s%s%s", (int) strcspn(fmt, " "), fmt,
             key ? " " : "", key ? key : "");

    if (ctl->ctx == NULL && faasctl_connect(ctl) != FAAS_OK) {
        return NULL;
    }

    r = redisvCommand(ctl->ctx, fmt, args);

    return faasctl_reply(ctl, r, what);
}


/* NULL, with the error printed, for no reply or an error reply */

static redisReply *
faasctl_reply(faasctl_t *ctl, redisReply *r, const char *what)
{
    if (r == NULL) {
        faasctl_redis_error(ctl, what);
        return NULL;
    }

    if (r->type == REDIS_REPLY_ERROR) {
        faasctl_error("%s: %s: %.*s", ctl->redis.safe, what, (int) r->len,
                      r->str);
        freeReplyObject(r);
        return NULL;
    }

    return r;
}


int
faasctl_prefix_error(faasctl_t *ctl)
{
    faasctl_error("prefix \"%s\" too long", ctl->prefix);

    return FAAS_ERROR;
}


/* P:generation; a Redis without it holds the empty table, generation 0 */

int
faasctl_generation(faasctl_t *ctl, uint64_t *generation)
{
    char         key[FAAS_KEY_MAX];
    redisReply  *r;

    if (faas_key_generation(key, sizeof(key), ctl->prefix) == 0) {
        return faasctl_prefix_error(ctl);
    }

    r = faasctl_command(ctl, key, "GET %s", key);
    if (r == NULL) {
        return FAAS_ERROR;
    }

    if (r->type == REDIS_REPLY_NIL) {
        *generation = 0;
        freeReplyObject(r);
        return FAAS_OK;
    }

    if (r->type != REDIS_REPLY_STRING
        || faas_table_generation_parse(r->str, r->len, generation) != FAAS_OK)
    {
        if (r->type == REDIS_REPLY_STRING) {
            faasctl_error("%s: not a generation number: \"%.*s\"", key,
                          r->len > 32 ? 32 : (int) r->len, r->str);

        } else {
            faasctl_error("%s: not a generation number", key);
        }

        freeReplyObject(r);
        return FAAS_ERROR;
    }

    freeReplyObject(r);

    return FAAS_OK;
}


/*
 * The table in force: NULL for generation 0.  With "watch", P:generation
 * is watched first, so that the EXEC of a change made from this table
 * fails if another change came in between.
 */

int
faasctl_table_read(faasctl_t *ctl, int watch, uint64_t *generation,
    faas_table_t **table)
{
    int            rc;
    char           key[FAAS_KEY_MAX];
    redisReply    *r;
    faas_error_t   err;

    *table = NULL;

    if (watch) {
        if (faas_key_generation(key, sizeof(key), ctl->prefix) == 0) {
            return faasctl_prefix_error(ctl);
        }

        r = faasctl_command(ctl, key, "WATCH %s", key);
        if (r == NULL) {
            return FAAS_ERROR;
        }

        freeReplyObject(r);
    }

    if (faasctl_generation(ctl, generation) != FAAS_OK) {
        return FAAS_ERROR;
    }

    if (*generation == 0) {
        return FAAS_OK;
    }

    if (faas_key_table(key, sizeof(key), ctl->prefix, *generation) == 0) {
        return faasctl_prefix_error(ctl);
    }

    r = faasctl_command(ctl, key, "GET %s", key);
    if (r == NULL) {
        return FAAS_ERROR;
    }

    if (r->type != REDIS_REPLY_STRING) {
        faasctl_error("%s: %s, yet generation %" PRIu64 " is in force", key,
                      r->type == REDIS_REPLY_NIL ? "no such key"
                                                 : "not a string",
                      *generation);
        freeReplyObject(r);
        return FAAS_ERROR;
    }

    rc = faas_table_parse(key, r->str, r->len, table, &err);

    freeReplyObject(r);

    if (rc != FAAS_OK) {
        *table = NULL;
        faasctl_error_engine(&err);
        return FAAS_ERROR;
    }

    return FAAS_OK;
}


/*
 * Switches to a new generation made by "build" from the one in force,
 * with the transaction of docs/redis.md; on a conflict (EXEC answers
 * nil), starts again from the new table in force.
 */

int
faasctl_switch(faasctl_t *ctl, faasctl_build_pt build, void *data,
    uint64_t *generation)
{
    int               rc, new_epoch;
    char             *json;
    char              gkey[FAAS_KEY_MAX], tkey[FAAS_KEY_MAX];
    char              okey[FAAS_KEY_MAX], ekey[FAAS_KEY_MAX];
    char              pkey[FAAS_KEY_MAX];
    size_t            len;
    uint64_t          g;
    unsigned          try;
    redisReply       *r;
    faas_error_t      err;
    faas_table_t     *cur, *check;
    faasctl_view_t    next;

    if (faas_key_generation(gkey, sizeof(gkey), ctl->prefix) == 0
        || faas_key_events(ekey, sizeof(ekey), ctl->prefix) == 0
        || faas_key_epoch(pkey, sizeof(pkey), ctl->prefix) == 0)
    {
        return faasctl_prefix_error(ctl);
    }

    for (try = 0; try < FAASCTL_TRIES; try++) {

        if (try) {
            faasctl_backoff(try);
        }

        if (faasctl_table_read(ctl, 1, &g, &cur) != FAAS_OK) {
            faasctl_unwatch(ctl);
            return FAAS_ERROR;
        }

        if (g == UINT64_MAX) {
            faasctl_error("%s: generation %" PRIu64 " is the last one", gkey,
                          g);
            faas_table_free(cur);
            faasctl_unwatch(ctl);
            return FAAS_ERROR;
        }

        if (faas_key_table(tkey, sizeof(tkey), ctl->prefix, g + 1) == 0
            || faas_key_table(okey, sizeof(okey), ctl->prefix, g) == 0)
        {
            faas_table_free(cur);
            faasctl_unwatch(ctl);
            return faasctl_prefix_error(ctl);
        }

        if (faasctl_view_init(&next, cur, g + 1) != FAAS_OK) {
            faas_table_free(cur);
            faasctl_unwatch(ctl);
            return FAAS_ERROR;
        }

        next.source = tkey;

        /* an empty Redis, or a table from before epochs: a new epoch */

        new_epoch = (next.table.epoch[0] == '\0');

        if (new_epoch && faasctl_epoch_new(next.table.epoch) != FAAS_OK) {
            faasctl_view_free(&next);
            faas_table_free(cur);
            faasctl_unwatch(ctl);
            return FAAS_ERROR;
        }

        rc = build(ctl, cur, &next, data);

        if (rc != FAAS_OK) {
            faasctl_view_free(&next);
            faas_table_free(cur);
            faasctl_unwatch(ctl);
            *generation = g;
            return rc;
        }

        json = faas_table_serialize(&next.table);

        if (json == NULL) {
            faasctl_error("out of memory");
            faasctl_view_free(&next);
            faas_table_free(cur);
            faasctl_unwatch(ctl);
            return FAAS_ERROR;
        }

        /* what gateways will judge, judged first: nothing bad is written */

        len = strlen(json);

        if (faas_table_parse(tkey, json, len, &check, &err) != FAAS_OK) {
            faasctl_error_engine(&err);
            free(json);
            faasctl_view_free(&next);
            faas_table_free(cur);
            faasctl_unwatch(ctl);
            return FAAS_ERROR;
        }

        faas_table_free(check);

        /* the history is changed in the same transaction as the table */

        rc = faasctl_exec(ctl, &next, json, len, g, new_epoch, gkey, tkey,
                          okey, ekey, pkey, &r);

        free(json);
        faasctl_view_free(&next);
        faas_table_free(cur);

        if (rc != FAAS_OK) {
            return FAAS_ERROR;
        }

        if (r->type == REDIS_REPLY_NIL) {
            /* P:generation changed after WATCH: another change won */
            freeReplyObject(r);
            continue;
        }

        rc = faasctl_exec_check(ctl, r, "EXEC");

        if (rc != FAAS_OK) {
            return FAAS_ERROR;
        }

        *generation = g + 1;

        return FAAS_OK;
    }

    faasctl_error("%s kept changing: gave up after %d tries (other changes "
                  "are being made)", gkey, FAASCTL_TRIES);

    return FAAS_ERROR;
}


/* 16 random hex digits: docs/redis.md, "Epochs" */

static int
faasctl_epoch_new(char *epoch)
{
    size_t         i;
    unsigned char  rnd[8];

    if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t) sizeof(rnd)) {
        faasctl_error("cannot make an epoch: getrandom: %s", strerror(errno));
        return FAAS_ERROR;
    }

    for (i = 0; i < sizeof(rnd); i++) {
        epoch[2 * i] = "0123456789abcdef"[rnd[i] >> 4];
        epoch[2 * i + 1] = "0123456789abcdef"[rnd[i] & 0xf];
    }

    epoch[2 * sizeof(rnd)] = '\0';

    return FAAS_OK;
}


/*
 * MULTI, the commands of a switch, EXEC: FAAS_OK with EXEC's reply in
 * *r (nil when the WATCH failed), else FAAS_ERROR, the error printed.
 */

static int
faasctl_exec(faasctl_t *ctl, faasctl_view_t *next, const char *json,
    size_t len, uint64_t g, int new_epoch, const char *gkey,
    const char *tkey, const char *okey, const char *ekey, const char *pkey,
    redisReply **r)
{
    int              rc, pass;
    char             hkey[FAAS_KEY_MAX], what[FAAS_KEY_MAX + 16];
    faasctl_hist_t  *h;

    *r = faasctl_command(ctl, NULL, "MULTI");
    if (*r == NULL) {
        faasctl_unwatch(ctl);
        return FAAS_ERROR;
    }

    freeReplyObject(*r);
    *r = NULL;

    /* queued: each answers QUEUED, or an error that aborts the EXEC */

    rc = redisAppendCommand(ctl->ctx, "SET %s %b", tkey, json, len);

    if (new_epoch) {
        rc |= redisAppendCommand(ctl->ctx, "SET %s %s", pkey,
                                 next->table.epoch);
    }

    rc |= redisAppendCommand(ctl->ctx, "SET %s %" PRIu64, gkey, g + 1);

    if (g > 0) {
        rc |= redisAppendCommand(ctl->ctx, "EXPIRE %s %d", okey,
                                 FAASCTL_OLD_TABLE_TTL);
    }

    for (h = next->hist; h; h = h->next) {
        if (faasctl_key_history(ctl, hkey, sizeof(hkey), h->function) == 0) {
            faasctl_disconnect(ctl);
            return faasctl_prefix_error(ctl);
        }

        if (h->pop) {
            rc |= redisAppendCommand(ctl->ctx, "LPOP %s", hkey);
        }

        if (h->push) {
            rc |= redisAppendCommand(ctl->ctx, "LPUSH %s %s", hkey, h->push);
            rc |= redisAppendCommand(ctl->ctx, "LTRIM %s 0 %d", hkey,
                                     FAASCTL_HISTORY_MAX - 1);
        }
    }

    rc |= redisAppendCommand(ctl->ctx, "PUBLISH %s %" PRIu64, ekey, g + 1);
    rc |= redisAppendCommand(ctl->ctx, "EXEC");

    if (rc != REDIS_OK) {
        /* nothing was sent: the buffer is only sent by a read */
        faasctl_error("out of memory");
        faasctl_disconnect(ctl);
        return FAAS_ERROR;
    }

    snprintf(what, sizeof(what), "SET %s", tkey);
    rc = faasctl_exec_check(ctl, NULL, what);

    if (rc == FAAS_OK && new_epoch) {
        snprintf(what, sizeof(what), "SET %s", pkey);
        rc = faasctl_exec_check(ctl, NULL, what);
    }

    if (rc == FAAS_OK) {
        snprintf(what, sizeof(what), "SET %s", gkey);
        rc = faasctl_exec_check(ctl, NULL, what);
    }

    if (rc == FAAS_OK && g > 0) {
        snprintf(what, sizeof(what), "EXPIRE %s", okey);
        rc = faasctl_exec_check(ctl, NULL, what);
    }

    for (h = next->hist; h && rc == FAAS_OK; h = h->next) {
        (void) faasctl_key_history(ctl, hkey, sizeof(hkey), h->function);

        for (pass = 0; pass < 3 && rc == FAAS_OK; pass++) {
            if ((pass == 0 && !h->pop) || (pass > 0 && h->push == NULL)) {
                continue;
            }

            snprintf(what, sizeof(what), "%s %s",
                     pass == 0 ? "LPOP" : (pass == 1 ? "LPUSH" : "LTRIM"),
                     hkey);
            rc = faasctl_exec_check(ctl, NULL, what);
        }
    }

    if (rc == FAAS_OK) {
        snprintf(what, sizeof(what), "PUBLISH %s", ekey);
        rc = faasctl_exec_check(ctl, NULL, what);
    }

    if (rc != FAAS_OK) {
        /* the connection is out of step with its replies */
        faasctl_disconnect(ctl);
        return FAAS_ERROR;
    }

    if (redisGetReply(ctl->ctx, (void **) r) != REDIS_OK) {
        *r = NULL;
        faasctl_redis_error(ctl, "EXEC");
        faasctl_disconnect(ctl);
        return FAAS_ERROR;
    }

    return FAAS_OK;
}


/*
 * Builds the table a change would end with from the table in force and
 * judges it as a gateway would, writing nothing: so that a change of
 * several generations is refused before the first one.  FAASCTL_UNCHANGED
 * when "build" says so.
 */

int
faasctl_check(faasctl_t *ctl, faasctl_build_pt build, void *data)
{
    int              rc;
    char             key[FAAS_KEY_MAX], source[FAAS_KEY_MAX + 32];
    uint64_t         g;
    faas_table_t    *cur;
    faasctl_view_t   next;

    if (faasctl_table_read(ctl, 0, &g, &cur) != FAAS_OK) {
        return FAAS_ERROR;
    }

    if (faas_key_table(key, sizeof(key), ctl->prefix, g + 1) == 0) {
        faas_table_free(cur);
        return faasctl_prefix_error(ctl);
    }

    snprintf(source, sizeof(source), "the new table (%s)", key);

    if (faasctl_view_init(&next, cur, g + 1) != FAAS_OK) {
        faas_table_free(cur);
        return FAAS_ERROR;
    }

    next.source = source;

    rc = build(ctl, cur, &next, data);

    return faasctl_judge(&next, cur, rc, source);
}


/*
 * Judges the table "next" holds, built with "rc", as a gateway would;
 * "next" and "current" are freed.  "rc" when it is not FAAS_OK.
 */

int
faasctl_judge(faasctl_view_t *next, faas_table_t *current, int rc,
    const char *source)
{
    char          *json;
    faas_error_t   err;
    faas_table_t  *check;

    json = NULL;

    if (rc == FAAS_OK) {
        json = faas_table_serialize(&next->table);
        if (json == NULL) {
            faasctl_error("out of memory");
            rc = FAAS_ERROR;
        }
    }

    faasctl_view_free(next);
    faas_table_free(current);

    if (rc != FAAS_OK) {
        return rc;
    }

    rc = faas_table_parse(source, json, strlen(json), &check, &err);
    free(json);

    if (rc != FAAS_OK) {
        faasctl_error_engine(&err);
        return FAAS_ERROR;
    }

    faas_table_free(check);

    return FAAS_OK;
}


/* P:history:FN: the function's previous entries, newest first */

size_t
faasctl_key_history(faasctl_t *ctl, char *buf, size_t size,
    const char *function)
{
    int  n;

    n = snprintf(buf, size, "%s:history:%s", ctl->prefix, function);

    if (n < 0 || (size_t) n >= size) {
        buf[0] = '\0';
        return 0;
    }

    return n;
}


/*
 * Watches P:history:FN, its name left in "key", so that a change made in
 * between makes the EXEC fail: FAAS_OK when "head" is still its newest
 * entry, FAASCTL_UNCHANGED when it is not.
 */

int
faasctl_history_watch(faasctl_t *ctl, const char *function,
    const char *head, char *key, size_t size)
{
    int          same;
    redisReply  *r;

    if (faasctl_key_history(ctl, key, size, function) == 0) {
        return faasctl_prefix_error(ctl);
    }

    r = faasctl_command(ctl, key, "WATCH %s", key);
    if (r == NULL) {
        return FAAS_ERROR;
    }

    freeReplyObject(r);

    r = faasctl_command(ctl, key, "LINDEX %s 0", key);
    if (r == NULL) {
        return FAAS_ERROR;
    }

    same = (r->type == REDIS_REPLY_STRING && strcmp(r->str, head) == 0);
    freeReplyObject(r);

    return same ? FAAS_OK : FAASCTL_UNCHANGED;
}


/*
 * With r == NULL, reads the reply to a queued command (+QUEUED); else
 * checks the array EXEC answered.
 */

static int
faasctl_exec_check(faasctl_t *ctl, redisReply *r, const char *what)
{
    size_t       i;
    redisReply  *e;

    if (r == NULL) {
        if (redisGetReply(ctl->ctx, (void **) &r) != REDIS_OK) {
            r = NULL;
        }

        r = faasctl_reply(ctl, r, what);
        if (r == NULL) {
            return FAAS_ERROR;
        }

        freeReplyObject(r);
        return FAAS_OK;
    }

    if (faasctl_reply(ctl, r, what) == NULL) {
        return FAAS_ERROR;
    }

    if (r->type != REDIS_REPLY_ARRAY) {
        faasctl_error("%s: %s: unexpected reply", ctl->redis.safe, what);
        freeReplyObject(r);
        return FAAS_ERROR;
    }

    for (i = 0; i < r->elements; i++) {
        e = r->element[i];

        if (e->type == REDIS_REPLY_ERROR) {
            faasctl_error("%s: %s: command %zu: %.*s", ctl->redis.safe, what,
                          i + 1, (int) e->len, e->str);
            freeReplyObject(r);
            return FAAS_ERROR;
        }
    }

    freeReplyObject(r);

    return FAAS_OK;
}


static void
faasctl_unwatch(faasctl_t *ctl)
{
    redisReply  *r;

    if (ctl->ctx == NULL || ctl->ctx->err) {
        return;
    }

    r = redisCommand(ctl->ctx, "UNWATCH");
    if (r) {
        freeReplyObject(r);
    }
}


/* a few ms, growing and jittered, so that racing faasctls part ways */

static void
faasctl_backoff(unsigned try)
{
    unsigned         ms;
    struct timespec  ts;

    ms = (unsigned) (rand() % (10 * try)) + 5 * try;

    ts.tv_sec = 0;
    ts.tv_nsec = (long) ms * 1000000;

    (void) nanosleep(&ts, NULL);
}
