/*
 * Copyright (C) ngx_faas authors
 *
 * The socket directory and the slots' listening sockets.
 */


#define _GNU_SOURCE

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "faasd.h"


#define FAASD_LOCK_NAME  ".faasd.lock"


static void faasd_sockdir_clean(int dfd);


/*
 * nginx trusts whatever answers at <dir>/<function>-<slot>.sock, so the
 * directory must be ours alone: nobody else may create or rename entries
 * in it.
 */

int
faasd_sockdir_init(char *errbuf, size_t size)
{
    int           dfd, fd;
    uid_t         euid;
    struct stat   st, fst;
    const char   *dir;

    dir = faasd_cycle.sockdir;
    euid = geteuid();

    if (mkdir(dir, 0750) == -1 && errno != EEXIST) {
        snprintf(errbuf, size, "cannot create socket directory \"%s\": %s%s",
                 dir, strerror(errno),
                 errno == ENOENT ? " (its parent must exist)" : "");
        return -1;
    }

    if (lstat(dir, &st) == -1) {
        snprintf(errbuf, size, "socket directory \"%s\": %s", dir,
                 strerror(errno));
        return -1;
    }

    if (S_ISLNK(st.st_mode)) {
        snprintf(errbuf, size, "socket directory \"%s\" is a symbolic link; "
                 "give the directory itself", dir);
        return -1;
    }

    if (!S_ISDIR(st.st_mode)) {
        snprintf(errbuf, size, "socket directory \"%s\" is not a directory",
                 dir);
        return -1;
    }

    if (st.st_uid != euid) {
        snprintf(errbuf, size, "socket directory \"%s\" is owned by uid %ld, "
                 "not by faasd's uid %ld", dir, (long) st.st_uid,
                 (long) euid);
        return -1;
    }

    if (st.st_mode & S_IWOTH) {
        snprintf(errbuf, size, "socket directory \"%s\" is writable by "
                 "others (mode %04o); refusing to use it", dir,
                 (unsigned) (st.st_mode & 07777));
        return -1;
    }

    dfd = open(dir, O_RDONLY|O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC);
    if (dfd == -1) {
        snprintf(errbuf, size, "cannot open socket directory \"%s\": %s",
                 dir, strerror(errno));
        return -1;
    }

    if (fstat(dfd, &fst) == -1
        || fst.st_dev != st.st_dev || fst.st_ino != st.st_ino)
    {
        snprintf(errbuf, size, "socket directory \"%s\" changed while it was "
                 "checked", dir);
        goto failed;
    }

    if (fst.st_gid != faasd_cycle.sock_gid
        && fchown(dfd, euid, faasd_cycle.sock_gid) == -1)
    {
        snprintf(errbuf, size, "cannot give socket directory \"%s\" to "
                 "group %ld: %s", dir, (long) faasd_cycle.sock_gid,
                 strerror(errno));
        goto failed;
    }

    if (fchmod(dfd, 0750) == -1) {
        snprintf(errbuf, size, "cannot chmod socket directory \"%s\": %s",
                 dir, strerror(errno));
        goto failed;
    }

    /* two supervisors renaming sockets over each other's would be chaos */

    fd = openat(dfd, FAASD_LOCK_NAME, O_RDWR|O_CREAT|O_NOFOLLOW|O_CLOEXEC,
                0600);
    if (fd == -1) {
        snprintf(errbuf, size, "cannot create \"%s/%s\": %s", dir,
                 FAASD_LOCK_NAME, strerror(errno));
        goto failed;
    }

    if (flock(fd, LOCK_EX|LOCK_NB) == -1) {
        snprintf(errbuf, size, "socket directory \"%s\" is in use by another "
                 "faasd%s%s", dir, errno == EWOULDBLOCK ? "" : ": ",
                 errno == EWOULDBLOCK ? "" : strerror(errno));
        close(fd);
        goto failed;
    }

    faasd_cycle.lockfd = fd;

    faasd_sockdir_clean(dfd);

    close(dfd);

    return 0;

failed:

    close(dfd);
    return -1;
}


int
faasd_socket_path(const char *name, unsigned index, char *path, size_t size)
{
    int  n;

    /* "name" is a function's, or "function@version" */

    n = faas_socket_path(path, size, faasd_cycle.sockdir,
                         strlen(faasd_cycle.sockdir), name, strlen(name),
                         NULL, 0, index);

    return n ? 0 : -1;
}


/*
 * The socket is bound under a hidden temporary name; it takes its final
 * name only when a worker behind it is ready.  Returns the listening fd.
 */

int
faasd_socket_open(const char *name, unsigned index, char *path, size_t size)
{
    int                 fd, n;
    struct sockaddr_un  sa;

    n = faas_socket_tmp_path(path, size, faasd_cycle.sockdir,
                             strlen(faasd_cycle.sockdir), name, strlen(name),
                             NULL, 0, index, ++faasd_cycle.serial);

    if (n == 0) {
        faasd_log(FAASD_LOG_ERR, "function %s slot %u: socket path too long",
                  name, index);
        path[0] = '\0';
        return -1;
    }

    if (unlink(path) == -1 && errno != ENOENT) {
        faasd_log(FAASD_LOG_ERR, "unlink(\"%s\") failed: %s", path,
                  strerror(errno));
        path[0] = '\0';
        return -1;
    }

    fd = socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC, 0);
    if (fd == -1) {
        faasd_log(FAASD_LOG_ERR, "function %s slot %u: socket() failed: %s",
                  name, index, strerror(errno));
        path[0] = '\0';
        return -1;
    }

    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, path, n + 1);

    /* the umask (0117) makes it 0660 from the start */
    if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) == -1) {
        faasd_log(FAASD_LOG_ERR, "function %s slot %u: bind(\"%s\") "
                  "failed: %s", name, index, path, strerror(errno));
        close(fd);
        path[0] = '\0';
        return -1;
    }

    if (chown(path, (uid_t) -1, faasd_cycle.sock_gid) == -1
        || chmod(path, 0660) == -1)
    {
        faasd_log(FAASD_LOG_ERR, "function %s slot %u: cannot set the owner "
                  "and mode of \"%s\": %s", name, index, path,
                  strerror(errno));
        goto failed;
    }

    if (listen(fd, FAASD_BACKLOG) == -1) {
        faasd_log(FAASD_LOG_ERR, "function %s slot %u: listen() failed: %s",
                  name, index, strerror(errno));
        goto failed;
    }

    return fd;

failed:

    close(fd);
    (void) unlink(path);
    path[0] = '\0';

    return -1;
}


/* sockets left by a faasd that was killed: nobody serves them */

static void
faasd_sockdir_clean(int dfd)
{
    int             fd;
    DIR            *d;
    struct stat     st;
    struct dirent  *de;

    fd = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
    if (fd == -1) {
        return;
    }

    d = fdopendir(fd);
    if (d == NULL) {
        close(fd);
        return;
    }

    while ((de = readdir(d)) != NULL) {
        if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1
            || !S_ISSOCK(st.st_mode))
        {
            continue;
        }

        if (unlinkat(dfd, de->d_name, 0) == 0) {
            faasd_log(FAASD_LOG_INFO, "removed stale socket \"%s/%s\"",
                      faasd_cycle.sockdir, de->d_name);
        }
    }

    closedir(d);
}
