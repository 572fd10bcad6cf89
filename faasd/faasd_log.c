/*
 * Copyright (C) ngx_faas authors
 *
 * The log: faasd's own messages and the workers' output, one line each.
 * Lines wait in a bounded buffer and are written without blocking, so a
 * slow log never stalls the supervisor or the workers; when the buffer
 * is full, lines are dropped and counted.
 */


#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "faasd.h"


#define FAASD_LOG_BUF  (64 * 1024)


static void faasd_log_append(const char *p, size_t n);
static size_t faasd_log_time(char *buf, size_t size);


static const char  *faasd_log_levels[] = {
    "emerg", "error", "warn", "notice", "info"
};

static int          faasd_log_out = 2;
static int          faasd_log_sock;       /* journald's stderr: send() */
static const char  *faasd_log_path;
static size_t       faasd_log_len;
static unsigned     faasd_log_dropped;
static char         faasd_log_buf[FAASD_LOG_BUF];


int
faasd_log_open(const char *path, char *errbuf, size_t size)
{
    int          fd;
    struct stat  st;

    if (path != NULL) {
        fd = open(path, O_WRONLY|O_CREAT|O_APPEND|O_NONBLOCK|O_CLOEXEC, 0640);
        if (fd == -1) {
            snprintf(errbuf, size, "cannot open log file \"%s\": %s", path,
                     strerror(errno));
            return -1;
        }

        faasd_log_path = path;
        faasd_log_out = fd;
        faasd_log_sock = 0;
        return 0;
    }

    if (fstat(2, &st) == -1) {
        return 0;
    }

    if (S_ISSOCK(st.st_mode)) {
        faasd_log_sock = 1;
        return 0;
    }

    /*
     * O_NONBLOCK on stderr itself would change the file description we
     * share with the shell that started us; a pipe or a terminal opened
     * anew gets a description of its own.
     */

    if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)) {
        fd = open("/proc/self/fd/2", O_WRONLY|O_NONBLOCK|O_CLOEXEC);
        if (fd != -1) {
            faasd_log_out = fd;
        }
    }

    return 0;
}


int
faasd_log_reopen(void)
{
    int  fd;

    if (faasd_log_path == NULL) {
        return 0;
    }

    faasd_log_write();

    fd = open(faasd_log_path, O_WRONLY|O_CREAT|O_APPEND|O_NONBLOCK|O_CLOEXEC,
              0640);
    if (fd == -1) {
        faasd_log(FAASD_LOG_ERR, "cannot reopen log file \"%s\": %s",
                  faasd_log_path, strerror(errno));
        return -1;
    }

    close(faasd_log_out);
    faasd_log_out = fd;

    faasd_log(FAASD_LOG_NOTICE, "log file reopened");

    return 0;
}


void
faasd_log(unsigned level, const char *fmt, ...)
{
    int      n;
    size_t   len;
    va_list  args;
    char     line[FAASD_LINE_MAX + 128];

    if (level > FAASD_LOG_INFO) {
        level = FAASD_LOG_INFO;
    }

    len = faasd_log_time(line, sizeof(line));
    len += snprintf(line + len, sizeof(line) - len, "[%s] ",
                    faasd_log_levels[level]);

    va_start(args, fmt);
    n = vsnprintf(line + len, sizeof(line) - len - 1, fmt, args);
    va_end(args);

    if (n > 0) {
        len += ((size_t) n < sizeof(line) - len - 1)
               ? (size_t) n : sizeof(line) - len - 2;
    }

    line[len++] = '\n';

    faasd_log_append(line, len);
}


/*
 * Control characters are escaped: a worker must not be able to forge
 * lines of the log or send terminal sequences to whoever reads it.
 */

void
faasd_log_worker(const faasd_unit_t *u, const char *line, size_t len)
{
    size_t          n, i;
    unsigned char   c;
    char            out[FAASD_LINE_MAX * 4 + 256];

    static const char  hex[] = "0123456789abcdef";

    if (len && line[len - 1] == '\r') {
        len--;
    }

    n = faasd_log_time(out, sizeof(out));
    n += snprintf(out + n, sizeof(out) - n, "[%s#%u pid %ld] ",
                  u->fn->label, u->index, (long) u->pid);

    for (i = 0; i < len && n < sizeof(out) - 5; i++) {
        c = (unsigned char) line[i];

        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            out[n++] = '\\';
            out[n++] = 'x';
            out[n++] = hex[c >> 4];
            out[n++] = hex[c & 0xf];
            continue;
        }

        out[n++] = (char) c;
    }

    out[n++] = '\n';

    faasd_log_append(out, n);
}


int
faasd_log_fd(void)
{
    return faasd_log_out;
}


int
faasd_log_pending(void)
{
    return faasd_log_len > 0;
}


void
faasd_log_write(void)
{
    ssize_t  n;

    while (faasd_log_len) {
        if (faasd_log_sock) {
            n = send(faasd_log_out, faasd_log_buf, faasd_log_len,
                     MSG_DONTWAIT|MSG_NOSIGNAL);

            if (n == -1 && errno == ENOTSOCK) {
                faasd_log_sock = 0;
                continue;
            }

        } else {
            n = write(faasd_log_out, faasd_log_buf, faasd_log_len);
        }

        if (n > 0) {
            faasd_log_len -= n;
            memmove(faasd_log_buf, faasd_log_buf + n, faasd_log_len);
            continue;
        }

        if (n == -1 && errno == EINTR) {
            continue;
        }

        if (n == -1 && errno == EAGAIN) {
            return;
        }

        /* nowhere to report it: the log itself is broken */
        faasd_log_len = 0;
        return;
    }
}


/* at exit: what is still buffered gets a bounded time to be written */

void
faasd_log_flush(int timeout_ms)
{
    uint64_t       end, now;
    struct pollfd  pfd;

    end = faasd_msec() + timeout_ms;

    for ( ;; ) {
        faasd_log_write();

        now = faasd_msec();

        if (faasd_log_len == 0 || now >= end) {
            return;
        }

        pfd.fd = faasd_log_out;
        pfd.events = POLLOUT;
        pfd.revents = 0;

        (void) poll(&pfd, 1, (int) (end - now));
    }
}


void
faasd_log_close(void)
{
    faasd_log_flush(1000);

    if (faasd_log_out > 2) {
        close(faasd_log_out);
    }

    faasd_log_out = 2;
    faasd_log_sock = 0;
    faasd_log_path = NULL;
}


static void
faasd_log_append(const char *p, size_t n)
{
    size_t  len;
    char    note[160];

    if (faasd_log_dropped) {
        len = faasd_log_time(note, sizeof(note));
        len += snprintf(note + len, sizeof(note) - len,
                        "[warn] %u log lines dropped: the log was not "
                        "writable fast enough\n", faasd_log_dropped);

        if (faasd_log_len + len + n <= FAASD_LOG_BUF) {
            memcpy(faasd_log_buf + faasd_log_len, note, len);
            faasd_log_len += len;
            faasd_log_dropped = 0;
        }
    }

    if (faasd_log_len + n > FAASD_LOG_BUF) {
        faasd_log_dropped++;
        return;
    }

    memcpy(faasd_log_buf + faasd_log_len, p, n);
    faasd_log_len += n;

    faasd_log_write();
}


static size_t
faasd_log_time(char *buf, size_t size)
{
    time_t     now;
    struct tm  tm;

    now = time(NULL);

    if (localtime_r(&now, &tm) == NULL) {
        return 0;
    }

    return strftime(buf, size, "%Y/%m/%d %H:%M:%S ", &tm);
}
