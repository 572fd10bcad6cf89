/*
 * Copyright (C) ngx_faas authors
 *
 * The workers' socket names, the contract between faasd and nginx.
 */


#include <string.h>

#include "unit.h"
#include "faas_socket.h"


static void
test_names(void)
{
    char    buf[FAAS_SOCKET_PATH_MAX + 1];
    size_t  n;

    n = faas_socket_path(buf, sizeof(buf), "/run/ngx_faas", 13, "hello", 5,
                         NULL, 0, 0);
    CHECK_STR(buf, "/run/ngx_faas/hello-0.sock");
    CHECK_INT(n, strlen(buf));

    n = faas_socket_path(buf, sizeof(buf), "/run/ngx_faas", 13, "hello", 5,
                         "v12", 3, 63);
    CHECK_STR(buf, "/run/ngx_faas/hello@v12-63.sock");
    CHECK_INT(n, strlen(buf));

    /* an empty version is no version, as nginx has a manifest's */

    faas_socket_path(buf, sizeof(buf), "/s", 2, "fn", 2, "", 0, 1);
    CHECK_STR(buf, "/s/fn-1.sock");

    /* lengths, not NULs, bound the parts: nginx's strings have none */

    faas_socket_path(buf, sizeof(buf), "/s/xyz", 2, "fnxyz", 2, "v1xyz", 2,
                     1);
    CHECK_STR(buf, "/s/fn@v1-1.sock");

    n = faas_socket_tmp_path(buf, sizeof(buf), "/s", 2, "fn", 2, "v1", 2, 3,
                             4294967295u);
    CHECK_STR(buf, "/s/.fn@v1-3.4294967295.tmp");
    CHECK_INT(n, strlen(buf));
}


static void
test_lengths(void)
{
    char    dir[FAAS_SOCKET_PATH_MAX + 1], buf[FAAS_SOCKET_PATH_MAX + 2];
    size_t  len;

    /* a 98-byte directory and "/a-1.sock" fill a socket's 107 bytes */

    memset(dir, 'd', sizeof(dir));
    dir[0] = '/';

    CHECK_INT(faas_socket_path(buf, sizeof(buf), dir, 98, "a", 1, NULL, 0,
                               1), 107);
    CHECK_INT(faas_socket_path(buf, sizeof(buf), dir, 99, "a", 1, NULL, 0,
                               1), 0);
    CHECK_STR(buf, "");

    /* a buffer too small for a path that would fit a socket */

    CHECK_INT(faas_socket_path(buf, 8, "/run", 4, "hello", 5, NULL, 0, 0),
              0);

    /* every name of a function must fit, the temporary ones too */

    len = FAAS_SOCKET_PATH_MAX - sizeof("/.a@v1-63.4294967295.tmp") + 1;
    CHECK(faas_socket_dir_fits(dir, len, "a", 1, "v1", 2));
    CHECK(!faas_socket_dir_fits(dir, len + 1, "a", 1, "v1", 2));
    CHECK(!faas_socket_dir_fits(dir, 1, "a", 1, dir, FAAS_SOCKET_PATH_MAX));
}


int
main(void)
{
    test_names();
    test_lengths();

    return unit_done("test_socket");
}
