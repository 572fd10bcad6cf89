#!/usr/bin/perl

# Tests for routing: Midway's precedence, params, methods, 404 and 405,
# query strings, pinned locations, $faas_function and $faas_route.

use strict;
use warnings;

use Test::More;
use JSON::PP;
use FaasTest;

my $t = FaasTest->new;

$t->function('echo', 'index.js' => $t->fixture('echo.js'), 'f.yml' => <<'EOF');
service: routing
provider:
  name: ngx_faas
  runtime: nodejs20
functions:
  echo:
    handler: index.handler
    concurrency: 16
    events:
      - http: { path: /, method: get }
      - http: { path: /*, method: any }
      - http: { path: /api/*, method: [get, post] }
      - http: { path: /api/users/*, method: get }
      - http: { path: /api/users/list, method: get }
      - http: { path: /api/users/:id, method: get }
      - http: { path: /api/users/:id/posts/:post, method: all }
      - http: { path: /a/b/c }
      - http: { path: /a/:x/d }
EOF

$t->function('strict', 'index.js' => $t->fixture('echo.js'), 'f.yml' => <<'EOF');
service: strict
functions:
  strict:
    handler: index.handler
    events:
      - http:
          path: /only-get
          method: get
      - http:
          path: /items
          method: [post, put]
      - apigw:
          path: /gw
          method: patch
      - timer:
          type: cron
          value: '0 * * * *'
EOF

$t->nginx_conf(<<'EOF');
    server {
        listen 127.0.0.1:%%PORT%%;
        faas_manifest %%FUNCTIONS%%/echo/f.yml;

        add_header X-Route $faas_route always;
        add_header X-Fn $faas_function always;

        location / {
            faas_pass;
        }

        location = /pinned {
            faas_pass strict;
        }
    }

    server {
        listen 127.0.0.1:%%PORT_strict%%;
        faas_manifest %%FUNCTIONS%%/strict/f.yml;

        location / {
            faas_pass;
        }
    }
EOF

$t->run;

sub route_of {
    my ($method, $path, %o) = @_;
    my $r = $t->http($method, $path, %o);
    return ($r->{status}, FaasTest::hdr($r, 'X-Route') // '', $r);
}

# the precedence table: [method, path, expected route, params]
my @table = (
    [GET => '/', '/'],
    [GET => '/zzz', '/*'],
    [GET => '/zzz/deeper/still', '/*'],
    [POST => '/', '/*'],
    [GET => '/api', '/api/*'],
    [GET => '/api/other/x', '/api/*', { '*' => 'other/x' }],
    [POST => '/api/users/7', '/api/*'],
    [GET => '/api/users/list', '/api/users/list'],
    [GET => '/api/users/42', '/api/users/:id', { id => '42' }],
    [GET => '/api/users/42/friends', '/api/users/*'],
    [DELETE => '/api/users/42/posts/7', '/api/users/:id/posts/:post',
        { id => '42', post => '7' }],
    [GET => '/a/b/c', '/a/b/c'],
    [GET => '/a/b/d', '/a/:x/d', { x => 'b' }],
    [GET => '/a/b/e', '/*'],
    [GET => '/api/users/a%20b', '/api/users/:id', { id => 'a b' }],
);

for my $row (@table) {
    my ($method, $path, $want, $params) = @$row;
    my ($status, $route, $r) = route_of($method, $path);
    is($status, 200, "$method $path status");
    is($route, $want, "$method $path -> $want");
    if ($params) {
        my $got = eval { decode_json($r->{body})->{params} } || {};
        for my $k (sort keys %$params) {
            is($got->{$k}, $params->{$k}, "$method $path param $k");
        }
    }
}

# the request as the function saw it
my $r = $t->http(GET => '/api/users/42?a=1&b=x%20y&a=2',
                 headers => [ 'X-Custom' => 'hello', 'X-Multi' => 'one' ]);
my $echo = decode_json($r->{body});
is($echo->{function}, 'echo', 'function name');
is($echo->{method}, 'GET', 'method');
is($echo->{path}, '/api/users/42', 'path without query');
is_deeply($echo->{query}{a}, ['1', '2'], 'repeated query argument');
is($echo->{query}{b}, 'x y', 'decoded query argument');
is($echo->{headers}{'x-custom'}, 'hello', 'request header passed');
is(FaasTest::hdr($r, 'X-Fn'), 'echo', '$faas_function');
is(FaasTest::hdr($r, 'Content-Type'), 'application/json; charset=utf-8',
   'content type from the function');

# HEAD is served by a GET route, without a body
$r = $t->http(HEAD => '/api/users/42');
is($r->{status}, 200, 'HEAD via GET route');
is($r->{body}, '', 'HEAD has no body');

# OPTIONS is not in "any": 405 with Allow
($_, undef, $r) = route_of(OPTIONS => '/zzz');
is($r->{status}, 405, 'OPTIONS not in any');
like(FaasTest::hdr($r, 'Allow') // '', qr/^GET, HEAD, POST, PUT, DELETE, PATCH$/,
     'Allow lists the methods of "any"');

# pinned location: always the named function, whatever the path
$r = $t->http(GET => '/pinned?x=1');
is($r->{status}, 200, 'pinned location');
is(FaasTest::hdr($r, 'X-Fn'), 'strict', 'pinned function');
is(FaasTest::hdr($r, 'X-Route'), '/pinned', 'pinned route is the path');

# the strict server: no catch-all, so 404 and 405 are ours
my $sp = $t->port('strict');

$r = $t->http(GET => '/nope?q=1', port => $sp);
is($r->{status}, 404, '404 without a route');
is(FaasTest::hdr($r, 'Content-Type'), 'application/json', '404 is JSON');
is_deeply(decode_json($r->{body}),
          { error => 'no route', method => 'GET', path => '/nope' },
          '404 body');

$r = $t->http(GET => '/with"quote', port => $sp);
is($r->{status}, 404, '404 with a quote in the path');
is(eval { decode_json($r->{body})->{path} }, '/with"quote',
   '404 body escapes the path');

$r = $t->http(DELETE => '/only-get', port => $sp);
is($r->{status}, 405, '405 for a wrong method');
is(FaasTest::hdr($r, 'Allow'), 'GET, HEAD', 'Allow of a GET route');
is_deeply(decode_json($r->{body}),
          { error => 'method not allowed', allowed => ['GET', 'HEAD'] },
          '405 body');

$r = $t->http(GET => '/items', port => $sp);
is($r->{status}, 405, '405 for a POST/PUT route');
is(FaasTest::hdr($r, 'Allow'), 'POST, PUT', 'Allow of a POST/PUT route');

$r = $t->http(PUT => '/items', port => $sp, body => 'x');
is($r->{status}, 200, 'PUT on a POST/PUT route');

$r = $t->http(PATCH => '/gw', port => $sp, body => '{}');
is($r->{status}, 200, 'apigw events are routes too');

$r = $t->http(PROPFIND => '/only-get', port => $sp);
is($r->{status}, 405, 'unknown method: 405');

$r = $t->http(GET => '/only-get/', port => $sp);
is($r->{status}, 200, 'trailing slash is insignificant');

$t->done;
