/*
 * Copyright (C) ngx_faas authors
 *
 * The worker protocol codec (docs/protocol.md): frames exchanged with
 * function workers over Unix stream sockets.  The codec writes into and
 * reads from caller-owned memory and never allocates.
 */

#ifndef FAAS_PROTO_H_INCLUDED
#define FAAS_PROTO_H_INCLUDED


#include "faas_common.h"


/*
 * The Node runtime's copy of these (runtime/node/lib/proto.js) is
 * checked against this header by its tests: keep the "#define NAME value"
 * form.
 */
#define FAAS_PROTO_MAGIC          "FaaS"
#define FAAS_PROTO_VERSION        1
#define FAAS_PROTO_HEADER_SIZE    16
#define FAAS_PROTO_FIELD_HEADER   5        /* tag u8 + length u32 */

/* the largest head either side accepts; bodies are bounded elsewhere */
#define FAAS_PROTO_MAX_HEAD       (1024 * 1024)

#define FAAS_PROTO_REQUEST        1
#define FAAS_PROTO_RESPONSE       2

/* response flags */
#define FAAS_PROTO_FLAG_CLOSE     0x0001   /* the worker closes after this */

/* request fields */
#define FAAS_FIELD_FUNCTION       0x01
#define FAAS_FIELD_METHOD         0x02
#define FAAS_FIELD_PATH           0x03
#define FAAS_FIELD_QUERY          0x04
#define FAAS_FIELD_HEADER_NAME    0x05     /* both directions */
#define FAAS_FIELD_HEADER_VALUE   0x06     /* follows its name */
#define FAAS_FIELD_PARAM_NAME     0x07
#define FAAS_FIELD_PARAM_VALUE    0x08     /* follows its name */
#define FAAS_FIELD_TRACE_ID       0x09
#define FAAS_FIELD_DEADLINE       0x0a     /* ms left, decimal ASCII */
#define FAAS_FIELD_ROUTE          0x0b
#define FAAS_FIELD_CLIENT_ADDR    0x0c
#define FAAS_FIELD_URL            0x0d     /* raw request line URI */

/* response fields */
#define FAAS_FIELD_STATUS         0x10     /* decimal ASCII, 100..599 */


typedef struct {
    unsigned     version;
    unsigned     type;
    unsigned     flags;
    uint32_t     head_len;
    uint32_t     body_len;
} faas_frame_t;


typedef struct {
    unsigned     tag;
    const char  *data;
    uint32_t     len;
} faas_field_t;


/* writes the 16-byte frame header; returns FAAS_PROTO_HEADER_SIZE */
size_t faas_proto_write_header(unsigned char *buf, unsigned type,
    unsigned flags, uint32_t head_len, uint32_t body_len);

/* bytes a field of "len" bytes takes in a head */
#define faas_proto_field_size(len)  (FAAS_PROTO_FIELD_HEADER + (size_t) (len))

/* writes one field; returns the bytes written (faas_proto_field_size) */
size_t faas_proto_write_field(unsigned char *buf, unsigned tag,
    const void *data, uint32_t len);

/*
 * Reads a frame header from "len" bytes: FAAS_AGAIN when fewer than 16,
 * FAAS_ERROR on a bad magic, version or type, or a head larger than
 * max_head; FAAS_OK otherwise.
 */
int faas_proto_read_header(const unsigned char *buf, size_t len,
    size_t max_head, faas_frame_t *frame);

/*
 * Iterates over the fields of a complete head: *pos starts at 0.
 * Returns FAAS_OK with *field set, FAAS_AGAIN at the end of the head, or
 * FAAS_ERROR when a field runs past the end.
 */
int faas_proto_next_field(const unsigned char *head, size_t head_len,
    size_t *pos, faas_field_t *field);

/*
 * Validates a response head as a whole: exactly one status in 100..599,
 * header names and values paired and free of CR, LF and NUL, names made
 * of token characters.  On success *status is set.  On failure returns
 * FAAS_ERROR with a short reason in *reason.
 */
int faas_proto_check_response(const unsigned char *head, size_t head_len,
    unsigned *status, const char **reason);


#endif /* FAAS_PROTO_H_INCLUDED */
