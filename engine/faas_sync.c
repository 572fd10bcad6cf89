/*
 * Copyright (C) ngx_faas authors
 */


#include <string.h>

#include "faas_sync.h"


static int faas_sync_is(const faas_sync_mark_t *mark, uint64_t generation,
    const char *epoch);
static void faas_sync_mark(faas_sync_mark_t *mark, uint64_t generation,
    const char *epoch);


faas_sync_action_t
faas_sync_decide(const faas_sync_t *sync, uint64_t generation,
    const char *epoch)
{
    if (sync->force) {
        return FAAS_SYNC_FETCH;
    }

    if (faas_sync_is(&sync->applied, generation, epoch)
        || faas_sync_is(&sync->rejected, generation, epoch)
        || faas_sync_is(&sync->fetching, generation, epoch))
    {
        return FAAS_SYNC_NONE;
    }

    return FAAS_SYNC_FETCH;
}


void
faas_sync_fetching(faas_sync_t *sync, uint64_t generation, const char *epoch)
{
    faas_sync_mark(&sync->fetching, generation, epoch);
    sync->force = 0;
}


void
faas_sync_fetched(faas_sync_t *sync)
{
    sync->fetching.set = 0;
}


void
faas_sync_applied(faas_sync_t *sync, uint64_t generation, const char *epoch)
{
    faas_sync_mark(&sync->applied, generation, epoch);
    sync->rejected.set = 0;
}


void
faas_sync_rejected(faas_sync_t *sync, uint64_t generation, const char *epoch)
{
    faas_sync_mark(&sync->rejected, generation, epoch);
}


void
faas_sync_force(faas_sync_t *sync)
{
    sync->force = 1;
    sync->rejected.set = 0;
}


static int
faas_sync_is(const faas_sync_mark_t *mark, uint64_t generation,
    const char *epoch)
{
    return mark->set && mark->generation == generation
           && strcmp(mark->epoch, epoch ? epoch : "") == 0;
}


/* an epoch too long for a mark never matches one read from Redis */

static void
faas_sync_mark(faas_sync_mark_t *mark, uint64_t generation,
    const char *epoch)
{
    size_t  len;

    len = epoch ? strlen(epoch) : 0;

    if (len > FAAS_TABLE_EPOCH_MAX) {
        mark->set = 0;
        return;
    }

    mark->generation = generation;
    memcpy(mark->epoch, epoch ? epoch : "", len);
    mark->epoch[len] = '\0';
    mark->set = 1;
}
