#!/usr/bin/perl

# Tests for the whole deploy path: `faasctl deploy` into Redis, faasd
# running what the table holds, nginx serving it; redeploys and table
# changes under load with no failed request.

use strict;
use warnings;

use Test::More;
use JSON::PP;
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(sleep time);
use FaasTest;

my $t = FaasTest->new;
my $url = $t->start_redis;
my $store = $t->dir . '/store';

# nginx's workers (nobody, when run as root) write the cached table here
mkdir $t->dir . '/cache';
chmod 0777, $t->dir . '/cache';

sub code {
    my ($version) = @_;
    return <<"EOF";
'use strict';
exports.handler = async (ctx) => {
  ctx.body = { code: $version, params: ctx.params, fn: process.env.FAAS_FUNCTION };
};
EOF
}

$t->function('hello', 'index.js' => code(1), 'f.yml' => <<'EOF');
service: deploy
functions:
  hello:
    handler: index.handler
    instances: 2
    concurrency: 8
    events:
      - http: { path: /api/hello, method: get }
      - http: { path: /api/hello/:name, method: [get, post] }
EOF

$t->nginx_conf(<<'EOF', workers => 2);
    faas_redis %%URL%%;
    faas_redis_cache %%DIR%%/cache/table.json;

    server {
        listen 127.0.0.1:%%PORT%%;
        add_header X-Version $faas_version always;
        location / { faas_pass; }
    }
EOF
my $conf = $t->read_file('nginx/nginx.conf') =~ s/%%URL%%/$url/r;
$t->write_file('nginx/nginx.conf', $conf);

$t->start_faasd(redis => $url);
$t->start_nginx;

sub faasctl {
    my (@args) = @_;
    my $cmd = join ' ', map { "'$_'" } "$FaasTest::BUILD/bin/faasctl",
        '--redis', $url, @args;
    my $out = `$cmd 2>&1`;
    return ($? >> 8, $out);
}

# the time from a command's return until every request answers as wanted
sub converge {
    my ($path, $want, $timeout) = @_;
    my $start = time;
    my $ok = $t->wait_for(sub {
        for (1 .. 4) {
            my $r = $t->http(GET => $path);
            return 0 unless $want->($r);
        }
        return 1;
    }, $timeout || 5);
    return $ok ? time - $start : undef;
}

sub code_of {
    my ($r) = @_;
    return eval { decode_json($r->{body})->{code} } // 0;
}

is($t->http(GET => '/api/hello')->{status}, 404, 'nothing deployed: 404');

# deploy: faasd warms the version up, then the table makes it active
my ($rc, $out) = faasctl('deploy', $t->dir . '/functions/hello',
                         '--store', $store);
is($rc, 0, 'deploy') or diag($out);
like($out, qr/^hello v1$/m, 'deploy prints the version');

my $took = converge('/api/hello', sub { $_[0]{status} == 200 });
ok(defined $took && $took < 1, 'served by every worker within 1 s of deploy'
   . sprintf(' (%.0f ms)', ($took // 9) * 1000));

my $r = $t->http(GET => '/api/hello/ada');
is(code_of($r), 1, 'the deployed code answers');
is(eval { decode_json($r->{body})->{params}{name} }, 'ada', 'route params');
is(FaasTest::hdr($r, 'X-Version'), 'v1', '$faas_version');
ok(-S $t->sockdir . '/hello@v1-0.sock' && -S $t->sockdir . '/hello@v1-1.sock',
   'faasd runs both instances of v1');

# a redeploy under load: no request fails, and the new code takes over
{
    my $stop = $t->dir . '/stop-load';
    my $out_file = $t->dir . '/load.json';
    my $pid = fork() // die;
    if ($pid == 0) {
        my (%count, $n);
        while (!-e $stop && $n++ < 50000) {
            my $r = $t->http(GET => '/api/hello');
            $count{$r->{status} . ' code' . code_of($r)}++;
        }
        open my $fh, '>', $out_file;
        print $fh encode_json(\%count);
        close $fh;
        POSIX::_exit(0);
    }

    sleep 0.3;
    $t->write_file('functions/hello/index.js', code(2));
    ($rc, $out) = faasctl('deploy', $t->dir . '/functions/hello',
                          '--store', $store);
    is($rc, 0, 'redeploy') or diag($out);
    like($out, qr/^hello v2$/m, 'redeploy prints v2');

    $took = converge('/api/hello', sub { code_of($_[0]) == 2 });
    ok(defined $took && $took < 1, 'new code served within 1 s'
       . sprintf(' (%.0f ms)', ($took // 9) * 1000));

    sleep 2.5;
    $t->write_file('stop-load', '1');
    waitpid($pid, 0);
    my $count = decode_json($t->read_file($out_file) || '{}');
    my @failed = grep { !/^200 / } keys %$count;
    is_deeply(\@failed, [], 'no failed request across the redeploy')
        or diag(explain $count);
    ok(($count->{'200 code1'} // 0) && ($count->{'200 code2'} // 0),
       'load saw both versions') or diag(explain $count);

    $t->wait_for(sub { !-S $t->sockdir . '/hello@v1-0.sock' }, 10);
    ok(!-S $t->sockdir . '/hello@v1-0.sock', 'v1 drained after the switch');
}

# 200 route changes through Redis under load: not one failed request
{
    my $stop = $t->dir . '/stop-load2';
    my $out_file = $t->dir . '/load2.json';
    my $pid = fork() // die;
    if ($pid == 0) {
        my (%count, $n);
        while (!-e $stop && $n++ < 100000) {
            $count{$t->http(GET => '/api/hello')->{status}}++;
        }
        open my $fh, '>', $out_file;
        print $fh encode_json(\%count);
        close $fh;
        POSIX::_exit(0);
    }

    my $gen = $t->redis_cli('GET', 'faas:generation');
    my $table = decode_json($t->redis_cli('GET', "faas:table:$gen"));

    for my $i (1 .. 200) {
        $gen++;
        $table->{generation} = $gen + 0;
        $table->{functions}{hello}{routes} = [
            { path => '/api/hello', methods => ['GET'] },
            { path => "/api/extra/$i", methods => ['GET'] },
        ];
        $t->redis_cli('SET', "faas:table:$gen", encode_json($table));
        $t->redis_cli('SET', 'faas:generation', $gen);
        $t->redis_cli('PUBLISH', 'faas:events', $gen);
    }

    $took = converge('/api/extra/200', sub { $_[0]{status} == 200 });
    ok(defined $took, 'the last of 200 changes is served');
    is($t->http(GET => '/api/extra/199')->{status}, 404,
       'and the one before it is gone');

    $t->write_file('stop-load2', '1');
    waitpid($pid, 0);
    my $count = decode_json($t->read_file($out_file) || '{}');
    is_deeply([ grep { $_ != 200 } keys %$count ], [],
              'no failed request across 200 route changes')
        or diag(explain $count);
}

# the table the gateway keeps on disk
ok(-s $t->dir . '/cache/table.json', 'the last good table is cached on disk');

# rm: the routes go away
($rc, $out) = faasctl('rm', 'hello');
is($rc, 0, 'rm') or diag($out);
$took = converge('/api/hello', sub { $_[0]{status} == 404 });
ok(defined $took && $took < 1, 'removed function: 404 within 1 s');

# faasd's endpoints: registered while alive
my $now = int(time * 1000);
($rc, $out) = faasctl('deploy', $t->dir . '/functions/hello',
                      '--store', $store);
is($rc, 0, 'deploy again') or diag($out);
my ($v) = $out =~ /^hello (v\d+)$/m;
my $live = $t->redis_cli('ZCOUNT', "faas:endpoints:hello:$v", $now, '+inf');
is($live, 2, 'faasd registered both endpoints');

# Redis loses its data while a gateway is down, and generations counted
# again reach the number of the gateway's cached table: the epoch tells
# the two tables apart, and the gateway takes the new one
{
    my $old_gen = $t->redis_cli('GET', 'faas:generation');
    my $old_epoch = $t->redis_cli('GET', 'faas:epoch');
    like($old_epoch, qr/^[0-9a-f]{16}$/, 'faasctl gave the table an epoch');
    like($t->read_file('cache/table.json'), qr/"epoch":"\Q$old_epoch\E"/,
         'the cached table carries it');

    $t->stop_process('nginx', 'QUIT');
    $t->redis_cli('FLUSHALL');

    $t->function('world', 'index.js' => code(7), 'f.yml' => <<'EOY');
service: world
functions:
  world:
    handler: index.handler
    events:
      - http: { path: /api/world, method: get }
EOY
    ($rc, $out) = faasctl('deploy', $t->dir . '/functions/world',
                          '--store', $store);
    is($rc, 0, 'deploy into the emptied Redis') or diag($out);
    my $new_epoch = $t->redis_cli('GET', 'faas:epoch');
    like($new_epoch, qr/^[0-9a-f]{16}$/, 'a new epoch');
    isnt($new_epoch, $old_epoch, 'not the old one');

    # changes made by hand up to the cached table's generation
    my $gen = $t->redis_cli('GET', 'faas:generation');
    my $table = decode_json($t->redis_cli('GET', "faas:table:$gen"));
    while ($gen < $old_gen) {
        $gen++;
        $table->{generation} = $gen + 0;
        $t->redis_cli('SET', "faas:table:$gen", encode_json($table));
        $t->redis_cli('SET', 'faas:generation', $gen);
    }

    $t->start_nginx;
    $took = converge('/api/world', sub { $_[0]{status} == 200 });
    ok(defined $took, "generation $old_gen of the new epoch is served");
    is(code_of($t->http(GET => '/api/world')), 7, 'by the new function');
    is($t->http(GET => '/api/hello')->{status}, 404,
       'the cached table of the old epoch is gone');
    like($t->read_file('cache/table.json'), qr/"epoch":"\Q$new_epoch\E"/,
         'the cache holds the new epoch');

    # a table that does not carry the epoch of P:epoch is refused
    $gen++;
    delete $table->{epoch};
    $table->{generation} = $gen + 0;
    $table->{functions}{world}{routes} = [];
    $t->redis_cli('SET', "faas:table:$gen", encode_json($table));
    $t->redis_cli('SET', 'faas:generation', $gen);
    $t->redis_cli('PUBLISH', 'faas:events', $gen);
    my $why = qq{table rejected, the table in force stays: faas:table:$gen: }
        . qq{"generation" $gen and "epoch" "" are not $gen and "$new_epoch" }
        . qq{of "faas:epoch"};
    ok($t->wait_for(sub { index($t->read_file($t->error_log), $why) >= 0 }, 5),
       'a table without the epoch is rejected, with the reason');
    is($t->http(GET => '/api/world')->{status}, 200,
       'and the table in force stays');
    $t->allow_log(qr/\[error\].*table rejected.*"epoch" "" are not/);
}

$t->done;
