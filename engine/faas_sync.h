/*
 * Copyright (C) ngx_faas authors
 *
 * Following the Redis table (docs/redis.md): given the generation and
 * epoch just read from P:generation and P:epoch, whether table G must be
 * fetched.  nginx's workers and faasd decide alike with this code.
 */

#ifndef FAAS_SYNC_H_INCLUDED
#define FAAS_SYNC_H_INCLUDED


#include <stdint.h>

#include "faas_common.h"
#include "faas_table.h"


typedef enum {
    FAAS_SYNC_NONE = 0,
    FAAS_SYNC_FETCH
} faas_sync_action_t;


/* a generation of one epoch: after Redis lost its data, they count again */
typedef struct {
    uint64_t                generation;
    char                    epoch[FAAS_TABLE_EPOCH_MAX + 1];
    unsigned                set:1;
} faas_sync_mark_t;


typedef struct {
    faas_sync_mark_t        applied;    /* the table in force */
    faas_sync_mark_t        rejected;   /* the last one refused */
    faas_sync_mark_t        fetching;   /* the one asked for, not yet here */
    unsigned                force:1;    /* fetch even the table in force */
} faas_sync_t;


/*
 * FAAS_SYNC_FETCH unless (without force) "generation" and "epoch" are
 * those of the table in force, of the last rejected one, or of the one
 * on its way.  A NULL epoch is the empty one (P:epoch unset).
 */
faas_sync_action_t faas_sync_decide(const faas_sync_t *sync,
    uint64_t generation, const char *epoch);

/* the table's GET is sent: force is spent */
void faas_sync_fetching(faas_sync_t *sync, uint64_t generation,
    const char *epoch);

/* its reply came (whatever it holds), or the connection went */
void faas_sync_fetched(faas_sync_t *sync);

/* the table is in force: a rejection before it no longer holds */
void faas_sync_applied(faas_sync_t *sync, uint64_t generation,
    const char *epoch);

/* the table is refused: not fetched again while P:generation names it */
void faas_sync_rejected(faas_sync_t *sync, uint64_t generation,
    const char *epoch);

/* the next generation read is fetched, whatever it is (faasd's SIGHUP) */
void faas_sync_force(faas_sync_t *sync);


#endif /* FAAS_SYNC_H_INCLUDED */
