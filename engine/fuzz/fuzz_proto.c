/*
 * Copyright (C) ngx_faas authors
 *
 * Fuzzes the frame reader on arbitrary bytes: the frame header, the field
 * iterator over the head it announces and over the whole input, and the
 * response check.
 */


#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "faas_proto.h"


#define check(cond)     do { if (!(cond)) __builtin_trap(); } while (0)


static void
fuzz_head(const unsigned char *head, size_t len)
{
    int            rc;
    size_t         pos, prev, fields;
    unsigned       status;
    const char    *reason;
    faas_field_t   f;

    pos = 0;
    fields = 0;

    for ( ;; ) {
        prev = pos;
        rc = faas_proto_next_field(head, len, &pos, &f);

        if (rc != FAAS_OK) {
            check(rc == FAAS_AGAIN || rc == FAAS_ERROR);
            check(rc != FAAS_AGAIN || pos == len);
            check(pos == prev);
            break;
        }

        check(pos == prev + FAAS_PROTO_FIELD_HEADER + f.len);
        check(pos <= len);
        check(f.tag < 256);
        check((const unsigned char *) f.data
              == head + prev + FAAS_PROTO_FIELD_HEADER);
        fields++;
    }

    status = 0;
    reason = NULL;

    rc = faas_proto_check_response(head, len, &status, &reason);

    if (rc == FAAS_OK) {
        check(status >= 100 && status <= 599);
        check(fields > 0);

    } else {
        check(rc == FAAS_ERROR);
        check(reason != NULL && reason[0] != '\0');
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int            rc;
    faas_frame_t   frame;

    rc = faas_proto_read_header(data, size, FAAS_PROTO_MAX_HEAD, &frame);

    if (size < FAAS_PROTO_HEADER_SIZE) {
        check(rc == FAAS_AGAIN);

    } else if (rc == FAAS_OK) {
        check(frame.version == FAAS_PROTO_VERSION);
        check(frame.type == FAAS_PROTO_REQUEST
              || frame.type == FAAS_PROTO_RESPONSE);
        check(frame.head_len <= FAAS_PROTO_MAX_HEAD);
        check((frame.flags & ~FAAS_PROTO_FLAG_CLOSE) == 0);

        /* the head as far as it arrived, and as announced when whole */

        if (size - FAAS_PROTO_HEADER_SIZE >= frame.head_len) {
            fuzz_head(data + FAAS_PROTO_HEADER_SIZE, frame.head_len);
        }

    } else {
        check(rc == FAAS_ERROR);
    }

    /* the whole input as a head, without a frame header */
    fuzz_head(data, size);

    return 0;
}
