/*
 * Copyright (C) ngx_faas authors
 *
 * The worker protocol, version 1 (docs/protocol.md).  Frames are read
 * from the socket's own chunks and copied only when a piece spans several
 * of them; a response is written as one buffer unless its body is large.
 */

'use strict';

const MAGIC = 0x46616153;                 /* "FaaS" */
const VERSION = 1;
const HEADER_SIZE = 16;
const FIELD_HEADER = 5;
const MAX_HEAD = 1024 * 1024;

const TYPE_REQUEST = 1;
const TYPE_RESPONSE = 2;
const FLAG_CLOSE = 0x0001;

const FIELD = Object.freeze({
  FUNCTION: 0x01,
  METHOD: 0x02,
  PATH: 0x03,
  QUERY: 0x04,
  HEADER_NAME: 0x05,
  HEADER_VALUE: 0x06,
  PARAM_NAME: 0x07,
  PARAM_VALUE: 0x08,
  TRACE_ID: 0x09,
  DEADLINE: 0x0a,
  ROUTE: 0x0b,
  CLIENT_ADDR: 0x0c,
  URL: 0x0d,
  STATUS: 0x10,
});

/* a body at most this large is copied after the head: one write */
const COPY_BODY_MAX = 64 * 1024;

const EMPTY = Buffer.alloc(0);
const scratch = Buffer.allocUnsafe(HEADER_SIZE);


class ProtocolError extends Error {}


/*
 * Incremental reader of request frames.  push() the socket's chunks, then
 * call next() until it returns false; after a true, head and body hold
 * the frame.  Throws ProtocolError on a frame that must not be answered.
 */
class FrameReader {
  constructor(maxBody) {
    this.maxBody = maxBody;
    this.chunks = [];
    this.off = 0;             /* read position in chunks[0] */
    this.len = 0;             /* bytes buffered past off */
    this.headLen = -1;        /* -1: the frame header is not read yet */
    this.bodyLen = 0;
    this.head = EMPTY;
    this.body = EMPTY;
  }

  push(chunk) {
    this.chunks.push(chunk);
    this.len += chunk.length;
  }

  next() {
    let h, o;

    if (this.headLen < 0) {
      if (this.len < HEADER_SIZE) {
        return false;
      }

      h = this.chunks[0];
      o = this.off;

      if (h.length - o < HEADER_SIZE) {
        this.take(HEADER_SIZE, scratch);
        h = scratch;
        o = 0;

      } else {
        this.skip(HEADER_SIZE);
      }

      if (h.readUInt32BE(o) !== MAGIC) {
        throw new ProtocolError('bad magic');
      }

      if (h[o + 4] !== VERSION) {
        throw new ProtocolError('unknown version ' + h[o + 4]);
      }

      if (h[o + 5] !== TYPE_REQUEST) {
        throw new ProtocolError('unexpected frame type ' + h[o + 5]);
      }

      this.headLen = h.readUInt32BE(o + 8);
      this.bodyLen = h.readUInt32BE(o + 12);

      if (this.headLen > MAX_HEAD) {
        throw new ProtocolError('head of ' + this.headLen
                                + ' bytes is over the 1 MiB limit');
      }

      if (this.bodyLen > this.maxBody) {
        throw new ProtocolError('body of ' + this.bodyLen
                                + ' bytes is over the limit of '
                                + this.maxBody);
      }
    }

    if (this.len < this.headLen + this.bodyLen) {
      return false;
    }

    this.head = this.headLen ? this.take(this.headLen, null) : EMPTY;
    this.body = this.bodyLen ? this.take(this.bodyLen, null) : EMPTY;
    this.headLen = -1;

    return true;
  }

  /* drops what the last frame still references */
  release() {
    this.head = EMPTY;
    this.body = EMPTY;
  }

  skip(n) {
    const c = this.chunks[0];

    this.off += n;
    this.len -= n;

    if (this.off === c.length) {
      this.chunks.shift();
      this.off = 0;
    }
  }

  /* n bytes: a view of one chunk when they lie in it, else a copy */
  take(n, into) {
    let c = this.chunks[0];
    let off = this.off;
    let w = 0;

    if (into === null && c.length - off >= n) {
      this.skip(n);
      return c.subarray(off, off + n);
    }

    const out = into || Buffer.allocUnsafe(n);

    while (w < n) {
      c = this.chunks[0];
      const k = Math.min(c.length - off, n - w);

      c.copy(out, w, off, off + k);
      w += k;
      off += k;

      if (off === c.length) {
        this.chunks.shift();
        off = 0;
      }
    }

    this.off = off;
    this.len -= n;

    return out;
  }
}


/*
 * Decodes a request head into "req" (a Context: see context.js).
 * Returns null, or the reason the head is malformed.
 */
function parseRequestHead(head, req) {
  const end = head.length;
  let pos = 0;
  let name = null;
  let pname = null;

  while (pos < end) {
    if (end - pos < FIELD_HEADER) {
      return 'truncated field';
    }

    const tag = head[pos];
    const len = head[pos + 1] * 0x1000000
                + (head[pos + 2] << 16 | head[pos + 3] << 8 | head[pos + 4]);
    const s = pos + FIELD_HEADER;

    pos = s + len;

    if (pos > end) {
      return 'field 0x' + tag.toString(16) + ' runs past the head';
    }

    if (name !== null && tag !== FIELD.HEADER_VALUE) {
      return 'header name without a value';
    }

    if (pname !== null && tag !== FIELD.PARAM_VALUE) {
      return 'parameter name without a value';
    }

    switch (tag) {

    case FIELD.HEADER_NAME:
      name = head.latin1Slice(s, pos);
      break;

    case FIELD.HEADER_VALUE:
      if (name === null) {
        return 'header value without a name';
      }

      req.rawHeaders.push(name, head.latin1Slice(s, pos));
      name = null;
      break;

    case FIELD.FUNCTION:
      req.function = head.utf8Slice(s, pos);
      break;

    case FIELD.METHOD:
      req.method = head.latin1Slice(s, pos);
      break;

    case FIELD.PATH:
      req.path = head.utf8Slice(s, pos);
      break;

    case FIELD.QUERY:
      req.querystring = head.utf8Slice(s, pos);
      break;

    case FIELD.PARAM_NAME:
      pname = head.utf8Slice(s, pos);
      break;

    case FIELD.PARAM_VALUE:
      if (pname === null) {
        return 'parameter value without a name';
      }

      req.params[pname] = head.utf8Slice(s, pos);
      pname = null;
      break;

    case FIELD.TRACE_ID:
      req.traceId = head.latin1Slice(s, pos);
      break;

    case FIELD.DEADLINE:
      req.deadline = parseDecimal(head, s, pos);
      break;

    case FIELD.ROUTE:
      req.route = head.utf8Slice(s, pos);
      break;

    case FIELD.CLIENT_ADDR:
      req.ip = head.latin1Slice(s, pos);
      break;

    case FIELD.URL:
      req.originalUrl = head.utf8Slice(s, pos);
      break;

    default:
      /* unknown fields are skipped: later versions may add some */
      break;
    }
  }

  if (name !== null) {
    return 'header name without a value';
  }

  if (pname !== null) {
    return 'parameter name without a value';
  }

  return null;
}


/* decimal ASCII; 0 when empty, malformed or absurdly long */
function parseDecimal(buf, s, e) {
  let n = 0;

  if (e - s > 12 || e === s) {
    return 0;
  }

  for (let i = s; i < e; i++) {
    const d = buf[i] - 48;

    if (d < 0 || d > 9) {
      return 0;
    }

    n = n * 10 + d;
  }

  return n;
}


function writeField(buf, pos, tag, len) {
  buf[pos] = tag;
  buf.writeUInt32BE(len, pos + 1);
  return pos + FIELD_HEADER;
}


/*
 * Encodes a response frame.  "headers" is a flat [name, value, ...] list
 * already checked: token names, values free of CR, LF and NUL, each
 * character one byte (latin1).  "body" is a Buffer or a string (UTF-8).
 * Returns one Buffer, or [head, body] when the body is too large to be
 * worth copying.
 */
function encodeResponse(status, headers, body, flags) {
  const st = String(status);
  const nh = headers.length;
  let headLen = FIELD_HEADER + st.length;
  let bodyLen, pos, i;

  for (i = 0; i < nh; i += 2) {
    headLen += 2 * FIELD_HEADER + headers[i].length + headers[i + 1].length;
  }

  const isString = typeof body === 'string';

  bodyLen = isString ? Buffer.byteLength(body, 'utf8') : body.length;

  const copy = bodyLen <= COPY_BODY_MAX;
  const total = HEADER_SIZE + headLen + (copy ? bodyLen : 0);
  const buf = Buffer.allocUnsafe(total);

  buf.writeUInt32BE(MAGIC, 0);
  buf[4] = VERSION;
  buf[5] = TYPE_RESPONSE;
  buf.writeUInt16BE(flags, 6);
  buf.writeUInt32BE(headLen, 8);
  buf.writeUInt32BE(bodyLen, 12);

  pos = writeField(buf, HEADER_SIZE, FIELD.STATUS, st.length);
  pos += buf.latin1Write(st, pos);

  for (i = 0; i < nh; i += 2) {
    const n = headers[i];
    const v = headers[i + 1];

    pos = writeField(buf, pos, FIELD.HEADER_NAME, n.length);
    pos += buf.latin1Write(n, pos);
    pos = writeField(buf, pos, FIELD.HEADER_VALUE, v.length);
    pos += buf.latin1Write(v, pos);
  }

  if (!copy) {
    return [buf, isString ? Buffer.from(body, 'utf8') : body];
  }

  if (bodyLen) {
    if (isString) {
      buf.utf8Write(body, pos, bodyLen);

    } else {
      body.copy(buf, pos);
    }
  }

  return buf;
}


module.exports = {
  MAGIC,
  VERSION,
  HEADER_SIZE,
  FIELD_HEADER,
  MAX_HEAD,
  TYPE_REQUEST,
  TYPE_RESPONSE,
  FLAG_CLOSE,
  FIELD,
  EMPTY,
  ProtocolError,
  FrameReader,
  parseRequestHead,
  encodeResponse,
};
