/*
 * Copyright (C) ngx_faas authors
 *
 * The worker's life: loading, the initializer, the faasd interface (fds
 * 3 and 4), concurrency and its queue, timeouts, abandoned requests,
 * drain on SIGTERM, and what happens on errors outside requests.
 */

'use strict';

const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { performance } = require('node:perf_hooks');
const {
  WORKER, FIXTURES, WorkerProcess, Client, encodeRequest, stopAll, sleep,
  tmpDir,
} = require('./client');

const T = { timeout: 20000 };

test.after(stopAll);


async function expectInitFailure(o, re) {
  const w = await WorkerProcess.start({ ...o, ready: false });
  const st = await w.waitExit(8000);

  assert.strictEqual(st.code, 121, w.stderr);
  assert.match(w.stderr, re);
  assert.doesNotMatch(w.stdout, /^ready$/m);
  await w.stop();
}


test.describe('loading and initialising', () => {
  test('the initializer runs once, before ready', T, async () => {
    const w = await WorkerProcess.start({
      handler: 'init.handler', initializer: 'init.initializer',
      env: { FAAS_CONCURRENCY: '4' },
    });

    assert.ok(w.stdout.indexOf('init done test\n')
              < w.stdout.indexOf('ready\n'), w.stdout);

    const c = await w.connect();

    for (let i = 0; i < 5; i++) {
      const r = await c.request({ path: '/' });

      assert.deepStrictEqual(r.json(), { inits: 1, greeting: 'prepared' });
    }

    c.close();
    await w.stop();
  });

  test('a callback-style initializer', T, async () => {
    const w = await WorkerProcess.start({
      handler: 'init-cb.handler', initializer: 'init-cb.initializer',
    });
    const r = await w.request({ path: '/' });

    assert.deepStrictEqual(r.json(), { inits: 1 });
    await w.stop();
  });

  test('a failing initializer: exit 121, never ready', T, async () => {
    await expectInitFailure({ handler: 'init-fail.handler',
                              initializer: 'init-fail.initializer' },
                            new RegExp('initializer "init-fail.initializer"'
                                       + ' failed: Error: database'
                                       + ' unreachable\n +at '));
    await expectInitFailure({ handler: 'init-fail.handler',
                              initializer: 'init-fail.callbackFails' },
                            /callback says no/);
    await expectInitFailure({ handler: 'init-fail.handler',
                              initializer: 'init-fail.hangs',
                              env: { FAAS_INIT_TIMEOUT_MS: '200' } },
                            /did not finish in 200 ms/);
  });

  test('bad handler references: exit 121 with the reason', T, async () => {
    await expectInitFailure({ handler: 'bad.handler' },
                            new RegExp('"bad.handler": .*bad\\.js exports'
                                       + ' no function "handler" \\(found'
                                       + ' number\\)'));
    await expectInitFailure({ handler: 'missing.handler' },
                            /handler "missing.handler": no file .*missing/);
    await expectInitFailure({ handler: 'nodot' },
                            /"nodot" is not of the form file.export/);
    await expectInitFailure({ handler: 'basic.nothere' },
                            /no function "nothere" \(found undefined\)/);
    await expectInitFailure({ handler: 'init.handler',
                              initializer: 'init.nope' },
                            /initializer "init.nope"/);
    await expectInitFailure({ env: { FAAS_CONCURRENCY: 'many' } },
                            /FAAS_CONCURRENCY="many": expected an integer/);

    const dir = tmpDir();

    fs.writeFileSync(path.join(dir, 'broken.js'), 'exports.handler = (;\n');
    await expectInitFailure({ dir, handler: 'broken.handler' },
                            /loading .*broken\.js failed: [^]*SyntaxError/);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('a handler in a subdirectory, split on the last dot', T,
       async () => {
    const w = await WorkerProcess.start({ handler: 'sub/api.get' });
    const r = await w.request({ path: '/' });

    assert.deepStrictEqual(r.json(), { from: 'sub/api.js' });
    await w.stop();
  });

  test('faasd mode: listening socket on fd 3, "R" on fd 4', T,
       async () => {
    const dir = tmpDir();
    const sock = path.join(dir, 'fd.sock');
    const script = [
      'import os, socket, sys',
      's = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)',
      's.bind(sys.argv[1])',
      's.listen(64)',
      'if s.fileno() != 3: os.dup2(s.fileno(), 3)',
      'os.set_inheritable(3, True)',
      'os.set_inheritable(4, True)',
      'env = dict(os.environ, FAAS_LISTEN_FD="3", FAAS_READY_FD="4")',
      'os.execve(sys.argv[2], [sys.argv[2], sys.argv[3]], env)',
    ].join('\n');
    const proc = spawn('python3', ['-c', script, sock, process.execPath,
                                   WORKER], {
      env: {
        PATH: process.env.PATH,
        FAAS_FUNCTION: 'fdmode',
        FAAS_CODE_DIR: FIXTURES,
        FAAS_HANDLER: 'init.handler',
        FAAS_INITIALIZER: 'init.initializer',
      },
      stdio: ['ignore', 'pipe', 'pipe', 'ignore', 'pipe'],
    });
    let out = '';
    let ready = '';

    proc.stdout.on('data', (c) => { out += c; });
    proc.stderr.on('data', (c) => { out += c; });

    const exited = new Promise((resolve) => proc.on('exit', (code) => {
      resolve(code);
    }));

    try {
      await new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('no R: ' + out)), 8000);

        proc.stdio[4].on('data', (c) => { ready += c; });
        proc.stdio[4].on('end', () => {
          clearTimeout(t);
          resolve();
        });
      });

      assert.strictEqual(ready, 'R');
      assert.match(out, /init done fdmode/);
      assert.doesNotMatch(out, /^ready$/m);

      const c = await Client.connect(sock);
      const r = await c.request({ path: '/' });

      assert.deepStrictEqual(r.json(), { inits: 1, greeting: 'prepared' });
      c.close();

      proc.kill('SIGTERM');
      assert.strictEqual(await exited, 0);

    } finally {
      proc.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});


test.describe('concurrency, queue and timeouts', () => {
  test('concurrency 2: four slow requests run two at a time', T,
       async () => {
    const w = await WorkerProcess.start({
      env: { FAAS_CONCURRENCY: '2' },
    });
    const clients = await Promise.all([0, 1, 2, 3].map(() => w.connect()));
    const t0 = performance.now();
    const done = await Promise.all(clients.map(async (c, i) => {
      const r = await c.request({ path: '/slow',
                                  query: 'ms=300&id=' + i });

      assert.strictEqual(r.status, 200);
      return performance.now() - t0;
    }));

    done.sort((a, b) => a - b);
    assert.ok(done[1] < 550, 'first pair at ' + done);
    assert.ok(done[2] >= 550, 'second pair at ' + done);

    const s = await clients[0].request({ path: '/stats' });

    assert.strictEqual(s.json().maxInflight, 2);
    clients.forEach((c) => c.close());
    await w.stop();
  });

  test('queued requests start in arrival order', T, async () => {
    const w = await WorkerProcess.start();
    const order = [];
    const clients = [];

    for (let i = 0; i < 5; i++) {
      clients.push(await w.connect());
    }

    await Promise.all(clients.map(async (c, i) => {
      await sleep(i * 15);
      await c.request({ path: '/slow', query: 'ms=40&id=' + i });
      order.push(i);
    }));

    assert.deepStrictEqual(order, [0, 1, 2, 3, 4]);
    clients.forEach((c) => c.close());
    await w.stop();
  });

  test('a handler\'s ctx.next, ctx.done... leave the run queue alone', T,
       async () => {
    const w = await WorkerProcess.start({
      env: { FAAS_CONCURRENCY: '2' },
    });
    const clients = await Promise.all([0, 1, 2, 3, 4, 5].map(
      () => w.connect()));

    /* six at once on two slots: some run, some wait in the queue */
    const answers = await Promise.all(clients.map(async (c, i) => {
      const r = await c.request({ path: '/own-fields',
                                  query: 'ms=50&id=' + i });

      assert.strictEqual(r.status, 200);
      return r.json();
    }));

    answers.forEach((a, i) => {
      assert.deepStrictEqual(a, { id: String(i), next: { step: 2 },
                                  done: true });
    });

    /* and the worker still schedules: both slots free, none lost */
    const s = await clients[0].request({ path: '/slow', query: 'ms=1' });

    assert.strictEqual(s.status, 200);
    assert.strictEqual(s.json().inflight, 0);
    clients.forEach((c) => c.close());
    await w.stop();
  });

  test('a full queue answers 503', T, async () => {
    const w = await WorkerProcess.start({ env: { FAAS_QUEUE_MAX: '1' } });
    const clients = await Promise.all([0, 1, 2].map(() => w.connect()));
    const rs = [];

    rs.push(clients[0].request({ path: '/slow', query: 'ms=300' }));
    await sleep(30);
    rs.push(clients[1].request({ path: '/slow', query: 'ms=10' }));
    await sleep(30);
    rs.push(clients[2].request({ path: '/hello', traceId: 'refused' }));

    const [a, b, c] = await Promise.all(rs);

    assert.strictEqual(a.status, 200);
    assert.strictEqual(b.status, 200);
    assert.strictEqual(c.status, 503);
    assert.deepStrictEqual(c.json(), { error: 'Service Unavailable',
                                       requestId: 'refused' });
    clients.forEach((x) => x.close());
    await w.stop();
  });

  test('FAAS_TIMEOUT_MS: 504, "timed out" logged, the slot freed', T,
       async () => {
    const w = await WorkerProcess.start({ env: { FAAS_TIMEOUT_MS: '200' } });
    const t0 = performance.now();
    const r = await w.request({ path: '/slow', query: 'ms=1500',
                                traceId: 'too-slow' });
    const took = performance.now() - t0;

    assert.strictEqual(r.status, 504);
    assert.deepStrictEqual(r.json(), { error: 'Gateway Timeout',
                                       requestId: 'too-slow' });
    assert.ok(took >= 190 && took < 800, 'took ' + took);
    await w.waitFor(/request too-slow timed out after \d+ ms/);

    /* concurrency 1, the handler still sleeping: the slot is free */
    const t1 = performance.now();
    const h = await w.request({ path: '/hello' });

    assert.strictEqual(h.status, 200);
    assert.ok(performance.now() - t1 < 300);
    await w.stop();
  });

  test('the frame\'s deadline bounds a request too', T, async () => {
    const w = await WorkerProcess.start();
    const t0 = performance.now();
    const r = await w.request({ path: '/slow', query: 'ms=2000',
                                deadline: 150 });

    assert.strictEqual(r.status, 504);
    assert.ok(performance.now() - t0 < 800);
    await w.stop();
  });

  test('a connection closed while running or queued frees its slot', T,
       async () => {
    const w = await WorkerProcess.start();
    const a = await w.connect();
    const b = await w.connect();

    a.write(encodeRequest({ path: '/slow', query: 'ms=3000',
                            traceId: 'gone-running' }));
    await sleep(50);
    b.write(encodeRequest({ path: '/slow', query: 'ms=3000',
                            traceId: 'gone-queued' }));
    await sleep(50);
    a.close();
    b.close();
    await w.waitFor(/request gone-running abandoned/);

    const t0 = performance.now();
    const r = await w.request({ path: '/hello' });

    assert.strictEqual(r.status, 200);
    assert.ok(performance.now() - t0 < 500);
    await w.stop();
  });
});


test.describe('drain and failures', () => {
  test('SIGTERM: in-flight finished with CLOSE, idle closed, exit 0', T,
       async () => {
    const w = await WorkerProcess.start({ env: { FAAS_CONCURRENCY: '4' } });
    const busy = await w.connect();
    const idle = await w.connect();
    const unused = await w.connect();
    const late = await w.connect();

    /* a keepalive connection that has served one request */
    assert.strictEqual((await idle.request({ path: '/hello' })).status, 200);

    const slow = busy.request({ path: '/slow', query: 'ms=400' });
    const lateBytes = encodeRequest({ path: '/hello', query: 'name=late' });

    late.write(lateBytes.subarray(0, 20));
    await sleep(100);
    w.signal('SIGTERM');
    await w.waitFor(/draining on SIGTERM/);

    /* an idle keepalive connection still takes a request, with CLOSE */
    const ir = await idle.request({ path: '/hello' });

    assert.strictEqual(ir.status, 200);
    assert.strictEqual(ir.close, true);
    await idle.closed;
    assert.strictEqual(busy.isClosed, false);

    /* a request already under way on an open connection is served */
    late.write(lateBytes.subarray(20));

    const lr = await late.read();

    assert.deepStrictEqual(lr.json(), { hello: 'late' });
    assert.strictEqual(lr.close, true);

    const r = await slow;

    assert.strictEqual(r.status, 200);
    assert.strictEqual(r.close, true);
    await busy.closed;
    await late.closed;

    /* idle connections are closed once the grace is over */
    await unused.closed;

    const st = await w.waitExit();

    assert.deepStrictEqual(st, { code: 0, signal: null });
    await w.stop();
  });

  test('SIGINT drains an idle worker: exit 0', T, async () => {
    const w = await WorkerProcess.start();

    w.signal('SIGINT');
    assert.deepStrictEqual(await w.waitExit(), { code: 0, signal: null });
    await w.stop();
  });

  test('an uncaught exception outside a request: exit 1', T, async () => {
    const w = await WorkerProcess.start({ handler: 'crash.handler' });
    const r = await w.request({ path: '/' });

    assert.strictEqual(r.text, 'answered');
    assert.deepStrictEqual(await w.waitExit(), { code: 1, signal: null });
    assert.match(w.stderr,
                 /uncaught exception, exiting: Error: thrown outside/);
    await w.stop();
  });

  test('an unhandled rejection is logged, the worker serves on', T,
       async () => {
    const w = await WorkerProcess.start({ handler: 'crash.rejects' });

    for (let i = 0; i < 3; i++) {
      const r = await w.request({ path: '/' });

      assert.strictEqual(r.text, 'still serving');
    }

    await w.waitFor(/unhandled rejection: Error: nobody catches this/);
    assert.strictEqual(w.exitStatus, null);
    await w.stop();
  });
});
