#!/usr/bin/perl

# Tests for dispatch to workers: headers both ways, several Set-Cookie,
# large bodies both ways, errors, timeouts, trace ids, keepalive.

use strict;
use warnings;

use Test::More;
use JSON::PP;
use Time::HiRes qw(time);
use FaasTest;

my $t = FaasTest->new;

$t->function('app', 'f.yml' => <<'EOF', 'index.js' => <<'EOF2');
service: dispatch
provider:
  runtime: nodejs20
  timeout: 1
  environment:
    GREETING: provider
    REGION: eu
functions:
  app:
    handler: index.handler
    concurrency: 8
    instances: 2
    environment:
      GREETING: function
    events:
      - http: { path: /echo, method: any }
      - http: { path: /cookies }
      - http: { path: /big }
      - http: { path: /throw }
      - http: { path: /hang }
      - http: { path: /status/:code }
      - http: { path: /env }
      - http: { path: /bad-header }
      - http: { path: /text }
      - http: { path: /bytes }
EOF
'use strict';
const crypto = require('node:crypto');

exports.handler = async (ctx) => {
  switch (ctx.path) {
  case '/echo': {
    const raw = ctx.request.rawBody || Buffer.alloc(0);
    ctx.set('X-Got-Header', ctx.get('x-in') || '');
    ctx.set('X-Body-Sha1', crypto.createHash('sha1').update(raw).digest('hex'));
    ctx.body = { length: raw.length, type: typeof ctx.request.body,
                 json: ctx.request.body && ctx.request.body.name,
                 trace: ctx.requestId, headers: ctx.headers };
    return;
  }
  case '/cookies':
    ctx.set('Set-Cookie', ['a=1; Path=/', 'b=2; HttpOnly', 'c=3']);
    ctx.body = 'ok';
    return;
  case '/big': {
    const n = Number(ctx.query.n || 2 * 1024 * 1024);
    const buf = Buffer.alloc(n);
    for (let i = 0; i < n; i++) buf[i] = 97 + (i % 26);
    ctx.body = buf;
    return;
  }
  case '/throw':
    throw new Error('boom');
  case '/hang':
    await new Promise(() => {});
    return;
  case '/env':
    ctx.body = { greeting: process.env.GREETING, region: process.env.REGION };
    return;
  case '/bad-header':
    ctx.set('X-Ok', 'fine');
    ctx.set('X-Evil', 'a\r\nInjected: yes');
    ctx.body = 'still served';
    return;
  case '/text':
    ctx.body = 'plain words';
    return;
  case '/bytes':
    ctx.body = Buffer.from([0, 1, 2, 255]);
    return;
  default:
    if (ctx.params.code) {
      ctx.status = Number(ctx.params.code);
      ctx.body = { code: ctx.status };
    }
  }
};
EOF2

$t->nginx_conf(<<'EOF');
    client_max_body_size 4m;

    server {
        listen 127.0.0.1:%%PORT%%;
        faas_manifest %%FUNCTIONS%%/app/f.yml;

        location / {
            faas_pass;
        }

        location /small/ {
            client_max_body_size 1k;
            faas_pass app;
        }
    }
EOF

$t->run(wait => ['app-0', 'app-1']);

# headers both ways
my $r = $t->http(GET => '/echo', headers => [ 'X-In' => 'value 1',
                                              'Connection' => 'close' ]);
is($r->{status}, 200, 'echo');
is(FaasTest::hdr($r, 'X-Got-Header'), 'value 1', 'request header reached');
my $echo = decode_json($r->{body});
ok(!exists $echo->{headers}{connection}, 'hop-by-hop header not passed');
like($echo->{trace}, qr/^[0-9a-f]{32}$/, 'trace id from $request_id');
is(FaasTest::hdr($r, 'X-Request-Id'), $echo->{trace},
   'trace id returned to the client');

# the client's own request id is kept when plain
$r = $t->http(GET => '/echo', headers => [ 'X-Request-Id' => 'abc-123.x_y' ]);
is(decode_json($r->{body})->{trace}, 'abc-123.x_y', 'client trace id kept');
is(FaasTest::hdr($r, 'X-Request-Id'), 'abc-123.x_y', 'and returned');

$r = $t->http(GET => '/echo', headers => [ 'X-Request-Id' => 'bad id!' ]);
like(decode_json($r->{body})->{trace}, qr/^[0-9a-f]{32}$/,
     'unsafe client trace id replaced');

# several Set-Cookie
$r = $t->http(GET => '/cookies');
is_deeply($r->{headers}{'set-cookie'}, ['a=1; Path=/', 'b=2; HttpOnly', 'c=3'],
          'three Set-Cookie headers');

# JSON body parsed by the runtime
$r = $t->http(POST => '/echo', body => '{"name":"Ada"}',
              headers => [ 'Content-Type' => 'application/json' ]);
is(decode_json($r->{body})->{json}, 'Ada', 'JSON body');

# 2 MB both ways
my $big = join '', map { chr(65 + $_ % 50) } 0 .. 2 * 1024 * 1024 - 1;
$r = $t->http(POST => '/echo', body => $big,
              headers => [ 'Content-Type' => 'application/octet-stream' ]);
is($r->{status}, 200, '2 MB request body');
is(decode_json($r->{body})->{length}, length $big, '2 MB arrived whole');
require Digest::SHA;
is(FaasTest::hdr($r, 'X-Body-Sha1'), Digest::SHA::sha1_hex($big),
   '2 MB arrived intact');

$r = $t->http(GET => '/big');
is($r->{status}, 200, '2 MB response');
is(length $r->{body}, 2 * 1024 * 1024, '2 MB response length');
is(FaasTest::hdr($r, 'Content-Length'), 2 * 1024 * 1024,
   'response has a Content-Length');
is(substr($r->{body}, 2 * 1024 * 1024 - 3), join('', map { chr(97 + $_ % 26) }
   2 * 1024 * 1024 - 3 .. 2 * 1024 * 1024 - 1), 'response tail intact');

$r = $t->http(GET => '/big?n=0');
is($r->{status}, 200, 'empty body');
is(FaasTest::hdr($r, 'Content-Length'), 0, 'empty body length');

# client_max_body_size
$r = $t->http(POST => '/small/x', body => 'x' x 2048);
is($r->{status}, 413, 'client_max_body_size honoured');

# body types
$r = $t->http(GET => '/text');
is(FaasTest::hdr($r, 'Content-Type'), 'text/plain; charset=utf-8', 'text body');
is($r->{body}, 'plain words', 'text body content');
$r = $t->http(GET => '/bytes');
is(FaasTest::hdr($r, 'Content-Type'), 'application/octet-stream', 'bytes');
is($r->{body}, "\x00\x01\x02\xff", 'bytes content');

# status codes
for my $code (201, 204, 302, 404, 418, 503) {
    $r = $t->http(GET => "/status/$code");
    is($r->{status}, $code, "status $code from the function");
}

# environment: provider's, function's over it
$r = $t->http(GET => '/env');
is_deeply(decode_json($r->{body}), { greeting => 'function', region => 'eu' },
          'environment merged');

# a header with CR LF never reaches the client
$r = $t->http(GET => '/bad-header');
is($r->{status}, 200, 'bad header: still served');
is(FaasTest::hdr($r, 'X-Ok'), 'fine', 'good header kept');
ok(!exists $r->{headers}{injected}, 'no header injection');

# a handler that throws: 500 JSON naming the trace id; the worker serves on
$r = $t->http(GET => '/throw', headers => [ 'X-Request-Id' => 'trace-500' ]);
is($r->{status}, 500, 'throw: 500');
is(eval { decode_json($r->{body})->{requestId} }, 'trace-500',
   'throw: body names the trace id');
$r = $t->http(GET => '/text');
is($r->{status}, 200, 'after a throw the worker still serves');

# a handler that hangs: 504 after the function's timeout (1 s)
my $start = time;
$r = $t->http(GET => '/hang', timeout => 10);
my $took = time - $start;
is($r->{status}, 504, 'hang: 504');
ok($took >= 0.9 && $took < 4, "hang: after the timeout (${took}s)");
$r = $t->http(GET => '/text');
is($r->{status}, 200, 'after a hang the workers still serve');

# keepalive: many requests over few worker connections
for (1 .. 40) { $t->http(GET => '/text') }
my $conns = `ss -x 2>/dev/null | grep -c '$t->{dir}/sock/.*app-'`;
chomp $conns;
ok($conns > 0 && $conns <= 8, "connections to workers reused ($conns)");

$t->allow_log(qr/upstream timed out/);
$t->done;
