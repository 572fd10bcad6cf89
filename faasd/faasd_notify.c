/*
 * Copyright (C) ngx_faas authors
 *
 * faasd: readiness notifications to systemd (Type=notify), the sd_notify(3)
 * protocol by hand: one datagram to the Unix socket in $NOTIFY_SOCKET.
 * Without the variable every call does nothing.
 */


#define _GNU_SOURCE

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>

#include "faasd.h"


static int                 faasd_notify_fd = -1;
static socklen_t           faasd_notify_len;
static struct sockaddr_un  faasd_notify_addr;


int
faasd_notify_init(char *errbuf, size_t size)
{
    size_t       len;
    const char  *path;

    path = getenv("NOTIFY_SOCKET");

    if (path == NULL || path[0] == '\0') {
        return 0;
    }

    len = strlen(path);

    if ((path[0] != '/' && path[0] != '@')
        || len >= sizeof(faasd_notify_addr.sun_path))
    {
        snprintf(errbuf, size, "NOTIFY_SOCKET \"%s\": not an absolute path "
                 "or an abstract name (\"@...\") of at most %zu bytes", path,
                 sizeof(faasd_notify_addr.sun_path) - 1);
        return -1;
    }

    faasd_notify_addr.sun_family = AF_UNIX;
    memcpy(faasd_notify_addr.sun_path, path, len);

    /* an abstract name starts with a NUL and is not NUL-terminated */
    if (path[0] == '@') {
        faasd_notify_addr.sun_path[0] = '\0';
    }

    faasd_notify_len = offsetof(struct sockaddr_un, sun_path) + len
                       + (path[0] == '/');

    faasd_notify_fd = socket(AF_UNIX, SOCK_DGRAM|SOCK_CLOEXEC, 0);
    if (faasd_notify_fd == -1) {
        snprintf(errbuf, size, "socket() for NOTIFY_SOCKET failed: %s",
                 strerror(errno));
        return -1;
    }

    /* the workers are not the service: their messages would be refused */
    (void) unsetenv("NOTIFY_SOCKET");

    return 0;
}


/*
 * A lost notification is logged, never fatal: systemd then sees a start
 * timeout, which says more than a supervisor that exits.
 */

void
faasd_notify(const char *fmt, ...)
{
    int      n;
    char     msg[512];
    va_list  args;

    if (faasd_notify_fd == -1) {
        return;
    }

    va_start(args, fmt);
    n = vsnprintf(msg, sizeof(msg), fmt, args);
    va_end(args);

    if (n < 0 || (size_t) n >= sizeof(msg)) {
        return;
    }

    if (sendto(faasd_notify_fd, msg, n, MSG_NOSIGNAL,
               (struct sockaddr *) &faasd_notify_addr, faasd_notify_len)
        != n)
    {
        faasd_log(FAASD_LOG_WARN, "cannot notify systemd (\"%.*s\"): %s",
                  (int) strcspn(msg, "\n"), msg, strerror(errno));
    }
}


/* RELOADING=1 carries the time systemd needs to tell reloads apart */

void
faasd_notify_reloading(void)
{
    struct timespec  ts;

    (void) clock_gettime(CLOCK_MONOTONIC, &ts);

    faasd_notify("RELOADING=1\nSTATUS=reloading\nMONOTONIC_USEC=%llu",
                 (unsigned long long) ts.tv_sec * 1000000
                 + ts.tv_nsec / 1000);
}


void
faasd_notify_close(void)
{
    if (faasd_notify_fd != -1) {
        close(faasd_notify_fd);
        faasd_notify_fd = -1;
    }
}
