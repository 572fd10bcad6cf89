/*
 * Copyright (C) ngx_faas authors
 *
 * faasd: options, start-up checks, signals and the event loop.
 */


#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/signalfd.h>
#include <sys/stat.h>

#include "faasd.h"


#ifndef FAASD_DEFAULT_RUNTIME
#define FAASD_DEFAULT_RUNTIME  "runtime/node/bin/faas-worker.js"
#endif


static int faasd_options(int argc, char **argv);
static void faasd_usage(FILE *f);
static int faasd_credentials(char *errbuf, size_t size);
static int faasd_user_env(int i, const char *name, const char *value);
static int faasd_name_to_id(const char *name, long *id);
static int faasd_find_node(const char *name, char *errbuf, size_t size);
static int faasd_find_runtime(const char *path, char *errbuf, size_t size);
static int faasd_signals(char *errbuf, size_t size);
static int faasd_pidfile(char *errbuf, size_t size);
static void faasd_loop(void);
static void faasd_signal_read(void);
static void faasd_reload(void);
static void faasd_notify_settled(void);
static void faasd_fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static void faasd_cleanup(void);


faasd_cycle_t  faasd_cycle;

static const char  *faasd_opt_node;
static const char  *faasd_opt_runtime;
static int          faasd_opt_test;


int
main(int argc, char **argv)
{
    int          fd, rc;
    char         err[1024];
    size_t       nslots;
    faasd_fn_t  *fn;

    /* fds 0-2 open, so that nothing of ours lands there by accident */
    for (fd = 0; fd < 3; fd++) {
        if (fcntl(fd, F_GETFD) == -1
            && open("/dev/null", fd ? O_WRONLY : O_RDONLY) != fd)
        {
            return 1;
        }
    }

    tzset();

    faasd_cycle.sigfd = -1;
    faasd_cycle.devnull = -1;
    faasd_cycle.lockfd = -1;
    faasd_cycle.pid = getpid();
    faasd_cycle.prefix = FAAS_REDIS_PREFIX;
    faasd_cycle.endpoint_ttl = FAASD_ENDPOINT_TTL_MS;
    faasd_cycle.worker_policy = SCHED_BATCH;

    rc = faasd_options(argc, argv);
    if (rc != 0) {
        free(faasd_cycle.globs);
        free(faasd_cycle.sockdir);
        return rc == 2 ? 0 : 1;
    }

    if (faasd_conf_load(faasd_cycle.globs, faasd_cycle.nglobs,
                        faasd_cycle.sockdir, &faasd_cycle.fns, err,
                        sizeof(err))
        != 0)
    {
        faasd_fatal("%s", err);
        goto failed;
    }

    /* the URL and prefix are checked with -t too; nothing connects yet */
    if (faasd_redis_init(err, sizeof(err)) != 0) {
        faasd_fatal("%s", err);
        goto failed;
    }

    if (faasd_opt_test) {
        if (faasd_cycle.fns.naggregates) {
            fprintf(stderr, "faasd: manifests ok: %zu function%s, "
                    "%zu aggregate%s (served by nginx)\n",
                    faasd_cycle.fns.n, faasd_cycle.fns.n == 1 ? "" : "s",
                    faasd_cycle.fns.naggregates,
                    faasd_cycle.fns.naggregates == 1 ? "" : "s");

        } else {
            fprintf(stderr, "faasd: manifests ok: %zu function%s\n",
                    faasd_cycle.fns.n, faasd_cycle.fns.n == 1 ? "" : "s");
        }
        faasd_cleanup();
        return 0;
    }

    faasd_cycle.umask = umask(0117);

    if (faasd_credentials(err, sizeof(err)) != 0
        || faasd_find_node(faasd_opt_node ? faasd_opt_node : "node", err,
                           sizeof(err)) != 0
        || faasd_find_runtime(faasd_opt_runtime ? faasd_opt_runtime
                                                : FAASD_DEFAULT_RUNTIME,
                              err, sizeof(err)) != 0
        || faasd_conf_access(&faasd_cycle.fns, err, sizeof(err)) != 0
        || faasd_notify_init(err, sizeof(err)) != 0
        || faasd_signals(err, sizeof(err)) != 0
        || faasd_log_open(faasd_cycle.logfile, err, sizeof(err)) != 0)
    {
        faasd_fatal("%s", err);
        goto failed;
    }

    faasd_cycle.devnull = open("/dev/null", O_RDWR|O_CLOEXEC);
    if (faasd_cycle.devnull == -1) {
        faasd_fatal("cannot open /dev/null: %s", strerror(errno));
        goto failed;
    }

    if (faasd_sockdir_init(err, sizeof(err)) != 0
        || faasd_pidfile(err, sizeof(err)) != 0)
    {
        faasd_fatal("%s", err);
        goto failed;
    }

    nslots = 0;

    for (fn = faasd_cycle.fns.head; fn; fn = fn->next) {
        nslots += fn->instances;
    }

    faasd_log(FAASD_LOG_NOTICE, "faasd started (pid %ld): %zu functions, "
              "%zu workers, as uid %ld gid %ld, sockets in \"%s\" for gid %ld",
              (long) faasd_cycle.pid, faasd_cycle.fns.n, nslots,
              (long) faasd_cycle.uid, (long) faasd_cycle.gid,
              faasd_cycle.sockdir, (long) faasd_cycle.sock_gid);

    faasd_workers_apply(&faasd_cycle.fns, &faasd_cycle.versions);
    faasd_cycle.notify_ready = 1;

    faasd_loop();

    faasd_log(FAASD_LOG_NOTICE, "faasd stopped");

    faasd_cleanup();

    return 0;

failed:

    faasd_cleanup();

    return 1;
}


uint64_t
faasd_msec(void)
{
    struct timespec  ts;

    (void) clock_gettime(CLOCK_MONOTONIC, &ts);

    return (uint64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


static int
faasd_options(int argc, char **argv)
{
    int             c;
    char          **g, *end;
    size_t          len;
    unsigned long   ms;

    opterr = 0;

    while ((c = getopt(argc, argv, ":m:s:r:n:u:g:l:p:R:P:T:S:th")) != -1) {
        switch (c) {

        case 'm':
            g = realloc(faasd_cycle.globs,
                        (faasd_cycle.nglobs + 1) * sizeof(char *));
            if (g == NULL) {
                fprintf(stderr, "faasd: out of memory\n");
                return 1;
            }

            faasd_cycle.globs = g;
            faasd_cycle.globs[faasd_cycle.nglobs++] = optarg;
            break;

        case 's':
            free(faasd_cycle.sockdir);

            faasd_cycle.sockdir = strdup(optarg);
            if (faasd_cycle.sockdir == NULL) {
                fprintf(stderr, "faasd: out of memory\n");
                return 1;
            }

            /* "dir/" would give "dir//fn-0.sock", not what nginx derives */
            len = strlen(faasd_cycle.sockdir);
            while (len > 1 && faasd_cycle.sockdir[len - 1] == '/') {
                faasd_cycle.sockdir[--len] = '\0';
            }

            break;

        case 'r':
            faasd_opt_runtime = optarg;
            break;

        case 'n':
            faasd_opt_node = optarg;
            break;

        case 'u':
            faasd_cycle.user = optarg;
            break;

        case 'g':
            faasd_cycle.group = optarg;
            break;

        case 'l':
            faasd_cycle.logfile = optarg;
            break;

        case 'p':
            faasd_cycle.pidfile = optarg;
            break;

        case 'R':
            faasd_cycle.redis = optarg;
            break;

        case 'P':
            faasd_cycle.prefix = optarg;
            break;

        case 'T':
            errno = 0;
            ms = strtoul(optarg, &end, 10);

            if (optarg[0] < '0' || optarg[0] > '9' || *end != '\0' || errno
                || ms < 100 || ms > 3600000)
            {
                fprintf(stderr, "faasd: -T %s: the endpoint TTL is 100 to "
                        "3600000 ms\n", optarg);
                return 1;
            }

            faasd_cycle.endpoint_ttl = (unsigned) ms;
            break;

        case 'S':
            if (strcmp(optarg, "batch") == 0) {
                faasd_cycle.worker_policy = SCHED_BATCH;

            } else if (strcmp(optarg, "normal") == 0) {
                faasd_cycle.worker_policy = SCHED_OTHER;

            } else {
                fprintf(stderr, "faasd: -S %s: the workers' scheduling is "
                        "\"batch\" or \"normal\"\n", optarg);
                return 1;
            }

            break;

        case 't':
            faasd_opt_test = 1;
            break;

        case 'h':
            faasd_usage(stdout);
            return 2;

        case ':':
            fprintf(stderr, "faasd: option -%c needs an argument\n", optopt);
            faasd_usage(stderr);
            return 1;

        default:
            fprintf(stderr, "faasd: unknown option -%c\n", optopt);
            faasd_usage(stderr);
            return 1;
        }
    }

    if (optind < argc) {
        fprintf(stderr, "faasd: unexpected argument \"%s\"\n", argv[optind]);
        faasd_usage(stderr);
        return 1;
    }

    if (faasd_cycle.nglobs == 0 && faasd_cycle.redis == NULL) {
        fprintf(stderr, "faasd: no manifest: give -m, or -R\n");
        faasd_usage(stderr);
        return 1;
    }

    if (faasd_cycle.sockdir == NULL && !faasd_opt_test) {
        fprintf(stderr, "faasd: no socket directory: give -s\n");
        faasd_usage(stderr);
        return 1;
    }

    if (faasd_cycle.sockdir && faasd_cycle.sockdir[0] == '\0') {
        fprintf(stderr, "faasd: -s: empty directory name\n");
        return 1;
    }

    return 0;
}


static void
faasd_usage(FILE *f)
{
    fprintf(f,
        "usage: faasd [-m GLOB...] [-R URL [-P PREFIX] [-T TTL_MS]]"
        " -s SOCKET_DIR\n"
        "             [-r RUNTIME_JS] [-n NODE] [-u USER] [-g GROUP]"
        " [-l LOGFILE]\n"
        "             [-p PIDFILE] [-S batch|normal] [-t] [-h]\n"
        "\n"
        "  -m GLOB        f.yml manifests to run (path or glob, repeatable)\n"
        "  -R URL         also run the versions of the Redis table in force\n"
        "                 (redis://[user:password@]host[:port][/db],"
        " unix:///path[?db=N])\n"
        "  -P PREFIX      Redis key prefix (default %s)\n"
        "  -T TTL_MS      lifetime of registered endpoints "
        "(default %d ms)\n"
        "  -s SOCKET_DIR  where the workers' sockets are "
        "(<function>-<slot>.sock,\n"
        "                 <function>@<version>-<slot>.sock)\n"
        "  -r RUNTIME_JS  the worker runtime (default %s)\n"
        "  -n NODE        the node binary (default: node from PATH)\n"
        "  -u USER        run workers as USER (as root: default nobody)\n"
        "  -g GROUP       group allowed to connect (default: the workers')\n"
        "  -l LOGFILE     append the log there (default: stderr)\n"
        "  -p PIDFILE     write faasd's pid there\n"
        "  -S POLICY      workers' scheduling: batch (default: a worker "
        "nginx wakes\n"
        "                 does not preempt nginx) or normal\n"
        "  -t             check the manifests and exit\n"
        "  -h             this help\n"
        "\n"
        "signals: HUP reloads the manifests (replacing their workers) and "
        "the Redis\n"
        "table, TERM and INT drain and stop, USR1 reopens the log file\n",
        FAAS_REDIS_PREFIX, FAASD_ENDPOINT_TTL_MS, FAASD_DEFAULT_RUNTIME);
}


/*
 * Workers never run as root: as root, they run as -u USER (nobody by
 * default) with its groups; otherwise as faasd itself.
 */

static int
faasd_credentials(char *errbuf, size_t size)
{
    int              i, j, n;
    long             id;
    uid_t            euid;
    gid_t            groups[FAASD_GROUPS_MAX];
    const char      *user;
    struct group    *gr;
    struct passwd   *pw;

    euid = geteuid();

    if (euid == 0) {
        user = faasd_cycle.user ? faasd_cycle.user : "nobody";

        pw = getpwnam(user);
        if (pw == NULL && faasd_name_to_id(user, &id) == 0) {
            pw = getpwuid((uid_t) id);
        }

        if (pw == NULL) {
            snprintf(errbuf, size, "-u %s: no such user", user);
            return -1;
        }

        if (pw->pw_uid == 0 || pw->pw_gid == 0) {
            snprintf(errbuf, size, "-u %s: refusing to run workers as root "
                     "(uid %ld, gid %ld); give an unprivileged user", user,
                     (long) pw->pw_uid, (long) pw->pw_gid);
            return -1;
        }

        faasd_cycle.switch_user = 1;
        faasd_cycle.uid = pw->pw_uid;
        faasd_cycle.gid = pw->pw_gid;

        n = FAASD_GROUPS_MAX;

        if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) == -1) {
            groups[0] = pw->pw_gid;
            n = 1;
        }

        /* the root group is never passed on */
        for (i = 0, j = 0; i < n; i++) {
            if (groups[i] != 0) {
                faasd_cycle.groups[j++] = groups[i];
            }
        }

        faasd_cycle.ngroups = j;

        if (faasd_user_env(0, "HOME", pw->pw_dir) != 0
            || faasd_user_env(1, "USER", pw->pw_name) != 0
            || faasd_user_env(2, "LOGNAME", pw->pw_name) != 0)
        {
            snprintf(errbuf, size, "out of memory");
            return -1;
        }

    } else {
        if (faasd_cycle.user) {
            pw = getpwnam(faasd_cycle.user);
            if (pw == NULL && faasd_name_to_id(faasd_cycle.user, &id) == 0)
            {
                pw = getpwuid((uid_t) id);
            }

            if (pw == NULL || pw->pw_uid != euid) {
                snprintf(errbuf, size, "-u %s: faasd runs as uid %ld and "
                         "cannot switch users (only root can)",
                         faasd_cycle.user, (long) euid);
                return -1;
            }
        }

        faasd_cycle.uid = euid;
        faasd_cycle.gid = getegid();
    }

    faasd_cycle.sock_gid = faasd_cycle.gid;

    if (faasd_cycle.group) {
        gr = getgrnam(faasd_cycle.group);

        if (gr) {
            faasd_cycle.sock_gid = gr->gr_gid;

        } else if (faasd_name_to_id(faasd_cycle.group, &id) == 0) {
            faasd_cycle.sock_gid = (gid_t) id;

        } else {
            snprintf(errbuf, size, "-g %s: no such group",
                     faasd_cycle.group);
            return -1;
        }
    }

    if (euid != 0 && faasd_cycle.sock_gid != getegid()) {
        n = getgroups(FAASD_GROUPS_MAX, groups);

        for (i = 0; i < n; i++) {
            if (groups[i] == faasd_cycle.sock_gid) {
                break;
            }
        }

        if (n <= 0 || i == n) {
            snprintf(errbuf, size, "-g %s: faasd (uid %ld) is not a member "
                     "of this group, so it cannot give it the sockets",
                     faasd_cycle.group, (long) euid);
            return -1;
        }
    }

    return 0;
}


static int
faasd_user_env(int i, const char *name, const char *value)
{
    size_t  len;

    len = strlen(name) + 1 + strlen(value) + 1;

    faasd_cycle.user_env[i] = malloc(len);
    if (faasd_cycle.user_env[i] == NULL) {
        return -1;
    }

    snprintf(faasd_cycle.user_env[i], len, "%s=%s", name, value);

    return 0;
}


static int
faasd_name_to_id(const char *name, long *id)
{
    char  *end;

    if (name[0] < '0' || name[0] > '9') {
        return -1;
    }

    errno = 0;
    *id = strtol(name, &end, 10);

    return (errno || *end != '\0' || *id < 0 || *id >= INT_MAX) ? -1 : 0;
}


/* resolved once: PATH is not searched again at each restart */

static int
faasd_find_node(const char *name, char *errbuf, size_t size)
{
    char         *path, *dir, *end, *real;
    size_t        len;
    struct stat   st;
    const char   *p;

    if (strchr(name, '/') != NULL) {
        real = realpath(name, NULL);
        if (real == NULL) {
            snprintf(errbuf, size, "-n %s: %s", name, strerror(errno));
            return -1;
        }

        if (stat(real, &st) == -1 || !S_ISREG(st.st_mode)
            || access(real, X_OK) == -1)
        {
            snprintf(errbuf, size, "-n %s: not an executable file", name);
            free(real);
            return -1;
        }

        faasd_cycle.node = real;
        return 0;
    }

    p = getenv("PATH");
    if (p == NULL || p[0] == '\0') {
        p = "/usr/local/bin:/usr/bin:/bin";
    }

    path = malloc(strlen(p) + strlen(name) + 2);
    if (path == NULL) {
        snprintf(errbuf, size, "out of memory");
        return -1;
    }

    for ( ;; ) {
        end = strchr(p, ':');
        len = end ? (size_t) (end - p) : strlen(p);

        dir = path;
        if (len) {
            memcpy(dir, p, len);
            dir[len++] = '/';
        }

        strcpy(dir + len, name);

        if (stat(path, &st) == 0 && S_ISREG(st.st_mode)
            && access(path, X_OK) == 0)
        {
            real = realpath(path, NULL);
            if (real) {
                free(path);
                faasd_cycle.node = real;
                return 0;
            }
        }

        if (end == NULL) {
            break;
        }

        p = end + 1;
    }

    free(path);

    snprintf(errbuf, size, "\"%s\" not found in PATH; give its path with -n",
             name);

    return -1;
}


static int
faasd_find_runtime(const char *path, char *errbuf, size_t size)
{
    char         *real;
    struct stat   st;

    real = realpath(path, NULL);

    if (real == NULL || stat(real, &st) == -1 || !S_ISREG(st.st_mode)) {
        snprintf(errbuf, size, "runtime \"%s\": %s", path,
                 real ? "not a regular file" : strerror(errno));
        free(real);
        return -1;
    }

    faasd_cycle.runtime = real;

    return 0;
}


static int
faasd_signals(char *errbuf, size_t size)
{
    sigset_t  set;

    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGUSR1);

    if (sigprocmask(SIG_BLOCK, &set, NULL) == -1) {
        snprintf(errbuf, size, "sigprocmask() failed: %s", strerror(errno));
        return -1;
    }

    faasd_cycle.sigfd = signalfd(-1, &set, SFD_NONBLOCK|SFD_CLOEXEC);
    if (faasd_cycle.sigfd == -1) {
        snprintf(errbuf, size, "signalfd() failed: %s", strerror(errno));
        return -1;
    }

    /* a log reader that went away must not kill the supervisor */
    (void) signal(SIGPIPE, SIG_IGN);

    return 0;
}


static int
faasd_pidfile(char *errbuf, size_t size)
{
    int    fd, n;
    char   buf[32];

    if (faasd_cycle.pidfile == NULL) {
        return 0;
    }

    fd = open(faasd_cycle.pidfile, O_WRONLY|O_CREAT|O_TRUNC|O_NOFOLLOW
              |O_CLOEXEC, 0644);
    if (fd == -1) {
        snprintf(errbuf, size, "cannot write pid file \"%s\": %s",
                 faasd_cycle.pidfile, strerror(errno));
        return -1;
    }

    (void) fchmod(fd, 0644);

    n = snprintf(buf, sizeof(buf), "%ld\n", (long) faasd_cycle.pid);

    if (write(fd, buf, n) != n) {
        snprintf(errbuf, size, "cannot write pid file \"%s\": %s",
                 faasd_cycle.pidfile, strerror(errno));
        close(fd);
        (void) unlink(faasd_cycle.pidfile);
        return -1;
    }

    close(fd);
    faasd_cycle.pidfile_written = 1;

    return 0;
}


static void
faasd_loop(void)
{
    int              timeout, nlog;
    size_t           cap, need, n, nredis, base;
    uint64_t         now, next, t;
    struct pollfd   *pfd, *np;
    faasd_unit_t   **owner, **no;

    pfd = NULL;
    owner = NULL;
    cap = 0;

    for ( ;; ) {
        faasd_workers_sweep();

        if (faasd_cycle.stopping && faasd_cycle.nunits == 0) {
            break;
        }

        need = 4 + 3 * faasd_cycle.nunits;

        if (pfd == NULL || owner == NULL || cap < need) {
            need += 16;

            np = realloc(pfd, need * sizeof(struct pollfd));
            if (np != NULL) {
                pfd = np;
            }

            no = realloc(owner, need * sizeof(faasd_unit_t *));
            if (no != NULL) {
                owner = no;
            }

            if (np != NULL && no != NULL) {
                cap = need;

            } else {
                /* the arrays as they were still serve some of the fds */
                faasd_log(FAASD_LOG_ERR, "out of memory for poll()");

                if (cap == 0 || pfd == NULL || owner == NULL) {
                    (void) poll(NULL, 0, 100);
                    continue;
                }
            }
        }

        pfd[0].fd = faasd_cycle.sigfd;
        pfd[0].events = POLLIN;
        pfd[0].revents = 0;
        base = 1;
        nlog = 0;

        if (faasd_log_pending()) {
            pfd[1].fd = faasd_log_fd();
            pfd[1].events = POLLOUT;
            pfd[1].revents = 0;
            base = 2;
            nlog = 1;
        }

        nredis = faasd_redis_poll_fill(pfd + base, cap - base);
        base += nredis;

        n = faasd_workers_poll_fill(pfd + base, owner + base, cap - base);

        now = faasd_msec();
        next = faasd_workers_next_timer();
        t = faasd_redis_next_timer();

        if (t && (next == 0 || t < next)) {
            next = t;
        }

        if (next == 0) {
            timeout = -1;

        } else if (next <= now) {
            timeout = 0;

        } else {
            timeout = (next - now > INT_MAX) ? INT_MAX : (int) (next - now);
        }

        if (poll(pfd, base + n, timeout) == -1) {
            if (errno != EINTR) {
                faasd_log(FAASD_LOG_ERR, "poll() failed: %s",
                          strerror(errno));
                (void) poll(NULL, 0, 100);
            }

            continue;
        }

        if (nlog && pfd[1].revents) {
            faasd_log_write();
        }

        faasd_workers_poll_handle(pfd + base, owner + base, n);

        if (pfd[0].revents) {
            faasd_signal_read();
        }

        faasd_redis_poll_handle(pfd + base - nredis, nredis);

        /* the workers' first: what they change is registered at once */
        now = faasd_msec();
        faasd_workers_timers(now);
        faasd_redis_timers(now);

        faasd_notify_settled();
    }

    free(pfd);
    free(owner);
}


static void
faasd_signal_read(void)
{
    int                      hup, stop, chld, usr1;
    size_t                   i;
    ssize_t                  n;
    struct signalfd_siginfo  si[16];

    hup = stop = chld = usr1 = 0;

    for ( ;; ) {
        n = read(faasd_cycle.sigfd, si, sizeof(si));

        if (n == -1 && errno == EINTR) {
            continue;
        }

        if (n <= 0) {
            break;
        }

        for (i = 0; i < n / sizeof(si[0]); i++) {
            switch (si[i].ssi_signo) {

            case SIGCHLD:
                chld = 1;
                break;

            case SIGHUP:
                hup = 1;
                break;

            case SIGUSR1:
                usr1 = 1;
                break;

            default:
                stop = si[i].ssi_signo;
                break;
            }
        }
    }

    /* first the exits, so a reload or a stop sees who is still there */
    if (chld) {
        faasd_workers_reap();
    }

    if (usr1) {
        (void) faasd_log_reopen();
    }

    if (stop) {
        if (!faasd_cycle.stopping) {
            faasd_notify("STOPPING=1\nSTATUS=stopping, draining the "
                         "workers");
        }

        faasd_workers_stop(stop);
    }

    if (hup && !faasd_cycle.stopping) {
        faasd_reload();
    }
}


/*
 * A manifest that does not load leaves everything running as it is; the
 * Redis table is read again either way.
 */

static void
faasd_reload(void)
{
    char           err[1024];
    faasd_fnset_t  set;

    faasd_log(FAASD_LOG_NOTICE, "SIGHUP: reloading the manifests%s",
              faasd_cycle.redis ? " and the Redis table" : "");

    /* READY=1 follows once the replacements are ready or dropped */
    faasd_notify_reloading();
    faasd_cycle.notify_ready = 1;

    faasd_redis_reload();

    if (faasd_conf_load(faasd_cycle.globs, faasd_cycle.nglobs,
                        faasd_cycle.sockdir, &set, err, sizeof(err))
        != 0)
    {
        faasd_log(FAASD_LOG_ERR, "reload failed, nothing changed: %s", err);
        return;
    }

    if (faasd_conf_access(&set, err, sizeof(err)) != 0) {
        faasd_log(FAASD_LOG_ERR, "reload failed, nothing changed: %s", err);
        faasd_conf_free(&set);
        return;
    }

    faasd_workers_apply(&set, &faasd_cycle.versions);

    faasd_conf_free(&faasd_cycle.fns);
    faasd_cycle.fns = set;

    faasd_log(FAASD_LOG_NOTICE, "reloaded: %zu functions, replacing their "
              "workers", set.n);
}


/*
 * READY=1 once every worker of the start or of a reload is ready or has
 * failed once; the Redis table's versions, read later, do not hold it.
 */

static void
faasd_notify_settled(void)
{
    size_t         nready;
    faasd_unit_t  *u;

    if (!faasd_cycle.notify_ready || faasd_cycle.stopping
        || !faasd_workers_settled())
    {
        return;
    }

    faasd_cycle.notify_ready = 0;
    nready = 0;

    for (u = faasd_cycle.units; u; u = u->next) {
        if (u->slot != NULL && u->state == FAASD_RUNNING) {
            nready++;
        }
    }

    faasd_notify("READY=1\nSTATUS=%zu functions, %zu workers ready",
                 faasd_cycle.fns.n + faasd_cycle.versions.n, nready);
}


static void
faasd_fatal(const char *fmt, ...)
{
    char     msg[1024];
    va_list  args;

    va_start(args, fmt);
    vsnprintf(msg, sizeof(msg), fmt, args);
    va_end(args);

    fprintf(stderr, "faasd: %s\n", msg);

    if (faasd_cycle.logfile && faasd_log_fd() > 2) {
        faasd_log(FAASD_LOG_EMERG, "%s", msg);
    }
}


static void
faasd_cleanup(void)
{
    int  i;

    faasd_redis_close();
    faasd_workers_free();
    faasd_conf_free(&faasd_cycle.fns);
    faasd_conf_free(&faasd_cycle.versions);

    if (faasd_cycle.pidfile_written) {
        (void) unlink(faasd_cycle.pidfile);
        faasd_cycle.pidfile_written = 0;
    }

    if (faasd_cycle.lockfd != -1) {
        close(faasd_cycle.lockfd);
        faasd_cycle.lockfd = -1;
    }

    if (faasd_cycle.sigfd != -1) {
        close(faasd_cycle.sigfd);
        faasd_cycle.sigfd = -1;
    }

    if (faasd_cycle.devnull != -1) {
        close(faasd_cycle.devnull);
        faasd_cycle.devnull = -1;
    }

    faasd_notify_close();
    faasd_log_close();

    free(faasd_cycle.globs);
    free(faasd_cycle.sockdir);
    free(faasd_cycle.node);
    free(faasd_cycle.runtime);

    for (i = 0; i < 3; i++) {
        free(faasd_cycle.user_env[i]);
        faasd_cycle.user_env[i] = NULL;
    }

    faasd_cycle.globs = NULL;
    faasd_cycle.sockdir = NULL;
    faasd_cycle.node = NULL;
    faasd_cycle.runtime = NULL;
}
