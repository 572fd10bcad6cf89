#!/usr/bin/perl

# BFF aggregation end to end (docs/aggregation.md): faas_aggregate
# locations and an f.yml "aggregate:" function fanning out to a real Node
# backend on loopback (t/fixtures/agg-backend.js, reached through an
# internal proxy_pass location), to a manifest's function and to a
# function of the Redis table under a gray release policy.  Parallelism
# and dependencies measured in wall time and in the backend's own record
# of arrivals; per-call and whole-request deadlines; required and
# optional failures; bodies that are not JSON, too large, too deep;
# typed templates into paths, queries, headers and JSON bodies; shaping;
# trace id and forwarded headers; and the configuration errors nginx -t
# reports, with their place.

use strict;
use warnings;

use Test::More;
use JSON::PP;
use IO::Socket::INET;
use POSIX ();
use Time::HiRes qw(sleep time);
use FaasTest;

my $t = FaasTest->new;
my $J = JSON::PP->new->canonical;
my $bport = $t->port('backend');
my $redis = $t->start_redis;
my $store = $t->dir . '/store';
my $TRUE = JSON::PP::true;

###########################################################################
# the backend, the functions, nginx

$t->start_process('backend', 'node', "$FaasTest::TOP/t/fixtures/agg-backend.js",
                  $bport);
$t->wait_port($bport, 10, 'backend');

# a manifest's function that echoes what it was sent, with a route of its
# own; and an aggregation declared in f.yml, with no code
$t->function('echo', 'index.js' => $t->fixture('echo.js'), 'f.yml' => <<'EOF');
service: agg-echo
functions:
  echo:
    handler: index.handler
    concurrency: 32
    events:
      - http: { path: /fn/echo, method: any }
EOF

$t->function('page', 'f.yml' => <<'EOF');
service: bff
functions:
  page:
    aggregate:
      timeout: 800ms
      forward_headers: [Authorization, X-Tenant]
      calls:
        user:
          url: /backend/users/{params.id}
        orders:
          url: /backend/delay/20/orders
          query:
            user: "{user.id}"
            city: "{user.address.city}"
          pick: [path, query, headers.x-tenant]
        reco:
          function: echo
          method: POST
          body:
            user: "{user.id}"
            vip: "{user.vip}"
            tags: "{user.tags}"
          optional: true
          pick: [function, method, body]
          rename:
            body: sent
    events:
      - http: { path: /page/:id, method: get }
EOF

# a function of the Redis table, deployed with faasctl: v1, then v2 staged
# and released to the lane "X-Lane: beta" only
$t->write_file('src/shop/f.yml', <<'EOF');
service: agg-gray
functions:
  shop:
    handler: index.handler
    concurrency: 16
    events:
      - http: { path: /shop, method: get }
EOF

sub shop_code {
    return "exports.handler = async (ctx) => { ctx.body = { code: $_[0], "
        . "lane: ctx.get('x-lane'), trace: ctx.requestId }; };\n";
}

$t->nginx_conf(<<'EOF' =~ s/%%REDIS%%/$redis/r);
    faas_redis %%REDIS%%;

    upstream backend {
        server 127.0.0.1:%%PORT_backend%%;
        keepalive 16;
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        faas_manifest %%FUNCTIONS%%/*/f.yml;

        location /backend/ {
            internal;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass http://backend;
        }

        location = /agg/parallel {
            faas_aggregate {
                call a { url "/backend/delay/100/par-a"; }
                call b { url "/backend/delay/100/par-b"; }
                call c { url "/backend/delay/100/par-c"; }
            }
        }

        location = /agg/dependent {
            faas_aggregate {
                call user   { url "/backend/users/{query.id}?delay=100"; }
                call orders {
                    url    "/backend/delay/50/dep-orders/{user.id}";
                    query  user "{user.id}";
                }
                call side   { url "/backend/delay/100/dep-side"; }
            }
        }

        location = /agg/call-timeout {
            faas_aggregate {
                call fast { url "/backend/delay/10/to-fast"; }
                call slow {
                    url      "/backend/delay/500/to-slow";
                    timeout  100ms;
                    optional;
                }
            }
        }

        location = /agg/deadline {
            faas_aggregate {
                timeout 300ms;
                call fast { url "/backend/delay/10/dl-fast"; }
                call slow {
                    url      "/backend/delay/1000/dl-slow";
                    timeout  2s;
                    required off;
                }
            }
        }

        location = /agg/deadline-required {
            faas_aggregate {
                timeout 300ms;
                call fast { url "/backend/delay/10/dlr-fast"; }
                call slow { url "/backend/delay/1000/dlr-slow"; timeout 2s; }
            }
        }

        location = /agg/required {
            faas_aggregate {
                call user { url "/backend/users/{query.id}"; }
                call bad  { url "/backend/status/503"; }
            }
        }

        location = /agg/required-early {
            faas_aggregate {
                call slow { url "/backend/delay/500/early-slow"; optional; }
                call bad  { url "/backend/status/503"; }
            }
        }

        location = /agg/optional {
            faas_aggregate {
                call user { url "/backend/users/{query.id}"; }
                call bad  { url "/backend/status/503"; optional; }
            }
        }

        location = /agg/bodies {
            faas_aggregate {
                call invalid { url "/backend/invalid"; optional; }
                call html    { url "/backend/html"; optional; }
                call empty   { url "/backend/empty"; optional; }
                call list    { url "/backend/list"; }
                call deep    { url "/backend/deep/100"; optional; }
                call shallow { url "/backend/deep/10"; }
                call missing { url "/backend/nosuch"; optional; }
            }
        }

        location = /agg/big {
            faas_aggregate {
                call big { url "/backend/size/1048576"; max_size 2m; }
            }
        }

        location = /agg/big-default {
            faas_aggregate {
                call big   { url "/backend/size/1048576"; optional; }
                call small { url "/backend/size/1000"; }
            }
        }

        location = /agg/template {
            faas_aggregate {
                forward_headers Authorization;
                call user  { url "/backend/users/{query.id}"; output off; }
                call typed {
                    url     "/backend/echo/{user.id}/{user.name}";
                    method  POST;
                    query   city "{user.address.city}";
                    query   vip "{user.vip}";
                    query   page "{query.page}";
                    header  X-User-Name "{user.name}";
                    header  X-Tenant "{header.x-tenant}";
                    header  X-Session "{cookie.session}";
                    body    '{"id": "{user.id}", "vip": "{user.vip}", "city": "{user.address.city}", "tag": "{user.tags.1}", "label": "user {user.id} in {user.address.city}", "n": "{query.n:number}", "s": "{query.n}", "flag": "{query.flag:boolean}", "addr": "{user.address}", "tags": "{user.tags}", "lit": "{{x}"}';
                }
            }
        }

        location = /agg/missing {
            faas_aggregate {
                call user  { url "/backend/users/{query.id}"; }
                call needs { url "/backend/echo/miss-field/{user.nosuch}"; optional; }
                call needq { url "/backend/echo/miss-query"; query x "{query.absent}"; optional; }
                call slash { url "/backend/echo/miss-slash/{query.p}"; optional; }
                call bad   { url "/backend/status/500"; optional; }
                call after { url "/backend/echo/miss-after/{bad.id}"; optional; }
            }
        }

        location = /agg/post {
            faas_aggregate {
                call fwd { url "/backend/echo/fwd"; body forward; }
                call tpl {
                    url    "/backend/echo/tpl";
                    method PUT;
                    body   '{"first": "{body.items.0.id}", "all": "{body.items}", "who": "{body.user}"}';
                }
                call del { url "/backend/echo/del"; method DELETE; }
                call get { url "/backend/echo/get"; }
            }
        }

        location = /agg/shape {
            faas_aggregate {
                call a      { url "/backend/fixed/a"; merge on; }
                call b      { url "/backend/fixed/b"; merge on; }
                call user   { url "/backend/users/42"; key me; pick id name address.city; }
                call addr   { url "/backend/users/42"; target address; omit zip; }
                call ren    {
                    url    "/backend/users/42";
                    pick   id name tags;
                    rename name fullName;
                    rename tags labels;
                }
                call nren   { url "/backend/users/42"; pick address; rename address.city town; }
                call tpick  { url "/backend/users/42"; target address; pick city; }
                call list   { url "/backend/list"; }
                call hidden { url "/backend/users/7"; output off; }
                call uses   { url "/backend/echo/uses/{hidden.id}"; pick path; }
            }
        }

        location = /agg/merge-ac {
            faas_aggregate {
                call a { url "/backend/fixed/a"; merge on; }
                call c { url "/backend/fixed/c"; merge on; }
            }
        }

        location = /agg/merge-ca {
            faas_aggregate {
                call c { url "/backend/fixed/c"; merge on; }
                call a { url "/backend/fixed/a"; merge on; }
            }
        }

        location = /agg/more {
            faas_aggregate {
                call orders { url "/backend/fixed/orders"; target data.items; pick id total; }
                call gone   { url "/backend/fixed/orders"; target data.nothing; optional; }
                call listm  { url "/backend/list"; merge on; }
                call user   { url "/backend/users/42"; output off; }
                call typed  {
                    url   "/backend/echo/more";
                    query j "{user.tags:json}";
                    query z "{user.address.zip:number}";
                    body  '{"s": "{user.id:string}", "b": "{query.b:boolean}", "n": "{user.address.zip:number}", "o": "{query.o:json}"}';
                }
                call obj    { url "/backend/echo/obj"; query a "{user.address}"; optional; }
                call nofn   { function nosuch; optional; }
            }
        }

        location = /agg/target-required {
            faas_aggregate {
                call user  { url "/backend/users/42"; }
                call items { url "/backend/fixed/orders"; target data.nothing; }
            }
        }

        location = /agg/headers {
            faas_aggregate {
                call be { url "/backend/echo/hdr"; }
                call fn { function echo; }
            }
        }

        location = /agg/forward {
            faas_aggregate {
                forward_headers Authorization X-Secret;
                call be { url "/backend/echo/fwdh"; }
                call fn { function echo; }
            }
        }

        location = /agg/fn {
            faas_aggregate {
                call user  { url "/backend/users/{query.id}"; }
                call price {
                    function  echo;
                    method    POST;
                    query     q "{query.q}";
                    body      '{"user": "{user.id}", "vip": "{user.vip}"}';
                }
            }
        }

        location = /agg/gray {
            faas_aggregate {
                call shop { function shop; }
                call user { url "/backend/users/42"; pick id; }
            }
        }

        location / { faas_pass; }
    }
EOF

$t->start_faasd(redis => $redis,
                args => ['-m', $t->dir . '/functions/*/f.yml'],
                wait => ['echo-0']);
$t->start_nginx;

###########################################################################
# helpers

# a request: the response with {json} decoded and {elapsed} in seconds
sub req {
    my ($method, $path, %o) = @_;
    my $start = time;
    my $r = $t->http($method => $path, %o);
    $r->{elapsed} = time - $start;
    $r->{json} = eval { $J->decode($r->{body}) } if ($r->{body} // '') ne '';
    return $r;
}

sub get { my ($path, @h) = @_; return req(GET => $path, headers => \@h) }

sub completed { FaasTest::hdr($_[0], 'X-Faas-Completed') // '(none)' }

sub ctype { FaasTest::hdr($_[0], 'Content-Type') // '' }

# the "errors" entry of a call, or undef
sub error_of {
    my ($doc, $call) = @_;
    return undef unless ref $doc eq 'HASH' && ref $doc->{errors} eq 'ARRAY';
    my ($e) = grep { ref $_ eq 'HASH' && ($_->{call} // '') eq $call }
              @{$doc->{errors}};
    return $e;
}

# JSON with its types, keys sorted: 42 and "42" differ
sub canon { $J->encode($_[0]) }

# what the backend received, in order; and forgetting it
sub backend_log {
    my $r = $t->http(GET => '/_log', port => $bport);
    return eval { $J->decode($r->{body}) } || [];
}

sub backend_reset { $t->http(GET => '/_reset', port => $bport) }

sub received {
    my ($re) = @_;
    return [ grep { $_->{url} =~ $re } @{backend_log()} ];
}

sub faasctl {
    return $t->command(60, "$FaasTest::BUILD/bin/faasctl", '--redis', $redis,
                       @_);
}

my ($r, $d, $e, $log);

###########################################################################
# the configuration is served

$r = get('/agg/parallel');
is($r->{status}, 200, 'a faas_aggregate location answers')
    or BAIL_OUT("the aggregation does not work at all: "
                . ($r->{raw} // $r->{error} // '')
                . FaasTest::tail($t->read_file($t->error_log)));
like(ctype($r), qr{^application/json}, 'as application/json');

###########################################################################
# parallel calls

get('/agg/parallel') for 1 .. 3;            # warm the connections up
backend_reset();

$r = get('/agg/parallel');
$d = $r->{json};
is($r->{status}, 200, 'parallel: 200');
is_deeply([ map { $d->{$_}{path} } qw(a b c) ],
          [ '/delay/100/par-a', '/delay/100/par-b', '/delay/100/par-c' ],
          'parallel: each call under its name');
is(completed($r), 'true', 'parallel: X-Faas-Completed: true');
ok(!exists $d->{errors}, 'parallel: no errors member when complete');
ok($r->{elapsed} >= 0.1, sprintf('parallel: not before the backends '
                                 . 'answered (%.0f ms)', 1000 * $r->{elapsed}));
ok($r->{elapsed} < 0.15, sprintf('three 100 ms calls in < 150 ms (%.0f ms)',
                                 1000 * $r->{elapsed}));
$log = received(qr{/par-});
is(scalar @$log, 3, 'parallel: each backend was called once');
my @arrived = sort { $a <=> $b } map { $_->{arrived} } @$log;
ok(@arrived == 3 && $arrived[-1] - $arrived[0] < 30,
   sprintf('parallel: the three calls started together (%.1f ms apart)',
           @arrived == 3 ? $arrived[-1] - $arrived[0] : -1));

###########################################################################
# dependent calls

get('/agg/dependent?id=1');
backend_reset();
$r = get('/agg/dependent?id=42');
$d = $r->{json};
is($r->{status}, 200, 'dependent: 200');
is($d->{user}{id}, 42, 'dependent: the first call');
is($d->{orders}{path}, '/delay/50/dep-orders/42',
   'dependent: the second call has the first one\'s field in its path');
is($d->{orders}{query}{user}, '42', '... and in its query');
$log = backend_log();
my ($u) = grep { $_->{url} =~ m{^/backend/users/42} } @$log;
my ($o) = grep { $_->{url} =~ m{/dep-orders/} } @$log;
my ($s) = grep { $_->{url} =~ m{/dep-side} } @$log;
ok($u && $o && $s, 'dependent: the backend saw the three calls');
ok($u && $o && $o->{arrived} > $u->{answered} - 1,
   sprintf('dependent: the second starts after the first answered '
           . '(%.1f ms after)', $u && $o ? $o->{arrived} - $u->{answered} : 0));
ok($u && $s && abs($s->{arrived} - $u->{arrived}) < 30,
   'dependent: an independent call runs beside the first');
ok($r->{elapsed} >= 0.15 && $r->{elapsed} < 0.24,
   sprintf('dependent: 100 ms then 50 ms, beside 100 ms: %.0f ms',
           1000 * $r->{elapsed}));

###########################################################################
# deadlines

$r = get('/agg/call-timeout');
$d = $r->{json};
is($r->{status}, 200, 'call timeout of an optional call: 200');
is($d->{fast}{path}, '/delay/10/to-fast', 'call timeout: the other call');
ok(exists $d->{slow} && !defined $d->{slow}, 'call timeout: the call is null');
$e = error_of($d, 'slow');
is($e && $e->{status}, 504, 'call timeout: error entry with status 504');
like($e && $e->{reason}, qr/time/i, 'call timeout: the reason says so')
    or diag($r->{body});
is(completed($r), 'false', 'call timeout: X-Faas-Completed: false');
ok($r->{elapsed} < 0.3, sprintf('call timeout: answered after the call\'s '
                                . '100 ms, not the backend\'s 500 (%.0f ms)',
                                1000 * $r->{elapsed}));

$r = get('/agg/deadline');
$d = $r->{json};
is($r->{status}, 200, 'request deadline, optional call: 200');
is($d->{fast}{path}, '/delay/10/dl-fast', 'request deadline: the fast call');
ok(exists $d->{slow} && !defined $d->{slow},
   'request deadline: the late call is null');
$e = error_of($d, 'slow');
ok($e, 'request deadline: an error entry for the late call')
    or diag($r->{body});
is($e && $e->{status}, 504, 'request deadline: status 504');
ok($r->{elapsed} >= 0.28 && $r->{elapsed} < 0.6,
   sprintf('request deadline of 300 ms clamps the call\'s 2 s (%.0f ms)',
           1000 * $r->{elapsed}));

$r = get('/agg/deadline-required', 'X-Request-Id' => 'dl-trace-1');
$d = $r->{json};
is($r->{status}, 502, 'request deadline, required call: 502');
is($d && $d->{call}, 'slow', 'request deadline: the 502 names the call');
ok($r->{elapsed} < 0.6, sprintf('request deadline, required: %.0f ms',
                                1000 * $r->{elapsed}));

###########################################################################
# required and optional failures

$r = get('/agg/required?id=42', 'X-Request-Id' => 'req-trace-1');
$d = $r->{json};
is($r->{status}, 502, 'a required call failing: 502');
like(ctype($r), qr{^application/json}, '502: application/json');
is($d && $d->{call}, 'bad', '502: names the call');
is($d && $d->{status}, 503, '502: with the call\'s status');
like($d && $d->{reason}, qr/503/, '502: and the reason');
like($d && $d->{error}, qr/^call bad failed: .*503/, '502: error text');
is($d && $d->{trace_id}, 'req-trace-1', '502: the trace id');

$r = get('/agg/required-early');
is($r->{status}, 502, 'a required call failing early: 502');
ok($r->{elapsed} < 0.3, sprintf('... at once, not after the slow optional '
                                . 'call (%.0f ms)', 1000 * $r->{elapsed}));
is(completed($r), 'false', '502: X-Faas-Completed: false');

$r = get('/agg/optional?id=42');
$d = $r->{json};
is($r->{status}, 200, 'an optional call failing: 200');
is($d->{user}{name}, 'Ann', 'optional: the other call is there');
ok(exists $d->{bad} && !defined $d->{bad}, 'optional: the failed call is null');
$e = error_of($d, 'bad');
is($e && $e->{status}, 503, 'optional: errors names it with its status');
like($e && $e->{reason}, qr/503/, 'optional: and a reason');
is(scalar @{$d->{errors} || []}, 1, 'optional: one error entry');
is(completed($r), 'false', 'optional: X-Faas-Completed: false');

###########################################################################
# bodies that are not results

$r = get('/agg/bodies');
$d = $r->{json};
is($r->{status}, 200, 'bodies: 200 (all failing calls are optional)')
    or diag($r->{body});
ok(exists $d->{invalid} && !defined $d->{invalid}, 'invalid JSON: null');
like(error_of($d, 'invalid') && error_of($d, 'invalid')->{reason},
     qr/invalid JSON/i, 'invalid JSON: an error entry saying so');
ok(exists $d->{html} && !defined $d->{html}, 'text/html: null');
like(error_of($d, 'html') && error_of($d, 'html')->{reason},
     qr{content type.*text/html}i, 'text/html: an error entry naming the type');
ok(exists $d->{empty} && !defined $d->{empty}, '204: null');
ok(!error_of($d, 'empty'), '204: not an error');
is(canon($d->{list}), '[1,2,{"three":[3]}]', 'an array answer is kept');
ok(error_of($d, 'deep'), 'JSON nested 100 deep: an error entry');
is(canon($d->{shallow}), '[' x 10 . '1' . ']' x 10, 'JSON nested 10 deep: kept');
is(error_of($d, 'missing') && error_of($d, 'missing')->{status}, 404,
   'a 404: error entry with status 404');
is(completed($r), 'false', 'bodies: X-Faas-Completed: false');

###########################################################################
# sizes

$r = get('/agg/big');
$d = $r->{json};
is($r->{status}, 200, '1 MB answer with max_size 2m: 200')
    or diag(substr($r->{body} // '', 0, 300));
ok($d && $d->{big} && $d->{big}{count} > 1000
   && @{$d->{big}{items}} == $d->{big}{count},
   '1 MB answer: whole');
ok(length($r->{body}) > 1_000_000, '1 MB answer: passed on');

$r = get('/agg/big-default');
$d = $r->{json};
is($r->{status}, 200, '1 MB answer, default max_size, optional: 200');
ok(exists $d->{big} && !defined $d->{big}, 'over max_size: null');
like(error_of($d, 'big') && error_of($d, 'big')->{reason}, qr/larger than/,
     'over max_size: "larger than"');
is($d->{small}{size}, 1000, 'over max_size: the other call is there');

###########################################################################
# templates and types

backend_reset();
$r = req(GET => '/agg/template?id=42&page=2&n=7&flag=true',
         headers => ['X-Tenant' => 'acme', 'Cookie' => 'other=1; session=abc',
                     'Authorization' => 'Bearer t0k']);
$d = $r->{json};
is($r->{status}, 200, 'templates: 200') or diag($r->{body});
ok(!exists $d->{user}, 'output off: the call is not in the answer');
my $typed = $d->{typed} || {};
is($typed->{path}, '/echo/42/Ann', 'a number and a string in the URL path');
is($typed->{method}, 'POST', 'method POST');
is_deeply($typed->{query}, { city => 'Paris', vip => 'true', page => '2' },
          'nested field, boolean and the incoming query into the query');
is($typed->{headers}{'x-user-name'}, 'Ann', 'a call\'s field into a header');
is($typed->{headers}{'x-tenant'}, 'acme', 'an incoming header into a header');
is($typed->{headers}{'x-session'}, 'abc', 'a cookie into a header');
is($typed->{headers}{authorization}, 'Bearer t0k', 'forward_headers kept');
like($typed->{headers}{'content-type'} // '', qr{^application/json},
     'a JSON body is sent as application/json');
is(canon($typed->{json}),
   canon({ id => 42, vip => $TRUE, city => 'Paris', tag => 'b',
           label => 'user 42 in Paris', n => 7, s => '7', flag => $TRUE,
           addr => { city => 'Paris', zip => '75001' }, tags => ['a', 'b'],
           lit => '{x}' }),
   'JSON body: each hole with its JSON type, :number and :boolean '
   . 'converted, text around holes, "{{"')
    or diag($typed->{body});

# a number in a URL: the backend saw the path itself
$log = received(qr{^/backend/echo/42/Ann\?});
is(scalar @$log, 1, 'the backend got /echo/42/Ann');

###########################################################################
# missing values

backend_reset();
$r = get('/agg/missing?id=42&p=a%2Fb');
$d = $r->{json};
is($r->{status}, 200, 'missing values: 200 (optional calls)') or diag($r->{body});
is($d->{user}{id}, 42, 'missing values: the call they need answered');
$e = error_of($d, 'needs');
like($e && $e->{reason}, qr/nosuch/, 'a missing field: the error names it');
ok(exists $d->{needs} && !defined $d->{needs}, 'a missing field: null');
like(error_of($d, 'needq') && error_of($d, 'needq')->{reason}, qr/absent/,
     'a missing query argument: the error names it');
ok(error_of($d, 'slash'), 'a path value with "/": an error');
like(error_of($d, 'after') && error_of($d, 'after')->{reason},
     qr/depends on bad/, 'a call whose dependency failed: "depends on bad"');
is(scalar @{received(qr{/miss-})}, 0, 'none of those calls was made');

###########################################################################
# bodies sent

my $in = '{"items":[{"id":5},{"id":6}],"user":"bob"}';
$r = req(POST => '/agg/post', body => $in,
         headers => ['Content-Type' => 'application/json']);
$d = $r->{json};
is($r->{status}, 200, 'POST: 200') or diag($r->{body});
is($d->{fwd}{method}, 'POST', 'body forward: POST');
is($d->{fwd}{body}, $in, 'body forward: the incoming body as is');
is($d->{tpl}{method}, 'PUT', 'method PUT');
is(canon($d->{tpl}{json}),
   canon({ first => 5, all => [{ id => 5 }, { id => 6 }], who => 'bob' }),
   'holes from the incoming JSON body, typed');
is($d->{del}{method}, 'DELETE', 'method DELETE');
is($d->{get}{method}, 'GET', 'GET by default');
is($d->{get}{body}, '', 'no body by default');

###########################################################################
# shaping

$r = get('/agg/shape');
$d = $r->{json};
is($r->{status}, 200, 'shaping: 200') or diag($r->{body});
is(canon($d), canon({
    profile => { name => 'Ann', langs => ['de'], x => 2, age => 30 },
    shared => 'b', onlyA => $TRUE, onlyB => 1,
    me => { id => 42, name => 'Ann', address => { city => 'Paris' } },
    addr => { city => 'Paris' },
    ren => { id => 42, fullName => 'Ann', labels => ['a', 'b'] },
    nren => { address => { town => 'Paris', zip => '75001' } },
    tpick => { city => 'Paris' },
    list => [1, 2, { three => [3] }],
    uses => { path => '/echo/uses/7' },
}), 'merge (deep, later wins, arrays replaced), key, pick, omit, rename, '
    . 'target, arrays, output off') or diag($r->{body});

$r = get('/agg/merge-ac');
is(canon($r->{json}), canon({ profile => 'flat', shared => 'c', onlyA => $TRUE }),
   'merge: the later declared call wins, a scalar over an object');
$r = get('/agg/merge-ca');
is(canon($r->{json}),
   canon({ profile => { name => 'Ann', langs => ['en', 'fr'], x => 1 },
           shared => 'a', onlyA => $TRUE }),
   'merge: declared the other way, the other wins');

# more shapes and conversions
$r = get('/agg/more?b=0&o=%7B%22k%22%3A%5B1%2Cnull%5D%7D');
$d = $r->{json};
is($r->{status}, 200, 'more: 200') or diag($r->{body});
is(canon($d->{orders}), canon([ { id => 'o-1', total => 12.5 },
                                { id => 'o-2', total => 3 } ]),
   'target an array, then pick a name in each of its objects');
ok(exists $d->{gone} && !defined $d->{gone}, 'a target that is not there: null');
like(error_of($d, 'gone') && error_of($d, 'gone')->{reason},
     qr/data\.nothing/, 'and an error entry naming the path');
is(canon($d->{listm}), '[1,2,{"three":[3]}]',
   'merge on with an array answer: under its key');
is($d->{typed}{query}{j}, '["a","b"]', ':json into a query: JSON text');
is($d->{typed}{query}{z}, '75001', ':number into a query');
is(canon($d->{typed}{json}),
   canon({ s => '42', b => JSON::PP::false, n => 75001,
           o => { k => [1, undef] } }),
   ':string of a number, :boolean of "0", :number of a string, :json of a '
   . 'query argument') or diag($d->{typed}{body});
like(error_of($d, 'obj') && error_of($d, 'obj')->{reason}, qr/object/,
     'an object into a query argument: an error');
is(error_of($d, 'nofn') && error_of($d, 'nofn')->{status}, 404,
   'a function deployed nowhere: 404');
is(scalar @{$d->{errors} || []}, 3, 'more: three error entries')
    or diag($r->{body});

$r = get('/agg/target-required');
is($r->{status}, 502, 'a required call whose target is missing: 502');
is($r->{json} && $r->{json}{call}, 'items', '... naming the call');
like($r->{json} && $r->{json}{reason}, qr/target data\.nothing: no such field/,
     '... and the missing target');

###########################################################################
# headers: trace id, forwarded, hop-by-hop

my @client = ('X-Request-Id' => 'agg-trace-1', 'Authorization' => 'Bearer t0k',
              'Cookie' => 'sid=1', 'Accept-Language' => 'fr',
              'User-Agent' => 'agg-test/1', 'Keep-Alive' => '300',
              'TE' => 'trailers', 'X-Secret' => 's3cret');

$r = get('/agg/headers', @client);
$d = $r->{json};
is($r->{status}, 200, 'headers: 200') or diag($r->{body});
my $bh = $d->{be}{headers} || {};
my $fh = $d->{fn}{headers} || {};
is($d->{fn}{function}, 'echo', 'a manifest\'s function called by name');
is($bh->{'x-request-id'}, 'agg-trace-1', 'trace id reaches the backend');
is($fh->{'x-request-id'}, 'agg-trace-1', 'trace id reaches the function');
is_deeply([ @$bh{qw(authorization cookie accept-language user-agent)} ],
          [ 'Bearer t0k', 'sid=1', 'fr', 'agg-test/1' ],
          'the default forward_headers reach the backend');
is_deeply([ @$fh{qw(authorization cookie accept-language user-agent)} ],
          [ 'Bearer t0k', 'sid=1', 'fr', 'agg-test/1' ],
          'and the function');
is_deeply([ grep { exists $bh->{$_} } qw(x-secret keep-alive te) ], [],
          'the backend gets no other header, and no hop-by-hop one');
is_deeply([ grep { exists $fh->{$_} } qw(x-secret keep-alive te) ], [],
          'nor does the function');

$r = get('/agg/headers');
$d = $r->{json};
my $trace = $d->{be}{headers}{'x-request-id'} // '';
like($trace, qr/^[A-Za-z0-9._-]{1,64}$/, 'without X-Request-Id, one is made');
is($d->{fn}{headers}{'x-request-id'}, $trace, 'the same for every call');

$r = get('/agg/forward', @client);
$d = $r->{json};
$bh = $d->{be}{headers} || {};
$fh = $d->{fn}{headers} || {};
is_deeply([ @$bh{qw(authorization x-secret)} ], [ 'Bearer t0k', 's3cret' ],
          'forward_headers: the headers listed reach the backend');
is_deeply([ @$fh{qw(authorization x-secret)} ], [ 'Bearer t0k', 's3cret' ],
          'forward_headers: and the function');
is_deeply([ grep { exists $bh->{$_} }
            qw(cookie accept-language user-agent keep-alive te) ], [],
          'forward_headers replaces the default list');
is($bh->{'x-request-id'}, 'agg-trace-1', 'trace id is passed whatever the list');

###########################################################################
# functions: a manifest's, with a body and a query

$r = get('/agg/fn?id=42&q=a%26b');
$d = $r->{json};
is($r->{status}, 200, 'function call: 200') or diag($r->{body});
is($d->{price}{function}, 'echo', 'function call: the function');
is($d->{price}{method}, 'POST', 'function call: POST');
is($d->{price}{path}, '/agg/fn', 'function call: the aggregation\'s path');
is($d->{price}{query}{q}, 'a&b', 'function call: a query value, encoded');
is(canon(eval { $J->decode($d->{price}{body}) }),
   canon({ user => 42, vip => $TRUE }),
   'function call: a typed JSON body from another call');

###########################################################################
# the aggregation declared in f.yml

backend_reset();
$r = get('/page/42', 'X-Tenant' => 't1', 'X-Secret' => 'no',
         'Cookie' => 'sid=2');
$d = $r->{json};
is($r->{status}, 200, 'f.yml aggregate: 200') or diag($r->{body});
is(canon($d->{user}), canon({ id => 42, name => 'Ann', vip => $TRUE,
                              address => { city => 'Paris', zip => '75001' },
                              tags => ['a', 'b'] }),
   'f.yml: {params.id} from the route\'s :id');
is(canon($d->{orders}),
   canon({ path => '/delay/20/orders',
           query => { user => '42', city => 'Paris' },
           headers => { 'x-tenant' => 't1' } }),
   'f.yml: query mapping, dependency, pick with a nested path, '
   . 'forward_headers list');
is($d->{reco}{function}, 'echo', 'f.yml: a function call');
is(canon(eval { $J->decode($d->{reco}{sent} // '') }),
   canon({ user => 42, vip => $TRUE, tags => ['a', 'b'] }),
   'f.yml: a body mapping with typed holes, rename');
is(completed($r), 'true', 'f.yml: complete');
$log = received(qr{/backend/delay/20/orders});
ok(@$log == 1 && !exists $log->[0]{headers}{'x-secret'}
   && !exists $log->[0]{headers}{cookie},
   'f.yml: headers not listed are not forwarded');

$r = get('/page/abc');
is($r->{status}, 502, 'f.yml: a required call failing: 502');
is($r->{json} && $r->{json}{call}, 'user', 'f.yml: 502 names the call');
is($r->{json} && $r->{json}{status}, 404, 'f.yml: with its status');

$r = req(POST => '/page/42', body => '');
is($r->{status}, 405, 'f.yml: routed like any function (405 for POST)');
ok(!-e $t->sockdir . '/page-0.sock', 'faasd starts no worker for it');

###########################################################################
# a function of the Redis table under a gray release policy

my ($rc, $out, $err);
$t->write_file('src/shop/index.js', shop_code(1));
($rc, $out, $err) = faasctl('deploy', $t->dir . '/src/shop', '--store', $store);
is($rc, 0, 'gray: deploy v1') or diag("$out$err");
$t->write_file('src/shop/index.js', shop_code(2));
($rc, $out, $err) = faasctl('deploy', $t->dir . '/src/shop', '--stage',
                            '--store', $store);
is($rc, 0, 'gray: deploy --stage v2') or diag("$out$err");
($rc, $out, $err) = faasctl('release', 'shop', '--weights', 'v1=100,v2=0',
                            '--rule', 'header:x-lane=beta -> v2');
is($rc, 0, 'gray: release, X-Lane: beta -> v2') or diag("$out$err");

ok($t->wait_for(sub {
    my $x = get('/shop', 'X-Lane' => 'beta');
    $x->{status} == 200 && ($x->{json}{code} // 0) == 2;
}, 10), 'gray: the policy is in force');

my @codes = map { my $x = get('/agg/gray', 'X-Lane' => 'beta');
                  $x->{json} && $x->{json}{shop} ? $x->{json}{shop}{code} : 0 }
            1 .. 10;
is_deeply(\@codes, [ (2) x 10 ],
          'gray: the call follows the policy on the client\'s headers');
@codes = map { my $x = get('/agg/gray');
               $x->{json} && $x->{json}{shop} ? $x->{json}{shop}{code} : 0 }
         1 .. 10;
is_deeply(\@codes, [ (1) x 10 ], 'gray: and without them, v1');
$r = get('/agg/gray', 'X-Lane' => 'beta', 'X-Request-Id' => 'gray-1');
is($r->{json} && $r->{json}{shop}{lane}, '',
   'gray: X-Lane is not forwarded (not in forward_headers)');
is($r->{json} && $r->{json}{shop}{trace}, 'gray-1',
   'gray: the trace id reaches the function');
is(canon($r->{json} && $r->{json}{user}), '{"id":42}', 'gray: beside a backend');

###########################################################################
# many at once; a client that goes away

{
    my @pids;
    for my $c (1 .. 8) {
        my $pid = fork() // die "fork: $!";
        if ($pid == 0) {
            my $bad = 0;
            for my $i (1 .. 10) {
                my $x = $t->http(GET => "/agg/dependent?id=$i$c");
                my $y = eval { $J->decode($x->{body}) };
                $bad++ unless $x->{status} == 200 && $y
                    && ($y->{orders}{path} // '') eq "/delay/50/dep-orders/$i$c";
            }
            POSIX::_exit($bad);
        }
        push @pids, $pid;
    }
    my $bad = 0;
    for (@pids) {
        waitpid($_, 0);
        $bad += $? >> 8;
    }
    is($bad, 0, '80 dependent aggregations from 8 clients at once');
}

for my $path ('/agg/call-timeout', '/agg/dependent?id=3', '/agg/big') {
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1:' . $t->port);
    print $sock "GET $path HTTP/1.1\r\nHost: localhost\r\n\r\n";
    sleep 0.02;
    close $sock;
}
sleep 0.6;
$r = get('/agg/parallel');
is($r->{status}, 200, 'clients gone mid-way: still serving');

###########################################################################
# configuration errors: nginx -t, with the place

my $bad = FaasTest->new;

# nginx -t on a server with this faas_aggregate location: (status, output,
# the line of nginx.conf marked "# HERE", or of the location if none)
sub bad_conf {
    my ($agg, %o) = @_;
    $bad->nginx_conf(<<"EOF");
    server {
        listen 127.0.0.1:%%PORT%%;
        location /backend/ { internal; proxy_pass http://127.0.0.1:%%PORT_backend%%; }
        location = /x {
$agg
        }
    }
EOF
    my ($rc, $out) = $bad->nginx_test;
    my @lines = split /\n/, $bad->read_file('nginx/nginx.conf');
    my ($here) = grep { $lines[$_] =~ /# HERE/ } 0 .. $#lines;
    my ($loc) = grep { $lines[$_] =~ /location = \/x/ } 0 .. $#lines;
    my ($end) = grep { $_ > $loc && $lines[$_] =~ /^        \}$/ } 0 .. $#lines;
    return ($rc, $out, defined $here ? $here + 1 : undef, $loc + 1, $end + 1);
}

my ($brc, $bout, $line, $from, $to);

($brc, $bout) = bad_conf(<<'EOF');
            faas_aggregate {
                timeout 500ms;
                forward_headers Authorization X-Tenant;
                call user { url "/backend/users/{query.id}"; }
                call orders { url "/backend/orders"; query u "{user.id}"; optional; }
            }
EOF
is($brc, 0, 'nginx -t: a good faas_aggregate block passes') or diag($bout);

# the place an error names: nginx.conf:LINE, within the block
sub place_ok {
    my ($out, $from, $to, $what) = @_;
    my ($l) = $out =~ /nginx\.conf:(\d+)/;
    ok(defined $l && $l >= $from && $l <= $to,
       "$what: the place is given (nginx.conf:" . ($l // '?')
       . ", the block is $from-$to)") or diag($out);
}

($brc, $bout, $line, $from, $to) = bad_conf(<<'EOF');
            faas_aggregate {
                call user { url "/backend/users/{query.id}"; }
                call orders { url "/backend/orders/{nosuch.id}"; }   # HERE
            }
EOF
isnt($brc, 0, 'nginx -t: a hole naming an unknown call fails');
like($bout, qr/nosuch/, 'unknown call: named');
place_ok($bout, $from, $to, 'unknown call');

($brc, $bout, $line, $from, $to) = bad_conf(<<'EOF');
            faas_aggregate {
                call a { url "/backend/a/{b.id}"; }
                call b { url "/backend/b/{c.id}"; }
                call c { url "/backend/c/{a.id}"; }
            }
EOF
isnt($brc, 0, 'nginx -t: a cycle fails');
like($bout, qr/depend on each other|cycle/i, 'cycle: said');
like($bout, qr/\ba\b.*\bb\b.*\bc\b|\bb\b.*\bc\b.*\ba\b|\bc\b.*\ba\b.*\bb\b/s,
     'cycle: its calls named');
place_ok($bout, $from, $to, 'cycle');

($brc, $bout, $line) = bad_conf(<<'EOF');
            faas_aggregate {
                call a {
                    url "/backend/a";
                    timeout 5parsecs;   # HERE
                }
            }
EOF
isnt($brc, 0, 'nginx -t: a bad duration fails');
like($bout, qr/timeout/, 'bad duration: the key named');
like($bout, qr/nginx\.conf:$line\b/, "bad duration: at its line ($line)")
    or diag($bout);

($brc, $bout, $line) = bad_conf(<<'EOF');
            faas_aggregate {
                timeout 1x;   # HERE
                call a { url "/backend/a"; }
            }
EOF
isnt($brc, 0, 'nginx -t: a bad whole-request timeout fails');
like($bout, qr/nginx\.conf:$line\b/, "bad timeout: at its line ($line)")
    or diag($bout);

($brc, $bout, $line) = bad_conf(<<'EOF');
            faas_aggregate {
                forward_headers Authorization Keep-Alive;   # HERE
                call a { url "/backend/a"; }
            }
EOF
isnt($brc, 0, 'nginx -t: a hop-by-hop header in forward_headers fails');
like($bout, qr/Keep-Alive/i, 'hop-by-hop: named');
like($bout, qr/nginx\.conf:$line\b/, "hop-by-hop: at its line ($line)")
    or diag($bout);

($brc, $bout, $line, $from, $to) = bad_conf(<<'EOF');
            faas_aggregate {
                call a { method GET; }
            }
EOF
isnt($brc, 0, 'nginx -t: a call with neither url nor function fails');
place_ok($bout, $from, $to, 'no url');

($brc, $bout) = bad_conf("            faas_aggregate {\n"
    . join('', map { "                call c$_ { url \"/backend/$_\"; }\n" }
                   1 .. 65)
    . "            }\n");
isnt($brc, 0, 'nginx -t: 65 calls fail');
like($bout, qr/64/, '65 calls: the limit is said');

($brc, $bout) = bad_conf("            faas_aggregate {\n"
    . join('', map { "                call c$_ { url \"/backend/$_\"; }\n" }
                   1 .. 64)
    . "            }\n");
is($brc, 0, 'nginx -t: 64 calls pass') or diag($bout);

($brc, $bout, $line) = bad_conf(<<'EOF');
            faas_aggregate {
                call a { url "/backend/a"; key x; }
                call b { url "/backend/b"; key x; }   # HERE
            }
EOF
isnt($brc, 0, 'nginx -t: two calls under one key fail');
like($bout, qr/"x" is the key of call a too/, 'one key: both named')
    or diag($bout);

($brc, $bout, $line) = bad_conf(<<'EOF');
            faas_aggregate {
                call a { url "/backend/a"; header Connection "x"; }   # HERE
            }
EOF
isnt($brc, 0, 'nginx -t: a call setting a hop-by-hop header fails');
like($bout, qr/nginx\.conf:$line\b/, "hop-by-hop header: at its line ($line)")
    or diag($bout);

($brc, $bout, $line) = bad_conf(<<'EOF');
            faas_aggregate {
                call a { function nosuch; }
            }
EOF
isnt($brc, 0, 'nginx -t: a function no manifest declares, without '
     . 'faas_redis, fails');
like($bout, qr/nosuch/, 'unknown function: named') or diag($bout);

# in f.yml: the manifest's file:line:col
$bad->function('agg', 'f.yml' => <<'EOF');
service: bad
functions:
  agg:
    aggregate:
      calls:
        user:
          url: /backend/users/{params.id}
        orders:
          url: /backend/orders/{nosuch.id}
    events:
      - http: { path: /agg/:id }
EOF
$bad->nginx_conf(<<'EOF');
    server {
        listen 127.0.0.1:%%PORT%%;
        faas_manifest %%FUNCTIONS%%/agg/f.yml;
        location / { faas_pass; }
    }
EOF
($brc, $bout) = $bad->nginx_test;
isnt($brc, 0, 'nginx -t: f.yml with a hole naming an unknown call fails');
like($bout, qr/f\.yml:\d+(:\d+)?/, 'f.yml: the place is given') or diag($bout);
like($bout, qr/nosuch/, 'f.yml: the unknown call is named');

my ($frc, $fout, $ferr) = $bad->command(20, "$FaasTest::BUILD/bin/faasd", '-t',
    '-m', $bad->dir . '/functions/agg/f.yml', '-s', $bad->dir . '/sock');
isnt($frc, 0, 'faasd -t refuses it too');
like("$fout$ferr", qr/f\.yml:\d+/, 'faasd -t: with the place');

$t->done;
