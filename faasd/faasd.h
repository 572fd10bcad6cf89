/*
 * Copyright (C) ngx_faas authors
 *
 * faasd: the supervisor that keeps one warm Node.js worker behind each
 * socket nginx connects to.  See docs/faasd.md.
 */

#ifndef FAASD_H_INCLUDED
#define FAASD_H_INCLUDED


#include <stdint.h>
#include <poll.h>
#include <sys/types.h>
#include <sys/un.h>

#include "faas_common.h"
#include "faas_manifest.h"
#include "faas_socket.h"
#include "faas_table.h"


/* a worker's output line longer than this is split */
#define FAASD_LINE_MAX       2048

#define FAASD_BACKLOG        511
#define FAASD_GROUPS_MAX     64

#define FAASD_GRACE_MS                 500
#define FAASD_BACKOFF_MIN_MS           100
#define FAASD_BACKOFF_MAX_MS           30000
#define FAASD_STABLE_MS                10000
#define FAASD_NODE_START_MS            2000
#define FAASD_DRAIN_EXTRA_MS           5000
#define FAASD_STOP_STARTING_MS         1000

/* a version gone from the Redis table keeps its sockets this long */
#define FAASD_VERSION_GRACE_MS         2000
#define FAASD_ENDPOINT_TTL_MS          10000

#define FAASD_DEFAULT_TIMEOUT_MS       3000
#define FAASD_DEFAULT_INIT_TIMEOUT_MS  3000
#define FAASD_DEFAULT_CONCURRENCY      1

#define FAASD_EXIT_INIT_FAILED         121

#define FAASD_LOG_EMERG    0
#define FAASD_LOG_ERR      1
#define FAASD_LOG_WARN     2
#define FAASD_LOG_NOTICE   3
#define FAASD_LOG_INFO     4


typedef struct faasd_fn_s    faasd_fn_t;
typedef struct faasd_slot_s  faasd_slot_t;
typedef struct faasd_unit_s  faasd_unit_t;


/*
 * A function as one load of the manifests saw it.  Every unit started
 * from it holds a reference, so a reload never changes what a running
 * worker was started with.
 */
struct faasd_fn_s {
    faasd_fn_t    *next;           /* in its set */
    char          *name;           /* FAAS_FUNCTION */
    char          *version;        /* a Redis version; NULL for f.yml */
    char          *label;          /* "name" or "name@version": sockets
                                      and logs */
    char          *service;
    char          *dir;            /* absolute code root */
    char          *handler;
    char          *initializer;    /* NULL when not set */
    char         **env;            /* "KEY=value", function's over
                                      provider's */
    size_t         nenv;
    unsigned       timeout_ms;
    unsigned       init_timeout_ms;
    unsigned       memory_mb;      /* 0: node's default */
    unsigned       concurrency;
    unsigned       instances;
    unsigned       refs;
};


typedef struct {
    faasd_fn_t    *head;
    size_t         n;
    size_t         naggregates;    /* served by nginx: no workers */
} faasd_fnset_t;


typedef enum {
    FAASD_BACKOFF = 0,     /* no process; the timer starts one */
    FAASD_STARTING,        /* waiting for "R"; the timer kills it */
    FAASD_RUNNING,
    FAASD_GRACE,           /* retired; the timer sends SIGTERM */
    FAASD_DRAINING,        /* SIGTERM sent; the timer sends SIGKILL */
    FAASD_KILLED,          /* SIGKILL sent, not reaped yet */
    FAASD_DEAD             /* freed at the end of this turn of the loop */
} faasd_state_e;


typedef struct {
    int            fd;
    size_t         len;
    char           buf[FAASD_LINE_MAX];
} faasd_pipe_t;


/*
 * A listening socket and the worker process serving it.  A unit keeps
 * its socket across restarts of its process; it is retired when a
 * reload replaces it or its function goes away.
 */
struct faasd_unit_s {
    faasd_unit_t  *next;
    faasd_unit_t  *prev;
    faasd_slot_t  *slot;           /* NULL once retired */
    faasd_fn_t    *fn;

    faasd_state_e  state;
    unsigned       index;
    unsigned       failures;       /* crashes in a row */
    unsigned       named:1;        /* the socket has its final name */
    unsigned       ever_ready:1;
    unsigned       init_timedout:1;

    pid_t          pid;            /* 0 when no process */
    int            listen_fd;
    int            ready_fd;
    uint64_t       started;        /* monotonic ms */
    uint64_t       timer;          /* monotonic ms, 0 when none */

    faasd_pipe_t   out;
    faasd_pipe_t   err;

    /* the end of the stderr of this start, for a start failure's report */
    size_t         err_tail_len;
    char           err_tail[FAAS_FAILURE_LOG_MAX + 1];

    char           path[FAAS_SOCKET_PATH_MAX + 1];   /* "" once unlinked */
};


/* "function-index": where nginx finds a worker of a function */
struct faasd_slot_s {
    faasd_slot_t  *next;
    char          *name;
    unsigned       index;
    unsigned       seen:1;
    unsigned       version:1;      /* of a Redis version */
    uint64_t       leave;          /* monotonic ms: gone from the table,
                                      removed then; 0 when not */
    faasd_unit_t  *active;
    faasd_unit_t  *pending;        /* its replacement, while it starts */
    char           path[FAAS_SOCKET_PATH_MAX + 1];
};


typedef struct {
    /* options */
    char         **globs;
    size_t         nglobs;
    char          *sockdir;
    char          *runtime;        /* absolute */
    char          *node;           /* absolute */
    const char    *user;
    const char    *group;
    const char    *logfile;
    const char    *pidfile;
    const char    *redis;          /* -R URL, NULL without Redis */
    const char    *prefix;         /* -P */
    unsigned       endpoint_ttl;   /* -T, ms */
    int            worker_policy;  /* -S: SCHED_BATCH or SCHED_OTHER */

    /* the workers' credentials */
    unsigned       switch_user:1;
    uid_t          uid;
    gid_t          gid;
    gid_t          groups[FAASD_GROUPS_MAX];
    int            ngroups;
    gid_t          sock_gid;
    mode_t         umask;
    char          *user_env[3];    /* HOME, USER, LOGNAME of -u USER */

    int            sigfd;
    int            devnull;
    int            lockfd;
    pid_t          pid;

    faasd_fnset_t  fns;            /* from the manifests */
    faasd_fnset_t  versions;       /* from the Redis table in force */
    faasd_slot_t  *slots;
    faasd_unit_t  *units;
    size_t         nunits;
    unsigned       serial;         /* temporary socket names */
    unsigned       stopping;
    unsigned       pidfile_written:1;
    unsigned       notify_ready:1;        /* READY=1 is owed to systemd
                                             once the workers settle */
    unsigned       endpoints_changed:1;   /* a version's worker became
                                             ready or went away */
} faasd_cycle_t;


extern faasd_cycle_t  faasd_cycle;


uint64_t faasd_msec(void);

/* faasd_log.c */
int faasd_log_open(const char *path, char *errbuf, size_t size);
int faasd_log_reopen(void);
void faasd_log(unsigned level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void faasd_log_worker(const faasd_unit_t *u, const char *line, size_t len);
int faasd_log_fd(void);
int faasd_log_pending(void);
void faasd_log_write(void);
void faasd_log_flush(int timeout_ms);
void faasd_log_close(void);

/* faasd_conf.c */
int faasd_conf_load(char **globs, size_t nglobs, const char *sockdir,
    faasd_fnset_t *set, char *errbuf, size_t size);
int faasd_conf_access(faasd_fnset_t *set, char *errbuf, size_t size);
int faasd_conf_table(const faas_table_t *table, const char *source,
    const char *sockdir, faasd_fnset_t *set);
void faasd_conf_free(faasd_fnset_t *set);
void faasd_fn_release(faasd_fn_t *fn);
int faasd_fn_same(const faasd_fn_t *a, const faasd_fn_t *b);

/* faasd_socket.c */
int faasd_sockdir_init(char *errbuf, size_t size);
int faasd_socket_open(const char *name, unsigned index, char *path,
    size_t size);
int faasd_socket_path(const char *name, unsigned index, char *path,
    size_t size);

/* faasd_worker.c */
void faasd_workers_apply(faasd_fnset_t *fns, faasd_fnset_t *versions);
void faasd_workers_stop(int sig);
void faasd_workers_reap(void);
void faasd_workers_timers(uint64_t now);
uint64_t faasd_workers_next_timer(void);
size_t faasd_workers_poll_fill(struct pollfd *pfd, faasd_unit_t **owner,
    size_t max);
void faasd_workers_poll_handle(struct pollfd *pfd, faasd_unit_t **owner,
    size_t n);
void faasd_workers_sweep(void);
int faasd_workers_settled(void);
void faasd_workers_free(void);

/* faasd_notify.c */
int faasd_notify_init(char *errbuf, size_t size);
void faasd_notify(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
void faasd_notify_reloading(void);
void faasd_notify_close(void);

/* faasd_redis.c */
int faasd_redis_init(char *errbuf, size_t size);
size_t faasd_redis_poll_fill(struct pollfd *pfd, size_t max);
void faasd_redis_poll_handle(struct pollfd *pfd, size_t n);
void faasd_redis_timers(uint64_t now);
uint64_t faasd_redis_next_timer(void);
void faasd_redis_close(void);

/* faasd_redis_sync.c */
void faasd_redis_reload(void);

/* faasd_redis_beat.c */
void faasd_redis_failure(const faasd_unit_t *u, const char *why);


#endif /* FAASD_H_INCLUDED */
