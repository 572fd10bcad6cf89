/*
 * Copyright (C) ngx_faas authors
 *
 * The demo's functions (examples/) served by the runtime, with the
 * environment faasd would give them from their f.yml.
 */

'use strict';

const test = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const { WorkerProcess, stopAll } = require('./client');

const T = { timeout: 15000 };
const EXAMPLES = path.join(__dirname, '..', '..', '..', 'examples');

test.after(stopAll);


test('examples/hello', T, async () => {
  const w = await WorkerProcess.start({
    fn: 'hello', dir: path.join(EXAMPLES, 'hello'), handler: 'index.handler',
  });
  let r = await w.request({ fn: 'hello', path: '/api/hello',
                            query: 'name=x' });

  assert.strictEqual(r.status, 200);
  assert.strictEqual(r.header('content-type'),
                     'application/json; charset=utf-8');
  assert.strictEqual(r.text, '{"hello":"x"}');

  r = await w.request({ fn: 'hello', path: '/api/hello' });
  assert.strictEqual(r.text, '{"hello":"world"}');
  await w.stop();
});


test('examples/users', T, async () => {
  const w = await WorkerProcess.start({
    fn: 'users',
    dir: path.join(EXAMPLES, 'users'),
    handler: 'index.handler',
    initializer: 'index.initializer',
    env: { FAAS_CONCURRENCY: '8', USERS_REGION: 'eu-west-1' },
  });

  assert.match(w.stdout, /users store ready in eu-west-1/);

  const c = await w.connect();
  let r = await c.request({ fn: 'users', method: 'GET',
                            path: '/api/users/7', params: [['id', '7']] });

  assert.strictEqual(r.status, 200);
  assert.deepStrictEqual(r.json(), { id: '7', region: 'eu-west-1' });

  r = await c.request({
    fn: 'users',
    method: 'POST',
    path: '/api/users/7',
    params: [['id', '7']],
    headers: [['Content-Type', 'application/json']],
    body: '{"name":"Ada"}',
  });

  assert.strictEqual(r.status, 201);
  assert.strictEqual(r.header('location'), '/api/users/7');
  assert.deepStrictEqual(r.json(), { id: '7', body: { name: 'Ada' },
                                     region: 'eu-west-1' });

  r = await c.request({ fn: 'users', method: 'GET', path: '/api/users/7',
                        params: [['id', '7']] });
  assert.deepStrictEqual(r.json(), { id: '7', body: { name: 'Ada' },
                                     region: 'eu-west-1' });

  r = await c.request({
    fn: 'users',
    method: 'POST',
    path: '/api/users/8',
    params: [['id', '8']],
    headers: [['Content-Type', 'application/json']],
    body: '{"name":',
  });
  assert.strictEqual(r.status, 400);

  c.close();
  await w.stop();
});
