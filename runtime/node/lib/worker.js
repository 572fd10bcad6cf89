/*
 * Copyright (C) ngx_faas authors
 *
 * The worker: loads the function, runs its initializer once, then serves
 * frames from the listening socket faasd passes as fd 3 (or FAAS_LISTEN
 * when run alone), at most FAAS_CONCURRENCY handlers at once, the others
 * queued in arrival order.  See docs/protocol.md and the faasd interface
 * in runtime/node/README.md.
 */

'use strict';

const fs = require('node:fs');
const net = require('node:net');
const buffer = require('node:buffer');
const { STATUS_CODES } = require('node:http');
const { performance } = require('node:perf_hooks');
const proto = require('./proto');
const loader = require('./loader');
const log = require('./log');
const {
  Context, mediaType, isJsonType, isTextType, JSON_TYPE, sched,
} = require('./context');

const {
  kDone, kQueued, kRunning, kArrived, kExpiresAt, kQnext, kPrev, kNext,
} = sched;

const EXIT_INIT = 121;

/* a busy connection stops reading past this: nginx never pipelines */
const PAUSE_AT = 2 * 1024 * 1024;

/* how long idle connections stay open once a drain starts */
const DRAIN_IDLE_GRACE_MS = 1000;

/* idle rounds after which the timeout sweep stops until the next request */
const SWEEP_IDLE_ROUNDS = 50;

const MAX_RESPONSE = 0xffffffff;


class StartError extends Error {}


function intEnv(env, name, def, min, max) {
  const s = env[name];

  if (s === undefined || s === '') {
    return def;
  }

  const n = Number(s);

  if (!Number.isInteger(n) || n < min || n > max) {
    throw new StartError(name + '="' + s + '": expected an integer from '
                          + min + ' to ' + max);
  }

  return n;
}


class Worker {
  constructor(env) {
    this.name = env.FAAS_FUNCTION || 'function';
    this.service = env.FAAS_SERVICE || '';
    this.slot = env.FAAS_SLOT || '0';
    this.codeDir = env.FAAS_CODE_DIR || process.cwd();
    this.handlerRef = env.FAAS_HANDLER || 'index.handler';
    this.initializerRef = env.FAAS_INITIALIZER || '';

    /* 0 is "not set", as in the manifest model */
    this.concurrency = intEnv(env, 'FAAS_CONCURRENCY', 0, 0, 1000000) || 1;
    this.timeoutMs = intEnv(env, 'FAAS_TIMEOUT_MS', 0, 0, 0x7fffffff)
                     || 3000;
    this.initTimeoutMs = intEnv(env, 'FAAS_INIT_TIMEOUT_MS', 0, 0,
                                0x7fffffff) || 3000;
    this.maxBody = intEnv(env, 'FAAS_MAX_BODY', 64 * 1024 * 1024, 0,
                          0xffffffff);
    this.queueMax = intEnv(env, 'FAAS_QUEUE_MAX', 10000, 0, 10000000);
    this.listenFd = intEnv(env, 'FAAS_LISTEN_FD', -1, 0, 0x7fffffff);
    this.readyFd = intEnv(env, 'FAAS_READY_FD', -1, 0, 0x7fffffff);
    this.listenPath = env.FAAS_LISTEN || '';

    /* Midway's ctx.env: the name of the environment, not its variables */
    this.env = env.MIDWAY_SERVER_ENV || env.NODE_ENV || 'prod';

    if (this.listenFd < 0 && this.listenPath === '') {
      throw new StartError('neither FAAS_LISTEN_FD nor FAAS_LISTEN is set');
    }

    this.handler = null;
    this.eventStyle = false;
    this.withCallback = false;
    this.fnInfo = { name: this.name, handler: this.handlerRef };

    this.server = null;
    this.conns = new Set();
    this.ready = false;
    this.draining = false;

    this.active = 0;
    this.runHead = null;      /* doubly linked through ctx[kPrev]/[kNext] */
    this.qHead = null;        /* singly linked through ctx[kQnext] */
    this.qTail = null;
    this.qLen = 0;            /* live entries: aborted ones stay linked */
    this.pumping = false;

    this.sweepMs = Math.max(5, Math.min(100, this.timeoutMs >> 4));
    this.sweepTimer = null;
    this.idleSweeps = 0;
    this.sweep = this.sweep.bind(this);
  }

  async load() {
    const fn = await loader.load(this.codeDir, this.handlerRef, 'handler');

    this.handler = fn;

    /* (event, context[, callback]) as on FC; (ctx) as Midway's HTTP */
    this.eventStyle = fn.length >= 2;
    this.withCallback = fn.length >= 3;
  }

  async initialize() {
    let timer = null;

    if (this.initializerRef === '') {
      return;
    }

    const init = await loader.load(this.codeDir, this.initializerRef,
                                   'initializer');
    const context = {
      requestId: 'init-' + process.pid,
      function: {
        name: this.name,
        handler: this.handlerRef,
        initializer: this.initializerRef,
        timeout: this.timeoutMs / 1000,
        initializationTimeout: this.initTimeoutMs / 1000,
      },
      service: { name: this.service },
      env: this.env,
      logger: log.requestLogger('init'),
    };

    /* FC's callback style: done when the callback says so */
    const run = new Promise((resolve, reject) => {
      const done = (err) => (err ? reject(err) : resolve());
      const cb = init.length >= 2;
      const r = cb ? init(context, done) : init(context);

      if (r && typeof r.then === 'function') {
        r.then(cb ? undefined : () => resolve(), reject);

      } else if (!cb) {
        resolve();
      }
    });

    const expire = new Promise((resolve, reject) => {
      timer = setTimeout(() => {
        reject(new loader.LoadError('initializer "' + this.initializerRef
                                    + '" did not finish in '
                                    + this.initTimeoutMs + ' ms'));
      }, this.initTimeoutMs);
    });

    try {
      await Promise.race([run, expire]);

    } catch (e) {
      if (e instanceof loader.LoadError) {
        throw e;
      }

      throw new loader.LoadError('initializer "' + this.initializerRef
                                 + '" failed', { cause: e });

    } finally {
      clearTimeout(timer);
    }
  }

  listen() {
    return new Promise((resolve, reject) => {
      const server = net.createServer((s) => this.onConnection(s));

      server.once('error', reject);

      const listening = () => {
        server.removeListener('error', reject);
        server.on('error', (e) => log.error('listening socket: %s',
                                            e.message));
        this.server = server;
        resolve();
      };

      if (this.listenFd >= 0) {
        server.listen({ fd: this.listenFd }, listening);
        return;
      }

      /* standalone: a socket left by an earlier run is ours to replace */
      try {
        if (fs.lstatSync(this.listenPath).isSocket()) {
          fs.unlinkSync(this.listenPath);
        }

      } catch (e) {
        /* not there */
      }

      server.listen(this.listenPath, listening);
    });
  }

  signalReady() {
    this.ready = true;

    if (this.readyFd < 0) {
      process.stdout.write('ready\n');
      return;
    }

    fs.writeSync(this.readyFd, 'R');
    fs.closeSync(this.readyFd);
  }

  onConnection(socket) {
    if (this.draining) {
      socket.destroy();
      return;
    }

    this.conns.add(new Connection(this, socket));
  }

  /* a request read whole from a connection */
  accept(ctx, t) {
    ctx[kArrived] = t;

    if (!this.eventStyle && ctx.rawBody.length !== 0) {
      const err = ctx.prepareBody();

      if (err !== null) {
        this.replyError(ctx, 400, err);
        return;
      }
    }

    if (this.active < this.concurrency && this.qLen === 0) {
      this.run(ctx, t);
      return;
    }

    if (this.qLen >= this.queueMax) {
      log.error('request %s refused: %d requests queued', ctx.traceId,
                this.qLen);
      this.replyError(ctx, 503, null);
      return;
    }

    ctx[kQnext] = null;

    if (this.qTail === null) {
      this.qHead = ctx;

    } else {
      this.qTail[kQnext] = ctx;
    }

    this.qTail = ctx;
    this.qLen++;
    ctx[kQueued] = true;

    this.startSweep();
  }

  run(ctx, t) {
    let exp = t + this.timeoutMs;

    if (ctx.deadline > 0 && ctx[kArrived] + ctx.deadline < exp) {
      exp = ctx[kArrived] + ctx.deadline;
    }

    ctx[kExpiresAt] = exp;
    ctx[kRunning] = true;
    this.active++;

    ctx[kPrev] = null;
    ctx[kNext] = this.runHead;

    if (this.runHead !== null) {
      this.runHead[kPrev] = ctx;
    }

    this.runHead = ctx;

    this.startSweep();

    invoke(this, ctx);
  }

  /* starts queued requests while there are free slots */
  pump() {
    if (this.pumping) {
      return;
    }

    this.pumping = true;

    while (this.active < this.concurrency && this.qHead !== null) {
      const ctx = this.qHead;

      this.qHead = ctx[kQnext];

      if (this.qHead === null) {
        this.qTail = null;
      }

      ctx[kQnext] = null;

      if (ctx[kDone]) {
        continue;
      }

      ctx[kQueued] = false;
      this.qLen--;
      this.run(ctx, performance.now());
    }

    this.pumping = false;
  }

  /* the handler's outcome */
  completed(ctx, result) {
    if (ctx[kDone]) {
      return;
    }

    let out;

    try {
      if (this.eventStyle) {
        applyEventResult(ctx, result);

      } else if (result !== undefined && !ctx._bodySet) {
        ctx.body = result;
      }

      const b = ctx._body;

      if (b !== null && typeof b === 'object' && typeof b.pipe === 'function'
          && typeof b.on === 'function')
      {
        this.collect(ctx, b);
        return;
      }

      out = ctx.serialize();

    } catch (e) {
      this.failed(ctx, e);
      return;
    }

    this.respond(ctx, out[0], out[1], out[2]);
  }

  failed(ctx, err) {
    const status = errorStatus(err);

    if (status >= 500) {
      log.error('request %s failed%s: %s', ctx.traceId,
                ctx[kDone] ? ' after it was answered' : '',
                describe(err));
    }

    if (ctx[kDone]) {
      return;
    }

    this.replyError(ctx, status,
                    status < 500 && err && err.expose !== false
                    ? String(err.message) : null);
  }

  /* a stream body is read whole: the frame announces its length */
  collect(ctx, stream) {
    const chunks = [];
    let len = 0;

    stream.on('data', (c) => {
      if (ctx[kDone]) {
        return;
      }

      const b = typeof c === 'string' ? Buffer.from(c) : c;

      len += b.length;
      chunks.push(b);

      if (len > MAX_RESPONSE) {
        stream.destroy(new Error('stream body over 4 GiB'));
      }
    });

    stream.on('error', (e) => this.failed(ctx, e));

    stream.on('end', () => {
      if (ctx[kDone]) {
        return;
      }

      ctx._body = Buffer.concat(chunks, len);

      let out;

      try {
        out = ctx.serialize();

      } catch (e) {
        this.failed(ctx, e);
        return;
      }

      this.respond(ctx, out[0], out[1], out[2]);
    });
  }

  replyError(ctx, status, message) {
    const o = { error: STATUS_CODES[status] || 'Error' };

    if (message) {
      o.message = message;
    }

    o.requestId = ctx.traceId;

    this.respond(ctx, status, ['Content-Type', JSON_TYPE],
                 JSON.stringify(o));
  }

  respond(ctx, status, headers, body) {
    const conn = ctx.conn;

    if (ctx[kDone]) {
      return;
    }

    if (!conn.closed) {
      conn.write(proto.encodeResponse(status, headers, body,
                                      this.draining ? proto.FLAG_CLOSE : 0));
    }

    this.finish(ctx);
  }

  /* frees the request's slot and its connection */
  finish(ctx) {
    const conn = ctx.conn;

    ctx[kDone] = true;

    if (ctx[kRunning]) {
      ctx[kRunning] = false;
      this.active--;

      if (ctx[kPrev] !== null) {
        ctx[kPrev][kNext] = ctx[kNext];

      } else {
        this.runHead = ctx[kNext];
      }

      if (ctx[kNext] !== null) {
        ctx[kNext][kPrev] = ctx[kPrev];
      }

      ctx[kPrev] = ctx[kNext] = null;

    } else if (ctx[kQueued]) {
      ctx[kQueued] = false;
      this.qLen--;
    }

    if (conn.ctx === ctx) {
      conn.ctx = null;

      if (!conn.closed) {
        if (this.draining) {
          conn.close();

        } else {
          conn.parse();
        }
      }
    }

    this.pump();
  }

  /* the connection closed under a queued or running request */
  abandoned(ctx) {
    if (ctx[kRunning]) {
      log.error('request %s abandoned: the connection closed while the'
                + ' handler ran', ctx.traceId);
    }

    this.finish(ctx);
  }

  startSweep() {
    if (this.sweepTimer === null) {
      this.idleSweeps = 0;
      this.sweepTimer = setInterval(this.sweep, this.sweepMs);
      this.sweepTimer.unref();
    }
  }

  /* expires running requests past their time and queued ones past theirs */
  sweep() {
    const t = performance.now();
    let ctx, next;

    if (this.active === 0 && this.qLen === 0) {
      if (++this.idleSweeps >= SWEEP_IDLE_ROUNDS) {
        clearInterval(this.sweepTimer);
        this.sweepTimer = null;
      }

      return;
    }

    this.idleSweeps = 0;

    for (ctx = this.runHead; ctx !== null; ctx = next) {
      next = ctx[kNext];

      if (t >= ctx[kExpiresAt]) {
        log.error('request %s timed out after %d ms', ctx.traceId,
                  Math.round(t - ctx[kArrived]));
        this.replyError(ctx, 504, null);
      }
    }

    /* queued requests of one function share nginx's deadline: in order */
    while (this.qHead !== null) {
      ctx = this.qHead;

      if (!ctx[kDone]
          && !(ctx.deadline > 0 && t >= ctx[kArrived] + ctx.deadline))
      {
        break;
      }

      this.qHead = ctx[kQnext];

      if (this.qHead === null) {
        this.qTail = null;
      }

      ctx[kQnext] = null;

      if (!ctx[kDone]) {
        log.error('request %s timed out after %d ms in the queue',
                  ctx.traceId, Math.round(t - ctx[kArrived]));
        this.replyError(ctx, 504, null);
      }
    }
  }

  drain(why) {
    if (this.draining) {
      return;
    }

    this.draining = true;

    if (!this.ready) {
      process.exit(0);
    }

    log.info('draining on %s: %d connection(s), %d request(s) in flight',
             why, this.conns.size, this.active + this.qLen);

    if (this.server !== null) {
      this.server.close();
    }

    /*
     * nginx may be sending a request on an idle keepalive connection at
     * this very moment, and a POST it cannot retry: idle connections stay
     * open a moment, a request on one is answered with CLOSE, and only
     * then are the rest closed
     */
    setTimeout(() => {
      for (const conn of this.conns) {
        if (conn.ctx === null && conn.reader.len === 0) {
          conn.close();
        }
      }

      this.maybeExit();
    }, DRAIN_IDLE_GRACE_MS).unref();

    /* faasd kills a worker that takes longer than timeout + 5 s */
    setTimeout(() => {
      log.error('drain did not finish in time: %d connection(s) left',
                this.conns.size);
      process.exit(0);
    }, this.timeoutMs + 3000).unref();

    this.maybeExit();
  }

  maybeExit() {
    if (this.draining && this.conns.size === 0) {
      log.info('drained');
      process.exit(0);
    }
  }
}


class Connection {
  constructor(worker, socket) {
    this.worker = worker;
    this.socket = socket;
    this.reader = new proto.FrameReader(worker.maxBody);
    this.ctx = null;
    this.closed = false;
    this.closing = false;
    this.parsing = false;
    this.paused = false;

    socket.on('data', (chunk) => this.onData(chunk));
    socket.on('error', (e) => this.onError(e));
    socket.on('close', () => this.onClose());
  }

  onData(chunk) {
    this.reader.push(chunk);

    if (this.ctx === null) {
      this.parse();

    } else if (!this.paused && this.reader.len > PAUSE_AT) {
      this.paused = true;
      this.socket.pause();
    }
  }

  /* serves the frames buffered, one at a time */
  parse() {
    const worker = this.worker;

    if (this.parsing) {
      return;
    }

    this.parsing = true;

    while (this.ctx === null && !this.closed && !this.closing) {
      let ok;

      try {
        ok = this.reader.next();

      } catch (e) {
        if (!(e instanceof proto.ProtocolError)) {
          throw e;
        }

        this.protocolError(e.message);
        break;
      }

      if (!ok) {
        break;
      }

      const ctx = new Context(worker, this);

      ctx.rawBody = this.reader.body;

      const err = proto.parseRequestHead(this.reader.head, ctx);

      this.reader.release();

      if (err !== null) {
        this.protocolError(err);
        break;
      }

      this.ctx = ctx;
      worker.accept(ctx, performance.now());
    }

    this.parsing = false;

    if (this.paused && this.ctx === null) {
      this.paused = false;
      this.socket.resume();
    }
  }

  write(out) {
    const s = this.socket;

    if (Array.isArray(out)) {
      s.cork();
      s.write(out[0]);
      s.write(out[1]);
      s.uncork();

    } else {
      s.write(out);
    }
  }

  /* after the last response is flushed */
  close() {
    if (this.closing || this.closed) {
      return;
    }

    this.closing = true;
    this.socket.end(() => this.socket.destroy());
  }

  protocolError(reason) {
    log.error('protocol error, closing the connection: %s', reason);
    this.socket.destroy();
  }

  onError(e) {
    /* nginx closing its end early is routine: it logs why itself */
    if (e.code !== 'EPIPE' && e.code !== 'ECONNRESET') {
      log.error('connection: %s', e.message);
    }
  }

  onClose() {
    const worker = this.worker;

    this.closed = true;
    worker.conns.delete(this);

    if (this.ctx !== null && !this.ctx[kDone]) {
      worker.abandoned(this.ctx);
    }

    worker.maybeExit();
  }
}


/* one invocation; errors, thrown or rejected, become 500s */
async function invoke(worker, ctx) {
  let result;

  try {
    if (worker.eventStyle) {
      result = await callEvent(worker, ctx);

    } else {
      result = await worker.handler(ctx);
    }

  } catch (e) {
    worker.failed(ctx, e);
    return;
  }

  worker.completed(ctx, result);
}


function callEvent(worker, ctx) {
  const fn = worker.handler;
  const event = buildEvent(ctx);
  const context = {
    requestId: ctx.traceId,
    function: worker.fnInfo,
    service: { name: worker.service },
    logger: ctx.logger,
  };

  if (!worker.withCallback) {
    return fn(event, context);
  }

  /* the callback answers; a returned promise only if it has a value */
  return new Promise((resolve, reject) => {
    const r = fn(event, context, (err, res) => (err ? reject(err)
                                                    : resolve(res)));

    if (r && typeof r.then === 'function') {
      r.then((v) => v !== undefined && resolve(v), reject);
    }
  });
}


const isUtf8 = buffer.isUtf8 || (() => true);


function buildEvent(ctx) {
  const raw = ctx.rawBody;
  const mt = mediaType(ctx.findContentType());
  const text = raw.length === 0
               || isTextType(mt) || isJsonType(mt)
               || mt === 'application/x-www-form-urlencoded'
               || mt === 'application/javascript'
               || mt.endsWith('/xml') || mt.endsWith('+xml')
               || (mt === '' && isUtf8(raw));

  return {
    path: ctx.path,
    httpMethod: ctx.method,
    headers: ctx.headers,
    queryParameters: ctx.query,
    pathParameters: ctx.params,
    body: raw.toString(text ? 'utf8' : 'base64'),
    isBase64Encoded: !text,
  };
}


/* { statusCode, headers, body, isBase64Encoded } or a plain body */
function applyEventResult(ctx, r) {
  if (r === null || typeof r !== 'object' || Buffer.isBuffer(r)
      || !('statusCode' in r))
  {
    ctx.body = r === undefined ? '' : r;
    return;
  }

  ctx.status = Number(r.statusCode);

  for (const h of [r.headers, r.multiValueHeaders]) {
    if (h && typeof h === 'object') {
      for (const k of Object.keys(h)) {
        ctx.append(k, h[k]);
      }
    }
  }

  if (r.body !== undefined) {
    ctx.body = r.isBase64Encoded && typeof r.body === 'string'
               ? Buffer.from(r.body, 'base64') : r.body;
  }
}


function errorStatus(err) {
  const s = err ? err.status || err.statusCode : undefined;

  return Number.isInteger(s) && s >= 400 && s <= 599 ? s : 500;
}


function describe(e) {
  return e instanceof Error ? e.stack : String(e);
}


/* our own errors say what failed; the cause, if any, says why */
function fatal(code, e) {
  let msg = describe(e);

  if (e instanceof loader.LoadError || e instanceof StartError) {
    msg = e.message;

    if (e.cause !== undefined) {
      msg += ': ' + describe(e.cause);
    }
  }

  log.error('%s', msg);
  process.exit(code);
}


async function main(env) {
  let worker;

  process.on('uncaughtException', (e) => {
    /* the process state is unknown: faasd restarts a clean one */
    log.error('uncaught exception, exiting: %s', describe(e));
    process.exit(1);
  });

  process.on('unhandledRejection', (e) => {
    log.error('unhandled rejection: %s', describe(e));
  });

  try {
    worker = new Worker(env);

  } catch (e) {
    fatal(EXIT_INIT, e);
  }

  /* under faasd each line already starts with the function and slot */
  log.setName(worker.listenFd >= 0 ? '' : worker.name);

  try {
    process.title = 'faas-worker ' + worker.name + '#' + worker.slot;

  } catch (e) {
    /* cosmetic */
  }

  process.on('SIGTERM', () => worker.drain('SIGTERM'));
  process.on('SIGINT', () => worker.drain('SIGINT'));

  try {
    await worker.load();
    await worker.initialize();

  } catch (e) {
    fatal(EXIT_INIT, e);
  }

  try {
    await worker.listen();

  } catch (e) {
    fatal(1, new StartError('cannot listen on '
                       + (worker.listenFd >= 0 ? 'fd ' + worker.listenFd
                                               : worker.listenPath)
                       + ': ' + e.message));
  }

  try {
    worker.signalReady();

  } catch (e) {
    fatal(1, new StartError('cannot signal readiness on fd ' + worker.readyFd
                       + ': ' + e.message));
  }

  return worker;
}


module.exports = { main, Worker, Connection };
