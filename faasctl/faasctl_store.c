/*
 * Copyright (C) ngx_faas authors
 *
 * The code store: STORE/FUNCTION/VERSION/, a copy of the deployed
 * directory that workers (running as nobody) can read.  A copy is made
 * under a temporary name and renamed into place, so a version directory
 * is either complete or absent.
 */


#define _GNU_SOURCE

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "faasctl.h"


#define FAASCTL_COPY_DEPTH  64


typedef struct {
    const char  *root;          /* realpath of the source */
    size_t       root_len;
    const char  *shown;         /* the source as the user named it */
    const char  *dst;
} faasctl_copy_t;


static int faasctl_mkdirs(const char *path);
static int faasctl_copy_dir(faasctl_copy_t *cp, const char *rel,
    unsigned depth);
static int faasctl_copy_file(faasctl_copy_t *cp, const char *rel,
    const char *src, const char *dst);
static int faasctl_copy_link(faasctl_copy_t *cp, const char *rel,
    const char *src, const char *dst);
static int faasctl_inside(const char *path, const char *root,
    size_t root_len);
static int faasctl_rm_entry(const char *path, const struct stat *st,
    int flag, struct FTW *ftw);


/* creates the store (0755, with its parents) and returns its realpath */

int
faasctl_store_open(const char *store, const char *src, char **real)
{
    char    *r, *s;
    size_t   len;

    *real = NULL;

    if (faasctl_mkdirs(store) != FAAS_OK) {
        return FAAS_ERROR;
    }

    r = realpath(store, NULL);
    if (r == NULL) {
        faasctl_error("store \"%s\": %s", store, strerror(errno));
        return FAAS_ERROR;
    }

    s = realpath(src, NULL);
    if (s == NULL) {
        faasctl_error("\"%s\": %s", src, strerror(errno));
        free(r);
        return FAAS_ERROR;
    }

    /* a copy of a directory into itself would never end */

    len = strlen(s);

    if (faasctl_inside(r, s, len)) {
        faasctl_error("store \"%s\" is inside \"%s\", the directory deployed",
                      store, src);
        free(r);
        free(s);
        return FAAS_ERROR;
    }

    free(s);

    *real = r;

    return FAAS_OK;
}


static int
faasctl_mkdirs(const char *path)
{
    int          last;
    char         buf[PATH_MAX];
    char        *p;
    size_t       len;
    struct stat  st;

    len = strlen(path);

    if (len == 0 || len >= sizeof(buf)) {
        faasctl_error("store \"%s\": invalid directory name", path);
        return FAAS_ERROR;
    }

    memcpy(buf, path, len + 1);

    /* each missing level, the last one too */

    for (p = buf + 1; ; p++) {
        if (*p != '/' && *p != '\0') {
            continue;
        }

        last = (*p == '\0');
        *p = '\0';

        if (mkdir(buf, 0755) == 0) {
            (void) chmod(buf, 0755);

        } else if (errno != EEXIST) {
            faasctl_error("cannot create \"%s\": %s", buf, strerror(errno));
            return FAAS_ERROR;
        }

        if (last) {
            break;
        }

        *p = '/';
    }

    if (stat(path, &st) == -1) {
        faasctl_error("store \"%s\": %s", path, strerror(errno));
        return FAAS_ERROR;
    }

    if (!S_ISDIR(st.st_mode)) {
        faasctl_error("store \"%s\" is not a directory", path);
        return FAAS_ERROR;
    }

    return FAAS_OK;
}


/*
 * Copies "src" into a new temporary directory of REAL/FUNCTION/, all of
 * it but .git.  Files are made world-readable and directories 0755,
 * whatever the umask; symbolic links are kept, relative, when they point
 * inside "src" and refused otherwise.
 */

int
faasctl_store_copy(const char *real, const char *function, const char *src,
    const char *shown, char **tmp)
{
    int              rc;
    char             dir[PATH_MAX], *t, *root;
    faasctl_copy_t   cp;

    *tmp = NULL;

    if ((size_t) snprintf(dir, sizeof(dir), "%s/%s", real, function)
        >= sizeof(dir))
    {
        faasctl_error("store \"%s\": path too long", real);
        return FAAS_ERROR;
    }

    if (mkdir(dir, 0755) == 0) {
        (void) chmod(dir, 0755);

    } else if (errno != EEXIST) {
        faasctl_error("cannot create \"%s\": %s", dir, strerror(errno));
        return FAAS_ERROR;
    }

    if ((size_t) snprintf(dir, sizeof(dir), "%s/%s/.tmp-XXXXXX", real,
                          function)
        >= sizeof(dir))
    {
        faasctl_error("store \"%s\": path too long", real);
        return FAAS_ERROR;
    }

    if (mkdtemp(dir) == NULL) {
        faasctl_error("cannot create a directory in \"%s/%s\": %s", real,
                      function, strerror(errno));
        return FAAS_ERROR;
    }

    t = strdup(dir);
    root = realpath(src, NULL);

    if (t == NULL || root == NULL) {
        faasctl_error("\"%s\": %s", shown,
                      t ? strerror(errno) : "out of memory");
        free(root);
        free(t);
        faasctl_store_discard(dir);
        return FAAS_ERROR;
    }

    cp.root = root;
    cp.root_len = strlen(root);
    cp.shown = shown;
    cp.dst = t;

    rc = faasctl_copy_dir(&cp, "", 0);

    free(root);

    if (rc == FAAS_OK && chmod(t, 0755) == -1) {
        faasctl_error("cannot chmod \"%s\": %s", t, strerror(errno));
        rc = FAAS_ERROR;
    }

    if (rc != FAAS_OK) {
        faasctl_store_discard(t);
        free(t);
        return FAAS_ERROR;
    }

    *tmp = t;

    return FAAS_OK;
}


static int
faasctl_copy_dir(faasctl_copy_t *cp, const char *rel, unsigned depth)
{
    int             rc;
    DIR            *d;
    char            src[PATH_MAX], dst[PATH_MAX], child[PATH_MAX];
    struct stat     st;
    struct dirent  *de;

    if (depth > FAASCTL_COPY_DEPTH) {
        faasctl_error("%s/%s: more than %d directory levels", cp->shown, rel,
                      FAASCTL_COPY_DEPTH);
        return FAAS_ERROR;
    }

    snprintf(src, sizeof(src), "%s%s%s", cp->root, rel[0] ? "/" : "", rel);

    d = opendir(src);
    if (d == NULL) {
        faasctl_error("cannot open \"%s%s%s\": %s", cp->shown,
                      rel[0] ? "/" : "", rel, strerror(errno));
        return FAAS_ERROR;
    }

    rc = FAAS_OK;

    for ( ;; ) {
        errno = 0;
        de = readdir(d);

        if (de == NULL) {
            if (errno) {
                faasctl_error("cannot read \"%s%s%s\": %s", cp->shown,
                              rel[0] ? "/" : "", rel, strerror(errno));
                rc = FAAS_ERROR;
            }

            break;
        }

        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0
            || strcmp(de->d_name, ".git") == 0)
        {
            continue;
        }

        if ((size_t) snprintf(child, sizeof(child), "%s%s%s", rel,
                              rel[0] ? "/" : "", de->d_name)
                >= sizeof(child)
            || (size_t) snprintf(src, sizeof(src), "%s/%s", cp->root, child)
               >= sizeof(src)
            || (size_t) snprintf(dst, sizeof(dst), "%s/%s", cp->dst, child)
               >= sizeof(dst))
        {
            faasctl_error("%s/%s: path too long", cp->shown, child);
            rc = FAAS_ERROR;
            break;
        }

        if (lstat(src, &st) == -1) {
            faasctl_error("cannot stat \"%s/%s\": %s", cp->shown, child,
                          strerror(errno));
            rc = FAAS_ERROR;
            break;
        }

        if (S_ISDIR(st.st_mode)) {
            if (mkdir(dst, 0700) == -1 || chmod(dst, 0755) == -1) {
                faasctl_error("cannot create \"%s\": %s", dst,
                              strerror(errno));
                rc = FAAS_ERROR;
                break;
            }

            rc = faasctl_copy_dir(cp, child, depth + 1);

        } else if (S_ISREG(st.st_mode)) {
            rc = faasctl_copy_file(cp, child, src, dst);

        } else if (S_ISLNK(st.st_mode)) {
            rc = faasctl_copy_link(cp, child, src, dst);

        } else {
            faasctl_error("%s/%s: not a file, a directory or a symbolic link",
                          cp->shown, child);
            rc = FAAS_ERROR;
        }

        if (rc != FAAS_OK) {
            break;
        }
    }

    closedir(d);

    return rc;
}


static int
faasctl_copy_file(faasctl_copy_t *cp, const char *rel, const char *src,
    const char *dst)
{
    int          in, out, rc;
    char         buf[65536];
    mode_t       mode;
    ssize_t      n, w, off;
    struct stat  st;

    in = open(src, O_RDONLY|O_NOFOLLOW|O_NONBLOCK|O_CLOEXEC);
    if (in == -1) {
        faasctl_error("cannot open \"%s/%s\": %s", cp->shown, rel,
                      strerror(errno));
        return FAAS_ERROR;
    }

    if (fstat(in, &st) == -1 || !S_ISREG(st.st_mode)) {
        faasctl_error("\"%s/%s\" changed while being copied", cp->shown, rel);
        close(in);
        return FAAS_ERROR;
    }

    out = open(dst, O_WRONLY|O_CREAT|O_EXCL|O_CLOEXEC, 0600);
    if (out == -1) {
        faasctl_error("cannot create \"%s\": %s", dst, strerror(errno));
        close(in);
        return FAAS_ERROR;
    }

    rc = FAAS_OK;

    for ( ;; ) {
        n = read(in, buf, sizeof(buf));

        if (n == -1 && errno == EINTR) {
            continue;
        }

        if (n == -1) {
            faasctl_error("cannot read \"%s/%s\": %s", cp->shown, rel,
                          strerror(errno));
            rc = FAAS_ERROR;
            break;
        }

        if (n == 0) {
            break;
        }

        for (off = 0; off < n; off += w) {
            w = write(out, buf + off, n - off);

            if (w == -1 && errno == EINTR) {
                w = 0;
                continue;
            }

            if (w == -1) {
                faasctl_error("cannot write \"%s\": %s", dst,
                              strerror(errno));
                rc = FAAS_ERROR;
                break;
            }
        }

        if (rc != FAAS_OK) {
            break;
        }
    }

    close(in);

    /* workers run as another user: readable by all, executable if it was */

    mode = (st.st_mode & S_IXUSR) ? 0755 : 0644;

    if (rc == FAAS_OK && fchmod(out, mode) == -1) {
        faasctl_error("cannot chmod \"%s\": %s", dst, strerror(errno));
        rc = FAAS_ERROR;
    }

    if (close(out) == -1 && rc == FAAS_OK) {
        faasctl_error("cannot write \"%s\": %s", dst, strerror(errno));
        rc = FAAS_ERROR;
    }

    return rc;
}


/*
 * A link is resolved in the source and must land inside it; the copy
 * gets a relative link to the same place in the copy (node_modules/.bin
 * is made of those), so it never reaches back into the source.
 */

static int
faasctl_copy_link(faasctl_copy_t *cp, const char *rel, const char *src,
    const char *dst)
{
    char        *target, text[PATH_MAX];
    size_t       len, i;
    const char  *t, *p;

    target = realpath(src, NULL);

    if (target == NULL) {
        faasctl_error("%s/%s: %s symbolic link", cp->shown, rel,
                      errno == ENOENT ? "broken" : "unresolvable");
        return FAAS_ERROR;
    }

    if (!faasctl_inside(target, cp->root, cp->root_len)) {
        faasctl_error("%s/%s: symbolic link to \"%s\", outside \"%s\"",
                      cp->shown, rel, target, cp->shown);
        free(target);
        return FAAS_ERROR;
    }

    t = target + cp->root_len;
    if (*t == '/') {
        t++;
    }

    len = 0;
    text[0] = '\0';

    for (p = rel; *p; p++) {
        if (*p != '/') {
            continue;
        }

        if (len + 3 >= sizeof(text)) {
            goto too_long;
        }

        memcpy(text + len, "../", 3);
        len += 3;
    }

    i = strlen(t);

    if (i == 0) {
        if (len == 0) {
            text[len++] = '.';

        } else {
            len--;              /* "../.." for the root itself */
        }

    } else {
        if (len + i >= sizeof(text)) {
            goto too_long;
        }

        memcpy(text + len, t, i);
        len += i;
    }

    text[len] = '\0';

    free(target);

    if (symlink(text, dst) == -1) {
        faasctl_error("cannot create \"%s\": %s", dst, strerror(errno));
        return FAAS_ERROR;
    }

    return FAAS_OK;

too_long:

    faasctl_error("%s/%s: symbolic link target too long", cp->shown, rel);
    free(target);

    return FAAS_ERROR;
}


static int
faasctl_inside(const char *path, const char *root, size_t root_len)
{
    if (root_len == 1 && root[0] == '/') {
        return 1;
    }

    return strncmp(path, root, root_len) == 0
           && (path[root_len] == '\0' || path[root_len] == '/');
}


/*
 * Gives the copy its version's name.  FAAS_AGAIN when that directory
 * exists already (a store shared with another Redis or prefix, or a
 * Redis that lost P:seq): the caller takes the next number.
 */

int
faasctl_store_commit(const char *tmp, const char *real, const char *function,
    const char *version, char *dir, size_t size)
{
    if ((size_t) snprintf(dir, size, "%s/%s/%s", real, function, version)
        >= size)
    {
        faasctl_error("store \"%s\": path too long", real);
        return FAAS_ERROR;
    }

    if (rename(tmp, dir) == 0) {
        return FAAS_OK;
    }

    if (errno == EEXIST || errno == ENOTEMPTY) {
        return FAAS_AGAIN;
    }

    faasctl_error("cannot rename \"%s\" to \"%s\": %s", tmp, dir,
                  strerror(errno));

    return FAAS_ERROR;
}


void
faasctl_store_discard(const char *tmp)
{
    (void) nftw(tmp, faasctl_rm_entry, 16, FTW_DEPTH|FTW_PHYS);
}


static int
faasctl_rm_entry(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
    (void) st;
    (void) ftw;

    if (flag == FTW_DP || flag == FTW_D) {
        (void) rmdir(path);

    } else {
        (void) unlink(path);
    }

    return 0;
}
