#!/usr/bin/perl

# Gray release in the gateway (docs/redis.md, "Release policies"): the
# version that serves each request of a function of the Redis table.
# Real nginx (two worker processes), real Redis, and one standalone Node
# worker per version, each answering its version's name: weighted splits
# exact over 20,000 requests, sticky keys, a monotone ramp, rules and
# their precedence, a pre-release lane, retries that stay in their
# version, X-Faas-Version and $faas_version, and a rollback.

use strict;
use warnings;

use Test::More;
use JSON::PP;
use IO::Socket::INET;
use POSIX ();
use Time::HiRes qw(sleep time);
use FaasTest;

my $ROOT = ($> == 0);

my $t = FaasTest->new;
my $url = $t->start_redis;

mkdir $t->sockdir;
chmod 0777, $t->sockdir;

my $hello = $t->function('hello', 'index.js' => <<'EOF');
'use strict';
exports.handler = async (ctx) => {
  ctx.type = 'text/plain';
  ctx.body = process.env.TAG;
};
EOF

# standalone workers: FN@V-SLOT.sock as a supervisor would make them
sub worker {
    my ($sock, $tag) = @_;
    my @user = $ROOT ? ('setpriv', '--reuid=nobody', '--regid=nogroup',
                        '--clear-groups') : ();
    my $path = $t->sockdir . "/$sock.sock";
    $t->spawn("worker $sock", @user, 'env', "FAAS_LISTEN=$path",
              "FAAS_CODE_DIR=$hello", 'FAAS_HANDLER=index.handler',
              'FAAS_FUNCTION=hello', 'FAAS_CONCURRENCY=64', "TAG=$tag",
              'node', "$FaasTest::TOP/runtime/node/bin/faas-worker.js");
    return $path;
}

# v4 has two slots and no worker on slot 0: every request for it fails
# there first and is retried on slot 1
my @socks = (worker('hello@v1-0', 'v1'), worker('hello@v2-0', 'v2'),
             worker('hello@v3-0', 'v3'), worker('hello@v4-1', 'v4'));

for my $s (@socks) {
    $t->wait_for(sub { -S $s }, 15) or BAIL_OUT("no worker at $s");
}

$t->nginx_conf(<<"EOF", workers => 2);
    faas_redis $url;
    keepalive_requests 1000000;
    log_format release '\$request_uri \$faas_function \$faas_version';

    server {
        listen 127.0.0.1:%%PORT%%;
        access_log logs/release.log release;

        location / {
            add_header X-Worker \$pid always;
            faas_version_header on;
            faas_pass;
        }
    }

    server {
        listen 127.0.0.1:%%PORT_plain%%;

        location / {
            add_header X-Worker \$pid always;
            faas_pass;
        }
    }
EOF

$t->start_nginx;

# connect() to the missing v4 slot 0 is an [error], as it should be
$t->allow_log(qr/hello\@v[45]-0\.sock/);

# a table of one function, hello, with versions v1..v4 and a policy;
# /gen/G is a route of generation G only, to see when it is served
sub table {
    my ($gen, $release, %o) = @_;
    my %versions;
    for my $v (@{$o{versions} || ['v1', 'v2', 'v3', 'v4']}) {
        $versions{$v} = { dir => $hello, handler => 'index.handler',
                          instances => $v eq 'v4' ? 2 : 1,
                          timeout_ms => 5000 };
    }
    my %fn = (
        active => $o{active} || 'v1',
        versions => \%versions,
        routes => [ { path => '/api/hello', methods => ['GET', 'POST'] },
                    { path => "/gen/$gen", methods => ['GET'] } ],
    );
    $fn{release} = $release if $release;
    return JSON::PP->new->canonical->encode(
        { generation => $gen, functions => { hello => \%fn } });
}

my $gen = 0;

sub deploy {
    my ($json) = @_;
    my $sock = $t->dir . '/redis/redis.sock';
    open my $fh, '|-', "redis-cli -s '$sock' -x SET 'faas:table:$gen' "
                       . '>/dev/null' or die "redis-cli: $!";
    print $fh $json;
    close $fh;
    $t->redis_cli('SET', 'faas:generation', $gen);
    my $since = time;
    $t->redis_cli('PUBLISH', 'faas:events', $gen);
    return $since;
}

# until both nginx workers serve /gen/G as $want says: seconds, or undef
sub converge {
    my ($since, $want, $timeout) = @_;
    my %seen;
    my $until = $since + ($timeout || 3);
    while (time < $until) {
        my $r = $t->http(GET => "/gen/$gen");
        my $w = FaasTest::hdr($r, 'X-Worker') // 0;
        if ($r->{status} == 200 && $want->($r)) {
            $seen{$w} = 1;
        } else {
            delete $seen{$w};
        }
        return time - $since if keys %seen >= 2;
        sleep 0.002;
    }
    return undef;
}

# a new generation with this policy, served by both workers
sub policy {
    my ($release, %o) = @_;
    $gen++;
    my $since = deploy(table($gen, $release, %o));
    my $took = converge($since, sub { 1 });
    ok(defined $took, "generation $gen served by both workers")
        or BAIL_OUT('a table was not served: '
                    . FaasTest::tail($t->read_file($t->error_log)));
}

# Requests over keep-alive connections, pipelined $depth at a time, from
# $conns forked clients: each request is [path, [header pairs]]; returns
# [status, body, X-Faas-Version, X-Worker] for each, in order.
sub run {
    my ($reqs, %o) = @_;
    my $conns = $o{conns} || 4;
    my $depth = 32;
    my $port = $o{port} || $t->port;
    my @pids;

    for my $c (0 .. $conns - 1) {
        my $pid = fork() // die "fork: $!";
        if ($pid) {
            push @pids, $pid;
            next;
        }

        my @mine = grep { $_ % $conns == $c } 0 .. $#$reqs;
        my $out = '';
        my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port")
            or POSIX::_exit(1);
        my $buf = '';
        while (my @batch = splice @mine, 0, $depth) {
            my $req = '';
            for my $i (@batch) {
                my ($path, $h) = @{$reqs->[$i]};
                $req .= "GET $path HTTP/1.1\r\nHost: localhost\r\n";
                my @h = @{$h || []};
                while (my ($k, $v) = splice @h, 0, 2) {
                    $req .= "$k: $v\r\n";
                }
                $req .= "\r\n";
            }
            print $s $req;
            for my $i (@batch) {
                my ($st, $body, $ver, $w) = read_response($s, \$buf);
                $out .= join("\t", $i, $st, $body // '', $ver // '', $w // '')
                        . "\n";
            }
        }
        open my $fh, '>', $t->dir . "/run.$c" or POSIX::_exit(1);
        print $fh $out;
        close $fh;
        POSIX::_exit(0);
    }

    my @res;
    for my $c (0 .. $conns - 1) {
        waitpid($pids[$c], 0);
        for (split /\n/, $t->read_file("run.$c")) {
            my ($i, @f) = split /\t/, $_, -1;
            $res[$i] = \@f;
        }
        unlink $t->dir . "/run.$c";
    }
    $res[$_] //= [0, '', '', ''] for 0 .. $#$reqs;
    return \@res;
}

# one response off a keep-alive connection: (status, body, version, pid)
sub read_response {
    my ($s, $buf) = @_;
    my $fill = sub {
        my $n = sysread($s, $$buf, 65536, length $$buf);
        return $n;
    };
    while ($$buf !~ /\r\n\r\n/) {
        $fill->() or return (0);
    }
    $$buf =~ s/^(.*?)\r\n\r\n//s;
    my $head = $1;
    my ($status) = $head =~ m{^HTTP/1\.1 (\d+)};
    my ($ver) = $head =~ /^X-Faas-Version: (\S+)/mi;
    my ($pid) = $head =~ /^X-Worker: (\d+)/mi;
    my $body = '';
    if ($head =~ /^Content-Length: (\d+)/mi) {
        my $len = $1;
        while (length $$buf < $len) {
            $fill->() or return (0);
        }
        $body = substr($$buf, 0, $len, '');
    } elsif ($head =~ /^Transfer-Encoding: chunked/mi) {
        while (1) {
            while ($$buf !~ /\r\n/) {
                $fill->() or return (0);
            }
            $$buf =~ s/^([0-9a-fA-F]+)[^\r]*\r\n//;
            my $n = hex $1;
            while (length $$buf < $n + 2) {
                $fill->() or return (0);
            }
            $body .= substr($$buf, 0, $n, '');
            substr($$buf, 0, 2, '');
            last if $n == 0;
        }
    }
    return ($status, $body, $ver, $pid);
}

# the share of each version among the bodies, in points (per cent)
sub shares {
    my ($res) = @_;
    my %n;
    $n{$_->[1]}++ for @$res;
    return { map { $_ => 100 * $n{$_} / @$res } keys %n };
}

sub plain { [ map { ['/api/hello', []] } 1 .. $_[0] ] }

my ($res, $s);

# no policy: the active version serves everything, as before

policy(undef);
$res = run(plain(200));
is(scalar(grep { $_->[0] == 200 && $_->[1] eq 'v1' } @$res), 200,
   'no policy: the active version serves');

# unkeyed splits: 20,000 requests within a point of the weights

for my $case ([{ v1 => 5000, v2 => 5000 }, '50/50'],
              [{ v1 => 9000, v2 => 1000 }, '90/10'],
              [{ v1 => 5000, v2 => 3000, v3 => 2000 }, '50/30/20'])
{
    my ($split, $name) = @$case;
    policy({ split => $split });
    my $start = time;
    $res = run(plain(20000));
    my $took = time - $start;
    is(scalar(grep { $_->[0] == 200 } @$res), 20000,
       "$name: 20,000 requests answered");
    $s = shares($res);
    for my $v (sort keys %$split) {
        my $want = $split->{$v} / 100;
        ok(abs(($s->{$v} // 0) - $want) <= 1,
           sprintf('%s: %s got %.2f%% (want %.0f%% +-1)', $name, $v,
                   $s->{$v} // 0, $want));
    }
    is(scalar(grep { !exists $split->{$_} } keys %$s), 0,
       "$name: no other version");
    is(scalar(grep { ($_->[2] // '') ne $_->[1] } @$res), 0,
       "$name: X-Faas-Version names the version that answered");
    diag(sprintf '%s: %s in %.1f s (%.0f/s)', $name,
         join(' ', map { sprintf '%s=%.2f%%', $_, $s->{$_} } sort keys %$s),
         $took, 20000 / $took);
}

# stickiness: 500 keys, 5 requests each, always the same version

policy({ split => { v1 => 5000, v2 => 3000, v3 => 2000 },
         sticky => { cookie => 'uid' } });

{
    my @reqs;
    for my $round (1 .. 5) {
        for my $k (1 .. 500) {
            push @reqs, ['/api/hello',
                         ['Cookie', "theme=dark; uid=user-$k; lang=en"]];
        }
    }
    $res = run(\@reqs);
    my (%of, $same, $ok);
    for my $i (0 .. $#reqs) {
        my $k = $i % 500;
        $ok++ if $res->[$i][0] == 200;
        push @{$of{$k}}, $res->[$i][1];
    }
    $same = grep { my $v = $of{$_}[0]; !grep { $_ ne $v } @{$of{$_}} }
            keys %of;
    is($ok, 2500, 'sticky: 2,500 requests answered');
    is($same, 500, 'sticky: each of 500 keys always got the same version');
    my %n;
    $n{$of{$_}[0]}++ for keys %of;
    diag('sticky: keys per version: '
         . join(' ', map { "$_=$n{$_}" } sort keys %n));
    ok(($n{v1} // 0) > 150 && ($n{v2} // 0) > 75 && ($n{v3} // 0) > 40,
       'sticky: the keys spread over the three versions');

    # the same key in a cookie header of its own, or in a second one
    my @two = map { ['/api/hello', ['Cookie', 'theme=dark',
                                    'Cookie', "uid=user-$_"]] } 1 .. 500;
    my $res2 = run(\@two);
    is(scalar(grep { $res2->[$_ - 1][1] eq $of{$_ - 1}[0] } 1 .. 500),
       500, 'sticky: the key found in a second Cookie header');
}

# a monotone ramp: 10% -> 20% -> 50% on v2, keys stay on v2

{
    my $keys = 1000;
    my @reqs = map { ['/api/hello', ['Cookie', "uid=ramp-$_"]] } 1 .. $keys;
    my (@on, @share);

    for my $w (1000, 2000, 5000) {
        policy({ split => { v1 => 10000 - $w, v2 => $w },
                 sticky => { cookie => 'uid' } });
        $res = run(\@reqs);
        my %on = map { $_ => 1 } grep { $res->[$_][1] eq 'v2' } 0 .. $keys - 1;
        push @on, \%on;
        my $pct = 100 * (keys %on) / $keys;
        push @share, $pct;
        ok(abs($pct - $w / 100) <= 2,
           sprintf('ramp: %.1f%% of %d keys on v2 at %d%%', $pct, $keys,
                   $w / 100));
    }

    is(scalar(grep { !$on[1]{$_} } keys %{$on[0]}), 0,
       'ramp: every key on v2 at 10% is on it at 20%');
    is(scalar(grep { !$on[2]{$_} } keys %{$on[1]}), 0,
       'ramp: every key on v2 at 20% is on it at 50%');
    is(scalar(grep { !$on[2]{$_} } keys %{$on[0]}), 0,
       'ramp: every key on v2 at 10% is on it at 50%');
}

# rules: first match wins, a rule beats the weights

policy({
    rules => [
        { match => { header => 'x-beta', equals => '1' }, version => 'v2' },
        { match => { header => 'x-beta', regex => '^[0-9]+$' },
          version => 'v3' },
        { match => { query => 'canary', equals => 'yes' }, version => 'v3' },
        { match => { cookie => 'tester' }, version => 'v2' },
        { match => { addr => '10.0.0.0/8' }, version => 'v4' },
    ],
    split => { v1 => 10000 },
});

{
    my @cases = (
        ['/api/hello', [], 'v1', 'no rule matches: the split'],
        ['/api/hello', ['X-Beta', '1'], 'v2', 'a header rule beats the split'],
        ['/api/hello', ['x-beta', '1'], 'v2', 'header names: any case'],
        ['/api/hello', ['X-Beta', '7'], 'v3',
         'the second rule (regex) when the first does not match'],
        ['/api/hello?canary=yes', ['X-Beta', '1'], 'v2',
         'two rules match: the first wins'],
        ['/api/hello?canary=yes', [], 'v3', 'a query rule'],
        ['/api/hello?a=1&canary=yes&b=2', [], 'v3',
         'a query rule, argument among others'],
        ['/api/hello?canary=no', [], 'v1', 'a query rule that does not match'],
        ['/api/hello?xcanary=yes', [], 'v1', 'only that argument\'s name'],
        ['/api/hello', ['X-Beta', 'x'], 'v1',
         'a header that matches no rule'],
        ['/api/hello', ['Cookie', 'a=b; tester=me'], 'v2', 'a cookie rule'],
        ['/api/hello', ['Cookie', 'Tester=me'], 'v1',
         'cookie names are case-sensitive'],
        ['/api/hello', ['Cookie', 'tester='], 'v1',
         'an empty cookie is no cookie'],
    );
    for my $c (@cases) {
        my ($path, $h, $want, $name) = @$c;
        $res = run([ map { [$path, $h] } 1 .. 50 ], conns => 2);
        is(scalar(grep { $_->[0] == 200 && $_->[1] eq $want } @$res), 50,
           "$name ($want)");
    }
    # 127.0.0.1 is not in 10.0.0.0/8: v4 (the rule's) served nothing above
}

policy({
    rules => [ { match => { addr => '10.0.0.0/8' }, version => 'v2' },
               { match => { addr => '127.0.0.0/8' }, version => 'v3' } ],
    split => { v1 => 10000 },
});
$res = run(plain(200), conns => 2);
is(scalar(grep { $_->[1] eq 'v3' } @$res), 200,
   'a CIDR rule: 127.0.0.0/8 matches loopback clients, 10.0.0.0/8 does not');

# a pre-release lane: v3 only with x-faas-version: v3

policy({
    rules => [ { match => { header => 'x-faas-version', equals => 'v3' },
                 version => 'v3' } ],
    split => { v1 => 9000, v2 => 1000 },
});
$res = run(plain(2000));
$s = shares($res);
is($s->{v3} // 0, 0, 'pre-release: no v3 in 2,000 plain requests');
ok(($s->{v2} // 0) > 8 && ($s->{v2} // 0) < 12, 'pre-release: the split');
$res = run([ map { ['/api/hello', ['X-Faas-Version', 'v3']] } 1 .. 200 ]);
is(scalar(grep { $_->[1] eq 'v3' } @$res), 200,
   'pre-release: testers reach v3');

# retries stay within the picked version: v4's slot 0 has no worker

policy({ split => { v1 => 5000, v4 => 5000 } });
{
    my @r = map { $t->http(GET => '/api/hello') } 1 .. 40;
    is(scalar(grep { $_->{status} == 200 } @r), 40,
       'retry: every request answered');
    my @v4 = grep { FaasTest::hdr($_, 'X-Faas-Version') eq 'v4' } @r;
    ok(@v4 >= 10, 'retry: v4 picked (' . scalar(@v4) . ' of 40)');
    is(scalar(grep { $_->{body} ne 'v4' } @v4), 0,
       'retry: v4\'s requests served by v4\'s other slot, not another '
       . 'version');
    like($t->read_file($t->error_log), qr/hello\@v4-0\.sock/,
         'retry: the first attempt went to v4\'s slot 0');
}

# a version without any worker: the gateway's 502 still names it

policy({ rules => [ { match => { header => 'x-go', equals => 'v5' },
                      version => 'v5' } ],
         split => { v1 => 10000 } },
       versions => ['v1', 'v2', 'v3', 'v4', 'v5']);
{
    my $r = $t->http(GET => '/api/hello', headers => ['X-Go', 'v5']);
    is($r->{status}, 502, 'no worker for the version picked: 502');
    is(FaasTest::hdr($r, 'X-Faas-Version'), 'v5', 'and X-Faas-Version');
    is($t->http(GET => '/api/hello')->{body}, 'v1', 'the others still served');
}

# X-Faas-Version only with faas_version_header on; $faas_version logged

policy({ split => { v1 => 5000, v2 => 5000 } });
{
    my @reqs = map { ["/api/hello?mark=$_", []] } 1 .. 100;
    $res = run(\@reqs);
    is(scalar(grep { $_->[2] eq $_->[1] } @$res), 100,
       'X-Faas-Version: the version that served');

    my $plain = run(\@reqs, port => $t->port('plain'));
    is(scalar(grep { $_->[0] == 200 && $_->[2] eq '' } @$plain), 100,
       'no X-Faas-Version where faas_version_header is off');

    my %logged;
    my $log = $t->dir . '/nginx/logs/release.log';
    $t->wait_for(sub {
        %logged = $t->read_file($log) =~ m{^/api/hello\?mark=(\d+) hello (\S+)$}mg;
        keys %logged >= 100;
    }, 3);
    is(scalar(grep { ($logged{$_ + 1} // '') eq $res->[$_][1] } 0 .. 99), 100,
       '$faas_version in the access log: the version that served');
}

# rollback: a table without the policy, active v1, within 300 ms

policy({ split => { v2 => 10000 } });
$res = run(plain(100), conns => 2);
is(scalar(grep { $_->[1] eq 'v2' } @$res), 100, 'before rollback: all on v2');

{
    $gen++;
    my $since = deploy(table($gen, undef));
    my $took = converge($since, sub { $_[0]{body} eq 'v1' });
    ok(defined $took && $took < 0.3, 'rollback served by both workers')
        or diag('took ' . ($took // 'forever'));
    diag(sprintf 'rollback: both workers on v1 in %.1f ms',
         ($took // 9) * 1000);
    $res = run(plain(1000));
    is(scalar(grep { $_->[1] eq 'v1' } @$res), 1000,
       'after rollback: everything on v1');
}

$t->done;
