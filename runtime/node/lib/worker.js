/*
 * Copyright (C) ngx_faas authors
 *
 * The worker: loads the function, runs its initializer once, then serves
 * frames from the listening socket faasd passes as fd 3 (or FAAS_LISTEN
 * when run alone), at most FAAS_CONCURRENCY handlers at once, the others
 * queued in arrival order.  See docs/protocol.md and the faasd interface
 * in runtime/node/README.md.  Its parts: scheduler.js (which it
 * extends), connection.js, invoke.js.
 */

'use strict';

const fs = require('node:fs');
const net = require('node:net');
const loader = require('./loader');
const log = require('./log');
const { Scheduler } = require('./scheduler');
const { Connection } = require('./connection');
const { describe } = require('./invoke');

const EXIT_INIT = 121;

/* how long idle connections stay open once a drain starts */
const DRAIN_IDLE_GRACE_MS = 1000;


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


class Worker extends Scheduler {
  constructor(env) {
    /* 0 is "not set", as in the manifest model */
    const concurrency = intEnv(env, 'FAAS_CONCURRENCY', 0, 0, 1000000) || 1;
    const timeoutMs = intEnv(env, 'FAAS_TIMEOUT_MS', 0, 0, 0x7fffffff)
                      || 3000;
    const initTimeoutMs = intEnv(env, 'FAAS_INIT_TIMEOUT_MS', 0, 0,
                                 0x7fffffff) || 3000;
    const maxBody = intEnv(env, 'FAAS_MAX_BODY', 64 * 1024 * 1024, 0,
                           0xffffffff);
    const queueMax = intEnv(env, 'FAAS_QUEUE_MAX', 10000, 0, 10000000);

    super(concurrency, timeoutMs, queueMax);

    this.name = env.FAAS_FUNCTION || 'function';
    this.service = env.FAAS_SERVICE || '';
    this.slot = env.FAAS_SLOT || '0';
    this.codeDir = env.FAAS_CODE_DIR || process.cwd();
    this.handlerRef = env.FAAS_HANDLER || 'index.handler';
    this.initializerRef = env.FAAS_INITIALIZER || '';

    this.initTimeoutMs = initTimeoutMs;
    this.maxBody = maxBody;
    this.listenFd = intEnv(env, 'FAAS_LISTEN_FD', -1, 0, 0x7fffffff);
    this.readyFd = intEnv(env, 'FAAS_READY_FD', -1, 0, 0x7fffffff);
    this.listenPath = env.FAAS_LISTEN || '';

    /* Midway's ctx.env: the name of the environment, not its variables */
    this.env = env.MIDWAY_SERVER_ENV || env.NODE_ENV || 'prod';

    if (this.listenFd < 0 && this.listenPath === '') {
      throw new StartError('neither FAAS_LISTEN_FD nor FAAS_LISTEN is set');
    }

    this.handler = null;
    this.withCallback = false;
    this.fnInfo = { name: this.name, handler: this.handlerRef };

    this.server = null;
    this.conns = new Set();
    this.ready = false;
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
