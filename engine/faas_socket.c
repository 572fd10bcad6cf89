/*
 * Copyright (C) ngx_faas authors
 */


#include <limits.h>
#include <stdio.h>

#include "faas_socket.h"
#include "faas_manifest.h"


static size_t faas_socket_format(char *buf, size_t size, const char *dir,
    size_t dir_len, const char *prefix, const char *function,
    size_t function_len, const char *version, size_t version_len,
    unsigned slot, const char *suffix);


size_t
faas_socket_path(char *buf, size_t size, const char *dir, size_t dir_len,
    const char *function, size_t function_len, const char *version,
    size_t version_len, unsigned slot)
{
    return faas_socket_format(buf, size, dir, dir_len, "", function,
                              function_len, version, version_len, slot,
                              ".sock");
}


size_t
faas_socket_tmp_path(char *buf, size_t size, const char *dir,
    size_t dir_len, const char *function, size_t function_len,
    const char *version, size_t version_len, unsigned slot, unsigned serial)
{
    char  suffix[sizeof(".4294967295.tmp")];

    snprintf(suffix, sizeof(suffix), ".%u.tmp", serial);

    return faas_socket_format(buf, size, dir, dir_len, ".", function,
                              function_len, version, version_len, slot,
                              suffix);
}


int
faas_socket_dir_fits(const char *dir, size_t dir_len, const char *function,
    size_t function_len, const char *version, size_t version_len)
{
    char  buf[FAAS_SOCKET_PATH_MAX + 1];

    /* the longest name: the last slot, the widest serial */

    return faas_socket_tmp_path(buf, sizeof(buf), dir, dir_len, function,
                                function_len, version, version_len,
                                FAAS_INSTANCES_MAX - 1, UINT_MAX)
           != 0;
}


static size_t
faas_socket_format(char *buf, size_t size, const char *dir, size_t dir_len,
    const char *prefix, const char *function, size_t function_len,
    const char *version, size_t version_len, unsigned slot,
    const char *suffix)
{
    int  n;

    if (version == NULL) {
        version_len = 0;
    }

    if (dir_len > FAAS_SOCKET_PATH_MAX
        || function_len > FAAS_SOCKET_PATH_MAX
        || version_len > FAAS_SOCKET_PATH_MAX)
    {
        return 0;
    }

    n = snprintf(buf, size, "%.*s/%s%.*s%s%.*s-%u%s",
                 (int) dir_len, dir, prefix, (int) function_len, function,
                 version_len ? "@" : "", (int) version_len,
                 version_len ? version : "", slot, suffix);

    if (n < 0 || (size_t) n >= size || n > FAAS_SOCKET_PATH_MAX) {
        if (size) {
            buf[0] = '\0';
        }

        return 0;
    }

    return (size_t) n;
}
