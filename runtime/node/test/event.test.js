/*
 * Copyright (C) ngx_faas authors
 *
 * Event-style handlers (event, context[, callback]), as on Alibaba Cloud
 * FC's API gateway trigger.
 */

'use strict';

const test = require('node:test');
const assert = require('node:assert');
const { WorkerProcess, stopAll } = require('./client');

const T = { timeout: 15000 };

test.after(stopAll);


test('event and context in, { statusCode, headers, body } out', T,
     async () => {
  const w = await WorkerProcess.start({ fn: 'ev', handler: 'event.handler' });
  const r = await w.request({
    fn: 'ev',
    method: 'POST',
    path: '/things/9',
    query: 'q=1&q=2',
    params: [['id', '9']],
    headers: [['X-Test', 'yes'], ['Content-Type', 'application/json']],
    body: '{"not":"parsed"}',
    traceId: 'ev-1',
  });

  assert.strictEqual(r.status, 202);
  assert.strictEqual(r.header('x-event'), 'yes');

  const e = r.json();

  assert.deepStrictEqual(e, {
    path: '/things/9',
    httpMethod: 'POST',
    queryParameters: { q: ['1', '2'] },
    pathParameters: { id: '9' },
    body: '{"not":"parsed"}',
    isBase64Encoded: false,
    header: 'yes',
    requestId: 'ev-1',
    function: { name: 'ev', handler: 'event.handler' },
  });

  /* binary request bodies arrive base64-encoded */
  const b = await w.request({
    path: '/things/1',
    headers: [['Content-Type', 'application/octet-stream']],
    body: Buffer.from([0xff, 0, 1]),
  });

  assert.strictEqual(b.json().body, '/wAB');
  assert.strictEqual(b.json().isBase64Encoded, true);

  /* a base64 result is decoded; array header values give several */
  const p = await w.request({ path: '/binary' });

  assert.deepStrictEqual(p.body, Buffer.from([137, 80, 78, 71]));
  assert.strictEqual(p.header('content-type'), 'image/png');
  assert.deepStrictEqual(p.all('x-kind'), ['a', 'b']);

  /* any other result is a body, as ctx.body would be */
  const o = await w.request({ path: '/plain', traceId: 'ev-2' });

  assert.strictEqual(o.status, 200);
  assert.deepStrictEqual(o.json(), { plain: true, requestId: 'ev-2' });

  const f = await w.request({ path: '/fail', traceId: 'ev-3' });

  assert.strictEqual(f.status, 500);
  assert.deepStrictEqual(f.json(), { error: 'Internal Server Error',
                                     requestId: 'ev-3' });
  await w.waitFor(/ev: request ev-3 failed: Error: event boom/);
  await w.stop();
});


test('a callback-style event handler', T, async () => {
  const w = await WorkerProcess.start({ handler: 'event.withCallback' });
  const r = await w.request({ path: '/cb' });

  assert.strictEqual(r.status, 200);
  assert.strictEqual(r.text, 'cb /cb');
  await w.stop();
});
