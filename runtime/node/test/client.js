/*
 * Copyright (C) ngx_faas authors
 *
 * Test helpers: a worker process started in standalone mode, and a
 * client speaking the worker protocol the way nginx does.  Everything
 * here is bounded in time and tracks what it starts so `after` hooks can
 * stop it.
 */

'use strict';

const { spawn } = require('node:child_process');
const net = require('node:net');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const WORKER = path.join(__dirname, '..', 'bin', 'faas-worker.js');
const FIXTURES = path.join(__dirname, 'fixtures');

const MAGIC = Buffer.from('FaaS');
const F = {
  FUNCTION: 0x01, METHOD: 0x02, PATH: 0x03, QUERY: 0x04,
  HEADER_NAME: 0x05, HEADER_VALUE: 0x06, PARAM_NAME: 0x07,
  PARAM_VALUE: 0x08, TRACE_ID: 0x09, DEADLINE: 0x0a, ROUTE: 0x0b,
  CLIENT_ADDR: 0x0c, URL: 0x0d, STATUS: 0x10,
};

let traceSeq = 0;


function tmpDir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'faas-rt-'));
}


function frameHeader(type, flags, headLen, bodyLen) {
  const h = Buffer.alloc(16);

  MAGIC.copy(h, 0);
  h[4] = 1;
  h[5] = type;
  h.writeUInt16BE(flags, 6);
  h.writeUInt32BE(headLen, 8);
  h.writeUInt32BE(bodyLen, 12);

  return h;
}


function field(tag, value) {
  const v = Buffer.isBuffer(value) ? value : Buffer.from(String(value));
  const f = Buffer.alloc(5);

  f[0] = tag;
  f.writeUInt32BE(v.length, 1);

  return Buffer.concat([f, v]);
}


/*
 * r: { fn, method, path, query, url, route, traceId, deadline, ip,
 *      headers: [[name, value]...], params: [[name, value]...], body,
 *      extra: [Buffer...] (raw fields appended to the head) }
 */
function encodeRequest(r) {
  const fields = [];
  const body = r.body === undefined ? Buffer.alloc(0)
               : Buffer.isBuffer(r.body) ? r.body : Buffer.from(r.body);
  const traceId = r.traceId || 'trace-' + process.pid + '-' + ++traceSeq;

  fields.push(field(F.FUNCTION, r.fn || 'test'));
  fields.push(field(F.METHOD, r.method || 'GET'));
  fields.push(field(F.PATH, r.path || '/'));

  if (r.query) {
    fields.push(field(F.QUERY, r.query));
  }

  fields.push(field(F.URL, r.url
                    || (r.path || '/') + (r.query ? '?' + r.query : '')));
  fields.push(field(F.ROUTE, r.route || r.path || '/'));
  fields.push(field(F.TRACE_ID, traceId));

  if (r.deadline !== null) {
    fields.push(field(F.DEADLINE, r.deadline || 60000));
  }

  fields.push(field(F.CLIENT_ADDR, r.ip || '127.0.0.1'));

  for (const [n, v] of r.params || []) {
    fields.push(field(F.PARAM_NAME, n), field(F.PARAM_VALUE, v));
  }

  for (const [n, v] of r.headers || []) {
    fields.push(field(F.HEADER_NAME, n), field(F.HEADER_VALUE, v));
  }

  fields.push(field(F.HEADER_NAME, 'x-request-id'),
              field(F.HEADER_VALUE, traceId));

  if (body.length) {
    fields.push(field(F.HEADER_NAME, 'content-length'),
                field(F.HEADER_VALUE, String(body.length)));
  }

  for (const x of r.extra || []) {
    fields.push(x);
  }

  const head = Buffer.concat(fields);

  return Buffer.concat([frameHeader(1, 0, head.length, body.length), head,
                        body]);
}


/* a response frame from the front of buf, or null when incomplete */
function decodeResponse(buf) {
  if (buf.length < 16) {
    return null;
  }

  if (!buf.subarray(0, 4).equals(MAGIC) || buf[4] !== 1 || buf[5] !== 2) {
    throw new Error('bad response frame header: '
                    + buf.subarray(0, 16).toString('hex'));
  }

  const flags = buf.readUInt16BE(6);
  const headLen = buf.readUInt32BE(8);
  const bodyLen = buf.readUInt32BE(12);
  const total = 16 + headLen + bodyLen;

  if (buf.length < total) {
    return null;
  }

  const head = buf.subarray(16, 16 + headLen);
  const headers = [];
  let status = null;
  let name = null;

  for (let p = 0; p < head.length;) {
    const tag = head[p];
    const len = head.readUInt32BE(p + 1);
    const v = head.subarray(p + 5, p + 5 + len).toString('latin1');

    p += 5 + len;

    if (p > head.length) {
      throw new Error('response field runs past the head');
    }

    if (tag === F.STATUS) {
      if (status !== null) {
        throw new Error('two status fields');
      }

      status = Number(v);

    } else if (tag === F.HEADER_NAME) {
      if (name !== null) {
        throw new Error('header name without value');
      }

      name = v;

    } else if (tag === F.HEADER_VALUE) {
      if (name === null) {
        throw new Error('header value without name');
      }

      headers.push([name, v]);
      name = null;
    }
  }

  if (name !== null || status === null) {
    throw new Error('malformed response head');
  }

  const res = {
    status,
    flags,
    close: (flags & 1) === 1,
    headers,
    body: Buffer.from(buf.subarray(16 + headLen, total)),
    header(n) {
      const h = headers.find(([k]) => k.toLowerCase() === n.toLowerCase());

      return h ? h[1] : undefined;
    },
    all(n) {
      return headers.filter(([k]) => k.toLowerCase() === n.toLowerCase())
                    .map(([, v]) => v);
    },
    get text() {
      return this.body.toString('utf8');
    },
    json() {
      return JSON.parse(this.body.toString('utf8'));
    },
  };

  return { res, rest: buf.subarray(total) };
}


class Client {
  static connect(sockPath, timeout = 5000) {
    return new Promise((resolve, reject) => {
      const s = net.connect(sockPath);
      const t = setTimeout(() => {
        s.destroy();
        reject(new Error('connect timed out'));
      }, timeout);

      s.once('connect', () => {
        clearTimeout(t);
        resolve(new Client(s));
      });
      s.once('error', (e) => {
        clearTimeout(t);
        reject(e);
      });
    });
  }

  constructor(socket) {
    this.socket = socket;
    this.buf = Buffer.alloc(0);
    this.waiter = null;
    this.isClosed = false;
    this.closed = new Promise((resolve) => {
      socket.on('close', () => {
        this.isClosed = true;
        resolve();

        if (this.waiter) {
          this.waiter.reject(new Error('connection closed'));
        }
      });
    });

    socket.on('error', () => {});
    socket.on('data', (c) => {
      this.buf = Buffer.concat([this.buf, c]);
      this.check();
    });
  }

  check() {
    if (!this.waiter) {
      return;
    }

    let r;

    try {
      r = decodeResponse(this.buf);

    } catch (e) {
      this.waiter.reject(e);
      return;
    }

    if (r) {
      this.buf = r.rest;
      this.waiter.resolve(r.res);
    }
  }

  /* the next response frame */
  read(timeout = 5000) {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiter = null;
        reject(new Error('no response in ' + timeout + ' ms'));
      }, timeout);

      this.waiter = {
        resolve: (v) => {
          clearTimeout(t);
          this.waiter = null;
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(t);
          this.waiter = null;
          reject(e);
        },
      };

      if (this.isClosed) {
        this.waiter.reject(new Error('connection closed'));
        return;
      }

      this.check();
    });
  }

  write(bytes) {
    this.socket.write(bytes);
  }

  request(r, timeout) {
    this.write(encodeRequest(r));
    return this.read(timeout);
  }

  close() {
    this.socket.destroy();
  }
}


/* one request on a fresh connection */
async function request(sockPath, r, timeout) {
  const c = await Client.connect(sockPath);

  try {
    return await c.request(r, timeout);

  } finally {
    c.close();
  }
}


const started = new Set();


class WorkerProcess {
  /*
   * o: { dir (code dir, default fixtures), handler, initializer,
   *      env: {}, ready: wait for "ready" (default true), timeout }
   */
  static async start(o = {}) {
    const dir = tmpDir();
    const sock = path.join(dir, 'w.sock');
    const env = {
      PATH: process.env.PATH,
      FAAS_LISTEN: sock,
      FAAS_FUNCTION: o.fn || 'test',
      FAAS_SERVICE: 'svc',
      FAAS_SLOT: '0',
      FAAS_CODE_DIR: o.dir || FIXTURES,
      FAAS_HANDLER: o.handler || 'basic.handler',
      ...o.env,
    };

    if (o.initializer) {
      env.FAAS_INITIALIZER = o.initializer;
    }

    const w = new WorkerProcess(spawn(process.execPath, [WORKER], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    }), sock, dir);

    if (o.ready !== false) {
      await w.waitFor(/^ready$/m, o.timeout || 5000);
    }

    return w;
  }

  constructor(proc, sock, dir) {
    this.proc = proc;
    this.sock = sock;
    this.dir = dir;
    this.stdout = '';
    this.stderr = '';
    this.watchers = [];
    this.exited = new Promise((resolve) => {
      proc.on('exit', (code, signal) => {
        this.exitStatus = { code, signal };
        resolve(this.exitStatus);
        this.notify();
      });
    });
    this.exitStatus = null;

    started.add(this);

    proc.stdout.on('data', (c) => {
      this.stdout += c;
      this.notify();
    });
    proc.stderr.on('data', (c) => {
      this.stderr += c;
      this.notify();
    });
  }

  notify() {
    for (const w of this.watchers.slice()) {
      w();
    }
  }

  /* resolves when the output (both streams) matches re */
  waitFor(re, timeout = 5000) {
    return new Promise((resolve, reject) => {
      const check = () => {
        const m = re.exec(this.stdout) || re.exec(this.stderr);

        if (m) {
          done();
          resolve(m);

        } else if (this.exitStatus) {
          done();
          reject(new Error('worker exited (' + JSON.stringify(this.exitStatus)
                           + ') before ' + re + '; stderr: ' + this.stderr));
        }
      };
      const t = setTimeout(() => {
        done();
        reject(new Error('timed out waiting for ' + re + '; stdout: '
                         + this.stdout + '; stderr: ' + this.stderr));
      }, timeout);
      const done = () => {
        clearTimeout(t);
        this.watchers = this.watchers.filter((w) => w !== check);
      };

      this.watchers.push(check);
      check();
    });
  }

  /* the exit status, or a rejection after timeout */
  waitExit(timeout = 5000) {
    return Promise.race([
      this.exited,
      new Promise((resolve, reject) => {
        setTimeout(() => reject(new Error('worker did not exit; stderr: '
                                          + this.stderr)), timeout).unref();
      }),
    ]);
  }

  connect() {
    return Client.connect(this.sock);
  }

  request(r, timeout) {
    return request(this.sock, r, timeout);
  }

  signal(sig) {
    this.proc.kill(sig);
  }

  async stop() {
    started.delete(this);

    if (!this.exitStatus) {
      this.proc.kill('SIGKILL');
      await this.exited;
    }

    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}


/* stops every worker a test file started (for `after`) */
async function stopAll() {
  await Promise.all([...started].map((w) => w.stop()));
}


function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}


module.exports = {
  WORKER,
  FIXTURES,
  F,
  tmpDir,
  field,
  frameHeader,
  encodeRequest,
  decodeResponse,
  Client,
  request,
  WorkerProcess,
  stopAll,
  sleep,
};
