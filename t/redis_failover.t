#!/usr/bin/perl

# Tests for a gateway whose Redis goes away: Redis killed under load
# (no request fails, each state change logged once, reconnection after
# its restart, changes made meanwhile picked up), 20 reloads and 200
# table changes under load, a gateway started while Redis is down
# serving its cache file, a bad cache file, and a wrong password.

use strict;
use warnings;

use Test::More;
use JSON::PP;
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(sleep time);
use IO::Socket::UNIX;
use Socket qw(SOCK_STREAM);
use FaasTest;

my $ROOT = ($> == 0);

my $t = FaasTest->new;
my $url = $t->start_redis;
my $sock = $t->dir . '/redis/redis.sock';

mkdir $t->sockdir;
chmod 0777, $t->sockdir;
mkdir $t->dir . '/cache';
chmod 0777, $t->dir . '/cache';
my $cache = $t->dir . '/cache/table.json';

my $hello = $t->function('hello', 'index.js' => <<'EOF');
'use strict';
exports.handler = async (ctx) => { ctx.body = { path: ctx.path }; };
EOF

{
    my @user = $ROOT ? ('setpriv', '--reuid=nobody', '--regid=nogroup',
                        '--clear-groups') : ();
    for my $slot (0, 1) {
        my $path = $t->sockdir . "/hello\@v1-$slot.sock";
        $t->spawn("worker $slot", @user, 'env', "FAAS_LISTEN=$path",
                  "FAAS_CODE_DIR=$hello", 'FAAS_HANDLER=index.handler',
                  'FAAS_FUNCTION=hello', 'FAAS_CONCURRENCY=8',
                  'node', "$FaasTest::TOP/runtime/node/bin/faas-worker.js");
        $t->wait_for(sub { -S $path }, 15) or BAIL_OUT("no worker $slot");
    }
}

$t->nginx_conf(<<"EOF", workers => 2);
    faas_redis $url;
    faas_redis_cache $cache;

    server {
        listen 127.0.0.1:%%PORT%%;
        location / {
            add_header X-Worker \$pid always;
            faas_pass;
        }
    }
EOF

sub table {
    my ($gen, @paths) = @_;
    return JSON::PP->new->canonical->encode({
        generation => $gen,
        functions => { hello => {
            active => 'v1',
            versions => { v1 => { dir => $hello, handler => 'index.handler',
                                  instances => 2 } },
            routes => [ map { { path => $_, methods => ['GET'] } } @paths ],
        } },
    });
}

sub deploy {
    my ($gen, @paths) = @_;
    $t->redis_cli('SET', "faas:table:$gen", table($gen, @paths));
    $t->redis_cli('SET', 'faas:generation', $gen);
    $t->redis_cli('PUBLISH', 'faas:events', $gen);
}

sub served {
    my ($path, $timeout) = @_;
    return $t->wait_for(sub { $t->http(GET => $path)->{status} == 200 },
                        $timeout || 3);
}

sub both_workers {
    my ($path) = @_;
    my %w;
    for (1 .. 40) {
        my $r = $t->http(GET => $path);
        $w{ FaasTest::hdr($r, 'X-Worker') // 0 } = 1 if $r->{status} == 200;
    }
    return scalar keys %w;
}

# requests on fresh connections from $n processes until stopped;
# returns a sub that stops them and gives { status => count }
sub load {
    my ($n, $path) = @_;
    my $stop = $t->dir . "/stop.$$";
    unlink $stop;
    my @kids;
    for my $k (1 .. $n) {
        my $out = $t->dir . "/load.$k";
        my $pid = fork() // die "fork: $!";
        if ($pid == 0) {
            my (%count, $i);
            my $until = time + 50;
            while (!-e $stop && time < $until) {
                $count{ $t->http(GET => $path, timeout => 5)->{status} }++;
            }
            open my $fh, '>', $out;
            print $fh encode_json(\%count);
            close $fh;
            POSIX::_exit(0);
        }
        push @kids, [ $pid, $out ];
    }
    return sub {
        open my $fh, '>', $stop;
        close $fh;
        my %total;
        for my $k (@kids) {
            waitpid($k->[0], 0);
            my $c = decode_json($t->read_file($k->[1]) || '{}');
            $total{$_} += $c->{$_} for keys %$c;
        }
        return \%total;
    };
}

sub failures {
    my ($count) = @_;
    return join ', ', map { "$_ x $count->{$_}" }
                      grep { $_ != 200 } sort keys %$count;
}

sub count_log {
    my ($re) = @_;
    my @l = grep { $_ =~ $re } split /\n/, $t->read_file($t->error_log);
    return scalar @l;
}

$t->start_nginx;

deploy(1, '/api/hello');
ok(served('/api/hello'), 'table of generation 1 served');
is(both_workers('/api/hello'), 2, 'by both workers');
ok($t->wait_for(sub { $t->read_file($cache) =~ /"generation":1\b/ }, 3),
   'cache file written');
ok(!glob($t->dir . '/cache/*.tmp'), 'no temporary file left');

# Redis killed under load: nothing fails, each loss is said once

{
    my $done = load(2, '/api/hello');
    sleep 0.5;

    $t->stop_process('redis', 'KILL');
    ok($t->wait_for(sub {
        count_log(qr/faas redis: connection lost to unix:/) >= 4 }, 3),
       'each connection of each worker says it lost Redis');
    sleep 1.5;
    is(count_log(qr/faas redis: connection lost/), 4,
       'said once, not at each attempt');
    is(count_log(qr/faas redis: cannot connect/), 0,
       'failed attempts are not logged one by one');

    # restarted empty, as after a crash without persistence
    unlink $sock;
    $t->start_redis;
    $t->wait_for(sub { $t->redis_cli('PING') eq 'PONG' }, 5);
    deploy(5, '/api/hello', '/api/five');

    ok(served('/api/five', 8), 'change made after the restart served');
    is(both_workers('/api/five'), 2, 'by both workers');
    ok($t->wait_for(sub {
        count_log(qr/faas redis: reconnected to .* after \d+ attempts, \d+ /
                  . qr/reconnections in this worker/) >= 4 }, 8),
       'reconnections said, with the attempts and the count');

    my $count = $done->();
    is(failures($count), '', 'no request failed while Redis was away');
    diag('requests: ' . join ', ', map { "$_ x $count->{$_}" } keys %$count);
}

# 20 reloads and 200 table changes under load

{
    my $done = load(2, '/api/hello');

    my $changer = fork() // die "fork: $!";
    if ($changer == 0) {
        for my $g (100 .. 299) {
            deploy($g, '/api/hello', "/api/gen$g");
            sleep 0.01;
        }
        POSIX::_exit(0);
    }

    for (1 .. 20) {
        $t->nginx_reload;
    }

    waitpid($changer, 0);
    ok(served('/api/gen299', 5), 'last of 200 changes served');

    my $count = $done->();
    is(failures($count), '', '20 reloads and 200 changes: no failure');
    diag('requests: ' . join ', ', map { "$_ x $count->{$_}" } keys %$count);
    ok($t->wait_for(sub { $t->read_file($cache) =~ /"generation":299\b/ },
                    3),
       'cache follows the changes');
}

# a gateway started while Redis is down serves its cache

{
    $t->stop_process('nginx', 'QUIT');
    $t->stop_redis;

    my $before = count_log(qr/cannot connect/);
    $t->start_nginx;

    ok($t->wait_for(sub {
        count_log(qr/faas redis: serving the cached table of generation 299 /
                  . qr/from \Q$cache\E/) >= 2 }, 3),
       'each worker says it serves the cache');
    is($t->http(GET => '/api/gen299')->{status}, 200, 'cached table serves');
    is(both_workers('/api/hello'), 2, 'in both workers');
    sleep 1;
    is(count_log(qr/faas redis: cannot connect/) - $before, 4,
       'Redis down: said once per connection');

    $t->start_redis;
    ok($t->wait_for(sub {
        count_log(qr/faas redis: connected to .* after \d+ attempts/) >= 4 },
        8), 'connected when Redis comes');
    ok($t->wait_for(sub { count_log(qr/"faas:generation" is not set/) }, 3),
       'empty Redis: said');
    is($t->http(GET => '/api/gen299')->{status}, 200,
       'and the table in force stays');
}

# a bad cache file: said, not used, nothing else hurt

{
    $t->write_file($cache, '{"generation": 3, "functions": ');
    chmod 0666, $cache;
    $t->nginx_reload;
    ok($t->wait_for(sub {
        count_log(qr/the table cache is not used: \Q$cache\E: invalid JSON/)
    }, 3), 'bad cache said with its path');
    is($t->http(GET => '/api/hello')->{status}, 404,
       'no table until Redis has one');
    deploy(7, '/api/hello');
    ok(served('/api/hello'), 'then Redis\'s');
}

# no faas_redis_cache: each new worker reads its first table before it
# accepts a connection, so that reloads under load lose no request

{
    my $conf = $t->read_file('nginx/nginx.conf');
    $t->write_file('nginx/nginx.conf',
                   $conf =~ s/^\s*faas_redis_cache .*\n//mr);
    $t->nginx_reload;
    ok(served('/api/hello'), 'served without a cache');

    my $before = count_log(qr/first table read before accepting connections/);
    my $done = load(2, '/api/hello');
    for (1 .. 10) {
        $t->nginx_reload;
    }
    my $count = $done->();
    is(failures($count), '', '10 reloads without a cache: no failure');
    diag('requests: ' . join ', ', map { "$_ x $count->{$_}" } keys %$count);
    is(count_log(qr/first table read before accepting connections/) - $before,
       20, 'each new worker read its first table before accepting');
}

# a wrong password: said once, retried quietly

{
    my $t2 = FaasTest->new;
    (my $bad = $url) =~ s{^unix://}{unix://gw:wrong\@};
    $t2->nginx_conf(<<"EOF");
    faas_redis $bad;
    server {
        listen 127.0.0.1:%%PORT%%;
        location / { faas_pass; }
    }
EOF
    $t2->start_nginx;
    sleep 1.5;
    my @l = grep { /AUTH failed/ } split /\n/, $t2->read_file($t2->error_log);
    is(scalar @l, 2, 'AUTH failure said once per connection');
    like($l[0] // '', qr{unix://gw:\*\*\*@/.*WRONGPASS}, 'with Redis\'s word');
    like($t2->read_file($t2->error_log),
         qr{before accepting connections: AUTH to unix://gw:\*\*\*@/\S* failed: WRONGPASS},
         'the first table, read before accepting connections, said so too');
    unlike($t2->read_file($t2->error_log), qr/wrong/,
           'and without the password');
    is($t2->http(GET => '/api/hello')->{status}, 404, 'gateway serves');
    $t2->stop;
    $t2->check_logs;
}

# a Redis that accepts and never answers: a new worker waits for its
# first table no longer than faas_redis_timeout, then serves

{
    my $t3 = FaasTest->new;
    my $silent = $t3->dir . '/silent.sock';
    my $srv = IO::Socket::UNIX->new(Type => SOCK_STREAM, Local => $silent,
                                    Listen => 64)
        or die "$silent: $!";
    chmod 0777, $silent;
    $t3->nginx_conf(<<"EOF");
    faas_redis unix://$silent;
    faas_redis_timeout 300ms;
    server {
        listen 127.0.0.1:%%PORT%%;
        location / { faas_pass; }
    }
EOF
    # the listen queue takes connections before the worker accepts them:
    # the first answer is what waits for the first read
    my $t0 = time;
    $t3->start_nginx;
    is($t3->http(GET => '/api/hello', timeout => 5)->{status}, 404,
       'a silent Redis: the worker serves');
    my $took = time - $t0;
    cmp_ok($took, '<', 1.5,
           sprintf('first answer %.0f ms after the start', $took * 1000));
    ok($t3->wait_for(sub {
        $t3->read_file($t3->error_log)
            =~ /no table before accepting connections: MGET to unix:\S+ failed/
    }, 3), 'the first read gave up, and said so');
    $t3->stop;
    $t3->check_logs;
    close $srv;
}

$t->done;
