/*
 * Copyright (C) ngx_faas authors
 *
 * faasd's Redis mode: following the table in force.  P:generation (and
 * P:epoch) is read on each event and on a timer; a newer table is
 * fetched, checked, and applied to the running units.
 */


#define _GNU_SOURCE

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faasd_redis.h"


static void faasd_redis_reject(uint64_t generation, const char *epoch);


/* SIGHUP: the table in force is read again, whatever its generation */

void
faasd_redis_reload(void)
{
    if (faasd_cycle.redis == NULL) {
        return;
    }

    faas_sync_force(&faasd_redis.sync);

    if (faasd_redis.up) {
        faasd_redis_check();
    }
}


/* one GET P:generation at a time; an event meanwhile asks for another */

void
faasd_redis_check(void)
{
    if (faasd_cycle.stopping) {
        return;
    }

    if (faasd_redis.checking) {
        faasd_redis.recheck = 1;
        return;
    }

    if (faasd_redis_send(&faasd_redis.cmd, FAASD_REDIS_GENERATION, 0, NULL,
                         3, (const char *[]) { "MGET",
                                               faasd_redis.key_generation,
                                               faasd_redis.key_epoch })
        == 0)
    {
        faasd_redis.checking = 1;
    }
}


void
faasd_redis_generation(redisReply *mget)
{
    char         key[FAAS_KEY_MAX], text[160], why[256];
    char         epoch[FAAS_TABLE_EPOCH_MAX + 1];
    uint64_t     g;
    redisReply  *r, *e;

    faasd_redis.checking = 0;

    if (faasd_cycle.stopping) {
        return;
    }

    why[0] = '\0';
    epoch[0] = '\0';
    g = 0;

    if (mget->type == REDIS_REPLY_ARRAY && mget->elements == 2) {
        r = mget->element[0];
        e = mget->element[1];

    } else {
        /* an error: said below */
        r = mget;
        e = NULL;
    }

    if (r->type == REDIS_REPLY_NIL) {
        if (!faasd_redis.unset_logged) {
            faasd_redis.unset_logged = 1;

            if (faasd_redis.sync.applied.set) {
                faasd_log(FAASD_LOG_WARN, "redis: \"%s\" is not set; "
                          "keeping generation %llu",
                          faasd_redis.key_generation,
                          (unsigned long long)
                              faasd_redis.sync.applied.generation);
            } else {
                faasd_log(FAASD_LOG_NOTICE, "redis: \"%s\" is not set: no "
                          "table yet", faasd_redis.key_generation);
            }
        }

        goto done;
    }

    faasd_redis.unset_logged = 0;

    if (r->type == REDIS_REPLY_ERROR) {
        snprintf(why, sizeof(why), "%s",
                 faasd_redis_text(r->str, r->len, text, sizeof(text)));

    } else if (r->type != REDIS_REPLY_STRING) {
        snprintf(why, sizeof(why), "not a generation number");

    } else if (faas_table_generation_parse(r->str, r->len, &g) != FAAS_OK) {
        snprintf(why, sizeof(why), "not a generation number: \"%s\"",
                 faasd_redis_text(r->str, r->len, text, sizeof(text)));
    }

    if (why[0] == '\0' && e != NULL && e->type == REDIS_REPLY_STRING
        && faas_table_epoch_valid(e->str, e->len))
    {
        memcpy(epoch, e->str, e->len);
        epoch[e->len] = '\0';

    } else if (why[0] == '\0' && (e == NULL || e->type != REDIS_REPLY_NIL)) {
        snprintf(why, sizeof(why), "the epoch beside it is not 1 to %d "
                 "letters or digits", FAAS_TABLE_EPOCH_MAX);
    }

    if (why[0]) {
        if (strcmp(why, faasd_redis.gen_why) != 0) {
            faasd_log(FAASD_LOG_ERR, "redis: \"%s\": %s; keeping %s",
                      faasd_redis.key_generation, why,
                      faasd_redis.sync.applied.set ? "the table in force"
                                          : "no table");
            snprintf(faasd_redis.gen_why, sizeof(faasd_redis.gen_why), "%s",
                     why);
        }

        goto done;
    }

    faasd_redis.gen_why[0] = '\0';

    /* after Redis lost its data, generations count again: a new epoch */

    if (faas_sync_decide(&faasd_redis.sync, g, epoch) == FAAS_SYNC_NONE) {
        goto done;
    }

    if (faas_key_table(key, sizeof(key), faasd_cycle.prefix, g) == 0) {
        goto done;
    }

    if (faasd_redis_send(&faasd_redis.cmd, FAASD_REDIS_TABLE, g, epoch, 2,
                         (const char *[]) { "GET", key })
        != 0)
    {
        return;
    }

    faas_sync_fetching(&faasd_redis.sync, g, epoch);

done:

    if (faasd_redis.recheck) {
        faasd_redis.recheck = 0;
        faasd_redis_check();
    }
}


/* a rejected table is not fetched again while P:generation names it */

static void
faasd_redis_reject(uint64_t generation, const char *epoch)
{
    faas_sync_rejected(&faasd_redis.sync, generation, epoch);
}


/*
 * A table that does not load changes nothing; it is logged once, with
 * its key, until another generation is published (or SIGHUP).
 */

void
faasd_redis_table(uint64_t generation, const char *epoch, redisReply *r)
{
    char            key[FAAS_KEY_MAX], msg[1024], text[160];
    size_t          nworkers;
    faasd_fn_t     *fn;
    faas_error_t    err;
    faas_table_t   *table;
    faasd_fnset_t   set;

    /* a reply to an older GET leaves the one on its way awaited */

    if (faasd_redis.sync.fetching.set
        && faasd_redis.sync.fetching.generation == generation
        && strcmp(faasd_redis.sync.fetching.epoch, epoch) == 0)
    {
        faas_sync_fetched(&faasd_redis.sync);
    }

    if (faasd_cycle.stopping) {
        return;
    }

    (void) faas_key_table(key, sizeof(key), faasd_cycle.prefix, generation);

    msg[0] = '\0';

    if (r->type == REDIS_REPLY_NIL) {
        snprintf(msg, sizeof(msg), "%s: no such key", key);

    } else if (r->type == REDIS_REPLY_ERROR) {
        snprintf(msg, sizeof(msg), "%s: %s", key,
                 faasd_redis_text(r->str, r->len, text, sizeof(text)));

    } else if (r->type != REDIS_REPLY_STRING) {
        snprintf(msg, sizeof(msg), "%s: not a string", key);

    } else {
        memset(&err, 0, sizeof(err));

        if (faas_table_parse(key, r->str, r->len, &table, &err) != FAAS_OK) {
            (void) faas_error_format(&err, text, sizeof(text));

            /* the key is the table's name in every log line */
            if (strstr(text, key) == text) {
                snprintf(msg, sizeof(msg), "%s", text);

            } else {
                snprintf(msg, sizeof(msg), "%s: %s", key,
                         text[0] ? text : "invalid table");
            }

        } else if (table->generation != generation
                   || strcmp(table->epoch, epoch) != 0)
        {
            snprintf(msg, sizeof(msg), "%s: \"generation\" %llu and "
                     "\"epoch\" \"%s\" are not %llu and \"%s\" of \"%s\"",
                     key, (unsigned long long) table->generation,
                     table->epoch, (unsigned long long) generation, epoch,
                     faasd_redis.key_epoch);
            faas_table_free(table);
        }
    }

    if (msg[0]) {
        faasd_log(FAASD_LOG_ERR, "redis: table rejected, keeping %s: %s",
                  faasd_redis.sync.applied.set ? "the one in force" : "none",
                  msg);
        faasd_redis_reject(generation, epoch);
        return;
    }

    if (faasd_conf_table(table, key, faasd_cycle.sockdir, &set) != 0) {
        faas_table_free(table);
        faasd_redis_reject(generation, epoch);
        return;
    }

    faas_table_free(table);

    faasd_workers_apply(&faasd_cycle.fns, &set);

    faasd_conf_free(&faasd_cycle.versions);
    faasd_cycle.versions = set;

    nworkers = 0;

    for (fn = set.head; fn; fn = fn->next) {
        nworkers += fn->instances;
    }

    faasd_log(FAASD_LOG_NOTICE, "redis: generation %llu in force (%s): "
              "%zu versions, %zu workers", (unsigned long long) generation,
              key, set.n, nworkers);

    faas_sync_applied(&faasd_redis.sync, generation, epoch);
}
