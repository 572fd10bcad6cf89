/*
 * Copyright (C) ngx_faas authors
 *
 * The names of the workers' sockets: the contract between faasd, which
 * binds them, and nginx, which connects to them.
 */

#ifndef FAAS_SOCKET_H_INCLUDED
#define FAAS_SOCKET_H_INCLUDED


#include "faas_common.h"


/* a Unix socket's path: sun_path less its NUL */
#define FAAS_SOCKET_PATH_MAX  107


/*
 * A worker slot's socket: "<dir>/<function>-<slot>.sock" for a
 * manifest's function, "<dir>/<function>@<version>-<slot>.sock" for a
 * version of the Redis table ("version" NULL or empty for the first).
 * Written NUL-terminated; returns its length, or 0 when it is longer
 * than FAAS_SOCKET_PATH_MAX or than "size" allows.
 */
size_t faas_socket_path(char *buf, size_t size, const char *dir,
    size_t dir_len, const char *function, size_t function_len,
    const char *version, size_t version_len, unsigned slot);

/*
 * The name faasd binds a slot's socket under until a worker behind it
 * is ready, then renames: "<dir>/.<function>[@<version>]-<slot>.<serial>
 * .tmp".  As faas_socket_path().
 */
size_t faas_socket_tmp_path(char *buf, size_t size, const char *dir,
    size_t dir_len, const char *function, size_t function_len,
    const char *version, size_t version_len, unsigned slot,
    unsigned serial);

/*
 * 1 when every socket of a function, temporary names included, fits in
 * a Unix socket's path under "dir", whatever its slot; else 0.
 */
int faas_socket_dir_fits(const char *dir, size_t dir_len,
    const char *function, size_t function_len, const char *version,
    size_t version_len);


#endif /* FAAS_SOCKET_H_INCLUDED */
