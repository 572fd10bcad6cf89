/*
 * Copyright (C) ngx_faas authors
 *
 * Slots, units and worker processes: start, ready, crash and restart
 * with backoff, replacement on reload, drain.
 */


#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "faasd.h"


/* a worker's output read at its exit, at most */
#define FAASD_DRAIN_READS  32

/* the variables faasd sets; the same names elsewhere are dropped */
#define FAASD_NVARS        12


static faasd_slot_t *faasd_slot_find(const char *name, unsigned index);
static void faasd_workers_apply_fn(faasd_fn_t *fn);
static int faasd_unit_keeps(const faasd_unit_t *u, const faasd_fn_t *fn);
static faasd_slot_t *faasd_slot_create(const char *name, unsigned index);
static void faasd_slot_drop(faasd_slot_t *s);
static void faasd_slot_remove(faasd_slot_t *s);
static faasd_unit_t *faasd_unit_create(faasd_slot_t *s, faasd_fn_t *fn);
static void faasd_unit_start(faasd_unit_t *u);
static int faasd_unit_spawn(faasd_unit_t *u);
static void faasd_unit_child(faasd_unit_t *u, int ready, int out, int err,
    char **argv, char **envp) __attribute__((noreturn));
static void faasd_child_fail(const char *what, const char *arg, int fd,
    int en) __attribute__((noreturn));
static void faasd_child_warn(const char *what, int en);
static void faasd_child_say(const char *what, const char *arg, int fd,
    int en, const char *then);
static char **faasd_unit_env(faasd_unit_t *u, size_t *owned);
static int faasd_env_has(char **env, size_t n, const char *entry);
static void faasd_unit_ready(faasd_unit_t *u);
static void faasd_unit_exited(faasd_unit_t *u, int status);
static void faasd_unit_failed(faasd_unit_t *u, const char *why);
static void faasd_unit_retire(faasd_unit_t *u);
static void faasd_unit_kill(faasd_unit_t *u);
static void faasd_unit_close(faasd_unit_t *u);
static void faasd_unit_dead(faasd_unit_t *u);
static void faasd_pipe_read(faasd_unit_t *u, faasd_pipe_t *p, int drain);
static void faasd_pipe_line(faasd_unit_t *u, faasd_pipe_t *p,
    const char *line, size_t len);
static void faasd_pipe_close(faasd_unit_t *u, faasd_pipe_t *p);
static void faasd_fd_close(int *fd);
static unsigned faasd_drain_ms(const faasd_unit_t *u);


static const char  *faasd_vars[FAASD_NVARS] = {
    "FAAS_LISTEN_FD", "FAAS_READY_FD", "FAAS_FUNCTION", "FAAS_SERVICE",
    "FAAS_SLOT", "FAAS_CODE_DIR", "FAAS_HANDLER", "FAAS_INITIALIZER",
    "FAAS_CONCURRENCY", "FAAS_TIMEOUT_MS", "FAAS_INIT_TIMEOUT_MS",
    "FAAS_VERSION"
};


/*
 * Makes the running slots those of the manifests and of the Redis
 * versions: new slots start; a slot of a manifest function loaded anew
 * gets a replacement worker, while one whose worker runs the same
 * function (a manifest function not reloaded, a Redis version that
 * stays) is kept; slots gone from both are drained, those of a Redis
 * version after FAASD_VERSION_GRACE_MS, as gateways may still be on the
 * previous table.
 */

void
faasd_workers_apply(faasd_fnset_t *fns, faasd_fnset_t *versions)
{
    uint64_t       now;
    faasd_fn_t    *fn;
    faasd_slot_t  *s, *next;

    for (s = faasd_cycle.slots; s; s = s->next) {
        s->seen = 0;
    }

    for (fn = fns->head; fn; fn = fn->next) {
        faasd_workers_apply_fn(fn);
    }

    for (fn = versions->head; fn; fn = fn->next) {
        faasd_workers_apply_fn(fn);
    }

    now = faasd_msec();

    for (s = faasd_cycle.slots; s; s = next) {
        next = s->next;

        if (s->seen) {
            continue;
        }

        if (s->version) {
            if (s->leave == 0) {
                s->leave = now + FAASD_VERSION_GRACE_MS;

                faasd_log(FAASD_LOG_NOTICE, "function %s slot %u left the "
                          "table, removed in %u ms", s->name, s->index,
                          FAASD_VERSION_GRACE_MS);
            }

            continue;
        }

        faasd_slot_drop(s);
    }
}


static void
faasd_workers_apply_fn(faasd_fn_t *fn)
{
    unsigned       i;
    faasd_slot_t  *s;
    faasd_unit_t  *u;

    for (i = 0; i < fn->instances; i++) {
        s = faasd_slot_find(fn->label, i);

        if (s == NULL) {
            s = faasd_slot_create(fn->label, i);
            if (s == NULL) {
                continue;
            }

            u = faasd_unit_create(s, fn);
            if (u == NULL) {
                faasd_slot_remove(s);
                continue;
            }

            s->seen = 1;
            s->version = (fn->version != NULL);
            s->active = u;
            faasd_unit_start(u);
            continue;
        }

        s->seen = 1;

        if (s->leave) {
            s->leave = 0;
            faasd_log(FAASD_LOG_NOTICE, "function %s slot %u is back in the "
                      "table, kept", s->name, s->index);
        }

        if (s->pending && faasd_unit_keeps(s->pending, fn)) {
            continue;
        }

        if (s->active && faasd_unit_keeps(s->active, fn)) {
            if (s->pending) {
                faasd_log(FAASD_LOG_NOTICE, "function %s slot %u: "
                          "abandoning the replacement pid %ld", s->name,
                          s->index, (long) s->pending->pid);
                faasd_unit_retire(s->pending);
                s->pending = NULL;
            }

            continue;
        }

        if (s->pending) {
            faasd_log(FAASD_LOG_NOTICE, "function %s slot %u: "
                      "abandoning the replacement pid %ld for a newer "
                      "one", s->name, s->index, (long) s->pending->pid);
            faasd_unit_retire(s->pending);
            s->pending = NULL;
        }

        u = faasd_unit_create(s, fn);
        if (u == NULL) {
            faasd_log(FAASD_LOG_ERR, "function %s slot %u: keeping the "
                      "current worker", s->name, s->index);
            continue;
        }

        s->pending = u;
        faasd_unit_start(u);
    }
}


/*
 * A manifest function loaded anew is replaced even when unchanged, so
 * that code changes are picked up; a Redis version is immutable.
 */

static int
faasd_unit_keeps(const faasd_unit_t *u, const faasd_fn_t *fn)
{
    if (u->fn == fn) {
        return 1;
    }

    return u->fn->version != NULL && fn->version != NULL
           && faasd_fn_same(u->fn, fn);
}


/*
 * The first SIGTERM drains: sockets go first so nginx stops connecting,
 * then every worker is asked to finish.  A second one kills.
 */

void
faasd_workers_stop(int sig)
{
    faasd_slot_t  *s;
    faasd_unit_t  *u;

    if (faasd_cycle.stopping) {
        faasd_log(FAASD_LOG_NOTICE, "%s again: killing the workers",
                  sig == SIGINT ? "SIGINT" : "SIGTERM");

        for (u = faasd_cycle.units; u; u = u->next) {
            if (u->pid > 0 && u->state != FAASD_KILLED) {
                faasd_unit_kill(u);
            }
        }

        return;
    }

    faasd_cycle.stopping = 1;

    faasd_log(FAASD_LOG_NOTICE, "%s: stopping, draining the workers",
              sig == SIGINT ? "SIGINT" : "SIGTERM");

    for (u = faasd_cycle.units; u; u = u->next) {
        if (u->path[0]) {
            (void) unlink(u->path);
            u->path[0] = '\0';
        }
    }

    while (faasd_cycle.slots) {
        s = faasd_cycle.slots;

        if (s->pending) {
            s->pending->slot = NULL;
        }

        if (s->active) {
            s->active->slot = NULL;
        }

        faasd_slot_remove(s);
    }

    for (u = faasd_cycle.units; u; u = u->next) {
        u->slot = NULL;

        switch (u->state) {

        case FAASD_BACKOFF:
            faasd_unit_dead(u);
            break;

        case FAASD_STARTING:
        case FAASD_RUNNING:
        case FAASD_GRACE:
            faasd_fd_close(&u->ready_fd);
            faasd_fd_close(&u->listen_fd);
            (void) kill(u->pid, SIGTERM);
            u->state = FAASD_DRAINING;
            u->timer = faasd_msec() + (u->ever_ready ? faasd_drain_ms(u)
                                                     : FAASD_STOP_STARTING_MS);
            break;

        default:
            break;
        }
    }
}


void
faasd_workers_reap(void)
{
    int            status;
    pid_t          pid;
    faasd_unit_t  *u;

    for ( ;; ) {
        pid = waitpid(-1, &status, WNOHANG);

        if (pid == -1 && errno == EINTR) {
            continue;
        }

        if (pid <= 0) {
            return;
        }

        for (u = faasd_cycle.units; u; u = u->next) {
            if (u->pid == pid && u->state != FAASD_DEAD) {
                faasd_unit_exited(u, status);
                break;
            }
        }
    }
}


void
faasd_workers_timers(uint64_t now)
{
    faasd_slot_t  *s, *next;
    faasd_unit_t  *u;

    for (s = faasd_cycle.slots; s; s = next) {
        next = s->next;

        if (s->leave && s->leave <= now) {
            faasd_slot_drop(s);
        }
    }

    for (u = faasd_cycle.units; u; u = u->next) {
        if (u->timer == 0 || u->timer > now || u->state == FAASD_DEAD) {
            continue;
        }

        u->timer = 0;

        switch (u->state) {

        case FAASD_BACKOFF:
            faasd_unit_start(u);
            break;

        case FAASD_STARTING:
            faasd_log(FAASD_LOG_ERR, "function %s slot %u: worker pid %ld "
                      "not ready within %u ms, killing it", u->fn->label,
                      u->index, (long) u->pid,
                      u->fn->init_timeout_ms + FAASD_NODE_START_MS);
            u->init_timedout = 1;
            faasd_unit_kill(u);
            break;

        case FAASD_GRACE:
            faasd_log(FAASD_LOG_INFO, "function %s slot %u: draining old "
                      "worker pid %ld", u->fn->label, u->index, (long) u->pid);
            faasd_fd_close(&u->listen_fd);
            (void) kill(u->pid, SIGTERM);
            u->state = FAASD_DRAINING;
            u->timer = now + faasd_drain_ms(u);
            break;

        case FAASD_DRAINING:
            faasd_log(FAASD_LOG_WARN, "function %s slot %u: worker pid %ld "
                      "still running after SIGTERM, killing it",
                      u->fn->label, u->index, (long) u->pid);
            faasd_unit_kill(u);
            break;

        default:
            break;
        }
    }
}


uint64_t
faasd_workers_next_timer(void)
{
    uint64_t       t;
    faasd_slot_t  *s;
    faasd_unit_t  *u;

    t = 0;

    for (s = faasd_cycle.slots; s; s = s->next) {
        if (s->leave && (t == 0 || s->leave < t)) {
            t = s->leave;
        }
    }

    for (u = faasd_cycle.units; u; u = u->next) {
        if (u->timer && u->state != FAASD_DEAD && (t == 0 || u->timer < t)) {
            t = u->timer;
        }
    }

    return t;
}


size_t
faasd_workers_poll_fill(struct pollfd *pfd, faasd_unit_t **owner,
    size_t max)
{
    int           *fds[3];
    size_t         n, i;
    faasd_unit_t  *u;

    n = 0;

    for (u = faasd_cycle.units; u; u = u->next) {
        if (u->state == FAASD_DEAD) {
            continue;
        }

        fds[0] = &u->ready_fd;
        fds[1] = &u->out.fd;
        fds[2] = &u->err.fd;

        for (i = 0; i < 3; i++) {
            if (*fds[i] == -1 || n == max) {
                continue;
            }

            pfd[n].fd = *fds[i];
            pfd[n].events = POLLIN;
            pfd[n].revents = 0;
            owner[n] = u;
            n++;
        }
    }

    return n;
}


/*
 * Units are only marked dead while events are handled, never freed, so
 * the owners of later entries stay valid; fds are checked against the
 * unit's own because one may have been closed meanwhile.
 */

void
faasd_workers_poll_handle(struct pollfd *pfd, faasd_unit_t **owner,
    size_t n)
{
    size_t         i;
    faasd_unit_t  *u;

    for (i = 0; i < n; i++) {
        u = owner[i];

        if (pfd[i].revents == 0 || u->state == FAASD_DEAD) {
            continue;
        }

        if (pfd[i].fd == u->out.fd) {
            faasd_pipe_read(u, &u->out, 0);

        } else if (pfd[i].fd == u->err.fd) {
            faasd_pipe_read(u, &u->err, 0);

        } else if (pfd[i].fd == u->ready_fd) {
            faasd_unit_ready(u);
        }
    }
}


void
faasd_workers_sweep(void)
{
    faasd_unit_t  *u, *next;

    for (u = faasd_cycle.units; u; u = next) {
        next = u->next;

        if (u->state != FAASD_DEAD) {
            continue;
        }

        if (u->prev) {
            u->prev->next = u->next;

        } else {
            faasd_cycle.units = u->next;
        }

        if (u->next) {
            u->next->prev = u->prev;
        }

        faasd_fn_release(u->fn);
        free(u);
        faasd_cycle.nunits--;
    }
}


/*
 * Whether every slot has had its first outcome: its worker ready, or
 * failed at least once (a worker that keeps failing must not hold the
 * start or a reload forever), and no replacement still starting.
 */

int
faasd_workers_settled(void)
{
    faasd_slot_t  *s;

    for (s = faasd_cycle.slots; s; s = s->next) {
        if (s->pending != NULL) {
            return 0;
        }

        if (s->active != NULL && !s->active->ever_ready
            && s->active->failures == 0)
        {
            return 0;
        }
    }

    return 1;
}


/* at exit, and after a failed start: whatever is left, without waiting */

void
faasd_workers_free(void)
{
    faasd_unit_t  *u;

    while (faasd_cycle.slots) {
        faasd_slot_remove(faasd_cycle.slots);
    }

    for (u = faasd_cycle.units; u; u = u->next) {
        if (u->pid > 0) {
            (void) kill(u->pid, SIGKILL);
            (void) waitpid(u->pid, NULL, 0);
            u->pid = 0;
        }

        if (u->path[0]) {
            (void) unlink(u->path);
            u->path[0] = '\0';
        }

        faasd_unit_dead(u);
    }

    faasd_workers_sweep();
}


static faasd_slot_t *
faasd_slot_find(const char *name, unsigned index)
{
    faasd_slot_t  *s;

    for (s = faasd_cycle.slots; s; s = s->next) {
        if (s->index == index && strcmp(s->name, name) == 0) {
            return s;
        }
    }

    return NULL;
}


static faasd_slot_t *
faasd_slot_create(const char *name, unsigned index)
{
    faasd_slot_t  *s, **last;

    s = calloc(1, sizeof(faasd_slot_t));
    if (s == NULL) {
        goto nomem;
    }

    s->name = strdup(name);
    if (s->name == NULL) {
        free(s);
        goto nomem;
    }

    s->index = index;

    if (faasd_socket_path(name, index, s->path, sizeof(s->path)) != 0) {
        faasd_log(FAASD_LOG_ERR, "function %s slot %u: socket path too long",
                  name, index);
        free(s->name);
        free(s);
        return NULL;
    }

    /* in the manifests' order, which the log follows */
    for (last = &faasd_cycle.slots; *last; last = &(*last)->next) {
        /* void */
    }

    *last = s;

    return s;

nomem:

    faasd_log(FAASD_LOG_ERR, "function %s slot %u: out of memory", name,
              index);
    return NULL;
}


static void
faasd_slot_remove(faasd_slot_t *s)
{
    faasd_slot_t  **p;

    faasd_cycle.endpoints_changed = 1;

    for (p = &faasd_cycle.slots; *p; p = &(*p)->next) {
        if (*p == s) {
            *p = s->next;
            break;
        }
    }

    free(s->name);
    free(s);
}


/* a slot gone from the set: its socket goes, its workers drain */

static void
faasd_slot_drop(faasd_slot_t *s)
{
    faasd_log(FAASD_LOG_NOTICE, "function %s slot %u removed", s->name,
              s->index);

    if (s->pending) {
        faasd_unit_retire(s->pending);
    }

    if (s->active) {
        faasd_unit_retire(s->active);
    }

    faasd_slot_remove(s);
}


static faasd_unit_t *
faasd_unit_create(faasd_slot_t *s, faasd_fn_t *fn)
{
    faasd_unit_t  *u;

    u = calloc(1, sizeof(faasd_unit_t));
    if (u == NULL) {
        faasd_log(FAASD_LOG_ERR, "function %s slot %u: out of memory",
                  s->name, s->index);
        return NULL;
    }

    u->listen_fd = faasd_socket_open(s->name, s->index, u->path,
                                     sizeof(u->path));
    if (u->listen_fd == -1) {
        free(u);
        return NULL;
    }

    u->ready_fd = -1;
    u->out.fd = -1;
    u->err.fd = -1;
    u->slot = s;
    u->index = s->index;
    u->fn = fn;
    fn->refs++;

    u->next = faasd_cycle.units;
    if (u->next) {
        u->next->prev = u;
    }

    faasd_cycle.units = u;
    faasd_cycle.nunits++;

    return u;
}


static void
faasd_unit_start(faasd_unit_t *u)
{
    if (faasd_unit_spawn(u) != 0) {
        faasd_unit_failed(u, "could not be started");
    }
}


static int
faasd_unit_spawn(faasd_unit_t *u)
{
    int       ready[2], out[2], err[2];
    char    **envp, *argv[4], mem[48];
    pid_t     pid;
    size_t    i, n, owned;

    owned = 0;
    ready[0] = ready[1] = out[0] = out[1] = err[0] = err[1] = -1;
    envp = NULL;

    if (pipe2(ready, O_CLOEXEC) == -1
        || pipe2(out, O_CLOEXEC) == -1
        || pipe2(err, O_CLOEXEC) == -1)
    {
        faasd_log(FAASD_LOG_ERR, "function %s slot %u: pipe() failed: %s",
                  u->fn->label, u->index, strerror(errno));
        goto failed;
    }

    envp = faasd_unit_env(u, &owned);
    if (envp == NULL) {
        faasd_log(FAASD_LOG_ERR, "function %s slot %u: out of memory",
                  u->fn->label, u->index);
        goto failed;
    }

    n = 0;
    argv[n++] = faasd_cycle.node;

    if (u->fn->memory_mb) {
        snprintf(mem, sizeof(mem), "--max-old-space-size=%u",
                 u->fn->memory_mb);
        argv[n++] = mem;
    }

    argv[n++] = faasd_cycle.runtime;
    argv[n] = NULL;

    pid = fork();

    if (pid == 0) {
        faasd_unit_child(u, ready[1], out[1], err[1], argv, envp);
    }

    if (pid == -1) {
        faasd_log(FAASD_LOG_ERR, "function %s slot %u: fork() failed: %s",
                  u->fn->label, u->index, strerror(errno));
        goto failed;
    }

    for (i = owned; envp[i]; i++) {
        free(envp[i]);
    }

    free(envp);

    close(ready[1]);
    close(out[1]);
    close(err[1]);

    (void) fcntl(ready[0], F_SETFL, O_NONBLOCK);
    (void) fcntl(out[0], F_SETFL, O_NONBLOCK);
    (void) fcntl(err[0], F_SETFL, O_NONBLOCK);

    u->pid = pid;
    u->ready_fd = ready[0];
    u->out.fd = out[0];
    u->out.len = 0;
    u->err.fd = err[0];
    u->err.len = 0;
    u->err_tail_len = 0;
    u->err_tail[0] = '\0';
    u->state = FAASD_STARTING;
    u->init_timedout = 0;
    u->started = faasd_msec();
    u->timer = u->started + u->fn->init_timeout_ms + FAASD_NODE_START_MS;

    faasd_log(FAASD_LOG_INFO, "function %s slot %u: started worker pid %ld",
              u->fn->label, u->index, (long) pid);

    return 0;

failed:

    if (envp) {
        for (i = owned; envp[i]; i++) {
            free(envp[i]);
        }

        free(envp);
    }

    for (i = 0; i < 2; i++) {
        faasd_fd_close(&ready[i]);
        faasd_fd_close(&out[i]);
        faasd_fd_close(&err[i]);
    }

    return -1;
}


/*
 * In the child: fds 0-4 as the interface says, nothing else open, the
 * worker's credentials, and a parent-death signal so that a worker does
 * not outlive a faasd killed with SIGKILL.
 */

static void
faasd_unit_child(faasd_unit_t *u, int ready, int out, int err, char **argv,
    char **envp)
{
    int          fds[5], i;
    sigset_t     set;

    /* above 4 first, so the dup2() calls below cannot clobber a source */
    fds[0] = fcntl(faasd_cycle.devnull, F_DUPFD_CLOEXEC, 5);
    fds[1] = fcntl(out, F_DUPFD_CLOEXEC, 5);
    fds[2] = fcntl(err, F_DUPFD_CLOEXEC, 5);
    fds[3] = fcntl(u->listen_fd, F_DUPFD_CLOEXEC, 5);
    fds[4] = fcntl(ready, F_DUPFD_CLOEXEC, 5);

    for (i = 0; i < 5; i++) {
        if (fds[i] == -1) {
            faasd_child_fail("dup", "", err, errno);
        }
    }

    for (i = 0; i < 5; i++) {
        if (dup2(fds[i], i) == -1) {
            faasd_child_fail("dup2", "", i > 2 ? 2 : err, errno);
        }
    }

    if (close_range(5, ~0U, 0) == -1) {
        for (i = 5; i < 1024; i++) {
            (void) close(i);
        }
    }

    (void) signal(SIGPIPE, SIG_DFL);
    sigemptyset(&set);
    (void) sigprocmask(SIG_SETMASK, &set, NULL);
    (void) umask(faasd_cycle.umask);

    if (faasd_cycle.switch_user) {
        if (setgroups(faasd_cycle.ngroups, faasd_cycle.groups) == -1) {
            faasd_child_fail("setgroups", "", 2, errno);
        }

        if (setgid(faasd_cycle.gid) == -1) {
            faasd_child_fail("setgid", "", 2, errno);
        }

        if (setuid(faasd_cycle.uid) == -1) {
            faasd_child_fail("setuid", "", 2, errno);
        }
    }

    if (getuid() == 0 || geteuid() == 0 || getgid() == 0 || getegid() == 0) {
        faasd_child_fail("run a worker as root", "", 2, 0);
    }

    /*
     * Under SCHED_BATCH, a worker woken by nginx's request waits for
     * nginx to finish its round of events instead of preempting it, so
     * that both get whole batches: measured, +25% requests/s on 2 cores.
     * Not worth failing a worker for: it keeps SCHED_OTHER then.
     */
    if (faasd_cycle.worker_policy != SCHED_OTHER) {
        struct sched_param  sp = { .sched_priority = 0 };

        if (sched_setscheduler(0, faasd_cycle.worker_policy, &sp) == -1) {
            faasd_child_warn("set the scheduling policy", errno);
        }
    }

    /* after setuid(), which clears it */
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1) {
        faasd_child_fail("prctl", "", 2, errno);
    }

    if (getppid() != faasd_cycle.pid) {
        _exit(1);
    }

    if (chdir(u->fn->dir) == -1) {
        faasd_child_fail("enter the code directory", u->fn->dir, 2,
                         errno);
    }

    execve(argv[0], argv, envp);

    faasd_child_fail("execute", argv[0], 2, errno);
}


static void
faasd_child_fail(const char *what, const char *arg, int fd, int en)
{
    faasd_child_say(what, arg, fd, en, "");

    _exit(127);
}


static void
faasd_child_warn(const char *what, int en)
{
    faasd_child_say(what, "", 2, en, ", going on");
}


static void
faasd_child_say(const char *what, const char *arg, int fd, int en,
    const char *then)
{
    int   n;
    char  buf[512];

    n = snprintf(buf, sizeof(buf), "faasd: cannot %s%s%s%s%s%s%s\n", what,
                 arg[0] ? " \"" : "", arg, arg[0] ? "\"" : "",
                 en ? ": " : "", en ? strerror(en) : "", then);

    if (n <= 0) {
        return;
    }

    if ((size_t) n >= sizeof(buf)) {
        n = sizeof(buf) - 1;
    }

    /* the child has nowhere else to say it */
    if (write(fd, buf, n) != n) {
        return;
    }
}


/*
 * faasd's environment without FAAS_* names and without what f.yml sets
 * (HOME, USER and LOGNAME those of -u USER when faasd switches users),
 * then f.yml's environment, then faasd's variables.  The strings from
 * index "owned" on are allocated here.
 */

static char **
faasd_unit_env(faasd_unit_t *u, size_t *owned)
{
    int            i;
    char         **envp, *p;
    size_t         n, k, total;
    faasd_fn_t    *fn;
    const char    *v[FAASD_NVARS];
    char           num[4][24];

    extern char  **environ;

    fn = u->fn;

    for (n = 0; environ[n]; n++) {
        /* void */
    }

    total = n + 3 + fn->nenv + FAASD_NVARS + 1;

    envp = calloc(total, sizeof(char *));
    if (envp == NULL) {
        return NULL;
    }

    k = 0;

    for (n = 0; environ[n]; n++) {
        if (strncmp(environ[n], "FAAS_", 5) == 0
            || faasd_env_has(fn->env, fn->nenv, environ[n])
            || (faasd_cycle.switch_user
                && faasd_env_has(faasd_cycle.user_env, 3, environ[n])))
        {
            continue;
        }

        envp[k++] = environ[n];
    }

    /* as su(1) does: the worker's own user, unless f.yml says otherwise */
    for (n = 0; faasd_cycle.switch_user && n < 3; n++) {
        if (!faasd_env_has(fn->env, fn->nenv, faasd_cycle.user_env[n])) {
            envp[k++] = faasd_cycle.user_env[n];
        }
    }

    for (n = 0; n < fn->nenv; n++) {
        if (faasd_env_has((char **) faasd_vars, FAASD_NVARS, fn->env[n])) {
            continue;
        }

        envp[k++] = fn->env[n];
    }

    *owned = k;

    snprintf(num[0], sizeof(num[0]), "%u", u->index);
    snprintf(num[1], sizeof(num[1]), "%u", fn->concurrency);
    snprintf(num[2], sizeof(num[2]), "%u", fn->timeout_ms);
    snprintf(num[3], sizeof(num[3]), "%u", fn->init_timeout_ms);

    v[0] = "3";
    v[1] = "4";
    v[2] = fn->name;
    v[3] = fn->service;
    v[4] = num[0];
    v[5] = fn->dir;
    v[6] = fn->handler;
    v[7] = fn->initializer;
    v[8] = num[1];
    v[9] = num[2];
    v[10] = num[3];
    v[11] = fn->version;

    for (i = 0; i < FAASD_NVARS; i++) {
        if (v[i] == NULL) {
            continue;
        }

        n = strlen(faasd_vars[i]) + 1 + strlen(v[i]) + 1;

        p = malloc(n);
        if (p == NULL) {
            for (n = *owned; n < k; n++) {
                free(envp[n]);
            }

            free(envp);
            return NULL;
        }

        snprintf(p, n, "%s=%s", faasd_vars[i], v[i]);
        envp[k++] = p;
    }

    envp[k] = NULL;

    return envp;
}


/* whether "env" (names, or "NAME=value" entries) has entry's name */

static int
faasd_env_has(char **env, size_t n, const char *entry)
{
    size_t       i, len;
    const char  *eq;

    eq = strchr(entry, '=');
    len = eq ? (size_t) (eq - entry) : strlen(entry);

    for (i = 0; i < n; i++) {
        if (strncmp(env[i], entry, len) == 0
            && (env[i][len] == '=' || env[i][len] == '\0'))
        {
            return 1;
        }
    }

    return 0;
}


static void
faasd_unit_ready(faasd_unit_t *u)
{
    char           c;
    ssize_t        n;
    faasd_slot_t  *s;
    faasd_unit_t  *old;

    n = read(u->ready_fd, &c, 1);

    if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
        return;
    }

    faasd_fd_close(&u->ready_fd);

    /* closed without "R": the exit that follows says why */
    if (n != 1 || u->state != FAASD_STARTING) {
        return;
    }

    if (c != 'R') {
        faasd_log(FAASD_LOG_ERR, "function %s slot %u: worker pid %ld wrote "
                  "0x%02x instead of \"R\" on its ready pipe, killing it",
                  u->fn->label, u->index, (long) u->pid, (unsigned char) c);
        faasd_unit_kill(u);
        return;
    }

    s = u->slot;

    if (!u->named) {
        if (rename(u->path, s->path) == -1) {
            faasd_log(FAASD_LOG_ERR, "function %s slot %u: rename(\"%s\", "
                      "\"%s\") failed: %s", u->fn->label, u->index, u->path,
                      s->path, strerror(errno));
            faasd_unit_kill(u);
            return;
        }

        u->named = 1;
        memcpy(u->path, s->path, sizeof(u->path));
    }

    u->state = FAASD_RUNNING;
    u->ever_ready = 1;
    u->timer = 0;
    faasd_cycle.endpoints_changed = 1;

    faasd_log(FAASD_LOG_NOTICE, "function %s slot %u ready (pid %ld, %llu ms)",
              u->fn->label, u->index, (long) u->pid,
              (unsigned long long) (faasd_msec() - u->started));

    if (s->pending != u) {
        return;
    }

    old = s->active;
    s->active = u;
    s->pending = NULL;

    if (old == NULL) {
        return;
    }

    /* the rename went over the old socket's name: it is not ours to unlink */
    if (old->named) {
        old->path[0] = '\0';
    }

    faasd_log(FAASD_LOG_NOTICE, "function %s slot %u: pid %ld replaces "
              "pid %ld", u->fn->label, u->index, (long) u->pid,
              (long) old->pid);

    faasd_unit_retire(old);
}


static void
faasd_unit_exited(faasd_unit_t *u, int status)
{
    char  how[160];

    faasd_pipe_read(u, &u->out, 1);
    faasd_pipe_read(u, &u->err, 1);
    faasd_pipe_close(u, &u->out);
    faasd_pipe_close(u, &u->err);
    faasd_fd_close(&u->ready_fd);

    if (WIFSIGNALED(status)) {
        snprintf(how, sizeof(how), "killed by signal %d (%s)",
                 WTERMSIG(status), strsignal(WTERMSIG(status)));

    } else if (WEXITSTATUS(status) == FAASD_EXIT_INIT_FAILED) {
        snprintf(how, sizeof(how), "failed to initialise (exit code %d)",
                 FAASD_EXIT_INIT_FAILED);

    } else {
        snprintf(how, sizeof(how), "exited with code %d",
                 WEXITSTATUS(status));
    }

    if (u->slot == NULL) {
        faasd_log(FAASD_LOG_INFO, "function %s slot %u: %s worker pid %ld %s",
                  u->fn->label, u->index,
                  faasd_cycle.stopping ? "stopped" : "retired",
                  (long) u->pid, how);
        u->pid = 0;
        faasd_unit_dead(u);
        return;
    }

    if (u->init_timedout) {
        snprintf(how, sizeof(how), "was not ready within %u ms",
                 u->fn->init_timeout_ms + FAASD_NODE_START_MS);
    }

    faasd_unit_failed(u, how);
}


/*
 * A replacement that fails is dropped and the worker it was to replace
 * keeps serving; any other worker is restarted on the same socket, at
 * once the first time, then after 100 ms doubling up to 30 s while it
 * keeps failing.
 */

static void
faasd_unit_failed(faasd_unit_t *u, const char *why)
{
    pid_t          pid;
    uint64_t       now;
    unsigned       delay;
    faasd_slot_t  *s;

    s = u->slot;
    pid = u->pid;
    u->pid = 0;
    now = faasd_msec();
    faasd_cycle.endpoints_changed = 1;

    /* faasctl deploy waits for this version: it is told at once */

    if (u->fn->version != NULL && !u->ever_ready) {
        faasd_redis_failure(u, why);
    }

    if (s->pending == u) {
        faasd_log(FAASD_LOG_ERR, "function %s slot %u: new worker pid %ld %s; "
                  "keeping pid %ld", u->fn->label, u->index, (long) pid, why,
                  (long) (s->active ? s->active->pid : 0));
        s->pending = NULL;
        u->slot = NULL;
        faasd_unit_dead(u);
        return;
    }

    if (u->state == FAASD_RUNNING && now - u->started >= FAASD_STABLE_MS) {
        u->failures = 0;
    }

    if (u->failures == 0) {
        delay = 0;

    } else if (u->failures > 20) {
        delay = FAASD_BACKOFF_MAX_MS;

    } else {
        delay = FAASD_BACKOFF_MIN_MS << (u->failures - 1);

        if (delay > FAASD_BACKOFF_MAX_MS) {
            delay = FAASD_BACKOFF_MAX_MS;
        }
    }

    u->failures++;

    if (delay) {
        faasd_log(FAASD_LOG_ERR, "function %s slot %u: worker pid %ld %s, "
                  "restarting in %u ms", u->fn->label, u->index, (long) pid,
                  why, delay);

    } else {
        faasd_log(FAASD_LOG_ERR, "function %s slot %u: worker pid %ld %s, "
                  "restarting now", u->fn->label, u->index, (long) pid, why);
    }

    u->state = FAASD_BACKOFF;
    u->timer = now + delay;

    /* 0 means no timer */
    if (u->timer == 0) {
        u->timer = 1;
    }
}


/*
 * A worker nginx may have connections to gets a grace period before
 * SIGTERM: connect() calls that found the old socket just before the
 * rename or the unlink are accepted meanwhile.
 */

static void
faasd_unit_retire(faasd_unit_t *u)
{
    faasd_cycle.endpoints_changed = 1;

    if (u->path[0]) {
        (void) unlink(u->path);
        u->path[0] = '\0';
    }

    u->slot = NULL;
    faasd_fd_close(&u->ready_fd);

    switch (u->state) {

    case FAASD_BACKOFF:
        faasd_unit_dead(u);
        break;

    case FAASD_STARTING:
    case FAASD_RUNNING:
        if (u->ever_ready) {
            u->state = FAASD_GRACE;
            u->timer = faasd_msec() + FAASD_GRACE_MS;
            break;
        }

        faasd_fd_close(&u->listen_fd);
        (void) kill(u->pid, SIGTERM);
        u->state = FAASD_DRAINING;
        u->timer = faasd_msec() + FAASD_STOP_STARTING_MS;
        break;

    default:
        break;
    }
}


static void
faasd_unit_kill(faasd_unit_t *u)
{
    faasd_cycle.endpoints_changed = 1;
    faasd_fd_close(&u->ready_fd);
    (void) kill(u->pid, SIGKILL);
    u->state = FAASD_KILLED;
    u->timer = 0;
}


static void
faasd_unit_close(faasd_unit_t *u)
{
    faasd_fd_close(&u->listen_fd);
    faasd_fd_close(&u->ready_fd);
    faasd_pipe_close(u, &u->out);
    faasd_pipe_close(u, &u->err);
}


static void
faasd_unit_dead(faasd_unit_t *u)
{
    faasd_cycle.endpoints_changed = 1;

    if (u->path[0]) {
        (void) unlink(u->path);
        u->path[0] = '\0';
    }

    faasd_unit_close(u);

    u->state = FAASD_DEAD;
    u->timer = 0;
}


/*
 * One read per event, so a chatty worker cannot starve the others; at
 * exit, what is left in the pipe, up to a bound (a grandchild may still
 * hold it open and keep writing).
 */

static void
faasd_pipe_read(faasd_unit_t *u, faasd_pipe_t *p, int drain)
{
    char     *nl, *start, *end;
    ssize_t   n;
    unsigned  reads;

    for (reads = 0; p->fd != -1 && reads < FAASD_DRAIN_READS; reads++) {
        n = read(p->fd, p->buf + p->len, sizeof(p->buf) - p->len);

        if (n == -1 && errno == EINTR) {
            continue;
        }

        if (n == -1 && errno == EAGAIN) {
            return;
        }

        if (n <= 0) {
            faasd_pipe_close(u, p);
            return;
        }

        p->len += n;
        start = p->buf;
        end = p->buf + p->len;

        while ((nl = memchr(start, '\n', end - start)) != NULL) {
            faasd_pipe_line(u, p, start, nl - start);
            start = nl + 1;
        }

        p->len = end - start;

        if (p->len == sizeof(p->buf)) {
            faasd_pipe_line(u, p, p->buf, p->len);
            p->len = 0;

        } else if (start != p->buf) {
            memmove(p->buf, start, p->len);
        }

        if (!drain) {
            return;
        }
    }
}


static void
faasd_pipe_close(faasd_unit_t *u, faasd_pipe_t *p)
{
    if (p->len) {
        faasd_pipe_line(u, p, p->buf, p->len);
        p->len = 0;
    }

    faasd_fd_close(&p->fd);
}


/* a worker's line goes to the log; its stderr's are kept for a report */

static void
faasd_pipe_line(faasd_unit_t *u, faasd_pipe_t *p, const char *line,
    size_t len)
{
    faasd_log_worker(u, line, len);

    if (p == &u->err && u->fn->version != NULL) {
        faas_failure_log_append(u->err_tail, &u->err_tail_len, line, len);
    }
}


static void
faasd_fd_close(int *fd)
{
    if (*fd != -1) {
        (void) close(*fd);
        *fd = -1;
    }
}


static unsigned
faasd_drain_ms(const faasd_unit_t *u)
{
    return u->fn->timeout_ms + FAASD_DRAIN_EXTRA_MS;
}
