/*
 * Copyright (C) ngx_faas authors
 *
 * The frame codec on its own, then the protocol against a real worker:
 * split and coalesced frames, keepalive, protocol errors.
 */

'use strict';

const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const proto = require('../lib/proto');
const { Context } = require('../lib/context');
const {
  F, field, frameHeader, encodeRequest, decodeResponse, WorkerProcess,
  stopAll, sleep,
} = require('./client');

const T = { timeout: 15000 };


/*
 * The protocol's constants, as engine/faas_proto.h defines them for
 * nginx and faasd: "#define FAAS_PROTO_NAME value" and
 * "#define FAAS_FIELD_NAME value".
 */
function headerConstants() {
  const h = fs.readFileSync(path.join(__dirname, '..', '..', '..', 'engine',
                                      'faas_proto.h'), 'utf8');
  const proto = {};
  const fields = {};
  const re = /^#define\s+FAAS_(PROTO|FIELD)_(\w+)\s+(.+?)\s*(?:\/\*.*)?$/gm;
  let m;

  while ((m = re.exec(h)) !== null) {
    const v = m[3];
    let value;

    if (/^"[^"]*"$/.test(v)) {
      value = v.slice(1, -1);

    } else if (/^[\d\sx*()a-fA-F]+$/.test(v)) {
      value = Function('"use strict"; return (' + v + ');')();

    } else {
      continue;
    }

    (m[1] === 'PROTO' ? proto : fields)[m[2]] = value;
  }

  return { proto, fields };
}


test('the constants are those of engine/faas_proto.h', () => {
  const { proto: c, fields } = headerConstants();
  const magic = Buffer.alloc(4);

  magic.writeUInt32BE(proto.MAGIC);

  assert.strictEqual(magic.toString('latin1'), c.MAGIC);
  assert.strictEqual(proto.VERSION, c.VERSION);
  assert.strictEqual(proto.HEADER_SIZE, c.HEADER_SIZE);
  assert.strictEqual(proto.FIELD_HEADER, c.FIELD_HEADER);
  assert.strictEqual(proto.MAX_HEAD, c.MAX_HEAD);
  assert.strictEqual(proto.TYPE_REQUEST, c.REQUEST);
  assert.strictEqual(proto.TYPE_RESPONSE, c.RESPONSE);
  assert.strictEqual(proto.FLAG_CLOSE, c.FLAG_CLOSE);

  /* every field both ways, the tests' own encoder's too */
  assert.ok(Object.keys(fields).length >= 14, JSON.stringify(fields));
  assert.deepStrictEqual({ ...proto.FIELD }, fields);
  assert.deepStrictEqual({ ...F }, fields);
});


function feed(reader, bytes, step) {
  const frames = [];

  for (let i = 0; i < bytes.length; i += step) {
    reader.push(bytes.subarray(i, Math.min(bytes.length, i + step)));

    while (reader.next()) {
      frames.push({ head: Buffer.from(reader.head),
                    body: Buffer.from(reader.body) });
      reader.release();
    }
  }

  return frames;
}


function fakeWorker() {
  return { name: 'fn', env: 'test' };
}


test('reader: byte by byte, one chunk, several frames per chunk', T, () => {
  const a = encodeRequest({ path: '/a', body: 'first body' });
  const b = encodeRequest({ path: '/b' });
  const c = encodeRequest({ path: '/c', body: Buffer.alloc(70000, 'z') });
  const all = Buffer.concat([a, b, c]);

  for (const step of [1, 3, 16, 17, 1000, all.length]) {
    const frames = feed(new proto.FrameReader(1 << 20), all, step);

    assert.strictEqual(frames.length, 3, 'step ' + step);
    assert.strictEqual(frames[0].body.toString(), 'first body');
    assert.strictEqual(frames[1].body.length, 0);
    assert.strictEqual(frames[2].body.length, 70000);

    const ctx = new Context(fakeWorker(), null);

    assert.strictEqual(proto.parseRequestHead(frames[2].head, ctx), null);
    assert.strictEqual(ctx.path, '/c');
  }
});


test('reader: protocol errors', T, () => {
  const good = encodeRequest({ path: '/' });
  const cases = [
    ['bad magic', (b) => b.write('FAAS', 0), /magic/],
    ['version', (b) => { b[4] = 2; }, /version/],
    ['type', (b) => { b[5] = 2; }, /type/],
    ['head', (b) => b.writeUInt32BE(1024 * 1024 + 1, 8), /head/],
    ['body', (b) => b.writeUInt32BE(1001, 12), /body/],
  ];

  for (const [what, mangle, re] of cases) {
    const b = Buffer.from(good);
    const r = new proto.FrameReader(1000);

    mangle(b);
    r.push(b);
    assert.throws(() => r.next(), (e) => e instanceof proto.ProtocolError
                                         && re.test(e.message), what);
  }
});


test('head: fields decoded, unknown tags skipped, bad heads refused', T,
     () => {
  const head = Buffer.concat([
    field(F.METHOD, 'PUT'),
    field(0x7f, 'future field'),
    field(F.PATH, '/caf\u00e9'),
    field(F.QUERY, 'x=1'),
    field(F.PARAM_NAME, 'id'), field(F.PARAM_VALUE, '7'),
    field(F.HEADER_NAME, 'X-A'), field(F.HEADER_VALUE, 'v'),
    field(F.TRACE_ID, 'abc'),
    field(F.DEADLINE, '2500'),
    field(F.CLIENT_ADDR, '10.0.0.1'),
    field(F.ROUTE, '/caf\u00e9'),
  ]);
  const ctx = new Context(fakeWorker(), null);

  assert.strictEqual(proto.parseRequestHead(head, ctx), null);
  assert.strictEqual(ctx.method, 'PUT');
  assert.strictEqual(ctx.path, '/caf\u00e9');
  assert.strictEqual(ctx.querystring, 'x=1');
  assert.strictEqual(ctx.url, '/caf\u00e9?x=1');
  assert.strictEqual(ctx.params.id, '7');
  assert.deepStrictEqual(ctx.rawHeaders, ['X-A', 'v']);
  assert.strictEqual(ctx.traceId, 'abc');
  assert.strictEqual(ctx.deadline, 2500);
  assert.strictEqual(ctx.ip, '10.0.0.1');

  const bad = [
    Buffer.concat([field(F.HEADER_NAME, 'x'), field(F.PATH, '/')]),
    Buffer.concat([field(F.HEADER_VALUE, 'x')]),
    Buffer.concat([field(F.PARAM_NAME, 'x')]),
    field(F.PATH, '/').subarray(0, 5),
    Buffer.from([1, 2, 3]),
  ];

  for (const h of bad) {
    assert.notStrictEqual(
      proto.parseRequestHead(h, new Context(fakeWorker(), null)), null);
  }
});


test('response encoding round trip', T, () => {
  const small = proto.encodeResponse(201, ['Location', '/x', 'A', ''],
                                     'h\u00e9llo', proto.FLAG_CLOSE);
  const r = decodeResponse(small).res;

  assert.strictEqual(r.status, 201);
  assert.strictEqual(r.close, true);
  assert.deepStrictEqual(r.headers, [['Location', '/x'], ['A', '']]);
  assert.strictEqual(r.text, 'h\u00e9llo');

  const big = proto.encodeResponse(200, [], Buffer.alloc(200000, 1), 0);

  assert.ok(Array.isArray(big));

  const r2 = decodeResponse(Buffer.concat(big)).res;

  assert.strictEqual(r2.body.length, 200000);
  assert.strictEqual(r2.close, false);
});


test.describe('protocol against a worker', () => {
  let w;

  test.before(async () => {
    w = await WorkerProcess.start({ env: { FAAS_MAX_BODY: '100000' } });
  });

  test.after(stopAll);

  test('keepalive: several requests over one connection', T, async () => {
    const c = await w.connect();

    for (let i = 0; i < 20; i++) {
      const r = await c.request({ path: '/hello', query: 'name=n' + i });

      assert.strictEqual(r.status, 200);
      assert.strictEqual(r.close, false);
      assert.deepStrictEqual(r.json(), { hello: 'n' + i });
    }

    assert.strictEqual(c.isClosed, false);
    c.close();
  });

  test('a frame split byte by byte', T, async () => {
    const c = await w.connect();
    const bytes = encodeRequest({ method: 'POST', path: '/echo',
                                  headers: [['content-type', 'text/plain']],
                                  body: 'split body' });

    for (let i = 0; i < bytes.length; i++) {
      c.write(bytes.subarray(i, i + 1));

      if (i % 40 === 0) {
        await sleep(1);
      }
    }

    const r = await c.read();

    assert.strictEqual(r.status, 200);
    assert.strictEqual(r.json().body, 'split body');
    c.close();
  });

  test('two frames in one write are answered in order', T, async () => {
    const c = await w.connect();

    c.write(Buffer.concat([
      encodeRequest({ path: '/slow', query: 'ms=50&id=first' }),
      encodeRequest({ path: '/hello', query: 'name=second' }),
    ]));

    const a = await c.read();
    const b = await c.read();

    assert.strictEqual(a.json().slow, 'first');
    assert.deepStrictEqual(b.json(), { hello: 'second' });
    c.close();
  });

  test('protocol errors close the connection without an answer', T,
       async () => {
    const good = encodeRequest({ path: '/hello' });
    const bodyTooBig = Buffer.from(good);

    bodyTooBig.writeUInt32BE(100001, 12);

    const cases = [
      Buffer.concat([Buffer.from('GET / HTTP/1.1\r\n\r\n')]),
      Buffer.concat([frameHeader(2, 0, 0, 0)]),
      Buffer.concat([frameHeader(1, 0, 1024 * 1024 + 1, 0)]),
      bodyTooBig,
      Buffer.concat([frameHeader(1, 0, 3, 0), Buffer.from([1, 0, 0])]),
      Buffer.concat([frameHeader(1, 0, 10, 0), field(F.HEADER_NAME, 'abcde')]),
    ];

    for (const bytes of cases) {
      const c = await w.connect();

      c.write(bytes);
      await assert.rejects(c.read(3000), /connection closed/);
    }

    assert.match(w.stderr, /protocol error, closing the connection: bad magic/);
    assert.match(w.stderr, /over the limit of 100000/);

    /* the worker itself is fine */
    const r = await w.request({ path: '/hello' });

    assert.strictEqual(r.status, 200);
  });

  test('a body at the limit is served', T, async () => {
    const r = await w.request({ method: 'POST', path: '/mirror',
                                body: Buffer.alloc(100000, 'q') });

    assert.strictEqual(r.status, 200);
    assert.strictEqual(r.body.length, 100000);
  });

  test('a client closing mid-frame does not disturb others', T,
       async () => {
    const c = await w.connect();

    c.write(encodeRequest({ path: '/hello' }).subarray(0, 30));
    await sleep(20);
    c.close();

    const r = await w.request({ path: '/hello', query: 'name=ok' });

    assert.deepStrictEqual(r.json(), { hello: 'ok' });
  });

  test('mutated frames never take the worker down', T, async () => {
    const base = encodeRequest({
      method: 'POST', path: '/echo', query: 'a=1',
      params: [['id', '1']],
      headers: [['Content-Type', 'application/json']],
      body: '{"a":[1,2,{"b":null}]}',
    });
    let seed = 12345;
    const rand = (n) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };

    for (let round = 0; round < 200; round++) {
      const b = Buffer.from(base);

      for (let k = 1 + rand(4); k > 0; k--) {
        b[rand(b.length)] = rand(256);
      }

      const c = await w.connect();

      c.write(b.subarray(0, b.length - rand(8)));

      /* an answer, a closed connection, or a frame still incomplete */
      await c.read(60).catch(() => {});
      c.close();
    }

    const r = await w.request({ path: '/hello' });

    assert.strictEqual(r.status, 200);
    assert.strictEqual(w.exitStatus, null);
  });

  test('many connections at once', T, async () => {
    const clients = await Promise.all(
      Array.from({ length: 50 }, () => w.connect()));
    const rs = await Promise.all(clients.map((c, i) =>
      c.request({ path: '/hello', query: 'name=' + i })));

    rs.forEach((r, i) => assert.deepStrictEqual(r.json(), { hello: '' + i }));
    clients.forEach((c) => c.close());
  });
});
