#!/usr/bin/perl

# Tests for worker failures and replacement: a worker killed mid-request
# and between requests, faasd's SIGHUP replacing workers under load.

use strict;
use warnings;

use Test::More;
use JSON::PP;
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(sleep time);
use FaasTest;

my $t = FaasTest->new;

mkdir $t->dir . '/state';
chmod 0777, $t->dir . '/state';

my $code = <<'EOF';
'use strict';
const fs = require('node:fs');
const VERSION = 1;

exports.handler = async (ctx) => {
  if (ctx.path === '/slow') {
    fs.writeFileSync(process.env.STATE_DIR + '/slow.pid', String(process.pid));
    await new Promise((r) => setTimeout(r, Number(ctx.query.ms || 1500)));
  }
  ctx.body = { pid: process.pid, version: VERSION };
};
EOF

my $yml = <<"EOF";
service: workers
provider:
  environment:
    STATE_DIR: @{[ $t->dir ]}/state
functions:
  pool:
    handler: index.handler
    instances: 2
    concurrency: 4
    timeout: 10
    events:
      - http: { path: /pool/*, method: any }
  single:
    handler: index.handler
    concurrency: 4
    timeout: 10
    events:
      - http: { path: /single/*, method: any }
EOF

$t->function('workers', 'f.yml' => $yml, 'index.js' => $code);

$t->nginx_conf(<<'EOF');
    server {
        listen 127.0.0.1:%%PORT%%;
        faas_manifest %%FUNCTIONS%%/*/f.yml;

        location /pool/ {
            rewrite ^/pool(/.*)$ $1 break;
            faas_pass pool;
        }

        location /single/ {
            rewrite ^/single(/.*)$ $1 break;
            faas_pass single;
        }
    }
EOF

$t->run(wait => ['pool-0', 'pool-1', 'single-0']);

sub pid_of {
    my ($r) = @_;
    return eval { decode_json($r->{body})->{pid} } // 0;
}

# a request in a child process; the result comes back through a file
sub background {
    my ($method, $path, %o) = @_;
    my $out = $t->dir . "/bg.$$." . int(rand(1e9));
    my $pid = fork() // die;
    if ($pid == 0) {
        my $r = $t->http($method, $path, %o, timeout => 20);
        open my $fh, '>', $out;
        print $fh encode_json({ status => $r->{status},
                                body => $r->{body} // '' });
        close $fh;
        POSIX::_exit(0);
    }
    return sub {
        waitpid($pid, 0);
        my $r = decode_json($t->read_file($out) || '{"status":0}');
        unlink $out;
        return $r;
    };
}

sub wait_slow_pid {
    my $f = $t->dir . '/state/slow.pid';
    unlink $f;
    return sub {
        $t->wait_for(sub { -s $f }, 10);
        my $pid = $t->read_file($f);
        unlink $f;
        return $pid + 0;
    };
}

# workers run under SCHED_BATCH (faasd -S batch, the default): field 41
# of /proc/PID/stat is the policy, 3 for SCHED_BATCH
{
    my $pid = pid_of($t->http(GET => '/pool/x'));
    my @stat = split ' ', ($t->read_file("/proc/$pid/stat") =~ s/^.*\)//sr);
    is($stat[41 - 3], 3, 'a worker runs under SCHED_BATCH');
}

# killed mid-request: an idempotent request is retried on another worker
{
    my $slow = wait_slow_pid();
    my $done = background(GET => '/pool/slow?ms=1500');
    my $victim = $slow->();
    ok($victim, 'slow request reached a worker');
    kill 'KILL', $victim;
    my $r = $done->();
    is($r->{status}, 200, 'GET survives its worker being killed');
    isnt(pid_of($r), $victim, 'GET retried on another worker');
}

# killed mid-request: a POST already sent is not retried
{
    $t->wait_for(sub { keys %{$t->workers} >= 4 }, 10);
    my $slow = wait_slow_pid();
    my $done = background(POST => '/pool/slow?ms=1500', body => '{}');
    my $victim = $slow->();
    kill 'KILL', $victim;
    my $r = $done->();
    is($r->{status}, 502, 'POST whose worker died: 502, not retried');
}

# killed between requests: the next requests are all served
{
    my $victim = pid_of($t->http(GET => '/pool/x'));
    ok($victim, 'pool worker answers');
    kill 'KILL', $victim;
    sleep 0.05;
    my @status = map { $t->http(GET => '/pool/x')->{status} } 1 .. 20;
    is_deeply([ grep { $_ != 200 } @status ], [],
              'after a kill between requests: 20 x 200');
}

# a single worker killed: its socket stays, requests wait for the restart
{
    my $victim = pid_of($t->http(GET => '/single/x'));
    ok($victim, 'single worker answers');
    kill 'KILL', $victim;
    my $r = $t->http(GET => '/single/x');
    is($r->{status}, 200, 'single worker killed: next request served');
    isnt(pid_of($r), $victim, 'by the restarted worker');
    like($t->read_file('faasd.log'), qr/single.*(exit|signal|killed)/i,
         'faasd logged the death');
}

# SIGHUP under load: workers replaced, new code served, no request fails
{
    my $stop = $t->dir . '/state/stop';
    my @loaders;
    for my $n (1 .. 3) {
        my $out = $t->dir . "/load.$n";
        my $pid = fork() // die;
        if ($pid == 0) {
            my (%count, $i);
            while (!-e $stop && $i++ < 20000) {
                my $path = $n == 3 ? '/single/x' : '/pool/x';
                my $r = $t->http(GET => $path);
                my $v = eval { decode_json($r->{body})->{version} } // 'none';
                $count{"$r->{status} v$v"}++;
            }
            open my $fh, '>', $out;
            print $fh encode_json(\%count);
            close $fh;
            POSIX::_exit(0);
        }
        push @loaders, [ $pid, $out ];
    }

    sleep 0.5;
    my $new = $code =~ s/VERSION = 1/VERSION = 2/r;
    $t->write_file('functions/workers/index.js', $new);
    $t->signal('faasd', 'HUP');

    my $served_v2 = $t->wait_for(sub {
        my $a = eval { decode_json($t->http(GET => '/pool/x')->{body}) };
        my $b = eval { decode_json($t->http(GET => '/single/x')->{body}) };
        return ($a->{version} // 0) == 2 && ($b->{version} // 0) == 2;
    }, 20);
    sleep 1;
    $t->write_file('state/stop', '1');

    my %total;
    for my $l (@loaders) {
        waitpid($l->[0], 0);
        my $c = decode_json($t->read_file($l->[1]) || '{}');
        $total{$_} += $c->{$_} for keys %$c;
    }

    ok($served_v2, 'new code served after SIGHUP');
    my @failed = grep { !/^200 / } keys %total;
    is_deeply(\@failed, [], 'no failed request while workers were replaced')
        or diag(explain \%total);
    ok(($total{'200 v1'} // 0) > 0 && ($total{'200 v2'} // 0) > 0,
       'load ran across the replacement')
        or diag(explain \%total);
}

$t->done;
