/*
 * Copyright (C) ngx_faas authors
 *
 * The context a Midway-style handler receives: koa's request and response
 * API over one protocol frame.  Everything a handler may not touch (the
 * query, the header object, the logger, the parsed body) is built on
 * first use, so a small handler pays only for what it reads.
 */

'use strict';

const querystring = require('node:querystring');
const { STATUS_CODES } = require('node:http');
const log = require('./log');
const { EMPTY } = require('./proto');

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const VALUE_SUSPECT = /[\0\r\n]|[^\0-\xff]/;
const VALUE_BAD = /[\0\r\n]/;
const HTML_START = /^\s*</;

const JSON_TYPE = 'application/json; charset=utf-8';
const TEXT_TYPE = 'text/plain; charset=utf-8';
const HTML_TYPE = 'text/html; charset=utf-8';
const BIN_TYPE = 'application/octet-stream';

/* the shorthands ctx.type accepts, as koa's mime lookup would answer */
const TYPES = {
  __proto__: null,
  json: JSON_TYPE,
  text: TEXT_TYPE,
  txt: TEXT_TYPE,
  html: HTML_TYPE,
  htm: HTML_TYPE,
  xml: 'application/xml; charset=utf-8',
  css: 'text/css; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  md: 'text/markdown; charset=utf-8',
  js: 'application/javascript; charset=utf-8',
  javascript: 'application/javascript; charset=utf-8',
  form: 'application/x-www-form-urlencoded',
  urlencoded: 'application/x-www-form-urlencoded',
  bin: BIN_TYPE,
  binary: BIN_TYPE,
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  svg: 'image/svg+xml',
  ico: 'image/x-icon',
  pdf: 'application/pdf',
  wasm: 'application/wasm',
};

/* request headers of which Node keeps only the first */
const SINGLE = new Set([
  'age', 'authorization', 'content-length', 'content-type', 'etag',
  'expires', 'from', 'host', 'if-modified-since', 'if-unmodified-since',
  'last-modified', 'location', 'max-forwards', 'proxy-authorization',
  'referer', 'retry-after', 'server', 'user-agent', 'x-request-id',
]);

/* response headers the protocol forbids: nginx frames the body itself */
const FORBIDDEN = new Set([
  'content-length', 'transfer-encoding', 'connection',
]);

/* statuses that carry no body */
const EMPTY_STATUS = new Set([204, 205, 304]);

const UNSET = Symbol('unset');

/* the scheduler's state of a request, out of a handler's reach */
const kDone = Symbol('done');
const kQueued = Symbol('queued');
const kRunning = Symbol('running');
const kArrived = Symbol('arrived');
const kExpiresAt = Symbol('expiresAt');
const kQnext = Symbol('qnext');
const kPrev = Symbol('prev');
const kNext = Symbol('next');


function mediaType(ct) {
  const semi = ct.indexOf(';');

  return (semi < 0 ? ct : ct.slice(0, semi)).trim().toLowerCase();
}


function isJsonType(mt) {
  return mt === 'application/json' || mt.endsWith('+json');
}


function isTextType(mt) {
  return mt.startsWith('text/');
}


function fullType(type) {
  if (type.indexOf('/') < 0) {
    return TYPES[type.replace(/^\./, '').toLowerCase()];
  }

  if (type.indexOf('charset') < 0) {
    const mt = mediaType(type);

    if (isTextType(mt) || isJsonType(mt)
        || mt === 'application/javascript')
    {
      return type + '; charset=utf-8';
    }
  }

  return type;
}


function httpError(status, message, props) {
  const err = new Error(message || STATUS_CODES[status] || 'Error');

  err.status = status;
  err.statusCode = status;
  err.expose = status < 500;

  if (props) {
    Object.assign(err, props);
  }

  return err;
}


class Context {
  constructor(worker, conn) {
    this.worker = worker;
    this.conn = conn;

    /* from the frame */
    this.function = worker.name;
    this.method = 'GET';
    this.path = '/';
    this.querystring = '';
    this.originalUrl = '';
    this.route = '';
    this.traceId = '';
    this.ip = '';
    this.deadline = 0;
    this.rawHeaders = [];
    this._params = null;
    this.rawBody = EMPTY;
    this.contentType = '';

    /* built on first use */
    this._query = null;
    this._headers = null;
    this._reqBody = UNSET;
    this._request = null;
    this._response = null;
    this._logger = null;
    this._state = null;

    /* the response */
    this._status = 404;
    this._statusSet = false;
    this._body = undefined;
    this._bodySet = false;
    this._resHeaders = null;

    /*
     * scheduling (worker.js), under symbols: a handler's own ctx.next or
     * ctx.done cannot reach the run queue
     */
    this[kDone] = false;
    this[kQueued] = false;
    this[kRunning] = false;
    this[kArrived] = 0;
    this[kExpiresAt] = 0;
    this[kQnext] = null;
    this[kPrev] = null;
    this[kNext] = null;
  }

  /* request */

  get url() {
    if (this.originalUrl === '') {
      this.originalUrl = this.querystring === ''
                         ? this.path : this.path + '?' + this.querystring;
    }

    return this.originalUrl;
  }

  get params() {
    if (this._params === null) {
      this._params = Object.create(null);
    }

    return this._params;
  }

  set params(v) {
    this._params = v;
  }

  get requestId() {
    return this.traceId;
  }

  get search() {
    return this.querystring === '' ? '' : '?' + this.querystring;
  }

  get query() {
    if (this._query === null) {
      this._query = this.querystring === ''
                    ? Object.create(null)
                    : querystring.parse(this.querystring);
    }

    return this._query;
  }

  set query(v) {
    this._query = v;
  }

  get headers() {
    if (this._headers === null) {
      this._headers = buildHeaders(this.rawHeaders);
    }

    return this._headers;
  }

  get header() {
    return this.headers;
  }

  get(name) {
    const h = this.headers;
    const k = String(name).toLowerCase();
    const v = k === 'referer' || k === 'referrer'
              ? h.referer || h.referrer : h[k];

    return v === undefined ? '' : v;
  }

  get request() {
    if (this._request === null) {
      this._request = new Request(this);
    }

    return this._request;
  }

  get response() {
    if (this._response === null) {
      this._response = new Response(this);
    }

    return this._response;
  }

  get logger() {
    if (this._logger === null) {
      this._logger = log.requestLogger(this.traceId);
    }

    return this._logger;
  }

  get state() {
    if (this._state === null) {
      this._state = {};
    }

    return this._state;
  }

  set state(v) {
    this._state = v;
  }

  get env() {
    return this.worker.env;
  }

  get functionName() {
    return this.function;
  }

  get traceID() {
    return this.traceId;
  }

  /* the request body, parsed by its content type */
  get requestBody() {
    if (this._reqBody === UNSET) {
      this._reqBody = parseBody(this);
    }

    return this._reqBody;
  }

  /*
   * Parses a JSON body ahead of the handler, so that a malformed one is
   * answered 400 without running it.  Returns null or the reason.
   */
  prepareBody() {
    const mt = mediaType(this.findContentType());

    if (!isJsonType(mt) || this.rawBody.length === 0) {
      return null;
    }

    try {
      this._reqBody = JSON.parse(this.rawBody.toString('utf8'));

    } catch (e) {
      return 'invalid JSON body: ' + e.message;
    }

    return null;
  }

  findContentType() {
    const raw = this.rawHeaders;

    if (this.contentType === '') {
      for (let i = 0; i < raw.length; i += 2) {
        if (raw[i].length === 12 && raw[i].toLowerCase() === 'content-type') {
          this.contentType = raw[i + 1];
          break;
        }
      }
    }

    return this.contentType;
  }

  /* response */

  get status() {
    return this._status;
  }

  set status(code) {
    if (!Number.isInteger(code) || code < 100 || code > 599) {
      throw new TypeError('invalid status code: ' + code);
    }

    this._status = code;
    this._statusSet = true;
  }

  get message() {
    return STATUS_CODES[this._status] || '';
  }

  get body() {
    return this._body;
  }

  set body(v) {
    this._body = v;
    this._bodySet = true;

    if (!this._statusSet) {
      this._status = 200;
    }
  }

  get type() {
    const ct = this.getHeader('content-type');

    return ct === undefined ? '' : mediaType(String(ct));
  }

  set type(t) {
    const full = t ? fullType(String(t)) : undefined;

    if (full === undefined) {
      this.remove('Content-Type');

    } else {
      this.set('Content-Type', full);
    }
  }

  set(name, value) {
    if (arguments.length === 1 && name !== null && typeof name === 'object') {
      for (const k of Object.keys(name)) {
        this.set(k, name[k]);
      }

      return;
    }

    const n = String(name);
    const v = Array.isArray(value) ? value.map(String) : String(value);

    if (this._resHeaders === null) {
      this._resHeaders = Object.create(null);
    }

    this._resHeaders[n.toLowerCase()] = [n, v];
  }

  append(name, value) {
    const prev = this.getHeader(name);

    if (prev !== undefined) {
      value = [].concat(prev, value);
    }

    this.set(name, value);
  }

  remove(name) {
    if (this._resHeaders !== null) {
      delete this._resHeaders[String(name).toLowerCase()];
    }
  }

  getHeader(name) {
    if (this._resHeaders === null) {
      return undefined;
    }

    const e = this._resHeaders[String(name).toLowerCase()];

    return e === undefined ? undefined : e[1];
  }

  get responseHeaders() {
    const out = {};

    if (this._resHeaders !== null) {
      for (const k in this._resHeaders) {
        out[k] = this._resHeaders[k][1];
      }
    }

    return out;
  }

  redirect(url) {
    this.set('Location', url);

    if (!(this._status >= 300 && this._status < 400)) {
      this.status = 302;
    }

    this.type = 'text';
    this.body = 'Redirecting to ' + url + '.';
  }

  throw(...args) {
    let status = 500;
    let message;
    let props;

    for (const a of args) {
      if (typeof a === 'number') {
        status = a;

      } else if (typeof a === 'string') {
        message = a;

      } else if (a instanceof Error) {
        throw Object.assign(a, { status, statusCode: status,
                                 expose: status < 500 });

      } else if (a && typeof a === 'object') {
        props = a;
      }
    }

    throw httpError(status, message, props);
  }

  assert(value, ...args) {
    if (!value) {
      this.throw(...args);
    }
  }

  /*
   * The response as [status, headers, body]: headers a flat checked
   * [name, value, ...] list, body a string or a Buffer.
   */
  serialize() {
    let body = this._body;
    let status = this._status;
    let type;

    if (!this._bodySet || body === undefined) {
      body = EMPTY_STATUS.has(status) ? '' : STATUS_CODES[status] || '';
      type = TEXT_TYPE;

    } else if (typeof body === 'string') {
      type = HTML_START.test(body) ? HTML_TYPE : TEXT_TYPE;

    } else if (Buffer.isBuffer(body)) {
      type = BIN_TYPE;

    } else if (body instanceof Uint8Array) {
      body = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
      type = BIN_TYPE;

    } else if (body instanceof ArrayBuffer) {
      body = Buffer.from(body);
      type = BIN_TYPE;

    } else {
      body = JSON.stringify(body);
      type = JSON_TYPE;

      /* a function or a symbol: nothing to send */
      if (body === undefined) {
        body = '';
      }
    }

    if (EMPTY_STATUS.has(status)) {
      body = '';
      type = undefined;
    }

    return [status, this.checkedHeaders(type), body];
  }

  checkedHeaders(defaultType) {
    const hs = this._resHeaders;
    const out = [];
    let typed = false;

    if (hs !== null) {
      for (const k in hs) {
        const name = hs[k][0];
        const v = hs[k][1];

        if (FORBIDDEN.has(k)) {
          continue;
        }

        if (!TOKEN.test(name)) {
          this.dropHeader(name, 'the name is not a token');
          continue;
        }

        if (k === 'content-type') {
          typed = true;
        }

        if (typeof v === 'string') {
          this.pushHeader(out, name, v);

        } else {
          for (let i = 0; i < v.length; i++) {
            this.pushHeader(out, name, v[i]);
          }
        }
      }
    }

    if (!typed && defaultType !== undefined) {
      out.push('Content-Type', defaultType);
    }

    return out;
  }

  pushHeader(out, name, v) {
    if (VALUE_SUSPECT.test(v)) {
      if (VALUE_BAD.test(v)) {
        this.dropHeader(name, 'the value has CR, LF or NUL');
        return;
      }

      /* characters above U+00FF go out as their UTF-8 bytes */
      v = Buffer.from(v, 'utf8').latin1Slice();
    }

    out.push(name, v);
  }

  dropHeader(name, why) {
    log.error('request %s: response header %j dropped: %s',
              this.traceId, name, why);
  }
}


class Request {
  constructor(ctx) {
    this.ctx = ctx;
  }

  get method() { return this.ctx.method; }
  get path() { return this.ctx.path; }
  get url() { return this.ctx.url; }
  get originalUrl() { return this.ctx.url; }
  get query() { return this.ctx.query; }
  get querystring() { return this.ctx.querystring; }
  get search() { return this.ctx.search; }
  get headers() { return this.ctx.headers; }
  get header() { return this.ctx.headers; }
  get ip() { return this.ctx.ip; }
  get params() { return this.ctx.params; }
  get rawBody() { return this.ctx.rawBody; }
  get body() { return this.ctx.requestBody; }
  set body(v) { this.ctx._reqBody = v; }
  get type() { return mediaType(this.ctx.findContentType()); }
  get length() { return this.ctx.rawBody.length; }
  get host() { return this.ctx.get('host'); }
  get hostname() { return this.ctx.get('host').replace(/:\d+$/, ''); }
  get(name) { return this.ctx.get(name); }
}


class Response {
  constructor(ctx) {
    this.ctx = ctx;
  }

  get status() { return this.ctx.status; }
  set status(v) { this.ctx.status = v; }
  get message() { return this.ctx.message; }
  get body() { return this.ctx.body; }
  set body(v) { this.ctx.body = v; }
  get type() { return this.ctx.type; }
  set type(v) { this.ctx.type = v; }
  get headers() { return this.ctx.responseHeaders; }
  get header() { return this.ctx.responseHeaders; }
  get(name) { return this.ctx.getHeader(name); }
  has(name) { return this.ctx.getHeader(name) !== undefined; }
  set(...args) { this.ctx.set(...args); }
  append(name, value) { this.ctx.append(name, value); }
  remove(name) { this.ctx.remove(name); }
  redirect(url) { this.ctx.redirect(url); }
}


function buildHeaders(raw) {
  const h = Object.create(null);

  for (let i = 0; i < raw.length; i += 2) {
    const k = raw[i].toLowerCase();
    const v = raw[i + 1];
    const prev = h[k];

    if (prev === undefined) {
      h[k] = k === 'set-cookie' ? [v] : v;

    } else if (k === 'set-cookie') {
      prev.push(v);

    } else if (k === 'cookie') {
      h[k] = prev + '; ' + v;

    } else if (!SINGLE.has(k)) {
      h[k] = prev + ', ' + v;
    }
  }

  return h;
}


function parseBody(ctx) {
  const raw = ctx.rawBody;
  const mt = mediaType(ctx.findContentType());

  if (mt === 'application/x-www-form-urlencoded') {
    return querystring.parse(raw.toString('utf8'));
  }

  if (isTextType(mt)) {
    return raw.toString('utf8');
  }

  if (raw.length === 0) {
    return undefined;
  }

  if (isJsonType(mt)) {
    /* prepareBody() has parsed it, unless a handler reset it */
    return JSON.parse(raw.toString('utf8'));
  }

  return raw;
}


module.exports = {
  Context,
  sched: {
    kDone, kQueued, kRunning, kArrived, kExpiresAt, kQnext, kPrev, kNext,
  },
  httpError,
  mediaType,
  isJsonType,
  isTextType,
  JSON_TYPE,
  TEXT_TYPE,
  BIN_TYPE,
};
