#!/usr/bin/perl

# The debug log (error_log ... debug, nginx built --with-debug) explains a
# request: the route matched, the slot chosen, the worker's answer, each
# call of an aggregation, and how the Redis table came to be in force.

use strict;
use warnings;

use Test::More;
use JSON::PP;
use FaasTest;

my $ROOT = ($> == 0);

my $t = FaasTest->new;

my $nginx_v = `$FaasTest::NGINX -V 2>&1`;
plan skip_all => 'nginx is not built --with-debug'
    unless $nginx_v =~ /--with-debug/;

my $url = $t->start_redis;

mkdir $t->sockdir;
chmod 0777, $t->sockdir;

my $code = <<'EOF';
'use strict';
exports.handler = async (ctx) => {
  ctx.body = { fn: process.env.FAAS_FUNCTION, path: ctx.path };
};
EOF

my $dir = $t->function('local', 'index.js' => $code, 'f.yml' => <<'EOF');
service: local
functions:
  local:
    handler: index.handler
    events:
      - http: { path: /local }
EOF

# standalone workers on the sockets a supervisor would make
for my $w (['local-0', 'local'], ['hello@v1-0', 'hello']) {
    my ($sock, $fn) = @$w;
    my @user = $ROOT ? ('setpriv', '--reuid=nobody', '--regid=nogroup',
                        '--clear-groups') : ();
    my $path = $t->sockdir . "/$sock.sock";
    $t->spawn("worker $sock", @user, 'env', "FAAS_LISTEN=$path",
              "FAAS_CODE_DIR=$dir", 'FAAS_HANDLER=index.handler',
              "FAAS_FUNCTION=$fn",
              'node', "$FaasTest::TOP/runtime/node/bin/faas-worker.js");
    $t->wait_for(sub { -S $path }, 15) or BAIL_OUT("no worker at $path");
}

$t->nginx_conf(<<"EOF");
    faas_redis $url;
    faas_manifest %%FUNCTIONS%%/local/f.yml;

    server {
        listen 127.0.0.1:%%PORT%%;

        location = /agg {
            faas_aggregate {
                call first  { function local; }
                call second {
                    url   "/local";
                    query from "{first.fn}";
                }
            }
        }

        location / {
            faas_pass;
        }
    }
EOF

# the harness writes "info": this test reads nginx's debug lines
my $conf = $t->read_file($t->dir . '/nginx/nginx.conf');
$conf =~ s{error_log logs/error\.log info;}{error_log logs/error.log debug;}
    or BAIL_OUT('no error_log line to change');
$t->write_file('nginx/nginx.conf', $conf);

$t->start_nginx;

my $table = JSON::PP->new->canonical->encode({
    generation => 1,
    functions => {
        hello => {
            active => 'v1',
            versions => { v1 => { dir => $dir, handler => 'index.handler',
                                  instances => 1, timeout_ms => 5000 } },
            routes => [ { path => '/api/hello', methods => ['GET'] } ],
        },
    },
});

my $sock = $t->dir . '/redis/redis.sock';
open my $fh, '|-', "redis-cli -s '$sock' -x SET faas:table:1 >/dev/null"
    or die "redis-cli: $!";
print $fh $table;
close $fh;
$t->redis_cli('SET', 'faas:generation', 1);
$t->redis_cli('PUBLISH', 'faas:events', 1);

ok($t->wait_for(sub { $t->http(GET => '/api/hello')->{status} == 200 }, 10),
   'the Redis table is in force');

my $r = $t->http(GET => '/local');
is($r->{status}, 200, 'a manifest route');
$r = $t->http(GET => '/local');
is($r->{status}, 200, 'again, on a kept connection');

$r = $t->http(GET => '/agg');
is($r->{status}, 200, 'an aggregation');
like($r->{body}, qr/"second":\{.*"fn":"local"/s, 'both calls answered');

$t->stop;

my $log = $t->read_file($t->error_log);

# the table: its generation read, fetched, checked, installed
like($log, qr/faas redis: commands: connected/, 'the connection');
like($log, qr/faas redis: events: subscribe "faas:events" queued/,
     'the subscription');
like($log, qr/faas redis sync: generation 1 epoch "" read: fetch/,
     'the generation read and the decision');
like($log, qr/faas redis sync: get "faas:table:1" sent/, 'the fetch');
like($log, qr/faas redis sync: table of generation 1 received/,
     'the table received');
like($log, qr/faas redis sync: generation 1 checked: valid, 1 routes/,
     'the check');
like($log, qr/faas redis sync: generation 1 built, installing/,
     'the install');

# a routed request: route, slot, keepalive, the worker's answer
like($log, qr/faas route: "\/local" matched manifest route "\/local"/,
     'the manifest route matched');
like($log, qr/faas route: "\/api\/hello" in redis table generation 1: (?x)
              matched\ route\ "\/api\/hello"/,
     'the Redis route matched');
like($log, qr/faas peer: "local" slot 0: active 0, tried 0, failed 0/,
     'the slots considered');
like($log, qr/faas peer: "local" slot 0 chosen: the least busy/,
     'the slot chosen and why');
like($log, qr/faas peer: keepalive miss, connecting/, 'a keepalive miss');
like($log, qr/faas peer: connection \d+ kept for slot 0/,
     'the connection kept');
like($log, qr/faas peer: keepalive hit, connection \d+/, 'a keepalive hit');
like($log, qr/faas upstream: request frame to "local": head \d+ bytes, (?x)
              body\ 0\ bytes/,
     'the request frame');
like($log, qr/faas upstream: header parsed from "local": status 200, (?x)
              head\ \d+\ bytes,\ body\ length\ \d+/,
     'the upstream status and body length');
like($log, qr/faas upstream: "hello" done: status 200, body 0 bytes left, (?x)
              connection\ kept/,
     'the Redis function answered');

# the aggregation: each call
like($log, qr/faas aggregate: start "\/agg": 2 calls/, 'the start');
like($log, qr/faas aggregate: call "second" waits for its dependencies/,
     'a call waiting on another');
like($log, qr/faas aggregate: call "first" subrequest "\/agg\?"/,
     'the first call\'s subrequest');
like($log, qr/faas aggregate: call "first" to function "local"/,
     'the first call dispatched to its function');
like($log, qr/faas aggregate: call "second" subrequest "\/local\?from=local"/,
     'the second call\'s subrequest, once the first answered');
like($log, qr/faas aggregate: call "first" finished: rc \d+, status 200, (?x)
              \d+\ bytes,\ \d+\ ms/,
     'the first call finished');
like($log, qr/faas aggregate: call "second" finished: rc \d+, status 200/,
     'the second call finished');
like($log, qr/faas aggregate: "\/agg" answers, required call failed: no/,
     'the answer');

$t->done;
