/*
 * Copyright (C) ngx_faas authors
 *
 * Waiting for versions to be warm: until P:endpoints:FN:V holds as many
 * live endpoints as the version has instances (docs/redis.md), or a
 * supervisor reports in P:failure:FN:V that a worker of one failed to
 * start, or --wait runs out, or INT or TERM comes.
 */


#define _GNU_SOURCE

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "faasctl.h"


static int faasctl_wait_forget(faasctl_t *ctl, const faasctl_warm_t *warm,
    size_t n);
static int faasctl_wait_failure(faasctl_t *ctl, const faasctl_warm_t *w);
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

    if (faasctl_wait_forget(ctl, warm, n) != FAAS_OK) {
        return FAAS_ERROR;
    }

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

        for (i = 0; !ready && i < n; i++) {
            if (faasctl_wait_failure(ctl, &warm[i]) != FAAS_OK) {
                return FAAS_ERROR;
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
 * A report left by an earlier run of a version (one taken back into
 * the table by a release) is not about this one.  A supervisor whose
 * report is deleted here, just after it wrote it, writes it again when
 * the restarted worker fails again, a few hundred ms later.
 */

static int
faasctl_wait_forget(faasctl_t *ctl, const faasctl_warm_t *warm, size_t n)
{
    char         key[FAAS_KEY_MAX];
    size_t       i;
    redisReply  *r;

    for (i = 0; i < n; i++) {
        if (faas_key_failure(key, sizeof(key), ctl->prefix,
                             warm[i].function, warm[i].version)
            == 0)
        {
            return faasctl_prefix_error(ctl);
        }

        r = faasctl_command(ctl, key, "DEL %s", key);
        if (r == NULL) {
            return FAAS_ERROR;
        }

        freeReplyObject(r);
    }

    return FAAS_OK;
}


/* FAAS_ERROR, with what the supervisor said, when a worker failed */

static int
faasctl_wait_failure(faasctl_t *ctl, const faasctl_warm_t *w)
{
    int              rc;
    char             key[FAAS_KEY_MAX], *line, *nl;
    redisReply      *r;
    faas_error_t     err;
    faas_failure_t   f;

    if (faas_key_failure(key, sizeof(key), ctl->prefix, w->function,
                         w->version)
        == 0)
    {
        return faasctl_prefix_error(ctl);
    }

    r = faasctl_command(ctl, key, "GET %s", key);
    if (r == NULL) {
        return FAAS_ERROR;
    }

    if (r->type != REDIS_REPLY_STRING) {
        freeReplyObject(r);
        return FAAS_OK;
    }

    rc = faas_failure_parse(key, r->str, r->len, &f, &err);

    freeReplyObject(r);

    if (rc != FAAS_OK) {
        faasctl_error("version %s of %s failed to start, and the report "
                      "of it is unreadable: %s: %s", w->version, w->function,
                      err.file, err.msg);
        return FAAS_ERROR;
    }

    if (f.log[0] == '\0') {
        faasctl_error("version %s of %s failed to start: its worker (slot "
                      "%u) %s, and wrote nothing to stderr", w->version,
                      w->function, f.slot, f.why);
        return FAAS_ERROR;
    }

    faasctl_error("version %s of %s failed to start: its worker (slot %u) "
                  "%s; the end of its stderr:", w->version, w->function,
                  f.slot, f.why);

    for (line = f.log; *line; line = nl + 1) {
        nl = strchr(line, '\n');
        if (nl == NULL) {
            fprintf(stderr, "    %s\n", line);
            break;
        }

        fprintf(stderr, "%s%.*s\n", nl == line ? "" : "    ",
                (int) (nl - line), line);
    }

    return FAAS_ERROR;
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
