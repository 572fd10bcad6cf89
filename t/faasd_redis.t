#!/usr/bin/perl

# Tests for faasd's Redis mode: the versions of the table in force run on
# their own sockets, follow new generations (kept, added, drained after a
# grace), register their endpoints with a TTL, survive poisoned tables
# and a Redis restart, and the endpoints of a faasd that dies expire.

use strict;
use warnings;

use Test::More;
use IO::Socket::UNIX;
use JSON::PP;
use Socket qw(SOCK_STREAM);
use Time::HiRes qw(sleep time);
use FaasTest;

my $t = FaasTest->new;
my $dir = $t->dir;
my $sock = $t->sockdir;
my $ROOT = ($> == 0);

my $code = <<'EOF';
'use strict';
exports.handler = async () => ({
  fn: process.env.FAAS_FUNCTION,
  version: process.env.FAAS_VERSION || '',
  pid: process.pid,
});
EOF

# a manifest function named like a Redis one: different sockets
$t->function('hello', 'index.js' => $code, 'f.yml' => <<'EOF');
service: local
functions:
  hello:
    handler: index.handler
    events:
      - http: { path: /local, method: get }
EOF

for my $v (qw(v1 v2 v3)) {
    $t->write_file("code/hello/$v/index.js", $code);
    chmod 0755, "$dir/code", "$dir/code/hello", "$dir/code/hello/$v";
}

sub version {
    my ($v, %o) = @_;
    return ($v => { dir => "$dir/code/hello/$v", handler => 'index.handler',
                    instances => $o{instances} || 1, timeout_ms => 3000,
                    env => { WHICH => $v } });
}

# P:table:G as faasctl would write it, then the switch to it
sub table {
    my ($g, $active, @versions) = @_;
    return encode_json({
        generation => $g,
        functions => {
            hello => {
                active => $active,
                routes => [ { path => '/hello', methods => ['GET'] } ],
                versions => { @versions },
            },
        },
    });
}

sub publish {
    my ($g, $json, %o) = @_;
    $t->redis_cli('SET', "faas:table:$g", $json);
    $t->redis_cli('SET', 'faas:generation', $g);
    $t->redis_cli('PUBLISH', 'faas:events', $g) unless $o{quiet};
}

# matches in faasd.log, from byte $from on
sub log_count {
    my ($re, $from) = @_;
    my $n = () = substr($t->read_file('faasd.log'), $from || 0) =~ /$re/g;
    return $n;
}

sub wait_log {
    my ($re, $timeout, $from) = @_;
    return $t->wait_for(sub { log_count($re, $from) > 0 }, $timeout || 5);
}

sub now_ms { int(time * 1000) }

# the worker protocol, as nginx speaks it: one GET, returns the JSON body
sub call {
    my ($name) = @_;
    my $c = IO::Socket::UNIX->new(Peer => "$sock/$name", Type => SOCK_STREAM)
        or return undef;
    my $head = '';
    for ([1, 'hello'], [2, 'GET'], [3, '/hello']) {
        $head .= pack('CN', $_->[0], length $_->[1]) . $_->[1];
    }
    my $res = eval {
        local $SIG{ALRM} = sub { die "timeout\n" };
        alarm 5;
        syswrite($c, 'FaaS' . pack('CCnNN', 1, 1, 0, length $head, 0)
                 . $head);
        my $buf = '';
        while (1) {
            my $n = sysread($c, $buf, 65536, length $buf);
            last unless $n;
            next if length $buf < 16;
            my (undef, undef, undef, undef, $hl, $bl) =
                unpack('a4CCnNN', $buf);
            last if length $buf >= 16 + $hl + $bl;
        }
        alarm 0;
        my (undef, undef, undef, undef, $hl, $bl) = unpack('a4CCnNN', $buf);
        decode_json(substr($buf, 16 + $hl, $bl));
    };
    alarm 0;
    return $res;
}

sub endpoints {
    my ($v) = @_;
    my @r = split /\n/, $t->redis_cli('ZRANGE', "faas:endpoints:hello:$v",
                                      0, -1, 'WITHSCORES');
    return { @r };
}

sub live_endpoints {
    my ($v) = @_;
    return 0 + $t->redis_cli('ZCOUNT', "faas:endpoints:hello:$v",
                             '(' . now_ms(), '+inf');
}

my @user = $ROOT ? ('-u', 'nobody', '-g', 'nogroup') : ();

sub faasd {
    my (@args) = @_;
    $t->spawn('faasd', "$FaasTest::BUILD/bin/faasd", '-R', $t->redis_url,
              '-s', $sock, '-T', 1500, @user, '-l', $t->faasd_log, @args);
}

###############################################################################

# generation 1: v1, with a manifest function of the same name

$t->start_redis;
publish(1, table(1, 'v1', version('v1')));

faasd('-m', "$dir/functions/*/f.yml");

ok($t->wait_for(sub { -S "$sock/hello\@v1-0.sock" }, 10),
   'v1 socket appears');
ok($t->wait_for(sub { -S "$sock/hello-0.sock" }, 10),
   'manifest socket appears beside it');
like($t->read_file('faasd.log'), qr/redis: connected to unix:\/\//,
     'connected logged');

my $r = call('hello@v1-0.sock');
is($r && $r->{version}, 'v1', 'v1 worker answers with FAAS_VERSION');
is($r && $r->{fn}, 'hello', 'FAAS_FUNCTION is the function name');
$r = call('hello-0.sock');
is($r && $r->{version}, '', 'manifest worker has no version');

ok($t->wait_for(sub { live_endpoints('v1') == 1 }, 3), 'v1 endpoint added');
my $ep = endpoints('v1');
my ($member) = keys %$ep;
is($member, "unix:$sock/hello\@v1-0.sock", 'endpoint member');
ok($member && $ep->{$member} > now_ms() && $ep->{$member} < now_ms() + 2000,
   'endpoint score in the future, within the TTL');
is($t->redis_cli('EXISTS', 'faas:endpoints:hello') + 0, 0,
   'no endpoints for manifest functions');

# generation 2: v2 added, v1 kept as it is

$r = call('hello@v1-0.sock');
my $v1pid = $r ? $r->{pid} : -1;
publish(2, table(2, 'v2', version('v1'), version('v2', instances => 2)));

ok($t->wait_for(sub { -S "$sock/hello\@v2-0.sock"
                      && -S "$sock/hello\@v2-1.sock" }, 10),
   'v2 sockets appear');
ok(-S "$sock/hello\@v1-0.sock", 'v1 socket stays');
$r = call('hello@v2-1.sock');
is($r && $r->{version}, 'v2', 'v2 worker answers');
$r = call('hello@v1-0.sock');
is($r && $r->{pid}, $v1pid, 'v1 worker not restarted');
is(log_count(qr/function hello\@v1 slot 0 ready/), 1, 'v1 started once');
ok($t->wait_for(sub { live_endpoints('v2') == 2 }, 3), 'v2 endpoints added');

# generation 3: v1 gone, drained after the grace

my $t0 = time;
publish(3, table(3, 'v2', version('v2', instances => 2)));
ok(wait_log(qr/hello\@v1 slot 0 left the table/, 3), 'v1 leaves the table');
ok(-S "$sock/hello\@v1-0.sock", 'v1 socket kept during the grace');
ok($t->wait_for(sub { !-S "$sock/hello\@v1-0.sock" }, 5), 'v1 socket gone');
cmp_ok(time - $t0, '>=', 1.5, 'after the grace');
ok($t->wait_for(sub { $t->redis_cli('ZCARD', 'faas:endpoints:hello:v1') == 0 },
                2), 'v1 endpoint removed');
is(live_endpoints('v2'), 2, 'v2 endpoints stay');

# poisoned tables: ignored, logged once with their key

publish(4, 'not json {');
ok(wait_log(qr/faas:table:4/, 3), 'bad JSON logged with its key');
my $nov = encode_json({ generation => 5, functions => { hello => {
    routes => [], versions => { version('v3') } } } });
publish(5, $nov);
ok(wait_log(qr/faas:table:5/, 3), 'missing active logged with its key');
sleep 1.5;
is(log_count(qr/faas:table:5/), 1, 'logged once');
ok(-S "$sock/hello\@v2-0.sock" && !-e "$sock/hello\@v3-0.sock",
   'previous table stays in force');

# SIGHUP re-reads the table: nothing restarts

$t->signal('faasd', 'HUP');
ok(wait_log(qr/reloading the manifests and the Redis table/, 3), 'HUP');
sleep 0.5;
is(log_count(qr/function hello\@v2 slot 0 ready/), 1, 'v2 not restarted');

# Redis restarted: faasd keeps running, reconnects, catches up

$t->stop_redis;
ok(wait_log(qr/redis: connection lost/, 3), 'loss logged');
sleep 0.5;
$r = call('hello@v2-0.sock');
is($r && $r->{version}, 'v2', 'v2 serves while Redis is down');
$t->start_redis;
# no persistence: the data is gone; published with no message at all
publish(6, table(6, 'v3', version('v2', instances => 2), version('v3')),
        quiet => 1);
ok(wait_log(qr/redis: reconnected/, 8), 'reconnect logged');
ok($t->wait_for(sub { -S "$sock/hello\@v3-0.sock" }, 5),
   'generation set while down picked up');
is(log_count(qr/redis: connection lost/), 1, 'loss logged once');
ok($t->wait_for(sub { live_endpoints('v2') == 2 }, 3),
   'endpoints registered again');
unlike($t->read_file('faasd.log'), qr/\[(?:alert|emerg)\]/, 'no alerts');

# the same generation under another epoch (a Redis emptied and counted
# again to 6) is another table; one that does not carry P:epoch's epoch
# is rejected

{
    my $json = decode_json(table(6, 'v1', version('v1')));
    $json->{epoch} = 'e2';
    $t->redis_cli('SET', 'faas:epoch', 'e2');
    publish(6, encode_json($json));
    ok($t->wait_for(sub { -S "$sock/hello\@v1-0.sock" }, 5),
       'generation 6 of epoch e2: its v1 runs');
    ok(wait_log(qr/hello\@v3 slot 0 left the table/, 3),
       'and v3 of the old generation 6 leaves');

    $t->redis_cli('SET', 'faas:epoch', 'e3');
    publish(6, encode_json($json));
    ok(wait_log(qr/table rejected, keeping the one in force: faas:table:6: /
                . qr/"generation" 6 and "epoch" "e2" are not 6 and "e3" of /
                . qr/"faas:epoch"/, 3),
       'a table of another epoch than P:epoch: rejected, with the reason');
    ok(-S "$sock/hello\@v1-0.sock", 'the table in force stays');

    # back to v2 and v3, in epoch e3
    $json = decode_json(table(7, 'v3', version('v2', instances => 2),
                              version('v3')));
    $json->{epoch} = 'e3';
    publish(7, encode_json($json));
    ok($t->wait_for(sub { -S "$sock/hello\@v3-0.sock" }, 5),
       'generation 7 of epoch e3 served');
}

# SIGKILL: the endpoints expire by themselves

ok($t->wait_for(sub { live_endpoints('v3') == 1 }, 3), 'v3 endpoint');
$t->stop_process('faasd', 'KILL');
ok($t->wait_for(sub { live_endpoints('v2') + live_endpoints('v3') == 0 }, 4),
   'endpoints of a killed faasd expire');

# started while Redis is down: manifest functions run, Redis comes later;
# SIGTERM removes the endpoints

$t->stop_redis;
sleep 0.3;
my $mark = length $t->read_file('faasd.log');
faasd('-m', "$dir/functions/*/f.yml");
ok($t->wait_for(sub { -S "$sock/hello-0.sock" }, 10),
   'manifest function runs with Redis down');
ok(wait_log(qr/redis: cannot connect to unix:.*retrying/, 5, $mark),
   'connection failure logged');
$t->start_redis;
publish(7, table(7, 'v2', version('v2')));
ok($t->wait_for(sub { live_endpoints('v2') == 1 }, 8),
   'versions start once Redis is up');
is(log_count(qr/redis: cannot connect/, $mark), 1, 'failure logged once');
$t->stop_process('faasd', 'TERM');
is($t->redis_cli('ZCARD', 'faas:endpoints:hello:v2') + 0, 0,
   'endpoints removed at SIGTERM');
ok(!-e "$sock/hello\@v2-0.sock", 'sockets unlinked');
unlike($t->read_file('faasd.log'), qr/password|\[(?:alert|emerg)\]/,
       'no alerts');

$t->done;
