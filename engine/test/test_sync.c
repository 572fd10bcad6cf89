/*
 * Copyright (C) ngx_faas authors
 *
 * The decision to fetch a generation of the Redis table, as nginx's
 * workers and faasd make it.
 */


#include <string.h>

#include "unit.h"
#include "faas_sync.h"


static void
test_first(void)
{
    faas_sync_t  s;

    memset(&s, 0, sizeof(s));

    /* nothing in force: any generation is fetched, of any epoch */

    CHECK_INT(faas_sync_decide(&s, 1, ""), FAAS_SYNC_FETCH);
    CHECK_INT(faas_sync_decide(&s, 7, "e1"), FAAS_SYNC_FETCH);
    CHECK_INT(faas_sync_decide(&s, 7, NULL), FAAS_SYNC_FETCH);
}


static void
test_applied(void)
{
    faas_sync_t  s;

    memset(&s, 0, sizeof(s));

    faas_sync_fetching(&s, 3, "e1");
    CHECK_INT(faas_sync_decide(&s, 3, "e1"), FAAS_SYNC_NONE);

    /* another generation while one is on its way: asked for too */
    CHECK_INT(faas_sync_decide(&s, 4, "e1"), FAAS_SYNC_FETCH);

    faas_sync_fetched(&s);
    faas_sync_applied(&s, 3, "e1");

    CHECK_INT(faas_sync_decide(&s, 3, "e1"), FAAS_SYNC_NONE);
    CHECK_INT(faas_sync_decide(&s, 4, "e1"), FAAS_SYNC_FETCH);
    CHECK_INT(faas_sync_decide(&s, 2, "e1"), FAAS_SYNC_FETCH);

    /* Redis lost its data: generation 3 of a new epoch is another table */
    CHECK_INT(faas_sync_decide(&s, 3, "e2"), FAAS_SYNC_FETCH);
    CHECK_INT(faas_sync_decide(&s, 3, ""), FAAS_SYNC_FETCH);
    CHECK_INT(faas_sync_decide(&s, 3, NULL), FAAS_SYNC_FETCH);

    /* no epoch is the empty one */
    faas_sync_applied(&s, 5, NULL);
    CHECK_INT(faas_sync_decide(&s, 5, ""), FAAS_SYNC_NONE);
    CHECK_INT(faas_sync_decide(&s, 5, NULL), FAAS_SYNC_NONE);
    CHECK_INT(faas_sync_decide(&s, 5, "e1"), FAAS_SYNC_FETCH);
}


static void
test_fetched(void)
{
    faas_sync_t  s;

    memset(&s, 0, sizeof(s));

    /* a fetch that ends without a table (missing key, lost connection) */

    faas_sync_fetching(&s, 9, "e");
    CHECK_INT(faas_sync_decide(&s, 9, "e"), FAAS_SYNC_NONE);
    faas_sync_fetched(&s);
    CHECK_INT(faas_sync_decide(&s, 9, "e"), FAAS_SYNC_FETCH);
}


static void
test_rejected(void)
{
    faas_sync_t  s;

    memset(&s, 0, sizeof(s));

    faas_sync_applied(&s, 1, "e");

    faas_sync_fetching(&s, 2, "e");
    faas_sync_fetched(&s);
    faas_sync_rejected(&s, 2, "e");

    /* tables never change: a refused one is not read again */
    CHECK_INT(faas_sync_decide(&s, 2, "e"), FAAS_SYNC_NONE);
    CHECK_INT(faas_sync_decide(&s, 2, "f"), FAAS_SYNC_FETCH);
    CHECK_INT(faas_sync_decide(&s, 3, "e"), FAAS_SYNC_FETCH);
    CHECK_INT(faas_sync_decide(&s, 1, "e"), FAAS_SYNC_NONE);

    /* only the last rejection counts */
    faas_sync_rejected(&s, 3, "e");
    CHECK_INT(faas_sync_decide(&s, 2, "e"), FAAS_SYNC_FETCH);
    CHECK_INT(faas_sync_decide(&s, 3, "e"), FAAS_SYNC_NONE);

    /* a table applied afterwards forgets it */
    faas_sync_applied(&s, 4, "e");
    CHECK_INT(faas_sync_decide(&s, 3, "e"), FAAS_SYNC_FETCH);
    CHECK_INT(faas_sync_decide(&s, 4, "e"), FAAS_SYNC_NONE);
}


static void
test_force(void)
{
    faas_sync_t  s;

    memset(&s, 0, sizeof(s));

    faas_sync_applied(&s, 1, "e");
    faas_sync_rejected(&s, 2, "e");

    faas_sync_force(&s);

    /* the table in force is read again, and the refused one too */
    CHECK_INT(faas_sync_decide(&s, 1, "e"), FAAS_SYNC_FETCH);
    CHECK_INT(faas_sync_decide(&s, 2, "e"), FAAS_SYNC_FETCH);

    /* forced once: sending the GET spends it */
    faas_sync_fetching(&s, 1, "e");
    CHECK_INT(faas_sync_decide(&s, 1, "e"), FAAS_SYNC_NONE);
    faas_sync_fetched(&s);
    CHECK_INT(faas_sync_decide(&s, 1, "e"), FAAS_SYNC_NONE);

    /* the rejection went with the force */
    CHECK_INT(faas_sync_decide(&s, 2, "e"), FAAS_SYNC_FETCH);
}


static void
test_epochs(void)
{
    faas_sync_t  s;
    char         epoch[FAAS_TABLE_EPOCH_MAX + 2];

    memset(&s, 0, sizeof(s));

    memset(epoch, 'a', FAAS_TABLE_EPOCH_MAX);
    epoch[FAAS_TABLE_EPOCH_MAX] = '\0';

    faas_sync_applied(&s, 1, epoch);
    CHECK_INT(faas_sync_decide(&s, 1, epoch), FAAS_SYNC_NONE);

    /* longer than an epoch may be: marks nothing, so fetched again */

    epoch[FAAS_TABLE_EPOCH_MAX] = 'a';
    epoch[FAAS_TABLE_EPOCH_MAX + 1] = '\0';

    faas_sync_rejected(&s, 1, epoch);
    CHECK_INT(faas_sync_decide(&s, 1, epoch), FAAS_SYNC_FETCH);
}


int
main(void)
{
    test_first();
    test_applied();
    test_fetched();
    test_rejected();
    test_force();
    test_epochs();

    return unit_done("test_sync");
}
