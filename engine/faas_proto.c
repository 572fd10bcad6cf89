/*
 * Copyright (C) ngx_faas authors
 */


#include <string.h>

#include "faas_proto.h"


static uint32_t faas_proto_get32(const unsigned char *p);
static int faas_proto_token(const char *p, size_t len);


/*
 * RFC 7230 tchar: "!#$%&'*+-.^_`|~", digits and letters.  A table keeps
 * the check to one load per byte of a worker's header names.
 */

static const unsigned char  faas_proto_tchar[256] = {
    ['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1,
    ['*'] = 1, ['+'] = 1, ['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1,
    ['`'] = 1, ['|'] = 1, ['~'] = 1,

    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1,
    ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,

    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
    ['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1,
    ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1,
    ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
    ['Y'] = 1, ['Z'] = 1,

    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
    ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1,
    ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1,
    ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
    ['y'] = 1, ['z'] = 1,
};


size_t
faas_proto_write_header(unsigned char *buf, unsigned type, unsigned flags,
    uint32_t head_len, uint32_t body_len)
{
    memcpy(buf, FAAS_PROTO_MAGIC, 4);
    buf[4] = FAAS_PROTO_VERSION;
    buf[5] = (unsigned char) type;
    buf[6] = (unsigned char) (flags >> 8);
    buf[7] = (unsigned char) flags;
    buf[8] = (unsigned char) (head_len >> 24);
    buf[9] = (unsigned char) (head_len >> 16);
    buf[10] = (unsigned char) (head_len >> 8);
    buf[11] = (unsigned char) head_len;
    buf[12] = (unsigned char) (body_len >> 24);
    buf[13] = (unsigned char) (body_len >> 16);
    buf[14] = (unsigned char) (body_len >> 8);
    buf[15] = (unsigned char) body_len;

    return FAAS_PROTO_HEADER_SIZE;
}


size_t
faas_proto_write_field(unsigned char *buf, unsigned tag, const void *data,
    uint32_t len)
{
    buf[0] = (unsigned char) tag;
    buf[1] = (unsigned char) (len >> 24);
    buf[2] = (unsigned char) (len >> 16);
    buf[3] = (unsigned char) (len >> 8);
    buf[4] = (unsigned char) len;

    if (len) {
        memcpy(buf + FAAS_PROTO_FIELD_HEADER, data, len);
    }

    return faas_proto_field_size(len);
}


int
faas_proto_read_header(const unsigned char *buf, size_t len, size_t max_head,
    faas_frame_t *frame)
{
    unsigned  flags;

    if (len < FAAS_PROTO_HEADER_SIZE) {
        return FAAS_AGAIN;
    }

    if (memcmp(buf, FAAS_PROTO_MAGIC, 4) != 0 || buf[4] != FAAS_PROTO_VERSION) {
        return FAAS_ERROR;
    }

    flags = ((unsigned) buf[6] << 8) | buf[7];

    switch (buf[5]) {

    case FAAS_PROTO_REQUEST:
        if (flags != 0) {
            return FAAS_ERROR;
        }

        break;

    case FAAS_PROTO_RESPONSE:
        if (flags & ~FAAS_PROTO_FLAG_CLOSE) {
            return FAAS_ERROR;
        }

        break;

    default:
        return FAAS_ERROR;
    }

    frame->version = buf[4];
    frame->type = buf[5];
    frame->flags = flags;
    frame->head_len = faas_proto_get32(buf + 8);
    frame->body_len = faas_proto_get32(buf + 12);

    if (frame->head_len > max_head || frame->head_len > FAAS_PROTO_MAX_HEAD) {
        return FAAS_ERROR;
    }

    return FAAS_OK;
}


int
faas_proto_next_field(const unsigned char *head, size_t head_len,
    size_t *pos, faas_field_t *field)
{
    size_t    left;
    uint32_t  len;

    if (*pos == head_len) {
        return FAAS_AGAIN;
    }

    if (*pos > head_len) {
        return FAAS_ERROR;
    }

    left = head_len - *pos;

    if (left < FAAS_PROTO_FIELD_HEADER) {
        return FAAS_ERROR;
    }

    len = faas_proto_get32(head + *pos + 1);

    /* compared with what is left, so that no sum can wrap */

    if (len > left - FAAS_PROTO_FIELD_HEADER) {
        return FAAS_ERROR;
    }

    field->tag = head[*pos];
    field->data = (const char *) head + *pos + FAAS_PROTO_FIELD_HEADER;
    field->len = len;

    *pos += FAAS_PROTO_FIELD_HEADER + (size_t) len;

    return FAAS_OK;
}


int
faas_proto_check_response(const unsigned char *head, size_t head_len,
    unsigned *status, const char **reason)
{
    int            rc;
    size_t         pos, i;
    unsigned       code, seen, named;
    faas_field_t   field;

    pos = 0;
    code = 0;
    seen = 0;
    named = 0;

    for ( ;; ) {
        rc = faas_proto_next_field(head, head_len, &pos, &field);

        if (rc == FAAS_AGAIN) {
            break;
        }

        if (rc != FAAS_OK) {
            *reason = "truncated field";
            return FAAS_ERROR;
        }

        if (named && field.tag != FAAS_FIELD_HEADER_VALUE) {
            *reason = "header name without a value";
            return FAAS_ERROR;
        }

        switch (field.tag) {

        case FAAS_FIELD_STATUS:
            if (seen) {
                *reason = "duplicate status";
                return FAAS_ERROR;
            }

            if (field.len != 3) {
                *reason = "invalid status";
                return FAAS_ERROR;
            }

            code = 0;

            for (i = 0; i < 3; i++) {
                if (field.data[i] < '0' || field.data[i] > '9') {
                    *reason = "invalid status";
                    return FAAS_ERROR;
                }

                code = code * 10 + (unsigned) (field.data[i] - '0');
            }

            if (code < 100 || code > 599) {
                *reason = "invalid status";
                return FAAS_ERROR;
            }

            seen = 1;
            break;

        case FAAS_FIELD_HEADER_NAME:
            if (field.len == 0) {
                *reason = "empty header name";
                return FAAS_ERROR;
            }

            if (!faas_proto_token(field.data, field.len)) {
                *reason = "invalid character in header name";
                return FAAS_ERROR;
            }

            named = 1;
            break;

        case FAAS_FIELD_HEADER_VALUE:
            if (!named) {
                *reason = "header value without a name";
                return FAAS_ERROR;
            }

            for (i = 0; i < field.len; i++) {
                if (field.data[i] == '\r' || field.data[i] == '\n'
                    || field.data[i] == '\0')
                {
                    *reason = "CR, LF or NUL in header value";
                    return FAAS_ERROR;
                }
            }

            named = 0;
            break;

        default:
            /* unknown tags leave room for fields of later versions */
            break;
        }
    }

    if (named) {
        *reason = "header name without a value";
        return FAAS_ERROR;
    }

    if (!seen) {
        *reason = "missing status";
        return FAAS_ERROR;
    }

    *status = code;

    return FAAS_OK;
}


static uint32_t
faas_proto_get32(const unsigned char *p)
{
    return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16)
           | ((uint32_t) p[2] << 8) | (uint32_t) p[3];
}


static int
faas_proto_token(const char *p, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (!faas_proto_tchar[(unsigned char) p[i]]) {
            return 0;
        }
    }

    return 1;
}
