'use strict';

// The alternative a user would pick: a plain Node http server doing the
// same work as bench/functions/hello, behind nginx proxy_pass.

const http = require('node:http');
const fs = require('node:fs');

const path = process.argv[2];

try {
  fs.unlinkSync(path);
} catch (e) {
  // not there yet
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://localhost');
  const body = JSON.stringify({ hello: url.searchParams.get('name') || 'world' });
  res.writeHead(200, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
});

server.keepAliveTimeout = 60000;
server.listen(path, () => fs.chmodSync(path, 0o666));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
