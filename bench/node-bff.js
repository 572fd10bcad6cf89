'use strict';

// The alternative bench/aggregate compares faas_aggregate with: a Node
// BFF as the Egg BFF layer wrote one, an http server whose handler calls
// the three backends with Promise.all over a keepalive agent, parses
// each answer and answers {a, b, c}.  No dependencies.
//
//   node node-bff.js LISTEN BACKEND
//
// LISTEN is a port on 127.0.0.1 or a Unix socket's path; BACKEND is
// "127.0.0.1:PORT" or a Unix socket's path (bench/agg-backend.js).
// Like the aggregation's calls, each call has a 1 s deadline
// (faas_aggregate's default) and a failed call fails the answer (502).

const http = require('node:http');
const fs = require('node:fs');

const listen = process.argv[2];
const backend = process.argv[3];

if (!listen || !backend) {
  console.error('usage: node-bff.js PORT|SOCKET HOST:PORT|SOCKET');
  process.exit(2);
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 1024 });
const target = {};
const m = /^([^/:]+):(\d+)$/.exec(backend);
if (m) {
  target.host = m[1];
  target.port = Number(m[2]);
} else {
  target.socketPath = backend;
}

const CALL_TIMEOUT = 1000;

function call(path) {
  return new Promise((resolve, reject) => {
    const req = http.request({ ...target, path, method: 'GET', agent,
                               timeout: CALL_TIMEOUT }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        if (res.statusCode !== 200) {
          reject(new Error(`${path}: status ${res.statusCode}`));
          return;
        }
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString()));
        } catch (e) {
          reject(new Error(`${path}: ${e.message}`));
        }
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${path}: timed out`)));
    req.on('error', reject);
    req.end();
  });
}

async function page() {
  const [a, b, c] = await Promise.all([
    call('/backend/a'),
    call('/backend/b'),
    call('/backend/c'),
  ]);
  return { a, b, c };
}

const server = http.createServer((req, res) => {
  req.resume();
  page().then((doc) => {
    const body = JSON.stringify(doc);
    res.writeHead(200, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(body),
    });
    res.end(body);
  }, (err) => {
    const body = JSON.stringify({ error: err.message });
    res.writeHead(502, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(body),
    });
    res.end(body);
  });
});

server.keepAliveTimeout = 60000;

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
  server.closeAllConnections();
});
