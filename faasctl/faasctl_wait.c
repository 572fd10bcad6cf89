/*
 * Copyright (C) ngx_faas authors
 *
 * Waiting for versions to be warm: until P:endpoints:FN:V holds as many
 * live endpoints as the version has instances (docs/redis.md), or
 * --wait runs out, or INT or TERM comes.
 */


#define _GNU_SOURCE

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "faasctl.h"


static void faasctl_signal_handler(int signo);


static volatile sig_atomic_t  faasctl_signalled;


int
faasctl_wait(faasctl_t *ctl, const faasctl_warm_t *warm, size_t n)
{
    int                    ready;
    char                   key[FAAS_KEY_MAX];
    size_t                 i;
    uint64_t               deadline;
    redisReply            *r;
    struct timespec        ts;
    const faasctl_warm_t  *late;

    if (ctl->wait < 0 || n == 0) {
        return FAAS_OK;
    }

    deadline = faasctl_monotonic_ms() + (uint64_t) (ctl->wait * 1000);

    for ( ;; ) {
        ready = 1;
        late = NULL;

        for (i = 0; i < n; i++) {
            if (faas_key_endpoints(key, sizeof(key), ctl->prefix,
                                   warm[i].function, warm[i].version)
                == 0)
            {
                return faasctl_prefix_error(ctl);
            }

            r = faasctl_command(ctl, key, "ZCOUNT %s %" PRIu64 " +inf", key,
                                faasctl_now_ms());
            if (r == NULL) {
                return FAAS_ERROR;
            }

            if (r->type != REDIS_REPLY_INTEGER
                || r->integer < (long long) warm[i].instances)
            {
                ready = 0;
                late = &warm[i];
            }

            freeReplyObject(r);

            if (!ready) {
                break;
            }
        }

        if (ready) {
            return FAAS_OK;
        }

        if (faasctl_signalled) {
            faasctl_error("interrupted while version %s of %s was starting",
                          late->version, late->function);
            return FAAS_ERROR;
        }

        if (faasctl_monotonic_ms() >= deadline) {
            faasctl_error("version %s of %s did not become ready in %g s "
                          "(is faasd -R running?)", late->version,
                          late->function, ctl->wait);
            return FAAS_ERROR;
        }

        ts.tv_sec = 0;
        ts.tv_nsec = FAASCTL_POLL_MS * 1000000L;

        (void) nanosleep(&ts, NULL);
    }
}


/*
 * INT and TERM during a change end the wait and roll the table back,
 * rather than leave a version warming up forever.
 */

void
faasctl_signals(int on)
{
    struct sigaction  sa;

    memset(&sa, 0, sizeof(struct sigaction));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on ? faasctl_signal_handler : SIG_DFL;

    (void) sigaction(SIGINT, &sa, NULL);
    (void) sigaction(SIGTERM, &sa, NULL);
}


int
faasctl_interrupted(void)
{
    return faasctl_signalled != 0;
}


static void
faasctl_signal_handler(int signo)
{
    (void) signo;

    faasctl_signalled = 1;
}
