/*
 * Copyright (C) ngx_faas authors
 *
 * What a Midway-style handler sees and what it may answer, through a real
 * worker: query, params, headers, bodies in and out, statuses, errors.
 */

'use strict';

const test = require('node:test');
const assert = require('node:assert');
const crypto = require('node:crypto');
const { WorkerProcess, stopAll, sleep } = require('./client');

const T = { timeout: 15000 };
const JSON_TYPE = 'application/json; charset=utf-8';
const TEXT_TYPE = 'text/plain; charset=utf-8';

let w;

test.before(async () => {
  w = await WorkerProcess.start({
    fn: 'basic',
    env: { MY_SETTING: 'from-env', FAAS_CONCURRENCY: '4' },
  });
});

test.after(stopAll);


function echo(r) {
  return w.request({ path: '/echo', ...r }).then((res) => {
    assert.strictEqual(res.status, 200, res.text);
    return res.json();
  });
}


test('hello with and without a query', T, async () => {
  let r = await w.request({ path: '/hello', query: 'name=x' });

  assert.strictEqual(r.status, 200);
  assert.strictEqual(r.header('content-type'), JSON_TYPE);
  assert.strictEqual(r.text, '{"hello":"x"}');

  r = await w.request({ path: '/hello' });
  assert.deepStrictEqual(r.json(), { hello: 'world' });
});


test('request line: method, path, url, query arrays, params, ip, ids', T,
     async () => {
  const e = await echo({
    method: 'DELETE',
    query: 'a=1&a=2&b=%C3%A9&c',
    params: [['id', '42'], ['*', 'rest/of/path']],
    traceId: 'trace-xyz',
    ip: '192.0.2.7',
  });

  assert.strictEqual(e.method, 'DELETE');
  assert.strictEqual(e.requestMethod, 'DELETE');
  assert.strictEqual(e.path, '/echo');
  assert.strictEqual(e.requestPath, '/echo');
  assert.strictEqual(e.url, '/echo?a=1&a=2&b=%C3%A9&c');
  assert.strictEqual(e.querystring, 'a=1&a=2&b=%C3%A9&c');
  assert.deepStrictEqual(e.query, { a: ['1', '2'], b: '\u00e9', c: '' });
  assert.deepStrictEqual(e.params, { id: '42', '*': 'rest/of/path' });
  assert.strictEqual(e.ip, '192.0.2.7');
  assert.strictEqual(e.requestIp, '192.0.2.7');
  assert.strictEqual(e.requestId, 'trace-xyz');
  assert.strictEqual(e.traceId, 'trace-xyz');
  assert.strictEqual(e.function, 'test');
});


test('request headers: lower-case, repeated ones joined as Node does', T,
     async () => {
  const e = await echo({
    headers: [
      ['User-Agent', 'tester'],
      ['X-Multi', 'one'],
      ['x-multi', 'two'],
      ['Cookie', 'a=1'],
      ['COOKIE', 'b=2'],
      ['Set-Cookie', 's=1'],
      ['set-cookie', 's=2'],
      ['Host', 'first.example'],
      ['host', 'second.example'],
    ],
  });

  assert.strictEqual(e.headers['user-agent'], 'tester');
  assert.strictEqual(e.getUa, 'tester');
  assert.strictEqual(e.getMissing, '');
  assert.strictEqual(e.headers['x-multi'], 'one, two');
  assert.strictEqual(e.headers.cookie, 'a=1; b=2');
  assert.deepStrictEqual(e.headers['set-cookie'], ['s=1', 's=2']);
  assert.strictEqual(e.headers.host, 'first.example');
  assert.strictEqual(e.headers['x-request-id'], e.traceId);
});


test('JSON body parsed', T, async () => {
  const e = await echo({
    method: 'POST',
    headers: [['Content-Type', 'application/json; charset=utf-8']],
    body: JSON.stringify({ name: 'n', list: [1, 2], nested: { ok: true } }),
  });

  assert.deepStrictEqual(e.body, { name: 'n', list: [1, 2],
                                   nested: { ok: true } });
  assert.strictEqual(e.bodyType, 'object');

  const v = await echo({
    method: 'POST',
    headers: [['content-type', 'application/vnd.api+json']],
    body: '[1]',
  });

  assert.deepStrictEqual(v.body, [1]);
});


test('invalid JSON: 400 without calling the handler', T, async () => {
  const before = (await w.request({ path: '/stats' })).json().finished;
  const r = await w.request({
    method: 'POST',
    path: '/slow',
    headers: [['Content-Type', 'application/json']],
    body: '{"broken": ',
    traceId: 'bad-json',
  });

  assert.strictEqual(r.status, 400);
  assert.strictEqual(r.header('content-type'), JSON_TYPE);

  const b = r.json();

  assert.strictEqual(b.error, 'Bad Request');
  assert.match(b.message, /invalid JSON body/);
  assert.strictEqual(b.requestId, 'bad-json');
  await sleep(250);
  assert.strictEqual((await w.request({ path: '/stats' })).json().finished,
                     before);
});


test('form, text, binary and empty bodies', T, async () => {
  const form = await echo({
    method: 'POST',
    headers: [['Content-Type', 'application/x-www-form-urlencoded']],
    body: 'a=1&b=two+words&a=3',
  });

  assert.deepStrictEqual(form.body, { a: ['1', '3'], b: 'two words' });

  const text = await echo({
    method: 'PUT',
    headers: [['Content-Type', 'text/plain']],
    body: 'just text \u2603',
  });

  assert.strictEqual(text.body, 'just text \u2603');
  assert.strictEqual(text.bodyType, 'string');

  const bin = await echo({
    method: 'POST',
    headers: [['Content-Type', 'application/octet-stream']],
    body: Buffer.from([1, 2, 3]),
  });

  assert.strictEqual(bin.bodyType, 'buffer');
  assert.strictEqual(bin.rawLength, 3);

  const none = await echo({ method: 'POST' });

  assert.strictEqual(none.bodyType, 'undefined');
  assert.strictEqual(none.rawLength, 0);
});


test('response headers: several Set-Cookie, arrays, append, object', T,
     async () => {
  const r = await w.request({ path: '/cookies' });

  assert.strictEqual(r.status, 200);
  assert.deepStrictEqual(r.all('set-cookie'), ['a=1; Path=/', 'b=2', 'c=3']);
  assert.deepStrictEqual(r.all('x-multi'), ['x', 'y']);
  assert.strictEqual(r.header('x-from-object'), 'yes');
  assert.strictEqual(r.header('x-via-response'), 'r');
  assert.deepStrictEqual(r.json().cookie, ['a=1; Path=/', 'b=2', 'c=3']);
  assert.strictEqual(r.json().headers['x-from-object'], 'yes');

  /* the names keep the case the handler gave */
  assert.ok(r.headers.some(([n]) => n === 'Set-Cookie'));
});


test('bodies and their content types', T, async () => {
  const cases = [
    ['/string', 200, TEXT_TYPE, Buffer.from('hello text')],
    ['/html', 200, 'text/html; charset=utf-8', Buffer.from('  <p>hi</p>')],
    ['/buffer', 200, 'application/octet-stream', Buffer.from([0, 1, 2, 255])],
    ['/uint8', 200, 'application/octet-stream', Buffer.from([7, 8, 9])],
    ['/number', 200, JSON_TYPE, Buffer.from('42')],
    ['/null', 200, JSON_TYPE, Buffer.from('null')],
    ['/array', 200, JSON_TYPE, Buffer.from('[1,"two"]')],
    ['/typed', 200, 'application/xml; charset=utf-8', Buffer.from('<a/>')],
    ['/typed-full', 200, 'application/vnd.custom',
     Buffer.from('{"custom":true}')],
    ['/return', 200, JSON_TYPE, Buffer.from('{"returned":true}')],
    ['/return-string', 200, TEXT_TYPE, Buffer.from('returned text')],
    ['/return-ignored', 200, TEXT_TYPE, Buffer.from('set')],
    ['/nothing', 404, TEXT_TYPE, Buffer.from('Not Found')],
    ['/stream', 200, TEXT_TYPE, Buffer.from('streamed body')],
  ];

  for (const [path, status, type, body] of cases) {
    const r = await w.request({ path });

    assert.strictEqual(r.status, status, path);
    assert.deepStrictEqual(r.all('content-type'), [type], path);
    assert.deepStrictEqual(r.body, body, path);
  }

  const t = await w.request({ path: '/type-get' });

  assert.deepStrictEqual(t.json(), { type: 'application/json',
                                     responseType: 'application/json' });
});


test('status codes', T, async () => {
  let r = await w.request({ path: '/status', query: 'code=204' });

  assert.strictEqual(r.status, 204);
  assert.strictEqual(r.body.length, 0);
  assert.strictEqual(r.header('content-type'), undefined);

  r = await w.request({ path: '/status', query: 'code=418' });
  assert.strictEqual(r.status, 418);
  assert.strictEqual(r.text, 'I\'m a Teapot');

  r = await w.request({ path: '/status', query: 'code=202&body=1' });
  assert.strictEqual(r.status, 202);
  assert.deepStrictEqual(r.json(), { code: 202 });

  r = await w.request({ path: '/status-after' });
  assert.strictEqual(r.status, 201);
  assert.strictEqual(r.text, 'created');

  r = await w.request({ path: '/status', query: 'code=99' });
  assert.strictEqual(r.status, 500);

  r = await w.request({ path: '/redirect' });
  assert.strictEqual(r.status, 302);
  assert.strictEqual(r.header('location'), '/elsewhere');
});


test('2 MB bodies both ways', T, async () => {
  const big = crypto.randomBytes(2 * 1024 * 1024);
  let r = await w.request({
    method: 'POST',
    path: '/mirror',
    headers: [['Content-Type', 'application/octet-stream']],
    body: big,
  }, 10000);

  assert.strictEqual(r.status, 200);
  assert.strictEqual(r.body.length, big.length);
  assert.ok(r.body.equals(big));

  r = await w.request({ path: '/big', query: 'n=' + 5 * 1024 * 1024 },
                      10000);
  assert.strictEqual(r.body.length, 5 * 1024 * 1024);

  r = await w.request({ path: '/big-string', query: 'n=3000000' }, 10000);
  assert.strictEqual(r.body.length, 3000000);
  assert.strictEqual(r.header('content-type'), TEXT_TYPE);
});


test('a throwing handler: 500 with the request id, worker still serves', T,
     async () => {
  for (const path of ['/throw', '/reject', '/throw-string', '/circular']) {
    const r = await w.request({ path, traceId: 'tid' + path });

    assert.strictEqual(r.status, 500, path);
    assert.strictEqual(r.header('content-type'), JSON_TYPE);
    assert.deepStrictEqual(r.json(), { error: 'Internal Server Error',
                                       requestId: 'tid' + path });
  }

  await w.waitFor(/basic: request tid\/throw failed: Error: boom\n\s+at /);
  await w.waitFor(/request tid\/reject failed: Error: async boom/);
  await w.waitFor(/request tid\/throw-string failed: not an error/);

  const r = await w.request({ path: '/hello' });

  assert.strictEqual(r.status, 200);
});


test('ctx.throw: 4xx with its message, 5xx without', T, async () => {
  let r = await w.request({ path: '/throw-400', traceId: 't400' });

  assert.strictEqual(r.status, 400);
  assert.deepStrictEqual(r.json(), { error: 'Bad Request',
                                     message: 'name is required',
                                     requestId: 't400' });

  r = await w.request({ path: '/throw-503', traceId: 't503' });
  assert.strictEqual(r.status, 503);
  assert.deepStrictEqual(r.json(), { error: 'Service Unavailable',
                                     requestId: 't503' });
});


test('bad response headers dropped with a log line, forbidden ones too', T,
     async () => {
  const r = await w.request({ path: '/bad-headers', traceId: 'badh' });

  assert.strictEqual(r.status, 200);
  assert.strictEqual(r.text, 'fine');
  assert.deepStrictEqual(r.headers.map(([n]) => n.toLowerCase()).sort(),
                         ['content-type', 'x-good', 'x-wide']);
  assert.strictEqual(Buffer.from(r.header('x-wide'), 'latin1')
                     .toString('utf8'), 'caf\u00e9 \u2603');
  await w.waitFor(/request badh: response header "X-Bad" dropped/);
  await w.waitFor(/request badh: response header "X-Nul" dropped/);
  await w.waitFor(/request badh: response header "Bad Name" dropped/);
});


test('environment: FAAS_* and the function\'s own variables', T,
     async () => {
  const r = await w.request({ path: '/env' });

  assert.deepStrictEqual(r.json(), {
    FAAS_FUNCTION: 'basic',
    FAAS_SERVICE: 'svc',
    FAAS_SLOT: '0',
    FAAS_HANDLER: 'basic.handler',
    FAAS_CONCURRENCY: '4',
    MY_SETTING: 'from-env',
    env: 'prod',
    function: 'test',
  });
});


test('ctx.logger prefixes the trace id; ctx.state', T, async () => {
  const r = await w.request({ path: '/log', traceId: 'log-trace' });

  assert.strictEqual(r.text, 'logged');
  await w.waitFor(/^\[log-trace\] info line formatted$/m);
  await w.waitFor(/^\[log-trace\] error line$/m);

  const s = await w.request({ path: '/state' });

  /* as in koa, the status is 404 until a body is set */
  assert.deepStrictEqual(s.json(), { state: { user: 'u' }, status: 404 });
  assert.strictEqual(s.status, 200);
});
