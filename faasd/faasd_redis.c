/*
 * Copyright (C) ngx_faas authors
 *
 * faasd's Redis mode (docs/redis.md, docs/faasd.md): faasd runs every
 * version of the table in force and keeps the endpoints of their ready
 * workers registered.  faasd owns the two sockets (commands, and one
 * subscribed to the events channel), non-blocking in its poll() loop;
 * hiredis only formats commands and parses replies, so nothing here
 * ever waits on Redis, and every reply awaited has a deadline.
 *
 * This file is the transport: connecting, the handshake, reading and
 * writing, replies handed to their readers, reconnecting with a backoff.
 * Following the table is faasd_redis_sync.c's, endpoints and start
 * failures faasd_redis_beat.c's (faasd_redis.h: what they share).
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

#include "faasd_redis.h"


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
static void faasd_redis_reply(faasd_redis_conn_t *c, redisReply *r);
static int faasd_redis_is(const redisReply *r, const char *s);


faasd_redis_t  faasd_redis;


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
    faas_sync_fetched(&faasd_redis.sync);
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

int
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


static int
faasd_redis_is(const redisReply *r, const char *s)
{
    size_t  len;

    len = strlen(s);

    return (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS)
           && r->len == len && memcmp(r->str, s, len) == 0;
}


/* what Redis said, fit for a log line */

const char *
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
