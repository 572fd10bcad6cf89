/*
 * Copyright (C) ngx_faas authors
 *
 * The requests of a worker: at most "concurrency" handlers at once, the
 * others queued in arrival order up to "queueMax", each answered with
 * 504 past its time (a sweep on an interval that stops when idle).  The
 * per-request state is under the Symbols of context.js (sched).  The
 * worker (worker.js) extends it and sets eventStyle and draining.
 */

'use strict';

const { STATUS_CODES } = require('node:http');
const { performance } = require('node:perf_hooks');
const proto = require('./proto');
const log = require('./log');
const { JSON_TYPE, sched } = require('./context');
const {
  invoke, applyEventResult, errorStatus, describe,
} = require('./invoke');

const {
  kDone, kQueued, kRunning, kArrived, kExpiresAt, kQnext, kPrev, kNext,
} = sched;

/* idle rounds after which the timeout sweep stops until the next request */
const SWEEP_IDLE_ROUNDS = 50;

const MAX_RESPONSE = 0xffffffff;


class Scheduler {
  constructor(concurrency, timeoutMs, queueMax) {
    this.concurrency = concurrency;
    this.timeoutMs = timeoutMs;
    this.queueMax = queueMax;

    this.eventStyle = false;
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
}


module.exports = { Scheduler };
