#!/usr/bin/perl

# Tests for routes from the Redis table (docs/redis.md): a route added or
# removed reaches every nginx worker process at once, the timer finds a
# change without its message, poisoned tables are refused and logged, the
# manifest's routes come first, a replaced table lives as long as its
# requests, a table larger than any read, and two gateways with their own
# prefixes sharing one Redis.

use strict;
use warnings;

use Test::More;
use JSON::PP;
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(sleep time);
use FaasTest;

my $ROOT = ($> == 0);

# configuration errors: nginx -t names the place, never the password

{
    my $c = FaasTest->new;
    my %bad = (
        'faas_redis http://x;' => qr/faas_redis: invalid Redis URL: expected/,
        'faas_redis redis://u:topsecret@h:99999;' =>
            qr/faas_redis: invalid Redis URL/,
        'faas_redis redis://127.0.0.1; faas_redis redis://127.0.0.1;' =>
            qr/"faas_redis" directive is duplicate/,
        'faas_redis unix:///r.sock; faas_redis_prefix "a b";' =>
            qr/invalid faas_redis_prefix "a b"/,
        'faas_redis unix:///r.sock; faas_redis_check 0;' =>
            qr/must be longer than 0/,
    );
    for my $conf (sort keys %bad) {
        $c->nginx_conf("    $conf\n    server { listen 127.0.0.1:%%PORT%%; }");
        my ($rc, $out) = $c->nginx_test;
        ok($rc != 0, "nginx -t fails: $conf");
        like($out, $bad{$conf}, "nginx -t says why: $conf");
        unlike($out, qr/topsecret/, "nginx -t hides the password: $conf");
    }

    $c->nginx_conf("    faas_redis http://x;");
    like(($c->nginx_test)[1], qr/in \S+nginx\.conf:\d+/, 'and where');

    # faas_pass without a name needs no manifest with faas_redis
    $c->nginx_conf(<<'EOF');
    faas_redis unix:///nowhere/redis.sock;
    faas_redis_prefix staging:eu;
    faas_redis_cache cache/table.json;
    faas_redis_check 250ms;
    faas_redis_timeout 2s;
    server {
        listen 127.0.0.1:%%PORT%%;
        location / { faas_pass; }
    }
EOF
    is(($c->nginx_test)[0], 0, 'faas_pass with faas_redis and no manifest');
}

my $t = FaasTest->new;
my $open_url = $t->start_redis(tcp => 1);

# the gateway logs in as an ACL user with only what it needs (as
# docs/directives.md says); its password must never be logged
$t->redis_cli('ACL', 'SETUSER', 'gw', 'on', '>s3cret-pw', '~faas:*',
              '&faas:events', '+get', '+mget', '+subscribe', '+ping',
              '+select');
(my $url = $open_url) =~ s{^unix://}{unix://gw:s3cret-pw@};

mkdir $t->sockdir;
chmod 0777, $t->sockdir;

my $code = <<'EOF';
'use strict';
exports.handler = async (ctx) => {
  if (ctx.path === '/api/slow') {
    await new Promise((r) => setTimeout(r, 1500));
  }
  ctx.body = { fn: process.env.FAAS_FUNCTION, tag: process.env.TAG || '',
               params: ctx.params };
};
EOF

my $hello = $t->function('hello', 'index.js' => $code);

# a manifest function beside the table's, for precedence
$t->function('local', 'index.js' => $code, 'f.yml' => <<'EOF');
service: local
functions:
  local:
    handler: index.handler
    events:
      - http: { path: /api/shared, method: get }
      - http: { path: /api/mixed, method: post }
      - http: { path: /local }
EOF

# standalone workers: FN@V-SLOT.sock as a supervisor would make them
sub worker {
    my ($t, $sock, $fn, %env) = @_;
    my @user = $ROOT ? ('setpriv', '--reuid=nobody', '--regid=nogroup',
                        '--clear-groups') : ();
    my $path = $t->sockdir . "/$sock.sock";
    $t->spawn("worker $sock", @user, 'env', "FAAS_LISTEN=$path",
              "FAAS_CODE_DIR=$hello", 'FAAS_HANDLER=index.handler',
              "FAAS_FUNCTION=$fn", 'FAAS_CONCURRENCY=4',
              map({ "$_=$env{$_}" } sort keys %env),
              'node', "$FaasTest::TOP/runtime/node/bin/faas-worker.js");
    return $path;
}

my @socks = (worker($t, 'hello@v1-0', 'hello', TAG => 'v1'),
             worker($t, 'hello@v2-0', 'hello', TAG => 'v2'),
             worker($t, 'world@v1-0', 'world'),
             worker($t, 'local-0', 'local'));

for my $s (@socks) {
    $t->wait_for(sub { -S $s }, 15) or BAIL_OUT("no worker at $s");
}

$t->nginx_conf(<<"EOF", workers => 2);
    faas_redis $url;
    faas_manifest %%FUNCTIONS%%/local/f.yml;

    server {
        listen 127.0.0.1:%%PORT%%;

        location / {
            add_header X-Worker \$pid always;
            add_header X-Function \$faas_function always;
            add_header X-Version \$faas_version always;
            add_header X-Route \$faas_route always;
            faas_pass;
        }
    }
EOF

$t->start_nginx;

# the table JSON: name => [active, [[path, methods...]...], versions...]
sub table {
    my ($gen, %fns) = @_;
    my %functions;
    for my $name (sort keys %fns) {
        my ($active, $routes, @more) = @{$fns{$name}};
        my %versions;
        for my $v ($active, @more) {
            $versions{$v} = { dir => $hello, handler => 'index.handler',
                              instances => 1, timeout_ms => 5000 };
        }
        $functions{$name} = {
            active => $active, versions => \%versions,
            routes => [ map { { path => $_->[0],
                                methods => [ @{$_}[1 .. $#$_] ] } }
                        @$routes ],
        };
    }
    return JSON::PP->new->canonical->encode(
        { generation => $gen, functions => \%functions });
}

# SET through stdin: a big table is longer than an argument may be
sub redis_set {
    my ($key, $value, $db) = @_;
    my $sock = $t->dir . '/redis/redis.sock';
    $db //= 0;
    open my $fh, '|-',
        "redis-cli -s '$sock' -n $db -x SET '$key' >/dev/null"
        or die "redis-cli: $!";
    print $fh $value;
    close $fh;
}

sub deploy {
    my ($gen, $json, %o) = @_;
    my $prefix = $o{prefix} // 'faas';
    redis_set("$prefix:table:$gen", $json);
    $t->redis_cli('SET', "$prefix:generation", $gen);
    $t->redis_cli('PUBLISH', "$prefix:events", $gen) unless $o{quiet};
    return time;
}

# polls with fresh connections until both nginx workers answered $want;
# returns the seconds from $since, or undef
sub converge {
    my ($since, $path, $want, $timeout) = @_;
    my %seen;
    my $until = $since + ($timeout || 3);
    while (time < $until) {
        my $r = $t->http(GET => $path);
        my $w = FaasTest::hdr($r, 'X-Worker') // 0;
        $seen{$w} = 1 if $r->{status} == $want;
        delete $seen{$w} if $r->{status} != $want;
        return time - $since if keys %seen >= 2;
        sleep 0.005;
    }
    return undef;
}

sub workers_of {
    my ($path) = @_;
    my %w;
    $w{ FaasTest::hdr($t->http(GET => $path), 'X-Worker') // 0 } = 1
        for 1 .. 40;
    return scalar keys %w;
}

my $r;

# no table yet: the manifest serves, Redis routes are unknown

$r = $t->http(GET => '/api/hello');
is($r->{status}, 404, 'no table: 404');
is($t->http(GET => '/local')->{status}, 200, 'manifest route served');
is(workers_of('/local'), 2, 'both nginx workers answer');

# a route added reaches every worker within 100 ms of its PUBLISH

my $since = deploy(1, table(1, hello => ['v1', [['/api/hello', 'GET'],
                                                ['/api/hello/:name', 'GET']]]));
my $took = converge($since, '/api/hello', 200);
ok(defined $took && $took < 0.3, 'added route served by both workers')
    or diag('took ' . ($took // 'forever'));
diag(sprintf 'route added: both workers in %.1f ms', ($took // 9) * 1000);

$r = $t->http(GET => '/api/hello/ann');
is($r->{status}, 200, 'param route');
is(decode_json($r->{body})->{params}{name}, 'ann', 'param value');
is(FaasTest::hdr($r, 'X-Function'), 'hello', '$faas_function');
is(FaasTest::hdr($r, 'X-Version'), 'v1', '$faas_version');
is(FaasTest::hdr($r, 'X-Route'), '/api/hello/:name', '$faas_route');
is(decode_json($r->{body})->{tag}, 'v1', 'served by hello@v1');
ok(!defined FaasTest::hdr($t->http(GET => '/local'), 'X-Version'),
   'no $faas_version for a manifest function');
is($t->http(POST => '/api/hello')->{status}, 405, 'method not allowed');

# a route removed: 404 on every worker as fast; a version switched

$since = deploy(2, table(2, hello => ['v2', [['/api/hello/:name', 'GET']]],
                         world => ['v1', [['/api/world', 'GET']]]));
$took = converge($since, '/api/hello', 404);
ok(defined $took && $took < 0.3, 'removed route: 404 on both workers')
    or diag('took ' . ($took // 'forever'));
diag(sprintf 'route removed: both workers in %.1f ms', ($took // 9) * 1000);

$r = $t->http(GET => '/api/hello/bob');
is(decode_json($r->{body})->{tag}, 'v2', 'active version switched');
is(FaasTest::hdr($r, 'X-Version'), 'v2', '$faas_version of the new one');
is($t->http(GET => '/api/world')->{status}, 200, 'new function served');

# no message: the timer (faas_redis_check 1s) finds the change

$since = deploy(3, table(3, hello => ['v2', [['/api/hello/:name', 'GET'],
                                             ['/api/quiet', 'GET']]]),
                quiet => 1);
$took = converge($since, '/api/quiet', 200, 4);
ok(defined $took && $took < 2.5, 'change without PUBLISH found by the timer')
    or diag('took ' . ($took // 'forever'));
diag(sprintf 'without PUBLISH: %.0f ms', ($took // 9) * 1000);

# poisoned tables: refused with the key named, the table in force stays

my %poison = (
    4 => ['bad JSON', '{"generation":4,"functions":{"x":',
          qr/faas:table:4.*JSON/],
    5 => ['active not in versions',
          table(5, hello => ['v9', [['/api/poison', 'GET']]]) =~
              s/"versions":\{"v9"/"versions":{"v1"/r,
          qr/faas:table:5.*v9/],
    6 => ['invalid route', table(6, hello => ['v2', [['/api/*/x', 'GET']]]),
          qr/faas:table:6.*\/api\/\*\/x/],
    7 => ['a name with a slash',
          table(7, 'he/llo' => ['v2', [['/api/poison', 'GET']]]),
          qr/faas:table:7.*he\/llo/],
    8 => ['generation not the key\'s', table(80, hello => ['v2',
              [['/api/poison', 'GET']]]), qr/faas:table:8.*80/],
);

for my $g (sort keys %poison) {
    my ($what, $json, $re) = @{$poison{$g}};
    deploy($g, $json);
    ok($t->wait_for(sub { $t->read_file($t->error_log) =~ $re }, 3),
       "poisoned ($what): logged with its key");
    is($t->http(GET => '/api/quiet')->{status}, 200,
       "poisoned ($what): the table in force serves");
    is($t->http(GET => '/api/poison')->{status}, 404,
       "poisoned ($what): nothing of it is used");
}

my @rejected = $t->read_file($t->error_log) =~ /\[error\].*(faas:table:4)/g;
is(scalar @rejected, 1, 'a rejected table is said once');

# a P:epoch that is not one: said once, the table in force stays
$t->redis_cli('SET', 'faas:epoch', 'not-an/epoch');
$t->redis_cli('PUBLISH', 'faas:events', 8);
ok($t->wait_for(sub { $t->read_file($t->error_log)
                          =~ /"faas:epoch" is not an epoch/ }, 3),
   'a bad epoch: said');
is($t->http(GET => '/api/quiet')->{status}, 200,
   'a bad epoch: the table in force serves');
$t->redis_cli('DEL', 'faas:epoch');
$t->allow_log(qr/"faas:epoch" is not an epoch/);

# precedence: the manifest first, conflicts reported, 405 merged

$since = deploy(9, table(9,
    hello => ['v1', [['/api/shared', 'GET'], ['/api/mixed', 'GET'],
                     ['/api/slow', 'GET'], ['/api/quiet', 'GET']]]));
ok(defined converge($since, '/api/mixed', 200), 'generation 9 served');

$r = $t->http(GET => '/api/shared');
is(FaasTest::hdr($r, 'X-Function'), 'local', 'manifest route wins');
like($t->read_file($t->error_log),
     qr/\[warn\].*function\ "hello"\ of\ generation\ 9\ is\ shadowed\ by
        \ a\ manifest\ in\ the\ server\ at\ \S+nginx\.conf:\d+:
        .*"GET\ \/api\/shared".*f\.yml:6:9/x,
     'shadowed route reported with both places');
$r = $t->http(GET => '/api/mixed');
is(FaasTest::hdr($r, 'X-Function'), 'hello',
   'path of the manifest, method of the table');
is($t->http(POST => '/api/mixed')->{status}, 200, 'and the manifest\'s');
$r = $t->http(PUT => '/api/mixed', body => '');
is($r->{status}, 405, 'neither method: 405');
is(FaasTest::hdr($r, 'Allow'), 'GET, HEAD, POST', 'Allow of both');

# a request in flight keeps the table it started with

{
    my $out = $t->dir . '/slow.out';
    my $pid = fork() // die;
    if ($pid == 0) {
        my $r = $t->http(GET => '/api/slow', timeout => 10);
        open my $fh, '>', $out;
        print $fh "$r->{status} " . ($r->{body} // '');
        close $fh;
        POSIX::_exit(0);
    }
    sleep 0.4;
    $since = deploy(10, table(10, world => ['v1', [['/api/world', 'GET']]]));
    $took = converge($since, '/api/slow', 404);
    ok(defined $took, 'slow route removed meanwhile');
    waitpid($pid, 0);
    like($t->read_file($out), qr/^200 .*"tag":"v1"/,
         'the slow request completed on the replaced table');
    is($t->http(GET => '/api/world')->{status}, 200, 'new table serves');
}

# a table larger than any read: 3000 functions

{
    my %fns = (hello => ['v1', [['/api/hello', 'GET']]]);
    $fns{"f$_"} = ['v1', [["/api/many/f$_/:id", 'GET', 'POST']]]
        for 1 .. 3000;
    my $json = table(11, %fns);
    ok(length($json) > 256 * 1024, 'big table: ' . length($json) . ' bytes');
    $since = deploy(11, $json);
    $took = converge($since, '/api/hello', 200);
    ok(defined $took, 'big table served by both workers');
    diag(sprintf 'big table: %.1f ms', ($took // 9) * 1000);
    is($t->http(GET => '/api/many/f2999/7')->{status}, 502,
       'one of its routes (no worker behind it: 502)');
    is($t->http(GET => '/api/many/f3001/7')->{status}, 404,
       'not one of them');
}

# two gateways, two prefixes, one Redis: each converges to its own

{
    my $t2 = FaasTest->new;
    symlink($t->sockdir, $t2->sockdir) or die "symlink: $!";

    # over TCP, a name resolved by nginx -t, another database
    my $tcp = 'redis://localhost:' . $t->port('redis') . '/3';
    $t2->nginx_conf(<<"EOF", workers => 2);
    faas_redis $tcp;
    faas_redis_prefix staging;
    server {
        listen 127.0.0.1:%%PORT%%;
        location / {
            add_header X-Worker \$pid always;
            faas_pass;
        }
    }
EOF
    $t2->start_nginx;

    my $port2 = $t2->port;
    my $s = time;
    redis_set('staging:table:1',
              table(1, world => ['v1', [['/api/staging', 'GET']]]), 3);
    $t->redis_cli('-n', 3, 'SET', 'staging:generation', 1);
    $t->redis_cli('PUBLISH', 'staging:events', 1);
    deploy(12, table(12, hello => ['v2', [['/api/prod', 'GET']]]));

    ok($t2->wait_for(sub {
        $t->http(GET => '/api/staging', port => $port2)->{status} == 200
    }, 3), 'staging gateway serves its table');
    ok($t->wait_for(sub { $t->http(GET => '/api/prod')->{status} == 200 }, 3),
       'prod gateway serves its table');
    is($t->http(GET => '/api/prod', port => $port2)->{status}, 404,
       'staging does not see prod\'s routes');
    is($t->http(GET => '/api/staging')->{status}, 404,
       'prod does not see staging\'s routes');
    diag(sprintf 'two gateways: %.1f ms', (time - $s) * 1000);
    like($t2->read_file($t2->error_log),
         qr{connected to redis://localhost:\d+/3 \(commands\)},
         'TCP connection said');

    $t2->stop;
    $t2->check_logs;
}

my $log = $t->read_file($t->error_log);
like($log, qr{connected to unix://gw:\*\*\*@/}, 'URL logged, password hidden');
unlike($log, qr/s3cret/, 'no password in the log');

$t->done;
