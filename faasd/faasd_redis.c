/*
 * Copyright (C) ngx_faas authors
 *
 * faasd's Redis mode (docs/redis.md, docs/faasd.md): faasd runs every
 * version of the table in force and keeps the endpoints of their ready
 * workers registered.  faasd owns the two sockets (commands, and one
 * subscribed to the events channel), non-blocking in its poll() loop;
 * hiredis only formats commands and parses replies, so nothing here
 * ever waits on Redis, and every reply awaited has a deadline.
 */


#define _GNU_SOURCE

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <hiredis/hiredis.h>

#include "faasd.h"


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
    unsigned             force:1;       /* SIGHUP: fetch the table again */
    unsigned             fetching:1;
    unsigned             applied:1;
    unsigned             rejected:1;
    unsigned             unset_logged:1;
    unsigned             ep_failed:1;

    char                 down_why[256]; /* logged while down */
    char                 gen_why[256];  /* logged for P:generation */

    unsigned             backoff;
    unsigned             beat_ms;
    uint64_t             retry;         /* next connect, 0 when none */
    uint64_t             next_check;
    uint64_t             next_beat;

    uint64_t             fetching_gen;
    uint64_t             applied_gen;
    uint64_t             rejected_gen;
    char                 fetching_epoch[FAAS_TABLE_EPOCH_MAX + 1];
    char                 applied_epoch[FAAS_TABLE_EPOCH_MAX + 1];
    char                 rejected_epoch[FAAS_TABLE_EPOCH_MAX + 1];

    faasd_redis_ep_t    *eps;
    size_t               neps;
    size_t               eps_cap;
} faasd_redis_t;


static void faasd_redis_connect(void);
static int faasd_redis_open(faasd_redis_conn_t *c, char *why, size_t size);
static int faasd_redis_open_tcp(int *fd, char *why, size_t size);
static int faasd_redis_open_unix(int *fd, char *why, size_t size);
static int faasd_redis_open_fd(const struct sockaddr *sa, socklen_t len,
    int *fd, char *why, size_t size);
static void faasd_redis_handshake(faasd_redis_conn_t *c);
static void faasd_redis_link_up(void);
static void faasd_redis_fail(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static void faasd_redis_conn_close(faasd_redis_conn_t *c);
static void faasd_redis_event(faasd_redis_conn_t *c, short revents);
static void faasd_redis_read(faasd_redis_conn_t *c);
static void faasd_redis_write(faasd_redis_conn_t *c);
static int faasd_redis_send(faasd_redis_conn_t *c, faasd_redis_cmd_e cmd,
    uint64_t generation, const char *epoch, int argc, const char **argv);
static void faasd_redis_reply(faasd_redis_conn_t *c, redisReply *r);
static void faasd_redis_check(void);
static void faasd_redis_generation(redisReply *r);
static void faasd_redis_table(uint64_t generation, const char *epoch,
    redisReply *r);
static void faasd_redis_reject(uint64_t generation, const char *epoch);
static void faasd_redis_endpoints(int beat);
static faasd_redis_ep_t *faasd_redis_ep(const char *key, const char *member);
static void faasd_redis_beat(uint64_t now_ms);
static int faasd_redis_is(const redisReply *r, const char *s);
static const char *faasd_redis_text(const char *s, size_t len, char *buf,
    size_t size);
static uint64_t faasd_redis_wall_ms(void);


static faasd_redis_t  faasd_redis;


int
faasd_redis_init(char *errbuf, size_t size)
{
    char           text[128];
    faas_error_t   err;
    const char    *p;

    faasd_redis.cmd.fd = -1;
    faasd_redis.sub.fd = -1;
    faasd_redis.cmd.name = "commands";
    faasd_redis.sub.name = "events";
    faasd_redis.inited = 1;

    if (faasd_cycle.redis == NULL) {
        return 0;
    }

    memset(&err, 0, sizeof(err));

    if (faas_redis_url_parse(faasd_cycle.redis, &faasd_redis.url, &err)
        != FAAS_OK)
    {
        faas_error_format(&err, errbuf, size);
        return -1;
    }

    for (p = faasd_cycle.prefix; *p; p++) {
        if ((unsigned char) *p <= ' ' || *p == 0x7f) {
            break;
        }
    }

    if (faasd_cycle.prefix[0] == '\0' || *p != '\0'
        || strlen(faasd_cycle.prefix) > FAAS_REDIS_PREFIX_MAX
        || faas_key_generation(faasd_redis.key_generation, FAAS_KEY_MAX,
                               faasd_cycle.prefix) == 0
        || faas_key_epoch(faasd_redis.key_epoch, FAAS_KEY_MAX,
                          faasd_cycle.prefix) == 0
        || faas_key_events(faasd_redis.key_events, FAAS_KEY_MAX,
                           faasd_cycle.prefix) == 0)
    {
        snprintf(errbuf, size, "-P: invalid key prefix \"%s\": 1 to %d "
                 "printable characters without spaces",
                 faasd_redis_text(faasd_cycle.prefix,
                                  strlen(faasd_cycle.prefix), text,
                                  sizeof(text)),
                 FAAS_REDIS_PREFIX_MAX);
        return -1;
    }

    if (faasd_cycle.sockdir && faasd_cycle.sockdir[0] != '/') {
        faasd_redis.cwd = getcwd(NULL, 0);
        if (faasd_redis.cwd == NULL) {
            snprintf(errbuf, size, "getcwd() failed: %s", strerror(errno));
            return -1;
        }
    }

    faasd_redis.beat_ms = faasd_cycle.endpoint_ttl * 3 / 10;
    if (faasd_redis.beat_ms < 50) {
        faasd_redis.beat_ms = 50;
    }

    faasd_redis.backoff = FAASD_REDIS_BACKOFF_MIN_MS;
    faasd_redis.retry = faasd_msec();

    return 0;
}


size_t
faasd_redis_poll_fill(struct pollfd *pfd, size_t max)
{
    size_t               n, i;
    faasd_redis_conn_t  *c, *conns[2];

    conns[0] = &faasd_redis.cmd;
    conns[1] = &faasd_redis.sub;
    n = 0;

    for (i = 0; i < 2 && n < max; i++) {
        c = conns[i];

        if (c->fd == -1) {
            continue;
        }

        pfd[n].fd = c->fd;
        pfd[n].events = POLLIN;
        pfd[n].revents = 0;

        if (c->connecting || c->out_pos < c->out_len) {
            pfd[n].events |= POLLOUT;
        }

        n++;
    }

    return n;
}


/* a failure closes both sockets: the entries after it are stale */

void
faasd_redis_poll_handle(struct pollfd *pfd, size_t n)
{
    size_t    i;
    unsigned  epoch;

    epoch = faasd_redis.epoch;

    for (i = 0; i < n && epoch == faasd_redis.epoch; i++) {
        if (pfd[i].revents == 0) {
            continue;
        }

        if (pfd[i].fd == faasd_redis.cmd.fd) {
            faasd_redis_event(&faasd_redis.cmd, pfd[i].revents);

        } else if (pfd[i].fd == faasd_redis.sub.fd) {
            faasd_redis_event(&faasd_redis.sub, pfd[i].revents);
        }
    }
}


void
faasd_redis_timers(uint64_t now)
{
    size_t               i;
    faasd_redis_conn_t  *c, *conns[2];

    if (faasd_cycle.redis == NULL) {
        return;
    }

    conns[0] = &faasd_redis.cmd;
    conns[1] = &faasd_redis.sub;

    if (faasd_redis.cmd.fd == -1 && faasd_redis.retry
        && faasd_redis.retry <= now && !faasd_cycle.stopping)
    {
        faasd_redis_connect();
    }

    for (i = 0; i < 2; i++) {
        c = conns[i];

        if (c->fd != -1 && c->deadline && c->deadline <= now) {
            if (c->ready) {
                faasd_redis_fail("no reply on the %s connection within "
                                 "%d ms", c->name, FAASD_REDIS_REPLY_MS);
            } else {
                faasd_redis_fail("%s connection not ready within %d ms",
                                 c->name, FAASD_REDIS_CONNECT_MS);
            }

            break;
        }
    }

    if (faasd_redis.up && faasd_redis.next_check <= now
        && !faasd_cycle.stopping)
    {
        faasd_redis.next_check = now + FAASD_REDIS_CHECK_MS;

        faasd_redis_check();

        /* the events connection is otherwise silent: is it alive? */
        if (faasd_redis.sub.wait_len == faasd_redis.sub.wait_head) {
            (void) faasd_redis_send(&faasd_redis.sub, FAASD_REDIS_PING, 0,
                                    NULL, 1, (const char *[]) { "PING" });
        }
    }

    if (faasd_cycle.endpoints_changed) {
        faasd_cycle.endpoints_changed = 0;
        faasd_redis_endpoints(0);
    }

    if (faasd_redis.up && faasd_redis.next_beat <= now) {
        faasd_redis.next_beat = now + faasd_redis.beat_ms;
        faasd_redis_endpoints(1);
    }

    /* what was queued in this turn of the loop goes out now */
    for (i = 0; i < 2; i++) {
        c = conns[i];

        if (c->fd != -1 && !c->connecting && c->out_pos < c->out_len) {
            faasd_redis_write(c);
        }
    }
}


uint64_t
faasd_redis_next_timer(void)
{
    size_t               i;
    uint64_t             t;
    faasd_redis_conn_t  *c, *conns[2];

    if (faasd_cycle.redis == NULL) {
        return 0;
    }

    conns[0] = &faasd_redis.cmd;
    conns[1] = &faasd_redis.sub;
    t = 0;

    if (faasd_redis.cmd.fd == -1 && faasd_redis.retry) {
        t = faasd_redis.retry;
    }

    for (i = 0; i < 2; i++) {
        c = conns[i];

        if (c->fd != -1 && c->deadline && (t == 0 || c->deadline < t)) {
            t = c->deadline;
        }
    }

    if (faasd_redis.up) {
        if (t == 0 || faasd_redis.next_check < t) {
            t = faasd_redis.next_check;
        }

        if (faasd_redis.next_beat < t) {
            t = faasd_redis.next_beat;
        }
    }

    return t;
}


/* SIGHUP: the table in force is read again, whatever its generation */

void
faasd_redis_reload(void)
{
    if (faasd_cycle.redis == NULL) {
        return;
    }

    faasd_redis.force = 1;
    faasd_redis.rejected = 0;

    if (faasd_redis.up) {
        faasd_redis_check();
    }
}


/*
 * At exit: the ZREMs of the last workers are sent, and their replies
 * awaited a moment, so that Redis has them before the socket closes.
 */

void
faasd_redis_close(void)
{
    int                  ms;
    size_t               i;
    uint64_t             now, until;
    struct pollfd        pfd;
    faasd_redis_conn_t  *c;

    if (faasd_cycle.redis == NULL || !faasd_redis.inited) {
        return;
    }

    c = &faasd_redis.cmd;

    if (faasd_redis.up) {
        faasd_cycle.endpoints_changed = 0;
        faasd_redis_endpoints(0);
    }

    until = faasd_msec() + FAASD_REDIS_CLOSE_MS;

    while (faasd_redis.up && c->fd != -1
           && (c->out_pos < c->out_len || c->wait_head < c->wait_len))
    {
        now = faasd_msec();
        if (now >= until) {
            break;
        }

        ms = (int) (until - now);

        pfd.fd = c->fd;
        pfd.events = POLLIN;
        pfd.revents = 0;

        if (c->out_pos < c->out_len) {
            pfd.events |= POLLOUT;
        }

        if (poll(&pfd, 1, ms) == -1 && errno != EINTR) {
            break;
        }

        if (pfd.revents) {
            faasd_redis_event(c, pfd.revents);
        }
    }

    faasd_redis_conn_close(&faasd_redis.cmd);
    faasd_redis_conn_close(&faasd_redis.sub);

    for (i = 0; i < faasd_redis.neps; i++) {
        free(faasd_redis.eps[i].key);
        free(faasd_redis.eps[i].member);
    }

    free(faasd_redis.eps);
    free(faasd_redis.cwd);
    faas_redis_url_free(&faasd_redis.url);

    faasd_redis.eps = NULL;
    faasd_redis.neps = 0;
    faasd_redis.cwd = NULL;
    faasd_redis.up = 0;
    faasd_redis.inited = 0;
}


static void
faasd_redis_connect(void)
{
    char      why[256];
    unsigned  epoch;

    faasd_redis.retry = 0;
    faasd_redis.addr++;
    epoch = faasd_redis.epoch;

    if (faasd_redis_open(&faasd_redis.cmd, why, sizeof(why)) != 0) {
        faasd_redis_fail("%s", why);
        return;
    }

    /* the handshake failed already (out of memory) */
    if (epoch != faasd_redis.epoch) {
        return;
    }

    if (faasd_redis_open(&faasd_redis.sub, why, sizeof(why)) != 0) {
        faasd_redis_fail("%s", why);
    }
}


static int
faasd_redis_open(faasd_redis_conn_t *c, char *why, size_t size)
{
    int  fd, rc;

    fd = -1;

    rc = faasd_redis.url.path ? faasd_redis_open_unix(&fd, why, size)
                              : faasd_redis_open_tcp(&fd, why, size);
    if (rc == -1) {
        return -1;
    }

    c->reader = redisReaderCreate();
    if (c->reader == NULL) {
        close(fd);
        snprintf(why, size, "out of memory");
        return -1;
    }

    c->fd = fd;
    c->ready = 0;
    c->handshake = 0;
    c->connecting = (rc == FAAS_AGAIN);
    c->deadline = faasd_msec() + FAASD_REDIS_CONNECT_MS;

    if (!c->connecting) {
        faasd_redis_handshake(c);
    }

    return 0;
}


/*
 * Names are resolved with getaddrinfo(), which may block on DNS: give
 * an address, or a name /etc/hosts knows.  Each attempt takes the next
 * address, so a host with an IPv6 and an IPv4 address works on either.
 */

static int
faasd_redis_open_tcp(int *fd, char *why, size_t size)
{
    int               rc, n;
    char              port[16];
    struct addrinfo   hints, *res, *ai;

    snprintf(port, sizeof(port), "%u", faasd_redis.url.port);

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;

    rc = getaddrinfo(faasd_redis.url.host, port, &hints, &res);
    if (rc != 0) {
        snprintf(why, size, "cannot resolve \"%s\": %s",
                 faasd_redis.url.host, gai_strerror(rc));
        return -1;
    }

    for (n = 0, ai = res; ai; ai = ai->ai_next) {
        n++;
    }

    for (ai = res, n = faasd_redis.addr % n; n > 0; n--) {
        ai = ai->ai_next;
    }

    rc = faasd_redis_open_fd(ai->ai_addr, ai->ai_addrlen, fd, why, size);

    freeaddrinfo(res);

    return rc;
}


static int
faasd_redis_open_unix(int *fd, char *why, size_t size)
{
    size_t              len;
    struct sockaddr_un  sa;

    len = strlen(faasd_redis.url.path);

    if (len >= sizeof(sa.sun_path)) {
        snprintf(why, size, "socket path too long");
        return -1;
    }

    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, faasd_redis.url.path, len + 1);

    return faasd_redis_open_fd((struct sockaddr *) &sa, sizeof(sa), fd, why,
                               size);
}


/* a non-blocking connect(): FAAS_OK, FAAS_AGAIN while in progress, or -1 */

static int
faasd_redis_open_fd(const struct sockaddr *sa, socklen_t len, int *fd,
    char *why, size_t size)
{
    int  s, on;

    s = socket(sa->sa_family, SOCK_STREAM|SOCK_NONBLOCK|SOCK_CLOEXEC, 0);
    if (s == -1) {
        snprintf(why, size, "socket() failed: %s", strerror(errno));
        return -1;
    }

    if (sa->sa_family != AF_UNIX) {
        on = 1;
        (void) setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
        (void) setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
    }

    if (connect(s, sa, len) == 0) {
        *fd = s;
        return FAAS_OK;
    }

    if (errno == EINPROGRESS) {
        *fd = s;
        return FAAS_AGAIN;
    }

    snprintf(why, size, "connect() failed: %s", strerror(errno));
    close(s);

    return -1;
}


/* AUTH and SELECT as the URL says; the events connection subscribes */

static void
faasd_redis_handshake(faasd_redis_conn_t *c)
{
    int                argc;
    char               db[16];
    const char        *argv[3];
    faas_redis_url_t  *u;

    u = &faasd_redis.url;

    if (u->password) {
        argc = 0;
        argv[argc++] = "AUTH";

        if (u->user) {
            argv[argc++] = u->user;
        }

        argv[argc++] = u->password;

        if (faasd_redis_send(c, FAASD_REDIS_AUTH, 0, NULL, argc, argv)
            != 0)
        {
            return;
        }

        c->handshake++;
    }

    if (c == &faasd_redis.cmd && u->db) {
        snprintf(db, sizeof(db), "%u", u->db);

        if (faasd_redis_send(c, FAASD_REDIS_SELECT, 0, NULL, 2,
                             (const char *[]) { "SELECT", db })
            != 0)
        {
            return;
        }

        c->handshake++;
    }

    /* channels know no databases */
    if (c == &faasd_redis.sub) {
        if (faasd_redis_send(c, FAASD_REDIS_SUBSCRIBE, 0, NULL, 2,
                             (const char *[]) { "SUBSCRIBE",
                                                faasd_redis.key_events })
            != 0)
        {
            return;
        }

        c->handshake++;
    }

    if (c->handshake == 0) {
        c->ready = 1;
        faasd_redis_link_up();
    }
}


static void
faasd_redis_link_up(void)
{
    uint64_t  now;

    if (faasd_redis.up || !faasd_redis.cmd.ready || !faasd_redis.sub.ready) {
        return;
    }

    faasd_redis.up = 1;
    faasd_redis.backoff = FAASD_REDIS_BACKOFF_MIN_MS;
    faasd_redis.down_why[0] = '\0';

    faasd_log(FAASD_LOG_NOTICE, "redis: %s %s",
              faasd_redis.ever_up ? "reconnected to" : "connected to",
              faasd_redis.url.safe);

    faasd_redis.ever_up = 1;

    /* what changed while down: the generation, and the endpoints */
    now = faasd_msec();
    faasd_redis.next_check = now;
    faasd_redis.next_beat = now;
}


/*
 * Both connections go, whichever failed: one link, one state to log.
 * Logged once per change: "connection lost" when it was up, then each
 * new reason a connection attempt fails for.
 */

static void
faasd_redis_fail(const char *fmt, ...)
{
    char     why[256];
    va_list  args;

    va_start(args, fmt);
    vsnprintf(why, sizeof(why), fmt, args);
    va_end(args);

    faasd_redis_conn_close(&faasd_redis.cmd);
    faasd_redis_conn_close(&faasd_redis.sub);

    faasd_redis.epoch++;
    faasd_redis.checking = 0;
    faasd_redis.fetching = 0;
    faasd_redis.recheck = 0;

    if (faasd_redis.up) {
        faasd_redis.up = 0;
        faasd_log(FAASD_LOG_ERR, "redis: connection lost: %s; reconnecting",
                  why);
        snprintf(faasd_redis.down_why, sizeof(faasd_redis.down_why), "%s",
                 why);

    } else if (strcmp(why, faasd_redis.down_why) != 0) {
        faasd_log(FAASD_LOG_ERR, "redis: cannot connect to %s: %s; "
                  "retrying", faasd_redis.url.safe, why);
        snprintf(faasd_redis.down_why, sizeof(faasd_redis.down_why), "%s",
                 why);
    }

    faasd_redis.retry = faasd_msec() + faasd_redis.backoff;

    faasd_redis.backoff *= 2;
    if (faasd_redis.backoff > FAASD_REDIS_BACKOFF_MAX_MS) {
        faasd_redis.backoff = FAASD_REDIS_BACKOFF_MAX_MS;
    }
}


static void
faasd_redis_conn_close(faasd_redis_conn_t *c)
{
    if (c->fd != -1) {
        (void) close(c->fd);
        c->fd = -1;
    }

    if (c->reader) {
        redisReaderFree(c->reader);
        c->reader = NULL;
    }

    free(c->out);
    free(c->wait);

    c->out = NULL;
    c->out_pos = 0;
    c->out_len = 0;
    c->out_cap = 0;
    c->wait = NULL;
    c->wait_head = 0;
    c->wait_len = 0;
    c->wait_cap = 0;
    c->connecting = 0;
    c->ready = 0;
    c->handshake = 0;
    c->deadline = 0;
}


static void
faasd_redis_event(faasd_redis_conn_t *c, short revents)
{
    int        err;
    unsigned   epoch;
    socklen_t  len;

    epoch = faasd_redis.epoch;

    if (c->connecting) {
        if (!(revents & (POLLOUT|POLLERR|POLLHUP))) {
            return;
        }

        err = 0;
        len = sizeof(err);

        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1) {
            err = errno;
        }

        if (err) {
            faasd_redis_fail("connect() failed: %s", strerror(err));
            return;
        }

        c->connecting = 0;
        faasd_redis_handshake(c);

        if (epoch != faasd_redis.epoch) {
            return;
        }
    }

    if (revents & (POLLIN|POLLERR|POLLHUP)) {
        faasd_redis_read(c);

        if (epoch != faasd_redis.epoch) {
            return;
        }
    }

    if (c->out_pos < c->out_len) {
        faasd_redis_write(c);
    }
}


/*
 * poll() is level-triggered: what is left after a bounded number of
 * reads is read at the next turn of the loop.
 */

static void
faasd_redis_read(faasd_redis_conn_t *c)
{
    int           rc;
    void         *reply;
    ssize_t       n;
    unsigned      i, epoch;

    static char   buf[FAASD_REDIS_READ_SIZE];

    epoch = faasd_redis.epoch;

    for (i = 0; i < FAASD_REDIS_READS; i++) {
        n = recv(c->fd, buf, sizeof(buf), 0);

        if (n == -1 && errno == EINTR) {
            continue;
        }

        if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return;
        }

        if (n == 0) {
            faasd_redis_fail("the server closed the %s connection",
                             c->name);
            return;
        }

        if (n == -1) {
            faasd_redis_fail("recv() failed on the %s connection: %s",
                             c->name, strerror(errno));
            return;
        }

        if (redisReaderFeed(c->reader, buf, n) != REDIS_OK) {
            faasd_redis_fail("out of memory");
            return;
        }

        if (c->reader->len > FAASD_REDIS_REPLY_MAX) {
            faasd_redis_fail("a reply on the %s connection is larger than "
                             "%zu bytes", c->name, FAASD_REDIS_REPLY_MAX);
            return;
        }

        if (c->wait_head < c->wait_len) {
            c->deadline = faasd_msec() + FAASD_REDIS_REPLY_MS;
        }

        for ( ;; ) {
            reply = NULL;
            rc = redisReaderGetReply(c->reader, &reply);

            if (rc != REDIS_OK) {
                faasd_redis_fail("protocol error on the %s connection: %s",
                                 c->name, c->reader->errstr);
                return;
            }

            if (reply == NULL) {
                break;
            }

            faasd_redis_reply(c, reply);
            freeReplyObject(reply);

            if (epoch != faasd_redis.epoch) {
                return;
            }
        }
    }
}


static void
faasd_redis_write(faasd_redis_conn_t *c)
{
    ssize_t  n;

    while (c->out_pos < c->out_len) {
        n = send(c->fd, c->out + c->out_pos, c->out_len - c->out_pos,
                 MSG_NOSIGNAL);

        if (n == -1 && errno == EINTR) {
            continue;
        }

        if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return;
        }

        if (n == -1) {
            faasd_redis_fail("send() failed on the %s connection: %s",
                             c->name, strerror(errno));
            return;
        }

        c->out_pos += n;
    }

    c->out_pos = 0;
    c->out_len = 0;
}


/* queues a command; it goes out from the poll loop */

static int
faasd_redis_send(faasd_redis_conn_t *c, faasd_redis_cmd_e cmd,
    uint64_t generation, const char *epoch, int argc, const char **argv)
{
    int                  len;
    char                *s, *p;
    size_t               cap;
    faasd_redis_wait_t  *w;

    len = redisFormatCommandArgv(&s, argc, argv, NULL);
    if (len < 0) {
        goto nomem;
    }

    if (c->out_len + len > c->out_cap) {
        cap = c->out_cap ? c->out_cap : 4096;

        while (cap < c->out_len + len) {
            cap *= 2;
        }

        p = realloc(c->out, cap);
        if (p == NULL) {
            redisFreeCommand(s);
            goto nomem;
        }

        c->out = p;
        c->out_cap = cap;
    }

    memcpy(c->out + c->out_len, s, len);
    c->out_len += len;
    redisFreeCommand(s);

    if (c->wait_len == c->wait_cap) {
        if (c->wait_head > 0) {
            memmove(c->wait, c->wait + c->wait_head,
                    (c->wait_len - c->wait_head) * sizeof(*w));
            c->wait_len -= c->wait_head;
            c->wait_head = 0;

        } else {
            cap = c->wait_cap ? c->wait_cap * 2 : 16;

            w = realloc(c->wait, cap * sizeof(*w));
            if (w == NULL) {
                goto nomem;
            }

            c->wait = w;
            c->wait_cap = cap;
        }
    }

    if (c->wait_head == c->wait_len && c->ready) {
        c->deadline = faasd_msec() + FAASD_REDIS_REPLY_MS;
    }

    w = &c->wait[c->wait_len++];
    w->cmd = cmd;
    w->generation = generation;
    (void) snprintf(w->epoch, sizeof(w->epoch), "%s", epoch ? epoch : "");

    return 0;

nomem:

    /* a command lost would shift every reply after it */
    faasd_redis_fail("out of memory");

    return -1;
}


static void
faasd_redis_reply(faasd_redis_conn_t *c, redisReply *r)
{
    char                text[160];
    faasd_redis_wait_t  w;

    /* a message published on the events channel, whatever it says */
    if (c == &faasd_redis.sub && r->type == REDIS_REPLY_ARRAY
        && r->elements == 3 && faasd_redis_is(r->element[0], "message"))
    {
        faasd_redis_check();
        return;
    }

    if (c->wait_head == c->wait_len) {
        faasd_redis_fail("unexpected reply on the %s connection", c->name);
        return;
    }

    w = c->wait[c->wait_head++];

    if (c->wait_head == c->wait_len) {
        c->wait_head = 0;
        c->wait_len = 0;
        c->deadline = 0;
    }

    switch (w.cmd) {

    case FAASD_REDIS_AUTH:
    case FAASD_REDIS_SELECT:
    case FAASD_REDIS_SUBSCRIBE:
        if (r->type == REDIS_REPLY_ERROR) {
            faasd_redis_fail("%s failed: %s",
                             w.cmd == FAASD_REDIS_AUTH ? "AUTH"
                             : w.cmd == FAASD_REDIS_SELECT ? "SELECT"
                             : "SUBSCRIBE",
                             faasd_redis_text(r->str, r->len, text,
                                              sizeof(text)));
            return;
        }

        if (--c->handshake == 0) {
            c->ready = 1;
            c->deadline = 0;
            faasd_redis_link_up();
        }

        return;

    case FAASD_REDIS_PING:
        if (r->type == REDIS_REPLY_ERROR) {
            faasd_redis_fail("PING failed: %s",
                             faasd_redis_text(r->str, r->len, text,
                                              sizeof(text)));
        }

        return;

    case FAASD_REDIS_GENERATION:
        faasd_redis_generation(r);
        return;

    case FAASD_REDIS_TABLE:
        faasd_redis_table(w.generation, w.epoch, r);
        return;

    case FAASD_REDIS_ENDPOINTS:
        if (r->type != REDIS_REPLY_ERROR) {
            faasd_redis.ep_failed = 0;
            return;
        }

        if (!faasd_redis.ep_failed) {
            faasd_redis.ep_failed = 1;
            faasd_log(FAASD_LOG_ERR, "redis: updating endpoints failed: %s",
                      faasd_redis_text(r->str, r->len, text, sizeof(text)));
        }

        return;

    case FAASD_REDIS_FAILURE:
        if (r->type == REDIS_REPLY_ERROR) {
            faasd_log(FAASD_LOG_ERR, "redis: reporting a start failure "
                      "failed: %s",
                      faasd_redis_text(r->str, r->len, text, sizeof(text)));
        }

        return;
    }
}


/* one GET P:generation at a time; an event meanwhile asks for another */

static void
faasd_redis_check(void)
{
    if (faasd_cycle.stopping) {
        return;
    }

    if (faasd_redis.checking) {
        faasd_redis.recheck = 1;
        return;
    }

    if (faasd_redis_send(&faasd_redis.cmd, FAASD_REDIS_GENERATION, 0, NULL,
                         3, (const char *[]) { "MGET",
                                               faasd_redis.key_generation,
                                               faasd_redis.key_epoch })
        == 0)
    {
        faasd_redis.checking = 1;
    }
}


static void
faasd_redis_generation(redisReply *mget)
{
    char         key[FAAS_KEY_MAX], text[160], why[256];
    char         epoch[FAAS_TABLE_EPOCH_MAX + 1];
    uint64_t     g;
    redisReply  *r, *e;

    faasd_redis.checking = 0;

    if (faasd_cycle.stopping) {
        return;
    }

    why[0] = '\0';
    epoch[0] = '\0';
    g = 0;

    if (mget->type == REDIS_REPLY_ARRAY && mget->elements == 2) {
        r = mget->element[0];
        e = mget->element[1];

    } else {
        /* an error: said below */
        r = mget;
        e = NULL;
    }

    if (r->type == REDIS_REPLY_NIL) {
        if (!faasd_redis.unset_logged) {
            faasd_redis.unset_logged = 1;

            if (faasd_redis.applied) {
                faasd_log(FAASD_LOG_WARN, "redis: \"%s\" is not set; "
                          "keeping generation %llu",
                          faasd_redis.key_generation,
                          (unsigned long long) faasd_redis.applied_gen);
            } else {
                faasd_log(FAASD_LOG_NOTICE, "redis: \"%s\" is not set: no "
                          "table yet", faasd_redis.key_generation);
            }
        }

        goto done;
    }

    faasd_redis.unset_logged = 0;

    if (r->type == REDIS_REPLY_ERROR) {
        snprintf(why, sizeof(why), "%s",
                 faasd_redis_text(r->str, r->len, text, sizeof(text)));

    } else if (r->type != REDIS_REPLY_STRING) {
        snprintf(why, sizeof(why), "not a generation number");

    } else if (faas_table_generation_parse(r->str, r->len, &g) != FAAS_OK) {
        snprintf(why, sizeof(why), "not a generation number: \"%s\"",
                 faasd_redis_text(r->str, r->len, text, sizeof(text)));
    }

    if (why[0] == '\0' && e != NULL && e->type == REDIS_REPLY_STRING
        && faas_table_epoch_valid(e->str, e->len))
    {
        memcpy(epoch, e->str, e->len);
        epoch[e->len] = '\0';

    } else if (why[0] == '\0' && (e == NULL || e->type != REDIS_REPLY_NIL)) {
        snprintf(why, sizeof(why), "the epoch beside it is not 1 to %d "
                 "letters or digits", FAAS_TABLE_EPOCH_MAX);
    }

    if (why[0]) {
        if (strcmp(why, faasd_redis.gen_why) != 0) {
            faasd_log(FAASD_LOG_ERR, "redis: \"%s\": %s; keeping %s",
                      faasd_redis.key_generation, why,
                      faasd_redis.applied ? "the table in force"
                                          : "no table");
            snprintf(faasd_redis.gen_why, sizeof(faasd_redis.gen_why), "%s",
                     why);
        }

        goto done;
    }

    faasd_redis.gen_why[0] = '\0';

    /* after Redis lost its data, generations count again: a new epoch */

    if (!faasd_redis.force
        && ((faasd_redis.applied && g == faasd_redis.applied_gen
             && strcmp(epoch, faasd_redis.applied_epoch) == 0)
            || (faasd_redis.rejected && g == faasd_redis.rejected_gen
                && strcmp(epoch, faasd_redis.rejected_epoch) == 0)
            || (faasd_redis.fetching && g == faasd_redis.fetching_gen
                && strcmp(epoch, faasd_redis.fetching_epoch) == 0)))
    {
        goto done;
    }

    if (faas_key_table(key, sizeof(key), faasd_cycle.prefix, g) == 0) {
        goto done;
    }

    if (faasd_redis_send(&faasd_redis.cmd, FAASD_REDIS_TABLE, g, epoch, 2,
                         (const char *[]) { "GET", key })
        != 0)
    {
        return;
    }

    faasd_redis.force = 0;
    faasd_redis.fetching = 1;
    faasd_redis.fetching_gen = g;
    memcpy(faasd_redis.fetching_epoch, epoch, sizeof(epoch));

done:

    if (faasd_redis.recheck) {
        faasd_redis.recheck = 0;
        faasd_redis_check();
    }
}


/* a rejected table is not fetched again while P:generation names it */

static void
faasd_redis_reject(uint64_t generation, const char *epoch)
{
    faasd_redis.rejected = 1;
    faasd_redis.rejected_gen = generation;
    (void) snprintf(faasd_redis.rejected_epoch,
                    sizeof(faasd_redis.rejected_epoch), "%s", epoch);
}


/*
 * A table that does not load changes nothing; it is logged once, with
 * its key, until another generation is published (or SIGHUP).
 */

static void
faasd_redis_table(uint64_t generation, const char *epoch, redisReply *r)
{
    char            key[FAAS_KEY_MAX], msg[1024], text[160];
    size_t          nworkers;
    faasd_fn_t     *fn;
    faas_error_t    err;
    faas_table_t   *table;
    faasd_fnset_t   set;

    if (faasd_redis.fetching && faasd_redis.fetching_gen == generation
        && strcmp(faasd_redis.fetching_epoch, epoch) == 0)
    {
        faasd_redis.fetching = 0;
    }

    if (faasd_cycle.stopping) {
        return;
    }

    (void) faas_key_table(key, sizeof(key), faasd_cycle.prefix, generation);

    msg[0] = '\0';

    if (r->type == REDIS_REPLY_NIL) {
        snprintf(msg, sizeof(msg), "%s: no such key", key);

    } else if (r->type == REDIS_REPLY_ERROR) {
        snprintf(msg, sizeof(msg), "%s: %s", key,
                 faasd_redis_text(r->str, r->len, text, sizeof(text)));

    } else if (r->type != REDIS_REPLY_STRING) {
        snprintf(msg, sizeof(msg), "%s: not a string", key);

    } else {
        memset(&err, 0, sizeof(err));

        if (faas_table_parse(key, r->str, r->len, &table, &err) != FAAS_OK) {
            (void) faas_error_format(&err, text, sizeof(text));

            /* the key is the table's name in every log line */
            if (strstr(text, key) == text) {
                snprintf(msg, sizeof(msg), "%s", text);

            } else {
                snprintf(msg, sizeof(msg), "%s: %s", key,
                         text[0] ? text : "invalid table");
            }

        } else if (table->generation != generation
                   || strcmp(table->epoch, epoch) != 0)
        {
            snprintf(msg, sizeof(msg), "%s: \"generation\" %llu and "
                     "\"epoch\" \"%s\" are not %llu and \"%s\" of \"%s\"",
                     key, (unsigned long long) table->generation,
                     table->epoch, (unsigned long long) generation, epoch,
                     faasd_redis.key_epoch);
            faas_table_free(table);
        }
    }

    if (msg[0]) {
        faasd_log(FAASD_LOG_ERR, "redis: table rejected, keeping %s: %s",
                  faasd_redis.applied ? "the one in force" : "none", msg);
        faasd_redis_reject(generation, epoch);
        return;
    }

    if (faasd_conf_table(table, key, faasd_cycle.sockdir, &set) != 0) {
        faas_table_free(table);
        faasd_redis_reject(generation, epoch);
        return;
    }

    faas_table_free(table);

    faasd_workers_apply(&faasd_cycle.fns, &set);

    faasd_conf_free(&faasd_cycle.versions);
    faasd_cycle.versions = set;

    nworkers = 0;

    for (fn = set.head; fn; fn = fn->next) {
        nworkers += fn->instances;
    }

    faasd_log(FAASD_LOG_NOTICE, "redis: generation %llu in force (%s): "
              "%zu versions, %zu workers", (unsigned long long) generation,
              key, set.n, nworkers);

    faasd_redis.applied = 1;
    faasd_redis.applied_gen = generation;
    (void) snprintf(faasd_redis.applied_epoch,
                    sizeof(faasd_redis.applied_epoch), "%s", epoch);
    faasd_redis.rejected = 0;
}


/*
 * Brings the registered endpoints in line with the ready workers of the
 * Redis versions: new ones are added at once, gone ones removed; the
 * heartbeat re-adds them all with a later score, in one pipeline, and
 * trims members whose score is past.  While Redis is down the list is
 * kept, and settled when it is back.
 */

static void
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


static int
faasd_redis_is(const redisReply *r, const char *s)
{
    size_t  len;

    len = strlen(s);

    return (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS)
           && r->len == len && memcmp(r->str, s, len) == 0;
}


/* what Redis said, fit for a log line */

static const char *
faasd_redis_text(const char *s, size_t len, char *buf, size_t size)
{
    size_t  i, n;

    for (i = 0, n = 0; s && i < len && n + 4 < size; i++) {
        buf[n++] = ((unsigned char) s[i] < ' ' || s[i] == 0x7f) ? '?' : s[i];
    }

    if (s && i < len && n + 4 <= size) {
        memcpy(buf + n, "...", 3);
        n += 3;
    }

    buf[n] = '\0';

    return buf;
}


/* endpoint scores are wall-clock: readers compare them with their own */

static uint64_t
faasd_redis_wall_ms(void)
{
    struct timespec  ts;

    (void) clock_gettime(CLOCK_REALTIME, &ts);

    return (uint64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
