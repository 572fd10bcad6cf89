/*
 * Copyright (C) ngx_faas authors
 *
 * faasd's Redis mode, inside: the state its three files share.
 * faasd_redis.c is the transport (the two connections, their commands
 * and replies, reconnection), faasd_redis_sync.c follows P:generation
 * and applies tables, faasd_redis_beat.c registers endpoints and reports
 * start failures.  What the rest of faasd calls is in faasd.h.
 */

#ifndef FAASD_REDIS_H_INCLUDED
#define FAASD_REDIS_H_INCLUDED


#include <hiredis/hiredis.h>

#include "faasd.h"
#include "faas_sync.h"


#define FAASD_REDIS_BACKOFF_MIN_MS   100
#define FAASD_REDIS_BACKOFF_MAX_MS   5000
#define FAASD_REDIS_CONNECT_MS       2000    /* connect and handshake */
#define FAASD_REDIS_REPLY_MS         3000    /* silence while awaiting */
#define FAASD_REDIS_CHECK_MS         1000    /* GET P:generation */
#define FAASD_REDIS_CLOSE_MS         500     /* last ZREMs at exit */
#define FAASD_REDIS_READ_SIZE        65536
#define FAASD_REDIS_READS            16      /* per event, then the others */
#define FAASD_REDIS_REPLY_MAX        ((size_t) FAAS_TABLE_MAX_SIZE + 65536)


typedef enum {
    FAASD_REDIS_AUTH = 0,
    FAASD_REDIS_SELECT,
    FAASD_REDIS_SUBSCRIBE,
    FAASD_REDIS_PING,
    FAASD_REDIS_GENERATION,
    FAASD_REDIS_TABLE,
    FAASD_REDIS_ENDPOINTS,
    FAASD_REDIS_FAILURE
} faasd_redis_cmd_e;


typedef struct {
    faasd_redis_cmd_e    cmd;
    uint64_t             generation;    /* of FAASD_REDIS_TABLE */
    char                 epoch[FAAS_TABLE_EPOCH_MAX + 1];   /* its epoch */
} faasd_redis_wait_t;


typedef struct {
    const char          *name;
    int                  fd;
    unsigned             connecting:1;
    unsigned             ready:1;       /* handshake done */
    unsigned             handshake;     /* its replies still awaited */
    redisReader         *reader;

    char                *out;
    size_t               out_pos;       /* sent */
    size_t               out_len;
    size_t               out_cap;

    faasd_redis_wait_t  *wait;          /* wait[wait_head..wait_len) */
    size_t               wait_head;
    size_t               wait_len;
    size_t               wait_cap;

    uint64_t             deadline;      /* monotonic ms, 0 when none */
} faasd_redis_conn_t;


/* a member of P:endpoints:FN:V this faasd registered, or is to */
typedef struct {
    char                *key;
    char                *member;        /* "unix:/run/ngx_faas/fn@v1-0.sock" */
    unsigned             live:1;        /* a ready worker serves it */
    unsigned             fresh:1;       /* not added yet */
    unsigned             done:1;        /* in this heartbeat already */
} faasd_redis_ep_t;


typedef struct {
    faas_redis_url_t     url;
    char                 key_generation[FAAS_KEY_MAX];
    char                 key_epoch[FAAS_KEY_MAX];
    char                 key_events[FAAS_KEY_MAX];
    char                *cwd;           /* for a relative -s */

    faasd_redis_conn_t   cmd;
    faasd_redis_conn_t   sub;
    unsigned             epoch;         /* bumped when the link fails */
    unsigned             addr;          /* the address tried next */

    unsigned             inited:1;
    unsigned             up:1;
    unsigned             ever_up:1;
    unsigned             checking:1;    /* a GET P:generation awaited */
    unsigned             recheck:1;     /* an event came meanwhile */
    unsigned             unset_logged:1;
    unsigned             ep_failed:1;

    char                 down_why[256]; /* logged while down */
    char                 gen_why[256];  /* logged for P:generation */

    unsigned             backoff;
    unsigned             beat_ms;
    uint64_t             retry;         /* next connect, 0 when none */
    uint64_t             next_check;
    uint64_t             next_beat;

    faas_sync_t          sync;          /* what is in force, refused... */

    faasd_redis_ep_t    *eps;
    size_t               neps;
    size_t               eps_cap;
} faasd_redis_t;


extern faasd_redis_t  faasd_redis;


/* faasd_redis.c */
int faasd_redis_send(faasd_redis_conn_t *c, faasd_redis_cmd_e cmd,
    uint64_t generation, const char *epoch, int argc, const char **argv);
const char *faasd_redis_text(const char *s, size_t len, char *buf,
    size_t size);

/* faasd_redis_sync.c */
void faasd_redis_check(void);
void faasd_redis_generation(redisReply *r);
void faasd_redis_table(uint64_t generation, const char *epoch,
    redisReply *r);

/* faasd_redis_beat.c */
void faasd_redis_endpoints(int beat);


#endif /* FAASD_REDIS_H_INCLUDED */
