/*
 * Copyright (C) ngx_faas authors
 *
 * A connection from nginx: frames read from it one at a time, each
 * request handed to the worker (accept()), its response written back.
 * nginx never pipelines, so a connection with a request in flight stops
 * reading past PAUSE_AT.
 */

'use strict';

const { performance } = require('node:perf_hooks');
const proto = require('./proto');
const log = require('./log');
const { Context, sched } = require('./context');

const { kDone } = sched;

/* a busy connection stops reading past this: nginx never pipelines */
const PAUSE_AT = 2 * 1024 * 1024;


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


module.exports = { Connection };
