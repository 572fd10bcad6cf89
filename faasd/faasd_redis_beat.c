/*
 * Copyright (C) ngx_faas authors
 *
 * faasd's Redis mode: the endpoints of ready workers registered in
 * P:endpoints:FN:V and kept alive by a heartbeat, and the start
 * failures of versions reported in P:failure:FN:V.
 */


#define _GNU_SOURCE

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "faasd_redis.h"


static faasd_redis_ep_t *faasd_redis_ep(const char *key, const char *member);
static void faasd_redis_beat(uint64_t now_ms);
static uint64_t faasd_redis_wall_ms(void);


/*
 * Brings the registered endpoints in line with the ready workers of the
 * Redis versions: new ones are added at once, gone ones removed; the
 * heartbeat re-adds them all with a later score, in one pipeline, and
 * trims members whose score is past.  While Redis is down the list is
 * kept, and settled when it is back.
 */

void
faasd_redis_endpoints(int beat)
{
    int                argc;
    char               key[FAAS_KEY_MAX], score[24], *member;
    size_t             i, j, len;
    uint64_t           now_ms;
    const char        *argv[4];
    faasd_slot_t      *s;
    faasd_unit_t      *u;
    faasd_redis_ep_t  *ep;

    for (i = 0; i < faasd_redis.neps; i++) {
        faasd_redis.eps[i].live = 0;
    }

    for (s = faasd_cycle.slots; s; s = s->next) {
        u = s->active;

        if (!s->version || u == NULL || u->state != FAASD_RUNNING
            || u->fn->version == NULL)
        {
            continue;
        }

        if (faas_key_endpoints(key, sizeof(key), faasd_cycle.prefix,
                               u->fn->name, u->fn->version)
            == 0)
        {
            continue;
        }

        len = sizeof("unix:/") + strlen(s->path)
              + (faasd_redis.cwd ? strlen(faasd_redis.cwd) : 0);

        member = malloc(len);
        if (member == NULL) {
            faasd_log(FAASD_LOG_ERR, "redis: out of memory for endpoints");
            continue;
        }

        if (s->path[0] != '/' && faasd_redis.cwd) {
            snprintf(member, len, "unix:%s/%s", faasd_redis.cwd, s->path);

        } else {
            snprintf(member, len, "unix:%s", s->path);
        }

        ep = faasd_redis_ep(key, member);
        free(member);

        if (ep) {
            ep->live = 1;
        }
    }

    if (!faasd_redis.up) {
        return;
    }

    now_ms = faasd_redis_wall_ms();
    snprintf(score, sizeof(score), "%llu",
             (unsigned long long) (now_ms + faasd_cycle.endpoint_ttl));

    /* a send that fails takes the link down: the list stays for later */
    for (i = 0; i < faasd_redis.neps; i++) {
        ep = &faasd_redis.eps[i];

        argv[1] = ep->key;

        if (!ep->live) {
            argv[0] = "ZREM";
            argv[2] = ep->member;
            argc = 3;

        } else if (ep->fresh && !beat) {
            argv[0] = "ZADD";
            argv[2] = score;
            argv[3] = ep->member;
            argc = 4;

        } else {
            continue;
        }

        if (faasd_redis_send(&faasd_redis.cmd, FAASD_REDIS_ENDPOINTS, 0, NULL,
                             argc, argv)
            != 0)
        {
            return;
        }
    }

    for (i = 0, j = 0; i < faasd_redis.neps; i++) {
        ep = &faasd_redis.eps[i];

        if (!ep->live) {
            free(ep->key);
            free(ep->member);
            continue;
        }

        ep->fresh = 0;
        faasd_redis.eps[j++] = *ep;
    }

    faasd_redis.neps = j;

    if (beat) {
        faasd_redis_beat(now_ms);
    }
}


/*
 * A worker of a Redis version that was never ready went: why, and the
 * end of its stderr, for faasctl to show (P:failure:FN:V, docs/redis.md).
 * Each restart that fails again writes it again.
 */

void
faasd_redis_failure(const faasd_unit_t *u, const char *why)
{
    char            key[FAAS_KEY_MAX], ttl[16], *json;
    const char     *argv[5];
    faas_failure_t  f;

    if (faasd_cycle.redis == NULL || u->fn->version == NULL) {
        return;
    }

    if (faas_key_failure(key, sizeof(key), faasd_cycle.prefix, u->fn->name,
                         u->fn->version)
        == 0)
    {
        return;
    }

    if (!faasd_redis.up) {
        faasd_log(FAASD_LOG_WARN, "redis: down, the start failure of "
                  "function %s is not reported", u->fn->label);
        return;
    }

    memset(&f, 0, sizeof(faas_failure_t));
    f.at = faasd_redis_wall_ms();
    f.slot = u->index;
    (void) snprintf(f.why, sizeof(f.why), "%s", why);
    memcpy(f.log, u->err_tail, u->err_tail_len + 1);

    json = faas_failure_encode(&f);
    if (json == NULL) {
        faasd_log(FAASD_LOG_ERR, "redis: out of memory for a failure report");
        return;
    }

    snprintf(ttl, sizeof(ttl), "%d", FAAS_FAILURE_TTL_S);

    argv[0] = "SET";
    argv[1] = key;
    argv[2] = json;
    argv[3] = "EX";
    argv[4] = ttl;

    (void) faasd_redis_send(&faasd_redis.cmd, FAASD_REDIS_FAILURE, 0, NULL,
                            5, argv);

    free(json);
}


/* one ZADD and one ZREMRANGEBYSCORE per key */

static void
faasd_redis_beat(uint64_t now_ms)
{
    int                argc;
    char               score[24], now[24];
    size_t             i, j;
    const char       **argv;
    faasd_redis_ep_t  *ep;

    if (faasd_redis.neps == 0) {
        return;
    }

    argv = malloc((2 + 2 * faasd_redis.neps) * sizeof(char *));
    if (argv == NULL) {
        faasd_log(FAASD_LOG_ERR, "redis: out of memory for endpoints");
        return;
    }

    snprintf(score, sizeof(score), "%llu",
             (unsigned long long) (now_ms + faasd_cycle.endpoint_ttl));
    snprintf(now, sizeof(now), "%llu", (unsigned long long) now_ms);

    for (i = 0; i < faasd_redis.neps; i++) {
        faasd_redis.eps[i].done = 0;
    }

    for (i = 0; i < faasd_redis.neps; i++) {
        ep = &faasd_redis.eps[i];

        if (ep->done) {
            continue;
        }

        argc = 0;
        argv[argc++] = "ZADD";
        argv[argc++] = ep->key;

        for (j = i; j < faasd_redis.neps; j++) {
            if (!faasd_redis.eps[j].done
                && strcmp(faasd_redis.eps[j].key, ep->key) == 0)
            {
                faasd_redis.eps[j].done = 1;
                argv[argc++] = score;
                argv[argc++] = faasd_redis.eps[j].member;
            }
        }

        if (faasd_redis_send(&faasd_redis.cmd, FAASD_REDIS_ENDPOINTS, 0, NULL,
                             argc, argv)
            != 0)
        {
            break;
        }

        argv[0] = "ZREMRANGEBYSCORE";
        argv[2] = "-inf";
        argv[3] = now;

        if (faasd_redis_send(&faasd_redis.cmd, FAASD_REDIS_ENDPOINTS, 0,
                             NULL, 4, argv)
            != 0)
        {
            break;
        }
    }

    free(argv);
}


/* the entry of an endpoint, added (fresh) when new; NULL without memory */

static faasd_redis_ep_t *
faasd_redis_ep(const char *key, const char *member)
{
    size_t             i, cap;
    faasd_redis_ep_t  *ep;

    for (i = 0; i < faasd_redis.neps; i++) {
        ep = &faasd_redis.eps[i];

        if (strcmp(ep->member, member) == 0 && strcmp(ep->key, key) == 0) {
            return ep;
        }
    }

    if (faasd_redis.neps == faasd_redis.eps_cap) {
        cap = faasd_redis.eps_cap ? faasd_redis.eps_cap * 2 : 16;

        ep = realloc(faasd_redis.eps, cap * sizeof(faasd_redis_ep_t));
        if (ep == NULL) {
            goto nomem;
        }

        faasd_redis.eps = ep;
        faasd_redis.eps_cap = cap;
    }

    ep = &faasd_redis.eps[faasd_redis.neps];
    memset(ep, 0, sizeof(faasd_redis_ep_t));

    ep->key = strdup(key);
    ep->member = strdup(member);

    if (ep->key == NULL || ep->member == NULL) {
        free(ep->key);
        free(ep->member);
        goto nomem;
    }

    ep->fresh = 1;
    faasd_redis.neps++;

    return ep;

nomem:

    faasd_log(FAASD_LOG_ERR, "redis: out of memory for endpoints");

    return NULL;
}


/* endpoint scores are wall-clock: readers compare them with their own */

static uint64_t
faasd_redis_wall_ms(void)
{
    struct timespec  ts;

    (void) clock_gettime(CLOCK_REALTIME, &ts);

    return (uint64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
