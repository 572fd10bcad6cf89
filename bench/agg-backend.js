'use strict';

// The backends of bench/aggregate: a Node server, no dependencies, that
// answers /backend/a, /backend/b and /backend/c (also /a, /b, /c) with a
// fixed JSON document of about 200 bytes each, after a delay, with
// keepalive.  One process serves all three paths, for the gateway's
// aggregation and for the Node BFF alike, so that both sides cost the
// backend the same.
//
// It speaks just enough HTTP/1.1 over `net` (GET, keepalive, answers
// prepared once) to cost a few microseconds a request: in production the
// backends run on other machines, and here their CPU comes out of the
// same two cores as the gateway's, so the cheaper they are, the more the
// benchmark measures the BFF layer rather than the backends.
//
//   node agg-backend.js LISTEN [DELAY]
//
// LISTEN is a port on 127.0.0.1 or a Unix socket's path; DELAY is in ms,
// one for every path ("3", the default) or one per path ("2,3,4" for a,
// b, c).

const net = require('node:net');
const fs = require('node:fs');

const listen = process.argv[2];
const delays = (process.argv[3] || '3').split(',').map(Number);

if (!listen || delays.some((d) => !(d >= 0)) || ![1, 3].includes(delays.length)) {
  console.error('usage: agg-backend.js PORT|SOCKET [MS | MS_A,MS_B,MS_C]');
  process.exit(2);
}

const DOCS = {
  a: { id: 42, name: 'Ann Example', email: 'ann@example.com', vip: true,
       address: { city: 'Paris', zip: '75001', country: 'FR' },
       tags: ['early', 'beta', 'newsletter'],
       created: '2021-03-14T09:26:53Z', plan: 'gold' },
  b: { items: [
         { id: 'o-1001', total: 12.5, currency: 'EUR', status: 'shipped' },
         { id: 'o-1002', total: 7.25, currency: 'EUR', status: 'paid' },
       ],
       count: 2, next: null, updated: '2024-11-02T18:04:11Z' },
  c: { items: ['p-9', 'p-3', 'p-27', 'p-14', 'p-8'], model: 'reco-2024-10',
       score: [0.92, 0.87, 0.81, 0.77, 0.7],
       banner: { title: 'Spring sale', until: '2025-04-01' },
       experiment: 'home-v3', ttl: 300 },
};

function response(status, body) {
  return Buffer.concat([
    Buffer.from(`HTTP/1.1 ${status}\r\nContent-Type: application/json\r\n`
                + `Content-Length: ${body.length}\r\n`
                + 'Connection: keep-alive\r\n\r\n'),
    body,
  ]);
}

const ANSWERS = {};
['a', 'b', 'c'].forEach((name, i) => {
  const answer = {
    bytes: response('200 OK', Buffer.from(JSON.stringify(DOCS[name]))),
    delay: delays.length === 3 ? delays[i] : delays[0],
  };
  ANSWERS['/backend/' + name] = answer;
  ANSWERS['/' + name] = answer;
});

const NOT_FOUND = { bytes: response('404 Not Found',
                                    Buffer.from('{"error":"no such backend"}')),
                    delay: 0 };
const BAD = response('400 Bad Request', Buffer.from('{"error":"bad request"}'));

// one request at a time per connection, in order; what comes meanwhile
// waits in "pending"

function serve(socket) {
  let pending = Buffer.alloc(0);
  let busy = false;
  let timer = null;

  const next = () => {
    const end = pending.indexOf('\r\n\r\n');
    if (busy || end < 0) {
      return;
    }

    const head = pending.toString('latin1', 0, end);
    const line = head.split('\r\n', 1)[0];
    const m = /^[A-Z]+ (\S+) HTTP\/1\.[01]/.exec(line);
    const cl = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    const total = end + 4 + (cl ? Number(cl[1]) : 0);

    if (m === null || /\r\ntransfer-encoding:/i.test(head)) {
      socket.end(BAD);
      return;
    }

    if (pending.length < total) {
      return;
    }

    pending = pending.subarray(total);

    const q = m[1].indexOf('?');
    const answer = ANSWERS[q < 0 ? m[1] : m[1].slice(0, q)] || NOT_FOUND;

    busy = true;

    const send = () => {
      timer = null;
      busy = false;
      socket.write(answer.bytes);
      next();
    };

    if (answer.delay === 0) {
      send();
    } else {
      timer = setTimeout(send, answer.delay);
    }
  };

  socket.setNoDelay(true);
  socket.on('data', (chunk) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    next();
  });
  socket.on('error', () => {});
  socket.on('close', () => {
    if (timer) {
      clearTimeout(timer);
    }
  });
}

const server = net.createServer(serve);
const sockets = new Set();
server.on('connection', (s) => {
  sockets.add(s);
  s.on('close', () => sockets.delete(s));
});

if (/^\d+$/.test(listen)) {
  server.listen(Number(listen), '127.0.0.1');
} else {
  try {
    fs.unlinkSync(listen);
  } catch (e) {
    // not there yet
  }
  server.listen(listen, () => fs.chmodSync(listen, 0o666));
}

process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  for (const s of sockets) {
    s.destroy();
  }
});
